//! `cargo trace` as cargo runs it (`cargo-trace trace <verb>`): help, and a real crate made in
//! a temporary directory run traced, recorded and read back.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-trace");

/// Runs `cargo trace ARGS` from `cwd` as cargo does (the first argument is `trace`), with no
/// colour and none of the caller's `TRACE_*` settings.
fn cargo_trace(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("trace")
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TRACE_") {
            cmd.env_remove(name);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run cargo-trace")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The live trace's lines (`[01 main] ...`), wherever they are.
fn trace_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            l.strip_prefix('[')
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect()
}

#[test]
fn help_groups_the_verbs_and_each_verb_shows_examples() {
    let here = Path::new(".");
    let out = cargo_trace(here, &["--help"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let help = stdout(&out);
    assert!(help.contains("Usage: cargo trace <COMMAND>"), "{help}");
    let at = |text: &str| {
        help.find(text)
            .unwrap_or_else(|| panic!("{text:?} in {help}"))
    };
    // The groups in order, each verb after its group's heading and before the next one's.
    let change = at("\nChanging source:\n");
    let running = at("\nRunning:\n");
    let reading = at("\nReading recordings:\n");
    let options = at("\nOptions:\n");
    assert!(change < running && running < reading && reading < options);
    for (verb, after, before) in [
        ("instrument", change, running),
        ("remove", change, running),
        ("preview", change, running),
        ("run", running, reading),
        ("replay", reading, options),
        ("report", reading, options),
        ("chains", reading, options),
        ("graph", reading, options),
        ("open", reading, options),
        ("export", reading, options),
        ("diff", reading, options),
    ] {
        let line = at(&format!("\n  {verb} "));
        assert!(after < line && line < before, "{verb} in its group: {help}");
        let out = cargo_trace(here, &[verb, "--help"], &[]);
        assert!(out.status.success(), "{verb}: {}", stderr(&out));
        let verb_help = stdout(&out);
        assert!(
            verb_help.contains(&format!("Usage: cargo trace {verb} ")),
            "{verb_help}"
        );
        assert!(
            verb_help.contains(&format!("\nExamples:\n  cargo trace {verb}")),
            "{verb_help}"
        );
    }
    let out = cargo_trace(here, &["--version"], &[]);
    assert_eq!(
        stdout(&out),
        format!("cargo-trace {}\n", env!("CARGO_PKG_VERSION"))
    );
    // Run directly, without cargo's `trace` first, it is the same program.
    let direct = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(direct.stdout, out.stdout);
}

/// A crate with a binary, a library with a unit test and an integration test.
fn demo_crate(dir: &Path) {
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n",
    );
    write(
        "src/lib.rs",
        "pub fn parse(s: &str) -> u32 {\n    digits(s) * 10\n}\n\nfn digits(s: &str) -> u32 {\n    s.len() as u32\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn parses() {\n        assert_eq!(super::parse(\"abc\"), 30);\n    }\n}\n",
    );
    write(
        "src/main.rs",
        "fn main() {\n    println!(\"answer {}\", demo::parse(\"hello\"));\n}\n",
    );
    write(
        "tests/smoke.rs",
        "#[test]\nfn smoke() {\n    assert_eq!(demo::parse(\"ab\"), 20);\n}\n",
    );
}

/// The lines `run` says it recorded, as relative paths.
fn recorded(err: &str) -> Vec<String> {
    err.lines()
        .filter_map(|l| l.strip_prefix("run: recorded "))
        .map(|l| l.split(" (").next().unwrap().to_string())
        .collect()
}

#[test]
fn run_records_each_process_apart_from_the_output_and_readers_take_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    demo_crate(root);

    // `cargo trace run`: `cargo run` traced; the program's output alone on stdout, no trace
    // line anywhere, one recording, said where.
    let out = cargo_trace(root, &["run", "--", "run", "--quiet"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stdout(&out), "answer 50\n");
    assert_eq!(trace_lines(&err), Vec::<&str>::new(), "{err}");
    let first = recorded(&err);
    assert_eq!(first.len(), 1, "{err}");
    assert!(
        first[0].starts_with("target/trace/") && first[0].ends_with(".trace"),
        "{err}"
    );
    assert!(root.join(&first[0]).is_file());
    assert!(
        err.contains("run: read it with `cargo trace report`"),
        "{err}"
    );

    // `report` with no FILE reads that recording, and says so.
    let out = cargo_trace(root, &["report"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("note: reading {}, the newest recording\n", first[0])
    );
    let report = stdout(&out);
    for name in ["demo::main", "demo::parse", "demo::digits"] {
        assert!(report.contains(name), "{name} in {report}");
    }
    // The same as naming the file.
    let named = cargo_trace(root, &["report", &first[0]], &[]);
    assert_eq!(stdout(&named).lines().count(), report.lines().count());

    // `-- test`: the test log as cargo prints it, one recording per traced test process (the
    // library's unit tests, the integration test; the binary's harness runs no traced fn).
    let out = cargo_trace(root, &["run", "--", "test", "--quiet"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let log = stdout(&out);
    assert_eq!(trace_lines(&log), Vec::<&str>::new(), "{log}");
    assert_eq!(trace_lines(&err), Vec::<&str>::new(), "{err}");
    assert_eq!(log.matches("test result: ok.").count(), 4, "{log}");
    let tests = recorded(&err);
    assert_eq!(tests.len(), 2, "{err}");
    assert!(!tests.contains(&first[0]), "only this run's: {err}");

    // The newest now is one of those; `chains` and `open` read it too.
    let out = cargo_trace(root, &["chains", "digits"], &[]);
    let note = stderr(&out);
    let newest = note
        .strip_prefix("note: reading ")
        .and_then(|n| n.strip_suffix(", the newest recording\n"))
        .unwrap_or_else(|| panic!("{note}"));
    assert!(tests.iter().any(|t| t == newest), "{newest} in {tests:?}");
    let chains = stdout(&out);
    assert!(chains.contains("demo::parse -> demo::digits"), "{chains}");
    let out = cargo_trace(root, &["open"], &[]);
    assert_eq!(stdout(&out), "nothing was open when the recording ended\n");

    // `diff FILE` compares FILE with the newest.
    let out = cargo_trace(root, &["diff", &first[0]], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("demo::main"), "{}", stdout(&out));

    // `--print` asks for the live trace: on stderr, beside the program's output.
    let out = cargo_trace(root, &["run", "--print", "--", "run", "--quiet"], &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(stdout(&out), "answer 50\n");
    let lines = trace_lines(&err);
    assert!(
        lines.iter().any(|l| l.ends_with("-> demo::digits")),
        "{err}"
    );
    assert_eq!(recorded(&err).len(), 1, "recorded as well: {err}");
}

#[test]
fn readers_without_a_file_say_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    // Not a crate: no target directory to look in.
    let out = cargo_trace(dir.path(), &["report"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: .: not in a crate, so no target directory: no Cargo.toml here or in a folder \
         above\n  help: run this from the crate `cargo trace run` recorded, or give the \
         recording's FILE\n"
    );
    // A crate that has recorded nothing.
    demo_crate(dir.path());
    let out = cargo_trace(dir.path(), &["chains", "digits"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("target/trace: no recording here"), "{err}");
    assert!(err.contains("record one with `cargo trace run`"), "{err}");
}

/// `run` builds the runtime optimised in the dev profile (its collector and the formatting of
/// values are ten times faster so), and the user's own crate as the profile says.
#[test]
fn run_builds_the_runtime_optimised_and_the_crate_as_its_profile_says() {
    let dir = tempfile::tempdir().unwrap();
    demo_crate(dir.path());
    let out = cargo_trace(dir.path(), &["run", "--", "build", "-v"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let rustc = |krate: &str| {
        err.lines()
            .find(|l| l.contains(&format!("--crate-name {krate} ")))
            .unwrap_or_else(|| panic!("{krate} built: {err}"))
            .to_string()
    };
    assert!(rustc("trace_runtime").contains("opt-level=3"), "{err}");
    assert!(!rustc("demo").contains("opt-level"), "{err}");
}
