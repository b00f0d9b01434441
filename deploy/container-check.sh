#!/usr/bin/env bash
# The container image, without a container engine: proves that
# deploy/Dockerfile's build stage compiles from exactly the files it copies,
# and that the binary it yields starts as the image's unprivileged user and
# answers /healthz. Run by CI (.ci/run).
#
#   deploy/container-check.sh
#
# 1. deploy/dockerfile.py reads the Dockerfile and copies what the build
#    stage's COPY lines name, from this checkout as `docker build .` sees it
#    (.dockerignore applied), into an empty directory standing for the
#    stage's filesystem: nothing else is there.
# 2. Runs the stage's RUN commands there with its ENV, offline
#    (CARGO_NET_OFFLINE: crates come from cargo's cache, as --locked pins
#    them; CI's earlier steps have fetched them), with no DATABASE_URL.
#    The stage's `target/` is this checkout's target directory (or
#    CARGO_TARGET_DIR), so the release build's compiled dependencies are
#    shared with deploy/dev.sh's; ledgerbot and the vendored crates are
#    compiled again from the copied sources.
# 3. Copies the artifact the final stage takes, then runs the final stage's
#    ENTRYPOINT + CMD (and `ledgerbot migrate`, fly.toml's release command,
#    first) as its USER (uid 10001; setpriv, no capabilities, no other
#    groups), with the stage's ENV, an otherwise empty environment, made-up
#    secrets and a fresh database on a free port: /healthz and /readyz must
#    answer 200, and SIGTERM must end it cleanly.
# Also checks that the Dockerfile's Rust is at least Cargo.toml's rust-version.
#
# Switching to uid 10001 needs root; run as another user, the binary runs as
# that user instead (with CI=true that is an error).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
fail() { echo "container-check: $*" >&2; exit 1; }
started=$SECONDS

tmp=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${db:-}" ] && drop_db "$admin" "$db" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# 1. The build context, exactly.
build_root="$tmp/build"
mkdir -p "$build_root"
description=$(python3 deploy/dockerfile.py deploy/Dockerfile . "$build_root") || fail "cannot reproduce the build context of deploy/Dockerfile"
eval "$description"
workdir="$build_root$build_workdir"
echo "container-check: build context: $(cd "$workdir" && find . -type f | wc -l) files from the COPY lines of deploy/Dockerfile" >&2

# The image's toolchain must be one Cargo.toml accepts.
image_rust=$(echo "$build_image" | sed -n 's/^rust:\([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$image_rust" ] || fail "the build stage is not a rust:X.Y image ($build_image)"
for manifest in Cargo.toml benches/Cargo.toml; do
  wanted=$(sed -n 's/^rust-version = "\([0-9.]*\)"/\1/p' "$manifest")
  [ "$(printf '%s\n%s\n' "$wanted" "$image_rust" | sort -V | head -n 1)" = "$wanted" ] ||
    fail "$build_image is older than $manifest's rust-version $wanted"
done
local_rust=$(rustc --version | cut -d' ' -f2)
case "$local_rust" in
  "$image_rust".*) ;;
  *) echo "container-check: note: building with Rust $local_rust; the image has $image_rust" >&2 ;;
esac

# 2. The build stage's commands.
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
mkdir -p "$target_dir"
ln -s "$target_dir" "$workdir/target"
for command in "${build_run[@]}"; do
  echo "container-check: RUN $command" >&2
  (cd "$workdir" && env -u DATABASE_URL -u SQLX_OFFLINE_DIR -u RUSTFLAGS "${build_env[@]}" \
    CARGO_TARGET_DIR="$target_dir" CARGO_NET_OFFLINE=true sh -ec "$command") ||
    fail "the build stage fails on: $command"
done
built=$((SECONDS - started))

# 3. The final stage.
image_root="$tmp/image"
[ -f "$build_root$artifact_src" ] || fail "the build stage left no $artifact_src"
install -D -m 0755 "$build_root$artifact_src" "$image_root$artifact_dst"
chmod 0755 "$tmp" "$image_root"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  uid=${run_user%%:*} gid=${run_user#*:}
  case "$uid" in '' | *[!0-9]*) fail "USER $run_user: a numeric uid is understood" ;; esac
  [ "$uid" -ne 0 ] || fail "the image runs as root (USER $run_user)"
  run_as=(setpriv --reuid="$uid" --regid="${gid:-$uid}" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --)
elif [ "${CI:-}" = true ]; then
  fail "CI must run this as root, to start the binary as uid ${run_user%%:*}"
else
  uid=$(id -u)
  echo "container-check: not root: running the binary as $(id -un) (uid $uid), not ${run_user%%:*}" >&2
fi

source deploy/pg.sh
admin="$DATABASE_URL"
db="ledgerbot_container_$$"
url=$(fresh_db "$admin" "$db")
port=$(free_port)
bin="$image_root${run_cmd[0]}"
container_env=(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/ "${run_env[@]}"
  PORT="$port" DATABASE_URL="$url" TELEGRAM_BOT_TOKEN=1:container-check
  TELEGRAM_WEBHOOK_SECRET=container-check-secret TELEGRAM_API_URL=http://127.0.0.1:9
  JWT_SECRET=container-check-container-check-container-check PUBLIC_URL="http://127.0.0.1:$port")

log="$tmp/server.log"
"${run_as[@]}" "${container_env[@]}" "$bin" migrate >"$log" 2>&1 || { cat "$log" >&2; fail "ledgerbot migrate fails as uid $uid"; }
"${run_as[@]}" "${container_env[@]}" "$bin" "${run_cmd[@]:1}" >"$log" 2>&1 &
server=$!
if ! wait_healthy "127.0.0.1:$port" 30 "$server"; then
  cat "$log" >&2
  fail "${run_cmd[*]} did not answer /healthz as uid $uid"
fi
curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || { cat "$log" >&2; fail "/readyz: the database is not reachable from the binary"; }
running_as=$(awk '$1 == "Uid:" { print $2 "/" $3 "/" $4 "/" $5 }' "/proc/$server/status")
[ "$running_as" = "$uid/$uid/$uid/$uid" ] || fail "the server runs as uid $running_as, not $uid"
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
[ $status -eq 0 ] || { cat "$log" >&2; fail "${run_cmd[*]} exited with $status on SIGTERM"; }
echo "container-check: the build stage compiled from its COPY lines alone in ${built} s; $artifact_dst migrated, served /healthz and /readyz as uid $uid and stopped on SIGTERM; $((SECONDS - started)) s in all" >&2
