//! What makes sure the trace is never lost: the exit hook, the panic hook, and the signal
//! thread (fatal signals write everything out and then die the way they would have; the dump
//! signal prints every open frame and lets the program run on).
//!
//! Nothing here runs inside a signal handler: signal-hook's handler only wakes the signal
//! thread. The exit hook is a C callback: it catches any panic so that none unwinds into C.

use std::sync::Once;
use std::time::Duration;

use crate::capture::thread::runtime_work;
use crate::collect::collector;
use crate::config::{self, Config};

static INSTALL: Once = Once::new();

/// How long a hook waits for a collection already under way.
const PATIENCE: Duration = Duration::from_secs(2);

/// Installs the hooks, once.
pub fn install(cfg: &'static Config) {
    INSTALL.call_once(|| {
        // Replacing the panic hook from a panicking thread would itself panic; the exit hook
        // still covers that process.
        if !std::thread::panicking() {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                runtime_work(on_panic);
                previous(info);
            }));
        }
        register_at_exit();
        #[cfg(unix)]
        signals::install(cfg);
        #[cfg(not(unix))]
        let _ = cfg;
    });
}

/// Before the panic message: everything captured so far is written, so the trace leads up to
/// the panic. Under `panic = "abort"` nothing runs after the hook, so the run ends here.
fn on_panic() {
    if cfg!(panic = "abort") {
        finish();
    } else {
        collector::with_flushed(Duration::from_millis(500), |_| ());
    }
}

/// The end of the run: everything collected, reports written, the chrome array closed, and a
/// note of calls the runtime could not trace.
pub fn finish() {
    if collector::finished() {
        return;
    }
    collector::finish(PATIENCE);
    let skipped = crate::capture::thread::skipped();
    if skipped > 0 {
        config::warn(&format!(
            "{skipped} traced calls made while the runtime was working on their thread (an allocator, a Drop or Debug impl it ran) were not traced"
        ));
    }
}

#[cfg(any(unix, windows))]
fn register_at_exit() {
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }
    extern "C" fn at_exit() {
        // A panic must not unwind into C: it is caught and the hook gives up quietly.
        let _ = std::panic::catch_unwind(|| runtime_work(finish));
    }
    // SAFETY: `atexit` is the C standard library's, present on every unix and on Windows; the
    // callback never unwinds (see above).
    unsafe {
        atexit(at_exit);
    }
}

#[cfg(not(any(unix, windows)))]
fn register_at_exit() {}

#[cfg(unix)]
mod signals {
    use super::*;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    /// Whether the signal still has its default action: a program that installed its own
    /// handler before tracing started keeps it, untouched.
    fn is_default(signal: i32) -> bool {
        // SAFETY: a null new action only queries; `old` is a valid out pointer.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_DFL
        }
    }

    pub fn install(cfg: &'static Config) {
        let fatal: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
            .into_iter()
            .filter(|s| is_default(*s))
            .collect();
        let dump = cfg.dump_signal.filter(|s| is_default(*s));
        let mut wanted = fatal.clone();
        wanted.extend(dump);
        if wanted.is_empty() {
            return;
        }
        let mut signals = match Signals::new(&wanted) {
            Ok(s) => s,
            Err(e) => {
                config::warn(&format!(
                    "cannot watch signals ({e}); Ctrl-C loses the buffered trace"
                ));
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name(format!(
                "{}signals",
                crate::capture::thread::RUNTIME_THREAD_PREFIX
            ))
            .spawn(move || {
                crate::capture::thread::runtime_thread();
                for signal in signals.forever() {
                    if Some(signal) == dump {
                        dump_open_frames();
                    } else {
                        finish();
                        // Die the way the signal would have killed the process untraced.
                        let _ = signal_hook::low_level::emulate_default_handler(signal);
                    }
                }
            });
        if let Err(e) = spawned {
            config::warn(&format!("cannot start the signal thread ({e})"));
        }
    }

    /// Every open frame of every thread and task, with its chain and how long it has been open,
    /// on stderr; the program runs on.
    fn dump_open_frames() {
        let text = collector::with_flushed(PATIENCE, |c| {
            let now = c.now_ns();
            let text = crate::view::open::report("open frames", c.frames(), c.tables(), now);
            if text.is_empty() {
                "open frames: none\n".to_string()
            } else {
                text
            }
        });
        if let Some(text) = text {
            use std::io::Write;
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}
