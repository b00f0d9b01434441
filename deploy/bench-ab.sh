#!/usr/bin/env bash
# Two builds (or two settings) of ledgerbot against each other, in alternating
# rounds on the benchmark's data set, with the CPU each update costs the
# server and PostgreSQL. For before/after figures (BENCHMARKS.md); not part
# of the test suite.
#
#   deploy/bench-ab.sh OLD_BINARY NEW_BINARY [OLD_SCHEMA]
#
# OLD_SCHEMA: the older build's schema.sql (e.g. `git show <commit>:schema.sql
# > /tmp/old.sql`), applied before this checkout's, so that each build finds
# the functions it calls (schema.sql only adds and replaces).
#
# Both servers run at once on their own ports against one fresh database per
# data set (deploy/bench/common.sh); each round drives OLD for AB_SECONDS,
# then NEW as long, with the `webhook-load` generator of deploy/bench.sh, for
# each load: `dashboard` (/dashboard only) and `mixed` (10 % /add, the rest
# /dashboard). The machine's speed drifts (see BENCHMARKS.md): compare the
# two lines of a round, not rounds. Each server's idle RSS (before the
# rounds) and peak (VmHWM, after them) close each set.
#
# Environment: AB_SETS (invoices per company, any of 250 10000 100000
# 1000000; default 250), AB_LOADS (default "dashboard mixed"), AB_ROUNDS
# (default 3), AB_SECONDS (default 5), AB_CONCURRENCY (default "16 64"),
# BENCH_KEEP_SETS (1: keep the generated sets, as deploy/bench.sh),
# AB_OLD_ENV / AB_NEW_ENV (extra VAR=value words for each
# server, e.g. "DATABASE_POOL_SIZE=8": the same binary twice compares settings),
# AB_OLD_PGBOUNCER / AB_NEW_PGBOUNCER (1: that server reaches the database
# through a transaction-mode PgBouncer, deploy/pgbouncer.sh, with
# DATABASE_POOLER=transaction).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
old_bin=$(realpath "$1") new_bin=$(realpath "$2") old_schema=${3:-}
rounds=${AB_ROUNDS:-3} seconds=${AB_SECONDS:-5} concurrencies=${AB_CONCURRENCY:-16 64}
sets=${AB_SETS:-250} loads=${AB_LOADS:-dashboard mixed}
read -r -a old_env <<<"${AB_OLD_ENV:-}"
read -r -a new_env <<<"${AB_NEW_ENV:-}"

source deploy/bench/common.sh
pids=()
stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  pids=()
}
cleanup() {
  stop_servers
  bench_pgbouncer_stop
  bench_db_drop
  bench_sets_drop
}
trap cleanup EXIT

export SQLX_OFFLINE=true
cargo build --release --quiet -p ledgerbot-bench --bin webhook-load
loadgen="$(realpath -m "${CARGO_TARGET_DIR:-target}")/release/webhook-load"
export "${bench_server_env[@]}"  # the load generator reads the secret too
start() { # port binary extra-env...
  local port=$1 bin=$2; shift 2
  env PORT="$port" PUBLIC_URL="http://127.0.0.1:$port" "$@" "$bin" serve >/dev/null 2>&1 &
  pids+=("$!")
  wait_healthy "127.0.0.1:$port" 5 "${pids[-1]}"
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # utime + stime
# PostgreSQL's CPU: its postmaster's processes when its data directory can be
# read here (other servers on the machine left out), else every postgres
# process. A backend may end between the listing and the reading: not an error.
postmaster=$(head -n 1 "$(psql -qAt "$admin" -c 'SHOW data_directory')/postmaster.pid" 2>/dev/null) || postmaster=""
postgres_ticks() {
  local procs
  if [ -n "$postmaster" ]; then procs="$postmaster $(pgrep -P "$postmaster")"; else procs=$(pgrep -x postgres); fi
  for p in $procs; do ticks "$p" 2>/dev/null || true; done | awk '{ s += $1 } END { print s + 0 }'
}
rss() { awk -v k="$2:" '$1 == k { print int($2 / 1024 + 0.5) }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }  # a figure of the last round
# Ticks to µs per update; the warm-up second is in the ticks but not in the count.
per_update() { echo "scale=0; ($1) * 1000000 / $hz * $seconds / ($seconds + 1) / $(get updates)" | bc; }
next_id=1
pgbouncer_started=0
echo "build  invoices load       c  updates/s  p50 ms  p99 ms  errors  /add/s /add p99  server µs/update  postgres µs/update"
for set in $sets; do
  bench_db_create "ledgerbot_ab_$$" "$set" ${old_schema:+"$old_schema"} schema.sql
  export DATABASE_URL="$url"
  set_old_env=("${old_env[@]}") set_new_env=("${new_env[@]}")
  if [ "${AB_OLD_PGBOUNCER:-0}" = 1 ] || [ "${AB_NEW_PGBOUNCER:-0}" = 1 ]; then
    [ "$pgbouncer_started" = 0 ] && bench_pgbouncer && pgbouncer_started=1
    [ "${AB_OLD_PGBOUNCER:-0}" = 1 ] && set_old_env+=("${pooled_env[@]}")
    [ "${AB_NEW_PGBOUNCER:-0}" = 1 ] && set_new_env+=("${pooled_env[@]}")
  fi
  old_port=$(free_port); start "$old_port" "$old_bin" "${set_old_env[@]}"; old_pid=${pids[-1]}
  new_port=$(free_port); start "$new_port" "$new_bin" "${set_new_env[@]}"; new_pid=${pids[-1]}
  sleep 2
  idle="idle RSS old $(rss "$old_pid" VmRSS) MB, new $(rss "$new_pid" VmRSS) MB"
  for load in $loads; do
    percent=0; [ "$load" = mixed ] && percent=10
    for c in $concurrencies; do
      for _ in $(seq 1 "$rounds"); do
        for side in old new; do
          port=$old_port pid=$old_pid; [ "$side" = new ] && port=$new_port pid=$new_pid
          s0=$(ticks "$pid") p0=$(postgres_ticks)
          line=$("$loadgen" load --addr "127.0.0.1:$port" --concurrency "$c" --warmup 1 \
            --duration "$seconds" --adds-percent "$percent" --first-update-id "$next_id")
          s1=$(ticks "$pid") p1=$(postgres_ticks)
          next_id=$(( $(get next_update_id) + 1 ))
          adds="-" add_p99="-"
          [ "$load" = mixed ] && adds=$(get adds_per_s) add_p99=$(get add_p99_ms)
          printf '%-6s %8s %-9s %3s %10s %7s %7s %7s %7s %8s %17s %19s\n' "$side" "$set" "$load" "$c" \
            "$(get updates_per_s)" "$(get p50_ms)" "$(get p99_ms)" "$(get errors)" "$adds" "$add_p99" \
            "$(per_update "$s1 - $s0")" "$(per_update "$p1 - $p0")"
        done
      done
    done
  done
  echo "$set invoices: $idle; peak RSS (VmHWM) old $(rss "$old_pid" VmHWM) MB, new $(rss "$new_pid" VmHWM) MB"
  stop_servers
  bench_db_drop
done
