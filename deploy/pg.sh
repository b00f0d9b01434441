#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable and exports DATABASE_URL (a
# superuser connection: tests create one database each). Source it:
#
#   source deploy/pg.sh
#
# In order: the DATABASE_URL already set, if it answers; the server on
# 127.0.0.1:5432 with user postgres; else a throwaway cluster from the system's
# binaries (installing Debian's postgresql when they are missing), owned by the
# postgres user, on 127.0.0.1:${LEDGERBOT_PG_PORT:-54329}, data under
# ${LEDGERBOT_PG_DIR:-/tmp/ledgerbot-pg}. Nothing is downloaded but the package.

ledgerbot_pg_ready() { pg_isready -q -d "$1" -t 3 >/dev/null 2>&1; }

ledgerbot_pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bin" ] && [ -x "$bin/initdb" ] && echo "$bin"
}

ledgerbot_pg_start_throwaway() {
  local bin port dir
  port=${LEDGERBOT_PG_PORT:-54329}
  dir=${LEDGERBOT_PG_DIR:-/tmp/ledgerbot-pg}
  bin=$(ledgerbot_pg_bin)
  if [ -z "$bin" ]; then
    echo "pg.sh: installing postgresql from the Debian packages" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2 || return 1
    bin=$(ledgerbot_pg_bin) || return 1
  fi
  # pg_isready and psql, for this script and the caller's.
  export PATH="$bin:$PATH"
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    as=(runuser -u postgres --)
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir" && chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    "${as[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null || return 1
  fi
  if ! ledgerbot_pg_ready "postgres://postgres@127.0.0.1:$port/postgres"; then
    echo "pg.sh: starting a throwaway PostgreSQL on 127.0.0.1:$port ($dir)" >&2
    "${as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off" start >/dev/null || return 1
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

if ! command -v pg_isready >/dev/null 2>&1; then
  bin=$(ledgerbot_pg_bin) && export PATH="$bin:$PATH"
fi

if [ -n "${DATABASE_URL:-}" ] && ledgerbot_pg_ready "$DATABASE_URL"; then
  :
elif ledgerbot_pg_ready "postgres://postgres@127.0.0.1:5432/postgres"; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
else
  ledgerbot_pg_start_throwaway || { echo "pg.sh: no PostgreSQL could be started" >&2; return 1 2>/dev/null || exit 1; }
fi
echo "pg.sh: using $(echo "$DATABASE_URL" | sed -E 's#//([^:@/]+):[^@/]*@#//\1:***@#')" >&2
