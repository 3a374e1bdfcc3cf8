//! A fn called millions of times, each call tiny, turns hot: from then on it is counted
//! instead of recorded, and the chain to it stays whole; the runtime says so when it happens
//! and at exit, and `TRACE_HOT=off` records every call.

mod common;

const HOT: &str = env!("CARGO_BIN_EXE_hot");

/// The runtime's lines on stderr.
fn runtime_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("trace-runtime: "))
        .map(String::from)
        .collect()
}

#[test]
fn a_tiny_fn_called_millions_of_times_is_counted_and_its_callers_stay_whole() {
    let (out, events) = common::run(HOT, "hot-default", &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "checksum of 3000000 calls: 139501602406476\n"
    );
    common::check_nesting(&events);
    // Every recorded call of `tiny` is a whole call under `checksum`; the chain around them is
    // whole.
    let recorded = events
        .iter()
        .filter(|e| e.name == "hot::tiny" && !e.enter)
        .count() as u64;
    let checksum = events
        .iter()
        .find(|e| e.name == "hot::checksum")
        .expect("checksum entered");
    assert!(events
        .iter()
        .filter(|e| e.name == "hot::tiny" && e.enter)
        .all(|e| e.parent == Some(checksum.id) && e.depth == 2));
    let outline: Vec<String> = events
        .iter()
        .filter(|e| e.name != "hot::tiny")
        .map(|e| {
            let arrow = if e.enter { "->" } else { "<-" };
            format!("{}{arrow} {}", "  ".repeat(e.depth as usize), e.name)
        })
        .collect();
    // `rare`, called by counted calls of `tiny`, is recorded under `tiny`'s caller.
    assert_eq!(
        outline,
        [
            "-> hot::run",
            "  -> hot::checksum",
            "    -> hot::rare",
            "    <- hot::rare",
            "    -> hot::rare",
            "    <- hot::rare",
            "    -> hot::rare",
            "    <- hot::rare",
            "  <- hot::checksum",
            "<- hot::run"
        ]
    );
    assert!(events
        .iter()
        .filter(|e| e.name == "hot::rare" && e.enter)
        .all(|e| e.parent == Some(checksum.id)));
    // It turned hot at its 100,000th short call (the collector decides while the thread runs
    // on: a few thousand more were recorded by then), and the rest were counted.
    assert!(
        (100_000..200_000).contains(&recorded),
        "{recorded} calls recorded"
    );
    let counted = 3_000_000 - recorded;
    let lines = runtime_lines(&out.stderr);
    let turned = &lines[0];
    let seen = turned
        .strip_prefix(
            "trace-runtime: hot::tiny is counted from now on, not recorded: 100000 of its ",
        )
        .and_then(|l| {
            l.strip_suffix(" calls took under 500ns each (TRACE_HOT=off records every call)")
        })
        .unwrap_or_else(|| panic!("the line saying it turned hot: {turned}"));
    let seen: u64 = seen.parse().expect("how many calls it had made");
    assert!((100_000..=recorded).contains(&seen), "{seen}");
    // At exit, after the note on a large trace: how many calls were counted.
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "trace-runtime: 1 fn turned hot (many calls, each tiny): their later calls were counted, not recorded (TRACE_HOT=off records every call):".to_string(),
            format!("trace-runtime:   {counted} calls of hot::tiny"),
        ]
    );
}

/// The summary, from `TRACE_SUMMARY_JSON`, of `hot` making `calls` calls: per fn, its calls and
/// how many of them were counted.
fn summary(calls: &str, hot: Option<&str>) -> (Vec<String>, Vec<(String, u64, u64)>) {
    let path = common::out_file(&format!("hot-summary-{calls}-{hot:?}"));
    let mut cmd = std::process::Command::new(HOT);
    cmd.arg(calls)
        .env("TRACE_OUT", "off")
        .env("TRACE_SUMMARY_JSON", &path);
    if let Some(v) = hot {
        cmd.env("TRACE_HOT", v);
    }
    let out = cmd.output().expect("run the demo");
    assert!(out.status.success());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the summary")).expect("JSON");
    let _ = std::fs::remove_file(&path);
    let mut fns: Vec<(String, u64, u64)> = json["fns"]
        .as_array()
        .expect("fns")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().expect("a name").to_string(),
                f["calls"].as_u64().expect("calls"),
                f["counted"].as_u64().expect("counted"),
            )
        })
        .collect();
    fns.sort();
    (runtime_lines(&out.stderr), fns)
}

#[test]
fn trace_hot_off_records_every_call() {
    let (lines, fns) = summary("200000", Some("off"));
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(
        fns,
        [
            ("hot::checksum".to_string(), 1, 0),
            ("hot::run".to_string(), 1, 0),
            ("hot::tiny".to_string(), 200_000, 0),
        ]
    );
    // The same run by default counts most of those calls; the summary still has every one.
    let (lines, fns) = summary("200000", None);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let tiny = &fns[2];
    assert_eq!((tiny.0.as_str(), tiny.1), ("hot::tiny", 200_000));
    // Turned hot at a flush after its 100,000th short call at the latest (the demo flushes
    // every 10,000 calls): tens of thousands of calls were left to count.
    assert!(tiny.2 >= 50_000 && tiny.2 <= 100_000, "{tiny:?}");
    assert_eq!(
        lines[2],
        format!("trace-runtime:   {} calls of hot::tiny", tiny.2)
    );
}

#[test]
fn trace_hot_sets_how_many_calls_and_how_short() {
    // Calls of under 1ns: none of `tiny`'s is that short, so nothing turns hot.
    let (lines, fns) = summary("20000", Some("calls=1000, under=1ns"));
    assert_eq!(lines, Vec::<String>::new());
    assert_eq!(fns[2], ("hot::tiny".to_string(), 20_000, 0));
    let (lines, fns) = summary("20000", Some("calls=1000"));
    assert!(
        lines[0].starts_with(
            "trace-runtime: hot::tiny is counted from now on, not recorded: 1000 of its "
        ),
        "{lines:?}"
    );
    // Turned hot by the first flush (at 10,000 calls), so the second 10,000 were counted.
    assert!(fns[2].2 >= 10_000 && fns[2].2 < 19_000, "{:?}", fns[2]);
}

/// A run that only records counts calls as it writes them, decoding nothing: the note on a
/// large trace names the same fn with the same calls as a run that decodes.
#[test]
fn a_run_that_only_records_names_the_fns_that_make_its_trace_large() {
    let note = |tag: &str, out: &str| {
        let path = common::out_file(&format!("hot-note-{tag}.trace"));
        let o = std::process::Command::new(HOT)
            .arg("200000")
            .env("TRACE_HOT", "off")
            .env("TRACE_OUT", out)
            .env("TRACE_RECORD", &path)
            .output()
            .expect("run the demo");
        assert!(o.status.success());
        let bytes = std::fs::read(&path).expect("the recording");
        let _ = std::fs::remove_file(&path);
        let thread_order = u16::from_le_bytes([bytes[10], bytes[11]]) & 1 == 1;
        let lines: Vec<String> = String::from_utf8_lossy(&o.stderr)
            .lines()
            .map(|l| {
                l.split_whitespace()
                    .filter(|w| !common::is_duration(w))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        (thread_order, lines)
    };
    let (only_records, recorded) = note("off", "off");
    let lines = common::out_file("hot-note-lines");
    let (decoding, decoded) = note("file", lines.to_str().unwrap());
    let _ = std::fs::remove_file(&lines);
    assert!(only_records && !decoding);
    assert_eq!(recorded, decoded);
    assert_eq!(
        recorded[..5],
        [
            "trace-runtime: a large trace: 400004 events, 400000 of them (100.0%) from 1 fn:",
            "calls events mean fn",
            "200000 100.0% hot::tiny",
            "to leave them out, run with:",
            "TRACE_FILTER='-hot::tiny'",
        ]
    );
}
