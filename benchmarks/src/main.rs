//! One benchmark run: `trace-benchmarks VARIANT WORKLOAD OUT_FILE` runs WORKLOAD traced by
//! VARIANT (writing any trace to OUT_FILE) and prints one JSON line with the number of traced
//! calls and the wall time of the timed region. `run.py` drives it, side by side.

use std::fs::File;
use std::hint::black_box;
use std::io::BufWriter;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The same workloads, once per variant, differing only in the attribute on each fn.
macro_rules! workloads {
    ($($attr:tt)*) => {
        $($attr)*
        pub fn fib(n: u32) -> u64 {
            if n < 2 {
                u64::from(n)
            } else {
                fib(n - 1) + fib(n - 2)
            }
        }

        $($attr)*
        pub fn a(i: u64) -> u64 {
            b(i) + 1
        }

        $($attr)*
        pub fn b(i: u64) -> u64 {
            c(i) ^ 3
        }

        $($attr)*
        pub fn c(i: u64) -> u64 {
            d(i).rotate_left(1)
        }

        $($attr)*
        pub fn d(i: u64) -> u64 {
            std::hint::black_box(i)
        }

        $($attr)*
        pub async fn task_a(i: u64) -> u64 {
            task_b(i).await + 1
        }

        $($attr)*
        pub async fn task_b(i: u64) -> u64 {
            tokio::task::yield_now().await;
            task_c(i).await
        }

        $($attr)*
        pub async fn task_c(i: u64) -> u64 {
            d(i)
        }
    };
}

mod baseline {
    workloads!();
}

mod ours {
    workloads!(#[trace_runtime::trace]);
}

mod trace_crate {
    trace_crate::init_depth_var!();
    workloads!(#[trace_crate::trace]);
}

mod tracing_tree {
    workloads!(#[tracing::instrument(skip_all)]);
}

mod fastrace {
    workloads!(#[fastrace::trace]);
}

/// Which fns a workload runs, per variant.
struct Fns {
    fib: fn(u32) -> u64,
    a: fn(u64) -> u64,
    task: fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>>,
}

macro_rules! fns {
    ($m:ident) => {
        Fns {
            fib: $m::fib,
            a: $m::a,
            task: |i| Box::pin($m::task_a(i)),
        }
    };
}

/// fastrace records spans only under a root span; each thread and task gets one.
fn in_root<R>(variant: &str, f: impl FnOnce() -> R) -> R {
    if variant == "fastrace" {
        let root = ::fastrace::Span::root("root", ::fastrace::collector::SpanContext::random());
        let _guard = root.set_local_parent();
        f()
    } else {
        f()
    }
}

struct Collect(Arc<AtomicUsize>);

impl ::fastrace::collector::Reporter for Collect {
    fn report(&mut self, spans: Vec<::fastrace::prelude::SpanRecord>) {
        self.0.fetch_add(spans.len(), Ordering::Relaxed);
    }
}

fn fib_calls(n: u32) -> u64 {
    // fib(n) makes 2 * fib(n + 1) - 1 calls.
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..=n {
        (a, b) = (b, a + b);
    }
    2 * a - 1
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().expect("VARIANT");
    let workload = args.next().expect("WORKLOAD");
    let out = args.next().expect("OUT_FILE");
    let spans = Arc::new(AtomicUsize::new(0));
    let fns = match variant.as_str() {
        "baseline" => fns!(baseline),
        "ours" => fns!(ours),
        "trace-crate" => fns!(trace_crate),
        "tracing-tree" => {
            use tracing_subscriber::layer::SubscriberExt;
            let file = BufWriter::new(File::create(&out).expect("create the trace file"));
            let layer = ::tracing_tree::HierarchicalLayer::new(2).with_writer(Mutex::new(file));
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
            fns!(tracing_tree)
        }
        "fastrace" => {
            ::fastrace::set_reporter(Collect(spans.clone()), ::fastrace::collector::Config::default());
            fns!(fastrace)
        }
        other => panic!("unknown variant {other}"),
    };
    // Warm up: the first traced call of each tracer pays its one-time setup.
    in_root(&variant, || black_box((fns.fib)(5)));
    trace_runtime::flush();

    let start = Instant::now();
    let calls = match workload.as_str() {
        "recursive" | "recursive-small" => {
            let n = if workload == "recursive" { 28 } else { 20 };
            in_root(&variant, || black_box((fns.fib)(n)));
            fib_calls(n)
        }
        "recursive-chunks" => {
            // The same million calls as 2,212 trees of 465: fastrace keeps at most 10,240
            // spans under one root, so this is the shape where it records every call.
            for _ in 0..2_212 {
                in_root(&variant, || black_box((fns.fib)(12)));
            }
            2_212 * fib_calls(12)
        }
        "threads" | "scale1" | "scale2" => {
            let threads: u64 = if workload == "scale1" { 1 } else { 2 };
            // Scaling runs are longer: a thread's start-up must not weigh in the rate.
            let per_thread: u64 = if workload == "threads" { 100_000 } else { 500_000 };
            let a = fns.a;
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let variant = variant.clone();
                    std::thread::Builder::new()
                        .name(format!("worker-{t}"))
                        .spawn(move || {
                            in_root(&variant, || {
                                let mut acc = 0;
                                for i in 0..per_thread {
                                    acc ^= a(i);
                                }
                                black_box(acc)
                            });
                        })
                        .expect("spawn")
                })
                .collect();
            for w in workers {
                w.join().expect("worker");
            }
            threads * per_thread * 4
        }
        "async" => {
            let tasks: u64 = 20_000;
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
            let task = fns.task;
            let is_fastrace = variant == "fastrace";
            rt.block_on(async move {
                let handles: Vec<_> = (0..tasks)
                    .map(|i| {
                        let fut = task(i);
                        if is_fastrace {
                            use ::fastrace::future::FutureExt;
                            let root = ::fastrace::Span::root("task", ::fastrace::collector::SpanContext::random());
                            tokio::spawn(Box::pin(fut.in_span(root)) as std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>>)
                        } else {
                            tokio::spawn(fut)
                        }
                    })
                    .collect();
                for h in handles {
                    black_box(h.await.expect("task"));
                }
            });
            drop(rt);
            tasks * 4
        }
        other => panic!("unknown workload {other}"),
    };
    // Text produced at the end (our record mode's rendering at exit, fastrace's report) is not
    // timed: the hot path is. Printing variants render inline, so their figure includes it.
    let ns = start.elapsed().as_nanos();
    if variant == "fastrace" {
        ::fastrace::flush();
    }
    // On stderr: the `trace` crate prints its trace on stdout.
    eprintln!(
        "{{\"variant\":\"{variant}\",\"workload\":\"{workload}\",\"calls\":{calls},\"ns\":{ns},\"spans\":{}}}",
        spans.load(Ordering::Relaxed)
    );
}
