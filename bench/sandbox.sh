#!/usr/bin/env bash
# The sandbox serving HubSpot batch upserts (100 records each, healthy
# scenario) on one core (taskset -c 0), loaded from the other core.
# Target: at least 20,000 records per second. Writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BATCHES=${BATCHES:-3000}
CONC=${CONC:-8}
cargo build --release -q -p syncward
cargo build --release -q -p syncward-sandbox --example sandbox_load
mkdir -p bench/data
taskset -c 0 target/release/syncward sandbox --addr 127.0.0.1:0 > bench/data/sandbox.out &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do URL=$(sed -n 's/^sandbox listening on //p' bench/data/sandbox.out); [ -n "$URL" ] && break; sleep 0.1; done
RESULT=$(taskset -c 1 target/release/examples/sandbox_load "$URL" "$BATCHES" "$CONC")
echo "$RESULT"
RSS=$(( $(awk '/VmHWM/ {print $2}' /proc/$PID/status) / 1024 ))
RPS=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['records_per_second'])" "$RESULT")
python3 bench/results.py sandbox <<MD
## Sandbox throughput (\`bench/sandbox.sh\`)

$(date -u +%Y-%m-%d): the sandbox pinned to one core (taskset -c 0), \`healthy\` scenario,
$BATCHES HubSpot \`batch/upsert\` requests of 100 contacts each (50,000 distinct emails, so
creates then updates), $CONC in flight, sent from the other core.

| what | records per second | peak memory | target |
|---|---|---|---|
| sandbox, batch upserts | $RPS | $RSS MB | ≥ 20,000 |
MD
