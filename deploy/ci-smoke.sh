#!/usr/bin/env bash
# The README's first command, run as a person runs it: starts deploy/dev.sh in
# the background on a free port, waits for /healthz (the release build
# included), sends `/sold` the way the dev chat's page does (the webhook
# secret and the Telegram user read from /dev/chat, the update posted to
# /telegram/webhook) and checks the answer carries the demo company's name
# and figures (every amount of its dashboard, as the JSON API gives it to the
# demo account the README names). Then stops dev.sh's whole process group,
# checks that nothing of it is left and that it exited cleanly, and drops the
# database. Run by CI (.ci/run).
#
#   deploy/ci-smoke.sh
#
# dev.sh gets the environment a newcomer has: none of ledgerbot's variables
# (those of .env.sample) but DATABASE_URL if set, which says where PostgreSQL
# is; PORT a free port; LEDGERBOT_DEV_DB a database that does not exist yet
# (ledgerbot_smoke_<pid>), so dev.sh creates it as on a first run.
# SMOKE_TIMEOUT: seconds dev.sh may take to answer /healthz, its release
# build included (default 3600: a guard against a hang, not a budget; dev.sh
# exiting fails the step at once). Its output: target/ci-smoke-dev.log.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
fail() { echo "ci-smoke: $*" >&2; exit 1; }

# Where dev.sh will find PostgreSQL (for dropping the database at the end),
# asked in a subshell so that dev.sh still finds it on its own.
admin=$(source deploy/pg.sh && echo "$DATABASE_URL") || fail "no PostgreSQL (deploy/pg.sh)"
db="ledgerbot_smoke_$$"
drop_db "$admin" "$db"
port=$(free_port)
log="${CARGO_TARGET_DIR:-target}/ci-smoke-dev.log"
mkdir -p "$(dirname "$log")"
unset_vars=()
while IFS='=' read -r name _; do
  [ "$name" = DATABASE_URL ] || unset_vars+=(-u "$name")
done < <(grep -E '^[A-Z_]+=' .env.sample)

started=$SECONDS
# setsid: dev.sh (and whatever it starts) in a process group of its own,
# whose id is dev.sh's pid, so that stopping it stops all of it.
env "${unset_vars[@]}" PORT="$port" LEDGERBOT_DEV_DB="$db" setsid deploy/dev.sh >"$log" 2>&1 </dev/null &
group=$!

stop() {
  local deadline=$((SECONDS + 15))
  kill -TERM -- "-$group" 2>/dev/null || kill -TERM "$group" 2>/dev/null || true
  while kill -0 -- "-$group" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL -- "-$group" 2>/dev/null || true
      echo "ci-smoke: dev.sh's processes were still running 15 s after SIGTERM; killed" >&2
      return 1
    fi
    sleep 0.1
  done
}
cleanup() {
  local status=$?
  stop || status=1
  drop_db "$admin" "$db" 2>/dev/null || true
  if [ $status -ne 0 ]; then
    echo "ci-smoke: FAILED; the last lines of deploy/dev.sh's output ($log):" >&2
    tail -n 40 "$log" >&2
  fi
  exit $status
}
trap cleanup EXIT

echo "ci-smoke: deploy/dev.sh on port $port (database $db); waiting for /healthz" >&2
wait_healthy "127.0.0.1:$port" "${SMOKE_TIMEOUT:-3600}" "$group" || fail "deploy/dev.sh did not come up"
echo "ci-smoke: /healthz answered after $((SECONDS - started)) s" >&2

python3 - "http://127.0.0.1:$port" <<'PY' || fail "the dev chat's /sold did not answer with the demo company's figures"
import json, re, sys, time, urllib.request

base = sys.argv[1]

def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as response:
        return response.read().decode()

# What the dev chat's page knows: the webhook secret and its Telegram user.
page = call("GET", "/dev/chat")
secret = re.search(r'const SECRET = "([^"]+)"', page).group(1)
user_id = int(re.search(r'id="uid" value="(\d+)"', page).group(1))

# /sold as the page sends it, the language set to Romanian.
sender = {"id": user_id, "is_bot": False, "first_name": "Dev", "language_code": "ro"}
update = {"update_id": int(time.time()), "message": {
    "message_id": 1, "from": sender, "chat": {"id": user_id, "type": "private", "first_name": "Dev"},
    "date": int(time.time()), "text": "/sold",
    "entities": [{"offset": 0, "length": 5, "type": "bot_command"}]}}
reply = json.loads(call("POST", "/telegram/webhook", update,
                        {"X-Telegram-Bot-Api-Secret-Token": secret}))
text = reply.get("text", "")
assert reply.get("method") == "sendMessage", f"not a message: {reply}"

# The figures, from the JSON API as the demo account the README names.
token = json.loads(call("POST", "/api/v1/auth/login",
                        {"email": "demo@ledgerbot.local", "password": "demo-password"}))["access_token"]
bearer = {"Authorization": f"Bearer {token}"}
companies = json.loads(call("GET", "/api/v1/companies", headers=bearer))["items"]
assert len(companies) == 1, f"the demo account has one company, not {companies}"
dashboard = json.loads(call("GET", f"/api/v1/companies/{companies[0]['id']}/dashboard", headers=bearer))

romanian = "Trezorerie" in text
def money(amount, currency):
    sign, digits = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    whole, cents = digits.split(".")
    grouped = f"{int(whole):,}"
    if romanian:
        return f"{sign}{grouped.replace(',', '.')},{cents} {currency}"
    return f"{currency} {sign}{grouped}.{cents}"

expected = [dashboard["company_name"]]
expected += [money(t["amount"], t["currency"]) for t in dashboard["treasury"]]
for section in ("receivables", "payables"):
    for t in dashboard[section]:
        expected += [money(t[k], t["currency"]) for k in ("total", "paid", "outstanding", "overdue")]
for c in dashboard["cash_this_month"]:
    expected += [money(c[k], c["currency"]) for k in ("income", "expenses")]
missing = [figure for figure in expected if figure not in text]
assert dashboard["treasury"] and dashboard["receivables"], f"the demo company has no figures: {dashboard}"
assert not missing, f"/sold's answer lacks {missing}:\n{text}"
print(f"ci-smoke: /sold answered with {dashboard['company_name']} and all {len(expected) - 1} "
      f"figures of its dashboard ({'Romanian' if romanian else 'English'})", file=sys.stderr)
PY

stop || fail "deploy/dev.sh did not stop on SIGTERM"
status=0
wait "$group" || status=$?
[ "$status" -eq 0 ] || fail "deploy/dev.sh exited with status $status after SIGTERM (see $log)"
pgrep -g "$group" >/dev/null && fail "processes of dev.sh's group are left: $(pgrep -g "$group" | tr '\n' ' ')"
curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null && fail "something still answers on port $port"
echo "ci-smoke: deploy/dev.sh stopped cleanly, nothing left; $((SECONDS - started)) s in all" >&2
