#!/usr/bin/env bash
# The run-it-locally command: brings up PostgreSQL when none is configured
# (see pg.sh), creates the ledgerbot_dev database, and starts `ledgerbot dev`
# on http://localhost:${PORT:-8080}. No Telegram token or secrets needed.
#
#   deploy/dev.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/pg.sh
admin="$DATABASE_URL"
export DATABASE_URL="${admin%/*}/ledgerbot_dev"
if ! psql -qtA "$admin" -c "SELECT 1 FROM pg_database WHERE datname = 'ledgerbot_dev'" | grep -q 1; then
  psql -q "$admin" -c "CREATE DATABASE ledgerbot_dev"
fi
export SQLX_OFFLINE=true
# With arguments, runs that subcommand against the dev database instead
# (e.g. `deploy/dev.sh demo-data --email you@example.ro`).
exec cargo run --release --quiet -- "${@:-dev}"
