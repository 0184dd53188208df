#!/usr/bin/env bash
# syncward diagnose on 1M and 5M generated events, side by side in one run
# with DuckDB (1 thread, only a GROUP BY of the failures on the same file)
# and with a plain line count (wc -l) as the ceiling. Writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000000 5000000"}
mkdir -p bench/data
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
cargo build --release -q -p syncward
BIN=target/release/syncward
rows=""
for N in $SIZES; do
  DATA=bench/data/events-$N.jsonl
  [ -f "$DATA" ] || python3 bench/gen_events.py "$N" > "$DATA"
  SIZE_MB=$(( $(stat -c %s "$DATA") / 1024 / 1024 ))
  cat "$DATA" > /dev/null  # warm the page cache for every contender alike
  t0=$(date +%s.%N); wc -l < "$DATA" > /dev/null; t1=$(date +%s.%N)
  WC=$(python3 -c "print(f'{$t1-$t0:.3f}')")
  /usr/bin/time -f "%e %M" -o bench/data/sw.time taskset -c 0 "$BIN" diagnose "$DATA" --format json > bench/data/diagnosis-$N.json || [ $? -eq 1 ]
  read -r SW SW_KB < <(tail -n 1 bench/data/sw.time)
  /usr/bin/time -f "%e %M" -o bench/data/duck.time taskset -c 0 python3 bench/duckdb_groupby.py "$DATA" > bench/data/duck.out
  read -r DUCK_Q DUCK_GROUPS < bench/data/duck.out
  read -r DUCK DUCK_KB < <(tail -n 1 bench/data/duck.time)
  FAILED=$(python3 -c "import json; d=json.load(open('bench/data/diagnosis-$N.json')); print(d['events']['failed'], len(d['groups']), d['decision']['action'])")
  echo "N=$N wc=${WC}s syncward=${SW}s (${SW_KB} KB) duckdb=${DUCK}s total / ${DUCK_Q}s query (${DUCK_KB} KB) -> $FAILED"
  rows+="| $(printf "%'d" "$N") events ($SIZE_MB MB) | ${WC} s | ${SW} s, $(( SW_KB / 1024 )) MB | ${DUCK_Q} s query (${DUCK} s with start-up), $(( DUCK_KB / 1024 )) MB |"$'\n'
done
python3 bench/results.py diagnose <<MD
## diagnose throughput and memory (\`bench/diagnose.sh\`)

$(date -u +%Y-%m-%d), $(nproc) cores, one core each (taskset); input from \`bench/gen_events.py\`
(~16% failures across 9 error kinds, runs, batches of 100, ~600k distinct records, readbacks
with owner rewrites), page cache warm. syncward does the whole diagnosis (parse every event,
classify and sign every failure, groups, patterns, stop rules, decision, JSON out); DuckDB,
restricted to 1 thread, does only \`SELECT code, field, message, count(*) ... WHERE
status='failed' GROUP BY ...\` on the same file; \`wc -l\` is the ceiling. Peak memory is the
maximum resident set size.

| input | \`wc -l\` (ceiling) | syncward diagnose | DuckDB 1 thread (GROUP BY only) |
|---|---|---|---|
$rows
Targets: at least as fast as DuckDB-1t, peak memory under 100 MB and flat as the input grows.
MD
