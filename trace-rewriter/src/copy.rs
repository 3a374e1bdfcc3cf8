//! `run`: a traced copy of the workspace under its target directory, kept in sync file by file
//! so that cargo rebuilds only what changed; the user's tree is only read.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use crate::diag::Diagnostic;

/// Where the copy and its build live, under the workspace's target directory.
pub fn copy_root(target_dir: &Path) -> PathBuf {
    target_dir.join("trace-rewriter").join("workspace")
}

/// Directories of version control systems: their contents are never part of a build.
const VCS_DIRS: &[&str] = &[
    ".git", ".hg", ".svn", ".bzr", "_darcs", ".pijul", ".jj", "CVS",
];

/// The files of the workspace under `root` that a build may read, as cargo's own view of the
/// tree has them: no `target/` beside a manifest, none of the `skip` dirs (the target
/// directory, wherever `CARGO_TARGET_DIR` puts it), no VCS directories, nothing `.gitignore`d
/// (read even outside a git checkout, as published crates are). Symlinks are followed, and a
/// link back to one of its own ancestors is left out rather than walked forever.
/// `Cargo.lock` is kept even when ignored: the copy must build with the versions the user
/// locked.
pub fn files(root: &Path, skip: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let skip = skip.to_vec();
    let walk = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .git_ignore(true)
        .git_exclude(true)
        .parents(true)
        .require_git(false)
        .follow_links(true)
        .filter_entry(move |entry| {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy();
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let build_output = name == "target"
                && path
                    .parent()
                    .is_some_and(|p| p.join("Cargo.toml").is_file());
            !(is_dir && (VCS_DIRS.contains(&name.as_ref()) || build_output))
                && !skip.iter().any(|s| path.starts_with(s))
        })
        .build();
    let mut out = Vec::new();
    for entry in walk {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) if is_loop(&e) => continue,
            Err(e) => {
                return Err(
                    Diagnostic::new(root, format!("cannot list the workspace: {e}"))
                        .help("make the directory readable, or report this as a trace-rewriter bug")
                        .internal(),
                )
            }
        };
        if entry.file_type().is_some_and(|t| t.is_file()) {
            out.push(entry.into_path());
        }
    }
    let lock = root.join("Cargo.lock");
    if lock.is_file() && !out.contains(&lock) {
        out.push(lock);
    }
    out.sort();
    Ok(out)
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

/// Makes `dest` hold `files` (found under `src` by [`files`]), with `overlay` replacing the
/// text of some of them. Only files whose bytes differ are written, and files of an earlier
/// sync that are no longer wanted are deleted from the copy.
pub fn sync(
    src: &Path,
    dest: &Path,
    files: &[PathBuf],
    overlay: &HashMap<PathBuf, String>,
) -> Result<(), Diagnostic> {
    let internal = |path: &Path, what: &str, e: std::io::Error| {
        Diagnostic::new(path, format!("cannot {what}: {e}"))
            .help("check that the target directory is writable and has space")
            .internal()
    };
    let mut wanted = HashSet::new();
    for path in files {
        let rel = path.strip_prefix(src).expect("found under the root");
        let to = dest.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| internal(parent, "create", e))?;
        }
        let bytes = match overlay.get(path) {
            Some(text) => text.clone().into_bytes(),
            None => fs::read(path).map_err(|e| {
                Diagnostic::new(path, format!("cannot read: {e}"))
                    .help("check that the file is readable")
            })?,
        };
        if fs::read(&to).ok().as_deref() != Some(bytes.as_slice()) {
            fs::write(&to, &bytes).map_err(|e| internal(&to, "write", e))?;
        }
        wanted.insert(to);
    }
    prune(dest, &wanted);
    Ok(())
}

fn prune(dir: &Path, wanted: &HashSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            prune(&path, wanted);
        } else if !wanted.contains(&path) {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Rewrites relative `path = "..."` dependencies that point outside the workspace as absolute
/// paths, so that they still resolve from the copy.
pub fn absolutize_paths(manifest: &str, original_dir: &Path, workspace_root: &Path) -> String {
    let Ok(mut doc) = manifest.parse::<DocumentMut>() else {
        return manifest.to_string();
    };
    let fix = |item: &mut Item| fix_dep_table(item, original_dir, workspace_root);
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(item) = doc.get_mut(key) {
            fix(item);
        }
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            if let Some(t) = target.as_table_like_mut() {
                for (_, deps) in t.iter_mut() {
                    fix(deps);
                }
            }
        }
    }
    if let Some(ws) = doc.get_mut("workspace").and_then(Item::as_table_like_mut) {
        if let Some(deps) = ws.get_mut("dependencies") {
            fix(deps);
        }
    }
    if let Some(patch) = doc.get_mut("patch").and_then(Item::as_table_like_mut) {
        for (_, source) in patch.iter_mut() {
            fix(source);
        }
    }
    doc.to_string()
}

fn fix_dep_table(deps: &mut Item, dir: &Path, workspace_root: &Path) {
    let Some(deps) = deps.as_table_like_mut() else {
        return;
    };
    for (_, dep) in deps.iter_mut() {
        let Some(spec) = dep.as_table_like_mut() else {
            continue;
        };
        let Some(path) = spec.get("path").and_then(Item::as_str).map(PathBuf::from) else {
            continue;
        };
        if path.is_absolute() {
            continue;
        }
        let joined = dir.join(&path);
        let resolved = joined.canonicalize().unwrap_or(joined);
        if !resolved.starts_with(workspace_root) {
            spec.insert("path", toml_edit::value(resolved.display().to_string()));
        }
    }
}

/// The copy's root manifest declares a workspace of its own, so that cargo never takes the
/// copy (which sits under the user's tree) for a member of an enclosing workspace.
pub fn standalone(manifest: &str) -> String {
    match manifest.parse::<DocumentMut>() {
        Ok(mut doc) if doc.get("workspace").is_none() => {
            doc.insert("workspace", Item::Table(toml_edit::Table::new()));
            doc.to_string()
        }
        _ => manifest.to_string(),
    }
}
