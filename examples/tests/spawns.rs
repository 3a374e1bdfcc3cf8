//! Chains across spawns: a task knows the call that created its future, a thread started with
//! the drop-ins (or an adopted `Origin`) knows the call that started it, so "which chain reached
//! d" crosses `tokio::spawn`, executors and threads; leaks are reported by where they were
//! spawned and where they wait; `TRACE_WATCH` names a hang without a signal.

mod common;

use std::process::Command;

const SPAWNS: &str = env!("CARGO_BIN_EXE_spawns");
const LEAK: &str = env!("CARGO_BIN_EXE_leak");
const HANG: &str = env!("CARGO_BIN_EXE_hang");

fn chain_of(scenario: &str) -> String {
    common::stdout_of(Command::new(SPAWNS).arg(scenario).env("TRACE_OUT", "off"))
}

#[test]
fn chain_crosses_tokio_spawns_on_either_runtime() {
    for (scenario, want) in [
        (
            "tokio",
            "tokio: spawns::serve -> spawns::accept => spawns::handle => spawns::process -> spawns::d\n",
        ),
        (
            "current",
            "current: spawns::serve -> spawns::accept => spawns::handle => spawns::process -> spawns::d\n",
        ),
        ("joinset", "joinset: spawns::fan_out => spawns::process -> spawns::d\n"),
        ("local", "local: spawns::local_spawn => spawns::process -> spawns::d\n"),
        (
            "futures",
            "futures: spawns::spawn_on_pool => spawns::process_futures -> spawns::d\n",
        ),
    ] {
        assert_eq!(chain_of(scenario), want, "{scenario}");
    }
}

/// An async method's future is made where it is called, like a free fn's: inherent, trait impl
/// and trait default methods, a lone `#[trace]` (the rewriter's shape), an elided lifetime;
/// `self` taken by value lives in the future until its body is done.
#[test]
fn chain_crosses_spawned_async_methods() {
    assert_eq!(
        chain_of("methods"),
        "method: spawns::Router::dispatch => spawns::Router::route -> spawns::d\n\
         trait-method: spawns::Router::dispatch => <spawns::Router as Handler>::call -> spawns::d\n\
         default-method: spawns::Router::dispatch => spawns::Handler::call_default -> spawns::d\n\
         conn: spawns::Router::dispatch => spawns::describe -> spawns::d\n\
         by-value: spawns::Router::dispatch => spawns::run -> spawns::d\n\
         job dropped\n"
    );
}

/// Tasks made in one call that has returned before they run, polled on two workers: every
/// one's chain names the call.
#[test]
fn many_tasks_from_one_call_each_name_it() {
    let want = "many: spawns::spawn_many => spawns::process -> spawns::d\n".repeat(20);
    assert_eq!(chain_of("many"), want);
}

#[test]
fn chain_crosses_three_nested_spawns() {
    assert_eq!(
        chain_of("nested"),
        "nested: spawns::level1 => spawns::level2 => spawns::level3 -> spawns::d\n"
    );
}

/// The future was made in a task that finished before anyone spawned it: its origin is the
/// call that made it, still named.
#[test]
fn a_task_made_by_a_finished_task_still_names_it() {
    assert_eq!(
        chain_of("finished-origin"),
        "finished-origin: spawns::make_and_finish => spawns::process -> spawns::d\n"
    );
}

#[test]
fn thread_drop_ins_rayon_and_spawn_blocking_follow_the_chain() {
    assert_eq!(
        chain_of("threads"),
        "thread-spawn: spawns::start_threads => spawns::d\n\
         thread-builder: spawns::start_threads => spawns::d\n\
         thread-scope: spawns::start_threads => spawns::d\n"
    );
    assert_eq!(
        chain_of("rayon"),
        "rayon: spawns::start_rayon => spawns::work -> spawns::d\n"
    );
    assert_eq!(
        chain_of("blocking"),
        "blocking: spawns::offload => spawns::blocking_work -> spawns::d\n"
    );
}

/// Blocks and closures handed to executors and threads as written: each continues the chain
/// of the call that made it, with no drop-in or captured origin in the program.
#[test]
fn blocks_and_closures_continue_the_chain_that_made_them() {
    assert_eq!(
        chain_of("blocks"),
        "block: spawns::hand_off => spawns::d\n\
         block-joinset: spawns::hand_off => spawns::process -> spawns::d\n\
         block-nested: spawns::hand_off => spawns::d\n\
         closure-blocking: spawns::hand_off => spawns::d\n\
         closure-thread: spawns::hand_off => spawns::d\n\
         closure-rayon: spawns::hand_off => spawns::d\n\
         block-local: spawns::hand_off_local => spawns::process -> spawns::d\n\
         closure-async: spawns::make_greeter => spawns::d\n"
    );
    let from =
        |first: &str, origin: &str| format!("-> spawns::{first}  (spawned from spawns::{origin})");
    assert_eq!(
        spawned_lines("blocks", &[]),
        [
            from("d", "hand_off"),
            from("process", "hand_off"),
            from("d", "hand_off"),
            from("d", "hand_off"),
            from("d", "hand_off"),
            from("d", "hand_off"),
            from("process", "hand_off_local"),
            from("d", "make_greeter"),
        ]
    );
}

/// Regressions: a block polled first inside a traced future's `select!` and spawned afterwards
/// lost its chain; a spawned block cancelled while it waited dropped what it held outside its
/// task, with no chain.
#[test]
fn blocks_spawned_late_or_cancelled_keep_their_chain() {
    assert_eq!(
        chain_of("blocks-later"),
        "selected-then-spawned: spawns::select_then_spawn => spawns::d\n\
         drop-on-abort: spawns::abort_linked => <spawns::Noted as Drop>::drop -> spawns::d\n"
    );
}

/// jsonl: every event has an id; a spawned task's root names the frame that created it as
/// its parent, across threads.
#[test]
fn jsonl_links_a_task_root_to_the_frame_that_spawned_it() {
    let (out, events) = common::run(SPAWNS, "spawns-tokio", &[]);
    assert!(out.status.success());
    let id_of = |name: &str| {
        events
            .iter()
            .find(|e| e.enter && e.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .id
    };
    let parent_of = |name: &str| {
        events
            .iter()
            .find(|e| e.enter && e.name == name)
            .unwrap()
            .parent
    };
    assert_eq!(parent_of("spawns::serve"), None);
    assert_eq!(parent_of("spawns::accept"), Some(id_of("spawns::serve")));
    assert_eq!(parent_of("spawns::handle"), Some(id_of("spawns::accept")));
    assert_eq!(parent_of("spawns::process"), Some(id_of("spawns::handle")));
    assert_eq!(parent_of("spawns::d"), Some(id_of("spawns::process")));
    // Ids are unique per frame; an exit carries its enter's id.
    let enters: std::collections::BTreeSet<u64> =
        events.iter().filter(|e| e.enter).map(|e| e.id).collect();
    assert_eq!(enters.len(), events.iter().filter(|e| e.enter).count());
    assert!(events
        .iter()
        .filter(|e| !e.enter)
        .all(|e| enters.contains(&e.id)));
}

/// The human lines of spawned tasks' first frames (label left out), of `spawns SCENARIO` run
/// with `env`.
fn spawned_lines(scenario: &str, env: &[(&str, &str)]) -> Vec<String> {
    let out = Command::new(SPAWNS)
        .arg(scenario)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", "stdout")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.contains("(spawned from"))
        .map(|l| l.split_once("] ").unwrap().1.to_string())
        .collect()
}

#[test]
fn a_spawned_tasks_first_line_says_where_it_came_from() {
    let first_lines = spawned_lines("tokio", &[]);
    assert_eq!(
        first_lines,
        [
            "-> spawns::handle  (spawned from spawns::serve -> spawns::accept)",
            "-> spawns::process  (spawned from spawns::serve -> spawns::accept => spawns::handle)",
        ]
    );
}

/// A frame left out by `TRACE_FILTER` is passed over in the chains the collector draws: the
/// spawned tasks' origins are the nearest frames it kept.
#[test]
fn a_filtered_frame_is_passed_over_across_spawns() {
    assert_eq!(
        spawned_lines("tokio", &[("TRACE_FILTER", "-spawns::accept")]),
        [
            "-> spawns::handle  (spawned from spawns::serve)",
            "-> spawns::process  (spawned from spawns::serve => spawns::handle)",
        ]
    );
}

/// A task that spawns its successor 20,000 times: chains stop at 32 spawns (a successor past
/// that starts a chain of its own), and the run ends.
#[test]
fn a_task_respawning_itself_keeps_chains_bounded() {
    assert_eq!(
        chain_of("respawn"),
        "respawn: spawns::tick => spawns::tick => spawns::tick -> spawns::d\n"
    );
    let lines = spawned_lines("respawn", &[]);
    // 20,001 tasks: the first (spawned by untraced code) and every 33rd after it start afresh.
    assert_eq!(lines.len(), 20_001 - 1 - 20_000 / 33);
    let longest = lines.iter().map(|l| l.matches(" => ").count()).max();
    assert_eq!(longest, Some(31), "32 frames, 31 spawns between them");
}

/// `TRACE_FOCUS` shows the chain that reached the fn across spawns, and counts it.
#[test]
fn focus_crosses_spawns() {
    let out = Command::new(SPAWNS)
        .arg("tokio")
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", "stdout")
        .env("TRACE_FOCUS", "d")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let chain = "spawns::serve -> spawns::accept => spawns::handle => spawns::process -> spawns::d";
    assert!(
        text.ends_with(&format!(
            "focus d: 1 call by 1 distinct chain\n       1x {chain}\n"
        )),
        "{text}"
    );
    let line = text.lines().find(|l| l.starts_with('[')).unwrap();
    // `[..] a (+1.2µs) => b (+1.0µs) -> d 30µs`: the names, the arrows, then d's own time.
    let mut outside = String::new();
    let mut depth = 0;
    for c in line.split_once("] ").unwrap().1.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => outside.push(c),
            _ => {}
        }
    }
    let mut names: Vec<&str> = outside.split_whitespace().collect();
    names.pop();
    assert_eq!(names.join(" "), chain, "{line}");
}

/// Chrome: a flow arrow from the spawning call to each spawned task's first slice, bound to
/// slices that exist on both tracks.
#[test]
fn chrome_flow_arrows_join_a_spawn_to_its_task() {
    let path = common::out_file("spawns-chrome");
    let out = Command::new(SPAWNS)
        .arg("tokio")
        .env("TRACE_FORMAT", "chrome")
        .env("TRACE_OUT", &path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let events = value.as_array().unwrap();
    let slices: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    let inside = |tid: &serde_json::Value, ts: f64| {
        slices.iter().any(|s| {
            let start = s["ts"].as_f64().unwrap();
            s["tid"] == *tid
                && start <= ts + 0.001
                && ts <= start + s["dur"].as_f64().unwrap() + 0.001
        })
    };
    let starts: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "s").collect();
    let finishes: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "f").collect();
    // `serve` block_ons `accept` itself (a call); `handle` and `process` are spawned.
    assert_eq!(starts.len(), 2, "one arrow per spawned task");
    assert_eq!(finishes.len(), 2);
    for s in &starts {
        let f = finishes
            .iter()
            .find(|f| f["id"] == s["id"])
            .expect("a finish per start");
        assert_eq!(f["bp"], "e");
        assert!(s["ts"].as_f64().unwrap() <= f["ts"].as_f64().unwrap());
        assert!(
            inside(&s["tid"], s["ts"].as_f64().unwrap()),
            "start inside a slice: {s}"
        );
        assert!(
            inside(&f["tid"], f["ts"].as_f64().unwrap()),
            "finish inside a slice: {f}"
        );
        assert_ne!(
            s["tid"], f["tid"],
            "the arrow goes from one track to another"
        );
    }
}

fn mask(text: &str) -> String {
    common::mask(text, "(oldest ")
}

/// The leak story: 200 subscribers, a pump and a heartbeat task each, never cancelled. The
/// report names the call that spawned them and where they wait, at exit, from
/// `assert_no_open_frames` and as a value from `open_frames()`.
#[test]
fn leaked_tasks_are_reported_by_origin_and_where_they_wait() {
    let path = common::out_file("leak");
    let out = Command::new(LEAK)
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", &path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = mask(&String::from_utf8(out.stdout).unwrap());
    let trace = mask(&std::fs::read_to_string(&path).unwrap());
    let _ = std::fs::remove_file(&path);
    let group = "  400 tasks spawned from leak::main -> leak::Service::subscribe: 200 waiting in leak::heartbeat (oldest _), 200 in leak::pump_messages (oldest _)\n";
    assert_eq!(
        stdout,
        format!("open tasks: 400\ntraced work still running:\n{group}\n")
    );
    assert!(
        trace.ends_with(&format!(
            "open at exit: 400 traced frames never exited\n{group}"
        )),
        "{}",
        &trace[trace.len().saturating_sub(2000)..]
    );
}

/// The same leak in a run that only records: `open_frames()` and `assert_no_open_frames` read
/// the recording back and say the same; recording into something that cannot be read back (a
/// device), the assertion still fails, with how many frames are open and why they cannot be
/// listed, and `open_frames()` warns that it cannot list them.
#[test]
fn leaked_tasks_in_a_run_that_only_records() {
    let leak = |record: &std::path::Path| {
        let out = Command::new(LEAK)
            .env("NO_COLOR", "1")
            .env("TRACE_OUT", "off")
            .env("TRACE_RECORD", record)
            .output()
            .unwrap();
        assert!(out.status.success());
        let stdout = mask(&String::from_utf8(out.stdout).unwrap());
        // The runtime's own lines (the panic caught in the demo prints its message too).
        let stderr: String = String::from_utf8(out.stderr)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("trace-runtime: "))
            .map(|l| format!("{l}\n"))
            .collect();
        (stdout, stderr)
    };
    let path = common::out_file("leak-recorded");
    let (stdout, stderr) = leak(&path);
    let _ = std::fs::remove_file(&path);
    let group = "  400 tasks spawned from leak::main -> leak::Service::subscribe: 200 waiting in leak::heartbeat (oldest _), 200 in leak::pump_messages (oldest _)\n";
    assert_eq!(
        stdout,
        format!("open tasks: 400\ntraced work still running:\n{group}\n")
    );
    assert_eq!(stderr, "");
    let (stdout, stderr) = leak(std::path::Path::new("/dev/null"));
    let why = "TRACE_RECORD=/dev/null is not a regular file, so it cannot be read back: `cargo trace open /dev/null` lists them once the run has ended";
    assert_eq!(
        stdout,
        format!(
            "open tasks: 0\ntraced work still running:\n400 traced frames never exited on other threads, which cannot be listed: {why}\n\n"
        )
    );
    assert_eq!(
        stderr,
        format!("trace-runtime: warning: open_frames cannot list them: {why}\n")
    );
}

#[test]
fn trace_watch_names_a_hang_once_with_its_chain() {
    let err = tempfile_path("watch.stderr");
    let mut child = Command::new(HANG)
        .env("TRACE_WATCH", "200ms")
        .env("TRACE_OUT", "off")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&err).unwrap_or_default();
        if text.matches("open longer than").count() >= 3 {
            // A few more rounds: nothing is reported twice.
            std::thread::sleep(std::time::Duration::from_millis(400));
            break std::fs::read_to_string(&err).unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().unwrap();
    let _ = child.wait();
    let _ = std::fs::remove_file(&err);
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| l.split(" (open ").next().unwrap().to_string())
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "trace-runtime: open longer than 200.0ms: [01 main] hang::main -> hang::serve -> hang::handle -> hang::wait_forever",
            "trace-runtime: open longer than 200.0ms: [02 worker] hang::main => hang::pump",
            "trace-runtime: open longer than 200.0ms: [03 tasks task 1] hang::main => hang::heartbeat",
        ]
    );
}

fn tempfile_path(tag: &str) -> std::path::PathBuf {
    common::out_file(tag)
}
