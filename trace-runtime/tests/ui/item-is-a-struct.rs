use trace_runtime::trace;

#[trace]
struct Pool {
    size: u32,
}

fn main() {
    // The struct is still emitted: using it raises no second error.
    let pool = Pool { size: 1 };
    let _ = pool.size;
}
