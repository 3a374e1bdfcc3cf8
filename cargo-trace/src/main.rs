//! `cargo-trace`, run by cargo as `cargo trace <verb>`: the whole program is
//! `trace_rewriter::commands`.

fn main() -> std::process::ExitCode {
    trace_rewriter::commands::main(trace_rewriter::cli::Binary::CargoTrace)
}
