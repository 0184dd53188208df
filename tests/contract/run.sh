#!/usr/bin/env bash
# Runs the official clients against the sandbox: hubspot-api-client (PyPI)
# and jsforce (npm). Installs both into target/contract (not the system).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=target/contract
mkdir -p "$DIR"
if [ ! -d "$DIR/py/hubspot" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$DIR/py" "hubspot-api-client==12.*" > "$DIR/pip.log" 2>&1 \
    || { cat "$DIR/pip.log"; echo "could not install hubspot-api-client"; exit 1; }
fi
if [ ! -d "$DIR/node_modules/jsforce" ]; then
  (cd "$DIR" && npm install --silent --no-audit --no-fund --prefix . jsforce@3 > npm.log 2>&1) \
    || { cat "$DIR/npm.log"; echo "could not install jsforce"; exit 1; }
fi
cargo build -q -p syncward
target/debug/syncward sandbox --addr 127.0.0.1:0 > "$DIR/sandbox.out" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  URL=$(sed -n 's/^sandbox listening on //p' "$DIR/sandbox.out")
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "${URL:-}" ] || { echo "the sandbox did not start"; exit 1; }
PYTHONPATH="$DIR/py" python3 tests/contract/hubspot_client.py "$URL"
NODE_PATH="$DIR/node_modules" node tests/contract/jsforce_client.js "$URL"
