#!/usr/bin/env bash
# A real Apache Kafka (KRaft) broker for tests, benchmarks and the demo. Jars come from Maven Central.
#
# Commands (run from anywhere; paths are relative to the repo root):
#   scripts/kafka.sh fetch                  download Kafka into .cache/kafka/<version>/libs (no-op when present)
#   scripts/kafka.sh start                  fresh single combined broker+controller in the background;
#                                           prints KAFKA_BOOTSTRAP=127.0.0.1:<port> on stdout when it answers
#   scripts/kafka.sh start --cluster 3      fresh 3-node KRaft cluster (static voters, replication factor 3,
#                                           min.insync.replicas=2); prints KAFKA_BOOTSTRAP=<3 addresses>
#   scripts/kafka.sh stop [--cluster]       SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT s; removes the data
#   scripts/kafka.sh status [--cluster]     prints per-node state; exit 0 when every node runs
#   scripts/kafka.sh bootstrap [--cluster]  prints the bootstrap address of the running instance
#   scripts/kafka.sh kill-node N [--term]   cluster only: SIGKILL (or SIGTERM) node N, keeping its data
#   scripts/kafka.sh start-node N           cluster only: start node N again on its kept data; waits until it answers
#                                           and is back in the in-sync replicas of every partition it holds
#
# Environment:
#   KAFKA_NAME             instance name, data under .cache/kafka-run/<name>/ (default: dev, or cluster3 with --cluster)
#   KAFKA_PORT             broker port (default 19092; cluster: first of 3 consecutive ports, default 19192)
#   KAFKA_CONTROLLER_PORT  controller port (default 19093; cluster: first of 3 consecutive ports, default 19195)
#   KAFKA_VERSION          force a Kafka version (default: newest of KAFKA_CANDIDATE_VERSIONS Maven Central serves)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 120)
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (default 30; 10 when stopping a whole cluster,
#                          whose last node cannot finish a controlled shutdown once the controller quorum is gone)
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx768m"
#   KAFKA_JVM_PERF_OPTS    default G1 + C1-only JIT (fast start); set to "-XX:+UseG1GC" for benchmarks
#
# Sourcing: `source scripts/kafka.sh` defines the functions kafka_fetch, kafka_start [--cluster N], kafka_stop,
# kafka_status, kafka_bootstrap, kafka_kill_node N, kafka_start_node N without running anything; kafka_start also
# exports KAFKA_BOOTSTRAP into the sourcing shell. The functions return non-zero on failure (they do not exit).

KAFKA_SH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_CANDIDATE_VERSIONS="${KAFKA_CANDIDATE_VERSIONS:-4.3.1 4.3.0 4.2.1 4.2.0 4.1.2 4.1.1 4.1.0 4.0.1 4.0.0 3.9.1}"

_kafka_log() { echo "kafka.sh: $*" >&2; }

# --- fetch ---------------------------------------------------------------------------------------------------------

_kafka_cache_dir() { echo "$KAFKA_SH_ROOT/.cache/kafka/$1"; }

_kafka_is_fetched() { [[ -f "$(_kafka_cache_dir "$1")/libs/.complete" ]]; }

# Downloads one version with Maven into a temporary dir, then moves it into the cache (so a half download
# never looks complete).
_kafka_fetch_version() {
  local version="$1" target tmp profile log4j2 logfile
  target="$(_kafka_cache_dir "$version")"
  tmp="$target.partial.$$"
  logfile="$KAFKA_SH_ROOT/.cache/kafka/mvn-$version.log"
  case "$version" in
    3.*) profile=kafka39; log4j2="" ;;
    4.0.*|4.1.*) profile=kafka4; log4j2=2.24.3 ;;
    *) profile=kafka4; log4j2=2.25.4 ;;
  esac
  mkdir -p "$(dirname "$target")"
  rm -rf "$tmp"
  local -a args=(-B -q -f "$KAFKA_SH_ROOT/scripts/kafka/pom.xml" -P "$profile" "-Dkafka.version=$version"
                 "-Dlibs.dir=$tmp/libs" dependency:copy-dependencies)
  [[ -n "$log4j2" ]] && args+=("-Dlog4j2.version=$log4j2")
  if ! mvn "${args[@]}" >"$logfile" 2>&1; then
    rm -rf "$tmp"
    return 1
  fi
  # Kafka 4.x resolved slf4j-api 1.7 when this was written; if a later one brings slf4j 2, swap the binding.
  if compgen -G "$tmp/libs/slf4j-api-2.*.jar" >/dev/null && [[ "$profile" == kafka4 ]]; then
    rm -f "$tmp"/libs/log4j-slf4j-impl-*.jar
    mvn "${args[@]}" -Dlog4j2.slf4j.binding=log4j-slf4j2-impl >>"$logfile" 2>&1 || { rm -rf "$tmp"; return 1; }
  fi
  if [[ ! -f "$tmp/libs/kafka_2.13-$version.jar" ]]; then
    _kafka_log "Maven finished but kafka_2.13-$version.jar is missing (see $logfile)"
    rm -rf "$tmp"
    return 1
  fi
  echo "$version" >"$tmp/libs/.complete"
  rm -rf "$target"
  mv "$tmp" "$target"
}

# Sets KAFKA_RESOLVED_VERSION and KAFKA_LIBS. Uses the cache when it holds a candidate; downloads otherwise.
kafka_fetch() {
  local version candidates
  if [[ -n "${KAFKA_VERSION:-}" ]]; then candidates="$KAFKA_VERSION"; else candidates="$KAFKA_CANDIDATE_VERSIONS"; fi
  for version in $candidates; do
    if _kafka_is_fetched "$version"; then
      KAFKA_RESOLVED_VERSION="$version"
      KAFKA_LIBS="$(_kafka_cache_dir "$version")/libs"
      return 0
    fi
  done
  command -v mvn >/dev/null || { _kafka_log "mvn (Maven) is not installed; it is needed to fetch Kafka"; return 1; }
  command -v java >/dev/null || { _kafka_log "java is not installed; Kafka needs Java 17+"; return 1; }
  for version in $candidates; do
    _kafka_log "fetching Apache Kafka $version from Maven Central ..."
    if _kafka_fetch_version "$version"; then
      KAFKA_RESOLVED_VERSION="$version"
      KAFKA_LIBS="$(_kafka_cache_dir "$version")/libs"
      _kafka_log "Kafka $version ready in $KAFKA_LIBS"
      return 0
    fi
    _kafka_log "Kafka $version not available: $(tail -n 3 "$KAFKA_SH_ROOT/.cache/kafka/mvn-$version.log" | tr '\n' ' ')"
  done
  _kafka_log "could not fetch any Kafka version of: $candidates"
  return 1
}

# --- instance layout -----------------------------------------------------------------------------------------------

# _kafka_parse_mode [--cluster [N]] ... : sets _KAFKA_NODES and _KAFKA_INSTANCE (the instance dir).
_kafka_parse_mode() {
  _KAFKA_NODES=1
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --cluster)
        if [[ "${2:-}" =~ ^[0-9]+$ ]]; then _KAFKA_NODES="$2"; shift; else _KAFKA_NODES=3; fi ;;
      *) _kafka_log "unknown option: $1"; return 64 ;;
    esac
    shift
  done
  if [[ "$_KAFKA_NODES" != 1 && "$_KAFKA_NODES" != 3 ]]; then
    _kafka_log "--cluster supports 3 nodes (got $_KAFKA_NODES)"; return 64
  fi
  local default_name=dev
  [[ "$_KAFKA_NODES" == 3 ]] && default_name=cluster3
  _KAFKA_INSTANCE="$KAFKA_SH_ROOT/.cache/kafka-run/${KAFKA_NAME:-$default_name}"
}

_kafka_node_dir() { echo "$_KAFKA_INSTANCE/node-$1"; }

_kafka_pid_of() {
  local pidfile pid
  pidfile="$(_kafka_node_dir "$1")/pid"
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  # The pid must still be our JVM (its command line names this node's properties file), not a reused pid.
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$(_kafka_node_dir "$1")/server.properties"* ]] && echo "$pid"
}

_kafka_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_kafka_java_logging_opts() {
  case "$KAFKA_RESOLVED_VERSION" in
    3.*) echo "-Dlog4j.configuration=file:$KAFKA_SH_ROOT/scripts/kafka/log4j.properties" ;;
    *) echo "-Dlog4j2.configurationFile=$KAFKA_SH_ROOT/scripts/kafka/log4j2.properties" ;;
  esac
}

_kafka_write_properties() {
  local node="$1" nodes="$2" broker_port="$3" controller_port="$4" voters="$5" replication=1 min_isr=1 dir
  dir="$(_kafka_node_dir "$node")"
  if [[ "$nodes" == 3 ]]; then replication=3; min_isr=2; fi
  mkdir -p "$dir/data"
  sed -e "s|@NODE_ID@|$node|g" -e "s|@VOTERS@|$voters|g" -e "s|@BROKER_PORT@|$broker_port|g" \
      -e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@DATA_DIR@|$dir/data|g" \
      -e "s|@REPLICATION@|$replication|g" -e "s|@MIN_ISR@|$min_isr|g" \
      "$KAFKA_SH_ROOT/scripts/kafka/server.properties.template" >"$dir/server.properties"
}

# A random cluster id: 16 random bytes in URL-safe base64 without padding (the form StorageTool random-uuid prints).
# base64url of 16 random bytes, never starting with '-' (StorageTool would read such an id as an option).
_kafka_cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' 'AB' | cut -c1-22; }

_kafka_format_node() {
  local node="$1" cluster_id="$2" dir
  dir="$(_kafka_node_dir "$node")"
  # shellcheck disable=SC2046
  if ! java $(_kafka_java_logging_opts) -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
    _kafka_log "formatting node $node failed:"; tail -n 20 "$dir/format.log" >&2
    return 1
  fi
}

_kafka_launch_node() {
  local node="$1" dir
  dir="$(_kafka_node_dir "$node")"
  local heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
  local perf="${KAFKA_JVM_PERF_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1}"
  # shellcheck disable=SC2086,SC2046
  nohup java $heap $perf -Djava.awt.headless=true -Dkafka.logs.dir="$dir/logs" $(_kafka_java_logging_opts) \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/broker.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
}

# _kafka_wait_ready <bootstrap> <brokerCount> <pids,comma,separated> [nodeId that must be back in sync]
_kafka_wait_ready() {
  (cd "$KAFKA_SH_ROOT" && node --import tsx scripts/kafka/wait-ready.ts "$1" "$2" "${KAFKA_START_TIMEOUT:-120}" \
     "${@:3}")
}

_kafka_show_logs() {
  local node
  for node in $(seq 1 "$1"); do
    _kafka_log "---- last lines of $(_kafka_node_dir "$node")/broker.log ----"
    tail -n 40 "$(_kafka_node_dir "$node")/broker.log" >&2 2>/dev/null || true
  done
}

_kafka_ports() {
  # Sets _KAFKA_BROKER_PORT0/_KAFKA_CONTROLLER_PORT0 (ports of node 1; node i uses +i-1).
  if [[ "$1" == 3 ]]; then
    _KAFKA_BROKER_PORT0="${KAFKA_PORT:-19192}"; _KAFKA_CONTROLLER_PORT0="${KAFKA_CONTROLLER_PORT:-19195}"
  else
    _KAFKA_BROKER_PORT0="${KAFKA_PORT:-19092}"; _KAFKA_CONTROLLER_PORT0="${KAFKA_CONTROLLER_PORT:-19093}"
  fi
}

# --- commands ------------------------------------------------------------------------------------------------------

kafka_start() {
  _kafka_parse_mode "$@" || return $?
  local nodes="$_KAFKA_NODES" node running="" voters="" bootstrap="" cluster_id pids=()
  for node in $(seq 1 "$nodes"); do
    if _kafka_pid_of "$node" >/dev/null; then running=1; fi
  done
  if [[ -n "$running" ]]; then
    bootstrap="$(cat "$_KAFKA_INSTANCE/bootstrap")"
    _kafka_log "instance $(basename "$_KAFKA_INSTANCE") is already running (stop it first for fresh data)"
    echo "KAFKA_BOOTSTRAP=$bootstrap"
    export KAFKA_BOOTSTRAP="$bootstrap"
    return 0
  fi
  kafka_fetch || return 1
  _kafka_ports "$nodes"
  for node in $(seq 1 "$nodes"); do
    local bp=$((_KAFKA_BROKER_PORT0 + node - 1)) cp=$((_KAFKA_CONTROLLER_PORT0 + node - 1))
    for port in "$bp" "$cp"; do
      if _kafka_port_busy "$port"; then
        _kafka_log "port $port is already in use (another broker? set KAFKA_PORT/KAFKA_CONTROLLER_PORT)"
        return 1
      fi
    done
    voters="${voters:+$voters,}$node@127.0.0.1:$cp"
    bootstrap="${bootstrap:+$bootstrap,}127.0.0.1:$bp"
  done
  rm -rf "$_KAFKA_INSTANCE"
  mkdir -p "$_KAFKA_INSTANCE"
  echo "$bootstrap" >"$_KAFKA_INSTANCE/bootstrap"
  echo "$nodes" >"$_KAFKA_INSTANCE/nodes"
  echo "$KAFKA_RESOLVED_VERSION" >"$_KAFKA_INSTANCE/version"
  cluster_id="$(_kafka_cluster_id)"
  for node in $(seq 1 "$nodes"); do
    _kafka_write_properties "$node" "$nodes" $((_KAFKA_BROKER_PORT0 + node - 1)) \
      $((_KAFKA_CONTROLLER_PORT0 + node - 1)) "$voters"
    _kafka_format_node "$node" "$cluster_id" || return 1
  done
  for node in $(seq 1 "$nodes"); do
    _kafka_launch_node "$node"
    pids+=("$(cat "$(_kafka_node_dir "$node")/pid")")
  done
  _kafka_log "Kafka $KAFKA_RESOLVED_VERSION starting ($nodes node(s), data in $_KAFKA_INSTANCE) ..."
  if ! _kafka_wait_ready "$bootstrap" "$nodes" "$(IFS=,; echo "${pids[*]}")"; then
    _kafka_show_logs "$nodes"
    kafka_stop "$@" >/dev/null 2>&1 || true
    return 1
  fi
  _kafka_log "Kafka is up"
  echo "KAFKA_BOOTSTRAP=$bootstrap"
  export KAFKA_BOOTSTRAP="$bootstrap"
}

# _kafka_stop_pid <pid> <label>: SIGTERM, wait up to KAFKA_STOP_TIMEOUT, then SIGKILL.
_kafka_stop_pid() {
  local pid="$1" label="$2" waited=0 limit=$(( ${KAFKA_STOP_TIMEOUT:-30} * 10 ))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= limit )); then
      _kafka_log "$label did not stop after ${KAFKA_STOP_TIMEOUT:-30}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

kafka_stop() {
  _kafka_parse_mode "$@" || return $?
  [[ -d "$_KAFKA_INSTANCE" ]] || { _kafka_log "instance $(basename "$_KAFKA_INSTANCE") is not running"; return 0; }
  local nodes node pid
  nodes="$(cat "$_KAFKA_INSTANCE/nodes" 2>/dev/null || echo 1)"
  # Send SIGTERM to every node first so a cluster shuts down together, then wait for each.
  local -a pids=()
  for node in $(seq 1 "$nodes"); do
    if pid="$(_kafka_pid_of "$node")"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$node:$pid"); fi
  done
  local bound="${KAFKA_STOP_TIMEOUT:-30}"
  [[ "$nodes" -gt 1 ]] && bound="${KAFKA_STOP_TIMEOUT:-10}"
  for entry in "${pids[@]}"; do
    KAFKA_STOP_TIMEOUT="$bound" _kafka_stop_pid "${entry#*:}" "node ${entry%%:*}"
  done
  for node in $(seq 1 "$nodes"); do
    rm -rf "$(_kafka_node_dir "$node")/data" "$(_kafka_node_dir "$node")/pid"
  done
  rm -f "$_KAFKA_INSTANCE/bootstrap"
  _kafka_log "stopped instance $(basename "$_KAFKA_INSTANCE") (data removed; logs kept in $_KAFKA_INSTANCE)"
}

kafka_status() {
  _kafka_parse_mode "$@" || return $?
  if [[ ! -f "$_KAFKA_INSTANCE/bootstrap" ]]; then
    echo "$(basename "$_KAFKA_INSTANCE"): not running"
    return 1
  fi
  local nodes node pid all=0
  nodes="$(cat "$_KAFKA_INSTANCE/nodes")"
  echo "$(basename "$_KAFKA_INSTANCE"): Kafka $(cat "$_KAFKA_INSTANCE/version"), KAFKA_BOOTSTRAP=$(cat "$_KAFKA_INSTANCE/bootstrap")"
  for node in $(seq 1 "$nodes"); do
    if pid="$(_kafka_pid_of "$node")"; then echo "  node $node: running (pid $pid)"; else echo "  node $node: stopped"; all=1; fi
  done
  return "$all"
}

kafka_bootstrap() {
  _kafka_parse_mode "$@" || return $?
  [[ -f "$_KAFKA_INSTANCE/bootstrap" ]] || { _kafka_log "$(basename "$_KAFKA_INSTANCE") is not running"; return 1; }
  cat "$_KAFKA_INSTANCE/bootstrap"
}

_kafka_cluster_node_arg() {
  local node="$1"; shift
  [[ "$node" =~ ^[1-3]$ ]] || { _kafka_log "node must be 1, 2 or 3 (got '${node:-}')"; return 64; }
  _kafka_parse_mode --cluster 3 || return $?
  [[ -f "$_KAFKA_INSTANCE/bootstrap" ]] || { _kafka_log "cluster $(basename "$_KAFKA_INSTANCE") is not running"; return 1; }
}

kafka_kill_node() {
  local node="${1:-}" signal=KILL
  [[ "${2:-}" == "--term" ]] && signal=TERM
  _kafka_cluster_node_arg "$node" || return $?
  local pid
  pid="$(_kafka_pid_of "$node")" || { _kafka_log "node $node is not running"; return 1; }
  if [[ "$signal" == TERM ]]; then
    _kafka_stop_pid "$pid" "node $node"
  else
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$(_kafka_node_dir "$node")/pid"
  _kafka_log "node $node stopped with SIG$signal (data kept)"
}

kafka_start_node() {
  local node="${1:-}"
  _kafka_cluster_node_arg "$node" || return $?
  if _kafka_pid_of "$node" >/dev/null; then _kafka_log "node $node is already running"; return 0; fi
  KAFKA_VERSION="$(cat "$_KAFKA_INSTANCE/version")" kafka_fetch || return 1
  _kafka_launch_node "$node"
  local -a pids=()
  local n pid address
  for n in 1 2 3; do if pid="$(_kafka_pid_of "$n")"; then pids+=("$pid"); fi; done
  address="$(sed -n 's|^advertised.listeners=PLAINTEXT://||p' "$(_kafka_node_dir "$node")/server.properties")"
  # Ready when the restarted node answers, every running node is registered, and the node caught up (back in ISR).
  if ! _kafka_wait_ready "$address" "${#pids[@]}" "$(IFS=,; echo "${pids[*]}")" "$node"; then
    _kafka_show_logs 3
    return 1
  fi
  _kafka_log "node $node is up"
}

_kafka_usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; }

kafka_main() {
  set -euo pipefail
  local command="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$command" in
    fetch) kafka_fetch && echo "KAFKA_LIBS=$KAFKA_LIBS" ;;
    start) kafka_start "$@" ;;
    stop) kafka_stop "$@" ;;
    status) kafka_status "$@" ;;
    bootstrap) kafka_bootstrap "$@" ;;
    kill-node) kafka_kill_node "$@" ;;
    start-node) kafka_start_node "$@" ;;
    -h|--help|help) _kafka_usage ;;
    *) _kafka_usage; return 64 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  kafka_main "$@"
fi
