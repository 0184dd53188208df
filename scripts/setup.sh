#!/usr/bin/env bash
# Installs what the build and tests need on a fresh machine: the Rust
# toolchain named in rust-toolchain.toml (with rustfmt and clippy), the
# crates in Cargo.lock, PostgreSQL's server programs and openssl (the tests
# start a throwaway server of their own, with a certificate they make, to
# test the shared journal; nothing is started or left running here).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust from https://rustup.rs first" >&2
  exit 2
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install stable --profile minimal
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fetch --locked

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
# openssl makes the certificates of the TLS test.
if ! have_postgres || ! command -v openssl >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing PostgreSQL's server programs and openssl (Debian packages) for the tests"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql openssl > /dev/null
  # Debian starts a cluster on install where it can; the tests do not use it.
fi
have_postgres || { echo "PostgreSQL's initdb and postgres are needed by the tests" >&2; exit 2; }
