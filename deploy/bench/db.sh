# Sourced by deploy/bench.sh and deploy/bench-ab.sh: the database of one
# benchmark run, on the server deploy/pg.sh finds or starts.
#
#   bench_db_create NAME SCHEMA...  (re)creates NAME with the schema files in
#                                   order, then the data set; sets $url and
#                                   $bench_load_seconds
#   bench_db_drop                   drops it (for the caller's EXIT trap)

source deploy/pg.sh
admin="$DATABASE_URL"
export PGOPTIONS="-c client_min_messages=warning"

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
