#!/usr/bin/env bash
# Installs what the build and tests need on a fresh machine: the Rust
# toolchain named in rust-toolchain.toml (with rustfmt and clippy) and the
# crates in Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust from https://rustup.rs first" >&2
  exit 2
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install stable --profile minimal
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fetch --locked
