use trace_runtime::trace;

#[trace(name = "a", name = "b")]
fn get() {}

fn main() {
    get();
}
