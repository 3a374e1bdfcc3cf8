//! Runs a demo binary with `TRACE_FORMAT=jsonl`, checks every line against the jsonl contract,
//! and renders the events as a per-thread tree for exact comparison.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

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
    pub unwinding: Option<bool>,
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
            let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            keys.sort_unstable();
            let want: &[&str] = if enter {
                &[
                    "depth",
                    "event",
                    "name",
                    "task",
                    "thread",
                    "thread_name",
                    "ts_ns",
                ]
            } else {
                &[
                    "depth",
                    "elapsed_ns",
                    "event",
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
                unwinding: obj
                    .get("unwinding")
                    .map(|v| v.as_bool().expect("unwinding is a bool")),
            }
        })
        .collect()
}

/// Checks per-thread nesting: every exit closes the innermost open enter, at the same depth,
/// with `elapsed_ns` equal to the difference of the timestamps; nothing is left open.
pub fn check_nesting(events: &[Event]) {
    let mut stacks: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    let mut last_ts: BTreeMap<u64, u64> = BTreeMap::new();
    for e in events {
        let prev = last_ts.insert(e.thread, e.ts_ns).unwrap_or(0);
        assert!(
            e.ts_ns >= prev,
            "timestamps go forward on thread {}: {e:?}",
            e.thread
        );
        let stack = stacks.entry(e.thread).or_default();
        if e.enter {
            assert_eq!(e.depth as usize, stack.len(), "enter depth: {e:?}");
            stack.push(e);
        } else {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("exit without enter: {e:?}"));
            assert_eq!(open.name, e.name, "exit closes the innermost enter");
            assert_eq!(open.depth, e.depth, "enter and exit share a depth");
            assert_eq!(
                e.elapsed_ns,
                Some(e.ts_ns - open.ts_ns),
                "elapsed is exit minus enter"
            );
        }
    }
    for (thread, stack) in stacks {
        assert!(
            stack.is_empty(),
            "thread {thread} left frames open: {stack:?}"
        );
    }
}

/// The trace as text: one block per thread (in order of thread number), one line per event,
/// indented by depth; exits show `unwinding` when they were.
pub fn tree(events: &[Event]) -> String {
    let mut by_thread: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by_thread.entry(e.thread).or_default().push(e);
    }
    let mut out = String::new();
    for (thread, evs) in by_thread {
        let name = evs[0].thread_name.as_deref().unwrap_or("-");
        out.push_str(&format!("thread {thread} {name}\n"));
        for e in evs {
            let indent = "  ".repeat(e.depth as usize + 1);
            let arrow = if e.enter { "->" } else { "<-" };
            let unwinding = if e.unwinding == Some(true) {
                " unwinding"
            } else {
                ""
            };
            out.push_str(&format!("{indent}{arrow} {}{unwinding}\n", e.name));
        }
    }
    out
}
