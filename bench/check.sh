#!/usr/bin/env bash
# syncward check on a generated 1-million-row web-form export, one core.
# Target: at least 300,000 rows per second with bounded memory. Writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
mkdir -p bench/data
DATA=bench/data/rows-$N.csv
[ -f "$DATA" ] || python3 bench/gen_rows.py "$N" > "$DATA"
cargo build --release -q -p syncward
cat "$DATA" > /dev/null
/usr/bin/time -f "%e %M" -o bench/data/check.time taskset -c 0 target/release/syncward check \
  --mapping examples/check/lead-mapping.toml --schema examples/check/lead-describe.json \
  --source "$DATA" --format json > bench/data/check-$N.json || [ $? -eq 1 ]
read -r SECS KB < <(tail -n 1 bench/data/check.time)
RPS=$(python3 -c "print(round($N/$SECS))")
echo "check: $N rows in ${SECS}s = $RPS rows/s, peak $((KB/1024)) MB"
python3 bench/results.py check <<MD
## check throughput (\`bench/check.sh\`)

$(date -u +%Y-%m-%d), one core (taskset), page cache warm: $N rows from \`bench/gen_rows.py\`
(a web-form export, 12 columns, ~5% of rows with a defect) checked against
\`examples/check/lead-mapping.toml\` and the bundled Salesforce Lead describe, JSON out.

| rows | time | rows per second | peak memory | target |
|---|---|---|---|---|
| $N | ${SECS} s | $RPS | $((KB/1024)) MB | ≥ 300,000 rows/s, bounded memory |
MD
