//! Async scenarios for the integration tests, one per argument: executors, concurrency inside a
//! task, cancellation, panics, and a stress run.
//!
//! ```text
//! cargo run -p trace-examples --features trace --bin async_cases -- stress
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use trace_runtime::trace;

#[trace]
async fn empty() {}

#[trace]
fn leaf(n: u64) -> u64 {
    n.wrapping_mul(31)
}

/// Returns `Pending` once before completing: a point where another task gets the thread.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[trace]
async fn child(n: u64) -> u64 {
    YieldOnce(false).await;
    leaf(n)
}

#[trace]
async fn parent(n: u64) -> u64 {
    let a = child(n).await;
    YieldOnce(false).await;
    a + child(n + 1).await
}

#[trace]
async fn fan_out(n: u64) -> u64 {
    let (a, b) = futures::join!(child(n), child(n + 1));
    a + b
}

#[trace]
async fn forever() {
    stuck();
    std::future::pending::<()>().await;
}

/// How many calls that never return have started: the `leak` case waits for them, not for a
/// fixed time, so a loaded machine runs it the same.
static STUCK: (Mutex<u32>, Condvar) = (Mutex::new(0), Condvar::new());

fn stuck() {
    let (count, changed) = &STUCK;
    *count.lock().unwrap() += 1;
    changed.notify_all();
}

fn wait_stuck(n: u32) {
    let (count, changed) = &STUCK;
    let guard = count.lock().unwrap();
    let _ = changed
        .wait_timeout_while(guard, Duration::from_secs(60), |k| *k < n)
        .unwrap();
}

#[trace]
async fn parent_forever() {
    child(1).await;
    forever().await;
}

#[trace]
async fn slow() -> u64 {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    0
}

#[trace]
async fn explode() -> u64 {
    YieldOnce(false).await;
    panic!("explode");
}

#[trace]
fn fast() -> u64 {
    leaf(1)
}

#[trace]
fn sleepy() {
    std::thread::sleep(Duration::from_millis(30));
}

#[trace]
fn outer() {
    fast();
    sleepy();
    fast();
}

#[trace]
fn deep(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        1 + deep(n - 1)
    }
}

#[trace]
fn blocked_forever(rx: std::sync::mpsc::Receiver<()>) {
    stuck();
    let _ = rx.recv();
}

/// Tiny deterministic generator, so the stress run is reproducible.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[trace]
async fn stress_step(seed: u64, depth: u32) -> u64 {
    let mut s = seed;
    match next(&mut s) % 4 {
        0 => tokio::task::yield_now().await,
        1 => tokio::time::sleep(Duration::from_micros(next(&mut s) % 300)).await,
        _ => {}
    }
    let mut total = leaf(s);
    if depth > 0 {
        total = total.wrapping_add(Box::pin(stress_step(next(&mut s), depth - 1)).await);
        if next(&mut s) % 2 == 0 {
            total = total.wrapping_add(Box::pin(stress_step(next(&mut s), depth - 1)).await);
        }
    }
    total
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Every shape of async method and argument the traced copy must keep: receivers of every kind,
/// lifetimes the signature hides, generics, patterns, `impl Trait` arguments, `Self` results.
#[trace]
mod methods {
    use std::fmt::Display;
    use std::pin::Pin;
    use std::sync::Arc;

    /// A lifetime the impl below names and its methods' signatures do not.
    pub struct Conn<'a>(pub &'a str);

    pub struct Store<'a, T> {
        pub items: Vec<T>,
        pub conn: Conn<'a>,
    }

    impl<'a, T: Clone + Display + Send + Sync> Store<'a, T> {
        pub async fn new(conn: Conn<'a>, items: Vec<T>) -> Self {
            Store { items, conn }
        }

        pub async fn name(&self) -> &str {
            self.conn.0
        }

        pub async fn first(&self, fallback: &T) -> T {
            self.items.first().unwrap_or(fallback).clone()
        }

        pub async fn push(&mut self, item: T) -> usize {
            self.items.push(item);
            self.items.len()
        }

        pub async fn render(&self, (open, close): (char, char), _: u8, sep: impl Display) -> String
        where
            T: Display,
        {
            let items: Vec<String> = self.items.iter().map(|i| i.to_string()).collect();
            format!("{open}{}{close}", items.join(&sep.to_string()))
        }

        pub async fn pinned(self: Pin<&mut Self>) -> usize {
            self.items.len()
        }

        pub async fn boxed(self: Box<Self>) -> usize {
            self.items.len()
        }

        pub async fn shared(self: Arc<Self>) -> usize {
            self.items.len()
        }

        pub async fn into_items(mut self) -> Vec<T> {
            self.items.reverse();
            self.items
        }

        pub async fn with<R, F: FnOnce(&[T]) -> R>(&self, f: F) -> R {
            f(&self.items)
        }

        pub async fn check(conn: Conn<'_>) -> Result<usize, String> {
            let len = conn.0.len();
            if len == 0 {
                return Err("empty".into());
            }
            Ok(len)
        }

        pub async unsafe fn raw(&self, p: *const u8) -> u8 {
            *p
        }
    }

    /// Never returns: `!` cannot be restated as a future's output, so this one stays `async`.
    #[allow(dead_code)]
    pub async fn serve_forever() -> ! {
        loop {
            std::future::pending::<()>().await;
        }
    }

    /// A parameter under `#[cfg]`: stays `async` too.
    pub async fn configured(#[cfg(any())] hidden: u8, shown: u8) -> u8 {
        shown
    }

    pub trait Source {
        async fn load(&self, key: &str) -> String;

        async fn load_twice(&self, key: &str) -> String {
            format!("{}{}", self.load(key).await, self.load(key).await)
        }
    }

    impl<T: Send + Sync> Source for Store<'_, T> {
        async fn load(&self, key: &str) -> String {
            format!("{}:{key}", self.conn.0)
        }
    }

    pub async fn run() -> String {
        let text = String::from("db");
        let mut store = Store::new(Conn(&text), vec![1u32, 2]).await;
        let name = store.name().await.to_string();
        let first = store.first(&0).await;
        let len = store.push(3).await;
        let rendered = store.render(('[', ']'), 0, ", ").await;
        let pinned = Pin::new(&mut store).pinned().await;
        let loaded = store.load_twice("k").await;
        let summed = store.with(|items| items.iter().sum::<u32>()).await;
        let checked = Store::<u32>::check(Conn(&text)).await;
        let byte = 7u8;
        // SAFETY: `byte` is alive and aligned for the whole call.
        let raw = unsafe { store.raw(&byte).await };
        let items = store.into_items().await;
        assert_eq!(configured(4).await, 4);
        let boxed = Box::new(Store::new(Conn(&text), items.clone()).await)
            .boxed()
            .await;
        let shared = Arc::new(Store::new(Conn(&text), items.clone()).await)
            .shared()
            .await;
        format!(
            "{name} {first} {len} {rendered} {pinned} {loaded} {summed} {checked:?} {raw} \
             {items:?} {boxed} {shared}"
        )
    }
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "tokio-multi" => {
            multi_thread().block_on(async {
                let tasks: Vec<_> = (0..8).map(|n| tokio::spawn(parent(n))).collect();
                for t in tasks {
                    t.await.unwrap();
                }
            });
        }
        "tokio-current" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let a = tokio::spawn(parent(1));
                let b = tokio::spawn(parent(10));
                a.await.unwrap();
                b.await.unwrap();
            });
        }
        "futures" => {
            futures::executor::block_on(async {
                futures::join!(parent(1), fan_out(5));
            });
        }
        "methods" => println!("{}", futures::executor::block_on(methods::run())),
        "mixed" => {
            let worker = std::thread::Builder::new()
                .name("plain".into())
                .spawn(|| leaf(leaf(1)))
                .unwrap();
            multi_thread().block_on(async {
                tokio::spawn(parent(3)).await.unwrap();
                tokio::task::spawn_blocking(|| leaf(2)).await.unwrap();
            });
            worker.join().unwrap();
        }
        "empty-first" => {
            // The run's very first traced call.
            futures::executor::block_on(empty());
        }
        "join" => {
            futures::executor::block_on(fan_out(1));
        }
        "cancel" => {
            // The runtime starts on the first traced call: start it before the timers below
            // are set, so that their 5 ms are the futures' own.
            leaf(0);
            multi_thread().block_on(async {
                tokio::select! {
                    _ = forever() => unreachable!(),
                    _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
                let timed_out = tokio::time::timeout(Duration::from_millis(5), slow()).await;
                assert!(timed_out.is_err());
            });
        }
        "panic" => {
            // The panic is expected: keep its message out of the test's output.
            std::panic::set_hook(Box::new(|_| {}));
            let rt = multi_thread();
            let result = rt.block_on(async { tokio::spawn(explode()).await });
            assert!(result.is_err(), "the task panicked");
        }
        "stress" => {
            multi_thread().block_on(async {
                let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
                let tasks: Vec<_> = (0..1000)
                    .map(|_| {
                        let s = next(&mut seed);
                        tokio::spawn(async move {
                            if s % 5 == 0 {
                                // Cancelled part way: dropped by the timeout.
                                let _ = tokio::time::timeout(
                                    Duration::from_micros(200),
                                    stress_step(s, 4),
                                )
                                .await;
                            } else {
                                stress_step(s, 4).await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            });
        }
        "sleepy" => outer(),
        "deep" => {
            deep(200);
        }
        "leak" => {
            // A thread blocked in a traced fn and a task that never finishes: both still open
            // when the process exits.
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            std::thread::Builder::new()
                .name("stuck".into())
                .spawn(move || blocked_forever(rx))
                .unwrap();
            wait_stuck(1);
            let rt = multi_thread();
            rt.spawn(parent_forever());
            wait_stuck(2);
            std::mem::forget(rt);
            std::mem::forget(tx);
        }
        other => {
            eprintln!("unknown case {other:?}");
            std::process::exit(2);
        }
    }
}
