#!/usr/bin/env bash
# One-time (idempotent, fast when done) setup for development, tests and CI on Debian 12:
#   - Debian packages: kcat (independent Kafka client used by tests), python3-confluent-kafka (librdkafka auditor
#     ../shared/tools/topic_audit.py), g++ + librocksdb-dev (pulls the codec headers) for the tests' real-RocksDB dump
#     generator (test/fixtures/rocksdb-gen), rsync (the daemon Pika 2.x–3.4 masters push full syncs to). Needs root (or sudo); skipped when already installed.
#   - npm ci when node_modules is missing or package-lock.json is newer than the installed tree.
#   - Apache Kafka jars from Maven Central (scripts/kafka.sh fetch); the schema registry (scripts/registry.sh fetch)
#     and its pinned Python client (scripts/registry.sh deps, pip).
# Expects Java 17+, Maven and Node 20+ to be present. Set SETUP_SKIP_APT=1 to skip the Debian step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "setup.sh: $*" >&2; }

require() {
  command -v "$1" >/dev/null || { log "$1 is required ($2) but not installed"; exit 1; }
}
require java "Java 17+ runs the Kafka broker"
require mvn "Maven fetches Kafka from Maven Central"
require node "Node 20+ runs the project"
require npm "npm installs the project's packages"

DEB_PACKAGES=(kcat python3-confluent-kafka g++ librocksdb-dev rsync)

missing_debs() {
  local pkg
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

install_debs() {
  local -a missing
  mapfile -t missing < <(missing_debs)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ "${SETUP_SKIP_APT:-}" == 1 ]]; then
    log "SETUP_SKIP_APT=1: not installing ${missing[*]} (tests that need them will fail)"; return 0
  fi
  local -a sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo=(sudo -n)
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_npm() {
  # A linked node_modules (a git worktree sharing the main checkout's packages) is never reinstalled from here:
  # a fresh checkout's package-lock.json is newer than the shared tree, and npm ci would empty it for every user.
  if [[ -L node_modules && -f node_modules/.package-lock.json ]]; then return 0; fi
  if [[ ! -d node_modules ]] || [[ ! -f node_modules/.package-lock.json ]] \
     || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# The schema registry (scripts/registry.sh, another part of the project) and its Python client for the
# integration tests; a missing Python client only makes those checks skip, so it does not fail the setup.
setup_registry() {
  [[ -f scripts/registry.sh ]] || return 0
  bash scripts/registry.sh fetch >/dev/null
  bash scripts/registry.sh deps 2>/dev/null || log "warning: registry Python client not installed (its checks will skip)"
}

install_debs
install_npm
bash scripts/kafka.sh fetch >/dev/null
setup_registry
