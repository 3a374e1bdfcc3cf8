#!/usr/bin/env bash
# `cargo fmt` after `instrument`, then `remove`, must give exactly what `cargo fmt` makes of the
# original. For each crate directory given: one copy is formatted as it is; another is
# instrumented (`--all-targets`, then again with `--err`), formatted, and the guards removed; the two must be equal,
# byte for byte (Cargo.lock aside: formatting may make one, `remove` deletes it).
#
# Formatting is the toolchain's rustfmt over every `.rs` file of the crate, at the crate's
# edition, which is what `cargo fmt` does for a crate without its own rustfmt.toml.
#
#   scripts/rustfmt-roundtrip.sh REWRITER CRATE_DIR...
set -euo pipefail
rewriter=${1:?usage: rustfmt-roundtrip.sh REWRITER CRATE_DIR...}
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

format() {
  local dir=$1 edition
  edition=$(sed -n 's/^edition *= *"\([0-9]*\)".*/\1/p' "$dir/Cargo.toml" | head -n 1)
  find "$dir" -name '*.rs' -not -path '*/target/*' -print0 |
    xargs -0 -r rustfmt --edition "${edition:-2015}" --quiet
}

failed=()
# Plain, and with `--err` (whose attributes rustfmt lays out on lines of their own).
for flags in "" "--err"; do
for crate in "$@"; do
  name=$(basename "$crate")
  want="$work/want$flags/$name"
  got="$work/got$flags/$name"
  name="$name${flags:+ ($flags)}"
  mkdir -p "$work/want$flags" "$work/got$flags"
  cp -r "$crate" "$want"
  cp -r "$crate" "$got"
  if ! format "$want"; then
    echo "$name: rustfmt fails on the original; skipped"
    continue
  fi
  # shellcheck disable=SC2086 # no flags, or one
  if ! "$rewriter" instrument "$got" --all-targets $flags 2>/dev/null; then failed+=("$name: instrument"); continue; fi
  if ! format "$got"; then failed+=("$name: rustfmt fails on the instrumented crate"); continue; fi
  if ! "$rewriter" remove "$got" 2>/dev/null; then failed+=("$name: remove"); continue; fi
  rm -f "$want/Cargo.lock" "$got/Cargo.lock"
  if diff -r "$want" "$got"; then
    echo "$name: remove after rustfmt equals rustfmt of the original ($(find "$want" -name '*.rs' | wc -l) files)"
  else
    failed+=("$name")
  fi
done
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'rustfmt round trip FAILED: %s\n' "${failed[@]}"
  exit 1
fi
