//! Zero cost when off, for both front ends: built without its `trace` feature, a crate compiles
//! to the same machine code as it would without tracing, in release and in debug.
//!
//! - `#[trace]`: the fixture as annotated, against the same crate with every annotation blanked
//!   out (same crate name, same path, same line numbers).
//! - `trace-rewriter instrument`: the un-annotated crate, against the same crate instrumented by
//!   the CLI (same name and path).
//!
//! Each check also builds with the feature on and requires different code that links the
//! runtime, so that the comparison is known to be able to fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/zero-cost");
const RUNTIME: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../trace-runtime");

/// Where a check builds: fixed, so that variants share a path and later runs reuse builds.
fn work_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("zero-cost")
        .join(name)
}

fn fixture_source() -> String {
    std::fs::read_to_string(Path::new(FIXTURE).join("src/main.rs")).unwrap()
}

fn fixture_manifest() -> String {
    let text = std::fs::read_to_string(Path::new(FIXTURE).join("Cargo.toml.in")).unwrap();
    text.replace("{RUNTIME}", RUNTIME)
}

/// Writes a file only when its text changes, so cargo's mtime check sees real edits only.
fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

/// Replaces every `#[trace...]` attribute and the `use` of it with spaces of the same length,
/// keeping every other byte (and so every line and column) where it was.
fn blank_annotations(source: &str) -> String {
    let import = "use trace_runtime::trace;";
    let mut out = source.replace(import, &" ".repeat(import.len()));
    while let Some(start) = out.find("#[trace") {
        let end = start + out[start..].find(']').expect("attribute closes") + 1;
        out.replace_range(start..end, &" ".repeat(end - start));
    }
    out
}

struct Build {
    text: Vec<u8>,
    runtime_symbols: usize,
}

fn build(dir: &Path, release: bool, features: &[&str]) -> Build {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(dir)
        .args(["build", "--quiet"])
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env("CARGO_TARGET_DIR", dir.join("target"));
    if release {
        cmd.arg("--release");
    }
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    assert!(
        cmd.status().expect("run cargo").success(),
        "building the fixture failed"
    );
    let bin = dir
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join(format!("zero-cost-fixture{}", std::env::consts::EXE_SUFFIX));
    let bytes = std::fs::read(&bin).unwrap();
    let file = object::File::parse(&*bytes).expect("parse the binary");
    let text = file
        .section_by_name(".text")
        .expect("a .text section")
        .data()
        .unwrap()
        .to_vec();
    let runtime_symbols = file
        .symbols()
        .filter(|s| s.name().is_ok_and(|n| n.contains("trace_runtime")))
        .count();
    Build {
        text,
        runtime_symbols,
    }
}

fn assert_zero_cost(off: &Build, untraced: &Build, on: &Build) {
    assert_ne!(on.text, untraced.text, "the traced build must differ");
    assert!(on.runtime_symbols > 0, "the traced build calls the runtime");
    assert_eq!(
        off.runtime_symbols, untraced.runtime_symbols,
        "no runtime symbol when off"
    );
    assert!(
        off.text == untraced.text,
        ".text differs with the feature off ({} vs {} bytes)",
        off.text.len(),
        untraced.text.len()
    );
}

fn macro_front_end(release: bool) {
    let dir = work_dir(if release {
        "macro-release"
    } else {
        "macro-debug"
    });
    // The workspace's lockfile pins the fixture's dependencies too.
    write(
        &dir.join("Cargo.lock"),
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap(),
    );
    write(&dir.join("Cargo.toml"), &fixture_manifest());
    let main = dir.join("src/main.rs");
    write(&main, &fixture_source());
    let off = build(&dir, release, &[]);
    let on = build(&dir, release, &["trace"]);
    write(&main, &blank_annotations(&fixture_source()));
    let blank = build(&dir, release, &[]);
    write(&main, &fixture_source());
    assert_zero_cost(&off, &blank, &on);
}

fn cli_front_end(release: bool) {
    let dir = work_dir(if release { "cli-release" } else { "cli-debug" });
    write(
        &dir.join("Cargo.lock"),
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap(),
    );
    // The crate as a user has it before instrumenting: no annotation, no dependency.
    let manifest = fixture_manifest();
    let plain_manifest = &manifest[..manifest.find("[dependencies]").unwrap()];
    let plain_source =
        blank_annotations(&fixture_source()).replace("trace_runtime::chain().len()", "0usize");
    let main = dir.join("src/main.rs");
    write(&dir.join("Cargo.toml"), plain_manifest);
    write(&main, &plain_source);
    let original = build(&dir, release, &[]);
    let out = common::run(&dir, &["instrument", ".", "--runtime-path", RUNTIME]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(std::fs::read_to_string(&main)
        .unwrap()
        .contains("__trace_guard"));
    let off = build(&dir, release, &[]);
    let on = build(&dir, release, &["trace"]);
    assert!(common::run(&dir, &["remove", "."]).status.success());
    assert_eq!(std::fs::read_to_string(&main).unwrap(), plain_source);
    assert_zero_cost(&off, &original, &on);
}

#[test]
fn macro_feature_off_is_identical_machine_code_in_release() {
    macro_front_end(true);
}

#[test]
fn macro_feature_off_is_identical_machine_code_in_debug() {
    macro_front_end(false);
}

#[test]
fn cli_feature_off_is_identical_machine_code_in_release() {
    cli_front_end(true);
}

#[test]
fn cli_feature_off_is_identical_machine_code_in_debug() {
    cli_front_end(false);
}
