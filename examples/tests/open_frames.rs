//! `assert_no_open_frames` fails a test that leaves traced work running, and passes once it
//! has finished. Its own test binary: other tests' frames must not be open meanwhile.

mod quiet;

use std::sync::mpsc;

use trace_runtime::trace;

/// Says it has started from inside its own frame (the guard is its first statement), so the
/// test knows the frame is open without guessing how long that takes.
#[trace]
fn wait_for(started: mpsc::Sender<()>, rx: mpsc::Receiver<()>) {
    started.send(()).unwrap();
    let _ = rx.recv();
}

#[trace]
fn caller_frames_do_not_count() {
    trace_runtime::assert_no_open_frames();
}

#[test]
fn leaked_work_fails_the_check_until_it_finishes() {
    let (tx, rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("waiter".into())
        .spawn(move || wait_for(started_tx, rx))
        .unwrap();
    started_rx.recv().unwrap();
    let failure = std::panic::catch_unwind(trace_runtime::assert_no_open_frames)
        .expect_err("work is still running");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.starts_with("traced work still running:"),
        "{message}"
    );
    assert!(
        message.contains("waiter] open_frames::wait_for (open "),
        "{message}"
    );

    tx.send(()).unwrap();
    worker.join().unwrap();
    trace_runtime::assert_no_open_frames();
    caller_frames_do_not_count();
}
