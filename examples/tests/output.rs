//! The output contract: `TRACE_OUT` destinations, fallbacks, formats, and a program that is never
//! failed by its trace.

mod common;

use std::process::{Command, Stdio};

const CHAINS: &str = env!("CARGO_BIN_EXE_chains");

fn chains(env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(CHAINS);
    cmd.env_remove("TRACE_FORMAT")
        .env_remove("TRACE_OUT")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the chains demo")
}

/// The human lines of one thread, with the elapsed times cut off the exits.
fn human_lines(stderr: &str, prefix: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| match l.find(" <- ") {
            Some(_) => l
                .rsplit_once(' ')
                .expect("an exit line ends with its time")
                .0
                .to_string(),
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn default_is_an_indented_human_tree_on_stderr() {
    let out = chains(&[]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains('\x1b'),
        "no colour when stderr is not a terminal"
    );
    assert_eq!(
        human_lines(&stderr, "[02 worker]"),
        [
            "[02 worker] -> chains::a2  (spawned from chains::main)",
            "[02 worker]   -> chains::b2",
            "[02 worker]     -> chains::c2",
            "[02 worker]       -> chains::d",
            "[02 worker]       <- chains::d",
            "[02 worker]     <- chains::c2",
            "[02 worker]   <- chains::b2",
            "[02 worker] <- chains::a2",
        ]
    );
    assert_eq!(human_lines(&stderr, "[01 main]").len(), 10);
    // Each exit carries a readable elapsed time.
    for line in stderr.lines().filter(|l| l.contains(" <- ")) {
        let time = line.rsplit(' ').next().unwrap();
        let digits = time.trim_end_matches(|c: char| c.is_alphabetic() || c == 'µ');
        assert!(digits.parse::<f64>().is_ok(), "elapsed time in {line:?}");
    }
}

#[test]
fn stdout_target_keeps_lines_whole() {
    let out = chains(&[("TRACE_OUT", "stdout"), ("TRACE_FORMAT", "jsonl")]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (trace, program): (Vec<&str>, Vec<&str>) = stdout.lines().partition(|l| l.starts_with('{'));
    assert_eq!(program.len(), 2, "the demo's own two lines: {program:?}");
    let events = common::parse(&trace.join("\n"));
    assert_eq!(events.len(), 18);
    common::check_nesting(&events);
}

#[test]
fn off_is_silent_but_keeps_chains() {
    let out = chains(&[("TRACE_OUT", "off")]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(
        "d called from c2: chains::main => chains::a2 -> chains::b2 -> chains::c2 -> chains::d"
    ));
}

#[test]
fn unusable_path_warns_once_and_writes_no_trace_but_reports_on_stderr() {
    let out = chains(&[
        ("TRACE_OUT", "/nonexistent-dir/trace.txt"),
        ("TRACE_SUMMARY", "1"),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warnings,
        ["trace-runtime: warning: cannot write TRACE_OUT=/nonexistent-dir/trace.txt: No such file \
          or directory (os error 2); the trace is not written (as with TRACE_OUT=off), reports of \
          frames never exited and the summary come on stderr"],
        "{stderr}"
    );
    // No event line on stderr (a server's log is not flooded), the summary still there.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with('[')).count(),
        0,
        "{stderr}"
    );
    assert!(
        stderr.contains("\ntrace summary: 8 fns, 9 calls\n"),
        "the summary: {stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(
            "d called from c1: chains::main -> chains::a1 -> chains::b1 -> chains::c1 -> chains::d"
        ),
        "chain() still works: {stdout}"
    );
}

#[test]
fn a_full_disk_never_fails_the_program() {
    let out = chains(&[("TRACE_OUT", "/dev/full")]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    // `/dev/full` takes nothing and cannot be cut back, as a pipe: the warning says so.
    assert_eq!(
        warnings.iter().map(|w| mask_numbers(w)).collect::<Vec<_>>(),
        ["trace-runtime: warning: writing the trace to /dev/full failed: No space left on device \
          (os error N); N lines (N bytes) kept, N lines (N bytes) lost so far, and the rest of \
          the trace is dropped; /dev/full is not a regular file, so it cannot be cut back to a \
          whole line: it may end in part of one"],
        "one warning, not one per line: {stderr}"
    );
    assert!(
        warnings[0].contains("0 lines (0 bytes) kept"),
        "{}",
        warnings[0]
    );
}

/// Every run of digits as `N`.
fn mask_numbers(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('N') {
            out.push('N');
        }
    }
    out
}

/// A 64 KiB tmpfs, unmounted when dropped: a disk that fills up during a run.
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    /// Mounts one; `None`, saying why, where mounting is not permitted (not root).
    fn mount(tag: &str) -> Option<SmallDisk> {
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("small-disk-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(&dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallDisk { dir }),
            failed => {
                let why = match failed {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                eprintln!(
                    "skipped: cannot mount a 64 KiB tmpfs for a full disk (needs root): {why}"
                );
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Runs the requests demo (22 MB of jsonl) into a file on a disk of 64 KiB.
fn requests_on_a_full_disk(disk: &SmallDisk, format: &str) -> (String, String, String) {
    let path = disk.dir.join(format!("trace.{format}"));
    let out = Command::new(env!("CARGO_BIN_EXE_requests"))
        .env("TRACE_FORMAT", format)
        .env("TRACE_OUT", &path)
        .output()
        .expect("run the requests demo");
    assert!(out.status.success(), "{out:?}");
    let trace = std::fs::read_to_string(&path).unwrap();
    let stderr = String::from_utf8(out.stderr)
        .unwrap()
        .replace(&path.display().to_string(), "PATH");
    (trace, stderr, path.display().to_string())
}

/// The numbers in `N lines (N bytes) kept, N lines (N bytes) lost`.
fn kept_and_lost(line: &str) -> [u64; 4] {
    let at = line.find(" kept, ").expect("kept");
    let start = line[..at].rfind(": ").expect("a colon before the figures") + 2;
    let numbers: Vec<u64> = line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(4)
        .map(|s| s.parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

#[test]
fn a_full_disk_leaves_whole_jsonl_lines_and_says_what_was_lost() {
    let Some(disk) = SmallDisk::mount("jsonl") else {
        return;
    };
    let (trace, stderr, _) = requests_on_a_full_disk(&disk, "jsonl");
    assert!(
        trace.ends_with('\n'),
        "ends at a whole line: {:?}",
        &trace[trace.len() - 80..]
    );
    let events = common::parse(&trace);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warnings.iter().map(|w| mask_numbers(w)).collect::<Vec<_>>(),
        ["trace-runtime: warning: writing the trace to PATH failed: No space left on device (os \
          error N); the file is cut back to its last whole line: N lines (N bytes) kept, N lines \
          (N bytes) lost so far, and the rest of the trace is dropped"],
        "{stderr}"
    );
    let [lines, bytes, lost_lines, lost_bytes] = kept_and_lost(warnings[0]);
    assert_eq!((lines, bytes), (events.len() as u64, trace.len() as u64));
    assert!(lost_lines > 0 && lost_bytes > 0, "{stderr}");
    // At the end, the loss in all: with what was kept, every event of the run.
    let total = stderr
        .lines()
        .find(|l| l.starts_with("trace-runtime: the trace written to PATH is incomplete: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let [end_lines, end_bytes, all_lost, _] = kept_and_lost(total);
    assert_eq!((end_lines, end_bytes), (lines, bytes));
    let note = stderr
        .lines()
        .find_map(|l| l.strip_prefix("trace-runtime: a large trace: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    let run_events: u64 = note.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(lines + all_lost, run_events, "{stderr}");
}

#[test]
fn a_full_disk_leaves_a_chrome_array_closed() {
    let Some(disk) = SmallDisk::mount("chrome") else {
        return;
    };
    let (trace, stderr, _) = requests_on_a_full_disk(&disk, "chrome");
    let array: Vec<serde_json::Value> = serde_json::from_str(&trace)
        .unwrap_or_else(|e| panic!("complete JSON ({e}): ...{}", &trace[trace.len() - 300..]));
    assert_eq!(
        array.last().unwrap(),
        &serde_json::json!({"name":"process_name","ph":"M","pid":1,"args":{"name":"traced program"}})
    );
    assert!(array[..array.len() - 1]
        .iter()
        .all(|e| e["ph"] == "X" || e["cat"] == "spawn"));
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warnings.iter().map(|w| mask_numbers(w)).collect::<Vec<_>>(),
        ["trace-runtime: warning: writing the trace to PATH failed: No space left on device (os \
          error N); the file is cut back to its last whole event: N lines (N bytes) kept, N lines \
          (N bytes) lost so far, and the rest of the trace is dropped; the JSON array is closed \
          (without its tracks' names)"],
        "{stderr}"
    );
    // Kept: the opening and the events, to which the closing's two lines were added.
    let [lines, bytes, _, _] = kept_and_lost(warnings[0]);
    assert_eq!(lines as usize, array.len());
    assert_eq!(bytes as usize, trace.len() - chrome_closing_len(&trace));
}

/// The length of the closing lines the sink adds: the last two.
fn chrome_closing_len(trace: &str) -> usize {
    let body = trace.trim_end_matches('\n');
    let before_bracket = body.rfind('\n').unwrap();
    let before_name = body[..before_bracket].rfind('\n').unwrap();
    trace.len() - before_name - 1
}

#[test]
fn a_closed_pipe_never_fails_the_program() {
    let mut child = Command::new(CHAINS)
        .env_remove("TRACE_OUT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

#[test]
fn unknown_format_warns_and_uses_human() {
    let out = chains(&[("TRACE_FORMAT", "yaml")]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("TRACE_FORMAT=\"yaml\" is not a known format"),
        "{stderr}"
    );
    assert!(stderr.contains("[01 main] -> chains::main"));
}

/// OTLP is exported from a recording, never written live: the variable says how to get it.
#[test]
fn otlp_format_live_says_to_export_a_recording_and_uses_human() {
    let out = chains(&[("TRACE_FORMAT", "otlp")]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "TRACE_FORMAT=\"otlp\" is written from a recording: set TRACE_RECORD=FILE, then run \
             `trace-rewriter export FILE --format otlp`; using human"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("[01 main] -> chains::main"));
}

/// Runs the demo on a pseudo-terminal (util-linux `script`), where colour is on unless
/// `NO_COLOR` says otherwise. Skips, saying so, where `script` is missing.
fn on_a_terminal(no_color: Option<&str>) -> Option<String> {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", CHAINS, "/dev/null"])
        .env_remove("TRACE_OUT")
        .env_remove("TRACE_FORMAT")
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    match cmd.output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) => {
            eprintln!("skipped: cannot run `script` for a pseudo-terminal: {e}");
            None
        }
    }
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let Some(coloured) = on_a_terminal(None) else {
        return;
    };
    assert!(
        coloured.contains("\x1b[33m[01 main]\x1b[0m -> chains::main"),
        "{coloured:?}"
    );
    let Some(plain) = on_a_terminal(Some("1")) else {
        return;
    };
    assert!(plain.contains("[01 main] -> chains::main"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn a_tiny_buffer_spilling_writes_the_same_trace() {
    let print = common::run(CHAINS, "default-buffer", &[]).1;
    // 16 records per thread: the main thread's 20 events spill mid-run; none is lost.
    let (out, record) = common::run(CHAINS, "tiny-buffer", &[("TRACE_BUFFER", "16")]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::check_nesting(&record);
    assert_eq!(common::tree(&record), common::tree(&print));
}

#[test]
fn bad_mode_buffer_and_collectors_values_warn_and_fall_back() {
    let out = chains(&[
        ("TRACE_MODE", "fast"),
        ("TRACE_BUFFER", "lots"),
        ("TRACE_COLLECTORS", "0"),
        ("TRACE_OUT", "off"),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        stderr.contains(&format!(
            "TRACE_COLLECTORS=\"0\" is not a number of collector threads (1 to 64); using {}",
            (cores / 4).max(1)
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "TRACE_MODE=\"fast\" is ignored: there is one mode, the trace written as the \
             program runs (TRACE_OUT=off writes nothing live)"
        ),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("TRACE_BUFFER=\"lots\" is not a number of records (16 or more); using 4096"),
        "{stderr}"
    );
}
