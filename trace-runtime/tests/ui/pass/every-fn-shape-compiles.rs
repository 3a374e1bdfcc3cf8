//! Every shape of fn `#[trace]` goes on compiles, and runs.
//!
//! This crate has the runtime's features, not a `trace` feature of its own: it compiles the
//! untraced copies (`cfg(not(feature = "trace"))`); the examples compile the traced ones.
#![allow(unexpected_cfgs)]

use std::future::Future;
use std::pin::Pin;

use trace_runtime::trace;

mod reexport {
    pub use trace_runtime as rt;
}

#[trace]
fn plain(n: u32) -> u32 {
    n + 1
}

#[trace]
async fn fetch(n: u32) -> u32 {
    plain(n)
}

#[trace]
fn generic<T: Clone, const N: usize>(items: [T; N]) -> Vec<T>
where
    T: Default,
{
    items.to_vec()
}

#[trace]
unsafe fn raw(p: *const u32) -> u32 {
    *p
}

#[trace]
extern "C" fn callback(x: i32) -> i32 {
    x
}

#[trace]
fn never() -> ! {
    std::process::exit(0)
}

#[trace]
fn outer() -> u32 {
    fn inner() -> u32 {
        1
    }
    inner()
}

#[trace]
fn returns_impl() -> impl Iterator<Item = u32> {
    0..3
}

#[trace]
fn boxed() -> Pin<Box<dyn Future<Output = u32>>> {
    Box::pin(async move { 1 })
}

#[trace]
fn with_inner_attribute() {
    #![allow(unused_variables)]
    let unused = 1;
}

#[trace(name = "custom.name")]
fn renamed() {}

#[trace(crate = reexport::rt)]
fn through_a_reexport() {}

fn main() {
    plain(1);
    let _ = fetch(1);
    generic([1u8; 2]);
    unsafe { raw(&1) };
    callback(1);
    outer();
    returns_impl().count();
    let _ = boxed();
    with_inner_attribute();
    renamed();
    through_a_reexport();
    if std::env::args().count() > 99 {
        never();
    }
}
