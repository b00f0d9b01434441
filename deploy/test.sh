#!/usr/bin/env bash
# The test command: brings up PostgreSQL when none is configured (see pg.sh)
# and runs every test: unit tests, and the integration tests in tests/ that
# start the real server on loopback, one fresh database per test.
#
#   deploy/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/pg.sh
# Queries are checked against the committed .sqlx/, never a live database.
export SQLX_OFFLINE=true
# Each test's pool is small; this many tests at once stay far below max_connections.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-8}"
cargo test --all-targets "$@"
