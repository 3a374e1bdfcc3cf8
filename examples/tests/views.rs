//! The views of a run: focus on one fn's chains, the summary and call graph, folded stacks
//! (rendered as a flame graph), Trace Event Format for Perfetto, open frames at exit, filters,
//! and readable output at depth 200. Each test checks content, not just that something printed.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

const CHAINS: &str = env!("CARGO_BIN_EXE_chains");
const CASES: &str = env!("CARGO_BIN_EXE_async_cases");
const SHAPES: &str = env!("CARGO_BIN_EXE_shapes");

fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_OUT")
        .env_remove("NO_COLOR")
        .env("TRACE_OUT", "stdout");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The trace's own lines: the demo's `d called from` lines left out.
fn trace_lines(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("d called from"))
        .collect()
}

#[test]
fn focus_prints_each_chain_reaching_the_fn_and_counts_them() {
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_FOCUS", "d")]);
    let lines = trace_lines(&stdout);
    let mut calls: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with('['))
        .map(|l| {
            // Times vary: keep the thread and the names.
            let (who, frames) = l.split_once("] ").unwrap();
            let names: Vec<&str> = frames
                .split(' ')
                .filter(|w| !w.starts_with('(') && !w.ends_with(')'))
                .filter(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                .collect();
            format!("{who}] {}", names.join(" "))
        })
        .collect();
    calls.sort();
    assert_eq!(
        calls,
        [
            "[01 main] chains::main -> chains::a1 -> chains::b1 -> chains::c1 -> chains::d",
            "[02 worker] chains::main => chains::a2 -> chains::b2 -> chains::c2 -> chains::d",
        ]
    );
    // Nothing else but the count of distinct chains at exit.
    let rest: Vec<&&str> = lines.iter().filter(|l| !l.starts_with('[')).collect();
    assert_eq!(rest[0], &"focus d: 2 calls by 2 distinct chains");
    let mut counted: Vec<&str> = rest[1..].iter().map(|l| l.trim()).collect();
    counted.sort();
    assert_eq!(
        counted,
        [
            "1x chains::main -> chains::a1 -> chains::b1 -> chains::c1 -> chains::d",
            "1x chains::main => chains::a2 -> chains::b2 -> chains::c2 -> chains::d"
        ]
    );
    // Each caller shows the time since it was entered, the focused fn its own time.
    let main_line = lines.iter().find(|l| l.starts_with("[01 main]")).unwrap();
    assert!(
        main_line.contains("chains::main (+") && main_line.contains(" -> chains::d "),
        "{main_line}"
    );
}

#[test]
fn summary_tables_fns_and_the_weighted_call_graph_also_as_json() {
    let json_path = common::out_file("summary").with_extension("json");
    let (stdout, _) = run(
        CHAINS,
        &[],
        &[
            ("TRACE_SUMMARY", "1"),
            ("TRACE_SUMMARY_JSON", json_path.to_str().unwrap()),
            ("TRACE_FORMAT", "jsonl"),
        ],
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json_path);
    let fns = json["fns"].as_array().unwrap();
    let by_name = |n: &str| {
        fns.iter()
            .find(|f| f["name"] == n)
            .unwrap_or_else(|| panic!("{n} in {fns:?}"))
    };
    assert_eq!(fns.len(), 8);
    assert_eq!(by_name("chains::d")["calls"], 2);
    assert_eq!(by_name("chains::d")["max_depth"], 4);
    assert_eq!(by_name("chains::main")["max_depth"], 0);
    for f in fns {
        assert!(f["self_ns"].as_u64() <= f["total_ns"].as_u64(), "{f}");
    }
    // A caller's total covers its callee's.
    assert!(
        by_name("chains::a1")["total_ns"].as_u64() >= by_name("chains::b1")["total_ns"].as_u64()
    );
    let edges: BTreeSet<(String, String, u64)> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["caller"].as_str().unwrap().into(),
                e["callee"].as_str().unwrap().into(),
                e["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, u64)> = [
        ("chains::main", "chains::a1"),
        ("chains::a1", "chains::b1"),
        ("chains::b1", "chains::c1"),
        ("chains::c1", "chains::d"),
        ("chains::a2", "chains::b2"),
        ("chains::b2", "chains::c2"),
        ("chains::c2", "chains::d"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string(), 1))
    .collect();
    assert_eq!(edges, want);
    // The jsonl trace stays valid: the table went to stderr.
    let trace: Vec<&str> = trace_lines(&stdout);
    assert!(trace.iter().all(|l| l.starts_with('{')), "{trace:?}");
}

#[test]
fn summary_table_sorted_by_total_time() {
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_SUMMARY", "1")]);
    let at = stdout
        .find("trace summary: 8 fns, 9 calls")
        .expect("the table");
    let table = &stdout[at..];
    let rows: Vec<&str> = table.lines().skip(2).take(8).collect();
    assert!(rows[0].ends_with("chains::main"), "{table}");
    assert!(table.contains("call graph (caller -> callee: calls, total time), by time:"));
    assert!(table.contains("  chains::c1 -> chains::d: 1 call, "));
}

#[test]
fn folded_stacks_render_as_a_flame_graph() {
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_FORMAT", "folded")]);
    let lines = trace_lines(&stdout);
    let stacks: BTreeSet<&str> = lines
        .iter()
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    assert_eq!(
        stacks,
        BTreeSet::from([
            "chains::a2",
            "chains::a2;chains::b2",
            "chains::a2;chains::b2;chains::c2",
            "chains::a2;chains::b2;chains::c2;chains::d",
            "chains::main",
            "chains::main;chains::a1",
            "chains::main;chains::a1;chains::b1",
            "chains::main;chains::a1;chains::b1;chains::c1",
            "chains::main;chains::a1;chains::b1;chains::c1;chains::d",
        ])
    );
    for l in &lines {
        l.rsplit_once(' ')
            .unwrap()
            .1
            .parse::<u64>()
            .expect("a self time in ns");
    }
    let mut svg = Vec::new();
    let mut options = inferno::flamegraph::Options::default();
    inferno::flamegraph::from_lines(&mut options, lines.iter().copied(), &mut svg)
        .expect("inferno renders it");
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("chains::d") && svg.contains("chains::main"));
}

fn chrome_events(stdout: &str) -> Vec<Value> {
    let text: String = stdout
        .lines()
        .filter(|l| !l.starts_with("d called from"))
        .collect::<Vec<_>>()
        .join("\n");
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    value.as_array().expect("the JSON array format").clone()
}

/// Trace Event Format: phases, pid/tid, microsecond timestamps, and complete events that nest
/// properly on each track.
fn check_chrome(events: &[Value]) {
    let mut tracks: std::collections::BTreeMap<u64, Vec<(f64, f64, u64)>> = Default::default();
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        assert!(e["pid"].is_u64(), "{e}");
        match ph {
            "X" => {
                let (ts, dur) = (
                    e["ts"].as_f64().expect("ts in µs"),
                    e["dur"].as_f64().expect("dur in µs"),
                );
                assert!(
                    e["name"].is_string() && e["tid"].is_u64() && dur >= 0.0,
                    "{e}"
                );
                let depth = e["args"]["depth"].as_u64().expect("depth");
                tracks
                    .entry(e["tid"].as_u64().unwrap())
                    .or_default()
                    .push((ts, ts + dur, depth));
            }
            "M" => assert!(e["args"]["name"].is_string(), "{e}"),
            // A flow arrow from a spawning call to the thread or task it started.
            "s" | "f" => assert!(e["id"].is_u64() && e["tid"].is_u64(), "{e}"),
            other => panic!("unexpected phase {other}"),
        }
    }
    // Every call but the outermost lies within a call one level up on its track, or for a
    // concurrent branch on a lane of its own, on its task's first lane (tids 10,000,000 apart).
    for (tid, spans) in &tracks {
        let first_lane = &tracks[&(tid % 10_000_000)];
        for &(start, end, depth) in spans {
            if depth == 0 {
                continue;
            }
            let inside = spans
                .iter()
                .chain(first_lane)
                .any(|&(s, e, d)| d + 1 == depth && s <= start + 0.002 && end <= e + 0.002);
            assert!(
                inside,
                "track {tid}: a depth {depth} call outside any caller"
            );
        }
    }
}

#[test]
fn chrome_trace_event_format_has_a_track_per_thread() {
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_FORMAT", "chrome")]);
    let events = chrome_events(&stdout);
    check_chrome(&events);
    let calls = events.iter().filter(|e| e["ph"] == "X").count();
    assert_eq!(calls, 9);
    let names: BTreeSet<String> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["thread 01 main".to_string(), "thread 02 worker".to_string()])
    );
}

#[test]
fn chrome_trace_gives_each_task_a_track() {
    let (stdout, _) = run(CASES, &["join"], &[("TRACE_FORMAT", "chrome")]);
    let events = chrome_events(&stdout);
    check_chrome(&events);
    let task_tracks: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    // `fan_out` joins two `child`ren: the second runs beside the first, on a lane of its own.
    assert_eq!(task_tracks, BTreeSet::from([1_000_001, 11_000_001]));
    let names: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "thread 01 main",
            "task 1 async_cases::fan_out",
            "task 1 async_cases::fan_out, concurrent lane 1"
        ])
    );
}

#[test]
fn frames_still_open_at_exit_are_reported_with_their_chains() {
    let (stdout, _) = run(CASES, &["leak"], &[]);
    let at = stdout
        .find("open at exit: 3 traced frames never exited")
        .unwrap_or_else(|| panic!("{stdout}"));
    let report: Vec<&str> = stdout[at..].lines().skip(1).collect();
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(
        report[0].starts_with("  [01 stuck] async_cases::blocked_forever (open "),
        "{report:?}"
    );
    assert!(
        report[1].starts_with("  [task 1] async_cases::parent_forever (open "),
        "{report:?}"
    );
    assert!(
        report[1].contains(" -> async_cases::forever (open "),
        "{report:?}"
    );
}

#[test]
fn filter_by_prefix_and_depth() {
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_FILTER", "-chains::b1,-c2")]);
    let trace = trace_lines(&stdout).join("\n");
    assert!(
        !trace.contains("chains::b1") && !trace.contains("chains::c2"),
        "{trace}"
    );
    assert!(
        trace.contains("-> chains::d") && trace.contains("-> chains::a1"),
        "{trace}"
    );
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_FILTER", "depth=1")]);
    let lines = trace_lines(&stdout);
    assert_eq!(
        lines.len(),
        8,
        "main and a1, a2 and b2 (depths 0 and 1), enter and exit: {lines:?}"
    );
    let (stdout, _) = run(CHAINS, &[], &[("TRACE_FILTER", "chains::a2")]);
    let lines = trace_lines(&stdout);
    assert_eq!(lines.len(), 2, "only a2 itself: {lines:?}");
}

/// The trace lines of a human trace, exits without their durations; the demo's own lines left
/// out.
fn shape(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| match l.find(" <- ") {
            Some(_) => l.rsplit_once(' ').unwrap().0.to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn filter_terms_match_whole_segments_at_the_end_or_start_of_a_name() {
    // A fn by the end of its path; a trait method as `<Type as Trait>::f`, by its paths' ends.
    let (stdout, stderr) = run(
        SHAPES,
        &[],
        &[("TRACE_FILTER", "db::Pool::get,<Cat as Animal>::sound")],
    );
    assert_eq!(
        shape(&stdout),
        [
            "[01 main] -> <shapes::zoo::Cat as Animal>::sound",
            "[01 main] <- <shapes::zoo::Cat as Animal>::sound",
            "[01 main] -> shapes::zoo::db::Pool::get",
            "[01 main] <- shapes::zoo::db::Pool::get",
        ]
    );
    assert_eq!(stderr, "");
    // A module by the start of its path: everything in it, trait impls' methods too.
    let (stdout, stderr) = run(
        SHAPES,
        &[],
        &[("TRACE_FILTER", "shapes::zoo,-Animal::speak,-zoo::db")],
    );
    assert_eq!(
        shape(&stdout),
        [
            "[01 main] -> <shapes::zoo::Cat as Animal>::name",
            "[01 main] <- <shapes::zoo::Cat as Animal>::name",
            "[01 main] -> <shapes::zoo::Cat as Animal>::sound",
            "[01 main] <- <shapes::zoo::Cat as Animal>::sound",
            "[01 main] -> shapes::zoo::db::Pool::get",
            "[01 main] <- shapes::zoo::db::Pool::get",
        ]
    );
    // `zoo::db` is neither the start nor the end of a name: it matched nothing.
    assert_eq!(
        stderr,
        "trace-runtime: warning: TRACE_FILTER term \"-zoo::db\" matched no traced fn \
         (a term is a fn's full name, or whole `::` segments at its end or start: `get`, \
         `db::get`, `demo::db`)\n"
    );
    // TRACE_FOCUS takes the same terms.
    let (stdout, _) = run(SHAPES, &[], &[("TRACE_FOCUS", "<Cat as Animal>::name")]);
    assert!(
        stdout.contains(
            "focus <Cat as Animal>::name: 1 call by 1 distinct chain\n       1x shapes::main -> \
             shapes::zoo::Animal::speak -> <shapes::zoo::Cat as Animal>::name\n"
        ),
        "{stdout}"
    );
}

#[test]
fn terms_that_matched_no_traced_fn_are_named_once_at_exit() {
    let (stdout, stderr) = run(
        SHAPES,
        &[],
        &[
            ("TRACE_FILTER", "db::gett,Pool::get,-zzz"),
            ("TRACE_FOCUS", "Pool::gett"),
        ],
    );
    assert_eq!(
        stderr,
        "\
trace-runtime: warning: TRACE_FILTER term \"db::gett\" matched no traced fn
trace-runtime: warning: TRACE_FILTER term \"-zzz\" matched no traced fn
trace-runtime: warning: TRACE_FOCUS term \"Pool::gett\" matched no traced fn (a term is a fn's \
full name, or whole `::` segments at its end or start: `get`, `db::get`, `demo::db`)
"
    );
    assert!(
        stdout.ends_with("focus Pool::gett: 0 calls by 0 distinct chains\n"),
        "{stdout}"
    );
}

/// A filter that matched nothing used to leave a hung program's run silent: no frame was
/// recorded, so none could be reported open. Now `forever` names `async_cases::forever`, and a
/// filter that leaves every call out says so.
#[test]
fn a_filtered_run_reports_its_open_frames_or_says_why_it_cannot() {
    let (stdout, stderr) = run(CASES, &["leak"], &[("TRACE_FILTER", "forever")]);
    let at = stdout
        .find("open at exit: 1 traced frame never exited\n")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        stdout[at..].contains("] async_cases::forever (open "),
        "{stdout}"
    );
    assert_eq!(stderr, "");
    let (stdout, stderr) = run(CASES, &["leak"], &[("TRACE_FILTER", "db::get")]);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "\
trace-runtime: warning: TRACE_FILTER term \"db::get\" matched no traced fn (a term is a fn's \
full name, or whole `::` segments at its end or start: `get`, `db::get`, `demo::db`)
trace-runtime: warning: TRACE_FILTER left out every traced call: nothing was recorded
"
    );
}

#[test]
fn filter_min_duration_folds_short_calls_away() {
    let (stdout, _) = run(CASES, &["sleepy"], &[("TRACE_FILTER", "min=10ms")]);
    let lines: Vec<String> = stdout
        .lines()
        .map(|l| match l.find(" <- ") {
            Some(_) => l.rsplit_once(' ').unwrap().0.to_string(),
            None => l.to_string(),
        })
        .collect();
    assert_eq!(
        lines,
        [
            "[01 main] -> async_cases::outer",
            "[01 main]   -> async_cases::sleepy",
            "[01 main]   <- async_cases::sleepy",
            "[01 main] <- async_cases::outer",
        ]
    );
}

#[test]
fn depth_200_stays_readable() {
    let (stdout, _) = run(CASES, &["deep"], &[]);
    let deepest = stdout
        .lines()
        .find(|l| l.contains("[depth 200]") && l.contains("->"))
        .expect("depth shown");
    let indent = deepest.len()
        - deepest
            .trim_start_matches("[01 main] [depth 200] ")
            .trim_start()
            .len();
    assert!(indent < 120, "indentation is capped: {indent}");
    assert!(
        deepest.ends_with("-> async_cases::deep"),
        "names are never cut: {deepest}"
    );
    let shallow = stdout.lines().find(|l| l.contains("-> ")).unwrap();
    assert!(!shallow.contains("[depth"), "{shallow}");
}
