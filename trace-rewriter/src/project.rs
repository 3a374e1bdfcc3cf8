//! What a PATH means: a crate, a workspace's members, or one `.rs` file; and each crate's
//! target roots, read from `cargo metadata`.

use std::path::{Path, PathBuf};

use cargo_metadata::{MetadataCommand, TargetKind};

use crate::diag::Diagnostic;

/// One crate to work on.
#[derive(Clone, Debug)]
pub struct Crate {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: PathBuf,
    /// 2015-edition crates need `extern crate trace_runtime;` in each root.
    pub edition_2015: bool,
    /// Root files of the selected targets (lib, bins; with `--all-targets` also tests,
    /// examples, benches), deduplicated.
    pub roots: Vec<PathBuf>,
    /// The selected targets as cargo names them, kind first: `lib demo`, `bin app`.
    pub targets: Vec<String>,
    /// Targets left out (`test smoke`), with why.
    pub left_out: Vec<(String, &'static str)>,
}

/// What a PATH resolves to.
#[derive(Clone, Debug)]
pub enum Scope {
    /// A single file: no module following, no manifest.
    File(PathBuf),
    /// Crates of one workspace.
    Crates {
        crates: Vec<Crate>,
        workspace_root: PathBuf,
        target_dir: PathBuf,
    },
}

/// Resolves PATH.
pub fn resolve(path: &Path, all_targets: bool) -> Result<Scope, Diagnostic> {
    if !path.exists() {
        return Err(Diagnostic::new(path, "no such file or directory")
            .help("give a crate directory, a workspace directory, or a .rs file"));
    }
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            return Ok(Scope::File(path.to_path_buf()));
        }
        if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            return resolve(path.parent().unwrap_or(Path::new(".")), all_targets);
        }
        return Err(
            Diagnostic::new(path, "not a .rs file nor a crate directory").help(
                "give a crate directory (with a Cargo.toml), a workspace directory, or a .rs file",
            ),
        );
    }
    let manifest = path.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(
            Diagnostic::new(path, "not a crate: there is no Cargo.toml here").help(
                "give a crate directory (with a Cargo.toml), a workspace directory, or a .rs file",
            ),
        );
    }
    let meta = MetadataCommand::new()
        .manifest_path(&manifest)
        .no_deps()
        .exec()
        .map_err(|e| {
            Diagnostic::new(
                &manifest,
                format!("cargo metadata failed: {}", one_line(&e.to_string())),
            )
            .help("fix the manifest so that `cargo metadata` accepts it")
        })?;
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let wanted = canonical(&manifest);
    let workspace_root: PathBuf = meta.workspace_root.clone().into();
    let is_workspace_root = canonical(&workspace_root.join("Cargo.toml")) == wanted;
    let mut crates = Vec::new();
    for package in &meta.packages {
        let pkg_manifest: PathBuf = package.manifest_path.clone().into();
        if !is_workspace_root && canonical(&pkg_manifest) != wanted {
            continue;
        }
        if !meta.workspace_members.contains(&package.id) {
            continue;
        }
        let mut roots: Vec<PathBuf> = Vec::new();
        let mut targets = Vec::new();
        let mut left_out = Vec::new();
        for target in &package.targets {
            let kind = &target.kind;
            let library = kind.iter().any(|k| {
                matches!(
                    k,
                    TargetKind::Lib
                        | TargetKind::RLib
                        | TargetKind::DyLib
                        | TargetKind::CDyLib
                        | TargetKind::StaticLib
                )
            });
            let take = if kind.contains(&TargetKind::ProcMacro) {
                left_out.push((
                    format!("{} {}", kind_name(kind, library), target.name),
                    "proc-macro crates run inside the compiler",
                ));
                false
            } else if kind.contains(&TargetKind::CustomBuild) {
                left_out.push((
                    format!("{} {}", kind_name(kind, library), target.name),
                    "build scripts are not part of the program",
                ));
                false
            } else if library || kind.contains(&TargetKind::Bin) || all_targets {
                true
            } else {
                left_out.push((
                    format!("{} {}", kind_name(kind, library), target.name),
                    "tests, examples and benches need --all-targets",
                ));
                false
            };
            let root: PathBuf = target.src_path.clone().into();
            if take {
                targets.push(format!("{} {}", kind_name(kind, library), target.name));
            }
            if take && !roots.contains(&root) {
                roots.push(root);
            }
        }
        crates.push(Crate {
            name: package.name.to_string(),
            dir: pkg_manifest
                .parent()
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            manifest: pkg_manifest,
            edition_2015: package.edition.as_str() == "2015",
            roots,
            targets,
            left_out,
        });
    }
    if crates.is_empty() {
        return Err(Diagnostic::new(
            &manifest,
            "no crate to work on: the workspace has no members here",
        ));
    }
    Ok(Scope::Crates {
        crates,
        workspace_root,
        target_dir: meta.target_directory.clone().into(),
    })
}

/// A target's kind as `cargo` spells it in `--lib`, `--bin`, `--test`, `--example`, `--bench`.
fn kind_name(kind: &[TargetKind], library: bool) -> &'static str {
    if library {
        "lib"
    } else if kind.contains(&TargetKind::Bin) {
        "bin"
    } else if kind.contains(&TargetKind::Test) {
        "test"
    } else if kind.contains(&TargetKind::Example) {
        "example"
    } else if kind.contains(&TargetKind::Bench) {
        "bench"
    } else if kind.contains(&TargetKind::ProcMacro) {
        "proc-macro"
    } else if kind.contains(&TargetKind::CustomBuild) {
        "build script"
    } else {
        "target"
    }
}

/// Every member's manifest in the workspace at `root`: its one Cargo.lock concerns them all,
/// also those outside the PATH given.
pub fn member_manifests(root: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let manifest = root.join("Cargo.toml");
    let meta = MetadataCommand::new()
        .manifest_path(&manifest)
        .no_deps()
        .exec()
        .map_err(|e| {
            Diagnostic::new(
                &manifest,
                format!("cargo metadata failed: {}", one_line(&e.to_string())),
            )
            .help("fix the manifest so that `cargo metadata` accepts it")
        })?;
    Ok(meta
        .packages
        .iter()
        .filter(|p| meta.workspace_members.contains(&p.id))
        .map(|p| p.manifest_path.clone().into())
        .collect())
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The target directory of the crate or workspace around `dir` (where `cargo build` from there
/// writes), as `cargo metadata` says: `CARGO_TARGET_DIR` and `build.target-dir` count.
pub fn target_dir(dir: &Path) -> Result<PathBuf, Diagnostic> {
    let meta =
        MetadataCommand::new()
            .current_dir(dir)
            .no_deps()
            .exec()
            .map_err(|e| {
                let e = one_line(&e.to_string());
                // Cargo's own words after its prefix: "error: could not find `Cargo.toml` ...".
                let why = match e.rsplit_once("error: ") {
                    Some((_, cargo)) if cargo.starts_with("could not find `Cargo.toml`") => {
                        "no Cargo.toml here or in a folder above".to_string()
                    }
                    _ => e,
                };
                Diagnostic::new(dir, format!("not in a crate, so no target directory: {why}"))
            .help(
                "run this from the crate `cargo trace run` recorded, or give the recording's FILE",
            )
            })?;
    Ok(meta.target_directory.into())
}
