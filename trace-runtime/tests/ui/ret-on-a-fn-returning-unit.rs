#![allow(unexpected_cfgs)]
use trace_runtime::trace;

#[trace(ret)]
fn put(id: u64) {
    let _ = id;
}

fn main() {
    put(1);
}
