#!/usr/bin/env bash
# The chaos suite (test/chaos/): a test Pika master under a steady mixed write load, the worker as a child process,
# and faults injected per class; then Kafka is checked against the master's record of writes and one line of figures
# per fault class is printed. Exit status 1 when any lost / duplicated / out-of-order / aborted-read / torn count is
# not 0 (or a documented behaviour, e.g. a resync after a gap, did not happen).
#
#   bash scripts/chaos.sh            full run (tens of minutes): every class, 100 runtime kills, a 3-node cluster for
#                                    the broker classes; figures also written to bench/results/chaos-<date>.md
#   bash scripts/chaos.sh --short    short run (the cheap classes against one broker, about 2-3 minutes; CI runs the
#                                    same through test/integration/chaos/chaos-short.test.ts)
#   more options (passed to test/chaos/main.ts): --classes runtime-kill,broker-kill,cluster-restart,master,connection,checkpoint,kafka-outage
#                                    (kafka-outage: the single broker down past the master's binlog retention, with and
#                                    without the spill log; not in --short) --kills N (runtime kills, in connectors of 10) --seed N --out file.md
#
# Environment: CHAOS_KAFKA_PORT (default 39500; the broker uses it and +1), CHAOS_CLUSTER_PORT (default 39510; the
# cluster uses 3 ports from there and 3 controller ports from +10). Brokers are stopped at the end, whatever happens.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export KAFKAJS_NO_PARTITIONER_WARNING=1

short=""
out=""
for arg in "$@"; do
  [[ "$arg" == "--short" ]] && short=1
  [[ "$arg" == "--out" ]] && out=1
done
want_cluster=1
if [[ -n "$short" ]]; then want_cluster=""; fi
if [[ " $* " == *" --classes "* && " $* " != *broker-kill* && " $* " != *cluster-restart* ]]; then want_cluster=""; fi

single_port="${CHAOS_KAFKA_PORT:-39500}"
cluster_port="${CHAOS_CLUSTER_PORT:-39510}"
single_name="chaos-single-$single_port"
cluster_name="chaos-cluster-$cluster_port"

started=()
cleanup() {
  local name
  for name in "${started[@]}"; do
    if [[ "$name" == "$cluster_name" ]]; then KAFKA_NAME="$name" bash scripts/kafka.sh stop --cluster || true
    else KAFKA_NAME="$name" bash scripts/kafka.sh stop || true; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started+=("$single_name")
single="$(KAFKA_NAME="$single_name" KAFKA_PORT="$single_port" KAFKA_CONTROLLER_PORT=$((single_port + 1)) bash scripts/kafka.sh start)"
export KAFKA_BOOTSTRAP="$(sed -n 's/^KAFKA_BOOTSTRAP=//p' <<<"$single")"
if [[ -n "$want_cluster" ]]; then
  started+=("$cluster_name")
  cluster="$(KAFKA_NAME="$cluster_name" KAFKA_PORT="$cluster_port" KAFKA_CONTROLLER_PORT=$((cluster_port + 10)) \
             bash scripts/kafka.sh start --cluster 3)"
  export CHAOS_CLUSTER_BOOTSTRAP="$(sed -n 's/^KAFKA_BOOTSTRAP=//p' <<<"$cluster")"
  export CHAOS_CLUSTER_NAME="$cluster_name"
fi

args=("$@")
if [[ -z "$short" && -z "$out" ]]; then
  mkdir -p bench/results
  args+=(--out "bench/results/chaos-$(date -u +%Y-%m-%d).md")
fi
export CHAOS_COMMAND="bash scripts/chaos.sh $*"
node --import tsx test/chaos/main.ts "${args[@]}"
