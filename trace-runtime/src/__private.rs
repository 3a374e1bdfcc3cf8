//! What generated code calls. Not public API: names and signatures change without notice.
//! How a site's name is composed lives in `name`; the macros here declare the site (its
//! `static` lives in `capture::site`) and call into the capture layer.

pub use crate::capture::site::Site;
pub use crate::name::Piece;
pub use crate::value::{
    debug_arg, debug_ret, Arg, DebugArg, DebugRet, Probe, ProbeDebug, ProbeName, Value,
};

/// Starts the runtime on a thread's first traced call (a site carries it so that the capture
/// layer need not know what sits above it).
#[cfg(feature = "enable")]
pub fn start() {
    crate::setup::start();
}

/// Nothing to start without the runtime's `enable` feature.
#[cfg(not(feature = "enable"))]
pub fn start() {}

#[cfg(feature = "enable")]
pub use crate::capture::guard::Guard;

/// Without the runtime's `enable` feature a guard does nothing. Generated code only reaches this
/// when a crate's `trace` feature is on but not wired to `trace-runtime/enable`. Never `Send`,
/// like the real one.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<trace_runtime::__private::Guard>();
/// ```
#[cfg(not(feature = "enable"))]
pub struct Guard(core::marker::PhantomData<*const ()>);

#[cfg(not(feature = "enable"))]
impl Guard {
    /// Does nothing.
    #[inline(always)]
    pub fn enter(_site: &'static Site) -> Guard {
        Guard(core::marker::PhantomData)
    }

    /// Does nothing.
    #[inline(always)]
    pub fn enter_values(_site: &'static Site, _args: &[Arg<'_>]) -> Guard {
        Guard(core::marker::PhantomData)
    }

    /// Does nothing.
    #[inline(always)]
    pub fn ret(&self, _value: Value<'_>) {}

    /// Does nothing.
    #[inline(always)]
    pub fn ret_ok(&self, _value: Value<'_>) {}

    /// Does nothing.
    #[inline(always)]
    pub fn err(&self, _value: Value<'_>) {}
}

/// The frame being polled on this thread: where a traced future records its values (its
/// arguments at its first poll, its output before it completes).
pub struct Here;

#[cfg(feature = "enable")]
impl Here {
    /// Records the polled frame's arguments.
    #[inline(always)]
    pub fn args(&self, site: &'static Site, args: &[Arg<'_>]) {
        crate::capture::poll::here_values(site, 0, |out, max| {
            crate::value::write_args(out, args, max)
        });
    }

    /// Records the polled frame's output.
    #[inline(always)]
    pub fn ret(&self, site: &'static Site, value: Value<'_>) {
        crate::capture::poll::here_values(site, RESULT, |out, max| {
            crate::value::write(out, value, max)
        });
    }

    /// Records the polled frame's `Ok` output.
    #[inline(always)]
    pub fn ret_ok(&self, site: &'static Site, value: Value<'_>) {
        crate::capture::poll::here_values(site, RESULT, |out, max| {
            crate::value::write_wrapped(out, "Ok", value, max)
        });
    }

    /// Marks the polled frame's exit an error exit and records the error.
    #[inline(always)]
    pub fn err(&self, site: &'static Site, value: Value<'_>) {
        crate::capture::poll::here_values(site, RESULT | ERROR, |out, max| {
            crate::value::write_wrapped(out, "Err", value, max)
        });
    }
}

#[cfg(feature = "enable")]
use crate::capture::record::{ERROR, RESULT};

#[cfg(not(feature = "enable"))]
impl Here {
    /// Does nothing.
    #[inline(always)]
    pub fn args(&self, _site: &'static Site, _args: &[Arg<'_>]) {}

    /// Does nothing.
    #[inline(always)]
    pub fn ret(&self, _site: &'static Site, _value: Value<'_>) {}

    /// Does nothing.
    #[inline(always)]
    pub fn ret_ok(&self, _site: &'static Site, _value: Value<'_>) {}

    /// Does nothing.
    #[inline(always)]
    pub fn err(&self, _site: &'static Site, _value: Value<'_>) {}
}

/// Declares the enclosing fn's `static __TRACE_SITE` and, for a name composed at run time,
/// resolves it. Takes what the transform writes (its `SiteName`), either
///
/// - `NAME`: the name's pieces, `"text"` and `module` (the calling module's path), e.g.
///   `module "::load"`; or
/// - `[NAME] [PIECES]` or `[NAME] [PIECES] Self`: the compile-time name, then the true name's
///   pieces: `"text"`, `module`, `crate`, `super`, `Self` (the Self type) and `(Self)` (the Self
///   type as a qualifier), see [`Piece`]; `Self` at the end passes `type_name::<Self>`.
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_site {
    ([$($name:tt)+] [$($piece:tt)+] $($self_ty:ty)?) => {
        static __TRACE_SITE: $crate::__private::Site = $crate::__private::Site::composed(
            $crate::__trace_name!($($name)+),
            $crate::__private::module_path!(),
            &[$($crate::__trace_piece!($piece)),+],
            $crate::__private::start,
        );
        $crate::__trace_resolve!(__TRACE_SITE; $($self_ty)?);
    };
    ($($name:tt)+) => {
        static __TRACE_SITE: $crate::__private::Site =
            $crate::__private::Site::new($crate::__trace_name!($($name)+), $crate::__private::start);
    };
}

/// The compile-time name as a `&'static str` literal (for statics and `tracing` metadata alike).
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_name {
    (@ module) => {
        $crate::__private::module_path!()
    };
    (@ $text:literal) => {
        $text
    };
    ($($piece:tt)+) => {
        $crate::__private::concat!($($crate::__trace_name!(@ $piece)),+)
    };
}

/// One [`Piece`] of a name composed at run time.
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_piece {
    (module) => {
        $crate::__private::Piece::Module
    };
    (crate) => {
        $crate::__private::Piece::Crate
    };
    (super) => {
        $crate::__private::Piece::Super
    };
    (Self) => {
        $crate::__private::Piece::SelfType
    };
    ((Self)) => {
        $crate::__private::Piece::SelfQualifier
    };
    ($text:literal) => {
        $crate::__private::Piece::Text($text)
    };
}

/// Resolves a site, with the Self type when one is given.
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_resolve {
    ($site:ident;) => {
        $site.resolve()
    };
    ($site:ident; $self_ty:ty) => {
        $site.resolve_self($crate::__private::type_name::<$self_ty>)
    };
}

/// Opens a frame for the enclosing fn; the returned guard closes it when dropped. With
/// `@values [ARGS]` first, the frame records the arguments `ARGS` (each an [`Arg`]).
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_enter {
    (@values [$($arg:expr),*] $($site:tt)+) => {{
        $crate::__trace_site!($($site)+);
        $crate::__private::Guard::enter_values(&__TRACE_SITE, &[$($arg),*])
    }};
    ($($site:tt)+) => {{
        $crate::__trace_site!($($site)+);
        $crate::__private::Guard::enter(&__TRACE_SITE)
    }};
}

/// Opens a frame for the enclosing fn, and a `tracing` span for it.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_enter {
    (@values [$($arg:expr),*] $($site:tt)+) => {{
        $crate::__trace_site!($($site)+);
        $crate::__private::Guard::enter_span_values(&__TRACE_SITE, &[$($arg),*], |depth, task, parent| {
            $crate::__trace_span!(depth, task, parent; $($site)+)
        })
    }};
    ($($site:tt)+) => {{
        $crate::__trace_site!($($site)+);
        $crate::__private::Guard::enter_span(&__TRACE_SITE, |depth, task, parent| {
            $crate::__trace_span!(depth, task, parent; $($site)+)
        })
    }};
}

/// Wraps a traced async fn's body: `instrument!([SITE]; async move { .. })`, `SITE` as
/// `__trace_site!` takes it; `instrument!([SITE]; args; ..)` for a body that records its
/// arguments first thing.
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_instrument {
    // The body records its arguments first thing (`#[trace(args)]`).
    ([$($site:tt)+]; args; $($rest:tt)+) => {
        $crate::__trace_instrument!([$($site)+]; $($rest)+).with_args()
    };
    ([$($site:tt)+]; created $created:expr; $future:expr) => {{
        $crate::__trace_site!($($site)+);
        $crate::__private::Instrumented::new_from(&__TRACE_SITE, $created, $future)
    }};
    ([$($site:tt)+]; $future:expr) => {
        $crate::__trace_instrument!([$($site)+]; created $crate::__private::created(); $future)
    };
}

/// Wraps a traced async fn's body, with a `tracing` span entered on every poll.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_instrument {
    // The body records its arguments first thing (`#[trace(args)]`).
    ([$($site:tt)+]; args; $($rest:tt)+) => {
        $crate::__trace_instrument!([$($site)+]; $($rest)+).with_args()
    };
    ([$($site:tt)+]; created $created:expr; $future:expr) => {{
        $crate::__trace_site!($($site)+);
        $crate::__private::Instrumented::new_span(&__TRACE_SITE, $created, $future, |depth, task, parent| {
            $crate::__trace_span!(depth, task, parent; $($site)+)
        })
    }};
    ([$($site:tt)+]; $future:expr) => {
        $crate::__trace_instrument!([$($site)+]; created $crate::__private::created(); $future)
    };
}

/// The `tracing` span of a call, the child of `parent` (`capture/bridge.rs` decides which). Its
/// name must be static: the compile-time name. A site whose name is composed at run time also
/// gets the composed name as the field `full_name`.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_span {
    ($depth:ident, $task:ident, $parent:ident; [$($name:tt)+] [$($piece:tt)+] $($self_ty:ty)?) => {
        $crate::__private::tracing::span!(
            parent: $parent,
            $crate::__private::tracing::Level::INFO,
            $crate::__trace_name!($($name)+),
            depth = $depth,
            task = $task,
            full_name = __TRACE_SITE.name()
        )
    };
    ($depth:ident, $task:ident, $parent:ident; $($name:tt)+) => {
        $crate::__private::tracing::span!(
            parent: $parent,
            $crate::__private::tracing::Level::INFO,
            $crate::__trace_name!($($name)+),
            depth = $depth,
            task = $task
        )
    };
}

pub use crate::__trace_enter as enter;
pub use crate::__trace_instrument as instrument;
pub use core::any::type_name;
pub use core::{concat, module_path};
/// The return type of a traced `async fn`'s eager copy: `impl Future<Output = T>` capturing
/// every lifetime in scope, in every edition.
pub use trace_eager::future as eager_future;

#[cfg(feature = "tracing")]
pub use tracing;

#[cfg(feature = "enable")]
pub use crate::capture::task::{Instrumented, Linked};

/// An `async` block written in a traced fn, linked to the frame creating it: run as a task of
/// its own, its traced calls continue that frame's chain.
#[inline]
pub fn link<F: core::future::Future>(future: F) -> Linked<F> {
    Linked::new(created(), future)
}

/// A closure handed to a thread spawn in a traced fn: the new thread's traced calls continue
/// the chain of the frame that spawned it.
pub use crate::thread::follow;

/// Where a traced async fn's future is being created: the caller's frame, captured when the fn
/// is called so that a task spawned with it continues the caller's chain.
#[cfg(feature = "enable")]
pub use crate::capture::poll::Created;

/// The frame a traced async fn is called in.
#[cfg(feature = "enable")]
#[inline]
pub fn created() -> Created {
    crate::capture::poll::created()
}

/// Nothing to capture without the runtime's `enable` feature.
#[cfg(not(feature = "enable"))]
#[derive(Clone)]
pub struct Created;

/// Nothing to capture without the runtime's `enable` feature.
#[cfg(not(feature = "enable"))]
#[inline(always)]
pub fn created() -> Created {
    Created
}

/// Without the runtime's `enable` feature a linked block is the block.
#[cfg(not(feature = "enable"))]
pub struct Linked<F>(F);

#[cfg(not(feature = "enable"))]
impl<F> Linked<F> {
    /// Wraps nothing.
    #[inline(always)]
    pub fn new(_created: Created, future: F) -> Self {
        Linked(future)
    }
}

#[cfg(not(feature = "enable"))]
impl<F: core::future::Future> core::future::Future for Linked<F> {
    type Output = F::Output;
    #[inline(always)]
    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<F::Output> {
        // SAFETY: the future is structurally pinned: it is never moved out of `self`.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
    }
}

/// Without the runtime's `enable` feature the adaptor only polls the future.
#[cfg(not(feature = "enable"))]
pub struct Instrumented<F>(F);

#[cfg(not(feature = "enable"))]
impl<F> Instrumented<F> {
    /// Wraps nothing.
    pub fn new_from(_site: &'static Site, _created: Created, future: F) -> Self {
        Instrumented(future)
    }

    /// The same future.
    pub fn with_args(self) -> Self {
        self
    }
}

#[cfg(not(feature = "enable"))]
impl<F: core::future::Future> core::future::Future for Instrumented<F> {
    type Output = F::Output;
    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<F::Output> {
        // SAFETY: the future is structurally pinned: it is never moved out of `self`.
        unsafe { self.map_unchecked_mut(|s| &mut s.0) }.poll(cx)
    }
}

/// Runs the body of a traced fn that records its result, held in a closure (so that `return`
/// and `?` leave it with the fn's value). Taking it as `FnOnce` is what lets the body return
/// a borrow of what it captured (`&mut self` giving `Result<&mut T, E>`), as the fn could: a
/// closure called in place is `FnMut`, whose captures cannot be lent beyond the call.
///
/// ```
/// struct Pool(Vec<u8>);
/// impl Pool {
///     fn first(&mut self) -> Result<&mut u8, ()> {
///         trace_runtime::__private::call_once(move || self.0.first_mut().ok_or(()))
///     }
/// }
/// assert_eq!(Pool(vec![7]).first(), Ok(&mut 7));
/// ```
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}
