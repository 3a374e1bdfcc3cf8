//! The viewer commands: open a recording, build the runtime's views over it, print. Every
//! answer is computed by `trace_runtime::read`; this module only chooses views and outputs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use trace_runtime::read::{
    chains, diff, graph, hot, matching, min, no_color, noisy, open, parse_duration,
    recording::Recording, select, stream::Out, summary, trees, Consumer, FocusRule, TextViews,
};

use crate::cli::{ChainsQuery, Diff, Export, Filters, FnQuery, Recorded, Replay, Report};
use crate::diag::{Diagnostic, Stderr};

/// Reads a recording; what a damaged or cut-short file lost is said on stderr, a warning for
/// each damaged stretch, and every command carries on with the rest.
pub fn load(path: &Path, err: &Stderr) -> Result<Recording, Diagnostic> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(path, format!("cannot read: {e}")).help(RECORD_HELP))?;
    let rec = Recording::parse(&bytes).map_err(|e| Diagnostic::new(path, e.0))?;
    if let Some(damage) = &rec.damage {
        let lines: Vec<&str> = damage.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let last = if i + 1 == lines.len() {
                "; showing what was read"
            } else {
                ""
            };
            err.warning(&Diagnostic::new(path, format!("{line}{last}")));
        }
    }
    // Which fns the run counted instead of recording: their later calls are in no view.
    if let Some(lines) = hot::note(&rec.counted, &rec.tables) {
        err.note(&lines.join("\n"));
    }
    Ok(rec)
}

const RECORD_HELP: &str = "record a run with `cargo trace run`, or with TRACE_RECORD=FILE";

/// The recording a verb reads: FILE, or without it the newest under the target directory of
/// the crate here, said on stderr.
pub(crate) fn which(file: &Option<PathBuf>, err: &Stderr) -> Result<PathBuf, Diagnostic> {
    if let Some(file) = file {
        return Ok(file.clone());
    }
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let newest =
        crate::recordings::newest(&crate::recordings::dir(&crate::project::target_dir(&here)?))?;
    err.note(&format!(
        "reading {}, the newest recording",
        crate::diag::relative(&newest, &here).display()
    ));
    Ok(newest)
}

/// Standard output as a view's output.
fn stdout() -> Out {
    Box::new(std::io::stdout())
}

/// Prints text; a closed pipe (`| head`) is not an error.
fn print(text: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text);
    let _ = out.flush();
}

/// Colour on a terminal, unless `NO_COLOR` is set.
fn colour() -> bool {
    std::io::stdout().is_terminal() && !no_color()
}

fn duration(option: &str, text: &Option<String>) -> Result<Option<u64>, Diagnostic> {
    match text {
        None => Ok(None),
        Some(t) => parse_duration(t.trim()).map(Some).ok_or_else(|| {
            Diagnostic::new(option, format!("`{t}` is not a duration"))
                .help("write it like 500ns, 10us, 1.5ms or 2s")
        }),
    }
}

/// The filters as the view layer's selection (all but `--min`, a view of its own).
fn selection(f: &Filters) -> Result<select::Selection, Diagnostic> {
    let focus = f.focus.as_deref().map(FocusRule::parse);
    Ok(select::Selection {
        focus_errors: focus.as_ref().is_some_and(|r| r.errors),
        focus: focus.map(|r| r.name),
        exclude: f.exclude.clone(),
        max_depth: f.depth,
        thread: f.thread,
        task: f.task,
        since_ns: duration("--since", &f.since)?,
        until_ns: duration("--until", &f.until)?,
    })
}

/// The recording's fns `name` means (see `trace_runtime::read::Term`), each once, in name
/// order; fails, naming the term, when it means none.
fn known<'a>(rec: &'a Recording, path: &Path, name: &str) -> Result<Vec<&'a str>, Diagnostic> {
    let fns = matching(rec.tables.sites.iter().map(|s| &**s), name);
    if fns.is_empty() {
        return Err(
            Diagnostic::new(path, format!("no traced fn is named `{name}`")).help(TERM_HELP),
        );
    }
    Ok(fns)
}

const TERM_HELP: &str = "give a fn's full name, or whole `::` segments at its end (`get`, `db::get`) or start (`demo::db`), as the trees show it (`cargo trace report FILE` lists them)";

/// Says on stderr that `name` means several fns, listing them, and how each is shown.
fn ambiguous(err: &Stderr, name: &str, fns: &[&str], shown: &str) {
    if fns.len() > 1 {
        err.note(&format!(
            "`{name}` names {} fns, {shown} (give a longer name for one):\n  {}",
            fns.len(),
            fns.join("\n  ")
        ));
    }
}

/// Warns about each `--exclude` term that means no fn of the recording.
fn check_excludes(rec: &Recording, path: &Path, terms: &[String], err: &Stderr) {
    for term in terms {
        if matching(rec.tables.sites.iter().map(|s| &**s), term).is_empty() {
            err.warning(&Diagnostic::new(
                path,
                format!("--exclude `{term}` matches no traced fn; nothing is left out by it"),
            ));
        }
    }
}

pub fn replay(c: &Replay, err: &Stderr) -> Result<u8, Diagnostic> {
    let file = which(&c.recorded.file, err)?;
    let rec = load(&file, err)?;
    let rules = selection(&c.filters)?;
    let min_ns = duration("--min", &c.filters.min)?;
    if let Some(name) = &rules.focus {
        let fns = known(&rec, &file, name)?;
        ambiguous(err, name, &fns, "showing the chains through any of them");
    }
    check_excludes(&rec, &file, &rules.exclude, err);
    let tree = trees::Trees::new(colour(), stdout());
    // --min decides on whole calls, so it sees the selected frames' events after the stage.
    let view: Box<dyn Consumer> = match min_ns {
        Some(ns) => Box::new(select::Select::new(min::Min::new(tree, ns), rules)),
        None => Box::new(select::Select::new(tree, rules)),
    };
    rec.replay(vec![view]);
    Ok(0)
}

pub fn report(c: &Report, err: &Stderr) -> Result<u8, Diagnostic> {
    let rec = load(&which(&c.recorded.file, err)?, err)?;
    let stats = rec.replay_into(summary::Stats::default());
    let sort = c.sort;
    // A large recording ends with the fns that make most of it and the filter that leaves them
    // out: after the table, or on stderr beside a JSON document.
    let counts = rec.replay_into(noisy::Counts::default());
    let note = noisy::note(&counts, &rec.tables, None).map(|n| noisy::render(&n));
    if c.json {
        print(&summary::json_sorted(&stats, &rec.tables, sort));
        if let Some(note) = note {
            let _ = std::io::stderr().write_all(note.as_bytes());
        }
    } else {
        let mut text = summary::report(&stats, &rec.tables, sort);
        text.extend(note);
        print(text.as_bytes());
    }
    Ok(0)
}

pub fn chains(c: &ChainsQuery, err: &Stderr) -> Result<u8, Diagnostic> {
    let q = &c.query;
    let file = which(&q.recorded.file, err)?;
    let rec = load(&file, err)?;
    let fns = known(&rec, &file, &q.name)?;
    ambiguous(err, &q.name, &fns, "each shown on its own");
    let only = if c.err {
        chains::Only::Errors
    } else {
        chains::Only::All
    };
    let found = rec.replay_into(chains::Chains::reaching(&q.name).only(only));
    print(chains::table(&found, &rec.tables, &q.name).as_bytes());
    Ok(0)
}

pub fn errors(c: &Recorded, err: &Stderr) -> Result<u8, Diagnostic> {
    let rec = load(&which(&c.file, err)?, err)?;
    let found = rec.replay_into(chains::Chains::default().only(chains::Only::Origins));
    print(chains::origins(&found, &rec.tables).as_bytes());
    Ok(0)
}

pub fn graph(c: &FnQuery, err: &Stderr) -> Result<u8, Diagnostic> {
    let file = which(&c.recorded.file, err)?;
    let rec = load(&file, err)?;
    let fns = known(&rec, &file, &c.name)?;
    ambiguous(err, &c.name, &fns, "each shown on its own");
    let stats = rec.replay_into(summary::Stats::default());
    let text = graph::neighbours(&stats, &rec.tables, &c.name);
    if text.is_empty() {
        err.note(&format!(
            "no call of `{}` finished in the recording",
            c.name
        ));
    }
    print(text.as_bytes());
    Ok(0)
}

pub fn open(c: &Recorded, err: &Stderr) -> Result<u8, Diagnostic> {
    let rec = load(&which(&c.file, err)?, err)?;
    let at_end = rec.replay_into(open::AtEnd::default());
    if at_end.text.is_empty() {
        print(b"nothing was open when the recording ended\n");
    } else {
        print(at_end.text.as_bytes());
    }
    Ok(0)
}

pub fn export(c: &Export, err: &Stderr) -> Result<u8, Diagnostic> {
    let file = which(&c.recorded.file, err)?;
    let rec = load(&file, err)?;
    let focus = c.focus.as_deref().map(FocusRule::parse);
    if let Some(rule) = &focus {
        known(&rec, &file, &rule.name)?;
    }
    // The views the live run built (setup.rs), with the colour a file destination gets.
    let text = TextViews {
        format: Some(c.format),
        color: false,
        quiet: false,
        focus,
        summary: c.summary,
        summary_json: None,
        min_ns: duration("--min", &c.min)?,
        reports_to_stderr: false,
        start_unix_ns: start_unix_ns(&file, &rec),
    };
    rec.replay(text.build(&stdout, &|| Box::new(std::io::stderr())));
    Ok(0)
}

/// The Unix time (ns) of the recorded run's first traced call, which OTLP's timestamps need:
/// as the recording says (version 4 on), else (an older recording, or its first chunk lost)
/// the file's modification time, when the run ended, less the run's length (now less the run's
/// length when the file system keeps no time).
fn start_unix_ns(file: &Path, rec: &Recording) -> u64 {
    if let Some(run) = &rec.run {
        return run.start_unix_ns;
    }
    let written = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| std::time::SystemTime::now());
    let unix_ns = written
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    unix_ns.saturating_sub(rec.length_ns())
}

pub fn diff(c: &Diff, err: &Stderr) -> Result<u8, Diagnostic> {
    let a = load(&c.before, err)?;
    let b = load(&which(&c.after, err)?, err)?;
    let before = a.replay_into(diff::Side::default()).profile(&a.tables);
    let after = b.replay_into(diff::Side::default()).profile(&b.tables);
    print(diff::render(&before, &after, c.sort).as_bytes());
    Ok(0)
}
