use trace_runtime::trace;

#[trace(level = "debug")]
fn get() -> u32 {
    1
}

fn main() {
    get();
}
