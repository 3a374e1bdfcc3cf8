//! A program that crashes, as programs do: a traced recursion that overflows its stack (on the
//! main thread or on a spawned one), a null-pointer write in `unsafe`, or `abort()`. Traced, the
//! trace reaches its output up to the deepest frame, the open-frames report shows the crashing
//! chain, and the process then dies exactly as it does untraced (std's "has overflowed its
//! stack" and SIGABRT, SIGSEGV, SIGABRT).
//!
//! ```text
//! crash overflow|overflow-thread|null|abort
//! cargo run -p trace-examples --bin crash --features trace -- overflow
//! ```

use std::hint::black_box;

use trace_runtime::trace;

/// Calls itself until the stack runs out; each level keeps a little of the stack busy.
#[trace]
fn descend(depth: u64) -> u64 {
    let pad = black_box([depth as u8; 64]);
    // Never true: it keeps the recursion from being seen as endless (or turned into a loop).
    if black_box(depth) == u64::MAX {
        return depth;
    }
    descend(depth + 1).wrapping_add(u64::from(pad[0]))
}

/// Writes through a null pointer.
#[trace]
fn poke() {
    let at: *mut u8 = black_box(std::ptr::null_mut());
    // SAFETY: none, on purpose: this is the demo's crash. Address 0 is never mapped, so the
    // write faults (SIGSEGV); `write_volatile` and `black_box` keep it from being optimised away.
    unsafe { at.write_volatile(1) };
}

#[trace]
fn give_up() {
    std::process::abort();
}

#[trace]
fn run(mode: &str) {
    match mode {
        "overflow" => {
            black_box(descend(0));
        }
        "overflow-thread" => {
            let deep = std::thread::Builder::new()
                .name("deep".into())
                .spawn(|| black_box(descend(0)))
                .expect("spawn the thread");
            let _ = deep.join();
        }
        "null" => poke(),
        "abort" => give_up(),
        other => {
            eprintln!("crash: unknown mode {other:?}: overflow, overflow-thread, null or abort");
            std::process::exit(2);
        }
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "overflow".into());
    run(&mode);
}
