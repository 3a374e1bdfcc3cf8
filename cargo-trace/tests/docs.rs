//! The docs cannot drift: every command in a fenced `sh` block of `README.md` and `docs/*.md`
//! is run, page by page in order, in a scratch directory, and a `text` block marked
//! `<!-- docs-test: output -->` is held to the output of the command before it. A block marked
//! `<!-- docs-test: skip: REASON -->` is not run, and says why; one marked
//! `<!-- docs-test: status N -->` must exit with status N. The `TRACE_*` variables the runtime
//! reads are exactly those `docs/environment.md` lists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `cargo trace` runs: the one place that maps the docs' `cargo trace <verb>` to a binary.
const CARGO_TRACE: &str = env!("CARGO_BIN_EXE_cargo-trace");

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds the crate")
        .to_path_buf()
}

/// `README.md` and every `docs/*.md`, by path relative to the workspace.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(workspace().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| Path::new("docs").join(p.file_name().expect("a file name")))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// What a marker comment before a block asks.
#[derive(Clone, Debug, PartialEq)]
enum Mark {
    None,
    Skip(String),
    Status(i32),
    Output,
}

/// One fenced block of a page: its language, its lines, the marker before it and its line.
#[derive(Debug)]
struct Block {
    lang: String,
    body: Vec<String>,
    mark: Mark,
    line: usize,
}

/// Parses a marker comment `<!-- docs-test: ... -->`, or fails on one it does not know.
fn mark(line: &str, page: &Path, number: usize) -> Option<Mark> {
    let inner = line
        .trim()
        .strip_prefix("<!-- docs-test:")?
        .strip_suffix("-->")?
        .trim();
    let mark =
        if let Some(reason) = inner.strip_prefix("skip:") {
            assert!(
                !reason.trim().is_empty(),
                "{}:{number}: a skip says why",
                page.display()
            );
            Mark::Skip(reason.trim().to_string())
        } else if let Some(status) = inner.strip_prefix("status ") {
            Mark::Status(status.trim().parse().unwrap_or_else(|_| {
                panic!("{}:{number}: `status N` takes a number", page.display())
            }))
        } else if inner == "output" {
            Mark::Output
        } else {
            panic!(
                "{}:{number}: unknown docs-test marker {inner:?}",
                page.display()
            );
        };
    Some(mark)
}

/// Every fenced block of a page, with the marker on the line before it (blank lines between
/// allowed).
fn blocks(page: &Path, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut pending = Mark::None;
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if let Some(m) = mark(line, page, i + 1) {
            pending = m;
            continue;
        }
        let Some(lang) = line.trim_start().strip_prefix("```") else {
            if !line.trim().is_empty() {
                pending = Mark::None;
            }
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let mut body = Vec::new();
        for (_, inner) in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                break;
            }
            body.push(
                inner
                    .get(indent..)
                    .unwrap_or(inner.trim_start())
                    .to_string(),
            );
        }
        blocks.push(Block {
            lang: lang.trim().to_string(),
            body,
            mark: std::mem::replace(&mut pending, Mark::None),
            line: i + 1,
        });
    }
    blocks
}

/// The commands of an `sh` block: one per line, `\` continuing a line, comments dropped.
fn commands(block: &Block) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in &block.body {
        let line = without_comment(line);
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            continue;
        }
        current.push_str(line);
        if !current.trim().is_empty() {
            commands.push(current.trim().to_string());
        }
        current.clear();
    }
    commands
}

/// A line without its `# comment` (a `#` at the start of a word, outside quotes).
fn without_comment(line: &str) -> &str {
    let (mut single, mut double) = (false, false);
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && previous.is_whitespace() => return line[..i].trim_end(),
            _ => {}
        }
        previous = c;
    }
    line
}

/// A directory whose `cargo` runs `cargo trace` as the CLI under test, and any other cargo
/// command on this workspace when it is run outside a crate (so that files a command writes
/// land in the scratch directory, not in the checkout), with crates made by the docs built in a
/// target directory of their own that outlives the run.
fn shim(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("the shim's directory");
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = trace ]; then shift; exec '{cli}' "$@"; fi
case "$1" in
  build|run|test|bench|check|doc)
    case " $* " in *" --manifest-path"*) ;; *)
      if [ ! -f Cargo.toml ]; then sub=$1; shift; exec '{cargo}' "$sub" --manifest-path '{ws}/Cargo.toml' "$@"; fi ;;
    esac ;;
esac
export CARGO_TARGET_DIR="${{CARGO_TARGET_DIR:-{crates}}}"
exec '{cargo}' "$@"
"#,
        cli = CARGO_TRACE,
        cargo = env!("CARGO"),
        ws = workspace().display(),
        crates = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("docs-crates")
            .display(),
    );
    let path = bin.join("cargo");
    std::fs::write(&path, script).expect("write the shim");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// A command's exit status (128 + N for signal N) and its stdout and stderr, interleaved as
/// written.
struct Ran {
    status: i32,
    output: String,
}

fn run(command: &str, dir: &Path, bin: &Path) -> Ran {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("exec 2>&1; {command}"))
        .current_dir(dir)
        .env("PATH", path)
        // As cargo tells a subcommand it runs: `cargo trace run` runs this cargo.
        .env("CARGO", bin.join("cargo"))
        .env("NO_COLOR", "1");
    // The page's command decides what is traced, not the test's own environment.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TRACE_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd.output().expect("run bash");
    // Killed by a signal: the status a shell reports for it, as the docs state it.
    use std::os::unix::process::ExitStatusExt;
    let status = out.status.code().or(out.status.signal().map(|s| 128 + s));
    Ran {
        status: status.expect("an exit status or a signal"),
        output: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// A line as compared: durations (`4.1µs`, `+38.1µs`, `-349.1µs`), thread numbers in
/// `[NN name` and a process id in `(NNNN)` masked, runs of spaces made one.
fn normalise(line: &str) -> String {
    let words: Vec<String> = line.split_whitespace().map(normalise_word).collect();
    words.join(" ")
}

fn normalise_word(word: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at_start = i == 0 || !chars[i - 1].is_alphanumeric();
        if c.is_ascii_digit() && at_start {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let rest: String = chars[j..].iter().collect();
            let unit = ["ns", "µs", "us", "ms", "s"].into_iter().find(|u| {
                rest.starts_with(u) && !rest[u.len()..].starts_with(char::is_alphanumeric)
            });
            if let Some(unit) = unit {
                // A sign in front of a duration is part of what varies.
                if out.ends_with('+') || out.ends_with('-') {
                    out.pop();
                }
                out.push_str("<dur>");
                i = j + unit.chars().count();
                continue;
            }
            let thread = i == 1 && chars[0] == '[' && j == chars.len();
            let pid = i == 1 && chars[0] == '(' && rest == ")";
            if thread || pid {
                out.push_str("<n>");
                i = j;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The lines of `shown` (but `...`) that the real output lacks, each real line standing for
/// one shown line at most. Order is not held: the views sort by time, which varies.
fn missing(shown: &[String], real: &str) -> Vec<String> {
    let mut have: BTreeMap<String, usize> = BTreeMap::new();
    for line in real.lines() {
        *have.entry(normalise(line)).or_default() += 1;
    }
    let mut missing = Vec::new();
    for line in shown
        .iter()
        .filter(|l| l.trim() != "..." && !l.trim().is_empty())
    {
        match have.get_mut(&normalise(line)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(line.clone()),
        }
    }
    missing
}

/// Runs one page's commands; returns what went wrong, and the number of commands run.
fn check_page(page: &Path) -> (Vec<String>, usize) {
    let text = std::fs::read_to_string(workspace().join(page)).expect("read the page");
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let dir = scratch.path().join("work");
    std::fs::create_dir_all(&dir).expect("the work directory");
    // Scripts the docs call by their path in the checkout.
    for shared in ["scripts", "benchmarks"] {
        std::os::unix::fs::symlink(workspace().join(shared), dir.join(shared))
            .expect("link a checkout directory");
    }
    let bin = shim(scratch.path());
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut last: Option<(String, String)> = None;
    for block in blocks(page, &text) {
        let at = format!("{}:{}", page.display(), block.line);
        match (block.lang.as_str(), &block.mark) {
            ("sh", Mark::Skip(_)) => {}
            ("sh", mark) => {
                let expected = match mark {
                    Mark::Status(n) => *n,
                    _ => 0,
                };
                for command in commands(&block) {
                    let result = run(&command, &dir, &bin);
                    ran += 1;
                    if result.status != expected {
                        failures.push(format!(
                            "{at}: `{command}` exited {} (expected {expected}):\n{}",
                            result.status,
                            tail(&result.output)
                        ));
                    }
                    last = Some((command, result.output));
                }
            }
            ("text", Mark::Output) => match &last {
                None => failures.push(format!("{at}: an output block with no command before it")),
                Some((command, output)) => {
                    let lacking = missing(&block.body, output);
                    if !lacking.is_empty() {
                        failures.push(format!(
                            "{at}: the output of `{command}` lacks these shown lines:\n  {}\nit was:\n{}",
                            lacking.join("\n  "),
                            tail(output)
                        ));
                    }
                }
            },
            (_, Mark::None) => {}
            (lang, mark) => failures.push(format!("{at}: {mark:?} on a `{lang}` block")),
        }
    }
    (failures, ran)
}

/// The last lines of a command's output, enough to see why it failed.
fn tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn every_command_in_the_docs_runs_as_shown() {
    let pages = pages();
    let results: Vec<(PathBuf, (Vec<String>, usize))> = std::thread::scope(|s| {
        let handles: Vec<_> = pages
            .iter()
            .map(|page| s.spawn(move || (page.clone(), check_page(page))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a page's check"))
            .collect()
    });
    let mut failures = Vec::new();
    for (page, (page_failures, ran)) in results {
        eprintln!("{}: {ran} commands", page.display());
        failures.extend(page_failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The runtime's `TRACE_*` variables (and `NO_COLOR`), as it reads them: `var("NAME")` and
/// `var_os("NAME")` in its source.
fn variables_read() -> BTreeSet<String> {
    fn walk(dir: &Path, names: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, names);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                for call in ["var(\"", "var_os(\""] {
                    for (at, _) in text.match_indices(call) {
                        let rest = &text[at + call.len()..];
                        let name = &rest[..rest.find('"').expect("a closing quote")];
                        names.insert(name.to_string());
                    }
                }
            }
        }
    }
    let mut names = BTreeSet::new();
    walk(&workspace().join("trace-runtime/src"), &mut names);
    names
}

#[test]
fn environment_md_lists_exactly_the_variables_the_runtime_reads() {
    let text = std::fs::read_to_string(workspace().join("docs/environment.md")).expect("read");
    let listed: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name.to_string())
        .collect();
    let read = variables_read();
    assert!(read.len() >= 16, "found the runtime's reads: {read:?}");
    assert_eq!(
        listed, read,
        "docs/environment.md's table against the runtime's reads"
    );
}

#[test]
fn normalising_masks_what_varies_and_keeps_the_rest() {
    assert_eq!(
        normalise("[02 tokio-rt-worker task 2]     <- tasks::fetch 11.7ms (busy 22.3µs)"),
        "[<n> tokio-rt-worker task 2] <- tasks::fetch <dur> (busy <dur>)"
    );
    assert_eq!(
        normalise("  chains::main (+38.1µs) -> chains::d 29.0µs, 2 calls -349.1µs"),
        "chains::main (<dur>) -> chains::d <dur>, 2 calls <dur>"
    );
    assert_eq!(
        normalise("thread 'main' (7485) has"),
        "thread 'main' (<n>) has"
    );
    assert_eq!(normalise("400 tasks in a2s v1.2"), "400 tasks in a2s v1.2");
}

#[test]
fn commands_are_split_from_comments_and_joined_across_lines() {
    let block = Block {
        lang: "sh".into(),
        body: vec![
            "cargo run --features trace   # traced".into(),
            "# a whole-line comment".into(),
            "TRACE_FILTER='-a # b' cargo \\".into(),
            "  run".into(),
        ],
        mark: Mark::None,
        line: 1,
    };
    assert_eq!(
        commands(&block),
        [
            "cargo run --features trace",
            "TRACE_FILTER='-a # b' cargo   run"
        ]
    );
}

#[test]
fn every_link_between_the_docs_leads_to_a_file() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(workspace().join(&page)).expect("read the page");
        let mut in_code = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for (at, _) in line.match_indices("](") {
                let rest = &line[at + 2..];
                let Some(end) = rest.find(')') else { continue };
                let link = &rest[..end];
                let path = link.split('#').next().unwrap_or_default();
                if path.is_empty() || link.starts_with("http") {
                    continue;
                }
                let target = page.parent().expect("a page's folder").join(path);
                let target = normalise_path(&target);
                if !workspace().join(&target).exists() {
                    broken.push(format!("{}:{}: {link}", page.display(), number + 1));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links to nothing:\n{}",
        broken.join("\n")
    );
}

/// `docs/../README.md` as `README.md`.
fn normalise_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
