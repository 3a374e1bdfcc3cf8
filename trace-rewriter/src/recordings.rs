//! Where `cargo trace run` records (`<target>/trace/`), what it names each process's recording
//! (`<time>-<pid>.trace`), what it tells the traced processes, and which recording a reading
//! verb takes when it is given no FILE (the newest).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::diag::Diagnostic;

/// The recordings' folder under a target directory.
///
/// ```
/// use std::path::Path;
/// assert_eq!(trace_rewriter::recordings::dir(Path::new("target")), Path::new("target/trace"));
/// ```
pub fn dir(target_dir: &Path) -> PathBuf {
    target_dir.join("trace")
}

/// A recording's extension.
const EXTENSION: &str = "trace";

/// What one `run` asks of the processes it starts, and what it finds afterwards.
#[derive(Debug)]
pub struct Session {
    /// Where this run's recordings go; `None` when the user's `TRACE_RECORD` says instead.
    dir: Option<PathBuf>,
    /// The recordings already there, so that this run's are the new ones.
    before: BTreeSet<PathBuf>,
    /// The variables to set for the cargo command.
    env: Vec<(&'static str, OsString)>,
}

impl Session {
    /// Plans the recording of a run into `dir`. `TRACE_RECORD` set in `env` (the user's
    /// environment) wins; the live trace is turned off (`TRACE_OUT=off`) unless `print` or the
    /// user's `TRACE_OUT` asks for it.
    pub fn plan(
        dir: &Path,
        print: bool,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Session, Diagnostic> {
        let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
        let mut vars = Vec::new();
        let mut own = None;
        if !set("TRACE_RECORD") {
            std::fs::create_dir_all(dir).map_err(|e| {
                Diagnostic::new(dir, format!("cannot create: {e}"))
                    .help("check the target directory's permissions")
                    .internal()
            })?;
            // `{pid}`: the runtime's placeholder, so each traced process writes its own file.
            let pattern = dir.join(format!("{}-{{pid}}.{EXTENSION}", stamp(SystemTime::now())));
            vars.push(("TRACE_RECORD", pattern.into_os_string()));
            own = Some(dir.to_path_buf());
        }
        if !print && !set("TRACE_OUT") {
            vars.push(("TRACE_OUT", "off".into()));
        }
        let before = match &own {
            Some(d) => recordings(d).into_iter().collect(),
            None => BTreeSet::new(),
        };
        Ok(Session {
            dir: own,
            before,
            env: vars,
        })
    }

    /// The variables to set on the cargo command.
    pub fn env(&self) -> &[(&'static str, OsString)] {
        &self.env
    }

    /// The recordings this run wrote, in name order (time, then process id); empty when
    /// `TRACE_RECORD` was the user's.
    pub fn written(&self) -> Vec<PathBuf> {
        match &self.dir {
            Some(d) => recordings(d)
                .into_iter()
                .filter(|p| !self.before.contains(p))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Whether the user's `TRACE_RECORD` said where to record.
    pub fn users(&self) -> bool {
        self.dir.is_none()
    }
}

/// Every recording in `dir`, in name order.
fn recordings(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == EXTENSION))
        .collect();
    found.sort();
    found
}

/// The newest recording in `dir`: the last written, the later name between equals.
pub fn newest(dir: &Path) -> Result<PathBuf, Diagnostic> {
    let written = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    recordings(dir)
        .into_iter()
        .max_by(|a, b| written(a).cmp(&written(b)).then_with(|| a.cmp(b)))
        .ok_or_else(|| {
            Diagnostic::new(dir, "no recording here").help(
                "record one with `cargo trace run` (or `-- test`), or give the recording's FILE",
            )
        })
}

/// `2026-12-01T135204Z`: a run's start in UTC, as its recordings' names begin, sorting in time
/// order.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use trace_rewriter::recordings::stamp;
/// let t = UNIX_EPOCH + Duration::from_secs(1_796_132_324);
/// assert_eq!(stamp(t), "2026-12-01T133844Z");
/// ```
pub fn stamp(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The calendar date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_follow_the_calendar() {
        let at = |s| stamp(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T000000Z");
        assert_eq!(at(951_782_399), "2000-02-28T235959Z");
        assert_eq!(at(951_782_400), "2000-02-29T000000Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T000000Z");
    }

    #[test]
    fn the_users_trace_record_and_trace_out_win() {
        let dir = tempfile::tempdir().unwrap();
        let names = |s: &Session| s.env().iter().map(|(k, _)| *k).collect::<Vec<_>>();
        let none = Session::plan(dir.path(), false, |_| None).unwrap();
        assert_eq!(names(&none), ["TRACE_RECORD", "TRACE_OUT"]);
        assert!(!none.users());
        let print = Session::plan(dir.path(), true, |_| None).unwrap();
        assert_eq!(names(&print), ["TRACE_RECORD"]);
        let theirs = |name: &str| (name == "TRACE_RECORD").then(|| OsString::from("x.trace"));
        let session = Session::plan(dir.path(), false, theirs).unwrap();
        assert_eq!(names(&session), ["TRACE_OUT"]);
        assert!(session.users());
        let out = |name: &str| (name == "TRACE_OUT").then(|| OsString::from("t.txt"));
        assert_eq!(
            names(&Session::plan(dir.path(), false, out).unwrap()),
            ["TRACE_RECORD"]
        );
    }

    #[test]
    fn the_newest_is_the_last_written_and_only_new_files_are_the_runs() {
        let dir = tempfile::tempdir().unwrap();
        assert!(newest(dir.path()).is_err());
        let old = dir.path().join("2026-01-01T000000Z-9.trace");
        std::fs::write(&old, "a").unwrap();
        let session = Session::plan(dir.path(), false, |_| None).unwrap();
        let new = dir.path().join("2025-01-01T000000Z-1.trace");
        std::fs::write(dir.path().join("notes.txt"), "not a recording").unwrap();
        std::fs::write(&new, "b").unwrap();
        let past = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(past)
            .unwrap();
        assert_eq!(session.written(), std::slice::from_ref(&new));
        assert_eq!(newest(dir.path()).unwrap(), new);
    }
}
