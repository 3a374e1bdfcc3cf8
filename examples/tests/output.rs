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
fn unusable_path_warns_once_and_falls_back_to_stderr() {
    let out = chains(&[("TRACE_OUT", "/nonexistent-dir/trace.txt")]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("cannot write TRACE_OUT=/nonexistent-dir/trace.txt"));
    assert!(warnings[0].contains("writing the trace to stderr instead"));
    assert_eq!(stderr.lines().filter(|l| l.contains(" -> ")).count(), 9);
}

#[test]
fn a_full_disk_never_fails_the_program() {
    let out = chains(&[("TRACE_OUT", "/dev/full")]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("trace output failed"), "{stderr}");
    assert_eq!(
        stderr.matches("warning").count(),
        1,
        "one warning, not one per line: {stderr}"
    );
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
fn record_mode_writes_the_same_trace_with_a_tiny_buffer_spilling() {
    let print = common::run(CHAINS, "print-mode", &[]).1;
    // 16 records per thread: the main thread's 20 events spill mid-run; none is lost.
    let (out, record) = common::run(
        CHAINS,
        "record-mode",
        &[("TRACE_MODE", "record"), ("TRACE_BUFFER", "16")],
    );
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
fn bad_mode_and_buffer_values_warn_and_fall_back() {
    let out = chains(&[
        ("TRACE_MODE", "fast"),
        ("TRACE_BUFFER", "lots"),
        ("TRACE_OUT", "off"),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("TRACE_MODE=\"fast\" is not a known mode (print, record); using print"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("TRACE_BUFFER=\"lots\" is not a number of records (16 or more); using 4096"),
        "{stderr}"
    );
}
