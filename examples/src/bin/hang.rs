//! A program that hangs, as programs do: the main thread blocked in a traced call chain, a
//! worker thread blocked in another, a task stuck forever. Stop it with Ctrl-C (the trace and
//! what was still open are written), or ask it what is open with `kill -USR1 <pid>`.
//!
//! ```text
//! cargo run -p trace-examples --bin hang --features trace
//! ```

use std::sync::mpsc;

use trace_runtime::trace;

#[trace]
fn wait_forever(rx: &mpsc::Receiver<()>, ready: &dyn Fn()) {
    ready();
    // Nothing is ever sent: the program hangs here.
    let _ = rx.recv();
}

#[trace]
fn handle(rx: &mpsc::Receiver<()>, ready: &dyn Fn()) {
    wait_forever(rx, ready);
}

#[trace]
fn serve(rx: &mpsc::Receiver<()>, ready: &dyn Fn()) {
    handle(rx, ready);
}

#[trace]
fn pump(rx: mpsc::Receiver<()>, started: mpsc::Sender<()>) {
    started.send(()).unwrap();
    let _ = rx.recv();
}

#[trace]
async fn heartbeat() {
    std::future::pending::<()>().await;
}

#[trace]
fn main() {
    // Kept alive and never used: every wait below is forever.
    let (_keep_main, main_rx) = mpsc::channel::<()>();
    let (keep_worker, worker_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    let started = started_tx.clone();
    // One at a time, so that the threads are numbered in this order.
    std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || pump(worker_rx, started))
        .expect("spawn the worker");
    started_rx.recv().unwrap();
    std::thread::Builder::new()
        .name("tasks".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a tokio runtime");
            rt.block_on(async {
                let stuck = tokio::spawn(heartbeat());
                tokio::task::yield_now().await;
                started_tx.send(()).unwrap();
                let _ = stuck.await;
            });
        })
        .expect("spawn the task thread");
    started_rx.recv().unwrap();
    let ready = || {
        println!("ready {}", std::process::id());
        use std::io::Write;
        let _ = std::io::stdout().flush();
    };
    serve(&main_rx, &ready);
    drop(keep_worker);
}
