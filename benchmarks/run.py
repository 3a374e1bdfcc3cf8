#!/usr/bin/env python3
"""Side-by-side benchmark of call tracers on the same workloads, in one run.

    python3 benchmarks/run.py [--runs N] [--quick]

Variants: the uninstrumented baseline; trace-runtime with its feature off, printing (human
lines to a file) and in record mode; the `trace` crate's #[trace] (println to the same kind of
file); tracing's #[instrument] with tracing-tree writing to a file; fastrace's #[trace] with a
collecting reporter. Workloads: a recursive tree of about a million calls (one tree, and the same
calls as 2,212 small trees), the seed call chain on two threads, and async tasks on tokio.

Prints (and writes to benchmarks/RESULTS.md) a table of ns per traced call, median of N runs
interleaved so that noise hits every variant alike, with each variant's ratio to ours; an
instruction-count view from valgrind's callgrind; and the two-thread scaling of ours.
"""
import json
import os
import platform
import shutil
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

VARIANTS = [
    # name, binary, variant arg, extra env
    ("baseline (no tracing)", "off", "baseline", {}),
    ("ours, feature off", "off", "ours", {}),
    ("ours, printing to a file", "on", "ours", {"TRACE_MODE": "print"}),
    ("ours, record mode", "on", "ours", {"TRACE_MODE": "record", "TRACE_BUFFER": "4194304"}),
    ("trace crate #[trace]", "off", "trace-crate", {}),
    ("tracing #[instrument] + tracing-tree", "off", "tracing-tree", {}),
    ("fastrace #[trace], collecting", "off", "fastrace", {}),
]
WORKLOADS = ["recursive", "recursive-chunks", "threads", "async"]
# The `trace` crate's #[trace] on an async fn panics at run time ("Formatting argument out of
# range"): it has no async support.
UNSUPPORTED = {("trace crate #[trace]", "async")}
OURS_PRINT = "ours, printing to a file"
OURS_RECORD = "ours, record mode"


def build():
    bins = {}
    for kind, features in (("off", []), ("on", ["--features", "trace"])):
        subprocess.run(["cargo", "build", "-q", "--release", *features], cwd=HERE, check=True)
        dest = HERE / "target" / f"bench-{kind}"
        shutil.copy(HERE / "target" / "release" / "trace-benchmarks", dest)
        bins[kind] = dest
    return bins


def run_one(binary, variant, workload, env, tmp):
    out = Path(tmp) / "trace.out"
    full_env = dict(os.environ, TRACE_OUT=str(out), TRACE_FORMAT="human")
    full_env.update(env)
    full_env.pop("NO_COLOR", None)
    with open(out, "wb") as stdout:
        p = subprocess.run([str(binary), variant, workload, str(out)], env=full_env, stdout=stdout,
                           stderr=subprocess.PIPE, check=True)
    line = [l for l in p.stderr.decode().splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    result["bytes"] = out.stat().st_size if out.exists() else 0
    out.unlink(missing_ok=True)
    return result


def callgrind(binary, variant, env, tmp):
    full_env = dict(os.environ, **env, TRACE_OUT=str(Path(tmp) / "cg.out.txt"))
    # Only inside the workload's fns (their callees included): process start-up varies by itself.
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                        "--toggle-collect=trace_benchmarks::*::fib", str(binary), variant,
                        "recursive-small", "x"], env=full_env, capture_output=True, text=True, cwd=tmp)
    for line in p.stderr.splitlines():
        if "Collected" in line:
            return int(line.split(":")[-1].strip())
    return None


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
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, {rustc}"


def main():
    bins = build()
    workloads = ["recursive", "threads"] if QUICK else WORKLOADS
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(RUNS):
            for w in workloads:
                for name, kind, variant, env in VARIANTS:
                    if (name, w) in UNSUPPORTED:
                        continue
                    r = run_one(bins[kind], variant, w, env, tmp)
                    results.setdefault((name, w), []).append(r)
        lines = [f"Machine: {machine()}. Median of {RUNS} runs per cell, variants interleaved.", ""]
        lines.append("ns per traced call (wall time of the workload / traced calls); ratio = this variant's time / ours:")
        lines.append("")
        header = "| variant | " + " | ".join(workloads) + " | × ours printing (recursive) | × ours record (recursive) |"
        lines += [header, "|" + " --- |" * (len(workloads) + 3)]
        med = {k: statistics.median(r["ns"] for r in v) / v[0]["calls"] for k, v in results.items()}
        for name, *_ in VARIANTS:
            cells = [f"{med[(name, w)]:.1f}" if (name, w) in med else "n/a" for w in workloads]
            rp = med[(name, "recursive")] / med[(OURS_PRINT, "recursive")]
            rr = med[(name, "recursive")] / med[(OURS_RECORD, "recursive")]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {rp:.2f} | {rr:.2f} |")
        fast = results[("fastrace #[trace], collecting", "recursive")][0]
        lines.append("")
        lines.append(f"fastrace kept {fast['spans']} of {fast['calls']} spans of the one-tree recursive workload "
                     "(it records at most 10,240 spans under one root); recursive-chunks is the same calls in "
                     "trees it records whole.")
        # Instruction counts: stable on a noisy machine.
        if shutil.which("valgrind"):
            lines += ["", "Instructions per traced call (valgrind callgrind, recursive-small: 21,891 calls, "
                      "counted inside the workload's fns, minus the baseline; 0 means identical):", "", "| variant | instructions per call |", "| --- | --- |"]
            base = callgrind(bins["off"], "baseline", {}, tmp)
            calls = 21_891
            for name, kind, variant, env in VARIANTS[1:]:
                n = callgrind(bins[kind], variant, env, tmp)
                if n is not None and base is not None:
                    lines.append(f"| {name} | {(n - base) / calls:.1f} |")
        # Scaling: events per second with one and two threads tracing at once.
        lines += ["", "Two threads tracing at once (seed chain, 2,000,000 calls per thread), events per second "
                  "relative to one thread:", "", "| variant | 1 thread (M events/s) | 2 threads (M events/s) | scaling |",
                  "| --- | --- | --- | --- |"]
        # The untraced baseline shows what this machine's two cores give any program; silent
        # (TRACE_OUT=off: records taken, nothing written) isolates the hot path from the shared file.
        scaling = [VARIANTS[0], VARIANTS[2], VARIANTS[3],
                   ("ours, hot path only (TRACE_OUT=off)", "on", "ours", {"TRACE_MODE": "print", "TRACE_OUT": "off"})]
        for name, kind, variant, env in scaling:
            rates = {}
            for w in ("scale1", "scale2"):
                rs = [run_one(bins[kind], variant, w, env, tmp) for _ in range(RUNS)]
                best = statistics.median(r["ns"] for r in rs)
                rates[w] = 2 * rs[0]["calls"] / best * 1e3
            lines.append(f"| {name} | {rates['scale1']:.1f} | {rates['scale2']:.1f} | {rates['scale2'] / rates['scale1']:.2f}x |")
    text = "\n".join(lines)
    print(text)
    (HERE / "RESULTS.md").write_text("# Latest benchmark results\n\nProduced by `python3 benchmarks/run.py`.\n\n" + text + "\n")


if __name__ == "__main__":
    main()
