//! Collection: one collector takes the records every thread published, merges them by time,
//! decodes them and feeds the views; at exit, on panic and on the fatal signals everything
//! still buffered is collected. One pipeline (`pipeline`) takes the raw stream, live or read
//! back from a recording: the recording (`recording`) is written from it before any decoding,
//! then the decoder feeds the views.

#[cfg(feature = "enable")]
pub(crate) mod collector;
pub mod decode;
pub mod event;
pub mod frames;
#[cfg(feature = "enable")]
pub(crate) mod hot;
pub mod pipeline;
pub mod recording;
pub mod tally;

/// Which of `lanes` collectors takes thread `thread`'s records (`TRACE_COLLECTORS`): the rule
/// the collectors, the tally and a reader of the recording share.
///
/// ```ignore
/// assert_eq!(lane_of(5, 2), 1);
/// assert_eq!(lane_of(5, 0), 0);
/// ```
pub fn lane_of(thread: u64, lanes: u64) -> u64 {
    thread % lanes.max(1)
}
