#!/usr/bin/env python3
"""Times trace-rewriter on a large published crate beside rustfmt on the same sources.

    scripts/bench-rewriter.py [NAME@VERSION]      default: regex-syntax@0.8 (about 58,000 lines)

Each command runs 7 times, side by side in one run; the table shows the median and the
fastest wall time, and each median as a ratio of rustfmt --check's.
"""
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
SPEC = sys.argv[1] if len(sys.argv) > 1 else "regex-syntax@0.8"
RUNS = 7


def timed(cmd, cwd):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "trace-rewriter"], cwd=REPO, check=True)
    tool = REPO / "target" / "release" / "trace-rewriter"
    work = pathlib.Path(tempfile.mkdtemp(prefix="trace-bench-"))
    try:
        subprocess.run([str(REPO.parent / "shared" / "realcrates" / "fetch.sh"), str(work), SPEC],
                       check=True, stdout=subprocess.DEVNULL)
        crate = next(p for p in work.iterdir() if p.is_dir())
        files = list((crate / "src").rglob("*.rs"))
        lines = sum(f.read_text(encoding="utf-8").count("\n") for f in files)
        edition = "2021"
        for line in (crate / "Cargo.toml").read_text().splitlines():
            if line.startswith("edition"):
                edition = line.split("=")[1].strip().strip('"')
        check = [str(tool), "instrument", ".", "--check"]
        rustfmt = ["rustfmt", "--check", "--edition", edition] + [str(f) for f in files]
        variants = {
            "trace-rewriter instrument --check": lambda: timed(check, crate),
            "trace-rewriter instrument + remove (writes)": lambda: timed([str(tool), "instrument", "."], crate)
            + timed([str(tool), "remove", "."], crate),
            "rustfmt --check": lambda: timed(rustfmt, crate),
        }
        times = {name: [] for name in variants}
        for _ in range(RUNS):
            # Interleaved, so that a noisy moment hits every variant alike.
            for name, run in variants.items():
                times[name].append(run())
        base = statistics.median(times["rustfmt --check"])
        print(f"{SPEC}: {len(files)} files, {lines} lines; {os.cpu_count()} cores; {RUNS} runs each")
        print(f"| command | median | fastest | median / rustfmt |")
        print(f"| --- | --- | --- | --- |")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"| {name} | {med:.3f} s | {min(ts):.3f} s | {med / base:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
