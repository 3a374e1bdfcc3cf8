//! A server that stops its own way: on SIGINT, SIGTERM or SIGHUP its handler asks it to stop,
//! its traced `shutdown` runs (for 100 ms) and it exits 0, while a worker thread stays blocked in a traced
//! call to the end. One run per way a program handles the signal, so that the tests can check
//! that tracing never changes how a program stops.
//!
//! ```text
//! stop STYLE [INT|TERM|HUP]
//! ```
//!
//! `STYLE` is `none` (no handler: the signal ends the program), `fork` (a child forked without
//! exec waits for the signal; the program says how it ended, then hangs), or a handler and
//! when it is
//! installed, `-before` or `-after` the first traced call: `tokio-*` (`tokio::signal::ctrl_c()`
//! for INT, `tokio::signal::unix::signal` for TERM and HUP), `ctrlc-*` (the `ctrlc` crate, INT
//! only), `flag-*` (`signal_hook::flag`), `iter-*` (`signal_hook::iterator::Signals`),
//! `sigwait-*` (the signal blocked, taken with `sigwait`).
//!
//! ```text
//! cargo run -p trace-examples --bin stop --features trace -- tokio-after
//! ```

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use trace_runtime::trace;

/// A tokio signal listener, armed: its handler is installed.
type Listener = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How a synchronous program learns it was asked to stop.
enum Stop {
    Never,
    Ctrlc(mpsc::Receiver<()>),
    Flag(Arc<AtomicBool>),
    Iter(signal_hook::iterator::Signals),
    /// The signal blocked on this thread (and the threads it starts), taken with `sigwait`.
    Sigwait(i32),
}

impl Stop {
    fn install(kind: &str, signal: i32) -> Stop {
        match kind {
            "none" => Stop::Never,
            "ctrlc" => {
                assert_eq!(signal, SIGINT, "ctrlc handles SIGINT only");
                let (tx, rx) = mpsc::channel();
                ctrlc::set_handler(move || {
                    let _ = tx.send(());
                })
                .expect("install the Ctrl-C handler");
                Stop::Ctrlc(rx)
            }
            "flag" => {
                let flag = Arc::new(AtomicBool::new(false));
                signal_hook::flag::register(signal, flag.clone()).expect("register the flag");
                Stop::Flag(flag)
            }
            "iter" => Stop::Iter(
                signal_hook::iterator::Signals::new([signal]).expect("register the iterator"),
            ),
            "sigwait" => {
                // SAFETY: `set` is initialised by sigemptyset before use; the mask changed is
                // this thread's own.
                unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, signal);
                    assert_eq!(
                        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()),
                        0
                    );
                }
                Stop::Sigwait(signal)
            }
            other => panic!("unknown handler {other:?}"),
        }
    }

    fn wait(self) {
        match self {
            Stop::Never => loop {
                std::thread::park();
            },
            Stop::Ctrlc(rx) => rx.recv().expect("the handler's sender lives on"),
            // signal_hook::flag's way: the program looks at the flag between its steps.
            Stop::Flag(flag) => {
                while !flag.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            Stop::Iter(mut signals) => {
                signals.forever().next();
            }
            Stop::Sigwait(signal) => {
                // Busy until told (a line on stdin): the signal comes while no thread waits
                // for it, and stays pending for the program until it does.
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).expect("read stdin");
                let mut got = 0;
                // SAFETY: `set` is initialised by sigemptyset before use; `got` is a valid out
                // pointer.
                let rc = unsafe {
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, signal);
                    libc::sigwait(&set, &mut got)
                };
                assert_eq!((rc, got), (0, signal));
            }
        }
    }
}

/// Waits for `signal` through tokio, its handler installed before this returns.
async fn listen(signal: i32) -> Listener {
    let mut listener: Listener = if signal == SIGINT {
        Box::pin(async { tokio::signal::ctrl_c().await.expect("wait for Ctrl-C") })
    } else {
        let kind = tokio::signal::unix::SignalKind::from_raw(signal);
        let mut stream = tokio::signal::unix::signal(kind).expect("install the tokio handler");
        Box::pin(async move {
            stream.recv().await;
        })
    };
    // `ctrl_c()` installs its handler when first polled.
    assert!(futures::poll!(listener.as_mut()).is_pending());
    listener
}

fn ready() {
    println!("ready {}", std::process::id());
    let _ = std::io::stdout().flush();
}

#[trace]
fn pump(rx: mpsc::Receiver<()>, started: mpsc::Sender<()>) {
    started.send(()).unwrap();
    let _ = rx.recv();
}

/// A worker blocked in a traced call for the rest of the run: the open-frames report at exit
/// has it.
fn start_worker() {
    let (keep, rx) = mpsc::channel::<()>();
    std::mem::forget(keep);
    let (started_tx, started_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || pump(rx, started_tx))
        .expect("spawn the worker");
    started_rx.recv().unwrap();
}

/// A graceful shutdown takes a while (connections drain, files are flushed): long enough for a
/// tracer that ended the process on the signal to have done so before it completes.
#[trace]
fn shutdown() {
    std::thread::sleep(std::time::Duration::from_millis(100));
    println!("graceful shutdown");
    let _ = std::io::stdout().flush();
}

#[trace]
fn serve(kind: &str, early: Option<Stop>, signal: i32) {
    // Installed before the worker starts, so that a signal a thread blocks is blocked on the
    // worker too (it inherits the mask), as a program that waits with `sigwait` does.
    let stop = early.unwrap_or_else(|| Stop::install(kind, signal));
    start_worker();
    ready();
    stop.wait();
    shutdown();
}

/// A child forked without exec, waiting for a signal, and the parent telling how it ended;
/// then the parent waits forever, with no handler of its own.
#[trace]
fn serve_forked() {
    start_worker();
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child of a multi-threaded process makes only async-signal-safe calls (write,
    // pause) until a signal ends it.
    let child = unsafe { libc::fork() };
    if child == 0 {
        unsafe {
            // Not the parent's stdout: the reader sees it close when the parent ends.
            libc::close(1);
            libc::write(fds[1], b"x".as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        }
    }
    let mut byte = 0u8;
    // SAFETY: the pipe's read end, and one writable byte.
    assert_eq!(
        unsafe { libc::read(fds[0], (&mut byte as *mut u8).cast(), 1) },
        1
    );
    println!("ready {} {child}", std::process::id());
    let _ = std::io::stdout().flush();
    let mut status = 0;
    // SAFETY: `child` is this process's child; `status` is a valid out pointer.
    assert_eq!(unsafe { libc::waitpid(child, &mut status, 0) }, child);
    if libc::WIFSIGNALED(status) {
        println!("child ended by signal {}", libc::WTERMSIG(status));
    } else {
        println!("child exited with {}", libc::WEXITSTATUS(status));
    }
    let _ = std::io::stdout().flush();
    Stop::Never.wait();
}

#[trace]
async fn serve_tasks(early: Option<Listener>, signal: i32) {
    start_worker();
    let stop = match early {
        Some(stop) => stop,
        None => listen(signal).await,
    };
    ready();
    stop.await;
    shutdown();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let style = args.next().unwrap_or_else(|| "none".to_string());
    let signal = match args.next().as_deref() {
        None | Some("INT") => SIGINT,
        Some("TERM") => SIGTERM,
        Some("HUP") => SIGHUP,
        Some(other) => panic!("unknown signal {other:?} (INT, TERM or HUP)"),
    };
    if style == "fork" {
        serve_forked();
    }
    let (kind, before) = match style.split_once('-') {
        Some((kind, "before")) => (kind, true),
        Some((kind, "after")) => (kind, false),
        None if style == "none" => ("none", false),
        _ => panic!("unknown style {style:?}"),
    };
    if kind == "tokio" {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let early = before.then(|| rt.block_on(listen(signal)));
        rt.block_on(serve_tasks(early, signal));
    } else {
        let early = before.then(|| Stop::install(kind, signal));
        serve(kind, early, signal);
    }
}
