#!/usr/bin/env bash
# syncward sync against the sandbox, in one run:
#  (a) rate-limited (HubSpot: 100 requests per rolling 10 s, so 1,000 records/s at most):
#      records/s as a share of that ceiling and the share of requests answered 429, side by
#      side with the official HubSpot Python client and its documented retry setting;
#  (b) flaky (5xx, resets after commit, stalls): lost records, duplicates, requests per
#      useful batch. Writes bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
mkdir -p bench/data
cargo build --release -q -p syncward
BIN=$PWD/target/release/syncward
PY=target/contract/py
if [ ! -d "$PY/hubspot" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$PY" "hubspot-api-client==12.*" > bench/data/pip.log 2>&1
fi
python3 - "$N" > bench/data/sync-contacts.csv <<'PY'
import sys
n = int(sys.argv[1])
print("Email,First,Stage")
for i in range(n):
    print(f"p{i}@example.com,P{i},lead")
PY
printf 'crm = "hubspot"\nobject = "contacts"\n[key]\nsource = "Email"\ncrm = "email"\n[fields]\n"First" = "firstname"\n"Stage" = "lifecyclestage"\n' > bench/data/sync-contacts.toml
start_sandbox() {
  "$BIN" sandbox --addr 127.0.0.1:0 --scenario "$1" > bench/data/sandbox-$1.out 2>/dev/null &
  SB_PID=$!
  for _ in $(seq 1 50); do URL=$(sed -n 's/^sandbox listening on //p' bench/data/sandbox-$1.out); [ -n "$URL" ] && break; sleep 0.1; done
}
stat() { curl -s "$URL/_sandbox/stats"; }

# (a) rate-limited
start_sandbox rate-limited
rm -f bench/data/sync-a.db
T0=$(date +%s.%N)
SYNCWARD_TOKEN=sandbox-token "$BIN" sync --mapping bench/data/sync-contacts.toml --source bench/data/sync-contacts.csv --crm-url "$URL" --db bench/data/sync-a.db --format json > bench/data/sync-a.json || true
T1=$(date +%s.%N)
SW_STATS=$(stat)
curl -s -X POST "$URL/_sandbox/reset" > /dev/null
PY_OUT=$(PYTHONPATH=$PY python3 bench/hubspot_client_load.py "$URL" bench/data/sync-contacts.csv)
PY_STATS=$(stat)
kill $SB_PID
read -r A_SW_RPS A_SW_429 A_SW_CONF A_PY_RPS A_PY_429 < <(python3 - "$N" "$T0" "$T1" "$SW_STATS" "$PY_OUT" "$PY_STATS" bench/data/sync-a.json <<'PY'
import json, sys
n, t0, t1 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
sw, py_out, py = json.loads(sys.argv[4]), sys.argv[5].split(), json.loads(sys.argv[6])
rep = json.load(open(sys.argv[7]))
share = lambda s: s["responses"].get("429", 0) / max(1, s["requests"])
print(round(rep["confirmed"] / (t1 - t0)), f"{share(sw):.4f}", rep["confirmed"], round(int(py_out[1]) / float(py_out[0])), f"{share(py):.4f}")
PY
)

# (b) flaky
start_sandbox flaky
rm -f bench/data/sync-b.db
SYNCWARD_TOKEN=sandbox-token "$BIN" sync --mapping bench/data/sync-contacts.toml --source bench/data/sync-contacts.csv --crm-url "$URL" --db bench/data/sync-b.db --format json > bench/data/sync-b.json || true
B_STATS=$(stat)
curl -s "$URL/_sandbox/records/contacts" > bench/data/sync-b-records.json
kill $SB_PID
read -r B_LOST B_DUP B_RPB B_QUEUED < <(python3 - "$N" "$B_STATS" bench/data/sync-b-records.json bench/data/sync-b.json <<'PY'
import json, sys
n = int(sys.argv[1]); stats = json.loads(sys.argv[2]); recs = json.load(open(sys.argv[3])); rep = json.load(open(sys.argv[4]))
emails = [r["properties"]["email"] for r in recs]
dups = len(emails) - len(set(emails))
lost = n - len(set(emails)) - rep["queued"] - rep["not_sent"]
useful = max(1, rep["batches"])
print(lost, dups, f"{rep['requests'] / useful:.3f}", rep["queued"])
PY
)
echo "rate-limited: syncward $A_SW_RPS rec/s (429 share $A_SW_429), hubspot-api-client $A_PY_RPS rec/s (429 share $A_PY_429)"
echo "flaky: lost $B_LOST, duplicates $B_DUP, requests per batch $B_RPB, queued $B_QUEUED"
python3 bench/results.py sync <<MD
## sync against the sandbox (\`bench/sync.sh\`)

$(date -u +%Y-%m-%d); $N HubSpot contacts upserted by email, batches of 100.

**(a) \`rate-limited\`** (100 requests per rolling 10 s: at most 1,000 records per second):

| client | records per second | share of the 1,000/s ceiling | requests answered 429 | target |
|---|---|---|---|---|
| \`syncward sync\` (paced from the start, adapts to the rate-limit headers and Retry-After; includes preflight, the test record and its read-back) | $A_SW_RPS | $(python3 -c "print(f'{$A_SW_RPS/10:.1f}%')") | $(python3 -c "print(f'{$A_SW_429*100:.2f}%')") | ≥ 95%, ≤ 1% |
| official \`hubspot-api-client\` with its documented retry setting (urllib3 Retry on 429/5xx, honouring Retry-After) | $A_PY_RPS | $(python3 -c "print(f'{$A_PY_RPS/10:.1f}%')") | $(python3 -c "print(f'{$A_PY_429*100:.2f}%')") | |

**(b) \`flaky\`** (3% 5xx, 1% resets after the write committed, 2% one-second stalls):

| lost records | duplicates | requests per useful batch | records in the review queue | target |
|---|---|---|---|---|
| $B_LOST | $B_DUP | $B_RPB | $B_QUEUED | 0, 0, ≤ 1.1 |
MD
