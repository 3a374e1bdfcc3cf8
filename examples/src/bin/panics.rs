//! A panic unwinds through traced fns: every frame still prints its exit, marked `unwinding`,
//! and the buffered trace is written out before the process dies.
//!
//! ```text
//! cargo run -p trace-examples --bin panics --features trace
//! ```

use trace_runtime::trace;

#[trace]
fn parse(input: &str) -> u32 {
    input.parse().expect("input is a number")
}

#[trace]
fn load(input: &str) -> u32 {
    parse(input) * 2
}

#[trace]
fn main() {
    let worker = std::thread::Builder::new()
        .name("loader".into())
        .spawn(|| load("forty-two"))
        .expect("spawn the loader thread");
    let joined = worker.join();
    println!("loader thread panicked: {}", joined.is_err());
    // Now the main thread panics too: the process exits with status 101.
    load("also not a number");
}
