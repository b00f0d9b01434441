# Sourced by the scripts in deploy/ (and deploy/bench/common.sh): what several
# of them need, defined once.
#
#   free_port                        prints a free TCP port on 127.0.0.1
#   wait_healthy ADDR SECONDS [PID]  waits until http://ADDR/healthz answers
#                                    200; fails after SECONDS, or as soon as
#                                    process PID (the server, or whatever
#                                    starts it) has exited
#   fresh_db ADMIN_URL NAME          (re)creates the empty database NAME on the
#                                    server of ADMIN_URL (a superuser URL, as
#                                    deploy/pg.sh exports) and prints its URL
#   drop_db ADMIN_URL NAME           drops NAME if it is there, even while
#                                    connections to it remain (for EXIT traps)
#
# Needs curl, psql and python3.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_healthy() {
  local addr=$1 seconds=$2 pid=${3:-} deadline
  deadline=$((SECONDS + seconds))
  until curl -fsS -o /dev/null --max-time 2 "http://$addr/healthz" 2>/dev/null; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "wait_healthy: the process ($pid) exited before http://$addr/healthz answered" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "wait_healthy: http://$addr/healthz did not answer 200 within $seconds s" >&2
      return 1
    fi
    sleep 0.1
  done
}

fresh_db() {
  local admin=$1 name=$2
  drop_db "$admin" "$name"
  PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$admin" \
    -c "CREATE DATABASE $name" >/dev/null || return 1
  echo "${admin%/*}/$name"
}

drop_db() {
  PGOPTIONS="-c client_min_messages=warning" psql -q "$1" \
    -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null
}
