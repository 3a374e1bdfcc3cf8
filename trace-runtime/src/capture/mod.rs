//! Capture, the hot path: a traced call writes an enter and an exit record into its thread's
//! buffer, and nothing else happens on the traced thread: no formatting, no lock, no analysis.

#[cfg(feature = "tracing")]
pub(crate) mod bridge;
#[cfg(feature = "enable")]
pub(crate) mod buffer;
#[cfg(any(feature = "enable", feature = "read"))]
pub(crate) mod clock;
#[cfg(feature = "enable")]
pub(crate) mod guard;
#[cfg(feature = "enable")]
pub(crate) mod hot;
#[cfg(feature = "enable")]
pub(crate) mod node;
#[cfg(feature = "enable")]
pub(crate) mod poll;
#[cfg(any(feature = "enable", feature = "read"))]
pub(crate) mod record;
#[cfg(feature = "enable")]
pub(crate) mod registry;
pub(crate) mod site;
#[cfg(feature = "enable")]
pub(crate) mod task;
#[cfg(feature = "enable")]
pub(crate) mod thread;
