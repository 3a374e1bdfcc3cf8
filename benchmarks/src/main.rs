//! One benchmark run: `trace-benchmarks VARIANT WORKLOAD OUT_FILE` runs WORKLOAD traced by
//! VARIANT (writing any trace to OUT_FILE) and prints one JSON line with the number of traced
//! calls and the wall time of the timed region. `run.py` drives it, side by side.
//!
//! Variants: `baseline` (no tracing), `ours`, `floor` (the least an exact recording tracer
//! does: see `floor_recorder`), `trace-crate`, `tracing-tree`, `fastrace`.

use std::fs::File;
use std::hint::black_box;
use std::io::BufWriter;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The same workloads, once per variant, differing only in the attribute on each fn.
/// `workloads!(ATTRS)` puts ATTRS on each fn; `workloads!(guard PATH)` instead opens
/// `PATH(site number)` as each fn's first statement, held to the end of the body.
macro_rules! workloads {
    (@ [$($attr:tt)*] $($guard:path)?) => {
        $($attr)*
        pub fn fib(n: u32) -> u64 {
            $(let _guard = $guard(1);)?
            if n < 2 {
                u64::from(n)
            } else {
                fib(n - 1) + fib(n - 2)
            }
        }

        $($attr)*
        pub fn a(i: u64) -> u64 {
            $(let _guard = $guard(2);)?
            b(i) + 1
        }

        $($attr)*
        pub fn b(i: u64) -> u64 {
            $(let _guard = $guard(3);)?
            c(i) ^ 3
        }

        $($attr)*
        pub fn c(i: u64) -> u64 {
            $(let _guard = $guard(4);)?
            d(i).rotate_left(1)
        }

        $($attr)*
        pub fn d(i: u64) -> u64 {
            $(let _guard = $guard(5);)?
            std::hint::black_box(i)
        }

        $($attr)*
        pub async fn task_a(i: u64) -> u64 {
            $(let _guard = $guard(6);)?
            task_b(i).await + 1
        }

        $($attr)*
        pub async fn task_b(i: u64) -> u64 {
            $(let _guard = $guard(7);)?
            tokio::task::yield_now().await;
            task_c(i).await
        }

        $($attr)*
        pub async fn task_c(i: u64) -> u64 {
            $(let _guard = $guard(8);)?
            d(i)
        }

        /// Spawns tasks `0..n` from inside one call: each task's future is created in this
        /// frame, so (traced) each task is linked to it. Boxed, as the unlinked workload's.
        $($attr)*
        pub fn spawn_tasks(n: u64) -> Vec<tokio::task::JoinHandle<u64>> {
            $(let _guard = $guard(9);)?
            (0..n)
                .map(|i| {
                    let task: std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> =
                        Box::pin(task_a(i));
                    tokio::spawn(task)
                })
                .collect()
        }

        /// Spawns tasks `0..n` as `async move` blocks from inside one call, as an accept loop
        /// does: (traced) each block notes this frame, so the task it becomes is linked to it.
        $($attr)*
        pub fn spawn_blocks(n: u64) -> Vec<tokio::task::JoinHandle<u64>> {
            $(let _guard = $guard(10);)?
            (0..n)
                .map(|i| {
                    let task: std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>> =
                        Box::pin(async move { task_a(i).await });
                    tokio::spawn(task)
                })
                .collect()
        }
    };
    (guard $guard:path) => {
        workloads!(@ [] $guard);
    };
    ($($attr:tt)*) => {
        workloads!(@ [$($attr)*]);
    };
}

mod baseline {
    workloads!();
}

mod ours {
    workloads!(#[trace_runtime::trace]);
}

mod floor {
    workloads!(guard crate::floor_recorder::Guard::enter);
}

/// The cost of values (`#[trace(args, ret, err)]`): the same small fn plain, recording two
/// integer arguments and an integer result, and marked `err` returning `Ok`. Untraced in the
/// binary built without the `trace` feature, where the attribute compiles to nothing.
mod values {
    /// The error `checked` never returns.
    #[derive(Debug)]
    pub struct Never;

    #[trace_runtime::trace]
    pub fn plain(a: u64, b: u64) -> u64 {
        std::hint::black_box(a ^ b)
    }

    #[trace_runtime::trace(args, ret)]
    pub fn args_ret(a: u64, b: u64) -> u64 {
        std::hint::black_box(a ^ b)
    }

    #[trace_runtime::trace(err)]
    pub fn checked(a: u64) -> Result<u64, Never> {
        if std::hint::black_box(a) == u64::MAX {
            Err(Never)
        } else {
            Ok(a)
        }
    }

    /// `n` calls of the fn `which` names, each a root frame: the region valgrind counts
    /// (`--toggle-collect=trace_benchmarks::values::calls`).
    #[inline(never)]
    pub fn calls(which: &str, n: u64) -> u64 {
        match which {
            "plain" => repeat(n, |i| plain(i, i + 1)),
            "args-ret" => repeat(n, |i| args_ret(i, i + 1)),
            "err" => repeat(n, |i| checked(i).unwrap_or(0)),
            other => panic!("unknown values fn {other}"),
        }
    }

    /// `f(0..n)`, folded so that no call is optimised away.
    #[inline(always)]
    fn repeat(n: u64, f: impl Fn(u64) -> u64) -> u64 {
        (0..n).fold(0, |acc, i| acc ^ f(i))
    }
}

/// The floor: the least any exact recording tracer does per event on this machine. It reads
/// the TSC and appends a 16-byte record (timestamp; site and kind packed) to a thread-local
/// buffer, written to the trace file with one `write` when full and when the thread ends.
/// Nothing else: no ids, no depth, no task, no filter, no names (the site is a number).
mod floor_recorder {
    use std::cell::UnsafeCell;
    use std::fs::File;
    use std::io::Write;
    use std::sync::OnceLock;

    /// Records per thread buffer: 128 KiB, the size of one of our print-mode chunks.
    const RECORDS: usize = 8192;
    const ENTER: u64 = 0;
    const EXIT: u64 = 1;

    pub static FILE: OnceLock<File> = OnceLock::new();

    struct Buffer {
        records: Vec<[u64; 2]>,
    }

    impl Buffer {
        #[cold]
        #[inline(never)]
        fn write_out(&mut self) {
            if self.records.capacity() == 0 {
                self.records.reserve_exact(RECORDS);
                return;
            }
            if let Some(mut file) = FILE.get() {
                // SAFETY: `[u64; 2]` is plain data, 16 bytes with no padding.
                let bytes = unsafe {
                    std::slice::from_raw_parts(self.records.as_ptr().cast::<u8>(), self.records.len() * 16)
                };
                file.write_all(bytes).expect("write the floor's trace");
            }
            self.records.clear();
        }
    }

    impl Drop for Buffer {
        fn drop(&mut self) {
            self.write_out();
        }
    }

    thread_local! {
        static BUFFER: UnsafeCell<Buffer> = const { UnsafeCell::new(Buffer { records: Vec::new() }) };
    }

    #[inline(always)]
    fn ticks() -> u64 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: RDTSC has no preconditions on x86_64.
        return unsafe { core::arch::x86_64::_rdtsc() };
        #[cfg(not(target_arch = "x86_64"))]
        return std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos() as u64);
    }

    #[inline(always)]
    fn record(site: u64, kind: u64) {
        let ts = ticks();
        BUFFER.with(|b| {
            // SAFETY: only this thread reaches its buffer, and never re-entrantly (nothing
            // here calls a traced fn).
            let b = unsafe { &mut *b.get() };
            if b.records.len() == b.records.capacity() {
                b.write_out();
            }
            b.records.push([ts, site << 1 | kind]);
        });
    }

    /// Writes out the calling thread's buffer (the main thread's is not dropped at exit).
    pub fn flush() {
        BUFFER.with(|b| {
            // SAFETY: as in `record`.
            let b = unsafe { &mut *b.get() };
            if !b.records.is_empty() {
                b.write_out();
            }
        });
    }

    /// One call: its enter now, its exit when dropped.
    pub struct Guard(u64);

    impl Guard {
        #[inline(always)]
        pub fn enter(site: u64) -> Guard {
            record(site, ENTER);
            Guard(site)
        }
    }

    impl Drop for Guard {
        #[inline(always)]
        fn drop(&mut self) {
            record(self.0, EXIT);
        }
    }
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
    spawn_tasks: fn(u64) -> Vec<tokio::task::JoinHandle<u64>>,
    spawn_blocks: fn(u64) -> Vec<tokio::task::JoinHandle<u64>>,
    /// The task of `spawn_blocks` as a block made in untraced code.
    block_task: fn(u64) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>>,
}

macro_rules! fns {
    ($m:ident) => {
        Fns {
            fib: $m::fib,
            a: $m::a,
            task: |i| Box::pin($m::task_a(i)),
            spawn_tasks: $m::spawn_tasks,
            spawn_blocks: $m::spawn_blocks,
            block_task: |i| Box::pin(async move { $m::task_a(i).await }),
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

/// CPU time the calling thread has used, in nanoseconds: beside the wall time it shows how long
/// a traced thread waited (for a collector, say) rather than worked.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec; the clock exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
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
        "floor" => {
            let file = File::create(&out).expect("create the trace file");
            floor_recorder::FILE.set(file).expect("one file");
            fns!(floor)
        }
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

    // CPU time of the traced threads inside the timed region (not measured for async: tokio's
    // workers run more than the tasks).
    let traced_cpu = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let main_cpu = thread_cpu_ns();
    let calls = match workload.as_str() {
        "recursive" | "recursive-small" | "recursive-medium" => {
            // Small and medium: for valgrind, whose per-call counts are the difference of the two.
            let n = match workload.as_str() {
                "recursive" => 28,
                "recursive-medium" => 22,
                _ => 20,
            };
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
                    let traced_cpu = traced_cpu.clone();
                    std::thread::Builder::new()
                        .name(format!("worker-{t}"))
                        .spawn(move || {
                            let cpu = thread_cpu_ns();
                            in_root(&variant, || {
                                let mut acc = 0;
                                for i in 0..per_thread {
                                    acc ^= a(i);
                                }
                                black_box(acc)
                            });
                            if variant == "floor" {
                                floor_recorder::flush();
                            }
                            traced_cpu.fetch_add(thread_cpu_ns() - cpu, Ordering::Relaxed);
                        })
                        .expect("spawn")
                })
                .collect();
            for w in workers {
                w.join().expect("worker");
            }
            threads * per_thread * 4
        }
        "async" | "async-linked" | "async-small" | "async-medium" | "async-linked-small"
        | "async-linked-medium" | "async-blocks" | "async-blocks-small" | "async-blocks-medium"
        | "async-blocks-linked" | "async-blocks-linked-small" | "async-blocks-linked-medium" => {
            // Enough tasks that a run lasts tens of milliseconds on a noisy machine. Small and
            // medium: for valgrind, on one thread so that the counts repeat.
            let (tasks, rt) = if workload.ends_with("small") || workload.ends_with("medium") {
                let tasks = if workload.ends_with("small") { 2_000 } else { 6_000 };
                (tasks, tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
            } else {
                (50_000, tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("runtime"))
            };
            // Linked: spawned from inside a call, so (traced) every task is linked to it. Blocks:
            // each task an `async move` block around the first call.
            let linked = workload.starts_with("async-linked") || workload.starts_with("async-blocks-linked");
            let blocks = workload.starts_with("async-blocks");
            let task = if blocks { fns.block_task } else { fns.task };
            let spawn_tasks = if blocks { fns.spawn_blocks } else { fns.spawn_tasks };
            let is_fastrace = variant == "fastrace";
            rt.block_on(async move {
                if linked {
                    for h in spawn_tasks(tasks) {
                        black_box(h.await.expect("task"));
                    }
                    return;
                }
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
            tasks * 4 + u64::from(linked)
        }
        // `values-FN-N`: N calls of the values fn FN (see `values`), for valgrind.
        w if w.starts_with("values-") => {
            let (which, n) = w["values-".len()..].rsplit_once('-').expect("values-FN-N");
            let n: u64 = n.parse().expect("a number of calls");
            black_box(values::calls(which, n));
            n
        }
        other => panic!("unknown workload {other}"),
    };
    // The floor writes what the timed thread still holds inside the timed region (worker
    // threads wrote theirs as they ended).
    if variant == "floor" {
        floor_recorder::flush();
    }
    if workload.starts_with("recursive") {
        traced_cpu.fetch_add(thread_cpu_ns() - main_cpu, Ordering::Relaxed);
    }
    // What collectors still do at the end (our final collection at exit, fastrace's report) is
    // not timed: the traced threads are. Collector threads that work while the workload runs
    // (ours, fastrace's) weigh in only as far as they slow it down; run.py reports the whole
    // process's CPU time beside this.
    let ns = start.elapsed().as_nanos();
    if variant == "fastrace" {
        ::fastrace::flush();
    }
    // On stderr: the `trace` crate prints its trace on stdout.
    eprintln!(
        "{{\"variant\":\"{variant}\",\"workload\":\"{workload}\",\"calls\":{calls},\"ns\":{ns},\"traced_cpu_ns\":{},\"spans\":{}}}",
        traced_cpu.load(Ordering::Relaxed),
        spans.load(Ordering::Relaxed)
    );
}
