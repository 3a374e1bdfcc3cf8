//! For a test binary whose tests run traced code in its own process: the live trace goes
//! nowhere (`TRACE_OUT=off`) unless the environment sets `TRACE_OUT`, so that `cargo test`'s
//! log holds the tests' own output. It is set before `main`: the runtime reads its
//! configuration once, on the first traced call, and a test's first statement may already be
//! one (`#[trace] #[test]`). What these tests check (chains, spans, open frames) does not go
//! through the live trace.

/// Run by the loader from `.init_array` before `main`, while the process has one thread: no
/// other thread can be reading the environment as it is changed.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static QUIET: extern "C" fn() = quiet;

#[cfg(target_os = "linux")]
extern "C" fn quiet() {
    if std::env::var_os("TRACE_OUT").is_none() {
        std::env::set_var("TRACE_OUT", "off");
    }
}
