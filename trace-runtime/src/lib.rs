//! Per-thread call chains and indented call trees for Rust, compiled to nothing when off.
//!
//! Annotate fns with [`trace`], wire a `trace` feature in your crate, and build with
//! `--features trace`:
//!
//! ```toml
//! [dependencies]
//! trace-runtime = "0.1"
//!
//! [features]
//! trace = ["trace-runtime/enable"]
//! ```
//!
//! ```
//! use trace_runtime::trace;
//!
//! #[trace]
//! fn d() {
//!     // With the feature on: "demo::a -> demo::d"; with it off, empty.
//!     println!("reached d via {}", trace_runtime::chain());
//! }
//!
//! #[trace]
//! fn a() {
//!     d();
//! }
//! # a();
//! ```
//!
//! Every traced call prints an enter and an exit line, indented by the thread's call depth:
//!
//! ```text
//! [01 main] -> demo::a
//! [01 main]   -> demo::d
//! [01 main]   <- demo::d 4.1µs
//! [01 main] <- demo::a 9.8µs
//! ```
//!
//! Without the feature, `#[trace]` leaves each fn exactly as written: no guard, no thread-local,
//! no static, no runtime call. The output is chosen at run time by environment variables
//! (`TRACE_FORMAT`, `TRACE_OUT`, `NO_COLOR`), documented in `docs/environment.md`.
#![warn(missing_docs)]

/// Traces a fn: one enter and one exit event per call, the exit also on early `return`, `?` and
/// panic unwinding (marked as such).
///
/// Goes on:
/// - a fn (free, associated, method, nested, `async`, `unsafe`, `#[test]`, `main`);
/// - an `impl` block or trait impl: every method;
/// - a `trait`: every default method;
/// - an inline `mod { ... }`: every fn inside, nested impls, traits and mods included.
///
/// `const fn`s inside a traced item are skipped (they may run at compile time); `#[test]` fns
/// and `#[cfg(test)]` modules inside a traced item are skipped unless traced directly.
///
/// Arguments:
/// - `#[trace(skip)]` on a fn or item inside a traced item leaves it untraced;
/// - `#[trace(name = "...")]` on a fn replaces its name in the trace;
/// - `#[trace(crate = path)]` names the runtime crate when it is re-exported elsewhere.
///
/// ```
/// use trace_runtime::trace;
///
/// #[trace]
/// fn parse(text: &str) -> Option<u32> {
///     text.trim().parse().ok()
/// }
///
/// #[trace(name = "db.get")]
/// fn get() -> Option<u32> {
///     parse(" 7 ")
/// }
///
/// assert_eq!(get(), Some(7));
/// ```
///
/// Values (see `docs/values.md`):
/// - `#[trace(args)]` records every argument whose type is `Debug` (`self` only when named);
///   `#[trace(args(id, self))]` exactly these, each of which must be `Debug`;
///   `#[trace(args, skip(password))]` all but those;
/// - `#[trace(ret)]` records the return value (an async fn's output), which must be `Debug`;
/// - `#[trace(err)]` on a fn returning `Result` marks an `Err` exit as an error and records the
///   error's `Debug` text, or its type name where it has none: it compiles on any error type;
/// - on an `impl`, `trait` or `mod`, `args` and `skip(..)` apply to every fn inside; a fn
///   overrides them with `#[trace(skip_args)]`, `#[trace(args(..))]` or more `skip(..)`.
///
/// A mistake is a compile error at the token: a name that is not an argument, `ret` on a fn
/// returning `()`, `err` on one not returning `Result`, a named argument or a `ret` value whose
/// type is not `Debug`.
///
/// ```
/// use trace_runtime::trace;
///
/// #[derive(Debug)]
/// struct NotFound;
///
/// #[trace(args, skip(token), err)]
/// fn load(id: u64, token: &str) -> Result<Vec<u8>, NotFound> {
///     if token.is_empty() { Err(NotFound) } else { Ok(vec![id as u8]) }
/// }
/// # assert!(load(1, "").is_err());
/// ```
///
/// With `ret` or `err`, the traced copy of a sync fn runs its body in a closure so that the
/// value it returns (by `return`, `?` or its last expression) is recorded first:
///
/// ```ignore
/// #[cfg(feature = "trace")]
/// fn load(id: u64, token: &str) -> Result<Vec<u8>, NotFound> {
///     let __trace_guard = ::trace_runtime::__private::enter!(@values [/* id */] module "::load");
///     let __trace_ret: Result<Vec<u8>, NotFound> = (move || { /* the body */ })();
///     if let Err(__trace_err) = &__trace_ret { __trace_guard.err(/* its text */); }
///     __trace_ret
/// }
/// ```
///
/// # Expands to
///
/// ```ignore
/// fn get(&self) -> u32 {
///     #[cfg(feature = "trace")]
///     let __trace_guard = ::trace_runtime::__private::enter!(module "::Pool::get");
///     /* the original body, untouched */
/// }
/// ```
///
/// The `cfg` is evaluated in your crate, so without your `trace` feature the fn is the one you
/// wrote.
pub use trace_runtime_macros::trace;

mod chain;
pub use chain::{chain, Chain};

/// Fails (panics) when traced work is still running: frames entered and never exited on other
/// threads or in tasks other than the caller's (a thread still blocked, a task leaked or stuck),
/// in the spirit of Go's goleak. The caller's own open frames (its chain) are not counted.
/// Does nothing when tracing is off.
///
/// ```
/// // At the end of a test:
/// trace_runtime::assert_no_open_frames();
/// ```
pub fn assert_no_open_frames() {
    #[cfg(feature = "enable")]
    {
        // Who is asking, read before the runtime's own work begins on this thread.
        let me = capture::thread::whoami();
        let open = capture::thread::runtime_work(|| open_elsewhere(me));
        if !open.is_empty() {
            panic!("traced work still running:\n{open}");
        }
    }
}

/// Frames open on other threads and in other tasks than the caller's, described.
#[cfg(feature = "enable")]
fn open_elsewhere(me: Option<(u32, u64)>) -> String {
    let my_thread = me.map(|(thread, _)| thread);
    let me = me.map(|(thread, task)| collect::event::Tree::of(thread, task));
    let mine = |f: &collect::frames::OpenFrame| Some(f.tree()) == me;
    collect::collector::with_flushed(std::time::Duration::from_secs(5), |c| {
        let listed = c.with_frames(|frames, tables, now| {
            view::open::collect(frames, tables, now, mine).to_string()
        });
        // A run that only records and cannot read its recording back still knows how many
        // frames other threads have open; never that none are when some are.
        listed.unwrap_or_else(|why| match c.open_off(my_thread) {
            0 => String::new(),
            n => format!(
                "{} never exited on other threads, which cannot be listed: {why}\n",
                units::count(n as u64, "traced frame")
            ),
        })
    })
    .unwrap_or_default()
}

/// Every traced frame still open, in every thread and task, with how long it has been open and
/// the chain that spawned its task or thread: for health endpoints and tests. Empty when
/// tracing is off.
///
/// ```
/// let open = trace_runtime::open_frames();
/// for tree in &open.trees {
///     println!("{:?} blocked in {:?}", tree.task, tree.innermost().map(|f| &f.name));
/// }
/// ```
pub fn open_frames() -> OpenFrames {
    #[cfg(feature = "enable")]
    {
        capture::thread::runtime_work(|| {
            collect::collector::with_flushed(std::time::Duration::from_secs(5), |c| {
                c.with_frames(|frames, tables, now| {
                    view::open::collect(frames, tables, now, |_| false)
                })
            })
        })
        .and_then(|listed| {
            listed
                .map_err(|why| config::warn(&format!("open_frames cannot list them: {why}")))
                .ok()
        })
        .unwrap_or_default()
    }
    #[cfg(not(feature = "enable"))]
    OpenFrames::default()
}

/// Writes out every thread's captured trace now, instead of at the collector's next round.
/// Does nothing when tracing is off.
///
/// ```
/// trace_runtime::flush();
/// ```
pub fn flush() {
    #[cfg(feature = "enable")]
    capture::thread::runtime_work(|| {
        collect::collector::with_flushed(std::time::Duration::from_secs(5), |_| ());
    });
}

mod capture;
#[cfg(any(feature = "enable", feature = "read"))]
mod collect;
#[cfg(any(feature = "enable", feature = "read"))]
mod config;
mod filter;
mod name;
mod report;
pub mod thread;
pub use report::{OpenFrame, OpenFrames, OpenTree};
#[cfg(feature = "enable")]
mod hooks;
#[cfg(feature = "enable")]
mod setup;
#[cfg(feature = "enable")]
mod sink;
mod units;
mod value;
#[cfg(any(feature = "enable", feature = "read"))]
mod view;

/// Reading recordings and rendering views: what `trace-rewriter` uses to answer questions about
/// a recorded run. Behind the `read` feature; not needed to trace.
///
/// It exports what the CLI calls and nothing more, so that the compiler still finds what
/// nothing uses.
#[cfg(feature = "read")]
pub mod read {
    pub use crate::collect::decode::Consumer;
    pub use crate::config::{no_color, Format};
    pub use crate::filter::{matching, parse_duration, FocusRule};
    pub use crate::view::TextViews;

    /// Distinct chains to a fn, and their table.
    pub mod chains {
        pub use crate::view::chains::{origins, table, ChainStats, Chains, Only};
    }
    /// Self time per stack of fns: the folded lines' and the flame graph's figures.
    pub mod folded {
        pub use crate::view::folded::Stacks;
    }
    /// Two runs' profiles side by side.
    pub mod diff {
        pub use crate::view::diff::{render, Side};
    }
    /// One fn's callers and callees.
    pub mod graph {
        pub use crate::view::graph::neighbours;
    }
    /// The note on fns whose calls were counted, not recorded (`TRACE_HOT`).
    pub mod hot {
        pub use crate::view::hot::note;
    }
    /// `min=`: short calls left out whole.
    pub mod min {
        pub use crate::view::min::Min;
    }
    /// The note on a large trace.
    pub mod noisy {
        pub use crate::view::noisy::{note, render, shell_quote, Counts};
    }
    /// What was open when the recording ended.
    pub mod open {
        pub use crate::view::open::AtEnd;
    }
    /// A recording read back.
    pub mod recording {
        pub use crate::collect::recording::{ReadError, Recording};
    }
    /// The selection stage in front of a view.
    pub mod select {
        pub use crate::view::select::{Select, Selection};
    }
    /// A view's output.
    pub mod stream {
        pub use crate::view::stream::Out;
    }
    /// The summary, the report and their order.
    pub mod summary {
        pub use crate::view::summary::{json_sorted, report, FnStats, Sort, Stats};
    }
    /// A bounded timeline per thread and task.
    pub mod timeline {
        pub use crate::view::timeline::{Slice, Timeline, Track};
    }
    /// Names and labels as every view spells them.
    pub mod units {
        pub use crate::collect::event::Tree;
        pub use crate::units::{count, duration_string, label};
    }
    /// The human tree per thread and task.
    pub mod trees {
        pub use crate::view::trees::Trees;
    }
}

#[doc(hidden)]
pub mod __private;
