//! `std::process::exit` from deep inside traced calls, while another thread is blocked in one:
//! nothing buffered is lost, and both threads' open frames are reported.

use std::sync::mpsc;

use trace_runtime::trace;

#[trace]
fn blocked(rx: mpsc::Receiver<()>, started: mpsc::Sender<()>) {
    started.send(()).unwrap();
    let _ = rx.recv();
}

#[trace]
fn give_up() -> ! {
    std::process::exit(3)
}

#[trace]
fn work() {
    give_up();
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
