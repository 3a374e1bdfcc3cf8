//! Reading sources with clear errors, and writing them atomically with permissions kept.

use std::fs;
use std::io::Write;
use std::path::Path;

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

/// Replaces a file's contents atomically: a temporary file beside it, then a rename, so that a
/// run killed at any moment leaves the file either old or new. Permissions are kept.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Diagnostic> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.trace-rewriter.{}.tmp", std::process::id()));
    let fail = |what: &str, e: std::io::Error| Diagnostic::new(path, format!("cannot {what}: {e}"));
    let result = (|| {
        let mut f =
            fs::File::create(&tmp).map_err(|e| fail("create a temporary file beside it", e))?;
        f.write_all(text.as_bytes()).map_err(|e| fail("write", e))?;
        f.sync_all().map_err(|e| fail("sync", e))?;
        if let Ok(meta) = fs::metadata(path) {
            fs::set_permissions(&tmp, meta.permissions())
                .map_err(|e| fail("keep permissions", e))?;
        }
        fs::rename(&tmp, path).map_err(|e| fail("replace", e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
