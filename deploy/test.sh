#!/usr/bin/env bash
# The test command: brings up PostgreSQL when none is configured (see pg.sh)
# and runs every test: unit tests, the integration tests in tests/ that start
# the real server on loopback (one fresh database per test), and the browser
# tests in tests/browser/ (headless Chromium; see browser-test.sh).
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
# End-to-end tests in headless Chromium (skipped when a filter was given).
if [ $# -eq 0 ]; then
  deploy/browser-test.sh
fi
