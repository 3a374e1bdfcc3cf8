//! Writes every buffer out before the process ends: at normal exit and when a panic starts.

use std::sync::Once;

static INSTALL: Once = Once::new();

/// Installs the exit and panic hooks, once.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // Replacing the panic hook from a panicking thread would itself panic; the exit hook
        // still covers that process.
        if !std::thread::panicking() {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                crate::thread::flush_all(false);
                previous(info);
            }));
        }
        register_at_exit();
    });
}

#[cfg(any(unix, windows))]
fn register_at_exit() {
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
    }
    extern "C" fn at_exit() {
        crate::thread::exiting();
        crate::analysis::report();
        crate::open::report_at_exit();
        crate::format::chrome_epilogue();
    }
    // SAFETY: `atexit` is the C standard library's, present on every unix and on Windows; the
    // callback never unwinds (it only writes buffers, ignoring errors).
    unsafe {
        atexit(at_exit);
    }
}

#[cfg(not(any(unix, windows)))]
fn register_at_exit() {}
