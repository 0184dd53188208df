#!/usr/bin/env bash
# Classifier throughput on a realistic mix (bench/gen_errors.py).
# Measures (1) the engine alone on one thread and (2) `syncward classify`
# end to end (JSON in, JSON out), and writes the figures to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
mkdir -p bench/data
DATA=bench/data/errors-$N.jsonl
[ -f "$DATA" ] || python3 bench/gen_errors.py "$N" > "$DATA"
cargo build --release -q -p syncward
cargo build --release -q -p syncward-core --example classify_throughput
ENGINE=$(taskset -c 0 target/release/examples/classify_throughput "$DATA" 3)
echo "engine: $ENGINE"
START=$(date +%s.%N)
/usr/bin/time -f "%M" -o bench/data/classify.rss taskset -c 0 target/release/syncward classify < "$DATA" > /dev/null
END=$(date +%s.%N)
E2E=$(python3 -c "print(round($N/($END-$START)))")
RSS=$(( $(cat bench/data/classify.rss) / 1024 ))
echo "end to end: $E2E messages/s, peak RSS ${RSS} MB"
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$ENGINE" "$1"; }
PER_SEC=$(field messages_per_second); MEMO=$(field memo_messages_per_second); HIT=$(field memo_hit_rate)
python3 bench/results.py classify <<MD
## Classifier throughput (\`bench/classify.sh\`)

$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); $N messages from \`bench/gen_errors.py\` (realistic
mix: ~20 error families from the reference formats, a few hundred distinct errors, ids, emails
and values varying per line). Pinned to one core with taskset.

| what | messages per second (1 core) | peak memory | target |
|---|---|---|---|
| engine, every message classified afresh (best of 3) | $PER_SEC | n/a | |
| engine with the memo, as \`classify\` and \`diagnose\` run it (hit rate $HIT) | $MEMO | n/a | ≥ 1,000,000 |
| \`syncward classify\` end to end (JSON Lines in and out) | $E2E | ${RSS} MB | (reading and writing JSON included) |
MD
