#!/usr/bin/env bash
# The load test: two `ledgerbot serve` processes (release build) on loopback,
# sharing one fresh database, take a mix of updates at high concurrency
# (commands, button presses, /add, deliberate duplicates sent to the other
# instance). Checks every update answered, no 5xx, exactly one cash entry per
# distinct /add, memory flat. Bounded: a fixed number of requests and a
# 10-minute deadline in the driver (examples/loadtest.rs). Not part of CI.
#
#   deploy/loadtest.sh [updates (20000)] [concurrency (128)]
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/pg.sh
export SQLX_OFFLINE=true
cargo build --release --quiet --bin ledgerbot --example loadtest
target="${CARGO_TARGET_DIR:-target}/release"

db="ledgerbot_load_$(pwd | sha256sum | cut -c1-8)"
admin="$DATABASE_URL"
url="${admin%/*}/$db"
export PGOPTIONS="-c client_min_messages=warning"
psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

timeout 660 "$target/examples/loadtest" "$target/ledgerbot" "$url" "${1:-20000}" "${2:-128}"
