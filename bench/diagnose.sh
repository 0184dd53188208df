#!/usr/bin/env bash
# syncward diagnose on 1M and 5M generated events, side by side in one run
# with DuckDB (1 thread, only a GROUP BY of the failures on the same file)
# and with a plain line count (wc -l) as the ceiling. syncward runs as a
# user runs it (a reader thread and the analysis: two cores) and pinned to
# one core. Each contender runs RUNS times, interleaved (so a noisy
# neighbour on a shared machine hits all of them alike); the table shows
# the best and the median. Writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"1000000 5000000"}
RUNS=${RUNS:-5}
mkdir -p bench/data
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
cargo build --release -q -p syncward
BIN=target/release/syncward
DUCK_VERSION=$(python3 -c "import duckdb; print(duckdb.__version__)")
# "best / median" of the numbers on stdin, in seconds.
stats() { python3 -c "import sys, statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print(f'{min(v):.2f} s best / {s.median(v):.2f} s median')"; }
first() { python3 -c "import sys; v=[float(x) for x in sys.stdin.read().split()]; print(f'{min(v):.2f}')"; }
rows=""
for N in $SIZES; do
  DATA=bench/data/events-$N.jsonl
  [ -f "$DATA" ] || python3 bench/gen_events.py "$N" > "$DATA"
  SIZE_MB=$(( $(stat -c %s "$DATA") / 1024 / 1024 ))
  cat "$DATA" > /dev/null  # warm the page cache for every contender alike
  WC_T=""; SW_T=""; SW_KB=0; SW1_T=""; SW1_KB=0; DUCK_Q=""; DUCK_T=""; DUCK_KB=0
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N); taskset -c 0 wc -l < "$DATA" > /dev/null; t1=$(date +%s.%N)
    WC_T+=" $(python3 -c "print($t1-$t0)")"
    /usr/bin/time -f "%e %M" -o bench/data/sw.time "$BIN" diagnose "$DATA" --format json > bench/data/diagnosis-$N.json || [ $? -eq 1 ]
    read -r t kb < <(tail -n 1 bench/data/sw.time)
    SW_T+=" $t"; SW_KB=$(( kb > SW_KB ? kb : SW_KB ))
    /usr/bin/time -f "%e %M" -o bench/data/sw.time taskset -c 0 "$BIN" diagnose "$DATA" --format json > bench/data/diagnosis-1core-$N.json || [ $? -eq 1 ]
    read -r t kb < <(tail -n 1 bench/data/sw.time)
    SW1_T+=" $t"; SW1_KB=$(( kb > SW1_KB ? kb : SW1_KB ))
    /usr/bin/time -f "%e %M" -o bench/data/duck.time taskset -c 0 python3 bench/duckdb_groupby.py "$DATA" > bench/data/duck.out
    read -r q DUCK_GROUPS < bench/data/duck.out
    read -r t kb < <(tail -n 1 bench/data/duck.time)
    DUCK_Q+=" $q"; DUCK_T+=" $t"; DUCK_KB=$(( kb > DUCK_KB ? kb : DUCK_KB ))
  done
  # Both ways of running give the same diagnosis.
  cmp -s bench/data/diagnosis-$N.json bench/data/diagnosis-1core-$N.json || { echo "one core and two disagree on $N events" >&2; exit 1; }
  FAILED=$(python3 -c "import json; d=json.load(open('bench/data/diagnosis-$N.json')); print(d['events']['failed'], 'failures,', len(d['groups']), 'groups,', d['decision']['action'])")
  echo "N=$N wc=[$WC_T] syncward=[$SW_T] (${SW_KB} KB) 1 core=[$SW1_T] (${SW1_KB} KB) duckdb query=[$DUCK_Q] total=[$DUCK_T] (${DUCK_KB} KB) -> $FAILED / duckdb $DUCK_GROUPS groups"
  rows+="| $(printf "%'d" "$N") events ($SIZE_MB MB) | $(echo "$WC_T" | first) s | $(echo "$SW_T" | stats), $(( SW_KB / 1024 )) MB | $(echo "$SW1_T" | stats), $(( SW1_KB / 1024 )) MB | $(echo "$DUCK_Q" | stats) query; $(echo "$DUCK_T" | stats) with start-up; $(( DUCK_KB / 1024 )) MB |"$'\n'
done
python3 bench/results.py diagnose <<MD
## diagnose throughput and memory (\`bench/diagnose.sh\`)

$(date -u +%Y-%m-%d), $(nproc) cores, one core each (taskset); input from \`bench/gen_events.py\`
(~16% failures across 9 error kinds, runs, batches of 100, ~600k distinct records, readbacks
with owner rewrites), page cache warm, DuckDB $DUCK_VERSION. syncward does the whole diagnosis
(parse every event, classify and sign every failure, groups, patterns, stop rules, decision,
JSON out), whole process, as a user runs it (a reader thread scans lines while the analysis
runs: two threads) and pinned to one core (\`taskset -c 0\`: then it reads in one thread);
DuckDB, restricted to 1 thread and one core, does only \`SELECT code, field, message, count(*)
... WHERE status='failed' GROUP BY ...\` on the same file; \`wc -l\` is the ceiling. $RUNS runs
of each, interleaved; times are wall-clock seconds, peak memory the largest resident set seen.

| input | \`wc -l\` (ceiling) | syncward diagnose, as run (2 threads) | syncward diagnose, 1 core | DuckDB 1 thread (GROUP BY only) |
|---|---|---|---|---|
$rows
Targets: at least as fast as DuckDB-1t, peak memory under 100 MB and flat as the input grows.
MD
