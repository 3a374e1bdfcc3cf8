#!/usr/bin/env python3
"""Side-by-side benchmark of call tracers on the same workloads, in one run.

    python3 benchmarks/run.py [--runs N] [--quick] [--values-only]

Variants: the uninstrumented baseline; the floor (what any exact recording tracer must at
least do per event: read the TSC and append a 16-byte record to a thread-local buffer written
out with one `write` when full); trace-runtime with its feature off, recording only
(`TRACE_OUT=off TRACE_RECORD=FILE`) and printing (human lines to a file); the
`trace` crate's #[trace] (println to the same kind of file); tracing's #[instrument] with
tracing-tree writing to a file; fastrace's #[trace] with a collecting reporter. Workloads: a
recursive tree of about a million calls (one tree, and the same calls as 2,212 small trees),
the seed call chain on two threads, and async tasks on tokio. Beside them, the examples' tokio
key-value server (`examples/src/bin/server.rs`) driven by a client over loopback: the server's
CPU per request untraced, recording only and printing.

Prints (and writes to benchmarks/RESULTS.md): ns per traced call (the traced threads' wall
time), median of N runs interleaved so that noise hits every variant alike, and its ratio to
the floor; the whole process's CPU time per call (collector threads included) and peak RSS;
the recording's bytes per event; instruction counts from valgrind's callgrind, with the cost per
call of recording values (`--values-only`: that table alone, printed, RESULTS.md untouched); the two-thread
scaling; and the issue's targets, met or missed.
"""
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 5
for i, a in enumerate(sys.argv):
    if a == "--runs":
        RUNS = int(sys.argv[i + 1])
QUICK = "--quick" in sys.argv
# Only the cost of values, printed and not written to RESULTS.md: to check that section alone.
VALUES_ONLY = "--values-only" in sys.argv

BASELINE = "baseline (no tracing)"
FLOOR = "floor: TSC + 16-byte record, one write per 8,192"
OURS_OFF = "ours, feature off"
OURS_RECORDING = "ours, recording only"
OURS_PRINT = "ours, printing to a file"
FASTRACE = "fastrace #[trace], collecting"
# `{tmp}` in a value is the run's temporary directory. Every call recorded, as the floor does:
# by default a fn called 100,000 times at under 500 ns a call is counted from then on instead of
# recorded (`TRACE_HOT`), which would leave most of the recursive workloads' calls out.
EVERY_CALL = {"TRACE_HOT": "off"}
OURS_LANES = "ours, recording only, two collectors (TRACE_COLLECTORS=2)"
RECORDING = {"TRACE_OUT": "off", "TRACE_RECORD": "{tmp}/run.trace", "TRACE_VERBOSE": "1", **EVERY_CALL}

VARIANTS = [
    # name, binary, variant arg, extra env
    (BASELINE, "off", "baseline", {}),
    (FLOOR, "off", "floor", {}),
    (OURS_OFF, "off", "ours", {}),
    (OURS_RECORDING, "on", "ours", RECORDING),
    (OURS_PRINT, "on", "ours", EVERY_CALL),
    ("trace crate #[trace]", "off", "trace-crate", {}),
    ("tracing #[instrument] + tracing-tree", "off", "tracing-tree", {}),
    (FASTRACE, "off", "fastrace", {}),
]
WORKLOADS = ["recursive", "recursive-chunks", "threads", "async"]
# The `trace` crate's #[trace] on an async fn panics at run time ("Formatting argument out of
# range"): it has no async support.
UNSUPPORTED = {("trace crate #[trace]", "async")}
VERBOSE_LINE = re.compile(r"recorded (\d+) events in (\d+) bytes")


def build():
    bins = {}
    for kind, features in (("off", []), ("on", ["--features", "trace"])):
        subprocess.run(["cargo", "build", "-q", "--release", *features], cwd=HERE, check=True)
        dest = HERE / "target" / f"bench-{kind}"
        shutil.copy(HERE / "target" / "release" / "trace-benchmarks", dest)
        bins[kind] = dest
    return bins


def run_one(binary, variant, workload, env, tmp):
    """One run: the binary's JSON line, plus the process's CPU time and peak RSS (from wait4,
    for this child alone), the trace's size and the recording's size and events."""
    out = Path(tmp) / "trace.out"
    err = Path(tmp) / "stderr.txt"
    full_env = dict(os.environ, TRACE_OUT=str(out), TRACE_FORMAT="human")
    full_env.update({k: v.replace("{tmp}", str(tmp)) for k, v in env.items()})
    full_env.pop("NO_COLOR", None)
    recording = Path(full_env["TRACE_RECORD"]) if "TRACE_RECORD" in env else None
    rss = Path(tmp) / "rss.txt"
    # Peak RSS through /usr/bin/time: a child forked from this Python process inherits its
    # memory high-water mark across exec, so wait4's own figure would be Python's.
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", str(rss), str(binary), variant, workload,
                              str(out)], env=full_env, stdout=stdout, stderr=stderr)
        # wait4: the CPU time of this child and of the waited-for program under it.
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    text = err.read_text(errors="replace")
    if p.returncode != 0:
        sys.exit(f"{variant} {workload} failed ({p.returncode}):\n{text}")
    line = [l for l in text.splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    result["cpu_ns"] = (usage.ru_utime + usage.ru_stime) * 1e9
    result["rss_kib"] = int(rss.read_text().split()[-1])
    result["bytes"] = out.stat().st_size if out.exists() else 0
    m = VERBOSE_LINE.search(text)
    if m:
        result["rec_events"], result["rec_bytes"] = int(m.group(1)), int(m.group(2))
    if recording is not None:
        result["rec_file"] = recording.stat().st_size if recording.exists() else 0
        recording.unlink(missing_ok=True)
    out.unlink(missing_ok=True)
    return result


def callgrind(binary, variant, env, tmp, workload, only_fns, region="trace_benchmarks::*::fib"):
    """Instructions valgrind counts: inside the workload's fns (their callees included; `region`
    names them) when `only_fns`, else the whole process, every thread, less fastant's start-up
    calibration (it spins for a fixed time, so its count varies from run to run; every binary
    links it)."""
    full_env = dict(os.environ, TRACE_OUT=str(Path(tmp) / "cg.out.txt"))
    full_env.update({k: v.replace("{tmp}", str(tmp)) for k, v in env.items()})
    profile = Path(tmp) / "callgrind.out"
    toggle = [f"--toggle-collect={region}"] if only_fns else []
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}", *toggle,
                    str(binary), variant, workload, str(Path(tmp) / "cg.out.bin")], env=full_env,
                   capture_output=True, cwd=tmp)
    if not profile.exists():
        return None
    report = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(profile)], capture_output=True,
                            text=True).stdout
    profile.unlink()
    total, spin = None, 0
    for line in report.splitlines():
        count = line.strip().split(" ", 1)[0].replace(",", "")
        if not count.isdigit():
            continue
        if "PROGRAM TOTALS" in line:
            total = int(count)
        elif "tsc_now::___init___ctor" in line and not only_fns:
            spin = max(spin, int(count))
    return None if total is None else total - spin


LINK_VARIANTS = [(BASELINE, "off", "baseline", {}), (OURS_RECORDING, "on", "ours", RECORDING),
                 (OURS_PRINT, "on", "ours", {})]


SERVER_VARIANTS = [
    # name, binary, extra env
    ("server untraced", "off", {}),
    (OURS_RECORDING, "on", {"TRACE_OUT": "off", "TRACE_RECORD": "{tmp}/server.trace"}),
    (OURS_PRINT, "on", {"TRACE_OUT": "{tmp}/server.out"}),
]
# Requests per run: the smaller run's CPU is taken from the larger's, so that start-up and
# shutdown cancel out and what is left is the CPU the requests cost.
SERVER_REQUESTS = (2_000, 20_000)
SERVER_CONNECTIONS = 4


def build_server():
    """The examples' tokio server, untraced and traced, built in release as a user would."""
    root = HERE.parent
    bins = {}
    for kind, features in (("off", []), ("on", ["--features", "trace"])):
        subprocess.run(["cargo", "build", "-q", "--release", "-p", "trace-examples", "--bin", "server",
                        *features], cwd=root, check=True)
        dest = HERE / "target" / f"server-{kind}"
        dest.parent.mkdir(exist_ok=True)
        shutil.copy(root / "target" / "release" / "server", dest)
        bins[kind] = dest
    return bins


def serve_once(binary, env, tmp, requests):
    """Starts the server, sends `requests` SET commands over `SERVER_CONNECTIONS` loopback
    connections (one request in flight on each, every connection busy at once), stops it with
    Ctrl-C as a user would, and returns the server process's CPU time in ns (wait4)."""
    out, err = Path(tmp) / "server.stdout", Path(tmp) / "server.stderr"
    full_env = dict(os.environ, TRACE_FORMAT="human", NO_COLOR="1")
    for k in ("TRACE_OUT", "TRACE_RECORD", "TRACE_FILTER", "TRACE_FOCUS"):
        full_env.pop(k, None)
    full_env.update({k: v.replace("{tmp}", str(tmp)) for k, v in env.items()})
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        p = subprocess.Popen([str(binary)], env=full_env, stdout=stdout, stderr=stderr)
    try:
        address = None
        for _ in range(3000):
            first = out.read_text(errors="replace").split("\n", 1)
            if len(first) == 2 and first[0].startswith("listening on "):
                address = first[0].removeprefix("listening on ").strip()
                break
            if p.poll() is not None:
                break
            subprocess.run(["sleep", "0.01"])
        if address is None:
            sys.exit(f"the server did not start:\n{err.read_text(errors='replace')}")
        host, port = address.rsplit(":", 1)
        conns = [socket.create_connection((host, int(port))) for _ in range(SERVER_CONNECTIONS)]
        replies = [c.makefile("rb") for c in conns]
        for i in range(requests // SERVER_CONNECTIONS):
            for n, c in enumerate(conns):
                c.sendall(f"SET k{n}-{i % 64} {i}\n".encode())
            for r in replies:
                if r.readline() != b"OK\n":
                    sys.exit(f"the server did not answer OK:\n{err.read_text(errors='replace')}")
        os.kill(p.pid, signal.SIGINT)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        for c in conns:
            c.close()
    finally:
        if p.returncode is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        sys.exit(f"the server ended with {p.returncode}:\n{err.read_text(errors='replace')}")
    for f in (out, err, Path(tmp) / "server.trace", Path(tmp) / "server.out"):
        f.unlink(missing_ok=True)
    return (usage.ru_utime + usage.ru_stime) * 1e9


def server_workload(tmp, lines, cell):
    """The server's CPU per request for each variant (median of RUNS, variants interleaved),
    and each one's ratio to the untraced server's."""
    bins = build_server()
    cpu = {}
    for _ in range(RUNS):
        for name, kind, env in SERVER_VARIANTS:
            small, large = (serve_once(bins[kind], env, tmp, n) for n in SERVER_REQUESTS)
            cpu.setdefault(name, []).append((large - small) / (SERVER_REQUESTS[1] - SERVER_REQUESTS[0]))
    per_request = {name: statistics.median(v) for name, v in cpu.items()}
    base = per_request["server untraced"]
    lines += ["", f"Tokio server (`examples/src/bin/server.rs`, release): SET requests over "
                  f"{SERVER_CONNECTIONS} loopback connections from a client in this script; the server "
                  f"process's CPU (user + sys, wait4) for {SERVER_REQUESTS[1]:,} requests minus that for "
                  f"{SERVER_REQUESTS[0]:,}, per request, median of {RUNS} runs; each request is 6 traced "
                  "calls (read_line, Shutdown::recv, parse, apply, Db::set, write_line):", ""]
    lines += table(["variant", "server CPU per request (µs)", "× untraced"],
                   [[name, cell(v / 1000, "{:.2f}"), cell(v / base, "{:.2f}x")]
                    for name, v in per_request.items()])
    return {name: v / base for name, v in per_request.items()}


def spawn_links(bins, tmp, lines, table, cell, quick, unlinked="async", linked="async-linked",
                caption="Spawn links: 50,000 tokio tasks spawned from untraced code (unlinked) or from inside one "
                        "traced call (linked: every task's chain goes on from it)."):
    """The cost of linking each spawned task to the call that made its future: the async
    workload spawned from untraced code (`unlinked`) against the same tasks spawned from inside
    one traced call (`linked`). Wall time per task (median), and whole-process instructions per
    task from callgrind (6,000 tasks minus 2,000, on one thread, so that start-up cancels out
    and the counts repeat). Returns the extra instructions per task, in percent of the unlinked
    per-task cost, and in instructions, per traced variant."""
    runs = {}
    for _ in range(1 if quick else RUNS):
        for name, kind, variant, env in LINK_VARIANTS:
            for w in (unlinked, linked):
                runs.setdefault((name, w), []).append(run_one(bins[kind], variant, w, env, tmp))
    per_task = {k: statistics.median(r["ns"] for r in rs) / 50_000 for k, rs in runs.items()}
    counts = {}
    if shutil.which("valgrind"):
        for name, kind, variant, env in LINK_VARIANTS:
            for w in (unlinked, linked):
                small = callgrind(bins[kind], variant, env, tmp, f"{w}-small", False)
                medium = callgrind(bins[kind], variant, env, tmp, f"{w}-medium", False)
                counts[(name, w)] = None if None in (small, medium) else (medium - small) / 4_000
    lines += ["", f"{caption} Wall ns per task (median), and whole-process instructions per task (callgrind, "
              "one worker thread):", ""]
    rows, extra = [], {}
    for name, *_ in LINK_VARIANTS:
        u, l = per_task[(name, unlinked)], per_task[(name, linked)]
        cu, cl = counts.get((name, unlinked)), counts.get((name, linked))
        pct = None if None in (cu, cl) else (cl - cu) / cu * 100
        if name != BASELINE:
            extra[name.removeprefix("ours, ")] = (pct, None if None in (cu, cl) else cl - cu)
        rows.append([name, f"{u:.0f}", f"{l:.0f}", f"{l / u:.2f}x", cell(cu, "{:.0f}"), cell(cl, "{:.0f}"),
                     cell(pct, "{:+.1f}%")])
    lines += table(["variant", "unlinked ns", "linked ns", "ratio", "unlinked instr", "linked instr",
                    "linked vs unlinked instr"], rows)
    return extra


# The cost of values: the fns of the benchmark's `values` module, each called in a loop of root
# frames, untraced (the feature off) and traced with `TRACE_OUT=off`.
VALUE_FNS = [
    ("plain", "`#[trace] fn f(a: u64, b: u64) -> u64`"),
    ("args-ret", "`#[trace(args, ret)] fn f(a: u64, b: u64) -> u64`"),
    ("err", "`#[trace(err)] fn f(a: u64) -> Result<u64, E>` returning `Ok`"),
]
VALUE_CALLS = (20_000, 40_000)


def value_costs(bins, tmp, lines, table, cell):
    """Instructions per call of recording values, on the traced thread: callgrind counts inside
    the calling loop (`values::calls`), for 40,000 calls less 20,000 so that the first call's
    setup and the loop's fixed costs cancel out."""
    if not shutil.which("valgrind"):
        return {}
    small, large = VALUE_CALLS
    region = "trace_benchmarks::values::calls"
    rows, results = [], {}
    for fn, label in VALUE_FNS:
        per_call = {}
        for kind, env in (("off", {}), ("on", {"TRACE_OUT": "off"})):
            a = callgrind(bins[kind], "ours", env, tmp, f"values-{fn}-{small}", True, region)
            b = callgrind(bins[kind], "ours", env, tmp, f"values-{fn}-{large}", True, region)
            per_call[kind] = None if None in (a, b) else (b - a) / (large - small)
        results[fn] = per_call
        cost = None if None in per_call.values() else per_call["on"] - per_call["off"]
        rows.append([label, cell(per_call["off"]), cell(per_call["on"]), cell(cost)])
    lines += ["", "The cost of values (`#[trace(args, ret, err)]`): instructions per call on the traced "
              f"thread (valgrind callgrind inside the calling loop, {large:,} calls less {small:,}; each "
              "call a root frame; traced with `TRACE_OUT=off`), the fn untraced (feature off), traced, and "
              "the difference:", ""]
    lines += table(["fn", "untraced", "traced", "tracing's cost"], rows)
    return results


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, {rustc}, load average {load}"


def table(header, rows):
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + \
        ["| " + " | ".join(r) + " |" for r in rows]


def main():
    bins = build()
    if VALUES_ONLY:
        lines = []
        with tempfile.TemporaryDirectory() as tmp:
            value_costs(bins, tmp, lines, table, lambda x, fmt="{:.1f}": "n/a" if x is None else fmt.format(x))
        print("\n".join(lines))
        return
    workloads = ["recursive", "threads"] if QUICK else WORKLOADS
    results = {}
    lines = [f"Machine at the start: {machine()}. Median of {RUNS} runs per cell, variants interleaved.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(RUNS):
            for w in workloads:
                for name, kind, variant, env in VARIANTS:
                    if (name, w) in UNSUPPORTED:
                        continue
                    results.setdefault((name, w), []).append(run_one(bins[kind], variant, w, env, tmp))

        def median(name, w, key):
            rs = results.get((name, w))
            return statistics.median(r[key] for r in rs) if rs else None

        def per_call(name, w, key):
            m = median(name, w, key)
            return None if m is None else m / results[(name, w)][0]["calls"]

        def cell(x, fmt="{:.1f}"):
            return "n/a" if x is None else fmt.format(x)

        wall = {(n, w): per_call(n, w, "ns") for n, *_ in VARIANTS for w in workloads}
        cpu = {(n, w): per_call(n, w, "cpu_ns") for n, *_ in VARIANTS for w in workloads}

        def ratio(table_, name, w, to):
            a, b = table_[(name, w)], table_[(to, w)]
            return None if a is None or b is None else a / b

        lines.append("ns per traced call: wall time of the workload on the traced threads / traced calls "
                     "(collectors working beside them count only as far as they slow them down):")
        lines.append("")
        lines += table(["variant", *workloads],
                       [[n, *(cell(wall[(n, w)]) for w in workloads)] for n, *_ in VARIANTS])
        lines += ["", "The same, as a multiple of the floor's time per call:", ""]
        lines += table(["variant", *workloads],
                       [[n, *(cell(ratio(wall, n, w, FLOOR), "{:.2f}x") for w in workloads)]
                        for n, *_ in VARIANTS])
        # The traced threads' own CPU time: below their wall time when they wait (for a
        # collector that has fallen behind); async is left out, tokio's workers run more.
        tcpu = {(n, w): per_call(n, w, "traced_cpu_ns") if w != "async" else None
                for n, *_ in VARIANTS for w in workloads}
        cpu_workloads = [w for w in workloads if w != "async"]
        lines += ["", "CPU time of the traced threads themselves in the timed region / traced calls, in ns "
                  "(threads: both workers' CPU added up), and as a multiple of the floor's; the gap to the wall "
                  "time above is time a traced thread spent waiting:", ""]
        lines += table(["variant", *cpu_workloads, *(f"× floor ({w})" for w in cpu_workloads)],
                       [[n, *(cell(tcpu[(n, w)]) for w in cpu_workloads),
                         *(cell(ratio(tcpu, n, w, FLOOR), "{:.2f}x") for w in cpu_workloads)]
                        for n, *_ in VARIANTS])
        lines += ["", "Total CPU per traced call: user + sys of the whole process (every thread, collectors "
                  "included, start-up and exit too) / traced calls, in ns; peak RSS of the one-tree "
                  "recursive workload (about a million calls):", ""]
        lines += table(["variant", *workloads, "× floor (recursive)", "peak RSS, recursive (MiB)"],
                       [[n, *(cell(cpu[(n, w)]) for w in workloads),
                         cell(ratio(cpu, n, "recursive", FLOOR), "{:.2f}x"),
                         cell(None if median(n, "recursive", "rss_kib") is None
                              else median(n, "recursive", "rss_kib") / 1024)]
                        for n, *_ in VARIANTS])
        fast = results[(FASTRACE, "recursive")][0]
        lines.append("")
        lines.append(f"fastrace kept {fast['spans']} of {fast['calls']} spans of the one-tree recursive workload "
                     "(it records at most 10,240 spans under one root); recursive-chunks is the same calls in "
                     "trees it records whole.")

        # Bytes per event: the recording's own count (TRACE_VERBOSE), and its file over 2 events
        # per call; the floor's file over 2 events per call (16 by construction, plus warm-up).
        def bpe(name, key):
            out = []
            for w in workloads:
                rs = results.get((name, w), [])
                if key == "verbose":
                    vals = [r["rec_bytes"] / r["rec_events"] for r in rs if r.get("rec_events")]
                else:
                    vals = [r[key] / (2 * r["calls"]) for r in rs if r.get(key)]
                out.append(cell(statistics.median(vals) if vals else None, "{:.2f}"))
            return out

        lines += ["", "Bytes per event of the recording (ours: `TRACE_VERBOSE`'s count of bytes and events, and "
                  "the file's size / (2 x traced calls); floor: its file / (2 x traced calls)):", ""]
        lines += table(["recording", *workloads],
                       [["ours, recording only (TRACE_VERBOSE)", *bpe(OURS_RECORDING, "verbose")],
                        ["ours, recording only (file size)", *bpe(OURS_RECORDING, "rec_file")],
                        ["floor (file size)", *bpe(FLOOR, "bytes")]])

        # Instruction counts: stable on a noisy machine.
        callgrind_results = {}
        if shutil.which("valgrind"):
            small, medium = 21_891, 57_313
            lines += ["", "Instructions per traced call (valgrind callgrind), minus the baseline's; 0 means "
                      "identical. Traced thread: counted inside the workload's fns (recursive-small, 21,891 "
                      "calls). Whole process: every thread, collector included, as the difference between "
                      "recursive-medium (57,313 calls) and recursive-small, so that start-up and fixed costs "
                      "cancel out:", ""]
            counts = {}
            for name, kind, variant, env in VARIANTS:
                counts[name] = (callgrind(bins[kind], variant, env, tmp, "recursive-small", True),
                                callgrind(bins[kind], variant, env, tmp, "recursive-small", False),
                                callgrind(bins[kind], variant, env, tmp, "recursive-medium", False))
            b_fns, b_small, b_medium = counts[BASELINE]
            rows = []
            for name, *_ in VARIANTS[1:]:
                fns, s, m = counts[name]
                traced = None if None in (fns, b_fns) else (fns - b_fns) / small
                whole = None if None in (s, m, b_small, b_medium) else \
                    ((m - s) - (b_medium - b_small)) / (medium - small)
                callgrind_results[name] = (traced, whole)
                rows.append([name, cell(traced), cell(whole)])
            lines += table(["variant", "traced thread", "whole process"], rows)
            value_costs(bins, tmp, lines, table, cell)

        # Spawn links: the async workload's tasks spawned from inside one traced call (each task
        # linked to it) against the same tasks spawned from untraced code.
        link_results = spawn_links(bins, tmp, lines, table, cell, QUICK)
        # Async blocks: the same tasks as `async move { task_a(i).await }` blocks, made in
        # untraced code or in one traced call (each block notes that frame; its task links to it).
        block_results = spawn_links(
            bins, tmp, lines, table, cell, QUICK, "async-blocks", "async-blocks-linked",
            "Async blocks: 50,000 tokio tasks spawned as `async move { .. }` blocks made in untraced code "
            "(unlinked) or inside one traced call (linked: each block notes the call, its task's chain goes "
            "on from it).")

        # Scaling: events per second with one and two threads tracing at once.
        lines += ["", "Two threads tracing at once (seed chain, 2,000,000 calls per thread), events per second "
                  "relative to one thread:", ""]
        # The untraced baseline shows what this machine's two cores give any program; hot path
        # only (TRACE_OUT=off, no recording: records taken, decoded, nothing written) isolates
        # the capture from the views.
        scaling = [v for v in VARIANTS if v[0] in (BASELINE, FLOOR, OURS_RECORDING, OURS_PRINT)]
        scaling.append(("ours, decoding only (TRACE_OUT=off, no recording)", "on", "ours",
                        {"TRACE_OUT": "off", **EVERY_CALL}))
        # A run that only records collects in lanes: one collector per thread here.
        scaling.append((OURS_LANES, "on", "ours", {**RECORDING, "TRACE_COLLECTORS": "2"}))
        scale_runs = {}
        for _ in range(RUNS):
            for name, kind, variant, env in scaling:
                for w in ("scale1", "scale2"):
                    scale_runs.setdefault((name, w), []).append(run_one(bins[kind], variant, w, env, tmp))
        rows = []
        scaling_results = {}
        for name, *_ in scaling:
            rates = {}
            for w in ("scale1", "scale2"):
                rs = scale_runs[(name, w)]
                rates[w] = 2 * rs[0]["calls"] / statistics.median(r["ns"] for r in rs) * 1e3
            scaling_results[name] = rates["scale2"] / rates["scale1"]
            rows.append([name, f"{rates['scale1']:.1f}", f"{rates['scale2']:.1f}",
                         f"{rates['scale2'] / rates['scale1']:.2f}x"])
        # The floor's own scaling is what two traced threads can get on this machine at the
        # moment (other load takes cores away): the last column divides by it.
        for row, (name, *_) in zip(rows, scaling):
            row.append(f"{scaling_results[name] / scaling_results[FLOOR]:.2f}")
        lines += table(["variant", "1 thread (M events/s)", "2 threads (M events/s)", "scaling",
                        "÷ the floor's scaling"], rows)

        server = server_workload(tmp, lines, cell)

        # The targets.
        def verdict(ok):
            return "n/a" if ok is None else ("met" if ok else "missed")

        # Issue 16's targets, in its words; then the earlier ones still held.
        targets = []
        for w in ("recursive", "threads"):
            r = ratio(wall, OURS_RECORDING, w, FLOOR)
            targets.append([f"recording only, {w}: wall time per call at most 1.3x the floor's",
                            cell(r, "{:.2f}x") + f" (traced threads' CPU: {cell(ratio(tcpu, OURS_RECORDING, w, FLOOR), '{:.2f}x')})",
                            verdict(None if r is None else r <= 1.3)])
        for name, limit in ((OURS_RECORDING, 1.5), (OURS_PRINT, 2.0)):
            for w in ("recursive", "threads"):
                c = ratio(cpu, name, w, FLOOR)
                targets.append([f"{name.removeprefix('ours, ')}, {w}: whole-process CPU per call at most "
                                f"{limit}x the floor's", cell(c, "{:.2f}x"), verdict(None if c is None else c <= limit)])
        for name in (OURS_RECORDING, OURS_LANES, OURS_PRINT):
            s_ = scaling_results.get(name)
            rel = None if s_ is None else s_ / scaling_results[FLOOR]
            targets.append([f"{name.removeprefix('ours, ')}: two threads scale at least 90% as well as the floor's",
                            f"{cell(s_, '{:.2f}x')} vs the floor's {scaling_results[FLOOR]:.2f}x ({cell(rel, '{:.0%}')})",
                            verdict(None if rel is None else rel >= 0.9)])
        traced, whole = callgrind_results.get(OURS_RECORDING, (None, None))
        targets.append(["traced thread: at most 100 instructions per call (callgrind)", cell(traced),
                        verdict(None if traced is None else traced <= 100)])
        if None not in (traced, whole):
            # Two events per call; the collector's share is what the whole process spends beyond
            # the traced thread. A thread that does nothing but traced calls makes an event every
            # traced/2 instructions: one collector keeps up with traced/2 over its own count.
            # A run that only records collects in lanes (`TRACE_COLLECTORS`), each keeping up
            # with as many: the collectors that 16 such threads need is what scaling costs.
            per_event = (whole - traced) / 2
            per_collector = traced / 2 / per_event
            targets.append(["collector: instructions per event, the tight-loop traced threads one collector "
                            "keeps up with, and the collectors (TRACE_COLLECTORS) 16 such threads need",
                            f"{per_event:.0f}; {per_collector:.2f} threads; {math.ceil(16 / per_collector)} collectors",
                            verdict(per_collector >= 16)])
        if "recursive-chunks" in workloads:
            a, b = wall[(OURS_RECORDING, "recursive-chunks")], wall[(FASTRACE, "recursive-chunks")]
            ca, cb = cpu[(OURS_RECORDING, "recursive-chunks")], cpu[(FASTRACE, "recursive-chunks")]
            targets.append(["recording only faster than fastrace recording every span (recursive-chunks): wall, "
                            "whole-process CPU", f"{a:.1f} vs {b:.1f} ns; {ca:.1f} vs {cb:.1f} ns",
                            verdict(a < b and ca < cb)])
        for name, (extra, _) in link_results.items():
            targets.append([f"spawn link, {name}: at most 5% over the async per-task cost (callgrind)",
                            cell(extra, "{:+.1f}%"), verdict(None if extra is None else extra <= 5.0)])
        for name, (extra, instr) in block_results.items():
            targets.append([f"async block link, {name}: instructions per block made and spawned (callgrind)",
                            f"{cell(instr, '{:+.0f}')} ({cell(extra, '{:+.1f}%')})", "measured"])
        for name, limit in ((OURS_RECORDING, 1.3), (OURS_PRINT, 2.0)):
            r = server.get(name)
            targets.append([f"tokio server, {name.removeprefix('ours, ')}: server CPU per request at most "
                            f"{limit}x untraced", cell(r, "{:.2f}x"), verdict(None if r is None else r <= limit)])
        off = callgrind_results.get(OURS_OFF, (None, None))[0]
        rss = {n: median(n, "recursive", "rss_kib") for n in (BASELINE, OURS_RECORDING, OURS_PRINT)}
        if None not in rss.values():
            targets.append(["memory: peak RSS on the one-tree recursive workload (baseline "
                            f"{rss[BASELINE] / 1024:.1f} MiB)", ", ".join(
                                f"{n.removeprefix('ours, ')} {rss[n] / 1024:.1f} MiB"
                                for n in (OURS_RECORDING, OURS_PRINT)), "see above"])
        targets.append(["feature off: instruction for instruction identical to the baseline",
                        cell(off, "{:.1f} instructions per call"), verdict(None if off is None else off == 0)])
        lines += ["", "The issue's targets:", ""]
        lines += table(["target", "measured", ""], targets)
    lines += ["", f"Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}."]
    text = "\n".join(lines)
    print(text)
    (HERE / "RESULTS.md").write_text("# Latest benchmark results\n\nProduced by `python3 benchmarks/run.py"
                                     + (f" --runs {RUNS}" if RUNS != 5 else "") + "`.\n\n" + text + "\n")


if __name__ == "__main__":
    main()
