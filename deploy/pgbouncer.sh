#!/usr/bin/env bash
# Starts a throwaway PgBouncer in transaction mode in front of the PostgreSQL
# server deploy/pg.sh found, as the hosts' pooled URLs are (Neon, Supabase,
# fly.io Managed Postgres in transaction mode). Source it after pg.sh:
#
#   source deploy/pg.sh && source deploy/pgbouncer.sh
#   trap ledgerbot_pgbouncer_stop EXIT
#
# Exports LEDGERBOT_PGBOUNCER (host:port): any database name through it
# reaches the same name on DATABASE_URL's server (a wildcard entry), so the
# tests' per-test databases work through it. DATABASE_URL itself stays the
# direct, superuser URL: CREATE DATABASE and the tests' own bookkeeping do not
# need the pooler. Debian's `pgbouncer` is installed with apt when missing;
# port ${LEDGERBOT_PGBOUNCER_PORT:-a free one}; files in a fresh directory
# under /tmp, removed by ledgerbot_pgbouncer_stop (which stops it by its pid).

source deploy/lib.sh

ledgerbot_pgbouncer_stop() {
  if [ -n "${LEDGERBOT_PGBOUNCER_PID:-}" ]; then
    kill "$LEDGERBOT_PGBOUNCER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$LEDGERBOT_PGBOUNCER_PID" 2>/dev/null || break
      sleep 0.1
    done
    unset LEDGERBOT_PGBOUNCER_PID
  fi
  if [ -n "${LEDGERBOT_PGBOUNCER_DIR:-}" ]; then
    rm -rf "$LEDGERBOT_PGBOUNCER_DIR"
    unset LEDGERBOT_PGBOUNCER_DIR
  fi
}

ledgerbot_pgbouncer_start() {
  if ! command -v pgbouncer >/dev/null 2>&1; then
    echo "pgbouncer.sh: installing pgbouncer from the Debian packages" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq pgbouncer >&2 || return 1
  fi
  # postgres://user[:password]@host:port/db → the pieces PgBouncer needs.
  local rest userinfo hostport user password host port
  rest=${DATABASE_URL#*://}
  userinfo=${rest%%@*}
  hostport=${rest#*@}
  hostport=${hostport%%/*}
  user=${userinfo%%:*}
  password=""
  [ "$userinfo" != "$user" ] && password=${userinfo#*:}
  host=${hostport%:*}
  port=${hostport##*:}
  [ "$port" = "$hostport" ] && port=5432
  local listen=${LEDGERBOT_PGBOUNCER_PORT:-$(free_port)}
  local dir
  dir=$(mktemp -d /tmp/ledgerbot-pgbouncer.XXXXXX) || return 1
  LEDGERBOT_PGBOUNCER_DIR=$dir
  # Clients log in without a password (loopback only); PgBouncer logs in to
  # the server as the same user with the password from DATABASE_URL, if any.
  printf '"%s" "%s"\n' "$user" "$password" >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
admin_users = $user
pool_mode = transaction
; Per test database (each is a pool of its own): the app's pool in a test (5)
; and the connections a test opens beside it.
default_pool_size = 10
; The whole test run (RUST_TEST_THREADS tests at once) stays well under the
; server's max_connections, which other clients share; clients beyond it wait.
max_user_connections = 60
max_client_conn = 2000
; Idle server connections to a finished test's database go soon, so the
; database can be dropped.
server_idle_timeout = 2
; What the hosts' PgBouncers do too: the JDBC and sqlx startup parameter.
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    # PgBouncer refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system postgres
    chown -R postgres "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" pgbouncer -d -q "$dir/pgbouncer.ini" || { cat "$dir/pgbouncer.log" >&2; return 1; }
  for _ in $(seq 1 100); do
    [ -s "$dir/pgbouncer.pid" ] && pg_isready -q -h 127.0.0.1 -p "$listen" -d postgres -U "$user" -t 1 && break
    sleep 0.1
  done
  LEDGERBOT_PGBOUNCER_PID=$(cat "$dir/pgbouncer.pid" 2>/dev/null)
  if [ -z "$LEDGERBOT_PGBOUNCER_PID" ] || ! pg_isready -q -h 127.0.0.1 -p "$listen" -d postgres -U "$user" -t 1; then
    echo "pgbouncer.sh: PgBouncer did not start" >&2
    cat "$dir/pgbouncer.log" >&2
    ledgerbot_pgbouncer_stop
    return 1
  fi
  export LEDGERBOT_PGBOUNCER="127.0.0.1:$listen"
  echo "pgbouncer.sh: PgBouncer $(pgbouncer --version | head -n 1 | cut -d' ' -f2) in transaction mode on $LEDGERBOT_PGBOUNCER (pid $LEDGERBOT_PGBOUNCER_PID) → $host:$port" >&2
}

ledgerbot_pgbouncer_start || { return 1 2>/dev/null || exit 1; }
