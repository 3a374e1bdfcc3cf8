//! The command line: subcommands, options and help, parsed by clap into plain structs.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
pub use trace_runtime::read::summary::Sort;
pub use trace_runtime::read::Format;

/// The exit codes, for every help of a command that writes or runs (one text, said once).
macro_rules! exit_codes {
    () => {
        "

Exit codes: 0 done, 1 --check found files to change, 2 bad input (nothing written),
3 internal error (the tool's own work failed: writing a file or the traced copy, running
cargo; the message names the path), `run` otherwise exits with the status of the cargo
command it ran."
    };
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace run                             run this crate's binary traced, recording the
                                              calls to target/trace/
  cargo trace run -- test                     run its tests traced (the log stays clean)
  cargo trace run --print -- run --bin app    a binary, with the live trace on stderr too
  cargo trace report                          per-fn time of the newest recording
  cargo trace chains db::get                  every chain of calls that reached db::get
  cargo trace replay --focus db::get          the call trees through db::get
  cargo trace report run.trace --sort busy    async fns by time inside polls, not waiting
  cargo trace instrument                      instrument this crate in place,
  cargo run --features trace                  run it traced,
  cargo trace remove                          put every byte back
  cargo trace instrument --check              exit 1 and list the files that would change
  cargo trace instrument src/lib.rs --diff    print the change, write nothing",
    exit_codes!()
);

/// Trace every call of a crate: instrument it (or a copy), run it, read the recording.
#[derive(Parser, Debug)]
#[command(name = "cargo-trace", bin_name = "cargo trace", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The verbs by what a user does with them, in the order `--help` lists them: the one place a
/// verb's group is said. A new verb joins one of them (`html` joins reading recordings); a test
/// holds every verb to exactly one group.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("Changing source", &["instrument", "remove", "preview"]),
    ("Running", &["run"]),
    (
        "Reading recordings",
        &[
            "replay", "report", "chains", "errors", "graph", "open", "export", "diff", "html",
        ],
    ),
];

/// Which binary the command line is read for: the same verbs, the name in usage and help
/// differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// `cargo-trace`, run by cargo as `cargo trace` (its first argument is then `trace`).
    CargoTrace,
    /// `trace-rewriter`, the old name, kept as an alias for one release.
    TraceRewriter,
}

/// What `trace-rewriter --help` opens with.
const ALIAS_NOTE: &str = "\
trace-rewriter is now `cargo trace` (cargo install cargo-trace). This name takes the same verbs
and options for one more release; the examples below use the new one.";

/// The command line of `binary`: clap's command with its name, and the verbs listed by group.
///
/// ```
/// use trace_rewriter::cli::{command, Binary};
/// let help = command(Binary::CargoTrace).render_help().to_string();
/// assert!(help.contains("Reading recordings:"));
/// assert!(help.contains("Usage: cargo trace <COMMAND>"));
/// ```
pub fn command(binary: Binary) -> clap::Command {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let cmd = match binary {
        Binary::CargoTrace => cmd,
        Binary::TraceRewriter => cmd
            .name("trace-rewriter")
            .bin_name("trace-rewriter")
            .before_help(ALIAS_NOTE),
    };
    let groups = grouped_verbs(&cmd);
    cmd.help_template(format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{groups}{}\n{{options}}{{after-help}}",
        heading("Options")
    ))
}

/// The verbs under their groups' headings, each with the first line of its help.
fn grouped_verbs(cmd: &clap::Command) -> String {
    let width = cmd
        .get_subcommands()
        .map(|s| s.get_name().len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (group, verbs) in GROUPS {
        text.push_str(&heading(group));
        text.push('\n');
        for verb in verbs.iter() {
            let about = cmd
                .find_subcommand(verb)
                .and_then(|s| s.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default();
            text.push_str(&format!("  {verb:width$}  {about}\n"));
        }
        text.push('\n');
    }
    text
}

/// A heading as clap styles its own (`Options:`), so grouped verbs look like the rest.
fn heading(name: &str) -> String {
    let style = clap::builder::Styles::default().get_header().to_owned();
    format!("{}{name}:{}", style.render(), style.render_reset())
}

/// The command line of `binary`, from `args` (the program's name first); exits with clap's
/// message on a usage error or after `--help` and `--version`. As cargo runs a subcommand
/// (`cargo trace run` runs `cargo-trace trace run`), `cargo-trace` passes over a first `trace`.
pub fn parse(binary: Binary, mut args: Vec<std::ffi::OsString>) -> Cli {
    use clap::FromArgMatches;
    if binary == Binary::CargoTrace && args.get(1).is_some_and(|a| a == "trace") {
        args.remove(1);
    }
    let matches = command(binary).get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Insert a guard at the top of every fn, and wire the `trace` feature into Cargo.toml.
    ///
    /// Every fn with a body gets an enter/exit guard, gated on the crate's own `trace` feature:
    /// with it off the crate compiles to what it was. `remove` takes it all out again.
    #[command(after_help = INSTRUMENT_EXAMPLES)]
    Instrument(Instrument),
    /// Take out exactly what `instrument` added.
    #[command(after_help = REMOVE_EXAMPLES)]
    Remove(Remove),
    /// Print one file as it will compile once instrumented.
    ///
    /// Pretty-printed, comments dropped; nothing is written.
    #[command(after_help = PREVIEW_EXAMPLES)]
    Preview(Preview),
    /// Run cargo on a traced copy of the crate, recording every call to target/trace/.
    ///
    /// The copy lives under the crate's target directory and is instrumented there; the
    /// crate's own files are left untouched. Each traced process of the run (the program, each
    /// test binary) writes one recording, target/trace/TIME-PID.trace, and the run says
    /// which. The live trace stays out of the program's and the tests' output unless --print
    /// (or TRACE_OUT) asks for it; TRACE_RECORD, when set, says where to record instead.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Run),
    /// Print a recording's call trees, every thread's and every task's, in time order.
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay(Replay),
    /// Per fn: calls, total (wall) and busy time, self, min, mean and max time.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(Report),
    /// Every distinct chain of calls that reached a fn, with calls, total and max time.
    #[command(after_help = CHAINS_EXAMPLES, allow_missing_positional = true)]
    Chains(ChainsQuery),
    /// Where errors were born: each fn where an `Err` exit (`#[trace(err)]`) originated, the
    /// innermost of its `?` chain, with the chains that reached it and how often.
    #[command(after_help = ERRORS_EXAMPLES)]
    Errors(Recorded),
    /// A fn's callers and callees, weighted by calls and time.
    #[command(after_help = GRAPH_EXAMPLES, allow_missing_positional = true)]
    Graph(FnQuery),
    /// Frames still open when the recording ended, with their chains and how long.
    #[command(after_help = OPEN_EXAMPLES)]
    Open(Recorded),
    /// Print a recording exactly as the run printed it live with that TRACE_FORMAT, or as OTLP.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(Export),
    /// Compare two recordings: per fn and per chain, calls, total and busy time.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(Diff),
    /// Write a recording as one self-contained HTML page: flame graph, timeline, per-fn table,
    /// the chains to the slowest fns, the frames open at the end.
    #[command(after_help = crate::html::EXAMPLES)]
    Html(crate::html::Args),
}

const INSTRUMENT_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace instrument                     this crate (or workspace) in place
  cargo run --features trace                 then run it traced
  cargo trace instrument --check             exit 1 and list the files that would change
  cargo trace instrument src/lib.rs --diff   print the change, write nothing
  cargo trace instrument --all-targets       tests, examples and benches too",
    exit_codes!()
);

const REMOVE_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace remove                         put every byte back
  cargo trace remove --check                 exit 1 if anything is still instrumented",
    exit_codes!()
);

const PREVIEW_EXAMPLES: &str = "\
Examples:
  cargo trace preview src/lib.rs             the file as the traced build compiles it";

const RUN_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace run                            cargo run, traced; prints where it recorded
  cargo trace run -- test                    the tests, traced; their log stays as it was
  cargo trace run -- run --bin app -- ARGS   one binary, with its arguments
  cargo trace run --print -- test            the live trace on stderr as well
  TRACE_FORMAT=jsonl TRACE_OUT=trace.jsonl cargo trace run
                                             the live trace, as jsonl, to a file
  cargo trace report                         then read the newest recording",
    exit_codes!()
);

/// What every viewer command's help ends with.
macro_rules! read_notes {
    () => {
        "

FILE is a recording: one `cargo trace run` made (target/trace/), or one made with
TRACE_RECORD=FILE; without FILE, the newest under the crate's target/trace/ is read. FN names
fns as TRACE_FILTER and TRACE_FOCUS do: a fn's full name, or whole `::` segments at its end
(`get`, `db::get`, never `mydb::get`) or at its start (`demo::db`: everything in it);
`<Cat as Animal>::speak` for a trait method. An FN that names several fns lists them on stderr;
chains and graph show each on its own. A recording cut short is read up to its last complete
chunk, and what was lost is said on stderr. Output to a terminal is coloured (NO_COLOR turns it
off). Exit codes: 0 done, 2 bad input (not a readable recording, an unknown fn)."
    };
}

const REPLAY_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace replay                                 the newest recording's trees
  cargo trace replay run.trace --focus db::get       only the chains through db::get
  cargo trace replay --min 10us --depth 3            no short calls, nothing deeper than 3
  cargo trace replay --task 7 --since 1.5ms --until 20ms

A frame left out by --exclude, --depth, --thread, --task, --since or --until takes only
itself out: the frames it called stay at their recorded depth, as with TRACE_FILTER. --min
takes a short call out with everything it called.",
    read_notes!()
);

const REPORT_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace report                                 the newest recording, by total time
  cargo trace report run.trace --sort self           where the time is spent
  cargo trace report --sort busy                     by time inside polls (an async fn that
                                                     mostly waits sinks; total is wall time)
  cargo trace report --json > report.json            the TRACE_SUMMARY_JSON document

A recording of 100,000 events or more ends with the few fns that make most of them, and the
TRACE_FILTER line that leaves them out of the next run (on stderr with --json).",
    read_notes!()
);

const CHAINS_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace chains d                               who reached d in the newest recording
  cargo trace chains run.trace demo::db::get         in run.trace
  cargo trace chains db::read --err                  who reached db::read when it returned Err",
    read_notes!()
);

const ERRORS_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace errors                                 where each error of the newest recording came from
  cargo trace errors run.trace",
    read_notes!()
);

const GRAPH_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace graph db::get                          who calls db::get, whom it calls
  cargo trace graph run.trace db::get                in run.trace",
    read_notes!()
);

const OPEN_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace open                                   what never finished
  cargo trace open run.trace",
    read_notes!()
);

const EXPORT_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace export --format chrome > trace.json    open it in ui.perfetto.dev
  cargo trace export run.trace --format folded | inferno-flamegraph > flame.svg
  cargo trace export run.trace --format otlp > trace.otlp.json   for OpenTelemetry backends

The output is byte for byte what the run wrote with TRACE_FORMAT=FORMAT (and TRACE_FOCUS,
TRACE_SUMMARY, TRACE_FILTER=min=.. for --focus, --summary, --min). Reports go where the run
sent them: into the trace for human and folded, to stderr for jsonl and chrome.
otlp is written from recordings only: an OTLP ExportTraceServiceRequest in JSON, its times
anchored to the file's modification time less the run's length (docs/opentelemetry.md); its
reports go to stderr.",
    read_notes!()
);

const DIFF_EXAMPLES: &str = concat!(
    "\
Examples:
  cargo trace diff before.trace                      before.trace against the newest
  cargo trace diff before.trace after.trace          what changed, largest change first
  cargo trace diff before.trace after.trace --sort busy
                                                     by the change in time inside polls",
    read_notes!()
);

/// A recording to read.
#[derive(Args, Debug, Clone)]
pub struct Recorded {
    /// The recording [default: the newest under the crate's target/trace/].
    pub file: Option<PathBuf>,
}

/// Which frames `replay` shows.
#[derive(Args, Debug, Clone, Default)]
pub struct Filters {
    /// Only the chains through FN (its full name, or whole `::` segments at its end or start),
    /// with everything under it; `FN:err`: through its calls that returned `Err`.
    #[arg(long, value_name = "FN", help_heading = "Filters")]
    pub focus: Option<String>,

    /// Leave out the fns FN names (`demo::db`: everything in it); repeatable.
    #[arg(long, value_name = "FN", help_heading = "Filters")]
    pub exclude: Vec<String>,

    /// Leave out frames deeper than N (0 is outermost).
    #[arg(long, value_name = "N", help_heading = "Filters")]
    pub depth: Option<u32>,

    /// Leave out calls shorter than this (500ns, 10us, 1.5ms, 2s), with everything they called.
    #[arg(long, value_name = "DURATION", help_heading = "Filters")]
    pub min: Option<String>,

    /// Only frames entered on thread N (its number in the labels).
    #[arg(long, value_name = "N", help_heading = "Filters")]
    pub thread: Option<u32>,

    /// Only frames of task N.
    #[arg(long, value_name = "N", help_heading = "Filters")]
    pub task: Option<u64>,

    /// Only frames entered at or after this time from the run's start (e.g. 1.5ms).
    #[arg(long, value_name = "DURATION", help_heading = "Filters")]
    pub since: Option<String>,

    /// Only frames entered before this time from the run's start.
    #[arg(long, value_name = "DURATION", help_heading = "Filters")]
    pub until: Option<String>,
}

#[derive(Args, Debug)]
pub struct Replay {
    #[command(flatten)]
    pub recorded: Recorded,
    #[command(flatten)]
    pub filters: Filters,
}

/// `--sort KEY` over these keys (the runtime's `Sort` spells them, once).
fn sort_keys(names: &'static [&'static str]) -> impl TypedValueParser<Value = Sort> {
    PossibleValuesParser::new(names)
        .map(|name| Sort::parse(&name).expect("a key the runtime lists parses"))
}

/// `--format NAME` over the runtime's formats (`Format` spells them, once).
fn formats() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::NAMES)
        .map(|name| Format::parse(&name).expect("a format the runtime lists parses"))
}

#[derive(Args, Debug)]
pub struct Report {
    #[command(flatten)]
    pub recorded: Recorded,

    /// Order of the fns, largest first (name: alphabetical); total is wall time, busy the time
    /// inside polls (equal for sync fns).
    #[arg(long, value_name = "KEY", value_parser = sort_keys(Sort::NAMES), default_value = "total")]
    pub sort: Sort,

    /// Print the report as JSON (the TRACE_SUMMARY_JSON document, fns in --sort order).
    #[arg(long)]
    pub json: bool,
}

/// A recording and a fn.
#[derive(Args, Debug)]
pub struct FnQuery {
    #[command(flatten)]
    pub recorded: Recorded,
    /// The fn: its full name, or whole `::` segments at its end (`d`, `db::get`) or start.
    #[arg(value_name = "FN")]
    pub name: String,
}

/// A recording and a fn, for `chains`.
#[derive(Args, Debug)]
pub struct ChainsQuery {
    #[command(flatten)]
    pub query: FnQuery,
    /// Only the calls of FN that returned `Err` (recorded with `#[trace(err)]`).
    #[arg(long)]
    pub err: bool,
}

#[derive(Args, Debug)]
pub struct Export {
    #[command(flatten)]
    pub recorded: Recorded,

    /// The TRACE_FORMAT to print as, or otlp (OpenTelemetry's JSON); as a live run, human by
    /// default.
    #[arg(long, value_parser = formats(), default_value = "human")]
    pub format: Format,

    /// As TRACE_FOCUS=FN did: the chains reaching FN instead of the events (`FN:err`: when
    /// it returned `Err`).
    #[arg(long, value_name = "FN")]
    pub focus: Option<String>,

    /// As TRACE_SUMMARY=1 did: the summary table at the end.
    #[arg(long)]
    pub summary: bool,

    /// As TRACE_FILTER=min=DURATION did on the event lines.
    #[arg(long, value_name = "DURATION")]
    pub min: Option<String>,
}

#[derive(Args, Debug)]
pub struct Diff {
    /// The recording before.
    pub before: PathBuf,
    /// The recording after [default: the newest under the crate's target/trace/].
    pub after: Option<PathBuf>,

    /// Order rows by the size of the change in total (wall) time, busy time (inside polls) or
    /// calls.
    #[arg(long, value_name = "KEY", value_parser = sort_keys(Sort::DIFF_NAMES), default_value = "total")]
    pub sort: Sort,
}

/// What to instrument and how to report.
#[derive(Args, Debug, Clone, Default)]
pub struct Select {
    /// A crate directory, a workspace directory (every member), or one `.rs` file.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Also instrument tests/, examples/ and benches/ targets.
    #[arg(long, help_heading = "Selection")]
    pub all_targets: bool,

    /// Also instrument `#[test]` fns and `#[cfg(test)]` modules.
    #[arg(long, help_heading = "Selection")]
    pub tests: bool,

    /// Also instrument `#[inline(always)]` fns (left out by default: a crate's innermost loops
    /// call them billions of times).
    #[arg(long, help_heading = "Selection")]
    pub inline_always: bool,

    /// Leave out files matching this glob (relative to the crate directory); repeatable.
    #[arg(long, value_name = "GLOB", help_heading = "Selection")]
    pub exclude: Vec<String>,

    /// Skip files that do not parse (saying so) instead of refusing to write anything.
    #[arg(long, help_heading = "Selection")]
    pub keep_going: bool,

    /// Per-file counts, and every skipped fn with its reason.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
}

/// Write nothing: report or show the change.
#[derive(Args, Debug, Clone, Default)]
pub struct DryRun {
    /// Write nothing; exit 1 and list the files that would change.
    #[arg(long, help_heading = "Output", conflicts_with = "diff")]
    pub check: bool,

    /// Write nothing; print a unified diff of the change.
    #[arg(long, help_heading = "Output")]
    pub diff: bool,
}

/// Where the instrumented crate gets `trace-runtime` from.
#[derive(Args, Debug, Clone, Default)]
pub struct RuntimeSource {
    /// Path to a `trace-runtime` directory [default: the one beside this tool's sources, or,
    /// installed from the registry, that registry version of the same release].
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Runtime",
        conflicts_with = "runtime_version"
    )]
    pub runtime_path: Option<PathBuf>,

    /// Depend on this registry version of `trace-runtime` instead of a path.
    #[arg(long, value_name = "VERSION", help_heading = "Runtime")]
    pub runtime_version: Option<String>,
}

/// What else `instrument` and `run` do besides the guards.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct Extras {
    /// Accepted for scripts written before thread spawns followed the chain by default; does
    /// nothing.
    #[arg(long, hide = true)]
    pub follow_threads: bool,

    /// Also record errors: each fn whose return type is written `Result<..>` (`io::Result<T>`,
    /// a crate's own `Result<T>`) marks an `Err` return as an error exit with the error's text,
    /// as `#[trace(err)]` does (not `fmt::Result`, `unsafe fn`s or `#[track_caller]` fns).
    #[arg(long, help_heading = "Values")]
    pub err: bool,
}

#[derive(Args, Debug)]
pub struct Instrument {
    #[command(flatten)]
    pub select: Select,
    #[command(flatten)]
    pub dry: DryRun,
    #[command(flatten)]
    pub runtime: RuntimeSource,
    #[command(flatten)]
    pub extras: Extras,
}

#[derive(Args, Debug)]
pub struct Remove {
    #[command(flatten)]
    pub select: Select,
    #[command(flatten)]
    pub dry: DryRun,
}

#[derive(Args, Debug)]
pub struct Run {
    #[command(flatten)]
    pub select: Select,
    #[command(flatten)]
    pub runtime: RuntimeSource,
    #[command(flatten)]
    pub extras: Extras,

    /// Also print the live trace on stderr as the run goes (TRACE_OUT, when set, says where
    /// instead).
    #[arg(long, help_heading = "Output")]
    pub print: bool,

    /// The cargo command to run in the copy, e.g. `test` or `run --bin app -- ARGS`
    /// [default: run].
    #[arg(last = true, value_name = "CARGO ARGS")]
    pub cargo: Vec<String>,
}

#[derive(Args, Debug)]
pub struct Preview {
    /// The `.rs` file to show.
    pub file: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_is_in_exactly_one_group() {
        use clap::CommandFactory;
        let grouped: Vec<&str> = GROUPS
            .iter()
            .flat_map(|(_, verbs)| verbs.iter().copied())
            .collect();
        let mut verbs: Vec<&str> = Vec::new();
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            verbs.push(sub.get_name());
        }
        let mut sorted = grouped.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            grouped.len(),
            "a verb in two groups: {grouped:?}"
        );
        verbs.sort_unstable();
        assert_eq!(sorted, verbs, "every verb, and only verbs, in GROUPS");
    }

    #[test]
    fn cargo_trace_passes_over_the_trace_cargo_gives_it() {
        let args = |a: &[&str]| {
            a.iter()
                .map(Into::into)
                .collect::<Vec<std::ffi::OsString>>()
        };
        let as_cargo = parse(
            Binary::CargoTrace,
            args(&["cargo-trace", "trace", "open", "a.trace"]),
        );
        let direct = parse(
            Binary::CargoTrace,
            args(&["cargo-trace", "open", "a.trace"]),
        );
        for cli in [as_cargo, direct] {
            let Command::Open(r) = cli.command else {
                panic!("{cli:?}")
            };
            assert_eq!(r.file.as_deref(), Some(std::path::Path::new("a.trace")));
        }
        // The old name takes `trace` as what it is: no verb.
        let err = command(Binary::TraceRewriter)
            .try_get_matches_from(["trace-rewriter", "trace", "open"])
            .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidSubcommand);
    }

    #[test]
    fn a_fn_query_takes_the_file_only_when_two_are_given() {
        let cli = |a: &[&str]| {
            let mut all = vec!["cargo-trace"];
            all.extend(a);
            match parse(Binary::CargoTrace, all.iter().map(Into::into).collect()).command {
                Command::Chains(q) => (q.query.recorded.file, q.query.name),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(cli(&["chains", "db::get"]), (None, "db::get".to_string()));
        assert_eq!(
            cli(&["chains", "run.trace", "db::get"]),
            (Some(PathBuf::from("run.trace")), "db::get".to_string())
        );
    }
}
