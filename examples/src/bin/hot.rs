//! A traced caller that calls a tiny fn millions of times, as a crate instrumented whole does
//! with its SIMD helpers: `tiny` turns hot (its first 100,000 calls took far less than 250ns
//! each) and is counted from then on instead of recorded; `run` and `checksum`, the chain to
//! it, stay whole, and so do the calls of `rare` it makes once in a million calls. The runtime says so when it happens and at exit; `TRACE_HOT=off` records
//! every call.
//!
//! ```text
//! cargo run -p trace-examples --bin hot --features trace -- 3000000 2>&1 >/dev/null | grep -v '^\['
//! ```

use trace_runtime::trace;

/// A few instructions: the kind of fn no recorder can make cheap to record. Once in a million
/// calls it calls `rare`, which, called from a counted call, shows under `tiny`'s caller.
#[trace]
fn tiny(x: u64) -> u64 {
    if x % 1_000_000 == 999_999 {
        return rare(x);
    }
    x.wrapping_mul(31) ^ (x >> 3)
}

#[trace]
fn rare(x: u64) -> u64 {
    x / 7
}

/// How often `checksum` flushes the trace, as a long loop might at a checkpoint.
const FLUSH_EVERY: u64 = 10_000;

/// Calls `tiny` `n` times. The flushes make the collector read the calls made so far at known
/// points, so how many calls are recorded before `tiny` turns hot does not depend on how soon
/// a busy machine let the collector run: at most `FLUSH_EVERY` more than it took.
#[trace]
fn checksum(n: u64) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(tiny(i));
        if i % FLUSH_EVERY == FLUSH_EVERY - 1 {
            trace_runtime::flush();
        }
    }
    acc
}

#[trace]
fn run(n: u64) -> u64 {
    checksum(n)
}

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3_000_000);
    println!("checksum of {n} calls: {}", run(n));
}
