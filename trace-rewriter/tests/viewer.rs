//! The viewer commands on recordings of the demos: export gives the bytes the run printed live,
//! every other command's output exactly (durations masked: the demos are deterministic in
//! structure, not in time), and damaged or foreign files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{demo, mask, stderr, stdout, BIN};

/// A run of a demo: its live output file, its recording and its stderr.
struct Run {
    _dir: tempfile::TempDir,
    live: PathBuf,
    recording: PathBuf,
    stderr: String,
}

/// Runs `bin ARGS` with `TRACE_FORMAT=format`, the trace to a file and a recording beside it.
fn record(bin: &str, args: &[&str], format: &str) -> Run {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a temporary directory");
    let live = dir.path().join(format!("live.{format}"));
    let recording = dir.path().join("run.trace");
    let out = Command::new(demo(bin))
        .args(args)
        .env("TRACE_FORMAT", format)
        .env("TRACE_OUT", &live)
        .env("TRACE_RECORD", &recording)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the demo");
    Run {
        _dir: dir,
        live,
        recording,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the CLI on a recording.
fn view(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run trace-rewriter")
}

/// One recording per demo, shared by the tests that only read it.
fn recording(bin: &'static str, args: &'static [&'static str]) -> &'static Path {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static RUNS: OnceLock<Mutex<HashMap<String, &'static Run>>> = OnceLock::new();
    let key = format!("{bin} {}", args.join(" "));
    let mut runs = RUNS.get_or_init(Default::default).lock().unwrap();
    let run = runs
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(record(bin, args, "human"))));
    &run.recording
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// `mask`, with runs of spaces made one: table columns widen with their durations.
fn columns(text: &str) -> String {
    mask(text)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The demos and cases the equivalence test runs.
const DEMOS: &[(&str, &[&str])] = &[
    ("chains", &[]),
    ("shapes", &[]),
    ("exits", &[]),
    ("values", &[]),
    ("panics", &[]),
    ("tasks", &[]),
    ("async_cases", &["tokio-multi"]),
    ("async_cases", &["futures"]),
    ("async_cases", &["cancel"]),
    ("async_cases", &["panic"]),
    ("async_cases", &["leak"]),
    ("concurrent", &["stuck", "exit"]),
];

#[test]
fn export_prints_the_bytes_the_run_printed_live_in_every_format() {
    for (bin, args) in DEMOS {
        for format in ["human", "jsonl", "chrome", "folded"] {
            let run = record(bin, args, format);
            let live = std::fs::read(&run.live).expect("the live trace");
            assert!(!live.is_empty(), "{bin} {args:?} {format}: empty trace");
            let out = view(&["export", path(&run.recording), "--format", format]);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert!(
                out.stdout == live,
                "{bin} {args:?} {format}: export differs from the live trace\n--- live\n{}\n--- export\n{}",
                String::from_utf8_lossy(&live),
                stdout(&out)
            );
            // Reports the run sent to stderr (jsonl, chrome) come out on stderr, the same.
            let reports = String::from_utf8_lossy(&out.stderr);
            assert!(
                run.stderr.contains(reports.as_ref()),
                "{bin} {args:?} {format}: stderr\n{reports}\nnot in the run's\n{}",
                run.stderr
            );
        }
    }
}

#[test]
fn export_with_summary_focus_and_min_matches_the_live_variables() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, flag) in [
        ("TRACE_SUMMARY", "1", &["--summary"][..]),
        ("TRACE_FOCUS", "d", &["--focus", "d"][..]),
        ("TRACE_FILTER", "min=5us", &["--min", "5us"][..]),
    ] {
        let live = dir.path().join(format!("{var}.human"));
        let recording = dir.path().join(format!("{var}.trace"));
        let status = Command::new(demo("chains"))
            .env("TRACE_OUT", &live)
            .env("TRACE_RECORD", &recording)
            .env(var, value)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
            .status;
        assert!(status.success());
        let mut args = vec!["export", path(&recording), "--format", "human"];
        args.extend_from_slice(flag);
        let out = view(&args);
        assert_eq!(
            stdout(&out),
            std::fs::read_to_string(&live).unwrap(),
            "{var}={value}"
        );
    }
}

#[test]
fn replay_prints_each_thread_then_each_task_in_time_order() {
    let rec = recording("chains", &[]);
    let out = view(&["replay", path(rec)]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("replay_chains", mask(&stdout(&out)));
    let rec = recording("async_cases", &["tokio-current"]);
    let out = view(&["replay", path(rec)]);
    insta::assert_snapshot!("replay_tokio_current", mask(&stdout(&out)));
}

#[test]
fn a_task_polled_on_several_workers_reads_as_one_tree() {
    let rec = recording("tasks", &[]);
    let out = view(&["replay", path(rec)]);
    let text = stdout(&out);
    // Each tree's lines are together: once a task's lines end, that task never shows again.
    let mut seen: Vec<String> = Vec::new();
    for line in text.lines() {
        let label = &line[..line.find(']').unwrap()];
        let tree = match label.find(" task ") {
            Some(at) => label[at..].to_string(),
            None => label.to_string(),
        };
        if seen.last() != Some(&tree) {
            assert!(!seen.contains(&tree), "{tree} split in\n{text}");
            seen.push(tree);
        }
    }
    // Every tree balances: as many exits as enters, and depth back to 0.
    assert!(
        seen.iter().filter(|t| t.starts_with(" task ")).count() >= 2,
        "{text}"
    );
    let enters = text.matches("-> ").count();
    let exits = text.matches("<- ").count();
    assert_eq!(enters, exits, "{text}");
}

#[test]
fn replay_filters_select_frames() {
    let rec = recording("chains", &[]);
    let masked = |args: &[&str]| {
        let mut all = vec!["replay", path(rec)];
        all.extend_from_slice(args);
        let out = view(&all);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        mask(&stdout(&out))
    };
    assert_eq!(
        masked(&["--focus", "c2"]),
        "\
[02 worker] -> chains::a2  (spawned from chains::main)
[02 worker]   -> chains::b2
[02 worker]     -> chains::c2
[02 worker]       -> chains::d
[02 worker]       <- chains::d <t>
[02 worker]     <- chains::c2 <t>
[02 worker]   <- chains::b2 <t>
[02 worker] <- chains::a2 <t>
"
    );
    assert_eq!(
        masked(&["--exclude", "chains::b1", "--depth", "3", "--thread", "1"]),
        "\
[01 main] -> chains::main
[01 main]   -> chains::a1
[01 main]       -> chains::c1
[01 main]       <- chains::c1 <t>
[01 main]   <- chains::a1 <t>
[01 main] <- chains::main <t>
"
    );
    assert_eq!(masked(&["--until", "0ns"]), "");
    assert_eq!(masked(&["--min", "100s"]), "");
    let rec = recording("async_cases", &["tokio-current"]);
    let out = view(&["replay", path(rec), "--task", "2", "--depth", "1"]);
    assert_eq!(
        mask(&stdout(&out)),
        "\
[01 main task 2] -> async_cases::parent
[01 main task 2]   -> async_cases::child
[01 main task 2]   <- async_cases::child <t> (busy <t>)
[01 main task 2]   -> async_cases::child
[01 main task 2]   <- async_cases::child <t> (busy <t>)
[01 main task 2] <- async_cases::parent <t> (busy <t>)
"
    );
}

#[test]
fn report_lists_every_fn_in_the_order_asked() {
    let rec = recording("exits", &[]);
    let out = view(&["report", path(rec), "--sort", "name"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("report_exits_by_name", columns(&stdout(&out)));
    let out = view(&["report", path(rec), "--sort", "calls", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let fns = json["fns"].as_array().unwrap();
    let calls: Vec<u64> = fns.iter().map(|f| f["calls"].as_u64().unwrap()).collect();
    let mut sorted = calls.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(calls, sorted);
    assert_eq!(fns[0]["name"], "exits::recurse");
    for f in fns {
        let (min, mean, max) = (&f["min_ns"], &f["mean_ns"], &f["max_ns"]);
        assert!(min.as_u64() <= mean.as_u64() && mean.as_u64() <= max.as_u64());
    }
}

/// A run that recorded error exits (`#[trace(err)]`): each fn's error exits, and of those the
/// ones where the error was born (`db::read`, innermost of its `?` chain) rather than passed on
/// (`load`, `serve`); the replayed tree marks the origin.
#[test]
fn report_counts_error_exits_and_origins_per_fn() {
    let rec = recording("values", &[]);
    let out = view(&["report", path(rec), "--sort", "name"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        columns(&stdout(&out)),
        "\
trace report: 9 fns, 13 calls, by name
calls total busy self min mean mean busy max errors origins fn
1 <t> <t> <t> <t> <t> <t> <t> 1 1 values::db::check
2 <t> <t> <t> <t> <t> <t> <t> 0 0 values::db::get
1 <t> <t> <t> <t> <t> <t> <t> 0 0 values::db::login
2 <t> <t> <t> <t> <t> <t> <t> 1 1 values::db::read
1 <t> <t> <t> <t> <t> <t> <t> 0 0 values::fetch
2 <t> <t> <t> <t> <t> <t> <t> 1 0 values::load
1 <t> <t> <t> <t> <t> <t> <t> 0 0 values::main
2 <t> <t> <t> <t> <t> <t> <t> 1 0 values::serve
1 <t> <t> <t> <t> <t> <t> <t> 0 0 values::show
"
    );
    let out = view(&["replay", path(rec)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tree = mask(&stdout(&out));
    assert!(
        tree.contains("<- values::db::read <t> ! Err(NotFound) (origin)\n"),
        "{tree}"
    );
    assert!(
        tree.contains("<- values::load <t> ! Err(NotFound)\n"),
        "{tree}"
    );
}

/// `TRACE_FOCUS=FN:err` and `--focus FN:err`: the chains that reached `load` when it returned
/// `Err` (`serve(7)`'s, not `serve(3)`'s), live, exported (the same bytes) and replayed (those
/// chains' trees, with everything under the failed call).
#[test]
fn focus_on_errors_live_exported_and_replayed() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let live = dir.path().join("focus.human");
    let recording = dir.path().join("focus.trace");
    let out = Command::new(demo("values"))
        .env("TRACE_OUT", &live)
        .env("TRACE_RECORD", &recording)
        .env("TRACE_FOCUS", "load:err")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let live = std::fs::read_to_string(&live).unwrap();
    assert_eq!(
        mask(&live),
        "\
[01 main] values::main (+<t>) -> values::serve (+<t>) -> values::load <t> ! Err(NotFound)
focus load returning Err: 1 call by 1 distinct chain
       1x values::main -> values::serve -> values::load
"
    );
    let out = view(&[
        "export",
        path(&recording),
        "--format",
        "human",
        "--focus",
        "load:err",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), live);
    // Without `:err`, both calls; without `--format`, human as live.
    let out = view(&["export", path(&recording), "--focus", "load"]);
    assert!(
        stdout(&out).contains("focus load: 2 calls by 1 distinct chain\n"),
        "{}",
        stdout(&out)
    );
    let out = view(&["replay", path(&recording), "--focus", "load:err"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        mask(&stdout(&out)),
        "\
[01 main] -> values::main
[01 main]   -> values::serve(id=7)
[01 main]     -> values::load(id=7)
[01 main]       -> values::db::read(id=7)
[01 main]       <- values::db::read <t> ! Err(NotFound) (origin)
[01 main]     <- values::load <t> ! Err(NotFound)
[01 main]   <- values::serve <t> ! Err(NotFound)
[01 main] <- values::main <t>
"
    );
    // A fn none of whose calls failed (it has no `err`): no chain, and why none.
    let out = view(&["replay", path(&recording), "--focus", "db::get:err"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let out = view(&[
        "export",
        path(&recording),
        "--format",
        "human",
        "--focus",
        "db::get:err",
    ]);
    assert_eq!(
        stdout(&out),
        "focus db::get returning Err: 0 calls by 0 distinct chains\n\
         (an error exit is recorded for fns marked #[trace(err)] only: see docs/values.md)\n"
    );
}

/// "Where did this error come from": each fn where an error was born, with the chains that
/// reached it then; and `chains FN --err`, the chains that reached a fn when it returned `Err`.
#[test]
fn errors_lists_origins_with_their_chains_and_chains_err_only_failed_calls() {
    let rec = recording("values", &[]);
    let out = view(&["errors", path(rec)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\
error origins: 2 errors born in 2 fns

values::db::check: 1 error born here, reached by
       1  values::main -> values::db::check

values::db::read: 1 error born here, reached by
       1  values::main -> values::serve -> values::load -> values::db::read
"
    );
    let out = view(&["chains", path(rec), "load", "--err"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        columns(&stdout(&out)),
        "\
chains reaching load: 1 call by 1 distinct chain
calls total max chain
1 <t> <t> values::main -> values::serve -> values::load
"
    );
    let out = view(&["chains", path(rec), "load"]);
    assert!(stdout(&out).starts_with("chains reaching load: 2 calls by 1 distinct chain\n"));
    // `login` records no error exits (no `err`): asked for its failed calls, it says why none.
    let out = view(&["chains", path(rec), "db::login", "--err"]);
    assert_eq!(
        columns(&stdout(&out)),
        "\
chains reaching db::login: 0 calls by 0 distinct chains
calls total max chain
(an error exit is recorded for fns marked #[trace(err)] only: see docs/values.md)
"
    );
    // A run without `err` has none to list, and says where they come from.
    let out = view(&["errors", path(recording("requests", &[]))]);
    assert_eq!(
        stdout(&out),
        "error origins: 0 errors born in 0 fns\n\
         (an error exit is recorded for fns marked #[trace(err)] only: see docs/values.md)\n"
    );
}

/// Busy time (inside polls) beside wall time: an async fn that mostly waits sorts low by busy.
#[test]
fn report_shows_busy_beside_wall_time_and_sorts_by_either() {
    let rec = recording("requests", &[]);
    let json = |sort: &str| {
        let out = view(&["report", path(rec), "--sort", sort, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        json["fns"].as_array().unwrap().clone()
    };
    for (sort, key) in [("busy", "busy_ns"), ("total", "total_ns")] {
        let fns = json(sort);
        let figures: Vec<u64> = fns.iter().map(|f| f[key].as_u64().unwrap()).collect();
        let mut sorted = figures.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(figures, sorted, "--sort {sort}");
        for f in &fns {
            let (calls, total, busy) = (&f["calls"], &f["total_ns"], &f["busy_ns"]);
            assert!(busy.as_u64() <= total.as_u64(), "{f}");
            assert_eq!(
                f["mean_busy_ns"].as_u64(),
                Some(busy.as_u64().unwrap() / calls.as_u64().unwrap())
            );
        }
    }
    // Sync fns are busy all their time; `write_frame` slept (a wait no poll spent).
    let fns = json("name");
    let get = |name: &str| fns.iter().find(|f| f["name"] == name).unwrap().clone();
    let next_byte = get("requests::parse::next_byte");
    assert_eq!(next_byte["busy_ns"], next_byte["total_ns"]);
    let write_frame = get("requests::write_frame");
    assert!(
        write_frame["busy_ns"].as_u64() < write_frame["total_ns"].as_u64(),
        "{write_frame}"
    );
    // The table: busy and mean busy beside total and mean, the order named in the heading.
    let out = view(&["report", path(rec), "--sort", "busy"]);
    let table = columns(&stdout(&out));
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("trace report: 7 fns, 62001 calls, by busy time")
    );
    assert_eq!(
        lines.next(),
        Some("calls total busy self min mean mean busy max fn")
    );
    assert!(
        table.contains("\n500 <t> <t> <t> <t> <t> <t> <t> requests::write_frame\n"),
        "{table}"
    );
    let out = view(&["report", path(rec), "--sort", "wall"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("[possible values: calls, total, busy, self, max, mean, name]"),
        "{}",
        stderr(&out)
    );
}

/// A large recording's report ends with the fns that make most of it and the line that leaves
/// them out; a small one's does not.
#[test]
fn report_of_a_large_recording_names_its_noisiest_fns() {
    let rec = recording("requests", &[]);
    let out = view(&["report", path(rec)]);
    let text = columns(&stdout(&out));
    let at = text.find("a large trace").expect("the note");
    assert_eq!(
        &text[at..],
        "\
a large trace: 124002 events, 87000 of them (70.2%) from 2 fns:
calls events mean fn
22000 35.5% <t> requests::parse::next_byte
21500 34.7% <t> requests::parse::is_space
to leave them out, run with:
TRACE_FILTER='-requests::parse::next_byte,-requests::parse::is_space'
cargo trace instrument --exclude GLOB leaves out files, not fns: to keep these out of the build, put #[trace(skip)] on them
"
    );
    // Beside a JSON document, the note goes to stderr.
    let out = view(&["report", path(rec), "--json"]);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("only JSON on stdout");
    assert!(stderr(&out).starts_with("a large trace: 124002 events"));
    let out = view(&["report", path(recording("chains", &[]))]);
    assert!(!stdout(&out).contains("a large trace"), "{}", stdout(&out));
}

/// A run that counted a hot fn's calls: `report` counts them with the recorded ones and says
/// so on the fn's line, and every command notes which fns were counted.
#[test]
fn a_recording_says_which_fns_were_counted_not_recorded() {
    let rec = recording("hot", &["300000"]);
    let out = view(&["report", path(rec), "--sort", "calls"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = columns(&stdout(&out));
    let tiny = text.lines().nth(2).expect("the busiest fn's line");
    let counted: u64 = tiny
        .strip_prefix("300000 <t> <t> <t> <t> <t> <t> <t> hot::tiny (")
        .and_then(|l| l.strip_suffix(" calls counted, not timed: hot)"))
        .unwrap_or_else(|| panic!("{text}"))
        .parse()
        .expect("a number");
    assert!((1..=200_000).contains(&counted), "{counted}");
    let note = format!(
        "note: 1 fn turned hot (many calls, each tiny): their later calls were counted, not recorded (TRACE_HOT=off records every call):\n  {counted} calls of hot::tiny\n"
    );
    assert_eq!(stderr(&out), note);
    let out = view(&["replay", path(rec), "--focus", "checksum", "--depth", "1"]);
    assert_eq!(stderr(&out), note);
}

#[test]
fn chains_lists_every_distinct_chain_that_reached_a_fn() {
    let rec = recording("chains", &[]);
    let out = view(&["chains", path(rec), "d"]);
    assert_eq!(out.status.code(), Some(0));
    let text = columns(&stdout(&out));
    // Two chains of one call each: their order is their time's.
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2..].sort();
    assert_eq!(
        lines.join("\n"),
        "\
chains reaching d: 2 calls by 2 distinct chains
calls total max chain
1 <t> <t> chains::main -> chains::a1 -> chains::b1 -> chains::c1 -> chains::d
1 <t> <t> chains::main => chains::a2 -> chains::b2 -> chains::c2 -> chains::d"
    );
    let rec = recording("exits", &[]);
    let out = view(&["chains", path(rec), "exits::recurse"]);
    insta::assert_snapshot!("chains_exits_recurse", columns(&stdout(&out)));
}

/// A name that means several fns: they are listed on stderr; `chains` and `graph` show each
/// on its own, `replay --focus` the chains through any of them.
#[test]
fn a_name_that_means_several_fns_lists_them_and_shows_each() {
    let rec = recording("names", &[]);
    let out = view(&["chains", path(rec), "fmt"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        columns(&stdout(&out)),
        "\
chains reaching <dyn names::Shape as fmt::Debug>::fmt: 1 call by 1 distinct chain
calls total max chain
1 <t> <t> <dyn names::Shape as fmt::Debug>::fmt

chains reaching <names::Local as fmt::Display>::fmt: 1 call by 1 distinct chain
calls total max chain
1 <t> <t> <names::Local as fmt::Display>::fmt
"
    );
    assert_eq!(
        stderr(&out),
        "\
note: `fmt` names 2 fns, each shown on its own (give a longer name for one):
  <dyn names::Shape as fmt::Debug>::fmt
  <names::Local as fmt::Display>::fmt
"
    );
    let out = view(&["graph", path(rec), "greet"]);
    assert_eq!(
        columns(&stdout(&out)),
        "\
<names::Local as Greet>::greet: 1 call, total <t>, self <t>
callers: none
callees: none
<names::c::B as names::greet::Greet>::greet: 1 call, total <t>, self <t>
callers: none
callees: none
"
    );
    assert_eq!(
        stderr(&out),
        "\
note: `greet` names 2 fns, each shown on its own (give a longer name for one):
  <names::Local as Greet>::greet
  <names::c::B as names::greet::Greet>::greet
"
    );
    let out = view(&["replay", path(rec), "--focus", "blanket"]);
    assert_eq!(
        mask(&stdout(&out)),
        "\
[01 main] -> <T as Blanket>::blanket
[01 main] <- <T as Blanket>::blanket <t>
[01 main] -> <names::c::Generic as names::Blanket>::blanket
[01 main] <- <names::c::Generic as names::Blanket>::blanket <t>
"
    );
    assert_eq!(
        stderr(&out),
        "\
note: `blanket` names 2 fns, showing the chains through any of them (give a longer name for one):
  <T as Blanket>::blanket
  <names::c::Generic as names::Blanket>::blanket
"
    );
}

/// FN, `--focus` and `--exclude` match as `TRACE_FILTER` does: whole `::` segments at the end
/// or the start of a name, or `<Type as Trait>::f` by the ends of its paths; a term that
/// matches nothing is named.
#[test]
fn names_match_whole_segments_at_either_end_and_a_miss_is_named() {
    let rec = recording("names", &[]);
    let out = view(&["chains", path(rec), "<Local as Display>::fmt"]);
    assert_eq!(
        columns(&stdout(&out)),
        "\
chains reaching <Local as Display>::fmt: 1 call by 1 distinct chain
calls total max chain
1 <t> <t> <names::Local as fmt::Display>::fmt
"
    );
    assert_eq!(stderr(&out), "");
    // `names::Stack` is a type: its methods, its trait impls' and the fns nested in them.
    let out = view(&["replay", path(rec), "--exclude", "names::Stack"]);
    let shown = stdout(&out);
    assert!(!shown.contains("Stack"), "{shown}");
    assert!(
        shown.contains("-> <alloc::vec::Vec as Hello>::hi\n"),
        "{shown}"
    );
    assert_eq!(stderr(&out), "");
    let out = view(&["replay", path(rec), "--exclude", "len::helper"]);
    let shown = stdout(&out);
    assert!(
        !shown.contains("helper") && shown.contains("-> names::Stack::len\n"),
        "{shown}"
    );
    // A segment in the middle, or part of one, names nothing.
    for term in ["Stack", "ames::Stack::push", "Stack::le"] {
        let out = view(&["chains", path(rec), term]);
        assert_eq!(out.status.code(), Some(2), "{term}");
        assert!(
            stderr(&out).starts_with(&format!(
                "error: {}: no traced fn is named `{term}`",
                path(rec)
            )),
            "{}",
            stderr(&out)
        );
    }
    let out = view(&["replay", path(rec), "--exclude", "nosuch", "--depth", "0"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        format!(
            "warning: {}: --exclude `nosuch` matches no traced fn; nothing is left out by it\n",
            path(rec)
        )
    );
    let out = view(&[
        "export",
        path(rec),
        "--format",
        "human",
        "--focus",
        "nosuch",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no traced fn is named `nosuch`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

/// A recording carries the spawn links: `chains` and `replay` cross `tokio::spawn` as
/// `chain()` does in the run.
#[test]
fn chains_and_replay_cross_spawns() {
    let rec = recording("spawns", &["tokio"]);
    let out = view(&["chains", path(rec), "d"]);
    assert!(
        stdout(&out).ends_with(
            "spawns::serve -> spawns::accept => spawns::handle => spawns::process -> spawns::d\n"
        ),
        "{}",
        stdout(&out)
    );
    let out = view(&["replay", path(rec)]);
    let spawned: Vec<String> = stdout(&out)
        .lines()
        .filter(|l| l.contains("(spawned from"))
        .map(|l| l.split_once("] ").unwrap().1.to_string())
        .collect();
    assert_eq!(
        spawned,
        [
            "-> spawns::handle  (spawned from spawns::serve -> spawns::accept)",
            "-> spawns::process  (spawned from spawns::serve -> spawns::accept => spawns::handle)",
        ]
    );
}

/// The worker thread `main` starts is listed as a spawn beside `main`'s calls.
#[test]
fn graph_shows_callers_and_callees() {
    let rec = recording("chains", &[]);
    let out = view(&["graph", path(rec), "c1"]);
    assert_eq!(
        columns(&stdout(&out)),
        "\
chains::c1: 1 call, total <t>, self <t>
callers:
1 call <t> chains::b1
callees:
1 call <t> chains::d
"
    );
    let out = view(&["graph", path(rec), "chains::main"]);
    assert_eq!(
        columns(&stdout(&out)),
        "\
chains::main: 1 call, total <t>, self <t>
callers: none
callees:
1 call <t> chains::a1
1 spawn <t> chains::a2
"
    );
}

#[test]
fn open_lists_what_never_finished() {
    let rec = recording("async_cases", &["leak"]);
    let out = view(&["open", path(rec)]);
    assert_eq!(
        mask(&stdout(&out)),
        "\
open at exit: 3 traced frames never exited
  [01 stuck] async_cases::blocked_forever (open <t>)
  [task 1] async_cases::parent_forever (open <t>) -> async_cases::forever (open <t>)
"
    );
    let out = view(&["open", path(recording("chains", &[]))]);
    assert_eq!(stdout(&out), "nothing was open when the recording ended\n");
}

#[test]
fn open_lists_concurrent_branches_under_their_caller() {
    let rec = recording("concurrent", &["stuck", "exit"]);
    let out = view(&["open", path(rec)]);
    assert_eq!(
        mask(&stdout(&out)),
        "\
open at exit: 9 traced frames never exited
  [task 1] concurrent::connection (open <t>) -> concurrent::handler (open <t>), concurrently:
    \u{2016} concurrent::read_frame (open <t>), concurrently:
      \u{2016} concurrent::fill_buf (open <t>)
      \u{2016} concurrent::parse_header (open <t>)
    \u{2016} concurrent::shutdown_recv (open <t>)
  [task 2] concurrent::watchdog (open <t>), spawned from concurrent::connection -> concurrent::handler -> concurrent::shutdown_recv, concurrently:
    \u{2016} concurrent::probe (open <t>)
    \u{2016} concurrent::probe (open <t>)
"
    );
}

#[test]
fn export_folded_is_folded_lines_only_with_the_report_on_stderr() {
    let run = record("concurrent", &["stuck", "exit"], "folded");
    let out = view(&["export", path(&run.recording), "--format", "folded"]);
    let folded = stdout(&out);
    assert_eq!(folded.lines().count(), 8, "{folded}");
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').expect("`stack count`");
        assert!(
            !stack.is_empty() && count.parse::<u64>().is_ok(),
            "{line:?}"
        );
    }
    assert!(
        stderr(&out).starts_with("open at exit: 9 traced frames never exited\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn diff_compares_fns_and_chains_of_two_runs() {
    let a = recording("chains", &[]);
    let b = recording("async_cases", &["tokio-current"]);
    let out = view(&["diff", path(a), path(a)]);
    assert_eq!(out.status.code(), Some(0));
    let same = columns(&stdout(&out));
    assert!(
        same.ends_with("chains that appeared: 0\nchains that vanished: 0\n"),
        "{same}"
    );
    assert!(
        same.contains("2 -> 2 <t> -> <t> <t> <t> -> <t> <t> chains::d\n"),
        "{same}"
    );
    let out = view(&["diff", path(a), path(b)]);
    let text = columns(&stdout(&out));
    // Rows of one section are ordered by their change in time: compare them as sets.
    let sections: Vec<Vec<&str>> = text
        .split_inclusive('\n')
        .fold(Vec::new(), |mut acc: Vec<Vec<&str>>, line| {
            if !line.starts_with(|c: char| c.is_ascii_digit()) {
                acc.push(vec![line]);
            } else {
                acc.last_mut().unwrap().push(line);
            }
            acc
        })
        .into_iter()
        .map(|mut s| {
            s[1..].sort();
            s
        })
        .collect();
    insta::assert_snapshot!("diff_chains_tokio_current", sections.concat().concat());
    // Sorted by the change in busy time, or calls; keys that both runs lack are refused.
    let out = view(&["diff", path(a), path(b), "--sort", "busy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = columns(&stdout(&out));
    assert!(
        text.starts_with("fns, by change in busy time (calls, total and busy time, before -> after and change; busy: inside polls):\n"),
        "{text}"
    );
    assert!(
        text.contains("\nchains in both runs, by change in busy time:\n"),
        "{text}"
    );
    let out = view(&["diff", path(a), path(a), "--sort", "calls"]);
    assert!(
        columns(&stdout(&out)).contains("\n2 -> 2 <t> -> <t> <t> <t> -> <t> <t> chains::d\n"),
        "{}",
        stdout(&out)
    );
    let out = view(&["diff", path(a), path(b), "--sort", "self"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("[possible values: total, busy, calls]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_recording_cut_short_is_read_up_to_its_last_whole_event() {
    let rec = recording("exits", &[]);
    let bytes = std::fs::read(rec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.trace");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let out = view(&["replay", path(&cut)]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("cut.trace: cut short: the last chunk (")
            && err.contains("bytes present) was lost; showing what was read"),
        "{err}"
    );
    // Cut inside the chunk of events (a short run writes one): each thread's calls before the
    // cut are all there, as the whole file shows them.
    let whole = stdout(&view(&["replay", path(rec)]));
    let chunk_len = u32::from_le_bytes(bytes[36..40].try_into().unwrap()) as usize;
    assert!(
        bytes.len() > 44 + chunk_len,
        "the end has a chunk of its own"
    );
    std::fs::write(&cut, &bytes[..44 + chunk_len / 2]).unwrap();
    let out = view(&["replay", path(&cut)]);
    assert_eq!(out.status.code(), Some(0));
    let shown = stdout(&out);
    let shown: Vec<&str> = shown.lines().collect();
    let whole: Vec<&str> = whole.lines().collect();
    assert!(shown.len() > 4 && shown.len() < whole.len(), "{shown:?}");
    for thread in ["[01 main]", "[02 diverges]"] {
        let of = |lines: &[&str]| -> Vec<String> {
            lines
                .iter()
                .filter(|l| l.starts_with(thread))
                .map(|l| l.to_string())
                .collect()
        };
        let (shown, whole) = (of(&shown), of(&whole));
        assert_eq!(shown[..], whole[..shown.len()], "{thread}");
    }
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cut.trace: cut short: the last chunk ({} of {chunk_len} bytes present) was cut inside; its ",
            chunk_len / 2
        )) && err.contains(" whole events before the cut were read"),
        "{err}"
    );
    // Only the header left: nothing to show, and it says so.
    std::fs::write(&cut, &bytes[..32]).unwrap();
    let out = view(&["report", path(&cut)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        columns(&stdout(&out)),
        "trace report: 0 fns, 0 calls, by total (wall) time\ncalls total busy self min mean mean busy max fn\n"
    );
    assert!(
        stderr(&out).contains("cut short: the run's end was not recorded"),
        "{}",
        stderr(&out)
    );
}

/// Where each chunk of a recording (format version 3) starts, and where the file ends: the
/// header is 32 bytes; a chunk is a 4-byte marker, its length (`u32`), its checksum, and that
/// many bytes (docs/recording.md).
fn chunk_starts(bytes: &[u8]) -> Vec<usize> {
    let mut at = 32;
    let mut starts = vec![];
    while at < bytes.len() {
        starts.push(at);
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        at += 12 + len as usize;
    }
    starts.push(at);
    starts
}

/// The events written before the chunk at `at`: the second varint of its head.
fn events_before(bytes: &[u8], at: usize) -> u64 {
    let mut it = bytes[at + 12..].iter();
    let mut varint = || {
        let (mut n, mut shift) = (0u64, 0);
        loop {
            let b = *it.next().unwrap();
            n |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return n;
            }
        }
    };
    varint();
    varint()
}

/// `bytes` with one bit flipped, written beside the test.
fn flipped(dir: &Path, bytes: &[u8], at: usize, bit: u8) -> PathBuf {
    let mut bytes = bytes.to_vec();
    bytes[at] ^= 1 << bit;
    let file = dir.join(format!("flip-{at}-{bit}.trace"));
    std::fs::write(&file, bytes).unwrap();
    file
}

#[test]
fn a_damaged_chunk_is_skipped_said_and_every_view_carries_on() {
    let rec = recording("requests", &[]);
    let bytes = std::fs::read(rec).unwrap();
    let s = chunk_starts(&bytes);
    assert!(s.len() > 4, "the requests demo fills several chunks: {s:?}");
    let dir = tempfile::tempdir().unwrap();
    let k = s.len() / 2;
    let damaged = flipped(dir.path(), &bytes, s[k] + 100, 2);
    let lost = events_before(&bytes, s[k + 1]) - events_before(&bytes, s[k]);
    let warning = format!(
        "warning: {}: damaged at byte {}: chunk {} fails its checksum; skipped {} bytes to byte {}: 1 chunk of {lost} events on [01 main], between <t> and <t>; calls that ended in it stay open, calls that began in it show as outermost calls of <t>; showing what was read\n",
        damaged.display(),
        s[k],
        k + 1,
        s[k + 1] - s[k],
        s[k + 1],
    );
    let out = view(&["replay", path(&damaged)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(mask(&stderr(&out)), warning);
    // The calls after the damage are shown: the last request's, and main's exit.
    let whole = view(&["replay", path(rec)]);
    let last_lines = |o: &Output| {
        mask(&stdout(o))
            .lines()
            .rev()
            .take(12)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(last_lines(&out), last_lines(&whole));
    assert!(stdout(&out).len() < stdout(&whole).len());
    for cmd in [
        &["report"][..],
        &["chains", "next_byte"],
        &["graph", "handle"],
    ] {
        let mut args = cmd.to_vec();
        args.insert(1, path(&damaged));
        let out = view(&args);
        assert_eq!(out.status.code(), Some(0), "{cmd:?}");
        assert_eq!(mask(&stderr(&out)), warning, "{cmd:?}");
        assert!(!stdout(&out).is_empty(), "{cmd:?}");
    }
    // Export carries on too, and says at the end what never exited.
    let out = view(&["export", path(&damaged), "--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0));
    let err = mask(&stderr(&out));
    assert!(
        err.starts_with(&warning) && err[warning.len()..].starts_with("open at exit: "),
        "{err}"
    );
    assert!(!stdout(&out).is_empty());
    // Calls whose exits were in the lost chunk stay open; the whole recording has none.
    assert_eq!(
        stdout(&view(&["open", path(rec)])),
        "nothing was open when the recording ended\n"
    );
    let open = stdout(&view(&["open", path(&damaged)]));
    assert!(
        open.starts_with("open at exit: ") && open.contains("requests::handle (open "),
        "{open}"
    );
}

#[test]
fn damage_to_the_site_table_or_the_last_chunk_loses_only_their_events() {
    let rec = recording("requests", &[]);
    let bytes = std::fs::read(rec).unwrap();
    let s = chunk_starts(&bytes);
    let dir = tempfile::tempdir().unwrap();
    // The first chunk defines the first names; the second repeats them, so no name is lost.
    let damaged = flipped(dir.path(), &bytes, s[0] + 20, 0);
    let out = view(&["report", path(&damaged)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        mask(&stderr(&out)),
        format!(
            "warning: {}: damaged at byte 32: chunk 1 fails its checksum; skipped {} bytes to byte {}: 1 chunk of {} events on [01 main], between the start and <t>; calls that ended in it stay open, calls that began in it show as outermost calls of <t>; showing what was read\n",
            damaged.display(),
            s[1] - s[0],
            s[1],
            events_before(&bytes, s[1]),
        )
    );
    let fns = |text: &str| {
        let mut names: Vec<String> = columns(text)
            .lines()
            .skip(2)
            .take_while(|l| !l.is_empty() && !l.starts_with("a large trace"))
            .map(|l| l.rsplit(' ').next().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let whole = stdout(&view(&["report", path(rec)]));
    assert_eq!(fns(&stdout(&out)), fns(&whole));
    assert!(!stdout(&out).contains("name lost"));
    // The last chunk holds the run's end: what it held is unknown.
    let last = s.len() - 2;
    let damaged = flipped(dir.path(), &bytes, s[last] + 20, 0);
    let out = view(&["replay", path(&damaged)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        mask(&stderr(&out)),
        format!(
            "warning: {}: damaged at byte {}: chunk {} fails its checksum; the rest ({} bytes) was skipped: what it held after <t> (how many events, on which threads) is unknown; showing what was read\n",
            damaged.display(),
            s[last],
            last + 1,
            bytes.len() - s[last],
        )
    );
}

#[test]
fn a_flipped_header_bit_is_put_back_and_said_two_are_refused() {
    let rec = recording("requests", &[]);
    let bytes = std::fs::read(rec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let whole = view(&["report", path(rec)]);
    // `origin` and `ns_per_tick`: every duration hangs on them.
    for (at, bit, field) in [
        (14, 3, "`origin`, the clock's nanosecond 0"),
        (27, 6, "`ns_per_tick`, the clock's rate"),
    ] {
        let damaged = flipped(dir.path(), &bytes, at, bit);
        let out = view(&["report", path(&damaged)]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            stderr(&out),
            format!(
                "warning: {}: the header is damaged: bit {bit} of byte {at} ({field}) was flipped; the header's checksum located it and it was put back; showing what was read\n",
                damaged.display()
            )
        );
        // Durations and all, the report is the undamaged file's.
        assert_eq!(stdout(&out), stdout(&whole));
    }
    let mut two = bytes.clone();
    two[14] ^= 1 << 3;
    two[22] ^= 1;
    let damaged = dir.path().join("two.trace");
    std::fs::write(&damaged, two).unwrap();
    let out = view(&["replay", path(&damaged)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: the header is damaged: its checksum does not hold and more than one bit differs, so the clock calibration (`origin`, `ns_per_tick`) cannot be trusted, nor any duration computed from it; nothing was read\n",
            damaged.display()
        )
    );
}

#[test]
fn foreign_damaged_and_missing_files_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, "hello").unwrap();
    let out = view(&["report", path(&foreign)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: not a trace recording (it does not start with TRACEREC); record one with TRACE_RECORD=PATH\n",
            foreign.display()
        )
    );
    let missing = dir.path().join("missing.trace");
    let out = view(&["open", path(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    let rec = recording("chains", &[]);
    let mut bytes = std::fs::read(rec).unwrap();
    bytes[8] = 9;
    let newer = dir.path().join("newer.trace");
    std::fs::write(&newer, &bytes).unwrap();
    let out = view(&["replay", path(&newer)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("recording format version 9; this build reads versions 1 to 6"),
        "{}",
        stderr(&out)
    );
    let out = view(&["chains", path(rec), "nosuchfn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no traced fn is named `nosuchfn`"),
        "{}",
        stderr(&out)
    );
    let out = view(&["replay", path(rec), "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`soon` is not a duration"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_viewer_command_has_help_with_an_example() {
    for cmd in [
        "replay", "report", "chains", "graph", "open", "export", "diff",
    ] {
        let out = view(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let help = stdout(&out);
        assert!(
            help.contains(&format!("trace-rewriter {cmd} ")),
            "{cmd}: {help}"
        );
        assert!(help.contains("Examples:"), "{cmd}: {help}");
    }
}
