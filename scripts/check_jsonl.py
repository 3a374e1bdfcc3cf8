#!/usr/bin/env python3
"""Checks trace files against the jsonl contract: exact keys and types, and per-thread nesting
(every exit closes the innermost open enter at the same depth, elapsed = exit ts - enter ts).

    scripts/check_jsonl.py FILE...      prints a summary; exits 1 on the first violation
"""
import json
import sys

ENTER = {"thread", "thread_name", "task", "depth", "event", "name", "ts_ns"}
EXIT = ENTER | {"elapsed_ns", "unwinding"}


def fail(path, n, msg):
    print(f"{path}:{n}: {msg}", file=sys.stderr)
    sys.exit(1)


def check(path):
    stacks, events = {}, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                e = json.loads(line)
            except ValueError as err:
                fail(path, n, f"not JSON: {err}")
            keys = set(e)
            if e.get("event") == "enter":
                want = ENTER
            elif e.get("event") == "exit":
                want = EXIT | ({"cancelled", "busy_ns"} & keys)
            else:
                fail(path, n, f"bad event {e.get('event')!r}")
            if keys != want:
                fail(path, n, f"keys {sorted(keys)} != {sorted(want)}")
            for k in ("thread", "depth", "ts_ns"):
                if not isinstance(e[k], int) or isinstance(e[k], bool):
                    fail(path, n, f"{k} is not an int")
            if not isinstance(e["name"], str):
                fail(path, n, "name is not a string")
            if e["thread_name"] is not None and not isinstance(e["thread_name"], str):
                fail(path, n, "thread_name is not a string or null")
            key = (e["thread"], e["task"])
            stack = stacks.setdefault(key, [])
            if e["event"] == "enter":
                if e["depth"] != len(stack):
                    fail(path, n, f"enter depth {e['depth']} with {len(stack)} open")
                stack.append(e)
            else:
                if not stack:
                    fail(path, n, "exit without enter")
                top = stack.pop()
                if (top["name"], top["depth"]) != (e["name"], e["depth"]):
                    fail(path, n, f"exit {e['name']} closes {top['name']}")
                if e["elapsed_ns"] != e["ts_ns"] - top["ts_ns"]:
                    fail(path, n, "elapsed_ns is not exit ts - enter ts")
                if not isinstance(e["unwinding"], bool):
                    fail(path, n, "unwinding is not a bool")
            events += 1
    open_frames = sum(len(s) for s in stacks.values())
    return events, open_frames


def main():
    total, files = 0, 0
    for path in sys.argv[1:]:
        events, open_frames = check(path)
        if open_frames:
            # A test binary may exit (std::process::exit, a failed test's panic in another
            # thread) with frames open: reported, not a contract violation.
            print(f"{path}: {open_frames} frames still open at exit")
        total += events
        files += 1
    print(f"{files} trace files, {total} events, all well-formed")
    if total == 0:
        print("no events at all: nothing was traced", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
