//! What generated code calls. Not public API: names and signatures change without notice.

pub use crate::capture::site::Site;

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
pub use crate::capture::thread::Guard;

/// Without the runtime's `enable` feature a guard does nothing. Generated code only reaches this
/// when a crate's `trace` feature is on but not wired to `trace-runtime/enable`.
#[cfg(not(feature = "enable"))]
pub struct Guard;

#[cfg(not(feature = "enable"))]
impl Guard {
    /// Does nothing.
    #[inline(always)]
    pub fn enter(_site: &'static Site) -> Guard {
        Guard
    }
}

/// The `&'static Site` of the enclosing fn. The name is `"literal"`, `module "::tail"` or
/// `"<" module "::tail"`, `module` standing for the calling module's path.
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_site {
    ($($name:tt)+) => {{
        static __TRACE_SITE: $crate::__private::Site = $crate::__private::Site::new($crate::__trace_name!($($name)+), $crate::__private::start);
        &__TRACE_SITE
    }};
}

/// The name as a `&'static str` expression (for statics and `tracing` metadata alike).
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_name {
    ($name:literal) => {
        $name
    };
    (module $tail:literal) => {
        $crate::__private::concat!($crate::__private::module_path!(), $tail)
    };
    ($head:literal module $tail:literal) => {
        $crate::__private::concat!($head, $crate::__private::module_path!(), $tail)
    };
}

/// Opens a frame for the enclosing fn; the returned guard closes it when dropped.
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_enter {
    ($($name:tt)+) => {
        $crate::__private::Guard::enter($crate::__trace_site!($($name)+))
    };
}

/// Opens a frame for the enclosing fn, and a `tracing` span for it.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_enter {
    ($($name:tt)+) => {
        $crate::__private::Guard::enter_span($crate::__trace_site!($($name)+), |depth, task| {
            $crate::__private::tracing::span!(
                $crate::__private::tracing::Level::INFO,
                $crate::__trace_name!($($name)+),
                depth,
                task
            )
        })
    };
}

/// Wraps a traced async fn's body: `instrument!(NAME; async move { .. })`.
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_instrument {
    ($name:literal; $future:expr) => {
        $crate::__private::Instrumented::new($crate::__trace_site!($name), $future)
    };
    (module $tail:literal; $future:expr) => {
        $crate::__private::Instrumented::new($crate::__trace_site!(module $tail), $future)
    };
    ($head:literal module $tail:literal; $future:expr) => {
        $crate::__private::Instrumented::new($crate::__trace_site!($head module $tail), $future)
    };
}

/// Wraps a traced async fn's body, with a `tracing` span entered on every poll.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_instrument {
    ($name:literal; $future:expr) => {
        $crate::__trace_instrument!(@span ($name); $future)
    };
    (module $tail:literal; $future:expr) => {
        $crate::__trace_instrument!(@span (module $tail); $future)
    };
    ($head:literal module $tail:literal; $future:expr) => {
        $crate::__trace_instrument!(@span ($head module $tail); $future)
    };
    (@span ($($name:tt)+); $future:expr) => {
        $crate::__private::Instrumented::new_span($crate::__trace_site!($($name)+), $future, |depth, task| {
            $crate::__private::tracing::span!(
                $crate::__private::tracing::Level::INFO,
                $crate::__trace_name!($($name)+),
                depth,
                task
            )
        })
    };
}

pub use crate::__trace_enter as enter;
pub use crate::__trace_instrument as instrument;
pub use core::{concat, module_path};

#[cfg(feature = "tracing")]
pub use tracing;

#[cfg(feature = "enable")]
pub use crate::capture::task::Instrumented;

/// Without the runtime's `enable` feature the adaptor only polls the future.
#[cfg(not(feature = "enable"))]
pub struct Instrumented<F>(F);

#[cfg(not(feature = "enable"))]
impl<F> Instrumented<F> {
    /// Wraps nothing.
    pub fn new(_site: &'static Site, future: F) -> Self {
        Instrumented(future)
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
