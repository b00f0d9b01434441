#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with libFuzzer (cargo-fuzz, nightly),
# each target for a bounded time, starting from fuzz/seeds/ and the inputs of
# earlier runs (fuzz/corpus/, not committed). Not part of CI: the checks run
# there on the kept inputs instead (tests/api/fuzz_replay.rs).
#
#   deploy/fuzz.sh [seconds per target (60)] [target ...]
#
# Targets (fuzz/fuzz_targets/, checks in fuzz/checks.rs):
#   intake   a raw webhook body → update_id, frankenstein Update, Incoming,
#            then Command::parse and its arguments, or Callback::parse
#   command  a message's text → the command and each command's argument parser
#   amount   parse_decimal, parse_human, parse_signed_human and round trips
#   efactura an uploaded e-Factura file (UBL XML or ZIP) → its documents
#
# A crash is copied into fuzz/regressions/<target>/, where the replay test
# picks it up: fix the bug, run `deploy/test.sh fuzz_replay`, commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(intake command amount efactura)

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz.sh: libFuzzer's instrumentation needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export SQLX_OFFLINE=true
# Its own target directory: sanitizer flags would rebuild everything of the main build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/fuzz"

status=0
total=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  rm -f fuzz/artifacts/"$target"/{crash,timeout,oom}-*
  log="fuzz/artifacts/$target/last-run.log"
  echo "fuzz.sh: $target for ${seconds}s" >&2
  if cargo +nightly fuzz run --fuzz-dir fuzz -O "$target" \
      "fuzz/corpus/$target" "fuzz/seeds/$target" "fuzz/regressions/$target" -- \
      -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    corpus=$(ls "fuzz/corpus/$target" | wc -l)
    echo "fuzz.sh: $target: ${runs:-?} inputs tried, no crash; corpus $corpus inputs" >&2
    total=$((total + ${runs:-0}))
  else
    status=1
    echo "fuzz.sh: $target FOUND A CRASH (log: $log)" >&2
    for crash in fuzz/artifacts/"$target"/crash-* fuzz/artifacts/"$target"/timeout-* fuzz/artifacts/"$target"/oom-*; do
      [ -e "$crash" ] || continue
      cp "$crash" "fuzz/regressions/$target/"
      echo "fuzz.sh: kept as fuzz/regressions/$target/$(basename "$crash") (rename it after what it shows)" >&2
    done
    tail -n 40 "$log" >&2
  fi
done
echo "fuzz.sh: $total inputs tried in all" >&2
exit $status
