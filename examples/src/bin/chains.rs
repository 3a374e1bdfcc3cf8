//! The call-chain demo: `d` is reached from two chains on two threads and logs which one.
//!
//! ```text
//! cargo run -p trace-examples --bin chains --features trace
//! ```

use trace_runtime::trace;

#[trace]
fn d(from: &str) {
    // Which chain reached d? Empty when built without the trace feature.
    println!("d called from {from}: {}", trace_runtime::chain());
}

#[trace]
fn c1() {
    d("c1");
}

#[trace]
fn b1() {
    c1();
}

#[trace]
fn a1() {
    b1();
}

#[trace]
fn c2() {
    d("c2");
}

#[trace]
fn b2() {
    c2();
}

#[trace]
fn a2() {
    b2();
}

#[trace]
fn main() {
    a1();
    let worker = std::thread::Builder::new()
        .name("worker".into())
        .spawn(a2)
        .expect("spawn the worker thread");
    worker.join().expect("the worker thread finished");
}
