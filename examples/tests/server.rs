//! A tokio TCP server of the canonical shape, driven by a real client over loopback and stopped
//! with Ctrl-C: every request's chain reaches the accept loop (live through `chain()`, the human
//! tree, jsonl parents and chrome flow arrows, and from a recording through `chains` and
//! `graph`), and the server's own graceful shutdown runs traced.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const SERVER: &str = env!("CARGO_BIN_EXE_server");

/// The chain `Db::get` prints for every `GET`: from `main` through the accept loop, across the
/// spawn of the connection's task, down to the lookup.
const GET_CHAIN: &str = "server::main -> server::run -> server::Listener::run => \
server::Handler::run -> server::Command::apply -> server::Db::get";

/// One session with the server: what its client saw, and the process's output.
struct Session {
    replies: Vec<String>,
    output: Output,
}

/// Starts the server with `env`, sends `SET a 1`, `GET a`, `SAVE` on one connection and `GET a`
/// on a second, then Ctrl-C (SIGINT), and waits for it to end.
fn serve(env: &[(&str, &dyn AsRef<std::ffi::OsStr>)]) -> Session {
    let mut cmd = Command::new(SERVER);
    cmd.env("NO_COLOR", "1")
        .env_remove("TRACE_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::process::default_stop_signals(&mut cmd);
    let mut child = cmd.spawn().expect("start the server");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("the server's first line");
    let address = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    let mut replies = Vec::new();
    let mut one = Client::connect(&address);
    for command in ["SET a 1", "GET a", "SAVE"] {
        replies.push(one.ask(command));
    }
    let mut two = Client::connect(&address);
    replies.push(two.ask("GET a"));
    // Both connections stay open: the shutdown broadcast is what ends their tasks.
    stop(&mut child);
    let output = finish(child, first, stdout);
    Session { replies, output }
}

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(address: &str) -> Client {
        let stream = TcpStream::connect(address).expect("connect to the server");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.writer, "{command}").unwrap();
        let mut reply = String::new();
        self.reader.read_line(&mut reply).expect("a reply");
        reply.trim_end().to_string()
    }
}

/// Ctrl-C, as a terminal sends it.
fn stop(child: &mut Child) {
    // SAFETY: `kill` with a live child's pid and a valid signal number has no memory effects.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT sent");
}

/// Waits for the server to end (a watchdog kills it after a minute so a hang fails the test
/// instead of stalling it), with its stdout from the first line on.
fn finish(
    mut child: Child,
    first: String,
    mut stdout: BufReader<std::process::ChildStdout>,
) -> Output {
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_secs(60)).is_err() {
            // SAFETY: as in `stop`.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    });
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    Output {
        status,
        stdout: format!("{first}{rest}").into_bytes(),
        stderr: stderr.into_bytes(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp(tag: &str) -> PathBuf {
    common::out_file(&format!("server-{tag}"))
}

/// The server's replies and its own output (`chain()` from `Db::get`, its shutdown) are the
/// same traced as they would be untraced; Ctrl-C ends it through its graceful shutdown.
#[test]
fn every_request_continues_the_accept_loops_chain() {
    let session = serve(&[("TRACE_OUT", &"off")]);
    assert_eq!(session.replies, ["OK", "1", "SAVED 4", "1"]);
    let stdout = text(&session.output.stdout);
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    let get = format!("chain: {GET_CHAIN}");
    assert_eq!(
        lines,
        [&get, &get, "shutting down", "shut down"],
        "{stdout}"
    );
    assert!(
        session.output.status.success(),
        "{:?}",
        session.output.status
    );
}

/// The human tree: each connection's task says it was spawned from the accept loop, the purge
/// task from `Db::new`, the snapshot's blocking thread from `Command::apply`, and `run` is a
/// call of `main` (awaited in it), not a spawn.
#[test]
fn the_human_tree_says_where_each_task_came_from() {
    let session = serve(&[("TRACE_OUT", &"stderr")]);
    let stderr = text(&session.output.stderr);
    // In whatever order the workers got to them: the purge task and the first connection
    // start at about the same time.
    let mut spawned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("(spawned from"))
        .map(|l| l.split_once("] ").unwrap().1)
        .collect();
    spawned.sort_unstable();
    let from_accept = "-> server::Handler::run  (spawned from server::main -> server::run -> server::Listener::run)";
    let mut want = [
        "-> server::purge_task  (spawned from server::main -> server::run -> server::Db::new)",
        from_accept,
        "-> server::snapshot  (spawned from server::main -> server::run -> server::Listener::run => server::Handler::run -> server::Command::apply)",
        from_accept,
    ];
    want.sort_unstable();
    assert_eq!(spawned, want, "{stderr}");
    let run = stderr
        .lines()
        .find(|l| l.ends_with("-> server::run"))
        .expect("run entered");
    assert_eq!(run, "[01 main]   -> server::run", "a call of main");
}

/// jsonl: following `parent` from `Db::get` up gives the whole chain, spawn included.
#[test]
fn jsonl_parents_lead_from_the_lookup_to_main() {
    let path = temp("jsonl");
    let session = serve(&[("TRACE_FORMAT", &"jsonl"), ("TRACE_OUT", &path)]);
    assert_eq!(session.replies, ["OK", "1", "SAVED 4", "1"]);
    let events = common::parse(&std::fs::read_to_string(&path).unwrap());
    let _ = std::fs::remove_file(&path);
    common::check_nesting(&events);
    let enters: Vec<&common::Event> = events.iter().filter(|e| e.enter).collect();
    let gets: Vec<&&common::Event> = enters
        .iter()
        .filter(|e| e.name == "server::Db::get")
        .collect();
    assert_eq!(gets.len(), 2);
    for get in gets {
        let mut names = Vec::new();
        let mut at: Option<&common::Event> = Some(get);
        while let Some(e) = at {
            names.push(e.name.as_str());
            at = e
                .parent
                .and_then(|p| enters.iter().find(|x| x.id == p).copied());
        }
        names.reverse();
        assert_eq!(
            names.join(" / "),
            GET_CHAIN.replace(" => ", " / ").replace(" -> ", " / ")
        );
    }
    // The two connections are two tasks, each rooted at `Handler::run`.
    let roots: Vec<&&common::Event> = enters
        .iter()
        .filter(|e| e.name == "server::Handler::run")
        .collect();
    assert_eq!(roots.len(), 2);
    assert!(roots.iter().all(|r| r.depth == 0 && r.task.is_some()));
    assert_ne!(roots[0].task, roots[1].task);
}

/// Chrome: a flow arrow from the accept loop's slice to each connection's first slice (made
/// where the connection's block was made), from `Db::new` to the purge task and from the
/// command to its blocking snapshot; every arrow starts inside a slice on its track.
#[test]
fn chrome_draws_an_arrow_from_the_accept_loop_to_each_connection() {
    let path = temp("chrome");
    let session = serve(&[("TRACE_FORMAT", &"chrome"), ("TRACE_OUT", &path)]);
    assert_eq!(session.replies, ["OK", "1", "SAVED 4", "1"]);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("valid JSON");
    let _ = std::fs::remove_file(&path);
    let events = value.as_array().unwrap();
    let slices: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    // The innermost (shortest) slice on the track that holds the instant.
    let slice_at = |tid: &serde_json::Value, ts: f64| {
        slices
            .iter()
            .filter(|s| {
                let start = s["ts"].as_f64().unwrap();
                s["tid"] == *tid
                    && start <= ts + 0.001
                    && ts <= start + s["dur"].as_f64().unwrap() + 0.001
            })
            .min_by(|a, b| {
                a["dur"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["dur"].as_f64().unwrap())
            })
            .map(|s| s["name"].as_str().unwrap())
    };
    let mut arrows = Vec::new();
    for start in events.iter().filter(|e| e["ph"] == "s") {
        let finish = events
            .iter()
            .find(|e| e["ph"] == "f" && e["id"] == start["id"])
            .expect("a finish per start");
        let from = slice_at(&start["tid"], start["ts"].as_f64().unwrap())
            .expect("an arrow starts inside a slice");
        let to = slice_at(&finish["tid"], finish["ts"].as_f64().unwrap())
            .expect("an arrow ends on a slice");
        arrows.push(format!("{from} => {to}"));
    }
    arrows.sort();
    assert_eq!(
        arrows,
        [
            "server::Command::apply => server::snapshot",
            "server::Db::new => server::purge_task",
            "server::Listener::run => server::Handler::run",
            "server::Listener::run => server::Handler::run",
        ]
    );
}

/// The workspace's target directory for this profile (this test runs from its `deps/`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>")
        .to_path_buf()
}

/// The CLI that reads recordings, built once.
fn rewriter() -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let release = target_dir().file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "-p", "trace-rewriter"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        if release {
            cmd.arg("--release");
        }
        assert!(cmd.status().expect("run cargo build").success());
    });
    target_dir().join("trace-rewriter")
}

/// From a recording: `chains` gives the lookup's chain from `main`, `graph` names the accept
/// loop as the connection handler's caller.
#[test]
fn a_recording_answers_the_same_questions() {
    let path = temp("recording");
    let session = serve(&[("TRACE_OUT", &"off"), ("TRACE_RECORD", &path)]);
    assert_eq!(session.replies, ["OK", "1", "SAVED 4", "1"]);
    let view = |verb: &str, name: &str| {
        let out = Command::new(rewriter())
            .arg(verb)
            .arg(&path)
            .arg(name)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let chains = view("chains", "Db::get");
    let graph = view("graph", "Handler::run");
    let _ = std::fs::remove_file(&path);
    // `   2   31.0µs   19.2µs  CHAIN`: the count, then (past the two durations) the chain.
    let rows: Vec<(String, String)> = chains
        .lines()
        .skip(2)
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].to_string(), words[3..].join(" "))
        })
        .collect();
    assert_eq!(rows, [("2".to_string(), GET_CHAIN.to_string())], "{chains}");
    assert!(
        chains.starts_with("chains reaching Db::get: 2 calls by 1 distinct chain\n"),
        "{chains}"
    );
    let head: Vec<String> = graph.lines().take(3).map(durations_masked).collect();
    assert_eq!(
        head,
        [
            "server::Handler::run: 2 calls, total <t>, self <t>",
            "callers:",
            "2 spawns <t> server::Listener::run",
        ],
        "{graph}"
    );
}

/// A line with its durations (`31.0µs`, `2.1ms,`) written `<t>` and its spacing made single.
fn durations_masked(line: &str) -> String {
    line.split_whitespace()
        .map(|w| {
            let digits = w.starts_with(|c: char| c.is_ascii_digit());
            let unit = w.trim_end_matches(',').ends_with('s');
            if digits && unit {
                if w.ends_with(',') { "<t>," } else { "<t>" }.to_string()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
