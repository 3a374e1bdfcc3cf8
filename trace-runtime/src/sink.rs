//! Where trace output goes (`TRACE_OUT`), and writing to it without ever failing the program.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

/// The destination chosen by `TRACE_OUT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Stderr,
    Stdout,
    File,
    Off,
}

struct State {
    target: Target,
    file: Option<File>,
    /// Set after a failed write: the destination is gone (closed pipe, full disk), so further
    /// output is dropped instead of failing again on every line.
    broken: bool,
}

static SINK: Mutex<State> = Mutex::new(State {
    target: Target::Stderr,
    file: None,
    broken: false,
});

fn lock() -> std::sync::MutexGuard<'static, State> {
    SINK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens the destination named by `TRACE_OUT`. An unusable path warns once and falls back to
/// stderr.
pub(crate) fn init(out: Option<OsString>) -> Target {
    let mut state = lock();
    let target = match out.as_ref().and_then(|o| o.to_str()) {
        None | Some("") | Some("stderr") => Target::Stderr,
        Some("stdout") => Target::Stdout,
        Some("off") => Target::Off,
        Some(_) => Target::File,
    };
    state.target = target;
    if target == Target::File {
        let path = with_pid(out.expect("a file target has a path"));
        match File::create(&path) {
            Ok(file) => state.file = Some(file),
            Err(e) => {
                drop(state);
                warn(&format!(
                    "cannot write TRACE_OUT={}: {e}; writing the trace to stderr instead",
                    std::path::Path::new(&path).display()
                ));
                lock().target = Target::Stderr;
                return Target::Stderr;
            }
        }
    }
    target
}

/// Writes what a format needs before its first event.
pub(crate) fn begin(format: crate::config::Format) {
    if format == crate::config::Format::Chrome {
        write(crate::format::chrome_prologue());
    }
}

/// `{pid}` in a `TRACE_OUT` path becomes the process id, so that every process of a run (each
/// test binary, each doc test) writes a file of its own.
fn with_pid(path: OsString) -> OsString {
    match path.to_str() {
        Some(p) if p.contains("{pid}") => {
            p.replace("{pid}", &std::process::id().to_string()).into()
        }
        _ => path,
    }
}

/// Writes whole lines in one call under one lock, so lines from different threads never tear.
pub(crate) fn write(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut state = lock();
    if state.broken {
        return;
    }
    let result = match state.target {
        Target::Stderr => {
            let mut err = std::io::stderr().lock();
            err.write_all(bytes).and_then(|_| err.flush())
        }
        Target::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|_| out.flush())
        }
        Target::File => match state.file.as_mut() {
            Some(f) => f.write_all(bytes),
            None => Ok(()),
        },
        Target::Off => Ok(()),
    };
    if let Err(e) = result {
        state.broken = true;
        let target = state.target;
        drop(state);
        if target != Target::Stderr {
            warn(&format!(
                "trace output failed ({e}); the rest of the trace is dropped"
            ));
        }
    }
}

/// One line on stderr, prefixed with the crate's name. Errors writing it are ignored: a warning
/// must not fail the program.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "trace-runtime: warning: {message}");
}
