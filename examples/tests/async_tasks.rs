//! Async: depth and chains follow the task across `.await` and worker threads, on every
//! executor, with exits on completion, panic and cancellation.

mod common;

use std::collections::BTreeMap;

use common::{check_nesting, run, tree, trees, Event};

const CASES: &str = env!("CARGO_BIN_EXE_async_cases");

/// Runs `async_cases CASE` with the jsonl trace to a file.
fn traced(name: &str) -> Vec<Event> {
    traced_with(name, &[])
}

fn traced_with(name: &str, env: &[(&str, &str)]) -> Vec<Event> {
    // One file per run: tests of the same case run at once.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = common::out_file(&format!("async-{name}-{run}"));
    let output = std::process::Command::new(CASES)
        .arg(name)
        .envs(env.iter().copied())
        .env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &path)
        .output()
        .expect("run async_cases");
    assert!(
        output.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&path).expect("a trace");
    let _ = std::fs::remove_file(&path);
    common::parse(&text)
}

/// The tree of every task, rendered alone (task numbers left out), counted.
fn task_shapes(events: &[Event]) -> BTreeMap<String, usize> {
    let mut shapes = BTreeMap::new();
    for ((kind, _), evs) in trees(events) {
        if kind != 1 {
            continue;
        }
        let owned: Vec<Event> = evs.into_iter().cloned().collect();
        let text = tree(&owned);
        let body = text
            .split_once('\n')
            .map_or("", |(_, rest)| rest)
            .to_string();
        *shapes.entry(body).or_default() += 1;
    }
    shapes
}

const PARENT_TREE: &str = "  -> async_cases::parent
    -> async_cases::child
      -> async_cases::leaf
      <- async_cases::leaf
    <- async_cases::child
    -> async_cases::child
      -> async_cases::leaf
      <- async_cases::leaf
    <- async_cases::child
  <- async_cases::parent
";

#[test]
fn tokio_multi_thread_keeps_each_task_tree_whole() {
    let events = traced("tokio-multi");
    check_nesting(&events);
    assert_eq!(
        task_shapes(&events),
        BTreeMap::from([(PARENT_TREE.to_string(), 8)])
    );
    assert!(
        events.iter().all(|e| e.task.is_some()),
        "every frame here is inside a task"
    );
}

#[test]
fn tokio_current_thread_interleaves_without_mixing() {
    let events = traced("tokio-current");
    check_nesting(&events);
    assert_eq!(
        task_shapes(&events),
        BTreeMap::from([(PARENT_TREE.to_string(), 2)])
    );
    // Both tasks ran on the one thread, interleaved: the first task's frames are still open
    // when the second's begin.
    let first_exit = events
        .iter()
        .position(|e| !e.enter && e.depth == 0)
        .unwrap();
    let tasks_before: std::collections::BTreeSet<_> =
        events[..first_exit].iter().filter_map(|e| e.task).collect();
    assert_eq!(tasks_before.len(), 2, "interleaved");
}

#[test]
fn futures_block_on_with_join_in_one_task() {
    let events = traced("futures");
    check_nesting(&events);
    let tasks: std::collections::BTreeSet<_> = events.iter().filter_map(|e| e.task).collect();
    assert_eq!(
        tasks.len(),
        2,
        "parent and fan_out are each a task of their own"
    );
    let shapes = task_shapes(&events);
    assert_eq!(shapes.get(PARENT_TREE), Some(&1));
}

#[test]
fn join_children_each_nest_under_their_parent() {
    let events = traced("join");
    check_nesting(&events);
    // Both children are open at once under fan_out, each at depth 1 (not 1 and 2).
    let t = tree(&events);
    assert_eq!(
        t,
        "\
task 1
  -> async_cases::fan_out
    -> async_cases::child
    -> async_cases::child
      -> async_cases::leaf
      <- async_cases::leaf
    <- async_cases::child
      -> async_cases::leaf
      <- async_cases::leaf
    <- async_cases::child
  <- async_cases::fan_out
"
    );
    let leaves: Vec<&Event> = events
        .iter()
        .filter(|e| e.name.ends_with("leaf") && e.enter)
        .collect();
    assert!(leaves.iter().all(|e| e.depth == 2));
}

#[test]
fn plain_threads_mix_with_tasks() {
    let events = traced("mixed");
    check_nesting(&events);
    let plain: Vec<&Event> = events
        .iter()
        .filter(|e| e.thread_name.as_deref() == Some("plain"))
        .collect();
    assert!(
        plain.iter().all(|e| e.task.is_none()),
        "a plain thread's frames have no task"
    );
    assert_eq!(plain.len(), 4);
    assert_eq!(task_shapes(&events).get(PARENT_TREE), Some(&1));
    // spawn_blocking runs a closure, not a traced future: its leaf is a plain-thread frame.
    assert!(events.iter().any(|e| e.name.ends_with("leaf")
        && e.task.is_none()
        && e.thread_name.as_deref() != Some("plain")));
}

#[test]
fn select_and_timeout_cancel_with_an_exit_marked_cancelled() {
    let events = traced("cancel");
    check_nesting(&events);
    let exits: Vec<(&str, bool, bool)> = events
        .iter()
        .filter(|e| !e.enter && e.task.is_some())
        .map(|e| (e.name.as_str(), e.cancelled.unwrap(), e.unwinding.unwrap()))
        .collect();
    assert_eq!(
        exits,
        [
            ("async_cases::forever", true, false),
            ("async_cases::slow", true, false)
        ]
    );
    for e in events.iter().filter(|e| !e.enter && e.task.is_some()) {
        assert!(
            e.elapsed_ns.unwrap() >= 4_000_000,
            "ran about 5 ms before cancellation: {e:?}"
        );
        assert!(
            e.busy_ns.unwrap() < e.elapsed_ns.unwrap(),
            "mostly waiting, not polling"
        );
    }
}

#[test]
fn a_panicking_task_exits_unwinding_not_cancelled() {
    let events = traced("panic");
    check_nesting(&events);
    let exit = events.iter().find(|e| !e.enter).unwrap();
    assert_eq!(
        (exit.name.as_str(), exit.unwinding, exit.cancelled),
        ("async_cases::explode", Some(true), Some(false))
    );
}

/// The `stress` case's trace, however it was made: a thousand tasks on several workers, some
/// cancelled part way, in well-nested trees with correct depths; every enter has exactly one
/// exit and no frame is there twice.
fn check_stress(events: &[Event]) {
    check_nesting(events);
    let tasks: std::collections::BTreeSet<_> = events.iter().filter_map(|e| e.task).collect();
    assert_eq!(tasks.len(), 1000);
    let enters = events.iter().filter(|e| e.enter).count();
    assert_eq!(enters * 2, events.len());
    let cancelled = events.iter().filter(|e| e.cancelled == Some(true)).count();
    assert!(cancelled > 0, "some tasks were cancelled part way");
    let threads: std::collections::BTreeSet<u64> = events.iter().map(|e| e.thread).collect();
    assert!(threads.len() >= 2, "{threads:?}");
    // No frame is duplicated: (task, depth, enter ts) is unique.
    let mut seen = std::collections::HashSet::new();
    for e in events.iter().filter(|e| e.enter) {
        assert!(
            seen.insert((e.task, e.depth, e.ts_ns, e.name.clone())),
            "duplicate {e:?}"
        );
    }
}

#[test]
fn stress_a_thousand_tasks_on_four_workers() {
    check_stress(&traced("stress"));
}

/// The same thousand tasks recorded only, by three collectors each writing the records of a
/// share of the workers (a task's exit often read by another than its enter's): the recording
/// reads back whole, every task's tree well nested.
#[test]
fn a_thousand_tasks_recorded_by_three_collectors_read_back_whole() {
    let path = common::out_file("async-stress-lanes.trace");
    let output = std::process::Command::new(CASES)
        .arg("stress")
        .env("TRACE_OUT", "off")
        .env("TRACE_RECORD", &path)
        .env("TRACE_COLLECTORS", "3")
        .output()
        .expect("run async_cases");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    let export = std::process::Command::new(common::rewriter())
        .args(["export", "--format", "jsonl"])
        .arg(&path)
        .output()
        .expect("run trace-rewriter export");
    let _ = std::fs::remove_file(&path);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    check_stress(&common::parse(&String::from_utf8(export.stdout).unwrap()));
}

#[test]
fn the_tasks_demo_prints_the_chain_of_a_task() {
    let (output, events) = run(env!("CARGO_BIN_EXE_tasks"), "tasks", &[]);
    assert!(output.status.success());
    check_nesting(&events);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("task for 2: tasks::handle -> tasks::verify\n"),
        "{stdout}"
    );
}

/// `min=` folds a short call away whole or keeps it whole, for traced futures as for sync
/// calls: every enter that is written has its exit, and nothing shorter than the threshold is
/// left (regression: async enters used to stay while their exits were dropped).
#[test]
fn min_filter_drops_or_keeps_async_frames_whole() {
    let all = traced("stress");
    let kept = traced_with("stress", &[("TRACE_FILTER", "min=1ms")]);
    check_nesting(&kept);
    assert!(
        !kept.is_empty() && kept.len() < all.len(),
        "{} of {}",
        kept.len(),
        all.len()
    );
    for e in kept.iter().filter(|e| !e.enter) {
        assert!(e.elapsed_ns.unwrap() >= 1_000_000, "{e:?}");
    }
}

/// The first traced call of a run is not charged the runtime's start-up (choosing and checking
/// the clock, opening outputs): an empty traced future polled first reports its own time.
#[test]
fn the_first_traced_call_is_not_charged_the_start_up() {
    let events = traced("empty-first");
    let exit = events
        .iter()
        .find(|e| !e.enter && e.name == "async_cases::empty")
        .expect("the empty future's exit");
    // Start-up takes milliseconds on this kind of machine; the empty future takes microseconds.
    assert!(exit.elapsed_ns.unwrap() < 500_000, "{exit:?}");
}

/// Every shape of async method the traced copy rewrites (receivers of every kind, hidden
/// lifetimes, generics, patterns, `impl Trait` arguments, trait impl and default bodies, and
/// the shapes that stay `async`: `-> !`, a `#[cfg]` parameter)
/// computes what it computes untraced, and nests where it is awaited.
#[test]
fn every_async_method_shape_runs_and_nests() {
    let path = common::out_file("async-methods");
    let output = std::process::Command::new(CASES)
        .arg("methods")
        .env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &path)
        .output()
        .expect("run async_cases");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "db 1 3 [1, 2, 3] 3 db:kdb:k 6 Ok(2) 7 [3, 2, 1] 3 3\n"
    );
    let events = common::parse(&std::fs::read_to_string(&path).expect("a trace"));
    let _ = std::fs::remove_file(&path);
    check_nesting(&events);
    let calls: Vec<String> = events
        .iter()
        .filter(|e| e.enter)
        .map(|e| format!("{}{}", "  ".repeat(e.depth as usize), e.name))
        .collect();
    let m = "async_cases::methods";
    let want: Vec<String> = [
        "run",
        "  Store::new",
        "  Store::name",
        "  Store::first",
        "  Store::push",
        "  Store::render",
        "  Store::pinned",
        "  Source::load_twice",
        "    <Store as Source>::load",
        "    <Store as Source>::load",
        "  Store::with",
        "  Store::check",
        "  Store::raw",
        "  Store::into_items",
        "  configured",
        "  Store::new",
        "  Store::boxed",
        "  Store::new",
        "  Store::shared",
    ]
    .iter()
    .map(|line| {
        let name = line.trim_start();
        let indent = &line[..line.len() - name.len()];
        match name.strip_prefix('<') {
            Some(rest) => format!("{indent}<{m}::{rest}"),
            None => format!("{indent}{m}::{name}"),
        }
    })
    .collect();
    assert_eq!(calls, want);
}
