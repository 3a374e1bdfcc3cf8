//! Chains across spawns: which chain of calls reached `d`, when `d` runs in a task spawned by a
//! call in another task, or on a thread started by a traced call. One scenario per argument.
//!
//! ```text
//! cargo run -p trace-examples --bin spawns --features trace -- tokio
//! ```

use std::time::Duration;

use trace_runtime::trace;

#[trace]
fn d(scenario: &str) {
    println!("{scenario}: {}", trace_runtime::chain());
}

#[trace]
async fn process(scenario: &'static str) {
    tokio::task::yield_now().await;
    d(scenario);
}

#[trace]
async fn handle(scenario: &'static str) {
    // `process(..)` is created here: its task's chain goes on from this call.
    tokio::spawn(process(scenario)).await.unwrap();
}

#[trace]
async fn accept(scenario: &'static str) {
    tokio::spawn(handle(scenario)).await.unwrap();
}

#[trace]
fn serve(rt: &tokio::runtime::Runtime, scenario: &'static str) {
    rt.block_on(accept(scenario));
}

#[trace]
async fn level3() {
    d("nested");
}

#[trace]
async fn level2() {
    tokio::spawn(level3()).await.unwrap();
}

#[trace]
async fn level1() {
    tokio::spawn(level2()).await.unwrap();
}

/// Creates a future and hands it to someone else to spawn: its origin is where it was made.
#[trace]
async fn make_and_finish(
    tx: tokio::sync::oneshot::Sender<
        std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    >,
) {
    let _ = tx.send(Box::pin(process("finished-origin")));
}

/// Makes 20 tasks in one call and returns before any runs: each worker declares this call's
/// chain once and links the rest of its tasks to it alone.
#[trace]
fn spawn_many() -> Vec<tokio::task::JoinHandle<()>> {
    (0..20).map(|_| tokio::spawn(process("many"))).collect()
}

/// A task that spawns its successor, 20,000 times: chains stop growing at 32 spawns (a
/// successor past that starts a chain of its own), so the run stays fast and small.
#[trace]
async fn tick(left: u32) {
    if left == 0 {
        d("respawn");
        return;
    }
    tokio::spawn(next_tick(left - 1)).await.unwrap();
}

/// Boxed, with `Send` said: a future that spawns its own kind cannot have it inferred.
fn next_tick(left: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(tick(left))
}

#[trace]
fn work(item: u32) {
    d(if item == 0 { "rayon" } else { "rayon-other" });
}

#[trace]
fn blocking_work() {
    d("blocking");
}

#[trace]
fn start_threads() {
    trace_runtime::thread::spawn(|| d("thread-spawn"))
        .join()
        .unwrap();
    trace_runtime::thread::Builder::new()
        .name("built".into())
        .spawn(|| d("thread-builder"))
        .unwrap()
        .join()
        .unwrap();
    trace_runtime::thread::scope(|s| {
        s.spawn(|| d("thread-scope"));
    });
}

#[trace]
fn start_rayon() {
    use rayon::prelude::*;
    let origin = trace_runtime::thread::Origin::capture();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    pool.install(|| {
        [0u32]
            .par_iter()
            .for_each(|&item| origin.adopt(|| work(item)));
    });
}

#[trace]
async fn offload() {
    let origin = trace_runtime::thread::Origin::capture();
    tokio::task::spawn_blocking(move || origin.adopt(blocking_work))
        .await
        .unwrap();
}

#[trace]
async fn fan_out() {
    let mut set = tokio::task::JoinSet::new();
    set.spawn(process("joinset"));
    while set.join_next().await.is_some() {}
}

#[trace]
async fn local_spawn() {
    tokio::task::spawn_local(process("local")).await.unwrap();
}

#[trace]
async fn spawn_on_pool(pool: &futures::executor::ThreadPool) {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let job = process_futures(tx);
    pool.spawn_ok(job);
    let _ = rx.await;
}

#[trace]
async fn process_futures(tx: futures::channel::oneshot::Sender<()>) {
    d("futures");
    let _ = tx.send(());
}

/// Async methods, spawned where they are called: an inherent one, one implementing a trait's
/// `async fn`, a trait's default body, one taking `self` by value; their tasks continue the
/// caller's chain as a free fn's do.
struct Router {
    conn: Conn<'static>,
}

struct Conn<'a>(&'a str);

static ROUTER: Router = Router { conn: Conn("conn") };

#[trace]
trait Handler {
    async fn call(&'static self, scenario: &'static str);

    async fn call_default(&'static self, scenario: &'static str) {
        tokio::task::yield_now().await;
        d(scenario);
    }
}

#[trace]
impl Router {
    async fn route(&'static self, scenario: &'static str) {
        tokio::task::yield_now().await;
        d(scenario);
    }

    async fn dispatch(&'static self) {
        tokio::spawn(self.route("method")).await.unwrap();
        tokio::spawn(self.call("trait-method")).await.unwrap();
        tokio::spawn(self.call_default("default-method"))
            .await
            .unwrap();
        tokio::spawn(describe(Conn(self.conn.0))).await.unwrap();
        let job = Job {
            scenario: "by-value",
            _announce: Announce,
        };
        tokio::spawn(job.run()).await.unwrap();
    }
}

#[trace]
impl Handler for Router {
    async fn call(&'static self, scenario: &'static str) {
        tokio::task::yield_now().await;
        d(scenario);
    }
}

/// A free fn whose argument's lifetime is elided.
#[trace]
async fn describe(conn: Conn<'_>) {
    tokio::task::yield_now().await;
    d(conn.0);
}

struct Job {
    scenario: &'static str,
    _announce: Announce,
}

/// Says when the job is dropped: after its method ran, as an `async fn` taking `self` drops it.
struct Announce;

impl Drop for Announce {
    fn drop(&mut self) {
        println!("job dropped");
    }
}

impl Job {
    /// A lone attribute, as the rewriter puts on each async fn: it does not know the impl.
    #[trace]
    async fn run(self) {
        tokio::task::yield_now().await;
        d(self.scenario);
    }
}

/// Work handed off as written, without drop-ins or captured origins: `async move` blocks given
/// to `tokio::spawn`, `JoinSet::spawn` and `spawn_local`, a block spawned inside a spawned block,
/// closures given to `spawn_blocking`, `std::thread::spawn` and `rayon::spawn`. Each task's or
/// thread's chain goes on from this call.
#[trace]
async fn hand_off() {
    tokio::spawn(async move { d("block") }).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    set.spawn(async move { process("block-joinset").await });
    while set.join_next().await.is_some() {}
    tokio::spawn(async move {
        tokio::spawn(async move { d("block-nested") })
            .await
            .unwrap();
    })
    .await
    .unwrap();
    tokio::task::spawn_blocking(move || d("closure-blocking"))
        .await
        .unwrap();
    std::thread::spawn(move || d("closure-thread"))
        .join()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    rayon::spawn(move || {
        d("closure-rayon");
        tx.send(()).unwrap();
    });
    rx.recv().unwrap();
}

#[trace]
async fn hand_off_local() {
    tokio::task::spawn_local(async move { process("block-local").await })
        .await
        .unwrap();
}

/// A block polled first inside this call's `select!`, then spawned: as a task, it goes on from
/// this call.
#[trace]
async fn select_then_spawn() {
    let mut work = Box::pin(async move {
        tokio::task::yield_now().await;
        d("selected-then-spawned");
    });
    tokio::select! {
        biased;
        _ = &mut work => unreachable!("it yields first"),
        _ = std::future::ready(()) => {}
    }
    tokio::spawn(work).await.unwrap();
}

/// Says, through a traced `Drop`, which chain dropped it.
struct Noted(&'static str);

#[trace]
impl Drop for Noted {
    fn drop(&mut self) {
        d(self.0);
    }
}

/// A spawned block cancelled while it waits: what it held is dropped inside its task.
#[trace]
async fn abort_linked() {
    let (started, wait) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let _noted = Noted("drop-on-abort");
        let _ = started.send(());
        std::future::pending::<()>().await
    });
    let _ = wait.await;
    task.abort();
    let _ = task.await;
}

/// An `async move` closure made here: wherever its futures run, they go on from this call.
#[trace]
fn make_greeter() -> impl AsyncFn(&'static str) + Send {
    async move |scenario| d(scenario)
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn main() {
    let scenario = std::env::args().nth(1).unwrap_or_else(|| "tokio".into());
    match scenario.as_str() {
        "tokio" => serve(&multi_thread(), "tokio"),
        "current" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            serve(&rt, "current");
        }
        "nested" => multi_thread().block_on(level1()),
        "finished-origin" => multi_thread().block_on(async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(make_and_finish(tx)).await.unwrap();
            // The task that made the future has finished; spawn it now.
            let future = rx.await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
            tokio::spawn(future).await.unwrap();
        }),
        "joinset" => multi_thread().block_on(fan_out()),
        "methods" => multi_thread().block_on(ROUTER.dispatch()),
        "respawn" => multi_thread().block_on(tick(20_000)),
        "many" => multi_thread().block_on(async {
            for task in spawn_many() {
                task.await.unwrap();
            }
        }),
        "local" => {
            let rt = multi_thread();
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, local_spawn());
        }
        "blocking" => multi_thread().block_on(offload()),
        "blocks" => {
            multi_thread().block_on(hand_off());
            let local = tokio::task::LocalSet::new();
            local.block_on(&multi_thread(), hand_off_local());
            // Run on a thread of its own, spawned from untraced code.
            let greet = make_greeter();
            std::thread::spawn(move || futures::executor::block_on(greet("closure-async")))
                .join()
                .unwrap();
        }
        "blocks-later" => {
            let rt = multi_thread();
            rt.block_on(select_then_spawn());
            rt.block_on(abort_linked());
        }
        "threads" => start_threads(),
        "rayon" => start_rayon(),
        "futures" => {
            let pool = futures::executor::ThreadPool::builder()
                .pool_size(2)
                .create()
                .unwrap();
            futures::executor::block_on(spawn_on_pool(&pool));
        }
        other => panic!("unknown scenario {other}"),
    }
}
