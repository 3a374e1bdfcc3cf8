//! Cost of one traced call (its enter and its exit line) with the trace written to a file,
//! beside the same call untraced, in one run.
//!
//! ```text
//! cargo bench -p trace-examples --features trace --bench guard
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trace_runtime::trace;

#[inline(never)]
fn plain(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

#[trace]
#[inline(never)]
fn traced(x: u64) -> u64 {
    black_box(x).wrapping_add(1)
}

fn calls(c: &mut Criterion) {
    let out = std::env::temp_dir().join(format!("trace-bench-{}.txt", std::process::id()));
    // Read once, at the first traced call: set before it.
    std::env::set_var("TRACE_OUT", &out);
    let mut group = c.benchmark_group("call");
    group.throughput(Throughput::Elements(1));
    group.bench_function("untraced", |b| b.iter(|| plain(black_box(1))));
    group.bench_function("traced, human lines to a file", |b| {
        b.iter(|| traced(black_box(1)))
    });
    group.finish();
    let _ = std::fs::remove_file(out);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = calls
}
criterion_main!(benches);
