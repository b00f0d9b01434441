#!/usr/bin/env bash
# End-to-end tests in a real headless Chromium (Debian's), driven by
# playwright-core from tests/browser/. Starts `ledgerbot dev` against a fresh
# database on a free port, runs every tests/browser/*.test.mjs, and leaves
# screenshots in target/browser/. Installs chromium and node from Debian's
# packages when missing. Called by deploy/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
command -v chromium >/dev/null 2>&1 || apt_install chromium
command -v npm >/dev/null 2>&1 || apt_install nodejs npm

source deploy/lib.sh
source deploy/pg.sh
admin="$DATABASE_URL"
db="ledgerbot_browser_$$"
url=$(fresh_db "$admin" "$db")

(cd tests/browser && npm ci --no-audit --no-fund --silent)
SQLX_OFFLINE=true cargo build --quiet --bin ledgerbot
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
# A private copy: other checkouts sharing CARGO_TARGET_DIR may rebuild
# debug/ledgerbot from their own sources while the tests run.
bin=$(mktemp /tmp/ledgerbot-browser.XXXXXX)
cp "$target_dir/debug/ledgerbot" "$bin" && chmod +x "$bin"

port=$(free_port)
# A bot token of the tests' own, so that they can sign Login Widget data as
# Telegram would (tests/browser/invite.test.mjs); dev mode still answers the
# Bot API itself.
bot_token="4242:browser-test-token"
log="$target_dir/browser-server.log"
mkdir -p "$(dirname "$log")"
env -u TELEGRAM_API_URL -u TELEGRAM_BOT_TOKEN -u TELEGRAM_WEBHOOK_SECRET -u JWT_SECRET \
  DATABASE_URL="$url" PORT="$port" PUBLIC_URL="http://127.0.0.1:$port" TELEGRAM_BOT_TOKEN="$bot_token" "$bin" dev >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$bin"
  drop_db "$admin" "$db" 2>/dev/null || true
}
trap cleanup EXIT

if ! wait_healthy "127.0.0.1:$port" 30 "$server" || ! curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null; then
  echo "browser-test: server did not start"; cat "$log"; exit 1
fi

export BASE_URL="http://127.0.0.1:$port" SCREENSHOT_DIR="$target_dir/browser" BOT_TOKEN="$bot_token"
if ! (cd tests/browser && node --test --test-reporter=spec *.test.mjs); then
  echo "browser-test: server log:"; tail -n 50 "$log"
  exit 1
fi
echo "browser-test: screenshots in $SCREENSHOT_DIR"
