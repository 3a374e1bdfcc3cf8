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

/// Makes `dest` hold the files of `src` (leaving out `skip` dirs and `.git`), with `overlay`
/// replacing the text of some of them. Only files whose bytes differ are written, and files that
/// no longer exist in `src` are deleted from the copy.
pub fn sync(
    src: &Path,
    dest: &Path,
    skip: &[PathBuf],
    overlay: &HashMap<PathBuf, String>,
) -> Result<(), Diagnostic> {
    let mut wanted = HashSet::new();
    copy_dir(src, src, dest, skip, overlay, &mut wanted)?;
    prune(dest, &wanted);
    Ok(())
}

fn copy_dir(
    root: &Path,
    dir: &Path,
    dest_root: &Path,
    skip: &[PathBuf],
    overlay: &HashMap<PathBuf, String>,
    wanted: &mut HashSet<PathBuf>,
) -> Result<(), Diagnostic> {
    let entries =
        fs::read_dir(dir).map_err(|e| Diagnostic::new(dir, format!("cannot list: {e}")))?;
    for entry in entries {
        let entry = entry.map_err(|e| Diagnostic::new(dir, format!("cannot list: {e}")))?;
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".git") || skip.iter().any(|s| path.starts_with(s))
        {
            continue;
        }
        let rel = path.strip_prefix(root).expect("below the root");
        let dest = dest_root.join(rel);
        let meta =
            fs::metadata(&path).map_err(|e| Diagnostic::new(&path, format!("cannot stat: {e}")))?;
        if meta.is_dir() {
            fs::create_dir_all(&dest)
                .map_err(|e| Diagnostic::new(&dest, format!("cannot create: {e}")))?;
            copy_dir(root, &path, dest_root, skip, overlay, wanted)?;
        } else if meta.is_file() {
            let bytes = match overlay.get(&path) {
                Some(text) => text.clone().into_bytes(),
                None => fs::read(&path)
                    .map_err(|e| Diagnostic::new(&path, format!("cannot read: {e}")))?,
            };
            if fs::read(&dest).ok().as_deref() != Some(bytes.as_slice()) {
                fs::write(&dest, &bytes)
                    .map_err(|e| Diagnostic::new(&dest, format!("cannot write: {e}")))?;
            }
            wanted.insert(dest);
        }
    }
    Ok(())
}

fn prune(dir: &Path, wanted: &HashSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
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
