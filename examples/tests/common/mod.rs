//! Runs a demo binary with `TRACE_FORMAT=jsonl`, checks every line against the jsonl contract,
//! and renders the events as a per-thread tree for exact comparison.

#![allow(dead_code)]

pub mod process;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `cmd` to its end, fails the test with its stderr unless it succeeded, and gives its
/// stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run the command");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One event of the jsonl contract.
#[derive(Debug, Clone)]
pub struct Event {
    pub thread: u64,
    pub thread_name: Option<String>,
    pub task: Option<u64>,
    pub depth: u64,
    pub enter: bool,
    pub name: String,
    pub ts_ns: u64,
    pub elapsed_ns: Option<u64>,
    pub busy_ns: Option<u64>,
    pub unwinding: Option<bool>,
    pub cancelled: Option<bool>,
    /// The frame's id, unique in the process.
    pub id: u64,
    /// Enters: the calling frame (for a spawned root, the frame that created it).
    pub parent: Option<u64>,
    /// Enters: the recorded arguments, as `name=text` joined by `, `.
    pub args: Option<String>,
    /// Exits: the recorded result, and whether it is an error.
    pub ret: Option<(String, bool)>,
}

impl Event {
    /// The tree an event belongs to: its task's, or for plain threads its thread's.
    pub fn tree_key(&self) -> (u8, u64) {
        match self.task {
            Some(task) => (1, task),
            None => (0, self.thread),
        }
    }
}

/// A file under the target directory, unique per test.
pub fn out_file(tag: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("{tag}-{}.jsonl", std::process::id()))
}

/// Runs `bin` with the given extra environment; returns its output and the parsed trace.
pub fn run(bin: &str, tag: &str, env: &[(&str, &str)]) -> (Output, Vec<Event>) {
    let path = out_file(tag);
    let mut cmd = Command::new(bin);
    cmd.env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &path)
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("run the demo");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no trace at {} ({e}): the demos trace only when built with their `trace` feature; \
             run `cargo test --workspace --all-features`",
            path.display()
        )
    });
    let _ = std::fs::remove_file(&path);
    (output, parse(&text))
}

/// Parses jsonl, asserting that each line has exactly the contract's keys and types.
pub fn parse(text: &str) -> Vec<Event> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
            let obj = v.as_object().expect("each line is an object");
            let enter = match obj["event"].as_str() {
                Some("enter") => true,
                Some("exit") => false,
                other => panic!("line {}: bad event {other:?}", i + 1),
            };
            // Values (`#[trace(args, ret, err)]`) are keys only where recorded: an enter's
            // `args` (an object of strings), an exit's `ret` (a string) with `error` (a bool).
            if let Some(args) = obj.get("args") {
                assert!(enter, "line {}: args on an exit", i + 1);
                let args = args.as_object().expect("args is an object");
                assert!(args.values().all(Value::is_string), "line {}: args", i + 1);
            }
            assert_eq!(
                obj.get("ret").map(|v| v.is_string()),
                obj.get("error").map(|v| v.is_boolean()),
                "line {}: ret and error come together, a string and a bool",
                i + 1
            );
            let mut keys: Vec<&str> = obj
                .keys()
                .map(String::as_str)
                .filter(|k| !["args", "ret", "error"].contains(k))
                .collect();
            keys.sort_unstable();
            let want: &[&str] = if enter {
                &[
                    "depth",
                    "event",
                    "id",
                    "name",
                    "parent",
                    "task",
                    "thread",
                    "thread_name",
                    "ts_ns",
                ]
            } else {
                &[
                    "busy_ns",
                    "cancelled",
                    "depth",
                    "elapsed_ns",
                    "event",
                    "id",
                    "name",
                    "task",
                    "thread",
                    "thread_name",
                    "ts_ns",
                    "unwinding",
                ]
            };
            assert_eq!(keys, want, "line {}: keys", i + 1);
            Event {
                thread: obj["thread"].as_u64().expect("thread is an int"),
                thread_name: match &obj["thread_name"] {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => panic!("thread_name is {other}"),
                },
                task: match &obj["task"] {
                    Value::Null => None,
                    other => Some(other.as_u64().expect("task is an int or null")),
                },
                depth: obj["depth"].as_u64().expect("depth is an int"),
                enter,
                name: obj["name"].as_str().expect("name is a string").to_string(),
                ts_ns: obj["ts_ns"].as_u64().expect("ts_ns is an int"),
                elapsed_ns: obj
                    .get("elapsed_ns")
                    .map(|v| v.as_u64().expect("elapsed_ns is an int")),
                busy_ns: obj
                    .get("busy_ns")
                    .map(|v| v.as_u64().expect("busy_ns is an int")),
                unwinding: obj
                    .get("unwinding")
                    .map(|v| v.as_bool().expect("unwinding is a bool")),
                cancelled: obj
                    .get("cancelled")
                    .map(|v| v.as_bool().expect("cancelled is a bool")),
                id: obj["id"].as_u64().expect("id is an int"),
                parent: obj.get("parent").and_then(Value::as_u64),
                args: obj.get("args").and_then(Value::as_object).map(|args| {
                    args.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(", ")
                }),
                ret: obj.get("ret").and_then(Value::as_str).map(|r| {
                    let error = obj.get("error").and_then(Value::as_bool);
                    (r.to_string(), error.unwrap_or_default())
                }),
            }
        })
        .collect()
}

/// The events grouped into trees (per task, and per thread for plain threads), each in time
/// order: a task's events are written by whichever threads polled it, so file order is not
/// time order across threads.
pub fn trees(events: &[Event]) -> BTreeMap<(u8, u64), Vec<&Event>> {
    let mut out: BTreeMap<(u8, u64), Vec<&Event>> = BTreeMap::new();
    for e in events {
        out.entry(e.tree_key()).or_default().push(e);
    }
    for evs in out.values_mut() {
        evs.sort_by_key(|e| e.ts_ns);
    }
    out
}

/// Checks nesting in every tree. On a plain thread frames nest strictly: every exit closes the
/// innermost open enter. In a task, children of one poll may be open at once (`join!`), so an
/// exit closes the open frame it names (same name and depth, entered at exit `ts_ns` minus
/// `elapsed_ns`), an enter at depth d needs an open frame at depth d - 1, and a frame that is
/// the only one open at its depth cannot exit before its children. `busy_ns` is at most
/// `elapsed_ns`; nothing is left open.
pub fn check_nesting(events: &[Event]) {
    for (key, evs) in trees(events) {
        let in_task = key.0 == 1;
        let mut open: Vec<&Event> = Vec::new();
        for e in evs {
            if e.enter {
                if in_task {
                    assert!(
                        e.depth == 0 && open.is_empty()
                            || open.iter().any(|o| o.depth + 1 == e.depth),
                        "enter without a parent in {key:?}: {e:?}"
                    );
                } else {
                    assert_eq!(
                        e.depth as usize,
                        open.len(),
                        "enter depth in {key:?}: {e:?}"
                    );
                }
                open.push(e);
            } else {
                let entered = e.ts_ns - e.elapsed_ns.expect("an exit has elapsed_ns");
                let at = if in_task {
                    open.iter()
                        .rposition(|o| o.name == e.name && o.depth == e.depth && o.ts_ns == entered)
                } else {
                    open.len().checked_sub(1)
                };
                let at = at.unwrap_or_else(|| panic!("exit without its enter in {key:?}: {e:?}"));
                let frame = open.remove(at);
                assert_eq!(frame.name, e.name, "exit closes the innermost enter");
                assert_eq!(frame.depth, e.depth, "enter and exit share a depth");
                assert_eq!(frame.ts_ns, entered, "elapsed is exit minus enter");
                assert!(e.busy_ns <= e.elapsed_ns, "busy within elapsed: {e:?}");
                if !open.iter().any(|o| o.depth == e.depth) {
                    assert!(
                        open.iter().all(|o| o.depth < e.depth),
                        "{key:?}: {e:?} exits before its children {open:?}"
                    );
                }
            }
        }
        assert!(open.is_empty(), "{key:?} left frames open: {open:?}");
    }
}

/// The trace as text: one block per plain thread (in order of thread number), then one per task
/// (in order of task number), one line per event, indented by depth; exits show `unwinding` and
/// `cancelled` when they were.
pub fn tree(events: &[Event]) -> String {
    let mut out = String::new();
    for ((kind, id), evs) in trees(events) {
        if kind == 0 {
            let name = evs[0].thread_name.as_deref().unwrap_or("-");
            out.push_str(&format!("thread {id} {name}\n"));
        } else {
            out.push_str(&format!("task {id}\n"));
        }
        for e in evs {
            let indent = "  ".repeat(e.depth as usize + 1);
            let arrow = if e.enter { "->" } else { "<-" };
            let unwinding = if e.unwinding == Some(true) {
                " unwinding"
            } else {
                ""
            };
            let cancelled = if e.cancelled == Some(true) {
                " cancelled"
            } else {
                ""
            };
            out.push_str(&format!(
                "{indent}{arrow} {}{unwinding}{cancelled}\n",
                e.name
            ));
        }
    }
    out
}

/// A human trace that ends in the open-frames report, split there: the event lines before
/// it, sorted (threads interleave in any order), and the report with its durations masked.
pub fn events_and_report(text: &str) -> (Vec<String>, String) {
    let at = text
        .find("open at exit")
        .unwrap_or_else(|| panic!("no report in {text}"));
    let (events, report) = text.split_at(at);
    let mut lines: Vec<String> = events.lines().map(String::from).collect();
    lines.sort_unstable();
    (lines, mask(report, "(open "))
}

/// Durations vary between runs: `(open 1.2s)` reads `(open _)` for `opener` `"(open "`.
pub fn mask(text: &str, opener: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split(opener).enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            out.push_str(opener);
            out.push('_');
            out.push_str(&part[part.find(')').unwrap_or(0)..]);
        }
    }
    out
}

/// Whether a word is a duration as the runtime writes one: `850ns`, `12.3µs`, `4.5ms`, `2.01s`.
pub fn is_duration(w: &str) -> bool {
    ["ns", "µs", "ms", "s"].iter().any(|u| {
        w.strip_suffix(u)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })
}

/// A table's text with its durations (`850ns`, `12.3µs`, `4.5ms`, `2.01s`) read `_` and runs
/// of spaces made one: columns widen with their durations.
pub fn columns(text: &str) -> String {
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .map(|w| if is_duration(w) { "_" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|l| l + "\n")
        .collect()
}

/// The CLI that reads recordings, built once.
pub fn rewriter() -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let target = std::env::current_exe()
        .expect("the test's path")
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf();
    BUILT.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "trace-rewriter"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        if target.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        assert!(cmd.status().expect("run cargo build").success());
    });
    target.join("trace-rewriter")
}
