//! Concurrency inside one task, one scenario per argument: branches of `join!`, `select!` and
//! `FuturesUnordered` polled by the same task at the same time (siblings, not caller and
//! callee), and a connection stuck in a `select!` between reading a frame and waiting for
//! shutdown, as a server is at a stop.
//!
//! ```text
//! cargo run -p trace-examples --bin concurrent --features trace -- join
//! cargo run -p trace-examples --bin concurrent --features trace -- stuck wait   # then Ctrl-C
//! ```
//!
//! - `join`: `both` joins `left` (waiting for `right`'s message, then calling `step`) and
//!   `right`.
//! - `select`: `race` selects between `quick` (done on its second poll) and `slow` (never done,
//!   cancelled when `quick` wins).
//! - `unordered`: `gather` runs five `job`s in a `FuturesUnordered`.
//! - `stuck exit|wait`: a server thread's task `connection` -> `handler` selects between
//!   `read_frame` (joining `fill_buf` and `parse_header`) and `shutdown_recv`, which spawns
//!   the task `watchdog`, running two `probe`s in a `FuturesUnordered`; none of them ever
//!   finishes. `exit`: the program then calls `process::exit`; `wait`: it prints
//!   "ready" and waits to be signalled.

use std::sync::mpsc;

use futures::stream::{FuturesUnordered, StreamExt};
use trace_runtime::trace;

#[trace]
fn step() {}

#[trace]
async fn left(rx: tokio::sync::oneshot::Receiver<()>) {
    let _ = rx.await;
    step();
}

#[trace]
async fn right(tx: tokio::sync::oneshot::Sender<()>) {
    tokio::task::yield_now().await;
    let _ = tx.send(());
}

#[trace]
async fn both() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    // `futures::join!` polls its branches in order on every poll: the trace is the same run
    // after run.
    futures::join!(left(rx), right(tx));
}

#[trace]
async fn quick() {
    tokio::task::yield_now().await;
}

#[trace]
async fn slow() {
    std::future::pending::<()>().await;
}

#[trace]
async fn race() {
    tokio::select! {
        biased;
        _ = quick() => {}
        _ = slow() => {}
    }
}

#[trace]
async fn job(n: u32) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
    step();
}

#[trace]
async fn gather() {
    let mut jobs: FuturesUnordered<_> = (1..=5).map(job).collect();
    while jobs.next().await.is_some() {}
}

#[trace]
async fn fill_buf() {
    std::future::pending::<()>().await;
}

#[trace]
async fn parse_header() {
    std::future::pending::<()>().await;
}

#[trace]
async fn read_frame() {
    futures::join!(fill_buf(), parse_header());
}

/// Never done; the last one says when every frame is open.
#[trace]
async fn probe(ready: Option<mpsc::Sender<()>>) {
    if let Some(ready) = ready {
        let _ = ready.send(());
    }
    std::future::pending::<()>().await;
}

#[trace]
async fn watchdog(ready: mpsc::Sender<()>) {
    let mut probes: FuturesUnordered<_> = [probe(None), probe(Some(ready))].into_iter().collect();
    while probes.next().await.is_some() {}
}

#[trace]
async fn shutdown_recv(ready: mpsc::Sender<()>) {
    let _watchdog = tokio::spawn(watchdog(ready));
    std::future::pending::<()>().await;
}

#[trace]
async fn handler(ready: mpsc::Sender<()>) {
    tokio::select! {
        biased;
        _ = read_frame() => {}
        _ = shutdown_recv(ready) => {}
    }
}

#[trace]
async fn connection(ready: mpsc::Sender<()>) {
    handler(ready).await;
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// Stuck for good on a thread of its own; returns once every frame is open.
fn stuck() {
    let (ready, is_ready) = mpsc::channel();
    std::thread::Builder::new()
        .name("server".into())
        .spawn(move || current_thread().block_on(connection(ready)))
        .expect("a thread");
    is_ready.recv().expect("the server started");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["join"] => current_thread().block_on(both()),
        ["select"] => current_thread().block_on(race()),
        ["unordered"] => current_thread().block_on(gather()),
        ["stuck", "exit"] => {
            stuck();
            std::process::exit(0);
        }
        ["stuck", "wait"] => {
            stuck();
            println!("ready");
            loop {
                std::thread::park();
            }
        }
        _ => {
            eprintln!("usage: concurrent join|select|unordered|stuck exit|stuck wait");
            std::process::exit(2);
        }
    }
}
