//! A trace a person can read: a large trace ends with the few fns that make most of it and the
//! `TRACE_FILTER` line that leaves them out (pasted into a second run, they are gone), and the
//! runtime's own lines carry its label, `warning:` only on warnings.

mod common;

const REQUESTS: &str = env!("CARGO_BIN_EXE_requests");
const CHAINS: &str = env!("CARGO_BIN_EXE_chains");

/// The runtime's lines on stderr (the demo's own output aside).
fn runtime_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let at = text.find("trace-runtime: ").unwrap_or(text.len());
    text[at..].to_string()
}

#[test]
fn a_large_trace_names_its_noisiest_fns_and_the_line_that_leaves_them_out() {
    let (out, events) = common::run(REQUESTS, "readable-noisy", &[]);
    assert!(out.status.success());
    assert_eq!(
        events.len(),
        124_002,
        "the requests demo's trace, every event"
    );
    // On stderr, never inside the jsonl stream (which `run` parsed line by line).
    let note = common::columns(&runtime_lines(&out.stderr));
    assert_eq!(
        note,
        "\
trace-runtime: a large trace: 124002 events, 87000 of them (70.2%) from 2 fns:
calls events mean fn
22000 35.5% _ requests::parse::next_byte
21500 34.7% _ requests::parse::is_space
to leave them out, run with:
TRACE_FILTER='-requests::parse::next_byte,-requests::parse::is_space'
cargo trace instrument --exclude GLOB leaves out files, not fns: to keep these out of the build, put #[trace(skip)] on them
"
    );
    // Paste the line into a second run, as a shell would read it.
    let line = note
        .lines()
        .find_map(|l| l.strip_prefix("TRACE_FILTER="))
        .expect("the line");
    let value = line
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
        .expect("one single-quoted word");
    let (out, events) = common::run(REQUESTS, "readable-quiet", &[("TRACE_FILTER", value)]);
    assert!(out.status.success());
    let names: std::collections::BTreeSet<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            "requests::handle",
            "requests::parse::is_token",
            "requests::parse::request",
            "requests::serve",
            "requests::write_frame",
        ]
    );
    assert_eq!(events.len(), 124_002 - 87_000);
    assert_eq!(runtime_lines(&out.stderr), "", "no note on a smaller trace");
}

#[test]
fn the_run_s_own_filter_leads_the_line() {
    let (out, _) = common::run(REQUESTS, "readable-depth", &[("TRACE_FILTER", "depth=9")]);
    assert!(out.status.success());
    let note = runtime_lines(&out.stderr);
    assert!(
        note.contains(
            "\n  TRACE_FILTER='depth=9,-requests::parse::next_byte,-requests::parse::is_space'\n"
        ),
        "{note}"
    );
}

#[test]
fn verbose_lines_carry_the_runtime_s_label_without_warning() {
    let recording = common::out_file("readable-verbose").with_extension("trace");
    let (out, _) = common::run(
        CHAINS,
        "readable-verbose",
        &[
            ("TRACE_VERBOSE", "1"),
            ("TRACE_RECORD", recording.to_str().unwrap()),
        ],
    );
    let _ = std::fs::remove_file(&recording);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("trace-runtime"))
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with("trace-runtime: tracing on: clock "),
        "{stderr}"
    );
    // 18 enters and exits, and the records that link the worker thread to main.
    assert!(
        lines[1].starts_with("trace-runtime: recorded 21 events in "),
        "{stderr}"
    );
    // A warning still says so.
    let (out, _) = common::run(CHAINS, "readable-warning", &[("TRACE_MODE", "fast")]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("trace-runtime"))
            .collect::<Vec<_>>(),
        [
            "trace-runtime: warning: TRACE_MODE=\"fast\" is ignored: there is one mode, the trace \
          written as the program runs (TRACE_OUT=off writes nothing live)"
        ]
    );
}

/// `TRACE_SUMMARY` shows busy time beside total: a fn that sleeps is busy for less than its
/// wall time, a sync fn for all of it; the JSON carries both.
#[test]
fn the_summary_shows_busy_time_beside_total() {
    let json_path = common::out_file("readable-summary").with_extension("json");
    let (out, _) = common::run(
        env!("CARGO_BIN_EXE_tasks"),
        "readable-summary",
        &[
            ("TRACE_SUMMARY", "1"),
            ("TRACE_SUMMARY_JSON", json_path.to_str().unwrap()),
        ],
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let table = common::columns(&stderr[stderr.find("trace summary:").expect("the table")..]);
    assert!(
        table.starts_with("trace summary: 4 fns, 21 calls\ncalls total busy self max depth fn\n"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json_path);
    let f = |name: &str| {
        json["fns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    let (fetch, checksum) = (f("tasks::fetch"), f("tasks::checksum"));
    assert!(
        fetch["busy_ns"].as_u64() < fetch["total_ns"].as_u64(),
        "{fetch}"
    );
    assert_eq!(checksum["busy_ns"], checksum["total_ns"]);
    assert_eq!(
        fetch["mean_busy_ns"].as_u64(),
        Some(fetch["busy_ns"].as_u64().unwrap() / 6)
    );
}
