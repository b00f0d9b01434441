#!/usr/bin/env bash
# The test command: brings up PostgreSQL when none is configured (see pg.sh)
# and runs every test: unit tests, the integration tests in tests/ that start
# the real server on loopback (one fresh database per test), the integration
# tests a second time with the app behind PgBouncer in transaction mode (see
# pgbouncer.sh; LEDGERBOT_TEST_PGBOUNCER=0 skips that pass), and the browser
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
# The same integration tests, the app reaching PostgreSQL through a
# transaction-mode PgBouncer as on Neon, Supabase or fly.io's Managed Postgres
# (tests/api/helpers.rs, `app_pool`); the build above is reused as it is.
if [ "${LEDGERBOT_TEST_PGBOUNCER:-1}" != 0 ]; then
  source deploy/pgbouncer.sh
  trap ledgerbot_pgbouncer_stop EXIT
  echo "test.sh: the integration tests again, through PgBouncer in transaction mode" >&2
  cargo test --test api "$@"
fi
# End-to-end tests in headless Chromium (skipped when a filter was given).
if [ $# -eq 0 ]; then
  deploy/browser-test.sh
fi
