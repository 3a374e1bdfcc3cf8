//! A run that only records, with two collectors, killed (SIGKILL) just after a task moved from
//! one collector's thread to the other's. The task's inner frame exited on the first thread and
//! its outer frame then exited on the second: the second collector may have written the outer
//! exit while the first had not yet written the inner one, which the kill then lost. The
//! recording must read back every thread up to the same moment, so the task's tree nests (no
//! frame exits while a frame it called is still open), and say what it left out.
//!
//! The test runs itself as the traced process: `killed_child` does the work only when
//! `KILLED_LANES_CHILD` is set.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::Value;
use trace_runtime::trace;

/// Pending on its first `n` polls.
struct Pend(u32);

impl Future for Pend {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            Poll::Pending
        }
    }
}

#[trace]
async fn inner() {
    Pend(1).await
}

#[trace]
async fn outer() {
    inner().await;
    Pend(1).await
}

#[trace]
fn filler(i: u64) -> u64 {
    i * 3
}

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

fn poll_once(f: &mut Task) -> Poll<()> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    f.as_mut().poll(&mut cx)
}

/// The traced process: thread X (the first traced, collector 1 of 2) enters `outer` and `inner`,
/// fills chunks so those enters are written, waits past the collector's 50 ms round, then polls
/// again (`inner` exits; that record waits in X's buffer). Thread Y (collector 0) polls the task
/// to its end (`outer` exits), fills chunks so its collector writes them, and kills the process.
#[test]
fn killed_child() {
    if std::env::var_os("KILLED_LANES_CHILD").is_none() {
        return;
    }
    let (to_y, from_x) = mpsc::channel::<Task>();
    let _x = std::thread::spawn(move || {
        let mut task: Task = Box::pin(outer());
        assert!(poll_once(&mut task).is_pending());
        for i in 0..200 {
            std::hint::black_box(filler(i));
        }
        std::thread::sleep(Duration::from_millis(60));
        assert!(poll_once(&mut task).is_pending());
        to_y.send(task).unwrap();
        std::thread::sleep(Duration::from_secs(30));
    });
    let y = std::thread::spawn(move || {
        let mut task = from_x.recv().unwrap();
        assert!(poll_once(&mut task).is_ready());
        for i in 0..200 {
            std::hint::black_box(filler(i));
        }
        std::thread::sleep(Duration::from_millis(5));
        // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    });
    y.join().unwrap();
}

#[test]
fn a_killed_recording_reads_back_every_thread_up_to_the_same_moment() {
    let trace = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("killed-lanes-{}.trace", std::process::id()));
    let status = Command::new(std::env::current_exe().expect("the test's path"))
        .args([
            "killed_child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("KILLED_LANES_CHILD", "1")
        .env("TRACE_OUT", "off")
        .env("TRACE_RECORD", &trace)
        .env("TRACE_COLLECTORS", "2")
        .env("TRACE_BUFFER", "16")
        .env_remove("TRACE_FOCUS")
        .env_remove("TRACE_SUMMARY")
        .env_remove("TRACE_WATCH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run the child");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "the child was killed");

    let out = Command::new(common::rewriter())
        .args(["export", "--format", "jsonl"])
        .arg(&trace)
        .output()
        .expect("run trace-rewriter export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let task: Vec<(String, String)> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|e| e["name"] == "killed_lanes::outer" || e["name"] == "killed_lanes::inner")
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let got: Vec<(&str, &str)> = task.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let whole = [
        ("enter", "killed_lanes::outer"),
        ("enter", "killed_lanes::inner"),
        ("exit", "killed_lanes::inner"),
        ("exit", "killed_lanes::outer"),
    ];
    // Both enters were written a round before the kill; what follows them is there up to the
    // moment both collectors had written through, and nothing past it.
    assert!(
        got.len() >= 2 && whole.starts_with(&got),
        "the task's tree as read back from {}: {got:?}",
        trace.display()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut short: the run's end was not recorded"),
        "{stderr}"
    );
    if got.len() < whole.len() {
        assert!(stderr.contains("were left out"), "{stderr}");
    }
    let _ = std::fs::remove_file(&trace);
}
