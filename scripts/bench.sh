#!/usr/bin/env bash
# Runs every benchmark in bench/ against a private broker started with server JIT settings (not the fast-start
# ones tests use), and prints their figures. Benchmarks print ratios measured in one run; they are not tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export KAFKA_NAME=bench KAFKA_PORT="${KAFKA_PORT:-39192}" KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-39193}"
export KAFKA_JVM_PERF_OPTS="${KAFKA_JVM_PERF_OPTS:--XX:+UseG1GC}"
# shellcheck source=kafka.sh
source scripts/kafka.sh
trap 'kafka_stop >/dev/null 2>&1 || true' EXIT
kafka_start
for bench in bench/*.ts; do
  echo "==== $bench"
  npx tsx "$bench" || echo "bench $bench failed" >&2
done
