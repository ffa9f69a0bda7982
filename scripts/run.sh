#!/usr/bin/env bash
# The main job.
#   bash scripts/run.sh                                   embedded demo: starts a local Kafka, runs pika-connect on
#                                                         it, prints what it committed, stops Kafka again
#   bash scripts/run.sh worker.properties connector.properties [more connector files...]
#                                                         the standalone worker against your Kafka (Ctrl-C stops it
#                                                         after committing the open transactions)
# Environment: DEMO_SECONDS (default 20) for the demo; KAFKA_PORT/KAFKA_CONTROLLER_PORT as in scripts/kafka.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

if [[ $# -gt 0 ]]; then
  exec node bin/pika-connect.js "$@"
fi

export KAFKA_NAME="${KAFKA_NAME:-demo}"
# shellcheck source=kafka.sh
source scripts/kafka.sh
trap 'kafka_stop >/dev/null 2>&1 || true' EXIT
kafka_start
node bin/pika-connect.js --demo-seconds "${DEMO_SECONDS:-20}"
