#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# The official HubSpot and Salesforce clients against the sandbox.
bash tests/contract/run.sh
