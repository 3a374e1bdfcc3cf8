//! The live trace's destination (`TRACE_OUT`), and writing to it without ever failing the
//! program: whole writes under one lock, a failure warns once and drops the rest.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, MutexGuard};

use crate::config::{warn, Out};

/// The destination chosen by `TRACE_OUT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Stderr,
    Stdout,
    File,
    Off,
}

struct State {
    target: Target,
    file: Option<File>,
    /// Set after a failed write: the destination is gone (closed pipe, full disk), so further
    /// output is dropped instead of failing again on every write.
    broken: bool,
}

static SINK: Mutex<State> = Mutex::new(State {
    target: Target::Stderr,
    file: None,
    broken: false,
});

fn lock() -> MutexGuard<'static, State> {
    SINK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens the destination. An unusable path warns once and falls back to stderr.
pub fn init(out: &Out) -> Target {
    let mut state = lock();
    state.target = match out {
        Out::Stderr => Target::Stderr,
        Out::Stdout => Target::Stdout,
        Out::Off => Target::Off,
        Out::File(path) => match File::create(path) {
            Ok(file) => {
                state.file = Some(file);
                Target::File
            }
            Err(e) => {
                warn(&format!(
                    "cannot write TRACE_OUT={}: {e}; writing the trace to stderr instead",
                    path.display()
                ));
                Target::Stderr
            }
        },
    };
    state.target
}

/// Whether the destination is a terminal (for colour).
pub fn is_terminal(target: Target) -> bool {
    match target {
        Target::Stderr => std::io::stderr().is_terminal(),
        Target::Stdout => std::io::stdout().is_terminal(),
        _ => false,
    }
}

/// Writes bytes in one call under one lock.
pub fn write(bytes: &[u8]) {
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

/// The live destination as a `Write` for the views.
pub struct SinkOut;

impl Write for SinkOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Standard error as a `Write` for reports that must keep machine formats valid.
pub struct StderrOut;

impl Write for StderrOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
