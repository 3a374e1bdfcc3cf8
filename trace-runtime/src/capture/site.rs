//! A traced fn's static description: one `static` per fn, made by the runtime's macros.

use std::sync::atomic::AtomicU8;
#[cfg(feature = "enable")]
use std::sync::atomic::Ordering;

/// A traced fn's static description, one per fn. Created by generated code only.
pub struct Site {
    /// Its fully qualified name, as known where the fn is compiled.
    pub name: &'static str,
    /// What `TRACE_FILTER` decided for it, worked out on its first call.
    #[cfg_attr(not(feature = "enable"), allow(dead_code))]
    pub(crate) state: AtomicU8,
    /// Starts the runtime (configuration, collector, hooks): called once per thread, on the
    /// thread's first traced call, so that the capture layer needs no knowledge of what sits
    /// above it.
    #[cfg_attr(not(feature = "enable"), allow(dead_code))]
    pub(crate) start: fn(),
}

/// `Site::state` bits.
#[cfg(feature = "enable")]
pub(crate) const RESOLVED: u8 = 1;
#[cfg(feature = "enable")]
pub(crate) const EXCLUDED: u8 = 2;

impl Site {
    /// Called from generated statics.
    pub const fn new(name: &'static str, start: fn()) -> Self {
        Site {
            name,
            state: AtomicU8::new(0),
            start,
        }
    }

    /// The fn's name as the trace shows it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether `TRACE_FILTER` leaves this fn out, decided on its first call with `admits`.
    #[cfg(feature = "enable")]
    #[inline(always)]
    pub(crate) fn excluded(&self, admits: impl FnOnce(&str) -> bool) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        if state & RESOLVED != 0 {
            return state & EXCLUDED != 0;
        }
        self.resolve(admits)
    }

    #[cfg(feature = "enable")]
    #[cold]
    fn resolve(&self, admits: impl FnOnce(&str) -> bool) -> bool {
        let excluded = !admits(self.name());
        let state = RESOLVED | if excluded { EXCLUDED } else { 0 };
        self.state.store(state, Ordering::Relaxed);
        excluded
    }
}
