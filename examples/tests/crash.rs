//! A crash keeps its deepest frames. The `crash` demo, run for real, overflows its stack (on the
//! main thread, on a spawned one), writes through a null pointer, or calls `abort()`. Traced,
//! printed and recorded and in each format, everything it recorded up to the crash is
//! written (the recursion's every level, to the deepest), the open-frames report shows the
//! crashing chain, a recording reads back the same, and the process dies exactly as untraced:
//! same signal, same stderr message from std.
//!
//! The reference for "as untraced" is the same run with `TRACE_SIGNALS=off`, where the runtime
//! installs no handler.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const CRASH: &str = env!("CARGO_BIN_EXE_crash");

/// What std prints when a thread overflows its stack, before it aborts.
const OVERFLOWED: &str = "has overflowed its stack";

/// What a crashed demo left.
struct Crashed {
    status: ExitStatus,
    trace: String,
    stderr: String,
}

fn tmp(tag: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("crash-{tag}-{}", std::process::id()))
}

/// How long a crashing demo may take to die: one that does not is a failure, not a hang.
const END_WITHIN: Duration = Duration::from_secs(60);

/// Runs `crash MODE` (a human trace to a file, no colour, unless `env` says otherwise) until it
/// dies; returns how it died, its trace and its stderr.
fn crash(mode: &str, tag: &str, env: &[(&str, &str)]) -> Crashed {
    let trace = tmp(&format!("{tag}.out"));
    let mut cmd = Command::new(CRASH);
    cmd.arg(mode)
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_MODE")
        .env_remove("TRACE_SIGNALS")
        .env_remove("TRACE_RECORD")
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", &trace)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start the demo");
    let pid = child.id() as i32;
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
    let out = child.wait_with_output().expect("wait for the demo");
    let _ = done.send(());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !watchdog.join().unwrap(),
        "the demo did not die within {END_WITHIN:?}; its stderr:\n{stderr}"
    );
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(&trace);
    Crashed {
        status: out.status,
        trace: text,
        stderr,
    }
}

/// The same run with no handler of the runtime's: how the demo dies untraced.
fn untraced(mode: &str) -> Crashed {
    crash(
        mode,
        &format!("{mode}-untraced"),
        &[("TRACE_SIGNALS", "off")],
    )
}

/// Dies as untraced: the same signal (the one given), and std's overflow message where
/// untraced has it.
fn dies_as_untraced(mode: &str, traced: &Crashed, signal: i32) {
    let reference = untraced(mode);
    assert_eq!(
        reference.status.signal(),
        Some(signal),
        "{}",
        reference.stderr
    );
    assert_eq!(traced.status.signal(), Some(signal), "{}", traced.stderr);
    assert_eq!(
        traced.stderr.contains(OVERFLOWED),
        reference.stderr.contains(OVERFLOWED),
        "traced:\n{}\nuntraced:\n{}",
        tail(&traced.stderr),
        reference.stderr
    );
}

fn tail(text: &str) -> &str {
    &text[text.len().saturating_sub(2000)..]
}

/// A human line's depth: its indentation, or past the deepest indentation `[depth N]`.
fn human_depth(line: &str) -> u64 {
    let after_label = &line[line.find("] ").expect("a label") + 2..];
    match after_label.strip_prefix("[depth ") {
        Some(rest) => rest[..rest.find(']').unwrap()].parse().unwrap(),
        None => (after_label.len() - after_label.trim_start().len()) as u64 / 2,
    }
}

/// `n` frames of the recursion as the report shows them, after `before` (the frames above it
/// on the same chain): the first 4 and the last 16 of the chain, the middle counted.
fn report_chain(before: &[&str], n: usize) -> String {
    let names: Vec<&str> = before
        .iter()
        .copied()
        .chain(std::iter::repeat_n("crash::descend", n))
        .collect();
    let shown = |names: &[&str]| -> String {
        names
            .iter()
            .map(|n| format!("{n} (open _)"))
            .collect::<Vec<_>>()
            .join(" -> ")
    };
    format!(
        "{} -> ... {} frames ... -> {}",
        shown(&names[..4]),
        names.len() - 20,
        shown(&names[names.len() - 16..])
    )
}

/// Checks a human trace of an overflow on `label`'s thread, the recursion starting at `first`
/// depth: every level entered, at consecutive depths, the deepest last; then the report, with
/// the whole crashing chain. Returns the number of levels.
fn deepest_in_human(trace: &str, label: &str, first: u64) -> usize {
    let (events, report) = trace.split_at(
        trace
            .find("open at exit")
            .unwrap_or_else(|| panic!("no open-frames report after:\n{}", tail(trace))),
    );
    let enters: Vec<&str> = events
        .lines()
        // A spawned thread's first line ends `  (spawned from crash::run)`.
        .filter(|l| l.contains("-> crash::descend"))
        .collect();
    let n = enters.len();
    assert!(n > 1000, "only {n} levels of the recursion traced");
    assert!(enters.iter().all(|l| l.starts_with(label)), "{label}");
    let depths: Vec<u64> = enters.iter().map(|l| human_depth(l)).collect();
    let want: Vec<u64> = (first..first + n as u64).collect();
    assert!(depths == want, "depths are not 0..{n} from {first}");
    assert_eq!(
        events.lines().last(),
        enters.last().copied(),
        "the deepest is last"
    );
    assert!(!events.contains("<- crash::descend"), "no level returned");
    let report = common::mask(report, "(open ");
    let want = if label == "[01 main]" {
        format!(
            "open at exit: {} traced frames never exited\n  [01 main] {}\n",
            n + 1,
            report_chain(&["crash::run"], n)
        )
    } else {
        format!(
            "open at exit: {} traced frames never exited\n  [01 main] crash::run (open _)\n  {label} {}, spawned from crash::run\n",
            n + 1,
            report_chain(&[], n)
        )
    };
    assert_eq!(report, want);
    n
}

fn read_back(verb: &[&str], recording: &Path) -> String {
    common::stdout_of(
        Command::new(common::rewriter())
            .arg(verb[0])
            .arg(recording)
            .args(&verb[1..])
            .env("NO_COLOR", "1"),
    )
}

/// Runs `mode` printing, then printing and recording, human; checks both with
/// `check`, and that the recording reads back as the run printed: `export` gives the very
/// bytes, `open` the same report.
fn print_and_record(mode: &str, signal: i32, check: impl Fn(&str)) {
    let printed = crash(mode, &format!("{mode}-print"), &[]);
    dies_as_untraced(mode, &printed, signal);
    check(&printed.trace);

    let recording = tmp(&format!("{mode}.trace"));
    let recorded = crash(
        mode,
        &format!("{mode}-record"),
        &[("TRACE_RECORD", recording.to_str().unwrap())],
    );
    assert_eq!(
        recorded.status.signal(),
        Some(signal),
        "{}",
        recorded.stderr
    );
    check(&recorded.trace);
    let exported = read_back(&["export", "--format", "human"], &recording);
    let open = read_back(&["open"], &recording);
    let _ = std::fs::remove_file(&recording);
    assert!(
        exported == recorded.trace,
        "the recording exports as printed"
    );
    let report = &recorded.trace[recorded.trace.find("open at exit").unwrap()..];
    assert_eq!(
        common::mask(&open, "(open "),
        common::mask(report, "(open ")
    );
}

#[test]
fn a_stack_overflow_in_main_keeps_every_level_and_aborts_as_untraced() {
    print_and_record("overflow", libc::SIGABRT, |trace| {
        assert!(
            trace.starts_with("[01 main] -> crash::run\n"),
            "{}",
            &trace[..200]
        );
        deepest_in_human(trace, "[01 main]", 1);
    });
}

#[test]
fn a_stack_overflow_in_a_spawned_thread_keeps_every_level_and_aborts_as_untraced() {
    print_and_record("overflow-thread", libc::SIGABRT, |trace| {
        assert!(
            trace.starts_with("[01 main] -> crash::run\n"),
            "{}",
            &trace[..200]
        );
        deepest_in_human(trace, "[02 deep]", 0);
    });
}

#[test]
fn a_null_pointer_write_is_traced_to_the_write_and_segfaults_as_untraced() {
    print_and_record("null", libc::SIGSEGV, |trace| {
        assert_eq!(
            common::mask(trace, "(open "),
            "[01 main] -> crash::run
[01 main]   -> crash::poke
open at exit: 2 traced frames never exited
  [01 main] crash::run (open _) -> crash::poke (open _)
"
        );
    });
}

#[test]
fn abort_is_traced_to_the_call_and_aborts_as_untraced() {
    print_and_record("abort", libc::SIGABRT, |trace| {
        assert_eq!(
            common::mask(trace, "(open "),
            "[01 main] -> crash::run
[01 main]   -> crash::give_up
open at exit: 2 traced frames never exited
  [01 main] crash::run (open _) -> crash::give_up (open _)
"
        );
    });
}

/// jsonl, printed: every level an enter line of the contract at consecutive depths, the
/// deepest last; the report on stderr, before std's overflow message.
#[test]
fn a_stack_overflow_in_jsonl_keeps_every_level() {
    let run = crash("overflow", "overflow-jsonl", &[("TRACE_FORMAT", "jsonl")]);
    dies_as_untraced("overflow", &run, libc::SIGABRT);
    let events = common::parse(&run.trace);
    let levels: Vec<&common::Event> = events
        .iter()
        .filter(|e| e.name == "crash::descend")
        .collect();
    let n = levels.len();
    assert!(n > 1000, "only {n} levels");
    assert!(levels.iter().all(|e| e.enter && e.thread == 1));
    let depths: Vec<u64> = levels.iter().map(|e| e.depth).collect();
    assert!(
        depths == (1..=n as u64).collect::<Vec<_>>(),
        "consecutive depths"
    );
    assert_eq!(
        events.last().map(|e| e.depth),
        Some(n as u64),
        "the deepest is last"
    );
    let report = &run.stderr[..run.stderr.find("\n\nthread 'main'").expect("std's message") + 1];
    assert_eq!(
        common::mask(report, "(open "),
        format!(
            "open at exit: {} traced frames never exited\n  [01 main] {}\n",
            n + 1,
            report_chain(&["crash::run"], n)
        )
    );
}

/// Chrome, recorded on a spawned thread: a valid JSON array, every level a slice still open
/// at the crash, at consecutive depths; the report on stderr.
#[test]
fn a_stack_overflow_in_a_thread_in_chrome_is_valid_json_with_every_level() {
    let run = crash(
        "overflow-thread",
        "overflow-thread-chrome",
        &[("TRACE_FORMAT", "chrome")],
    );
    dies_as_untraced("overflow-thread", &run, libc::SIGABRT);
    let json: Value = serde_json::from_str(&run.trace).expect("valid JSON");
    let levels: Vec<&Value> = json
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| e["name"] == "crash::descend")
        .collect();
    let n = levels.len();
    assert!(n > 1000, "only {n} levels");
    assert!(levels
        .iter()
        .all(|e| e["args"]["open"] == true && e["ph"] == "X"));
    let mut depths: Vec<u64> = levels
        .iter()
        .map(|e| e["args"]["depth"].as_u64().unwrap())
        .collect();
    depths.sort_unstable();
    assert!(
        depths == (0..n as u64).collect::<Vec<_>>(),
        "consecutive depths"
    );
    let report = &run.stderr[..run.stderr.find("\n\nthread 'deep'").expect("std's message") + 1];
    assert_eq!(
        common::mask(report, "(open "),
        format!(
            "open at exit: {} traced frames never exited\n  [01 main] crash::run (open _)\n  [02 deep] {}, spawned from crash::run\n",
            n + 1,
            report_chain(&[], n)
        )
    );
}
