# Sourced by deploy/bench.sh and deploy/bench-ab.sh: what a benchmark run needs
# around the server, on the PostgreSQL server deploy/pg.sh finds or starts.
#
#   bench_db_create NAME INVOICES SCHEMA...
#                                   (re)creates NAME as a copy of the data set
#                                   of INVOICES invoices per company on the
#                                   schema files in order (building the set
#                                   first when it is not there yet); sets $url,
#                                   $bench_companies and $bench_load_seconds
#                                   (0 when the set was there already)
#   bench_db_drop                   drops it (for the caller's EXIT trap)
#   bench_sets_drop                 drops the data sets this run built, unless
#                                   BENCH_KEEP_SETS=1 (for the EXIT trap)
#   bench_companies INVOICES        how many companies the set has
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

# The data sets: 1,000 users always, and invoices per company from 250 to
# 1,000,000. 200 companies up to 5,000 invoices each, fewer above, so that no
# set holds more than a million invoices: a set loads in bounded time (80 s
# to 5 minutes for a million on 2 busy cores; BENCHMARKS.md), and the dashboard's
# cost is what the company's size changes. 250 -> 200 companies (50,000
# invoices), 10,000 -> 100, 100,000 -> 10, 1,000,000 -> 1.
bench_companies() {
  local n=$(( 1000000 / $1 ))
  [ "$n" -gt 200 ] && n=200
  [ "$n" -lt 1 ] && n=1
  echo "$n"
}

# A set is built once into a template database named after what it is made
# of (the schema files, data.sql, the sizes), and each run's database is a
# copy of it: the large sets take a minute to generate, a copy seconds.
bench_sets_built=()
bench_db_create() {
  bench_db=$1
  local invoices=$2
  shift 2
  bench_companies=$(bench_companies "$invoices")
  local hash set schema started strategy=""
  hash=$(cat "$@" deploy/bench/data.sql | sha256sum | cut -c1-10)
  set="ledgerbot_bench_set_${invoices}_${bench_companies}_$hash"
  bench_load_seconds=0
  if [ -z "$(psql -qAt "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$set'")" ]; then
    echo "bench: generating the data set of $invoices invoices per company ($bench_companies companies)" >&2
    # Built under another name and renamed when whole: a run stopped midway
    # leaves no half set behind to be taken for a whole one.
    local set_url
    set_url=$(fresh_db "$admin" "${set}_new")
    bench_sets_built+=("${set}_new" "$set")
    for schema in "$@"; do
      psql -q -v ON_ERROR_STOP=1 "$set_url" -f "$schema"
    done
    started=$(date +%s.%N)
    psql -q -v ON_ERROR_STOP=1 -v invoices="$invoices" -v companies="$bench_companies" \
      "$set_url" -f deploy/bench/data.sql >/dev/null
    bench_load_seconds=$(echo "$(date +%s.%N) - $started" | bc)
    psql -q -v ON_ERROR_STOP=1 "$admin" -c "ALTER DATABASE ${set}_new RENAME TO $set"
  fi
  # A file copy (one checkpoint) rather than PostgreSQL 15's default of
  # writing every block of a large set to the WAL.
  [ "$(psql -qAt "$admin" -c 'SHOW server_version_num')" -ge 150000 ] && strategy="STRATEGY = FILE_COPY"
  drop_db "$admin" "$bench_db"
  psql -q -v ON_ERROR_STOP=1 "$admin" -c "CREATE DATABASE $bench_db TEMPLATE $set $strategy" >/dev/null
  url="${admin%/*}/$bench_db"
}

bench_db_drop() {
  if [ -n "${bench_db:-}" ]; then
    drop_db "$admin" "$bench_db" 2>/dev/null || true
  fi
}

bench_sets_drop() {
  [ "${BENCH_KEEP_SETS:-0}" = 1 ] && return 0
  local set
  for set in "${bench_sets_built[@]}"; do
    drop_db "$admin" "$set" 2>/dev/null || true
  done
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
