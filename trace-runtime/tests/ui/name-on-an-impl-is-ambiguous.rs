use trace_runtime::trace;

struct Pool;

#[trace(name = "pool")]
impl Pool {
    fn get(&self) {}
}

fn main() {
    Pool.get();
}
