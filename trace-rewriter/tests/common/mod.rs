//! Fixture crates copied to a temporary directory, and the CLI run on them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const BIN: &str = env!("CARGO_BIN_EXE_trace-rewriter");

/// A fresh copy of `testdata/NAME`.
pub fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name),
        dir.path(),
    );
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Every file under `dir` (but `target/`), by relative path, as bytes.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

/// Runs the CLI with `args`, from `cwd`, with no colour.
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run trace-rewriter")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).replace('\\', "/")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The workspace's target directory for this profile (this test runs from its `deps/`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// Builds the demos with tracing on, once, and returns a demo's path.
pub fn demo(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let release = target_dir().file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "-p",
            "trace-examples",
            "--features",
            "trace",
            "--bins",
        ])
        .current_dir(&workspace);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build for the demos");
        assert!(status.success(), "building the demos failed");
    });
    target_dir().join(name)
}

/// Durations (`850ns`, `12.3µs`, `4.5ms`, `2.01s`) replaced by `<t>`.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let glued = out
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let digits = from
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(from.len());
        let unit = ["ns", "µs", "ms", "s"]
            .into_iter()
            .find(|u| from[digits..].starts_with(u));
        let end_ok = |n: usize| {
            from[digits + n..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
        };
        match unit {
            Some(u) if !glued && end_ok(u.len()) => {
                out.push_str("<t>");
                rest = &from[digits + u.len()..];
            }
            _ => {
                out.push_str(&from[..digits]);
                rest = &from[digits..];
            }
        }
    }
    out.push_str(rest);
    out
}
