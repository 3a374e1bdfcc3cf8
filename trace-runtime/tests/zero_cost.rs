//! Zero cost when off: a crate annotated with `#[trace]` and built without its `trace` feature
//! compiles to the same machine code as the same crate with every annotation blanked out (same
//! crate name, same path, same line numbers), in release and in debug.

use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zero-cost-fixture");

/// Where the fixture is built: fixed, so that the annotated and blank builds share a path and
/// later runs reuse the dependencies.
fn work_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("zero-cost")
}

/// Copies the fixture, applying `edit` to each source file.
fn write_fixture(dir: &Path, edit: &dyn Fn(&str) -> String) {
    let manifest = std::fs::read_to_string(Path::new(FIXTURE).join("Cargo.toml.in")).unwrap();
    let manifest = manifest.replace("{RUNTIME}", env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let source = std::fs::read_to_string(Path::new(FIXTURE).join("src/main.rs")).unwrap();
    let path = dir.join("src/main.rs");
    // Only rewrite when the text changes, so cargo's mtime check sees real edits only.
    let edited = edit(&source);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(edited.as_str()) {
        std::fs::write(&path, edited).unwrap();
    }
}

/// Replaces every `#[trace...]` attribute and the `use` of it with spaces of the same length,
/// keeping every other byte (and so every line and column) where it was.
fn blank_annotations(source: &str) -> String {
    let mut out = source.replace(
        "use trace_runtime::trace;",
        &" ".repeat("use trace_runtime::trace;".len()),
    );
    while let Some(start) = out.find("#[trace") {
        let end = start + out[start..].find(']').expect("attribute closes") + 1;
        out.replace_range(start..end, &" ".repeat(end - start));
    }
    out
}

struct Build {
    text: Vec<u8>,
    symbols: Vec<String>,
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
    let status = cmd.status().expect("run cargo");
    assert!(status.success(), "building the fixture failed");
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
    let symbols = file
        .symbols()
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect();
    Build { text, symbols }
}

fn mentions_runtime(b: &Build) -> usize {
    b.symbols
        .iter()
        .filter(|s| s.contains("trace_runtime"))
        .count()
}

fn check(release: bool) {
    let dir = work_dir().join(if release { "release" } else { "debug" });
    // The lockfile of the workspace pins the fixture's dependencies too.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();

    write_fixture(&dir, &|s| s.to_string());
    let off = build(&dir, release, &[]);
    let on = build(&dir, release, &["trace"]);
    write_fixture(&dir, &blank_annotations);
    let blank = build(&dir, release, &[]);
    write_fixture(&dir, &|s| s.to_string());

    // The check can fail: with the feature on, the code differs and the runtime is linked in.
    assert_ne!(on.text, blank.text, "the traced build must differ");
    assert!(
        mentions_runtime(&on) > 0,
        "the traced build calls the runtime"
    );

    assert_eq!(
        mentions_runtime(&off),
        mentions_runtime(&blank),
        "no runtime symbol when off"
    );
    assert!(
        off.text == blank.text,
        ".text differs with the feature off ({} vs {} bytes)",
        off.text.len(),
        blank.text.len()
    );
}

#[test]
fn feature_off_is_identical_machine_code_in_release() {
    check(true);
}

#[test]
fn feature_off_is_identical_machine_code_in_debug() {
    check(false);
}
