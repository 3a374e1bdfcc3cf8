//! Cost of one traced call (its enter and its exit line) with the trace written to a file,
//! beside the same call untraced; and the per-poll cost of a traced future beside the same
//! future untraced. One run, side by side.
//!
//! ```text
//! cargo bench -p trace-examples --features trace --bench guard
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
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

/// Pending `n` times, then ready: `n + 1` polls.
struct Countdown(u32);

impl Future for Countdown {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            Poll::Pending
        }
    }
}

const POLLS: u32 = 100;

async fn plain_task() {
    Countdown(POLLS - 1).await
}

#[trace]
async fn traced_task() {
    Countdown(POLLS - 1).await
}

fn drive<F: Future>(future: F) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    while future.as_mut().poll(&mut cx).is_pending() {}
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
    let mut group = c.benchmark_group("poll");
    // Per poll: a 100-poll future, its enter and exit lines included once.
    group.throughput(Throughput::Elements(u64::from(POLLS)));
    group.bench_function("untraced future", |b| b.iter(|| drive(plain_task())));
    group.bench_function("traced future", |b| b.iter(|| drive(traced_task())));
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
