use trace_runtime::trace;

#[trace]
mod elsewhere;

fn main() {}
