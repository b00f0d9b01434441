# Sourced by deploy/bench.sh and deploy/bench-ab.sh: what a benchmark run needs
# around the server, on the PostgreSQL server deploy/pg.sh finds or starts.
#
#   bench_db_create NAME SCHEMA...  (re)creates NAME with the schema files in
#                                   order, then the data set; sets $url and
#                                   $bench_load_seconds
#   bench_db_drop                   drops it (for the caller's EXIT trap)
#   bench_server_env                the server's settings but the database
#                                   and the port (VAR=value words)
#   bench_pgbouncer                 starts a transaction-mode PgBouncer in
#                                   front of the server (deploy/pgbouncer.sh)
#                                   and sets $pooled_env: DATABASE_URL (the
#                                   database of $url through it) and
#                                   DATABASE_POOLER=transaction (VAR=value words)
#   bench_pgbouncer_stop            stops it, if started (for the EXIT trap)
#
# and deploy/lib.sh's free_port, wait_healthy, fresh_db and drop_db.

source deploy/lib.sh
source deploy/pg.sh
admin="$DATABASE_URL"
export PGOPTIONS="-c client_min_messages=warning"

# The Bot API points at a dead local address: a /dashboard reply goes back in
# the webhook's answer and never calls it.
bench_server_env=(TELEGRAM_BOT_TOKEN=1:bench-token TELEGRAM_WEBHOOK_SECRET=bench-webhook-secret
  TELEGRAM_API_URL=http://127.0.0.1:9 JWT_SECRET=bench-jwt-secret-bench-jwt-secret-bench
  LOG_FORMAT=json)

bench_db_create() {
  bench_db=$1
  shift
  url=$(fresh_db "$admin" "$bench_db")
  local schema started
  for schema in "$@"; do
    psql -q -v ON_ERROR_STOP=1 "$url" -f "$schema"
  done
  started=$(date +%s.%N)
  psql -q -v ON_ERROR_STOP=1 "$url" -f deploy/bench/data.sql >/dev/null
  bench_load_seconds=$(echo "$(date +%s.%N) - $started" | bc)
}

bench_db_drop() {
  if [ -n "${bench_db:-}" ]; then
    drop_db "$admin" "$bench_db" 2>/dev/null || true
  fi
}

bench_pgbouncer() {
  # PGOPTIONS becomes the `options` start-up parameter (libpq's and sqlx's),
  # which PgBouncer refuses; from here on psql may print its notices.
  unset PGOPTIONS
  source deploy/pgbouncer.sh
  pooled_env=("DATABASE_URL=$(echo "$url" | sed -E "s#@[^/]+/#@$LEDGERBOT_PGBOUNCER/#")"
    DATABASE_POOLER=transaction)
}

bench_pgbouncer_stop() {
  if declare -F ledgerbot_pgbouncer_stop >/dev/null; then ledgerbot_pgbouncer_stop; fi
}
