//! A demo run as a real process: started with its trace and stderr going to files, held at its
//! "ready" line, sent real signals, and waited for.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A demo started with its trace and stderr going to files, stopped at its "ready" line.
pub struct Running {
    pub child: Child,
    /// Kept open: a demo that prints after its "ready" line must not meet a closed pipe.
    pub stdout: BufReader<std::process::ChildStdout>,
    pub trace: PathBuf,
    pub stderr: PathBuf,
    /// For a demo that waits to be told to go on.
    pub stdin: ChildStdin,
    /// The "ready" line, without its line end.
    pub ready: String,
}

/// What a finished demo left: how it ended, its stdout after "ready", its trace, its stderr.
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub trace: String,
    pub stderr: String,
}

/// Makes `cmd`'s program meet SIGINT and SIGQUIT as one started from a terminal does. A test
/// run in the background of a shell (`cargo test &`, a CI script's job) inherits both ignored,
/// and so would the demos it starts, which then could not be stopped by them.
pub fn default_stop_signals(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // calls may be made: `signal` is one, and nothing is allocated or locked.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            Ok(())
        })
    }
}

fn tmp(tag: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("run-{tag}-{}", std::process::id()))
}

/// Starts `bin` with `args` (human trace to a file, no colour, unless `env` says otherwise) and
/// reads its stdout up to the "ready" line it prints once it is inside its traced calls.
pub fn start(bin: &str, args: &[&str], tag: &str, env: &[(&str, &str)]) -> Running {
    let trace = tmp(&format!("{tag}.trace"));
    let stderr = tmp(&format!("{tag}.stderr"));
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_MODE")
        .env_remove("TRACE_SIGNALS")
        .env_remove("TRACE_DUMP_SIGNAL")
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", &trace)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    default_stop_signals(&mut cmd);
    let mut child = cmd.spawn().expect("start the demo");
    let stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("ready"), "{line:?}");
    Running {
        child,
        stdout,
        trace,
        stderr,
        stdin,
        ready: line.trim_end().to_string(),
    }
}

/// Sends `sig` to the running demo.
pub fn signal(child: &Child, sig: i32) {
    // SAFETY: `kill` with a live child's pid (not yet waited for, so not reused) and a valid
    // signal number.
    let rc = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(rc, 0, "kill");
}

/// Waits (at most 20 s, for a loaded machine) until `path` holds `needle`; returns the text.
pub fn wait_for_text(path: &Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} never appeared in:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How long a demo may take to end once asked to: a demo that does not end is a failure, not a
/// hang of the test.
const END_WITHIN: Duration = Duration::from_secs(30);

/// Waits for the demo to end and collects what it left; removes its files. A demo still
/// running after `END_WITHIN` is killed and the test fails.
pub fn finish(mut run: Running) -> Ended {
    let pid = run.child.id() as i32;
    let (done, ended) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || match ended.recv_timeout(END_WITHIN) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // SAFETY: the child has not been waited for (that is what timed out), so its pid
            // is still its own.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        }
        _ => false,
    });
    let mut stdout = String::new();
    let _ = std::io::Read::read_to_string(&mut run.stdout, &mut stdout);
    let status = run.child.wait().unwrap();
    let _ = done.send(());
    assert!(
        !watchdog.join().unwrap(),
        "the demo did not end within {END_WITHIN:?} and was killed; its stderr:\n{}",
        std::fs::read_to_string(&run.stderr).unwrap_or_default()
    );
    let trace = std::fs::read_to_string(&run.trace).unwrap_or_default();
    let stderr = std::fs::read_to_string(&run.stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&run.trace);
    let _ = std::fs::remove_file(&run.stderr);
    Ended {
        status,
        stdout,
        trace,
        stderr,
    }
}
