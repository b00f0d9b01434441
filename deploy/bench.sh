#!/usr/bin/env bash
# The benchmark (issue 6): ledgerbot's webhook against the database's own
# ceiling, on this machine, in one run. Not part of the test suite.
#
#   deploy/bench.sh
#
# 1. A fresh database (on the server deploy/pg.sh finds or starts) with
#    schema.sql and the data set of deploy/bench/data.sql.
# 2. Builds the release binary (SQLX_OFFLINE=true) and the load generator
#    (benches/webhook_load.rs, the `webhook-load` binary of benches/Cargo.toml).
# 3. Cold start: exec of `ledgerbot serve` to the webhook's first 200, 5 times.
# 4. Starts `ledgerbot serve` on a free port (the Bot API pointed at a dead
#    local address: a /dashboard reply goes back in the webhook's answer and
#    never calls it), reads its idle RSS, then at each concurrency alternates
#    rounds of /dashboard updates at it and of pgbench at the same
#    concurrency running deploy/bench/dashboard.sql (the same SQL, statement
#    for statement).
# 5. Prints updates/s, p50, p99, errors, pgbench's TPS and the ratio, cold
#    start, idle and peak RSS. Drops its database.
#
# The machine's speed drifts (other virtual machines on its host), so the two
# sides are not measured one after the other but in alternating rounds:
# ledgerbot for BENCH_DURATION / BENCH_ROUNDS seconds, pgbench as long, and
# again; the ratio compares means over the same stretch of time.
#
# Environment: BENCH_WARMUP (seconds, default 5), BENCH_DURATION (measured
# seconds per side and concurrency, default 20), BENCH_ROUNDS (default 4),
# BENCH_BIN and BENCH_SCRIPT (another ledgerbot binary to measure, e.g. an
# older build, and the pgbench script that mirrors it),
# BENCH_CONCURRENCY (default "16 64"), BENCH_ENV (extra VAR=value words for
# the server, e.g. "MALLOC_ARENA_MAX=2"), BENCH_PGBOUNCER (1: the server
# reaches the database through a transaction-mode PgBouncer, deploy/pgbouncer.sh,
# with DATABASE_POOLER=transaction; pgbench stays direct, so the ratio then
# includes the pooler's cost).
set -euo pipefail
cd "$(dirname "$0")/.."
warmup=${BENCH_WARMUP:-5}
duration=${BENCH_DURATION:-20}
rounds=${BENCH_ROUNDS:-4}
concurrencies=${BENCH_CONCURRENCY:-16 64}
read -r -a extra_env <<<"${BENCH_ENV:-}"

source deploy/bench/common.sh
command -v pgbench >/dev/null 2>&1 || {
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$bin/pgbench" ] && export PATH="$bin:$PATH"
}
command -v pgbench >/dev/null 2>&1 || {
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-contrib >/dev/null
}

server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  bench_pgbouncer_stop
  bench_db_drop
}
trap cleanup EXIT

echo "bench: loading the data set" >&2
bench_db_create "ledgerbot_bench_$$" schema.sql

echo "bench: building (release)" >&2
export SQLX_OFFLINE=true
cargo build --release --quiet --bin ledgerbot
# Apart: built together, the product's dependencies would get the union of
# both crates' features, and the measured binary would not be the one we ship.
cargo build --release --quiet -p ledgerbot-bench --bin webhook-load
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
bin="${BENCH_BIN:-$target_dir/release/ledgerbot}"
loadgen="$target_dir/release/webhook-load"

port=$(free_port)
addr="127.0.0.1:$port"
export DATABASE_URL="$url" PORT="$port" PUBLIC_URL="http://$addr" "${bench_server_env[@]}"
unset RUST_LOG
if [ "${BENCH_PGBOUNCER:-0}" = 1 ]; then
  bench_pgbouncer
  export "${pooled_env[@]}"
fi

cold_start() { # first update id, extra server environment...
  local first=$1 out; shift
  out=$(env "${extra_env[@]}" "$@" "$loadgen" cold-start --addr "$addr" --bin "$bin" --runs 5 --first-update-id "$first")
  echo "$out" >&2
  echo "$out" | sed -n 's/^cold_start_median_ms=//p'
}
echo "bench: cold start" >&2
cold_ms=$(cold_start 1)
# The same without TLS to PostgreSQL: the first update opens the pool's first
# connection, and on this machine the TLS handshake is most of the cold start.
echo "bench: cold start, sslmode=disable" >&2
sep="?"; case "$DATABASE_URL" in *\?*) sep="&" ;; esac
cold_plain_ms=$(cold_start 11 DATABASE_URL="$DATABASE_URL${sep}sslmode=disable")

log="$target_dir/bench-server.log"
env "${extra_env[@]}" "$bin" serve >"$log" 2>&1 &
server=$!
wait_healthy "$addr" 5 "$server"

# One update by hand: the reply must be the dashboard (user 1 reads English).
reply=$(curl -fsS "http://$addr/telegram/webhook" -H "X-Telegram-Bot-Api-Secret-Token: bench-webhook-secret" \
  -H 'Content-Type: application/json' -d '{"update_id": 100, "message": {"message_id": 1,
  "from": {"id": 7000000001, "is_bot": false, "first_name": "Bench"},
  "chat": {"id": 7000000001, "type": "private"}, "date": 1700000000, "text": "/dashboard",
  "entities": [{"offset": 0, "length": 10, "type": "bot_command"}]}}')
case "$reply" in
  *Treasury*) ;;
  *) echo "bench: /dashboard did not answer with the dashboard: $reply" >&2; exit 1 ;;
esac

rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024 + 0.5) }' "/proc/$server/status"; }
sleep 2
idle_rss=$(rss VmRSS)

read -r today month_start < <(psql -qAt -F ' ' "$url" -c \
  "SELECT (now() AT TIME ZONE 'Europe/Bucharest')::date, date_trunc('month', (now() AT TIME ZONE 'Europe/Bucharest')::date)::date")
claimed() { psql -qAt "$url" -c "SELECT count(*) FROM telegram_updates"; }
pgbench_run() { # clients seconds: prints "transactions tps"
  pgbench -n -M prepared -c "$1" -j 2 -T "$2" -f "${BENCH_SCRIPT:-deploy/bench/dashboard.sql}" \
    -D today="$today" -D month_start="$month_start" "$url" 2>&1 |
    sed -n -e 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
      -e 's/^tps = \([0-9.]*\) .*/\1/p' | paste -sd ' '
}

summary=()
first_id=1000000
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
slice=$((duration / rounds))
for c in $concurrencies; do
  echo "bench: concurrency $c: warm-up ${warmup} s each, then ${rounds} rounds of ledgerbot ${slice} s / pgbench ${slice} s" >&2
  pgbench_run "$c" "$warmup" >/dev/null
  ups_all=() tps_all=() p50_all=() p99_all=() errors=0
  for round in $(seq 1 "$rounds"); do
    # Only the first slice needs the full warm-up; later ones just reconnect.
    slice_warmup=1; [ "$round" -eq 1 ] && slice_warmup=$warmup
    line=$("$loadgen" load --addr "$addr" --concurrency "$c" --warmup "$slice_warmup" \
      --duration "$slice" --first-update-id "$first_id")
    echo "$line" >&2
    get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
    first_id=$(( $(get next_update_id) + 1 ))
    ups_all+=("$(get updates_per_s)") p50_all+=("$(get p50_ms)") p99_all+=("$(get p99_ms)")
    errors=$((errors + $(get errors)))

    before=$(claimed)
    read -r transactions tps < <(pgbench_run "$c" "$slice")
    after=$(claimed)
    # A read claims nothing, in pgbench's script as in the webhook.
    if [ "$after" -ne "$before" ]; then
      echo "bench: pgbench's $transactions read transactions claimed $((after - before)) ids" >&2
      exit 1
    fi
    echo "bench: pgbench tps=$tps ($transactions transactions, nothing claimed)" >&2
    tps_all+=("$tps")
  done
  rss_load=$(rss VmRSS)
  ups=$(printf '%s\n' "${ups_all[@]}" | mean)
  tps=$(printf '%s\n' "${tps_all[@]}" | mean)
  p50=$(printf '%s\n' "${p50_all[@]}" | median)
  p99=$(printf '%s\n' "${p99_all[@]}" | median)
  p99_max=$(printf '%s\n' "${p99_all[@]}" | sort -g | tail -n 1)
  ratio=$(echo "scale=2; $ups / $tps" | bc -l)
  summary+=("$(printf '%-11s %10s %8s %8s %8s %6s %12s %7s %7s' "$c" "$ups" "$p50" "$p99" "$p99_max" "$errors" "$tps" "$ratio" "$rss_load")")
done
peak_rss=$(rss VmHWM)

cat <<EOF

ledgerbot benchmark — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), PostgreSQL $(psql -qAt "$url" -c 'SHOW server_version')
data set: 1000 users, 200 companies, 50000 invoices, 600 treasury accounts, 2000 cash entries (loaded in ${bench_load_seconds} s)
warm-up ${warmup} s, then ${rounds} alternating rounds of ${slice} s (ledgerbot, pgbench) per concurrency; updates/s and tps: mean of the rounds; p50, p99: median of the rounds, p99 max: the worst round; server env: LOG_FORMAT=json ${BENCH_ENV:-}

concurrency  updates/s  p50 ms  p99 ms  p99 max errors  pgbench tps   ratio  RSS MB
$(printf '%s\n' "${summary[@]}")

cold start (exec to first 200, median of 5): ${cold_ms} ms (${cold_plain_ms} ms with sslmode=disable)
idle RSS: ${idle_rss} MB    peak RSS (VmHWM): ${peak_rss} MB
EOF
