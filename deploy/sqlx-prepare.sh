#!/usr/bin/env bash
# Regenerates .sqlx/, the committed description of every checked query, so that
# builds (CI, Docker, fly) compile with SQLX_OFFLINE=true and no database.
# With --check, fails when .sqlx/ is out of date with the code or schema.sql.
#
# Equivalent to `cargo sqlx prepare -- --all-targets` without installing
# sqlx-cli: the query macros write their data to SQLX_OFFLINE_DIR when they
# run against a live database.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
source deploy/pg.sh

db="ledgerbot_sqlx_$(pwd | sha256sum | cut -c1-8)"
admin="$DATABASE_URL"
url=$(fresh_db "$admin" "$db")
PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$url" -f schema.sql >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"; drop_db "$admin" "$db" 2>/dev/null || true' EXIT
# Every query must be expanded again: touching the sources rebuilds this crate
# (only), without cleaning artifacts other checkouts may share.
find src handlers tests -name '*.rs' -exec touch {} +
DATABASE_URL="$url" SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" cargo build --all-targets --quiet

if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$out" .sqlx >/dev/null 2>&1; then
    echo "sqlx-prepare: .sqlx/ is out of date; run deploy/sqlx-prepare.sh and commit it" >&2
    diff -r "$out" .sqlx >&2 || true
    exit 1
  fi
  echo "sqlx-prepare: .sqlx/ is up to date"
else
  rm -rf .sqlx && mkdir .sqlx && cp "$out"/*.json .sqlx/
  echo "sqlx-prepare: wrote $(ls .sqlx | wc -l) queries to .sqlx/"
fi
