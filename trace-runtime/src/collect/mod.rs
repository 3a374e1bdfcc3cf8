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
