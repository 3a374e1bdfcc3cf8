#!/usr/bin/env python3
"""Build time of a generated 500-fn crate: un-annotated, every fn annotated with #[trace]
(feature off and on), and instrumented by trace-rewriter (feature off and on).

    python3 benchmarks/compile_time.py [--runs N]

Two figures per variant, in CPU seconds: the crate's own rebuild (dependencies already built; median of N
runs after touching its source), and a clean build including dependencies (once), which is
where a macro's syn shows up.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNTIME = REPO / "trace-runtime"
RUNS = 5
for i, a in enumerate(sys.argv):
    if a == "--runs":
        RUNS = int(sys.argv[i + 1])

MODULES, PER_MODULE = 10, 50


def source(annotated):
    attr = "#[trace_runtime::trace]\n" if annotated else ""
    lib = ["//! 500 generated fns."]
    mods = {}
    for m in range(MODULES):
        lib.append(f"pub mod m{m};")
        fns = []
        for f in range(PER_MODULE):
            callee = f"f{f + 1}(x.wrapping_add({f}))" if f + 1 < PER_MODULE else "x"
            fns.append(
                f"{attr}pub fn f{f}(x: u64) -> u64 {{\n"
                f"    if x % 7 == {f % 7} {{\n        return x.rotate_left({f % 13});\n    }}\n"
                f"    let v: Vec<u64> = (0..(x % 5)).map(|i| i * {f + 1}).collect();\n"
                f"    v.iter().sum::<u64>() ^ {callee}\n}}\n"
            )
        mods[f"m{m}.rs"] = "\n".join(fns)
    return "\n".join(lib) + "\n", mods


def write_crate(dir, annotated, with_dep):
    (dir / "src").mkdir(parents=True, exist_ok=True)
    manifest = '[package]\nname = "gen500"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n'
    if with_dep:
        manifest += f'\n[dependencies]\ntrace-runtime = {{ path = "{RUNTIME}" }}\n\n[features]\ntrace = ["trace-runtime/enable"]\n'
    (dir / "Cargo.toml").write_text(manifest)
    lib, mods = source(annotated)
    (dir / "src" / "lib.rs").write_text(lib)
    for name, text in mods.items():
        (dir / "src" / name).write_text(text)


def cargo_build(dir, features, target):
    """CPU seconds (user + system) of the build's processes: steadier than wall time on a
    noisy machine, and what a build costs whatever the parallelism."""
    args = ["cargo", "build", "-q"] + (["--features", features] if features else [])
    env = dict(os.environ, CARGO_TARGET_DIR=str(target), CARGO_INCREMENTAL="0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, cwd=dir, env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def clean_build(dir, features, target):
    shutil.rmtree(target, ignore_errors=True)
    return cargo_build(dir, features, target)


def rebuild_once(dir, features, target):
    for f in (dir / "src").iterdir():
        f.touch()
    return cargo_build(dir, features, target)


def main():
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "trace-rewriter"], cwd=REPO, check=True)
    rewriter = REPO / "target" / "release" / "trace-rewriter"
    work = Path(tempfile.mkdtemp(prefix="trace-compile-"))
    try:
        plain = work / "plain"
        write_crate(plain, annotated=False, with_dep=False)
        macro = work / "macro"
        write_crate(macro, annotated=True, with_dep=True)
        cli = work / "cli"
        write_crate(cli, annotated=False, with_dep=False)
        subprocess.run([str(rewriter), "instrument", str(cli), "--runtime-path", str(RUNTIME)], check=True,
                       stderr=subprocess.DEVNULL)
        rows = [
            ("un-annotated", plain, None),
            ("#[trace] on every fn, feature off", macro, None),
            ("#[trace] on every fn, feature on", macro, "trace"),
            ("trace-rewriter instrumented, feature off", cli, None),
            ("trace-rewriter instrumented, feature on", cli, "trace"),
        ]
        targets = {name: work / "target" / name.replace(" ", "_").replace("#", "") for name, _, _ in rows}
        clean = {name: clean_build(dir, feat, targets[name]) for name, dir, feat in rows}
        # Rebuilds interleaved, variant after variant, so that the machine's noise hits all alike.
        rebuilds = {name: [] for name, _, _ in rows}
        for _ in range(RUNS):
            for name, dir, feat in rows:
                rebuilds[name].append(rebuild_once(dir, feat, targets[name]))
        results = [(name, statistics.median(rebuilds[name]), clean[name]) for name, _, _ in rows]
        base_rebuild, base_clean = results[0][1], results[0][2]
        lines = [f"500 fns in {MODULES} modules, debug builds, CPU seconds (user + system), median of {RUNS} "
                 "rebuilds interleaved across variants; clean = once, with dependencies.", "", "| variant | rebuild | vs un-annotated | clean build | vs un-annotated |",
                 "| --- | --- | --- | --- | --- |"]
        for name, rebuild, clean in results:
            lines.append(f"| {name} | {rebuild:.2f} s | {rebuild / base_rebuild * 100 - 100:+.1f}% | {clean:.2f} s "
                         f"| {clean / base_clean * 100 - 100:+.1f}% |")
        text = "\n".join(lines)
        print(text)
        (HERE / "COMPILE_TIME.md").write_text("# Compile time\n\nProduced by `python3 benchmarks/compile_time.py`.\n\n"
                                             + text + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
