//! Collection: one collector takes the records every thread published, merges them by time,
//! decodes them and feeds the views; at exit, on panic and on the fatal signals everything
//! still buffered is collected. The recording (`recording`) is written from the raw stream
//! here and read back into it; the decoder also serves recordings read back.

#[cfg(feature = "enable")]
pub(crate) mod collector;
pub mod decode;
pub mod event;
pub mod frames;
#[cfg(feature = "enable")]
pub(crate) mod hot;
pub mod recording;
