//! Reading sources with clear errors, and writing them atomically with permissions kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;

/// Reads a file that must be UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes = fs::read(path).map_err(|e| {
        Diagnostic::new(path, format!("cannot read: {e}"))
            .help("check that the file exists and is readable")
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(&e.into_bytes()[..at]).into_owned();
        let line = text.matches('\n').count() + 1;
        let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Diagnostic::new(path, "not valid UTF-8; Rust sources must be UTF-8")
            .at(line, column)
            .help("re-encode the file as UTF-8, or leave it out with --exclude")
    })
}

/// Fails early for a file that cannot be replaced, before anything is written.
pub fn check_writable(path: &Path) -> Result<(), Diagnostic> {
    let meta =
        fs::metadata(path).map_err(|e| Diagnostic::new(path, format!("cannot stat: {e}")))?;
    if meta.permissions().readonly() {
        return Err(Diagnostic::new(path, "the file is read-only")
            .help("make it writable (chmod u+w), or leave it out with --exclude"));
    }
    Ok(())
}

/// Every temporary file this tool creates is named `.trace-rewriter-PID-XXXXXX.tmp` (PID the
/// writer's process id, X random), so that one left by a killed run is recognisable as ours.
const TEMP_PREFIX: &str = ".trace-rewriter-";
const TEMP_SUFFIX: &str = ".tmp";

/// Replaces a file's contents atomically: a temporary file beside it (created exclusively under
/// an unpredictable name, so a planted symlink is never followed), fsynced, given the old
/// file's permissions, renamed over it, and the directory fsynced, so that a run killed at any
/// moment leaves the file either old or new, and a crash right after keeps the new one.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Diagnostic> {
    // A source file that is a symlink stays one: the file it points to is replaced.
    let real;
    let path = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            real = path.canonicalize().map_err(|e| {
                Diagnostic::new(path, format!("cannot follow the symlink: {e}"))
                    .help("fix or remove the broken link")
            })?;
            real.as_path()
        }
        _ => path,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |what: &str, e: std::io::Error| {
        Diagnostic::new(path, format!("cannot {what}: {e}"))
            .help("check the directory's permissions and free space; the file is unchanged")
            .internal()
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| fail("create a temporary file beside it", e))?;
    // From here on, dropping `tmp` on any error deletes the temporary file.
    tmp.write_all(text.as_bytes())
        .map_err(|e| fail("write", e))?;
    if let Ok(meta) = fs::metadata(path) {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(|e| fail("keep permissions", e))?;
    }
    tmp.as_file().sync_all().map_err(|e| fail("sync", e))?;
    tmp.persist(path).map_err(|e| fail("replace", e.error))?;
    // The rename is durable only once the directory entry is on disk.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("sync the directory", e))
}

/// Deletes temporary files that a killed run of this tool left in `dir`: those named by
/// [`write_atomic`] and the `.NAME.trace-rewriter.PID.tmp` files of earlier versions, when
/// the process that made them is gone. Returns the files deleted.
pub fn remove_stale_temps(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_owner) else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        if entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink())
            && fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}

/// The process id in the name of one of this tool's temporary files.
fn temp_owner(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(TEMP_SUFFIX)?;
    let pid = match stem.strip_prefix(TEMP_PREFIX) {
        Some(rest) => rest.split_once('-')?.0,
        // The earlier pattern: `.NAME.trace-rewriter.PID.tmp`.
        None => stem.strip_prefix('.')?.rsplit_once(".trace-rewriter.")?.1,
    };
    pid.parse().ok()
}

/// Whether a process with this id is running; where that cannot be asked, it is taken as
/// running, so that nothing another run may still rename is deleted.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_old_and_new_give_their_owner() {
        assert_eq!(temp_owner(".trace-rewriter-4242-Ab3xYz.tmp"), Some(4242));
        assert_eq!(temp_owner(".lib.rs.trace-rewriter.77.tmp"), Some(77));
        assert_eq!(temp_owner(".a.b.rs.trace-rewriter.77.tmp"), Some(77));
        assert_eq!(temp_owner("lib.rs"), None);
        assert_eq!(temp_owner(".trace-rewriter-x-1.tmp"), None);
        assert_eq!(temp_owner(".lib.rs.trace-rewriter.77.tmp.bak"), None);
    }

    #[test]
    fn a_write_leaves_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.rs"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_source_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.rs");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("a.rs");
        std::os::unix::fs::symlink("real.rs", &link).unwrap();
        write_atomic(&link, "new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_neither_followed_nor_kept() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "untouched").unwrap();
        // A link under the old predictable name, as an attacker could have planted it.
        let planted = dir
            .path()
            .join(format!(".a.rs.trace-rewriter.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let path = dir.path().join("a.rs");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }
}
