#!/usr/bin/env python3
"""Checks recordings' headers as `docs/recording.md` lays them out: the magic, the format
version this repository's writer writes, and with `--thread-order` the flag of a run that only
recorded (each thread's events as they came, the reader merging them by time). The magic, the
version and the flag are read from the writer's own constants
(`trace-runtime/src/collect/recording/format.rs`), so they are spelled there only.

    scripts/check_recording.py [--thread-order] FILE...   exits 1 on the first that fails
"""
import re
import struct
import sys
from pathlib import Path

FORMAT = Path(__file__).resolve().parent.parent / "trace-runtime/src/collect/recording/format.rs"


def constant(source, name):
    m = re.search(rf"pub const {name}: [^=]+= (b\"[^\"]*\"|\d+);", source)
    if not m:
        sys.exit(f"{FORMAT}: no `pub const {name}` found")
    value = m.group(1)
    return value[2:-1].encode() if value.startswith('b"') else int(value)


def main(args):
    source = FORMAT.read_text()
    magic, version, thread_order = (constant(source, n) for n in ("MAGIC", "VERSION", "THREAD_ORDER"))
    want_order = "--thread-order" in args
    files = [a for a in args if a != "--thread-order"]
    if not files:
        sys.exit("usage: check_recording.py [--thread-order] FILE...")
    for path in files:
        with open(path, "rb") as f:
            head = f.read(32)
        if len(head) < 32 or head[:8] != magic:
            sys.exit(f"{path}: not a recording (no {magic.decode()} header)")
        got, flags = struct.unpack_from("<HH", head, 8)
        if got != version:
            sys.exit(f"{path}: format version {got}, expected {version}")
        if want_order and not flags & thread_order:
            sys.exit(f"{path}: recorded in time order, not in thread order (flags {flags:#x})")
    noun = "recording" if len(files) == 1 else "recordings"
    print(f"{len(files)} {noun}: headers as expected")


if __name__ == "__main__":
    main(sys.argv[1:])
