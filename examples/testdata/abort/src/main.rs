//! Panics three calls deep while another thread is blocked in a traced call, in a build where a
//! panic aborts the process.

use std::sync::mpsc;

use trace_runtime::trace;

#[trace]
fn blocked(rx: mpsc::Receiver<()>, started: mpsc::Sender<()>) {
    started.send(()).unwrap();
    let _ = rx.recv();
}

#[trace]
fn explode() {
    panic!("boom");
}

#[trace]
fn work() {
    explode();
}

#[trace]
fn main() {
    let (_keep, rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("blocked".into())
        .spawn(move || blocked(rx, started_tx))
        .expect("spawn");
    started_rx.recv().unwrap();
    work();
}
