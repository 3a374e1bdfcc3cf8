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
  trace-rewriter instrument .                 instrument this crate in place
  cargo run --features trace                  run it traced
  trace-rewriter remove .                     put every byte back
  trace-rewriter run . -- test                trace a copy under target/, run its tests
  trace-rewriter run . -- run --bin app       trace a copy, run a binary
  trace-rewriter instrument . --check         exit 1 and list files that would change
  trace-rewriter instrument src/lib.rs --diff print the change, write nothing
  TRACE_RECORD=run.trace cargo run --features trace
                                              record a run, then look at it many ways:
  trace-rewriter replay run.trace --focus db::get
  trace-rewriter report run.trace --sort self
  trace-rewriter report run.trace --sort busy   async fns by time inside polls, not waiting",
    exit_codes!()
);

/// What `instrument`, `remove` and `run` end their help with.
const EXIT_CODES: &str = exit_codes!().trim_ascii_start();

/// Instrument a whole crate with call tracing, undo it exactly, or trace a copy.
#[derive(Parser, Debug)]
#[command(name = "trace-rewriter", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Insert an enter/exit guard at the top of every fn with a body, and wire the `trace`
    /// feature into Cargo.toml.
    #[command(after_help = EXIT_CODES)]
    Instrument(Instrument),
    /// Take out exactly what `instrument` added.
    #[command(after_help = EXIT_CODES)]
    Remove(Remove),
    /// Instrument a copy under the crate's target directory and run cargo there with the
    /// `trace` feature on. The crate's own files are left untouched.
    #[command(after_help = EXIT_CODES)]
    Run(Run),
    /// Print one file as it will compile once instrumented (pretty-printed, comments dropped).
    Preview(Preview),
    /// Print a recording's call trees: every thread's, then every task's, each in time order.
    #[command(after_help = REPLAY_EXAMPLES)]
    Replay(Replay),
    /// Per fn calls, total (wall) and busy time, self, min, mean and max time of a recording.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(Report),
    /// Every distinct chain of calls that reached a fn, with calls, total and max time.
    #[command(after_help = CHAINS_EXAMPLES)]
    Chains(ChainsQuery),
    /// Where errors were born: each fn where an `Err` exit (`#[trace(err)]`) originated, the
    /// innermost of its `?` chain, with the chains that reached it and how often.
    #[command(after_help = ERRORS_EXAMPLES)]
    Errors(Recorded),
    /// A fn's callers and callees, weighted by calls and time.
    #[command(after_help = GRAPH_EXAMPLES)]
    Graph(FnQuery),
    /// Frames still open when the recording ended, with their chains and how long they were open.
    #[command(after_help = OPEN_EXAMPLES)]
    Open(Recorded),
    /// Print a recording exactly as the run printed it live with that TRACE_FORMAT.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(Export),
    /// Compare two recordings: per fn and per chain, calls, total and busy time before and after.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(Diff),
}

/// What every viewer command's help ends with.
macro_rules! read_notes {
    () => {
        "

FILE is a recording made with TRACE_RECORD=FILE. FN names fns as TRACE_FILTER and TRACE_FOCUS
do: a fn's full name, or whole `::` segments at its end (`get`, `db::get`, never `mydb::get`)
or at its start (`demo::db`: everything in it); `<Cat as Animal>::speak` for a trait method. An
FN that names several fns lists them on stderr; chains and graph show each on its own. A
recording cut short is read up to its last complete chunk, and what was lost is said on stderr.
Output to a terminal is coloured (NO_COLOR turns it off). Exit codes: 0 done, 2 bad input
(not a readable recording, an unknown fn)."
    };
}

const REPLAY_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter replay run.trace                      every tree
  trace-rewriter replay run.trace --focus db::get      only the chains through db::get
  trace-rewriter replay run.trace --min 10us --depth 3 no short calls, nothing deeper than 3
  trace-rewriter replay run.trace --task 7 --since 1.5ms --until 20ms

A frame left out by --exclude, --depth, --thread, --task, --since or --until takes only
itself out: the frames it called stay at their recorded depth, as with TRACE_FILTER. --min
takes a short call out with everything it called.",
    read_notes!()
);

const REPORT_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter report run.trace                      by total time
  trace-rewriter report run.trace --sort self          where the time is spent
  trace-rewriter report run.trace --sort busy          by time inside polls (an async fn that
                                                       mostly waits sinks; total is wall time)
  trace-rewriter report run.trace --json > report.json the TRACE_SUMMARY_JSON document

A recording of 100,000 events or more ends with the few fns that make most of them, and the
TRACE_FILTER line that leaves them out of the next run (on stderr with --json).",
    read_notes!()
);

const CHAINS_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter chains run.trace d                    who reached d (each d on its own)
  trace-rewriter chains run.trace demo::db::get
  trace-rewriter chains run.trace db::read --err       who reached db::read when it returned Err",
    read_notes!()
);

const ERRORS_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter errors run.trace                      where each error came from",
    read_notes!()
);

const GRAPH_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter graph run.trace db::get               who calls db::get, whom it calls",
    read_notes!()
);

const OPEN_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter open run.trace                        what never finished",
    read_notes!()
);

const EXPORT_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter export run.trace --format chrome > trace.json   open it in ui.perfetto.dev
  trace-rewriter export run.trace --format folded | inferno-flamegraph > flame.svg

The output is byte for byte what the run wrote with TRACE_FORMAT=FORMAT (and TRACE_FOCUS,
TRACE_SUMMARY, TRACE_FILTER=min=.. for --focus, --summary, --min). Reports go where the run
sent them: into the trace for human and folded, to stderr for jsonl and chrome.",
    read_notes!()
);

const DIFF_EXAMPLES: &str = concat!(
    "\
Examples:
  trace-rewriter diff before.trace after.trace         what changed, largest change first
  trace-rewriter diff before.trace after.trace --sort busy
                                                       by the change in time inside polls",
    read_notes!()
);

/// A recording to read.
#[derive(Args, Debug, Clone)]
pub struct Recorded {
    /// The recording (made with TRACE_RECORD=FILE).
    pub file: PathBuf,
}

/// Which frames `replay` shows.
#[derive(Args, Debug, Clone, Default)]
pub struct Filters {
    /// Only the chains through FN (its full name, or whole `::` segments at its end or start),
    /// with everything under it.
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

    /// The TRACE_FORMAT to print as.
    #[arg(long, value_parser = formats())]
    pub format: Format,

    /// As TRACE_FOCUS=FN did: the chains reaching FN instead of the events.
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
    /// The recording after.
    pub after: PathBuf,

    /// Order rows by the size of the change in total (wall) time, busy time (inside polls) or
    /// calls.
    #[arg(long, value_name = "KEY", value_parser = sort_keys(Sort::DIFF_NAMES), default_value = "total")]
    pub sort: Sort,
}

/// What to instrument and how to report.
#[derive(Args, Debug, Clone, Default)]
pub struct Select {
    /// A crate directory, a workspace directory (every member), or one `.rs` file.
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
    /// Path to a `trace-runtime` directory [default: the one beside this tool's sources].
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

    /// The cargo command to run in the copy, e.g. `test` or `run --bin app -- ARGS`.
    #[arg(last = true, required = true, value_name = "CARGO ARGS")]
    pub cargo: Vec<String>,
}

#[derive(Args, Debug)]
pub struct Preview {
    /// The `.rs` file to show.
    pub file: PathBuf,
}
