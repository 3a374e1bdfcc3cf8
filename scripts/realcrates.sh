#!/usr/bin/env bash
# Proves the rewriter on published crates: for each one, `instrument --all-targets`, then the
# crate's own `cargo test` passes with the trace feature off and on (the trace, written as jsonl,
# must satisfy the contract), and `remove` gives back the original bytes, Cargo.lock included; the
# same again with `instrument --err` (tests with the feature on). Then, on a fresh
# copy, `run PATH -- test` passes (traced, under the target directory, only recording) and leaves
# it untouched, and each recording reads back.
# Last, `remove` after rustfmt gives what rustfmt makes of the original (rustfmt-roundtrip.sh).
#
#   scripts/realcrates.sh [NAME@VERSION ...]     default: ../shared/realcrates/crates.txt
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
fetch="$repo/../shared/realcrates/fetch.sh"
# Sources live outside this repository so that cargo does not take them for members of its
# workspace; builds share a target directory inside it.
work="${TMPDIR:-/tmp}/trace-realcrates"
mkdir -p "$work"
cargo build -q --release -p trace-rewriter --manifest-path "$repo/Cargo.toml"
rewriter="$repo/target/release/trace-rewriter"

rm -rf "$work/pristine"
"$fetch" "$work/pristine" "$@" >/dev/null
export CARGO_TARGET_DIR="$repo/target/realcrates"
failed=()
for pristine in "$work"/pristine/*/; do
  name=$(basename "$pristine")
  crate="$work/work/$name"
  traces="$work/traces/$name"
  rm -rf "$crate" "$traces"
  mkdir -p "$(dirname "$crate")" "$traces"
  cp -r "$pristine" "$crate"
  echo "== $name"
  if ! "$rewriter" instrument "$crate" --all-targets; then failed+=("$name: instrument"); continue; fi
  if ! (cd "$crate" && cargo test -q 2>&1 | tail -n 3); then failed+=("$name: cargo test (feature off)"); fi
  if ! (cd "$crate" && TRACE_FORMAT=jsonl TRACE_OUT="$traces/trace-{pid}.jsonl" cargo test -q --features trace 2>&1 | tail -n 3); then
    failed+=("$name: cargo test --features trace")
  fi
  if ! python3 "$repo/scripts/check_jsonl.py" "$traces"/*.jsonl; then failed+=("$name: trace contract"); fi
  "$rewriter" remove "$crate"
  # Cargo.lock included: `remove` puts back the one from before (or deletes one cargo created).
  if ! diff -r "$pristine" "$crate"; then failed+=("$name: remove did not restore the original bytes"); fi
  # `--err`: every fn returning `Result<..>` records its `Err` returns; the crate's tests pass
  # traced, the trace satisfies the contract, and `remove` gives back the original bytes.
  rm -rf "$traces"
  mkdir -p "$traces"
  if ! "$rewriter" instrument "$crate" --all-targets --err; then
    failed+=("$name: instrument --err")
  else
    if ! (cd "$crate" && TRACE_FORMAT=jsonl TRACE_OUT="$traces/trace-{pid}.jsonl" cargo test -q --features trace 2>&1 | tail -n 3); then
      failed+=("$name: cargo test --features trace (--err)")
    fi
    if ! python3 "$repo/scripts/check_jsonl.py" "$traces"/*.jsonl; then failed+=("$name: trace contract (--err)"); fi
    "$rewriter" remove "$crate"
    if ! diff -r "$pristine" "$crate"; then failed+=("$name: remove after --err did not restore the original bytes"); fi
  fi
  rm -rf "$crate" "$traces"
  mkdir -p "$traces"
  cp -r "$pristine" "$crate"
  # `run` with nothing to print: each test binary only records (its threads' records written as
  # they come, by two collectors, nothing decoded); each recording must say so in its header,
  # and read back as a trace that satisfies the contract.
  recordings="$CARGO_TARGET_DIR/trace"
  rm -rf "$recordings"
  if ! (cd "$crate" && env -u TRACE_OUT -u TRACE_FORMAT TRACE_COLLECTORS=2 "$rewriter" run . --all-targets -- test -q 2>&1 | tail -n 3); then
    failed+=("$name: run -- test")
  fi
  if ! python3 "$repo/scripts/check_recording.py" --thread-order "$recordings"/*.trace; then
    failed+=("$name: run's recordings")
  fi
  for rec in "$recordings"/*.trace; do
    if ! "$rewriter" export "$rec" --format jsonl > "$traces/$(basename "$rec" .trace).jsonl"; then
      failed+=("$name: export $(basename "$rec")")
    fi
  done
  if ! python3 "$repo/scripts/check_jsonl.py" "$traces"/*.jsonl; then failed+=("$name: run's trace contract"); fi
  rm -f "$crate/Cargo.lock"
  [ -f "$pristine/Cargo.lock" ] && cp "$pristine/Cargo.lock" "$crate/Cargo.lock"
  if ! diff -r "$pristine" "$crate"; then failed+=("$name: run changed the crate"); fi
done
# `cargo fmt` on the instrumented crate, then `remove`, equals `cargo fmt` on the original.
if ! "$repo/scripts/rustfmt-roundtrip.sh" "$rewriter" "$work"/pristine/*/; then
  failed+=("rustfmt round trip")
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "real crates: all passed"
