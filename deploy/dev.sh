#!/usr/bin/env bash
# The run-it-locally command: brings up PostgreSQL when none is configured
# (see pg.sh; on a machine without it, installs Debian's postgresql),
# creates the dev database, builds ledgerbot (release) and starts
# `ledgerbot dev` on http://localhost:${PORT:-8080}, listening on 127.0.0.1
# only unless BIND_ADDR says otherwise. No Telegram token or secrets needed.
#
#   deploy/dev.sh                  # ledgerbot dev
#   deploy/dev.sh demo-data ...    # another subcommand, on the dev database
#
# Environment: PORT, BIND_ADDR and the rest of the README's configuration
# table; LEDGERBOT_DEV_DB, the database's name (default ledgerbot_dev; CI's
# smoke test uses a fresh one).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/pg.sh
admin="$DATABASE_URL"
db="${LEDGERBOT_DEV_DB:-ledgerbot_dev}"
export DATABASE_URL="${admin%/*}/$db"
if ! psql -qtA "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  psql -q "$admin" -c "CREATE DATABASE $db"
fi
export SQLX_OFFLINE=true
echo "dev.sh: building ledgerbot (release; the first build takes a few minutes)" >&2
# With arguments, runs that subcommand against the dev database instead
# (e.g. `deploy/dev.sh demo-data --email you@example.ro`).
exec cargo run --release --quiet -- "${@:-dev}"
