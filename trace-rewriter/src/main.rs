//! `trace-rewriter`: the old name of `cargo trace`, the same program, kept for one release.

fn main() -> std::process::ExitCode {
    trace_rewriter::commands::main(trace_rewriter::cli::Binary::TraceRewriter)
}
