use trace_runtime::trace;

#[trace]
const fn limit() -> u32 {
    8
}

fn main() {
    let _ = limit();
}
