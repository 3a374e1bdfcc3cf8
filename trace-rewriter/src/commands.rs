//! What each verb does: the command line read, the verb dispatched to the rewriter, to `run`
//! or to the viewer, and its outcome mapped to an exit code. Both binaries (`cargo-trace`, and
//! `trace-rewriter`, its old name) are [`main`] and nothing else.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use trace_runtime::read::units::count;

use crate::cli::{self, Binary, Command, DryRun, RuntimeSource, Select};
use crate::diag::{Diagnostic, Stderr};
use crate::manifest::Runtime;
use crate::project::{self, Scope};
use crate::recordings::Session;
use crate::run::{self, Mode, Plan};
use crate::{copy, fsio, recordings, source, viewer};

/// Exit codes, as documented in `--help`.
const CHECK_FOUND_CHANGES: u8 = 1;
const BAD_INPUT: u8 = 2;
const INTERNAL_ERROR: u8 = 3;

/// The program: reads the command line of `binary` from the process's arguments, runs the verb,
/// and gives the exit code.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     trace_rewriter::commands::main(trace_rewriter::cli::Binary::CargoTrace)
/// }
/// ```
pub fn main(binary: Binary) -> ExitCode {
    let cli = cli::parse(binary, std::env::args_os().collect());
    let err = Stderr::new();
    let result = match cli.command {
        Command::Instrument(c) => runtime(&c.runtime)
            .and_then(|r| rewrite(&c.select, &c.dry, Mode::Instrument(r, c.extras), &err)),
        Command::Remove(c) => rewrite(&c.select, &c.dry, Mode::Remove, &err),
        Command::Run(c) => runtime(&c.runtime).and_then(|r| {
            run_copy(
                &c.select,
                Mode::Instrument(r, c.extras),
                &c.cargo,
                c.print,
                &err,
            )
        }),
        Command::Preview(c) => preview(&c.file),
        Command::Replay(c) => viewer::replay(&c, &err),
        Command::Report(c) => viewer::report(&c, &err),
        Command::Chains(c) => viewer::chains(&c, &err),
        Command::Errors(c) => viewer::errors(&c, &err),
        Command::Graph(c) => viewer::graph(&c, &err),
        Command::Open(c) => viewer::open(&c, &err),
        Command::Export(c) => viewer::export(&c, &err),
        Command::Diff(c) => viewer::diff(&c, &err),
        Command::Html(c) => crate::html::html(&c, &err),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(d) => {
            err.error(&d);
            ExitCode::from(if d.internal {
                INTERNAL_ERROR
            } else {
                BAD_INPUT
            })
        }
    }
}

fn runtime(src: &RuntimeSource) -> Result<Runtime, Diagnostic> {
    if let Some(v) = &src.runtime_version {
        return Ok(Runtime::Version(v.clone()));
    }
    let dir = match &src.runtime_path {
        Some(p) => p.clone(),
        None => {
            let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../trace-runtime");
            if !beside.join("Cargo.toml").is_file() {
                // Installed from the registry, with no checkout beside the sources: the
                // runtime of the same release.
                return Ok(Runtime::Version(env!("CARGO_PKG_VERSION").to_string()));
            }
            beside
        }
    };
    let dir = dir.canonicalize().map_err(|e| {
        Diagnostic::new(&dir, format!("cannot find trace-runtime here: {e}"))
            .help("pass --runtime-path DIR (a trace-runtime checkout) or --runtime-version VERSION")
    })?;
    if !dir.join("Cargo.toml").is_file() {
        return Err(
            Diagnostic::new(&dir, "not a trace-runtime directory (no Cargo.toml)").help(
                "pass --runtime-path DIR (a trace-runtime checkout) or --runtime-version VERSION",
            ),
        );
    }
    Ok(Runtime::Path(dir))
}

/// Reports the plan's diagnostics; false when errors stop the run.
fn report(plan: &Plan, select: &Select, err: &Stderr) -> bool {
    for w in &plan.warnings {
        err.warning(w);
    }
    if select.verbose {
        plan.report_verbose(err);
    }
    for e in &plan.errors {
        err.error(e);
    }
    plan.errors.is_empty()
}

fn rewrite(select: &Select, dry: &DryRun, mode: Mode, err: &Stderr) -> Result<u8, Diagnostic> {
    // `remove` looks in every target: it undoes whatever an earlier `instrument` selected.
    let all_targets = select.all_targets || matches!(mode, Mode::Remove);
    let scope = project::resolve(&select.path, all_targets)?;
    let plan = run::plan(&scope, select, &mode)?;
    // Dry runs write nothing, deletions included.
    if !dry.check && !dry.diff {
        plan.remove_stale_temps(err);
    }
    if !report(&plan, select, err) {
        err.plain(&format!("{} error(s); nothing written", plan.errors.len()));
        return Ok(BAD_INPUT);
    }
    let totals = plan.totals();
    let verb = match mode {
        Mode::Instrument(..) => "instrument",
        Mode::Remove => "remove",
    };
    // A dry run (`--check`, `--diff`) writes nothing: its stale names are reported, not updated.
    plan.report_renamed(err, dry.check || dry.diff);
    plan.report_allocator_impls(err);
    plan.report_inline_always(err);
    let renamed = match totals.renamed {
        0 => String::new(),
        n if dry.check || dry.diff => format!(", {} to update", count(n as u64, "stale name")),
        n => format!(", {} updated", count(n as u64, "stale name")),
    };
    let counts = match mode {
        Mode::Instrument(_, extras) => {
            let mut counts = format!(
                "{} instrumented{}, {} skipped{renamed}",
                count(totals.instrumented as u64, "fn"),
                with_err(&totals, extras),
                totals.skipped
            );
            if extras.follow_threads {
                eprintln!(
                    "note: --follow-threads is no longer needed: thread spawns in traced fns follow the chain by default"
                );
            }
            if totals.blocks + totals.spawns > 0 {
                counts.push_str(&format!(
                    "; {} and {} continue their fn's chain",
                    count(totals.blocks as u64, "async block"),
                    count(totals.spawns as u64, "thread spawn")
                ));
            }
            counts
        }
        Mode::Remove => format!("{} removed", count(totals.removed as u64, "insertion")),
    };
    if dry.check {
        let cwd = std::env::current_dir().unwrap_or_default();
        for c in plan.changes.iter().filter(|c| c.changed()) {
            println!("{}", crate::diag::relative(&c.path, &cwd).display());
        }
        err.plain(&format!(
            "{verb} --check: {} would change; {counts}",
            count(totals.files_changed as u64, "file")
        ));
        return Ok(if totals.files_changed > 0 {
            CHECK_FOUND_CHANGES
        } else {
            0
        });
    }
    if dry.diff {
        print!("{}", plan.diff());
        err.plain(&format!(
            "{verb} --diff: {} would change; {counts}",
            count(totals.files_changed as u64, "file")
        ));
        return Ok(0);
    }
    plan.write()?;
    err.plain(&format!(
        "{verb}: {} changed; {counts}",
        count(totals.files_changed as u64, "file")
    ));
    Ok(0)
}

fn run_copy(
    select: &Select,
    mode: Mode,
    cargo_args: &[String],
    print: bool,
    err: &Stderr,
) -> Result<u8, Diagnostic> {
    let scope = project::resolve(&select.path, select.all_targets)?;
    let Scope::Crates {
        crates,
        workspace_root,
        target_dir,
    } = &scope
    else {
        return Err(Diagnostic::new(
            &select.path,
            "`run` needs a crate or a workspace, not a single file",
        )
        .help("give the crate directory"));
    };
    let plan = run::plan(&scope, select, &mode)?;
    plan.remove_stale_temps(err);
    if !report(&plan, select, err) {
        err.plain(&format!("{} error(s); nothing run", plan.errors.len()));
        return Ok(BAD_INPUT);
    }
    let root = copy::copy_root(target_dir);
    let mut overlay: HashMap<PathBuf, String> = HashMap::new();
    for c in &plan.changes {
        overlay.insert(c.path.clone(), c.new.clone());
    }
    let files = copy::files(workspace_root, std::slice::from_ref(target_dir))?;
    // Manifests of every member, changed or not, must resolve path dependencies from the copy.
    let manifests = files
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "Cargo.toml"));
    for path in manifests {
        let text = match overlay.get(path) {
            Some(t) => t.clone(),
            None => fsio::read_text(path)?,
        };
        let dir = path.parent().unwrap_or(workspace_root).to_path_buf();
        let mut text = copy::absolutize_paths(&text, &dir, workspace_root);
        if dir == *workspace_root {
            text = copy::standalone(&text);
        }
        overlay.insert(path.clone(), text);
    }
    copy::sync(workspace_root, &root, &files, &overlay)?;
    let totals = plan.totals();
    plan.report_allocator_impls(err);
    plan.report_inline_always(err);
    for c in crates {
        err.plain(&instruments(c, select));
    }
    let extras = match mode {
        Mode::Instrument(_, extras) => extras,
        Mode::Remove => cli::Extras::default(),
    };
    err.plain(&format!(
        "run: traced copy in {} ({} instrumented{}, {} skipped)",
        root.display(),
        count(totals.instrumented as u64, "fn"),
        with_err(&totals, extras),
        totals.skipped
    ));
    // One crate: cargo runs in its directory, where a plain `trace` names its feature (under
    // resolver 1, the 2015 and 2018 editions' default, `name/trace` would name a dependency's).
    let features: Vec<String> = match crates.as_slice() {
        [_] => vec!["trace".to_string()],
        _ => crates.iter().map(|c| format!("{}/trace", c.name)).collect(),
    };
    let first = crates.first().expect("at least one crate");
    let cwd = if crates.len() == 1 {
        root.join(
            first
                .dir
                .strip_prefix(workspace_root)
                .unwrap_or(std::path::Path::new("")),
        )
    } else {
        root.clone()
    };
    // `cargo trace run` alone is `cargo run`, traced.
    let args = cargo_command(cargo_args, &features);
    let session = Session::plan(&recordings::dir(target_dir), print, |name| {
        std::env::var_os(name)
    })?;
    let status =
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(&args)
            .current_dir(&cwd)
            .env(
                "CARGO_TARGET_DIR",
                target_dir.join("trace-rewriter").join("target"),
            )
            .envs(session.env().iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| {
                Diagnostic::new(&cwd, format!("cannot run cargo: {e}"))
                    .help("check that cargo is on PATH (or set CARGO)")
                    .internal()
            })?;
    recorded(&session, err);
    Ok(status.code().map_or(1, |c| c.clamp(0, 255) as u8))
}

/// The cargo command `run` runs: the one given (`run` when none is) with the trace features
/// after its subcommand and the runtime optimised ([`RUNTIME_OPTIMISED`]) before it: in a
/// debug build the collector and the formatting of recorded values run about ten times faster,
/// and nothing of the user's code changes. A leading `+toolchain` stays first.
fn cargo_command(given: &[String], features: &[String]) -> Vec<String> {
    let mut args = match given {
        [] => vec!["run".to_string()],
        given => given.to_vec(),
    };
    let sub = usize::from(args.first().is_some_and(|a| a.starts_with('+')));
    let after = (sub + 1).min(args.len());
    args.splice(after..after, ["--features".to_string(), features.join(",")]);
    args.splice(
        sub..sub,
        ["--config".to_string(), RUNTIME_OPTIMISED.to_string()],
    );
    args
}

/// What `cargo trace run` gives cargo: the runtime built at `opt-level = 3` in every profile
/// that inherits from `dev` (`cargo run`, `cargo test`), as a user can put in their own
/// `Cargo.toml` (`docs/performance.md`).
const RUNTIME_OPTIMISED: &str = "profile.dev.package.trace-runtime.opt-level=3";

/// ` (N record their errors)` after the count of fns instrumented, with `--err`.
fn with_err(totals: &run::Totals, extras: cli::Extras) -> String {
    if extras.err {
        let verb = if totals.err == 1 {
            "records its"
        } else {
            "record their"
        };
        format!(" ({} {verb} errors)", totals.err)
    } else {
        String::new()
    }
}

/// Says where the run recorded: each process's recording, or why there is none.
fn recorded(session: &Session, err: &Stderr) {
    if session.users() {
        err.plain("run: recorded where TRACE_RECORD says");
        return;
    }
    let written = session.written();
    if written.is_empty() {
        err.plain("run: nothing recorded: no traced fn ran");
        return;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    for path in &written {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        err.plain(&format!(
            "run: recorded {} ({})",
            crate::diag::relative(path, &cwd).display(),
            bytes(size)
        ));
    }
    err.plain(
        "run: read it with `cargo trace report` (the newest), `cargo trace replay FILE`, ...",
    );
}

/// `812 B`, `14.2 KiB`, `3.1 MiB`.
fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// `run: instruments app: lib app, bin app; leaves out test smoke (tests, examples and
/// benches need --all-targets)`: which targets of a package the traced copy traces.
fn instruments(c: &project::Crate, select: &Select) -> String {
    let mut line = format!("run: instruments {}: ", c.name);
    line.push_str(&if c.targets.is_empty() {
        "no target".to_string()
    } else {
        c.targets.join(", ")
    });
    if select.tests {
        line.push_str(" (with their #[test] fns and #[cfg(test)] modules)");
    }
    if !c.left_out.is_empty() {
        let left: Vec<String> = c
            .left_out
            .iter()
            .map(|(name, why)| format!("{name} ({why})"))
            .collect();
        line.push_str("; leaves out ");
        line.push_str(&left.join(", "));
    }
    line
}

fn preview(file: &std::path::Path) -> Result<u8, Diagnostic> {
    let text = fsio::read_text(file)?;
    let edits = source::instrument(&text, &source::SourceOptions::default())
        .map_err(|e| Diagnostic::new(file, e.message).at(e.line, e.column))?;
    let pretty = syn::parse_file(edits.text.trim_start_matches('\u{feff}'))
        .map(|f| prettyplease::unparse(&f))
        .unwrap_or(edits.text);
    print!("{pretty}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cargo_command_keeps_a_toolchain_first_and_the_features_after_the_subcommand() {
        let v = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let features = v(&["trace", "app/trace"]);
        assert_eq!(
            cargo_command(&[], &features),
            v(&[
                "--config",
                RUNTIME_OPTIMISED,
                "run",
                "--features",
                "trace,app/trace"
            ])
        );
        assert_eq!(
            cargo_command(&v(&["test", "--lib"]), &features),
            v(&[
                "--config",
                RUNTIME_OPTIMISED,
                "test",
                "--features",
                "trace,app/trace",
                "--lib"
            ])
        );
        assert_eq!(
            cargo_command(&v(&["+nightly", "test"]), &features),
            v(&[
                "+nightly",
                "--config",
                RUNTIME_OPTIMISED,
                "test",
                "--features",
                "trace,app/trace"
            ])
        );
    }
}
