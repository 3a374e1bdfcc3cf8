use trace_runtime::trace;

struct Row;

#[trace(ret)]
fn get(id: u64) -> Row {
    let _ = id;
    Row
}

fn main() {
    get(1);
}
