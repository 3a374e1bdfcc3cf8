//! The command line: subcommands, options and help, parsed by clap into plain structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  trace-rewriter instrument .                 instrument this crate in place
  cargo run --features trace                  run it traced
  trace-rewriter remove .                     put every byte back
  trace-rewriter run . -- test                trace a copy under target/, run its tests
  trace-rewriter run . -- run --bin app       trace a copy, run a binary
  trace-rewriter instrument . --check         exit 1 and list files that would change
  trace-rewriter instrument src/lib.rs --diff print the change, write nothing

Exit codes: 0 done, 1 --check found files to change, 2 bad input (nothing written),
3 internal error (the tool's own work failed: writing a file or the traced copy, running
cargo; the message names the path), `run` otherwise exits with the status of the cargo
command it ran.";

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
    Instrument(Instrument),
    /// Take out exactly what `instrument` added.
    Remove(Remove),
    /// Instrument a copy under the crate's target directory and run cargo there with the
    /// `trace` feature on. The crate's own files are left untouched.
    Run(Run),
    /// Print one file as it will compile once instrumented (pretty-printed, comments dropped).
    Preview(Preview),
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

#[derive(Args, Debug)]
pub struct Instrument {
    #[command(flatten)]
    pub select: Select,
    #[command(flatten)]
    pub dry: DryRun,
    #[command(flatten)]
    pub runtime: RuntimeSource,
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

    /// The cargo command to run in the copy, e.g. `test` or `run --bin app -- ARGS`.
    #[arg(last = true, required = true, value_name = "CARGO ARGS")]
    pub cargo: Vec<String>,
}

#[derive(Args, Debug)]
pub struct Preview {
    /// The `.rs` file to show.
    pub file: PathBuf,
}
