//! Collection: one collector takes the records every thread published, merges them by time,
//! decodes them and feeds the views; at exit, on panic and on the fatal signals everything
//! still buffered is collected. The decoder also serves recordings read back.

#![cfg_attr(not(feature = "read"), allow(dead_code))]

#[cfg(feature = "enable")]
pub(crate) mod collector;
pub mod decode;
pub mod event;
