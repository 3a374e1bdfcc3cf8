//! The open work and concurrency inside one task, in every view: branches of `join!`,
//! `select!` and `FuturesUnordered` are siblings (the human tree marks them, the open-frames
//! report lists them under their common caller, chrome gives them lanes that nest); what is
//! still running at a stop (exit, the dump signal, SIGTERM) is in the report, in the chrome
//! file as open slices and in folded stacks, which stay folded lines only.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const DEMO: &str = env!("CARGO_BIN_EXE_concurrent");

/// Runs the demo with the trace on stdout.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(DEMO);
    cmd.args(args)
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_MODE")
        .env_remove("TRACE_FOCUS")
        .env("TRACE_OUT", "stdout")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

/// A human trace with its times masked: an exit's elapsed time and busy time read `_`.
fn mask_times(text: &str) -> String {
    let masked = common::mask(text, "(busy ");
    masked
        .lines()
        .map(|line| match line.find("<- ") {
            Some(at) => {
                let (head, exit) = line.split_at(at);
                let mut words: Vec<&str> = exit.split(' ').collect();
                // `<-`, the name, the elapsed time.
                if words.len() > 2 {
                    words[2] = "_";
                }
                format!("{head}{}\n", words.join(" "))
            }
            None => format!("{line}\n"),
        })
        .collect()
}

#[test]
fn join_branches_are_siblings_in_the_human_tree() {
    let out = run(&["join"], &[]);
    assert_eq!(
        mask_times(&text(&out.stdout)),
        "\
[01 main task 1] -> concurrent::both
[01 main task 1]   -> concurrent::left
[01 main task 1]   -> concurrent::right  (concurrent with concurrent::left)
[01 main task 1]   <- concurrent::right _ (busy _)
[01 main task 1]     -> concurrent::step
[01 main task 1]     <- concurrent::step _
[01 main task 1]   <- concurrent::left _ (busy _)
[01 main task 1] <- concurrent::both _ (busy _)
"
    );
}

#[test]
fn select_branches_are_siblings_and_the_loser_is_cancelled() {
    let out = run(&["select"], &[]);
    assert_eq!(
        mask_times(&text(&out.stdout)),
        "\
[01 main task 1] -> concurrent::race
[01 main task 1]   -> concurrent::quick
[01 main task 1]   -> concurrent::slow  (concurrent with concurrent::quick)
[01 main task 1]   <- concurrent::quick _ (busy _)
[01 main task 1]   <- concurrent::slow _ (busy _) cancelled
[01 main task 1] <- concurrent::race _ (busy _)
"
    );
}

#[test]
fn futures_unordered_members_are_siblings_and_their_chains_agree() {
    let out = run(&["unordered"], &[]);
    // More than three siblings are counted; the `step`s of the first four jobs come after the
    // last job's enter: each names its job.
    assert_eq!(
        mask_times(&text(&out.stdout)),
        "\
[01 main task 1] -> concurrent::gather
[01 main task 1]   -> concurrent::job
[01 main task 1]   -> concurrent::job  (concurrent with concurrent::job)
[01 main task 1]   -> concurrent::job  (concurrent with concurrent::job, concurrent::job)
[01 main task 1]   -> concurrent::job  (concurrent with concurrent::job, concurrent::job, concurrent::job)
[01 main task 1]   -> concurrent::job  (concurrent with concurrent::job, concurrent::job, concurrent::job and 1 more)
[01 main task 1]     -> concurrent::step  (under the 1st concurrent::job)
[01 main task 1]     <- concurrent::step _
[01 main task 1]   <- concurrent::job _ (busy _)
[01 main task 1]     -> concurrent::step  (under the 1st concurrent::job)
[01 main task 1]     <- concurrent::step _
[01 main task 1]   <- concurrent::job _ (busy _)
[01 main task 1]     -> concurrent::step  (under the 1st concurrent::job)
[01 main task 1]     <- concurrent::step _
[01 main task 1]   <- concurrent::job _ (busy _)
[01 main task 1]     -> concurrent::step  (under the 1st concurrent::job)
[01 main task 1]     <- concurrent::step _
[01 main task 1]   <- concurrent::job _ (busy _)
[01 main task 1]     -> concurrent::step
[01 main task 1]     <- concurrent::step _
[01 main task 1]   <- concurrent::job _ (busy _)
[01 main task 1] <- concurrent::gather _ (busy _)
"
    );
    // Each `step` is called by one `job`, never by another `step` or `job`.
    let focus = run(&["unordered"], &[("TRACE_FOCUS", "step")]);
    let focus = text(&focus.stdout);
    assert!(
        focus.ends_with(
            "focus step: 5 calls by 1 distinct chain\n       \
             5x concurrent::gather -> concurrent::job -> concurrent::step\n"
        ),
        "{focus}"
    );
}

/// What the stuck server has open, with durations masked.
const STUCK: &str = "  [task 1] concurrent::connection (open _) -> concurrent::handler (open _), concurrently:
    \u{2016} concurrent::read_frame (open _), concurrently:
      \u{2016} concurrent::fill_buf (open _)
      \u{2016} concurrent::parse_header (open _)
    \u{2016} concurrent::shutdown_recv (open _)
  [task 2] concurrent::watchdog (open _), spawned from concurrent::connection -> concurrent::handler -> concurrent::shutdown_recv, concurrently:
    \u{2016} concurrent::probe (open _)
    \u{2016} concurrent::probe (open _)
";

/// Its trace's lines, sorted.
const STUCK_LINES: [&str; 9] = [
    "[01 server task 1]       -> concurrent::fill_buf",
    "[01 server task 1]       -> concurrent::parse_header  (concurrent with concurrent::fill_buf)",
    "[01 server task 1]     -> concurrent::read_frame",
    "[01 server task 1]     -> concurrent::shutdown_recv  (concurrent with concurrent::read_frame)",
    "[01 server task 1]   -> concurrent::handler",
    "[01 server task 1] -> concurrent::connection",
    "[01 server task 2]   -> concurrent::probe",
    "[01 server task 2]   -> concurrent::probe  (concurrent with concurrent::probe)",
    "[01 server task 2] -> concurrent::watchdog  (spawned from concurrent::connection -> concurrent::handler -> concurrent::shutdown_recv)",
];

#[test]
fn the_report_at_exit_lists_concurrent_branches_under_their_caller() {
    let out = run(&["stuck", "exit"], &[]);
    let (lines, report) = common::events_and_report(&text(&out.stdout));
    assert_eq!(lines, STUCK_LINES);
    assert_eq!(
        report,
        format!("open at exit: 9 traced frames never exited\n{STUCK}")
    );
}

/// The demo waiting to be signalled, its trace and stderr going to files.
struct Waiting {
    child: Child,
    _stdout: BufReader<std::process::ChildStdout>,
    trace: PathBuf,
    stderr: PathBuf,
}

fn tmp(tag: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("open-work-{tag}-{}", std::process::id()))
}

fn start(tag: &str, env: &[(&str, &str)]) -> Waiting {
    let trace = tmp(&format!("{tag}.trace"));
    let stderr = tmp(&format!("{tag}.stderr"));
    let mut cmd = Command::new(DEMO);
    cmd.args(["stuck", "wait"])
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_MODE")
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", &trace)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the demo");
    // The hand-shake: "ready" once every frame is open.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    Waiting {
        child,
        _stdout: stdout,
        trace,
        stderr,
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: `kill` with a live child's pid and a valid signal number.
    let rc = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(rc, 0, "kill");
}

/// Stops it with SIGTERM; returns its trace and stderr.
fn terminate(mut run: Waiting) -> (String, String) {
    signal(&run.child, libc::SIGTERM);
    let status = run.child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    let trace = std::fs::read_to_string(&run.trace).unwrap_or_default();
    let stderr = std::fs::read_to_string(&run.stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&run.trace);
    let _ = std::fs::remove_file(&run.stderr);
    (trace, stderr)
}

#[test]
fn the_dump_signal_and_sigterm_list_concurrent_branches_under_their_caller() {
    let run = start("dump", &[]);
    signal(&run.child, libc::SIGUSR1);
    // The report is written whole, in one write: its last line means all of it is there.
    let stderr = common::process::wait_for_text(&run.stderr, "spawned from");
    assert_eq!(
        common::mask(&stderr, "(open "),
        format!("open frames: 9 traced frames never exited\n{STUCK}")
    );
    let (trace, _) = terminate(run);
    let (lines, report) = common::events_and_report(&trace);
    assert_eq!(lines, STUCK_LINES);
    assert_eq!(
        report,
        format!("open at exit: 9 traced frames never exited\n{STUCK}")
    );
}

/// Whether the recording at `path` was written a thread at a time, undecoded: the header's
/// thread-order flag (`docs/recording.md`).
fn in_thread_order(path: &std::path::Path) -> bool {
    let bytes = std::fs::read(path).expect("the recording");
    u16::from_le_bytes([bytes[10], bytes[11]]) & 1 == 1
}

/// A run that only records decodes nothing as it goes and writes no trace, not even what never
/// finished: its recording, written a thread at a time, holds it, and `open` reads it back the
/// way a decoding run reports it. The same with three collectors, each writing its share of
/// the threads.
#[test]
fn a_run_that_only_records_keeps_what_never_finished_in_its_recording() {
    for collectors in ["1", "3"] {
        let path = tmp(&format!("only-records-exit-{collectors}.recording"));
        let out = run(
            &["stuck", "exit"],
            &[
                ("TRACE_OUT", "off"),
                ("TRACE_RECORD", path.to_str().unwrap()),
                ("TRACE_COLLECTORS", collectors),
            ],
        );
        assert_eq!(text(&out.stdout), "");
        assert_eq!(text(&out.stderr), "");
        assert!(in_thread_order(&path));
        let open = Command::new(common::rewriter())
            .arg("open")
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run trace-rewriter open");
        let _ = std::fs::remove_file(&path);
        assert!(open.status.success(), "{}", text(&open.stderr));
        assert_eq!(
            common::mask(&text(&open.stdout), "(open "),
            format!("open at exit: 9 traced frames never exited\n{STUCK}"),
            "{collectors} collectors"
        );
    }
}

/// A `TRACE_OUT` path that cannot be opened sends the reports to stderr: that run decodes as it
/// goes, whatever it records, and reports what never finished.
#[test]
fn an_unusable_trace_path_with_a_recording_still_reports_what_never_finished() {
    let path = tmp("unusable-out.recording");
    let out = run(
        &["stuck", "exit"],
        &[
            ("TRACE_OUT", "/nonexistent-dir/trace.txt"),
            ("TRACE_RECORD", path.to_str().unwrap()),
        ],
    );
    assert!(!in_thread_order(&path));
    let _ = std::fs::remove_file(&path);
    let stderr = text(&out.stderr);
    let report = stderr.split_once("open at exit").map_or("", |(_, r)| r);
    assert_eq!(
        common::mask(report, "(open "),
        format!(": 9 traced frames never exited\n{STUCK}")
    );
}

/// The dump signal, while it runs, lists what is open from the recording so far: the same
/// report as a decoding run's, with one collector or three.
#[test]
fn a_run_that_only_records_answers_the_dump_signal_from_its_recording() {
    for collectors in ["1", "3"] {
        let path = tmp(&format!("only-records-dump-{collectors}.recording"));
        let run = start(
            &format!("only-records-dump-{collectors}"),
            &[
                ("TRACE_OUT", "off"),
                ("TRACE_RECORD", path.to_str().unwrap()),
                ("TRACE_COLLECTORS", collectors),
            ],
        );
        signal(&run.child, libc::SIGUSR1);
        let stderr = common::process::wait_for_text(&run.stderr, "spawned from");
        assert_eq!(
            common::mask(&stderr, "(open "),
            format!("open frames: 9 traced frames never exited\n{STUCK}"),
            "{collectors} collectors"
        );
        let (trace, _) = terminate(run);
        assert!(in_thread_order(&path));
        let _ = std::fs::remove_file(&path);
        assert_eq!(trace, "");
    }
}

/// A chrome trace's events, checked: valid JSON, complete events nest properly on every track
/// (overlapping siblings are on lanes of their own), every flow arrow starts and ends inside a
/// slice of its track. Returns the events.
fn check_chrome(text: &str) -> Vec<Value> {
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let events = value.as_array().expect("the JSON array format").clone();
    let mut tracks: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let ts = e["ts"].as_f64().unwrap();
        let dur = e["dur"].as_f64().unwrap();
        tracks
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    // Within 2 ns: timestamps are printed in µs with three decimals.
    const SLACK: f64 = 0.002;
    for (tid, spans) in &mut tracks {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<(f64, f64)> = Vec::new();
        for &(start, end) in spans.iter() {
            while open.last().is_some_and(|o| o.1 <= start + SLACK) {
                open.pop();
            }
            if let Some(outer) = open.last() {
                assert!(
                    end <= outer.1 + SLACK,
                    "track {tid}: {start}..{end} overlaps {outer:?} without nesting"
                );
            }
            open.push((start, end));
        }
    }
    for e in events.iter().filter(|e| e["ph"] == "s" || e["ph"] == "f") {
        let ts = e["ts"].as_f64().unwrap();
        let tid = e["tid"].as_u64().unwrap();
        let inside = tracks.get(&tid).is_some_and(|spans| {
            spans
                .iter()
                .any(|&(s, end)| s <= ts + SLACK && ts <= end + SLACK)
        });
        assert!(inside, "flow event outside any slice: {e}");
    }
    events
}

/// The names of the slices marked open, and the tracks' names.
fn open_slices_and_tracks(events: &[Value]) -> (Vec<(String, u64)>, BTreeSet<String>) {
    let mut open: Vec<(String, u64)> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["args"]["open"] == true)
        .map(|e| {
            let name = e["name"].as_str().unwrap().to_string();
            (name, e["tid"].as_u64().unwrap())
        })
        .collect();
    open.sort();
    let tracks = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap().to_string())
        .collect();
    (open, tracks)
}

const STUCK_OPEN: [(&str, u64); 9] = [
    ("concurrent::connection", 1_000_001),
    ("concurrent::fill_buf", 1_000_001),
    ("concurrent::handler", 1_000_001),
    ("concurrent::parse_header", 11_000_001),
    ("concurrent::probe", 1_000_002),
    ("concurrent::probe", 11_000_002),
    ("concurrent::read_frame", 1_000_001),
    ("concurrent::shutdown_recv", 21_000_001),
    ("concurrent::watchdog", 1_000_002),
];

fn stuck_tracks() -> BTreeSet<String> {
    [
        "thread 01 server",
        "task 1 concurrent::connection",
        "task 1 concurrent::connection, concurrent lane 1",
        "task 1 concurrent::connection, concurrent lane 2",
        "task 2 concurrent::watchdog",
        "task 2 concurrent::watchdog, concurrent lane 1",
    ]
    .map(String::from)
    .into()
}

#[test]
fn chrome_holds_the_frames_open_at_exit_and_at_sigterm() {
    let out = run(&["stuck", "exit"], &[("TRACE_FORMAT", "chrome")]);
    let events = check_chrome(&text(&out.stdout));
    let (open, tracks) = open_slices_and_tracks(&events);
    let open: Vec<(&str, u64)> = open.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    assert_eq!(open, STUCK_OPEN);
    assert_eq!(tracks, stuck_tracks());
    // Every open slice ends at the stop.
    let ends: BTreeSet<String> = events
        .iter()
        .filter(|e| e["args"]["open"] == true)
        .map(|e| {
            format!(
                "{:.3}",
                e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap()
            )
        })
        .collect();
    assert_eq!(ends.len(), 1, "{ends:?}");
    // The spawn arrow starts in `shutdown_recv`, on its lane.
    let start = events.iter().find(|e| e["ph"] == "s").expect("a flow");
    assert_eq!(start["tid"], 21_000_001);
    // The report stays out of the JSON: on stderr.
    assert!(text(&out.stderr).contains("open at exit: 9 traced frames never exited"));

    let run = start_chrome();
    let (trace, stderr) = terminate(run);
    let events = check_chrome(&trace);
    let (open, tracks) = open_slices_and_tracks(&events);
    let open: Vec<(&str, u64)> = open.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    assert_eq!(open, STUCK_OPEN);
    assert_eq!(tracks, stuck_tracks());
    assert!(
        stderr.contains("open at exit: 9 traced frames never exited"),
        "{stderr}"
    );
}

fn start_chrome() -> Waiting {
    start("chrome", &[("TRACE_FORMAT", "chrome")])
}

#[test]
fn chrome_puts_concurrent_branches_on_lanes_that_nest() {
    let out = run(&["join"], &[("TRACE_FORMAT", "chrome")]);
    let events = check_chrome(&text(&out.stdout));
    let slices: BTreeSet<(String, u64)> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["tid"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, u64)> = [
        ("concurrent::both", 1_000_001),
        ("concurrent::left", 1_000_001),
        ("concurrent::step", 1_000_001),
        ("concurrent::right", 11_000_001),
    ]
    .map(|(n, t)| (n.to_string(), t))
    .into();
    assert_eq!(slices, expected);
    let (_, tracks) = open_slices_and_tracks(&events);
    assert_eq!(
        tracks,
        [
            "thread 01 main",
            "task 1 concurrent::both",
            "task 1 concurrent::both, concurrent lane 1"
        ]
        .map(String::from)
        .into()
    );
}

#[test]
fn folded_output_is_folded_lines_only_with_open_stacks_counted() {
    let out = run(&["stuck", "exit"], &[("TRACE_FORMAT", "folded")]);
    let stdout = text(&out.stdout);
    let stacks: BTreeSet<&str> = stdout
        .lines()
        .map(|l| {
            let (stack, count) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l:?}"));
            count
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("not a folded line: {l:?}"));
            assert!(!stack.is_empty() && !stack.contains(' '), "{l:?}");
            stack
        })
        .collect();
    let c = "concurrent::connection;concurrent::handler";
    assert_eq!(
        stacks,
        BTreeSet::from([
            "concurrent::connection",
            c,
            &format!("{c};concurrent::read_frame"),
            &format!("{c};concurrent::read_frame;concurrent::fill_buf"),
            &format!("{c};concurrent::read_frame;concurrent::parse_header"),
            &format!("{c};concurrent::shutdown_recv"),
            "concurrent::watchdog",
            "concurrent::watchdog;concurrent::probe",
        ])
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        common::mask(&stderr, "(open "),
        format!("open at exit: 9 traced frames never exited\n{STUCK}")
    );
}
