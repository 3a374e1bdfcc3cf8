//! The tracer is never the reason a program hangs, crashes or loses its trace: real processes,
//! real signals. A hung program stopped by SIGINT, SIGTERM or SIGHUP writes everything and dies
//! by that signal; the dump signal reports what is open and the program runs on; a program's
//! own Ctrl-C handler is kept; `process::exit` and `panic = "abort"` lose nothing; a traced
//! allocator and traced `Drop`/`Debug` impls the runtime runs into neither deadlock nor recurse.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use common::process::{finish, signal, start, wait_for_text, Ended};
use serde_json::Value;

const HANG: &str = env!("CARGO_BIN_EXE_hang");
const HANDLER: &str = env!("CARGO_BIN_EXE_handler");
const QUIT: &str = env!("CARGO_BIN_EXE_quit");
const ALLOC: &str = env!("CARGO_BIN_EXE_alloc");
const REENTRY: &str = env!("CARGO_BIN_EXE_reentry");

fn mask_open(text: &str) -> String {
    common::mask(text, "(open ")
}

const OPEN_REPORT: &str = "open at exit: 6 traced frames never exited
  [01 main] hang::main (open _) -> hang::serve (open _) -> hang::handle (open _) -> hang::wait_forever (open _)
  [02 worker] hang::pump (open _), spawned from hang::main
  [task 1] hang::heartbeat (open _), spawned from hang::main
";

#[test]
fn a_hung_program_shows_its_chain_while_hung() {
    // Every traced call is still open, yet the lines are out: the collector writes every 50 ms.
    let run = start(HANG, &[], "hung-print", &[]);
    let text = wait_for_text(&run.trace, "-> hang::wait_forever");
    assert!(text.contains("[02 worker] -> hang::pump"), "{text}");
    signal(&run.child, libc::SIGKILL);
    finish(run);
}

#[test]
fn sigint_writes_everything_reports_what_was_open_and_dies_by_sigint() {
    for buffer in ["4096", "16"] {
        let run = start(
            HANG,
            &[],
            &format!("int-{buffer}"),
            &[("TRACE_BUFFER", buffer)],
        );
        signal(&run.child, libc::SIGINT);
        let Ended { status, trace, .. } = finish(run);
        assert_eq!(status.signal(), Some(libc::SIGINT), "{buffer}: {status:?}");
        let (lines, report) = common::events_and_report(&trace);
        assert_eq!(report, OPEN_REPORT, "{buffer}");
        let mut want = [
            "[01 main] -> hang::main",
            "[01 main]   -> hang::serve",
            "[01 main]     -> hang::handle",
            "[01 main]       -> hang::wait_forever",
            "[02 worker] -> hang::pump  (spawned from hang::main)",
            "[03 tasks task 1] -> hang::heartbeat  (spawned from hang::main)",
        ];
        want.sort_unstable();
        assert_eq!(lines, want, "{buffer}");
    }
}

#[test]
fn sigterm_and_sighup_die_by_their_signal_with_the_trace_written() {
    for (sig, tag) in [(libc::SIGTERM, "term"), (libc::SIGHUP, "hup")] {
        let run = start(HANG, &[], tag, &[]);
        signal(&run.child, sig);
        let Ended { status, trace, .. } = finish(run);
        assert_eq!(status.signal(), Some(sig), "{tag}");
        assert!(mask_open(&trace).ends_with(OPEN_REPORT), "{tag}: {trace}");
    }
}

#[test]
fn after_sigint_jsonl_lines_parse_and_the_report_goes_to_stderr() {
    let run = start(HANG, &[], "int-jsonl", &[("TRACE_FORMAT", "jsonl")]);
    signal(&run.child, libc::SIGINT);
    let Ended {
        status,
        trace,
        stderr,
        ..
    } = finish(run);
    assert_eq!(status.signal(), Some(libc::SIGINT));
    let events = common::parse(&trace);
    let mut names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "hang::handle",
            "hang::heartbeat",
            "hang::main",
            "hang::pump",
            "hang::serve",
            "hang::wait_forever"
        ]
    );
    assert!(mask_open(&stderr).contains(OPEN_REPORT), "{stderr}");
}

#[test]
fn after_sigint_the_chrome_file_is_valid_json() {
    for buffer in ["4096", "16"] {
        let run = start(
            HANG,
            &[],
            &format!("int-chrome-{buffer}"),
            &[("TRACE_FORMAT", "chrome"), ("TRACE_BUFFER", buffer)],
        );
        signal(&run.child, libc::SIGINT);
        let Ended { status, trace, .. } = finish(run);
        assert_eq!(status.signal(), Some(libc::SIGINT));
        let value: Value = serde_json::from_str(&trace).unwrap_or_else(|e| panic!("{e}: {trace}"));
        let tracks: Vec<&str> = value
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .map(|e| e["args"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            tracks,
            [
                "thread 01 main",
                "thread 02 worker",
                "thread 03 tasks",
                "task 1 hang::heartbeat"
            ],
            "{buffer}"
        );
    }
}

#[test]
fn the_dump_signal_reports_open_frames_and_the_program_runs_on() {
    let mut run = start(HANG, &[], "dump", &[]);
    signal(&run.child, libc::SIGUSR1);
    let stderr = wait_for_text(&run.stderr, "[task 1]");
    assert_eq!(
        mask_open(&stderr),
        OPEN_REPORT.replace("open at exit", "open frames")
    );
    assert!(run.child.try_wait().unwrap().is_none(), "still running");
    // Asked twice, it answers twice: the program is still there.
    signal(&run.child, libc::SIGUSR1);
    let stderr = wait_for_text(&run.stderr, "[task 1] hang::heartbeat (open ");
    assert!(stderr.matches("open frames:").count() >= 1);
    signal(&run.child, libc::SIGTERM);
    let Ended { status, .. } = finish(run);
    assert_eq!(status.signal(), Some(libc::SIGTERM));
}

#[test]
fn the_dump_signal_can_be_moved_or_switched_off() {
    let run = start(HANG, &[], "dump-usr2", &[("TRACE_DUMP_SIGNAL", "USR2")]);
    signal(&run.child, libc::SIGUSR2);
    wait_for_text(&run.stderr, "open frames: 6 traced frames");
    signal(&run.child, libc::SIGINT);
    finish(run);
    // Off: USR1 has its default action again, which ends the process.
    let run = start(HANG, &[], "dump-off", &[("TRACE_DUMP_SIGNAL", "off")]);
    signal(&run.child, libc::SIGUSR1);
    let Ended { status, stderr, .. } = finish(run);
    assert_eq!(status.signal(), Some(libc::SIGUSR1));
    assert!(!stderr.contains("open frames"), "{stderr}");
}

#[test]
fn a_programs_own_ctrl_c_handler_is_kept() {
    let run = start(HANDLER, &[], "own-handler", &[("TRACE_FORMAT", "jsonl")]);
    // Let it take a few steps, traced, then ask it to stop its own way.
    wait_for_text(&run.trace, "handler::step");
    signal(&run.child, libc::SIGINT);
    let Ended { status, trace, .. } = finish(run);
    assert_eq!(status.code(), Some(0), "the program stopped itself");
    let events = common::parse(&trace);
    common::check_nesting(&events);
    assert!(events.iter().any(|e| e.name == "handler::work" && !e.enter));
}

#[test]
fn process_exit_deep_inside_loses_nothing_and_reports_both_threads() {
    let out = Command::new(QUIT)
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", "stdout")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let (lines, report) = common::events_and_report(&String::from_utf8(out.stdout).unwrap());
    let mut want = [
        "[01 main] -> quit::main",
        "[01 main]   -> quit::work",
        "[01 main]     -> quit::give_up",
        "[02 blocked] -> quit::blocked  (spawned from quit::main)",
    ];
    want.sort_unstable();
    assert_eq!(lines, want);
    assert_eq!(
        report,
        "open at exit: 4 traced frames never exited
  [01 main] quit::main (open _) -> quit::work (open _) -> quit::give_up (open _)
  [02 blocked] quit::blocked (open _), spawned from quit::main
"
    );
}

#[test]
fn a_traced_global_allocator_runs_to_completion_with_the_users_tree() {
    let (out, events) = common::run(ALLOC, "alloc", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::check_nesting(&events);
    // The user's calls, with the allocator's calls they made left out of the picture.
    let users: Vec<&common::Event> = events
        .iter()
        .filter(|e| !e.name.contains("GlobalAlloc"))
        .collect();
    let owned: Vec<common::Event> = users.into_iter().cloned().collect();
    let tree = common::tree(&owned);
    assert!(
        tree.contains("thread 1 main\n  -> alloc::main\n    -> alloc::work\n      -> alloc::build\n      <- alloc::build\n    <- alloc::work\n  <- alloc::main\n"),
        "{tree}"
    );
    assert!(
        tree.contains(
            "  -> alloc::work\n    -> alloc::build\n    <- alloc::build\n  <- alloc::work\n"
        ),
        "{tree}"
    );
    // The allocator is traced when the user's code allocates.
    assert!(events
        .iter()
        .any(|e| e.name == "<alloc::Counting as GlobalAlloc>::alloc" && e.depth > 0));
    // The runtime's own allocations were not traced, and it says how many.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("traced calls made while the runtime was working on their thread"),
        "{stderr}"
    );
}

#[test]
fn traced_drop_and_debug_impls_the_runtime_runs_into_are_safe() {
    let (out, events) = common::run(REENTRY, "reentry", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    let owned: Vec<common::Event> = events.clone();
    let tree = common::tree(&owned);
    assert!(
        tree.starts_with(
            "thread 1 main
  -> reentry::main
    -> reentry::format_it
      -> <reentry::Explosive as fmt::Debug>::fmt
      <- <reentry::Explosive as fmt::Debug>::fmt unwinding
    <- reentry::format_it unwinding
    -> <reentry::Noisy as Drop>::drop
    <- <reentry::Noisy as Drop>::drop
  <- reentry::main
thread 2 worker
  -> reentry::thread_body
    -> <reentry::Noisy as Drop>::drop
    <- <reentry::Noisy as Drop>::drop
  <- reentry::thread_body
"
        ),
        "{tree}"
    );
    // The thread-local's drop, run as the thread ends, is traced too (before or after the
    // thread's own trace state is gone).
    assert_eq!(
        events
            .iter()
            .filter(|e| e.name == "<reentry::Noisy as Drop>::drop" && e.enter)
            .count(),
        3
    );
}
