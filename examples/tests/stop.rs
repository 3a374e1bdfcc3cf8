//! Tracing never changes how a program stops. The `stop` demo, run for real and sent real
//! signals once it says it is ready, in each way a program handles SIGINT, SIGTERM or SIGHUP
//! (tokio::signal, the `ctrlc` crate, signal-hook's flag and iterator, installed before or after
//! the first traced call): its handler runs, its traced shutdown runs, it exits 0 as it does
//! untraced, and the trace and the open-frames report are complete at its exit. A program with no
//! handler writes everything, reports and dies by the signal. `TRACE_SIGNALS=off` takes no
//! signal.
//!
//! The reference for "as untraced" is the documented status of the demo (0 when it handles the
//! signal, death by the signal when it does not) and the same run with `TRACE_SIGNALS=off`, where
//! the runtime installs no handler: the program's signals are then what they are untraced.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::process::{finish, signal, start, wait_for_text, Ended};
use serde_json::Value;

const STOP: &str = env!("CARGO_BIN_EXE_stop");

/// What the runtime says when the program handles the signal, for SIGINT.
const GOES_ON: &str = "trace-runtime: SIGINT received; the program handles it, so it runs on and the trace goes on (it ends when the program exits)\n";

/// The exit lines' durations cut off: `[01 main] <- stop::serve 1.2ms` reads
/// `[01 main] <- stop::serve`.
fn without_times(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|l| match l.find(" <- ") {
            Some(at) => {
                let name_end = l[at + 4..].find(' ').map_or(l.len(), |n| at + 4 + n);
                l[..name_end].to_string()
            }
            None => l,
        })
        .collect()
}

fn sorted(lines: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    lines.sort_unstable();
    lines
}

/// Runs `stop STYLE SIG`, sends the signal once it is ready, tells it to go on (a line on
/// stdin, for the styles that wait for it), and returns what it left.
fn stop(style: &str, sig: (&str, i32), tag: &str, env: &[(&str, &str)]) -> Ended {
    let mut run = start(STOP, &[style, sig.0], tag, env);
    signal(&run.child, sig.1);
    // A demo the signal ended is not there to read it.
    let _ = std::io::Write::write_all(&mut run.stdin, b"go\n");
    finish(run)
}

/// The trace of a sync `serve` that shut down gracefully, and the report at its exit.
fn graceful_sync() -> Vec<String> {
    sorted(&[
        "[01 main] -> stop::serve",
        "[02 worker] -> stop::pump",
        "[01 main]   -> stop::shutdown",
        "[01 main]   <- stop::shutdown",
        "[01 main] <- stop::serve",
    ])
}

fn graceful_tasks() -> Vec<String> {
    sorted(&[
        "[01 main task 1] -> stop::serve_tasks",
        "[02 worker] -> stop::pump",
        "[01 main task 1]   -> stop::shutdown",
        "[01 main task 1]   <- stop::shutdown",
        "[01 main task 1] <- stop::serve_tasks",
    ])
}

const REPORT_AT_EXIT: &str = "open at exit: 1 traced frame never exited
  [02 worker] stop::pump (open _)
";

/// A program that handles `sig` in `style`: traced, its handler and its traced shutdown run,
/// it exits 0 like the same program with no signal taken by the runtime, the trace holds the
/// shutdown and ends in the report at exit, and stderr holds `said` (what the runtime said at
/// the moment of the signal: the note that the trace goes on, when its handler was called).
fn handled(style: &str, sig: (&str, i32), graceful: &[String], said: &str) {
    let tag = format!("{style}-{}", sig.0);
    let traced = stop(style, sig, &tag, &[]);
    let untraced = stop(
        style,
        sig,
        &format!("{tag}-off"),
        &[("TRACE_SIGNALS", "off")],
    );
    assert_eq!(traced.status.code(), Some(0), "{tag}: {:?}", traced.status);
    assert_eq!(traced.status, untraced.status, "{tag}: {}", traced.stderr);
    assert_eq!(traced.stdout, "graceful shutdown\n", "{tag}");
    let (lines, report) = common::events_and_report(&traced.trace);
    assert_eq!(without_times(lines), graceful, "{tag}");
    assert_eq!(report, REPORT_AT_EXIT, "{tag}");
    assert_eq!(traced.stderr, said, "{tag}");
    // With no signal taken, the same trace: the exit hook wrote it.
    let (lines, report) = common::events_and_report(&untraced.trace);
    assert_eq!(without_times(lines), graceful, "{tag} off");
    assert_eq!(report, REPORT_AT_EXIT, "{tag} off");
    assert_eq!(untraced.stderr, "", "{tag} off");
}

const INT: (&str, i32) = ("INT", libc::SIGINT);
const TERM: (&str, i32) = ("TERM", libc::SIGTERM);
const HUP: (&str, i32) = ("HUP", libc::SIGHUP);

#[test]
fn tokio_ctrl_c_installed_after_the_first_traced_call_runs_the_traced_shutdown_and_exits_0() {
    handled("tokio-after", INT, &graceful_tasks(), GOES_ON);
}

#[test]
fn tokio_sigterm_and_sighup_installed_after_the_first_traced_call_are_the_programs() {
    for sig in [TERM, HUP] {
        let said = GOES_ON.replace("SIGINT", &format!("SIG{}", sig.0));
        handled("tokio-after", sig, &graceful_tasks(), &said);
    }
}

#[test]
fn tokio_signal_installed_before_the_first_traced_call_is_left_alone() {
    for sig in [INT, TERM] {
        handled("tokio-before", sig, &graceful_tasks(), "");
    }
}

#[test]
fn the_ctrlc_crate_before_or_after_the_first_traced_call_stops_the_program_its_way() {
    // ctrlc replaces the OS handler and calls no other: the runtime's never runs.
    for style in ["ctrlc-before", "ctrlc-after"] {
        handled(style, INT, &graceful_sync(), "");
    }
}

#[test]
fn signal_hook_flag_before_or_after_the_first_traced_call_stops_the_program_its_way() {
    handled("flag-before", TERM, &graceful_sync(), "");
    handled("flag-after", INT, &graceful_sync(), GOES_ON);
    let said = GOES_ON.replace("SIGINT", "SIGHUP");
    handled("flag-after", HUP, &graceful_sync(), &said);
}

#[test]
fn signal_hook_iterator_before_or_after_the_first_traced_call_stops_the_program_its_way() {
    handled("iter-before", HUP, &graceful_sync(), "");
    handled("iter-after", INT, &graceful_sync(), GOES_ON);
    let said = GOES_ON.replace("SIGINT", "SIGTERM");
    handled("iter-after", TERM, &graceful_sync(), &said);
}

#[test]
fn a_program_waiting_with_sigwait_gets_the_signal_whenever_it_blocked_it() {
    // Blocked after the first traced call, once the runtime's threads run: they block it too,
    // so the kernel keeps it pending for the program's sigwait (which comes after the signal)
    // rather than hand it to one of them.
    handled("sigwait-after", TERM, &graceful_sync(), "");
    handled("sigwait-before", INT, &graceful_sync(), "");
}

#[test]
fn a_child_forked_without_exec_dies_by_the_signal_and_the_program_runs_on() {
    let mut run = start(STOP, &["fork"], "fork", &[]);
    // The "ready" line names the child: `ready PARENT CHILD`.
    let child: i32 = run
        .ready
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    // SAFETY: the child is alive until this signal ends it: its parent waits for it.
    assert_eq!(unsafe { libc::kill(child, libc::SIGINT) }, 0);
    // The child inherited the runtime's handler but not its signal thread: it dies by the
    // signal, as untraced, and the parent, told nothing, runs on.
    let mut line = String::new();
    std::io::BufRead::read_line(&mut run.stdout, &mut line).unwrap();
    if line.is_empty() {
        // The parent ended instead: the child is left to the test to end.
        // SAFETY: the child is alive (it pauses until a signal ends it): the pid is its own.
        unsafe { libc::kill(child, libc::SIGKILL) };
    }
    assert_eq!(line, "child ended by signal 2\n");
    assert!(
        run.child.try_wait().unwrap().is_none(),
        "the parent runs on"
    );
    signal(&run.child, libc::SIGTERM);
    let end = finish(run);
    assert_eq!(end.status.signal(), Some(libc::SIGTERM));
    let (lines, report) = common::events_and_report(&end.trace);
    assert_eq!(
        lines,
        sorted(&[
            "[01 main] -> stop::serve_forked",
            "[02 worker] -> stop::pump"
        ])
    );
    assert_eq!(
        report,
        REPORT_AT_SIGNAL.replace("stop::serve ", "stop::serve_forked ")
    );
}

const REPORT_AT_SIGNAL: &str = "open at exit: 2 traced frames never exited
  [01 main] stop::serve (open _)
  [02 worker] stop::pump (open _)
";

#[test]
fn a_program_without_a_handler_writes_everything_reports_and_dies_by_the_signal() {
    for sig in [INT, TERM, HUP] {
        let tag = format!("none-{}", sig.0);
        let end = stop("none", sig, &tag, &[]);
        assert_eq!(end.status.signal(), Some(sig.1), "{tag}: {:?}", end.status);
        assert_eq!(end.stdout, "", "{tag}");
        let (lines, report) = common::events_and_report(&end.trace);
        assert_eq!(
            lines,
            sorted(&["[01 main] -> stop::serve", "[02 worker] -> stop::pump"]),
            "{tag}"
        );
        assert_eq!(report, REPORT_AT_SIGNAL, "{tag}");
        assert_eq!(end.stderr, "", "{tag}");
    }
}

#[test]
fn without_a_handler_the_chrome_file_is_closed_and_valid_json() {
    let end = stop("none", TERM, "none-chrome", &[("TRACE_FORMAT", "chrome")]);
    assert_eq!(end.status.signal(), Some(libc::SIGTERM));
    let value: Value =
        serde_json::from_str(&end.trace).unwrap_or_else(|e| panic!("{e}: {}", end.trace));
    // The chrome trace holds finished calls; the two open ones have their tracks, and the
    // report.
    let tracks: Vec<&str> = value
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tracks, ["thread 01 main", "thread 02 worker"]);
    // The report goes to stderr beside a chrome trace.
    assert_eq!(common::mask(&end.stderr, "(open "), REPORT_AT_SIGNAL);
}

/// The signals this process catches, from the kernel's own account (`SigCgt`).
#[cfg(target_os = "linux")]
fn caught(pid: u32) -> Vec<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .expect("a SigCgt line");
    let bits = u64::from_str_radix(mask.trim(), 16).unwrap();
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1]
        .into_iter()
        .filter(|s| bits & (1 << (s - 1)) != 0)
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn the_runtime_catches_the_fatal_signals_and_the_dump_signal_unless_told_not_to() {
    let run = start(STOP, &["none"], "caught-on", &[]);
    assert_eq!(
        caught(run.child.id()),
        [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1]
    );
    signal(&run.child, libc::SIGINT);
    finish(run);
    let run = start(STOP, &["none"], "caught-off", &[("TRACE_SIGNALS", "off")]);
    assert_eq!(caught(run.child.id()), [0; 0]);
    signal(&run.child, libc::SIGKILL);
    finish(run);
}

#[test]
fn trace_signals_off_takes_no_signal_and_the_trace_is_as_far_as_the_collector_wrote_it() {
    let run = start(STOP, &["none"], "signals-off", &[("TRACE_SIGNALS", "off")]);
    // What is captured is written every 50 ms; once both enters are out, stop it.
    wait_for_text(&run.trace, "[02 worker] -> stop::pump");
    wait_for_text(&run.trace, "[01 main] -> stop::serve");
    // The dump signal is not taken either: USR1's default action ends the program.
    signal(&run.child, libc::SIGUSR1);
    let end = finish(run);
    assert_eq!(end.status.signal(), Some(libc::SIGUSR1));
    let mut lines: Vec<&str> = end.trace.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["[01 main] -> stop::serve", "[02 worker] -> stop::pump"]
    );
    assert_eq!(end.stderr, "", "no report, no note");
    let run = start(
        STOP,
        &["none"],
        "signals-off-int",
        &[("TRACE_SIGNALS", "off")],
    );
    signal(&run.child, libc::SIGINT);
    let end = finish(run);
    assert_eq!(end.status.signal(), Some(libc::SIGINT));
    assert!(!end.trace.contains("open at exit"), "{}", end.trace);
}
