#!/usr/bin/env bash
# The load test: two `ledgerbot serve` processes (release build) on loopback,
# sharing one fresh database, take a mix of updates at high concurrency
# (commands, button presses, /add, deliberate duplicates sent to the other
# instance). Checks every update answered, no 5xx, exactly one cash entry per
# distinct /add, memory flat. Bounded: a fixed number of requests and a
# 10-minute deadline in the driver (benches/loadtest.rs, the `loadtest`
# binary of benches/Cargo.toml). Not part of CI.
#
#   deploy/loadtest.sh [updates (20000)] [concurrency (128)]
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
source deploy/pg.sh
export SQLX_OFFLINE=true
# Apart, so that the instances under test are the product as it ships (built
# together, its dependencies would get the union of both crates' features).
cargo build --release --quiet --bin ledgerbot
cargo build --release --quiet -p ledgerbot-bench --bin loadtest
target="${CARGO_TARGET_DIR:-target}/release"

db="ledgerbot_load_$(pwd | sha256sum | cut -c1-8)"
admin="$DATABASE_URL"
url=$(fresh_db "$admin" "$db")
trap 'drop_db "$admin" "$db" 2>/dev/null || true' EXIT

timeout 660 "$target/loadtest" "$target/ledgerbot" "$url" "${1:-20000}" "${2:-128}"
