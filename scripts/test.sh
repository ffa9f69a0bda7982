#!/usr/bin/env bash
# The test command: bash scripts/test.sh [test files or directories...]
#
#   1. scripts/setup.sh (Debian packages, npm ci when needed, Kafka jars)
#   2. type check: npx tsc -p .
#   3. unit tests: test/unit/**/*.test.ts (no Kafka)
#   4. a private Kafka broker (first free port pair from 29092/29093 up, data in .cache/kafka-run/test-<port>)
#      and, in parallel, a private schema registry (scripts/registry.sh, port 28081 for broker port 29092, +2 per
#      step), then integration tests test/integration/**/*.test.ts one file at a time with KAFKA_BOOTSTRAP and
#      REGISTRY_URL set; both are always stopped at the end.
# With arguments, only those files (or the *.test.ts under those directories) run; the broker starts only when one
# of them is under test/integration/. Exit status is non-zero when any step fails; all steps run regardless.
#
# Environment: TEST_KAFKA_BOOTSTRAP=host:port uses that broker instead of starting one; TEST_REGISTRY_URL=url
#   likewise for the registry, TEST_REGISTRY=0 starts none (registry tests then skip);
#   TEST_REPORTER (default tap: ends with "# pass N" / "# fail N"); TEST_TIMEOUT_MS (default 300000 for unit,
#   600000 for integration files): node's --test-timeout, which bounds every test AND every test file as a whole
#   (node runs each file as one test), so it is a hang guard; give slow tests their own { timeout }.
#   KAFKA_START_TIMEOUT etc. as in scripts/kafka.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

REPORTER="${TEST_REPORTER:-tap}"
export KAFKAJS_NO_PARTITIONER_WARNING=1

step() { echo; echo "==== $* ($(date -u +%H:%M:%S))"; }

declare -a unit_files=() integration_files=() failed=()

add_file() {
  case "$1" in
    test/integration/*|./test/integration/*) integration_files+=("$1") ;;
    *) unit_files+=("$1") ;;
  esac
}

collect() {
  local path file
  for path in "$@"; do
    if [[ -d "$path" ]]; then
      while IFS= read -r file; do add_file "$file"; done < <(find "$path" -name '*.test.ts' -type f | sort)
    elif [[ -f "$path" ]]; then
      add_file "$path"
    else
      echo "test.sh: no such test file or directory: $path" >&2
      exit 64
    fi
  done
}

if [[ $# -gt 0 ]]; then
  collect "$@"
else
  for dir in test/unit test/integration; do [[ -d "$dir" ]] && collect "$dir"; done
fi

step "setup"
bash scripts/setup.sh

step "type check (tsc)"
npx tsc -p . || failed+=("type check")

# Node 20 does not expand globs after --test, so files are listed explicitly. --test-force-exit ends a file's
# process when its tests are done even if a client left a socket open.
# Each run's output is also kept to print the combined counts at the end.
run_log="$(mktemp)"
run_node_tests() {
  local timeout_ms="$1"; shift
  node --import tsx --test --test-reporter="$REPORTER" --test-force-exit --test-timeout="$timeout_ms" "$@" \
    | tee -a "$run_log"
}

total() { awk -v key="$1" '$1 == "#" && $2 == key && $3 ~ /^[0-9]+$/ { n += $3 } END { print n + 0 }' "$run_log"; }

if [[ ${#unit_files[@]} -gt 0 ]]; then
  step "unit tests (${#unit_files[@]} files)"
  run_node_tests "${TEST_TIMEOUT_MS:-300000}" "${unit_files[@]}" || failed+=("unit tests")
else
  step "unit tests: none selected"
fi

# Claims a broker/controller port pair no other test run on this machine uses: a claim is a symlink named after the
# port whose target is the owner's pid (created atomically); claims of dead owners are taken over.
CLAIMS=.cache/kafka-run/.claims
claimed_port=""
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
registry_port_for() { echo $(($1 - 1011)); }  # 29092 -> 28081 (and 28082 for its management port)
claim_ports() {
  local port owner
  mkdir -p "$CLAIMS"
  for ((port = 29092; port < 29192; port += 2)); do
    if ! ln -s "$$" "$CLAIMS/$port" 2>/dev/null; then
      owner="$(readlink "$CLAIMS/$port" 2>/dev/null || true)"
      if [[ -z "$owner" ]] || kill -0 "$owner" 2>/dev/null; then continue; fi
      # The owner died without cleaning up (e.g. SIGKILL): stop what it left running before reusing the ports.
      KAFKA_NAME="test-$port" bash scripts/kafka.sh stop >/dev/null 2>&1 || true
      [[ -f scripts/registry.sh ]] && { REGISTRY_PORT="$(registry_port_for "$port")" bash scripts/registry.sh stop >/dev/null 2>&1 || true; }
      rm -f "$CLAIMS/$port"
      ln -s "$$" "$CLAIMS/$port" 2>/dev/null || continue
    fi
    if port_busy "$port" || port_busy $((port + 1)) || port_busy "$(registry_port_for "$port")" \
       || port_busy $(($(registry_port_for "$port") + 1)); then
      rm -f "$CLAIMS/$port"
      continue
    fi
    claimed_port="$port"
    return 0
  done
  echo "test.sh: no free port pair in 29092-29191" >&2
  return 1
}

broker_started=""
registry_started=""
cleanup() {
  if [[ -n "$registry_started" ]]; then
    REGISTRY_PORT="$(registry_port_for "$claimed_port")" bash scripts/registry.sh stop || true
  fi
  if [[ -n "$broker_started" ]]; then
    step "stopping test broker"
    KAFKA_NAME="test-$claimed_port" bash scripts/kafka.sh stop || true
  fi
  [[ -n "$claimed_port" ]] && rm -f "$CLAIMS/$claimed_port"
  rm -f "$run_log"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ${#integration_files[@]} -gt 0 ]]; then
  bootstrap="${TEST_KAFKA_BOOTSTRAP:-}"
  registry_url="${TEST_REGISTRY_URL:-}"
  want_registry=""
  [[ -z "$registry_url" && "${TEST_REGISTRY:-1}" != 0 && -f scripts/registry.sh ]] && want_registry=1
  if [[ -z "$bootstrap" || -n "$want_registry" ]]; then
    claim_ports || failed+=("port claim")
  fi
  registry_out="$(mktemp)"
  if [[ -n "$want_registry" && -n "$claimed_port" ]]; then
    step "starting test schema registry (in the background)"
    registry_started=1
    REGISTRY_PORT="$(registry_port_for "$claimed_port")" bash scripts/registry.sh start >"$registry_out" 2>&1 &
    registry_job=$!
  fi
  if [[ -z "$bootstrap" && -n "$claimed_port" ]]; then
    step "starting test broker"
    broker_started=1
    if out="$(KAFKA_NAME="test-$claimed_port" KAFKA_PORT="$claimed_port" KAFKA_CONTROLLER_PORT=$((claimed_port + 1)) \
              bash scripts/kafka.sh start)"; then
      bootstrap="$(sed -n 's/^KAFKA_BOOTSTRAP=//p' <<<"$out")"
    fi
  fi
  if [[ -n "$registry_started" ]]; then
    if wait "$registry_job"; then
      registry_url="$(sed -n 's/^REGISTRY_URL=//p' "$registry_out")"
      echo "registry: $registry_url"
    else
      echo "test.sh: the schema registry did not start:" >&2
      tail -n 30 "$registry_out" >&2
      failed+=("registry start")
    fi
  fi
  rm -f "$registry_out"
  if [[ -n "$bootstrap" ]]; then
    step "integration tests (${#integration_files[@]} files, KAFKA_BOOTSTRAP=$bootstrap${registry_url:+, REGISTRY_URL=$registry_url})"
    KAFKA_BOOTSTRAP="$bootstrap" REGISTRY_URL="$registry_url" run_node_tests "${TEST_TIMEOUT_MS:-600000}" \
      --test-concurrency=1 "${integration_files[@]}" || failed+=("integration tests")
  else
    failed+=("test broker start")
  fi
else
  step "integration tests: none selected"
fi

echo
echo "==== all runs: tests $(total tests), pass $(total pass), fail $(total fail), cancelled $(total cancelled), skipped $(total skipped)"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "==== FAILED: ${failed[*]}"
  exit 1
fi
echo "==== all passed"
