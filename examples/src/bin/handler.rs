//! A program with its own Ctrl-C handling, installed before its first traced call: the tracer
//! leaves it alone, so the program still stops the way it chose, and its trace is complete.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use trace_runtime::trace;

#[trace]
fn step(n: u64) -> u64 {
    n.wrapping_mul(31)
}

#[trace]
fn work(stop: &AtomicBool) -> u64 {
    println!("ready {}", std::process::id());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut n = 1;
    while !stop.load(Ordering::Relaxed) {
        n = step(n);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    n
}

fn main() {
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())
        .expect("install the program's own SIGINT handler");
    work(&stop);
    println!("stopped by the program's own handler");
}
