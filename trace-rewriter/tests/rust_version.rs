//! The declared `rust-version`s hold for the locked dependencies: every package a published
//! crate builds with (normal and build dependencies, as `Cargo.lock` pins them) declares a
//! `rust-version` no newer than the crate's own. Clippy's `incompatible_msrv` checks the
//! crates' own code against the same numbers (docs/rust-version.md).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// `1.85`, `1.85.0` and `1.91` as comparable triples.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text
        .split('.')
        .map(|p| p.parse::<u64>().expect("a version number"));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

#[test]
fn every_locked_dependency_builds_with_the_declared_rust_version() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--locked",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata's JSON");
    let packages: BTreeMap<&str, &Value> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().expect("an id"), p))
        .collect();
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("the resolve graph")
        .iter()
        .map(|n| (n["id"].as_str().expect("an id"), n))
        .collect();
    let published = [
        "trace-runtime",
        "trace-runtime-macros",
        "trace-transform",
        "trace-eager",
        "trace-rewriter",
    ];
    let mut too_new = Vec::new();
    for id in meta["workspace_members"].as_array().expect("members") {
        let id = id.as_str().expect("a member id");
        let package = packages[id];
        let name = package["name"].as_str().expect("a name");
        if !published.contains(&name) {
            continue;
        }
        let declared = package["rust_version"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} declares no rust-version"));
        let mut seen = BTreeSet::new();
        let mut stack = vec![id];
        while let Some(at) = stack.pop() {
            if !seen.insert(at) {
                continue;
            }
            for dep in nodes[at]["deps"].as_array().expect("deps") {
                let kinds = dep["dep_kinds"].as_array().expect("dep_kinds");
                if kinds
                    .iter()
                    .any(|k| k["kind"].is_null() || k["kind"] == "build")
                {
                    stack.push(dep["pkg"].as_str().expect("a package id"));
                }
            }
        }
        for dep in seen {
            let p = packages[dep];
            if let Some(needs) = p["rust_version"].as_str() {
                if version(needs) > version(declared) {
                    too_new.push(format!(
                        "{name} (rust-version {declared}) builds {} {}, which needs {needs}",
                        p["name"], p["version"]
                    ));
                }
            }
        }
    }
    assert!(too_new.is_empty(), "{}", too_new.join("\n"));
}
