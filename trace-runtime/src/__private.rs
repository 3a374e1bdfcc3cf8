//! What generated code calls. Not public API: names and signatures change without notice.

/// A traced fn's static description, one per fn.
pub struct Site {
    /// Its fully qualified name.
    pub name: &'static str,
}

impl Site {
    /// Called from generated statics.
    pub const fn new(name: &'static str) -> Self {
        Site { name }
    }
}

#[cfg(feature = "enable")]
pub use crate::thread::Guard;

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

/// Opens a frame for the enclosing fn; the returned guard closes it when dropped. The name is
/// `"literal"`, `module "::tail"` or `"<" module "::tail"`, `module` standing for the calling
/// module's path.
#[doc(hidden)]
#[macro_export]
macro_rules! __trace_enter {
    ($name:literal) => {
        $crate::__trace_site!($name)
    };
    (module $tail:literal) => {
        $crate::__trace_site!($crate::__private::concat!(
            $crate::__private::module_path!(),
            $tail
        ))
    };
    ($head:literal module $tail:literal) => {
        $crate::__trace_site!($crate::__private::concat!(
            $head,
            $crate::__private::module_path!(),
            $tail
        ))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __trace_site {
    ($name:expr) => {{
        static __TRACE_SITE: $crate::__private::Site = $crate::__private::Site::new($name);
        $crate::__private::Guard::enter(&__TRACE_SITE)
    }};
}

pub use crate::__trace_enter as enter;
pub use core::{concat, module_path};
