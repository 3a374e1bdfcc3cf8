#!/usr/bin/env python3
"""Checks trace files against the jsonl contract: exact keys and types, and nesting in every
tree, per task and per plain thread (every exit closes the innermost open enter at the same
depth, elapsed = exit ts - enter ts, busy <= elapsed). A task's events come from whichever
threads polled it, so each tree is put in time order first.

    scripts/check_jsonl.py FILE...      prints a summary; exits 1 on the first violation
"""
import json
import sys

COMMON = {"thread", "thread_name", "task", "depth", "event", "name", "ts_ns", "id"}
ENTER = COMMON | {"parent"}
EXIT = COMMON | {"elapsed_ns", "busy_ns", "unwinding", "cancelled"}


def fail(path, n, msg):
    print(f"{path}:{n}: {msg}", file=sys.stderr)
    sys.exit(1)


def check(path):
    trees = {}
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
                want = EXIT
            else:
                fail(path, n, f"bad event {e.get('event')!r}")
            # Values (`#[trace(args, ret, err)]`) are keys only where recorded: an enter's
            # `args` (an object of strings), an exit's `ret` (a string) with `error` (a bool).
            if e["event"] == "enter" and "args" in keys:
                if not isinstance(e["args"], dict) or not all(isinstance(v, str) for v in e["args"].values()):
                    fail(path, n, "args is not an object of strings")
                keys = keys - {"args"}
            if e["event"] == "exit" and ("ret" in keys or "error" in keys):
                if not isinstance(e.get("ret"), str) or not isinstance(e.get("error"), bool):
                    fail(path, n, "ret and error come together, a string and a bool")
                keys = keys - {"ret", "error"}
            if keys != want:
                fail(path, n, f"keys {sorted(keys)} != {sorted(want)}")
            ints = ["thread", "depth", "ts_ns", "id"] + (["elapsed_ns", "busy_ns"] if e["event"] == "exit" else [])
            if e["event"] == "enter" and e["parent"] is not None and (not isinstance(e["parent"], int) or isinstance(e["parent"], bool)):
                fail(path, n, "parent is not an int or null")
            for k in ints:
                if not isinstance(e[k], int) or isinstance(e[k], bool):
                    fail(path, n, f"{k} is not an int")
            if e["event"] == "exit":
                for k in ("unwinding", "cancelled"):
                    if not isinstance(e[k], bool):
                        fail(path, n, f"{k} is not a bool")
            if e["task"] is not None and (not isinstance(e["task"], int) or isinstance(e["task"], bool)):
                fail(path, n, "task is not an int or null")
            if not isinstance(e["name"], str):
                fail(path, n, "name is not a string")
            if e["thread_name"] is not None and not isinstance(e["thread_name"], str):
                fail(path, n, "thread_name is not a string or null")
            key = ("task", e["task"]) if e["task"] is not None else ("thread", e["thread"])
            trees.setdefault(key, []).append((e["ts_ns"], n, e))
    events, open_frames = 0, 0
    for key, evs in trees.items():
        in_task = key[0] == "task"
        evs.sort(key=lambda t: t[0] if in_task else (t[0], t[1]))
        open_ = []
        for _, n, e in evs:
            if e["event"] == "enter":
                if in_task:
                    # Children of one poll may be open at once (join!): an enter needs a parent.
                    if not (e["depth"] == 0 and not open_) and not any(o["depth"] + 1 == e["depth"] for o in open_):
                        fail(path, n, f"{key}: enter at depth {e['depth']} without a parent")
                elif e["depth"] != len(open_):
                    fail(path, n, f"{key}: enter depth {e['depth']} with {len(open_)} open")
                open_.append(e)
            else:
                entered = e["ts_ns"] - e["elapsed_ns"]
                if in_task:
                    idx = [i for i, o in enumerate(open_)
                           if (o["name"], o["depth"], o["ts_ns"]) == (e["name"], e["depth"], entered)]
                    at = idx[-1] if idx else None
                else:
                    at = len(open_) - 1 if open_ else None
                if at is None:
                    fail(path, n, f"{key}: exit of {e['name']} without its enter")
                top = open_.pop(at)
                if (top["name"], top["depth"], top["ts_ns"]) != (e["name"], e["depth"], entered):
                    fail(path, n, f"{key}: exit {e['name']} closes {top['name']}")
                if e["busy_ns"] > e["elapsed_ns"]:
                    fail(path, n, "busy_ns exceeds elapsed_ns")
                if not any(o["depth"] == e["depth"] for o in open_) and any(o["depth"] > e["depth"] for o in open_):
                    fail(path, n, f"{key}: {e['name']} exits before its children")
            events += 1
        open_frames += len(open_)
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
