//! An edition 2015 crate: `::trace_runtime` paths need an `extern crate`.
#![allow(unused)]

pub fn old() -> u32 {
    1
}
