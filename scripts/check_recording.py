#!/usr/bin/env python3
"""Checks recordings' headers as `docs/recording.md` lays them out: the magic, a format version
this repository writes, and with `--thread-order` the flag of a run that only recorded (each
thread's events as they came, the reader merging them by time).

    scripts/check_recording.py [--thread-order] FILE...   exits 1 on the first that fails
"""
import struct
import sys

MAGIC = b"TRACEREC"
VERSION = 5
THREAD_ORDER = 1


def main(args):
    thread_order = "--thread-order" in args
    files = [a for a in args if a != "--thread-order"]
    if not files:
        sys.exit("usage: check_recording.py [--thread-order] FILE...")
    for path in files:
        with open(path, "rb") as f:
            head = f.read(32)
        if len(head) < 32 or head[:8] != MAGIC:
            sys.exit(f"{path}: not a recording (no {MAGIC.decode()} header)")
        version, flags = struct.unpack_from("<HH", head, 8)
        if version != VERSION:
            sys.exit(f"{path}: format version {version}, expected {VERSION}")
        if thread_order and not flags & THREAD_ORDER:
            sys.exit(f"{path}: recorded in time order, not in thread order (flags {flags:#x})")
    noun = "recording" if len(files) == 1 else "recordings"
    print(f"{len(files)} {noun}: headers as expected")


if __name__ == "__main__":
    main(sys.argv[1:])
