# Sourced by deploy/bench.sh and deploy/bench-ab.sh: what a benchmark run needs
# around the server, on the PostgreSQL server deploy/pg.sh finds or starts.
#
#   bench_db_create NAME SCHEMA...  (re)creates NAME with the schema files in
#                                   order, then the data set; sets $url and
#                                   $bench_load_seconds
#   bench_db_drop                   drops it (for the caller's EXIT trap)
#   bench_free_port                 prints a free port on 127.0.0.1
#   bench_wait_healthy ADDR         waits up to 5 s for the server's /healthz
#   bench_server_env                the server's settings but the database
#                                   and the port (VAR=value words)
#   bench_pgbouncer                 starts a transaction-mode PgBouncer in
#                                   front of the server (deploy/pgbouncer.sh)
#                                   and sets $pooled_env: DATABASE_URL (the
#                                   database of $url through it) and
#                                   DATABASE_POOLER=transaction (VAR=value words)
#   bench_pgbouncer_stop            stops it, if started (for the EXIT trap)

source deploy/pg.sh
admin="$DATABASE_URL"
export PGOPTIONS="-c client_min_messages=warning"

# The Bot API points at a dead local address: a /dashboard reply goes back in
# the webhook's answer and never calls it.
bench_server_env=(TELEGRAM_BOT_TOKEN=1:bench-token TELEGRAM_WEBHOOK_SECRET=bench-secret
  TELEGRAM_API_URL=http://127.0.0.1:9 JWT_SECRET=bench-jwt-secret-bench-jwt-secret-bench
  LOG_FORMAT=json)

bench_db_create() {
  bench_db=$1
  shift
  url="${admin%/*}/$bench_db"
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $bench_db" -c "CREATE DATABASE $bench_db"
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
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $bench_db" >/dev/null 2>&1 || true
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

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_wait_healthy() {
  for _ in $(seq 1 100); do
    curl -fsS "http://$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "bench: the server on $1 did not start" >&2
  return 1
}
