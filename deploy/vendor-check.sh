#!/usr/bin/env bash
# Proves that vendor/ is crates.io's crates plus exactly the diffs in
# vendor/README.md, and nothing else. Run by CI (.ci/run).
#
#   deploy/vendor-check.sh
#
# For each vendor/<crate>/ (sqlx-core, sqlx-postgres), at the version its
# Cargo.toml names:
# 1. cargo fetches the published crate, and the `sqlx` crate of the same
#    version (the repository's root: the licence texts), from crates.io into
#    its download cache, checking them against the registry index; the
#    .crate files' SHA-256 is checked once more against the checksums cargo
#    locked, and they are unpacked into a temporary directory, so nothing
#    already unpacked on this machine is trusted.
# 2. Licences: upstream's LICENSE-APACHE and LICENSE-MIT are symlinks to the
#    repository root's files, which the published crates carry as text files
#    holding just the link (`../LICENSE-MIT`). vendor/ has the texts they
#    point to: those of the `sqlx` crate from the same commit
#    (.cargo_vcs_info.json says which), put in their place here.
# 3. Applies the ```diff blocks of vendor/README.md, in order (git apply:
#    every line must match, no fuzz).
# 4. diff -r against vendor/<crate>: any other difference fails.
# Also checks that vendor/ holds nothing but those crates and README.md, and
# that Cargo.toml's [patch.crates-io] builds each of them (Cargo.lock has
# them from vendor/, not from the registry).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
fail() { echo "vendor-check: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

crates=()
for entry in vendor/* vendor/.[!.]*; do
  [ -e "$entry" ] || continue
  case "$entry" in
    vendor/README.md) ;;
    *) [ -f "$entry/Cargo.toml" ] || fail "$entry: neither a crate nor vendor/README.md"
       crates+=("${entry#vendor/}") ;;
  esac
done
[ ${#crates[@]} -gt 0 ] || fail "no crate in vendor/"

# The version in a crate's (normalised) Cargo.toml: the [package] table's.
package_version() {
  awk '/^\[/ { in_package = ($0 == "[package]") } in_package && /^version = "/ { gsub(/^version = "|"$/, ""); print; exit }' "$1"
}
# Field $4 (source, checksum) of package $2, version $3, in the lock file $1:
# "-" when the package is there without that field, nothing when it is not.
lock_field() {
  awk -v name="$2" -v version="$3" -v field="$4" '
    function flush() { if (n == name && v == version) { print (f == "" ? "-" : f); found = 1; exit } }
    /^\[\[package\]\]/ { flush(); n = v = f = "" }
    $1 == "name" { n = $3; gsub(/"/, "", n) }
    $1 == "version" { v = $3; gsub(/"/, "", v) }
    $1 == field { f = $3; gsub(/"/, "", f) }
    END { if (!found) flush() }' "$1"
}

version=""
for crate in "${crates[@]}"; do
  v=$(package_version "vendor/$crate/Cargo.toml")
  [ -n "$v" ] || fail "vendor/$crate/Cargo.toml names no version"
  [ -z "$version" ] || [ "$v" = "$version" ] || fail "vendor/ mixes sqlx versions ($version, $v)"
  version=$v
  grep -qx "$crate = { path = \"vendor/$crate\" }" Cargo.toml ||
    fail "Cargo.toml's [patch.crates-io] does not build vendor/$crate"
  case $(lock_field Cargo.lock "$crate" "$version" source) in
    -) ;;
    "") fail "Cargo.lock does not use $crate $version" ;;
    *) fail "Cargo.lock takes $crate $version from the registry, not from vendor/" ;;
  esac
done

# 1. Fetch through cargo: a throwaway crate that depends on exactly these
#    versions. Cargo.lock is copied in so that the rest of the graph resolves
#    to what this machine has already downloaded.
mkdir -p "$tmp/fetch/src" "$tmp/upstream"
: >"$tmp/fetch/src/lib.rs"
{
  printf '[package]\nname = "vendor-check"\nversion = "0.0.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n'
  for crate in sqlx "${crates[@]}"; do
    printf '%s = { version = "=%s", default-features = false }\n' "$crate" "$version"
  done
} >"$tmp/fetch/Cargo.toml"
cp Cargo.lock "$tmp/fetch/"
host=$(rustc -vV | sed -n 's/^host: //p')
(cd "$tmp/fetch" && cargo fetch --quiet --target "$host") || fail "cargo could not fetch sqlx $version from crates.io"

cache="${CARGO_HOME:-$HOME/.cargo}/registry/cache"
for crate in sqlx "${crates[@]}"; do
  sum=$(lock_field "$tmp/fetch/Cargo.lock" "$crate" "$version" checksum)
  [ ${#sum} -eq 64 ] || fail "cargo did not lock $crate $version from the registry"
  file=""
  for candidate in "$cache"/*/"$crate-$version.crate"; do
    [ -f "$candidate" ] && [ "$(sha256sum <"$candidate" | cut -d' ' -f1)" = "$sum" ] && file=$candidate && break
  done
  [ -n "$file" ] || fail "no $crate-$version.crate with the registry's checksum in $cache"
  tar -xzf "$file" -C "$tmp/upstream"
  mv "$tmp/upstream/$crate-$version" "$tmp/upstream/$crate"
done

# 2. The licence texts the published crates only point to.
vcs_commit() { sed -n 's/.*"sha1": *"\([0-9a-f]*\)".*/\1/p' "$1/.cargo_vcs_info.json"; }
root_commit=$(vcs_commit "$tmp/upstream/sqlx")
for crate in "${crates[@]}"; do
  [ "$(vcs_commit "$tmp/upstream/$crate")" = "$root_commit" ] ||
    fail "$crate $version and sqlx $version come from different commits"
  for licence in "$tmp/upstream/$crate"/LICENSE-*; do
    name=$(basename "$licence")
    [ "$(cat "$licence")" = "../$name" ] ||
      fail "upstream $crate's $name is no longer the link ../$name: recheck step 2 of this script"
    cp "$tmp/upstream/sqlx/$name" "$licence"
  done
done

# 3. The documented diffs.
awk -v dir="$tmp" '
  /^```diff$/ { n++; file = dir "/patch-" n ".diff"; next }
  /^```$/ { file = ""; next }
  file != "" { print > file }' vendor/README.md
patches=("$tmp"/patch-*.diff)
[ -e "${patches[0]}" ] || fail "vendor/README.md has no diff block"
for patch in "${patches[@]}"; do
  GIT_CEILING_DIRECTORIES="$tmp" git -C "$tmp/upstream" apply "$patch" ||
    fail "diff $(basename "$patch" .diff | tr -dc 0-9) of vendor/README.md does not apply to upstream $version"
done

# 4. Nothing else. A difference is shown as a diff that applies to upstream
#    (git apply -p1, paths from vendor/), ready for vendor/README.md when it
#    is a patch of ours.
status=0
for crate in "${crates[@]}"; do
  if ! diff -rq "$tmp/upstream/$crate" "vendor/$crate" >"$tmp/differences"; then
    echo "vendor-check: vendor/$crate is not crates.io's $crate $version plus vendor/README.md's diffs:" >&2
    sed "s#$tmp/upstream/#upstream+diffs: #g" "$tmp/differences" >&2
    mkdir -p "$tmp/a" "$tmp/b"
    cp -r "$tmp/upstream/$crate" "$tmp/a/" && cp -r "vendor/$crate" "$tmp/b/"
    (cd "$tmp" && git diff --no-index -- "a/$crate" "b/$crate") |
      sed -E 's#^(diff --git|---|\+\+\+) (a|b)/(a|b)/#\1 \2/#; /^diff --git/ s# (a|b)/(a|b)/# \1/#' | head -n 200 >&2 || true
    status=1
  fi
done
[ $status -eq 0 ] || exit 1
echo "vendor-check: vendor/ is crates.io's ${crates[*]} $version (sha256 checked) plus the ${#patches[@]} diffs in vendor/README.md, with the licence texts from sqlx $version"
