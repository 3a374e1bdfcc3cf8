use trace_runtime::trace;

#[trace(skip, name = "x")]
fn get() {}

fn main() {
    get();
}
