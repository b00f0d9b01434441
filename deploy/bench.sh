#!/usr/bin/env bash
# The benchmark (issues 6 and 18): ledgerbot's webhook against the database's
# own ceiling, on this machine, in one run. Not part of the test suite.
#
#   deploy/bench.sh
#   BENCH_SETS="250 10000 100000 1000000" deploy/bench.sh   # every data set
#
# 1. Builds the release binary (SQLX_OFFLINE=true) and the load generator
#    (benches/webhook_load.rs, the `webhook-load` binary of benches/Cargo.toml).
# 2. For each data set (invoices per company, deploy/bench/data.sql): a fresh
#    database (on the server deploy/pg.sh finds or starts) copied from the
#    set, which is generated on schema.sql the first time (common.sh).
# 3. On the first set, cold start: exec of `ledgerbot serve` to the
#    webhook's first 200, 5 times.
# 4. Starts `ledgerbot serve` on a free port (the Bot API pointed at a dead
#    local address: a reply goes back in the webhook's answer and never calls
#    it), checks one /dashboard and one /add by hand, reads its idle RSS, then
#    for each load and concurrency alternates rounds of updates at it and of
#    pgbench at the same concurrency running the same SQL, statement for
#    statement: the `dashboard` load is /dashboard only
#    (deploy/bench/dashboard.sql); the `mixed` load is 90 % /dashboard and
#    10 % /add (BENCH_ADDS_PERCENT), and pgbench runs dashboard.sql and
#    deploy/bench/add.sql weighted 9:1. Every round checks that each /add
#    answered (webhook) or committed (pgbench) claimed one update id and
#    recorded one cash entry, and that no read claimed anything (pgbench may
#    leave up to one commit per client uncounted when its time runs out:
#    `check_written`).
# 5. Prints, per set, load and concurrency, updates/s, p50, p99, errors,
#    pgbench's TPS and the ratio, and for the mixed load the /add figures
#    apart; cold start, idle and peak RSS, and whether writes were durable
#    (fsync and synchronous_commit as the server has them). Drops its
#    database, and the sets it generated unless BENCH_KEEP_SETS=1.
#
# The machine's speed drifts (other virtual machines on its host), so the two
# sides are not measured one after the other but in alternating rounds:
# ledgerbot for BENCH_DURATION / BENCH_ROUNDS seconds, pgbench as long, and
# again; the ratio compares means over the same stretch of time.
#
# Environment: BENCH_SETS (invoices per company, any of 250 10000 100000
# 1000000; default 250), BENCH_LOADS (default "dashboard mixed"),
# BENCH_ADDS_PERCENT (the mixed load's share of /add, default 10),
# BENCH_WARMUP (seconds, default 5; 0 skips it), BENCH_DURATION (measured
# seconds per side, load and concurrency, default 20), BENCH_ROUNDS (default
# 4), BENCH_CONCURRENCY (default "16 64"), BENCH_KEEP_SETS (1: keep the
# generated sets for the next run), BENCH_BIN, BENCH_SCRIPT and
# BENCH_ADD_SCRIPT (another ledgerbot binary to measure, e.g. an older build,
# and the pgbench scripts that mirror it), BENCH_ENV (extra VAR=value words
# for the server, e.g. "MALLOC_ARENA_MAX=2"), BENCH_PGBOUNCER (1: the server
# reaches the database through a transaction-mode PgBouncer,
# deploy/pgbouncer.sh, with DATABASE_POOLER=transaction; pgbench stays
# direct, so the ratio then includes the pooler's cost).
#
# A smoke run (CI, deploy/test.sh): BENCH_WARMUP=0 BENCH_DURATION=1
# BENCH_ROUNDS=1 BENCH_CONCURRENCY=4 deploy/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
warmup=${BENCH_WARMUP:-5}
duration=${BENCH_DURATION:-20}
rounds=${BENCH_ROUNDS:-4}
concurrencies=${BENCH_CONCURRENCY:-16 64}
sets=${BENCH_SETS:-250}
loads=${BENCH_LOADS:-dashboard mixed}
adds_percent=${BENCH_ADDS_PERCENT:-10}
read -r -a extra_env <<<"${BENCH_ENV:-}"
for set in $sets; do
  case "$set" in 250 | 10000 | 100000 | 1000000) ;;
    *) echo "bench: BENCH_SETS: $set is not one of 250 10000 100000 1000000" >&2; exit 2 ;;
  esac
done
for load in $loads; do
  case "$load" in dashboard | mixed) ;;
    *) echo "bench: BENCH_LOADS: $load is neither dashboard nor mixed" >&2; exit 2 ;;
  esac
done
case "$adds_percent" in
  [1-9] | [1-9][0-9]) ;;
  *) echo "bench: BENCH_ADDS_PERCENT must be 1 to 99" >&2; exit 2 ;;
esac
if [ "$duration" -lt "$rounds" ]; then
  echo "bench: BENCH_DURATION ($duration) must be at least BENCH_ROUNDS ($rounds)" >&2; exit 2
fi

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
  bench_sets_drop
}
trap cleanup EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "bench: building (release)" >&2
export SQLX_OFFLINE=true
cargo build --release --quiet --bin ledgerbot
# Apart: built together, the product's dependencies would get the union of
# both crates' features, and the measured binary would not be the one we ship.
cargo build --release --quiet -p ledgerbot-bench --bin webhook-load
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
bin="${BENCH_BIN:-$target_dir/release/ledgerbot}"
loadgen="$target_dir/release/webhook-load"
dashboard_sql=${BENCH_SCRIPT:-deploy/bench/dashboard.sql}
add_sql=${BENCH_ADD_SCRIPT:-deploy/bench/add.sql}

# Durable writes: each /add's commit waits for its WAL on disk.
fsync=$(psql -qAt "$admin" -c 'SHOW fsync')
sync_commit=$(psql -qAt "$admin" -c 'SHOW synchronous_commit')
durable="every write durable (fsync=$fsync, synchronous_commit=$sync_commit)"
if [ "$fsync" != on ] || [ "$sync_commit" != on ]; then
  durable="WRITES NOT DURABLE on this server (fsync=$fsync, synchronous_commit=$sync_commit): /add figures flatter"
  echo "bench: $durable" >&2
fi

port=$(free_port)
addr="127.0.0.1:$port"
export PORT="$port" PUBLIC_URL="http://$addr" "${bench_server_env[@]}"
unset RUST_LOG

cold_start() { # first update id, extra server environment...
  local first=$1 out; shift
  out=$(env "${extra_env[@]}" "$@" "$loadgen" cold-start --addr "$addr" --bin "$bin" --runs 5 --first-update-id "$first")
  echo "$out" >&2
  echo "$out" | sed -n 's/^cold_start_median_ms=//p'
}
webhook() { # update id, command text: prints the answer's body
  local command=${2%% *}
  curl -fsS "http://$addr/telegram/webhook" -H "X-Telegram-Bot-Api-Secret-Token: bench-webhook-secret" \
    -H 'Content-Type: application/json' -d '{"update_id": '"$1"', "message": {"message_id": 1,
    "from": {"id": 7000000001, "is_bot": false, "first_name": "Bench"},
    "chat": {"id": 7000000001, "type": "private"}, "date": 1700000000, "text": "'"$2"'",
    "entities": [{"offset": 0, "length": '"${#command}"', "type": "bot_command"}]}}'
}
rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024 + 0.5) }' "/proc/$server/status"; }
# Claimed update ids and cash entries: what the writes leave, and reads must not.
written() {
  psql -qAt -F ' ' "$url" -c "SELECT (SELECT count(*) FROM telegram_updates), (SELECT count(*) FROM cash_entries)"
}
# Unanswered commits allowed (the 5th argument, 0 by default): pgbench's -T
# stops its clients where they are, so a COMMIT already sent when the time
# runs out commits without pgbench counting it (seen once in 3,080: one more
# claim and entry than it reported); at most one per client. Every claim must
# still have its one entry, and none may be missing.
check_written() { # before, after, writes committed, who[, unanswered commits allowed]
  local claims=$(( ${2% *} - ${1% *} )) entries=$(( ${2#* } - ${1#* } )) slack=${5:-0}
  if [ "$claims" -ne "$entries" ] || [ "$claims" -lt "$3" ] || [ "$claims" -gt $(( $3 + slack )) ]; then
    echo "bench: $4: $3 /add committed, but $claims update ids claimed and $entries cash entries recorded" >&2
    exit 1
  fi
}
pgbench_run() { # load clients seconds: prints "transactions tps add_transactions"
  local scripts=(-f "$dashboard_sql") out
  [ "$1" = mixed ] && scripts=(-f "$dashboard_sql@$((100 - adds_percent))" -f "$add_sql@$adds_percent")
  out=$(pgbench -n -M prepared -c "$2" -j 2 -T "$3" "${scripts[@]}" "$url" 2>&1) || {
    echo "$out" >&2
    echo "bench: pgbench failed" >&2
    exit 1
  }
  echo "$out" | awk '
    /^number of transactions actually processed:/ { n = $6 }
    /^number of failed transactions: [1-9]/ { print "pgbench: " $0 > "/dev/stderr"; failed = 1 }
    /^tps = / { tps = $3 }
    /^SQL script 2:/ { in2 = 1 }
    in2 && / transactions \(/ { adds = $2; in2 = 0 }
    END { if (!failed && n != "" && tps != "") print n, tps, adds + 0 }'
}
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
worst() { sort -g | tail -n 1; }

summary=() set_lines=() peaks=()
first_id=1000000
slice=$((duration / rounds))
pgbouncer_started=0
for set in $sets; do
  bench_db_create "ledgerbot_bench_$$" "$set" schema.sql
  loaded="copied from the set built before"
  [ "$bench_load_seconds" != 0 ] && loaded="generated in ${bench_load_seconds%.*} s"
  set_lines+=("$set invoices per company: 1000 users, $bench_companies companies, $((set * bench_companies)) invoices ($loaded)")
  export DATABASE_URL="$url"
  if [ "${BENCH_PGBOUNCER:-0}" = 1 ]; then
    [ "$pgbouncer_started" = 0 ] && bench_pgbouncer && pgbouncer_started=1
    export "${pooled_env[@]}"
  fi
  if [ -z "${cold_ms:-}" ]; then
    echo "bench: cold start" >&2
    cold_ms=$(cold_start 1)
    # The same without TLS to PostgreSQL: the first update opens the pool's
    # first connection, and with TLS the handshake is most of the cold start.
    echo "bench: cold start, sslmode=disable" >&2
    sep="?"; case "$DATABASE_URL" in *\?*) sep="&" ;; esac
    cold_plain_ms=$(cold_start 11 DATABASE_URL="$DATABASE_URL${sep}sslmode=disable")
  fi

  log="$target_dir/bench-server.log"
  env "${extra_env[@]}" "$bin" serve >"$log" 2>&1 &
  server=$!
  wait_healthy "$addr" 5 "$server"
  # By hand: the dashboard (user 1 reads English), and an /add recorded.
  reply=$(webhook 100 /dashboard)
  case "$reply" in
    *Treasury*) ;;
    *) echo "bench: /dashboard did not answer with the dashboard: $reply" >&2; exit 1 ;;
  esac
  reply=$(webhook 101 "/add 12,50 bench")
  case "$reply" in
    *"Recorded an expense"*) ;;
    *) echo "bench: /add did not record the expense: $reply" >&2; exit 1 ;;
  esac
  sleep 2
  idle_rss=$(rss VmRSS)

  for load in $loads; do
    percent=0; [ "$load" = mixed ] && percent=$adds_percent
    for c in $concurrencies; do
      echo "bench: $set invoices, $load load, concurrency $c: warm-up ${warmup} s each, then ${rounds} rounds of ledgerbot ${slice} s / pgbench ${slice} s" >&2
      [ "$warmup" -gt 0 ] && pgbench_run "$load" "$c" "$warmup" >/dev/null
      ups_all=() tps_all=() p50_all=() p99_all=() adds_all=() add_p50_all=() add_p99_all=() errors=0
      for round in $(seq 1 "$rounds"); do
        # Only the first slice needs the full warm-up; later ones just reconnect.
        slice_warmup=1; [ "$round" -eq 1 ] && slice_warmup=$warmup
        before=$(written)
        line=$("$loadgen" load --addr "$addr" --concurrency "$c" --warmup "$slice_warmup" \
          --duration "$slice" --adds-percent "$percent" --first-update-id "$first_id")
        after=$(written)
        echo "$line" >&2
        get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
        check_written "$before" "$after" "$(get adds_answered)" "ledgerbot"
        first_id=$(( $(get next_update_id) + 1 ))
        ups_all+=("$(get updates_per_s)") p50_all+=("$(get p50_ms)") p99_all+=("$(get p99_ms)")
        adds_all+=("$(get adds_per_s)") add_p50_all+=("$(get add_p50_ms)") add_p99_all+=("$(get add_p99_ms)")
        errors=$((errors + $(get errors)))

        before=$(written)
        read -r transactions tps add_transactions < <(pgbench_run "$load" "$c" "$slice") || true
        after=$(written)
        [ -n "${add_transactions:-}" ] || { echo "bench: pgbench failed (above)" >&2; exit 1; }
        check_written "$before" "$after" "$add_transactions" "pgbench" "$([ "$load" = mixed ] && echo "$c" || echo 0)"
        echo "bench: pgbench tps=$tps ($transactions transactions, $add_transactions of them /add)" >&2
        tps_all+=("$tps")
      done
      rss_load=$(rss VmRSS)
      ups=$(printf '%s\n' "${ups_all[@]}" | mean)
      tps=$(printf '%s\n' "${tps_all[@]}" | mean)
      ratio=$(awk -v u="$ups" -v t="$tps" 'BEGIN { printf "%.2f", u / t }')
      add_figures=$(printf '%8s %8s %8s %8s' - - - -)
      if [ "$load" = mixed ]; then
        add_figures=$(printf '%8s %8s %8s %8s' "$(printf '%s\n' "${adds_all[@]}" | mean)" \
          "$(printf '%s\n' "${add_p50_all[@]}" | median)" "$(printf '%s\n' "${add_p99_all[@]}" | median)" \
          "$(printf '%s\n' "${add_p99_all[@]}" | worst)")
      fi
      summary+=("$(printf '%-8s %-9s %3s %10s %7s %7s %7s %6s %11s %6s %s %6s' "$set" "$load" "$c" "$ups" \
        "$(printf '%s\n' "${p50_all[@]}" | median)" "$(printf '%s\n' "${p99_all[@]}" | median)" \
        "$(printf '%s\n' "${p99_all[@]}" | worst)" "$errors" "$tps" "$ratio" "$add_figures" "$rss_load")")
    done
  done
  peaks+=("$set invoices: idle RSS ${idle_rss} MB, peak RSS (VmHWM) $(rss VmHWM) MB")
  kill "$server" && wait "$server" 2>/dev/null || true
  server=""
  bench_db_drop
done

cat <<EOF

ledgerbot benchmark — $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), PostgreSQL $(psql -qAt "$admin" -c 'SHOW server_version'), load average at the start: $load_before
data sets: $(printf '%s\n' "${set_lines[@]}" | sed '2,$s/^/           /')
loads: dashboard = /dashboard only; mixed = ${adds_percent} % /add, the rest /dashboard (pgbench: the same statements weighted $((100 - adds_percent)):${adds_percent}); $durable
warm-up ${warmup} s, then ${rounds} alternating rounds of ${slice} s (ledgerbot, pgbench) per set, load and concurrency; updates/s, tps and /add/s: mean of the rounds; p50, p99: median of the rounds, max: the worst round's p99; server env: LOG_FORMAT=json ${BENCH_ENV:-}

invoices load        c  updates/s  p50 ms  p99 ms p99 max errors pgbench tps  ratio   /add/s /add p50 /add p99 /add max RSS MB
$(printf '%s\n' "${summary[@]}")

cold start (exec to first 200, median of 5): ${cold_ms} ms (${cold_plain_ms} ms with sslmode=disable)
$(printf '%s\n' "${peaks[@]}")
EOF
