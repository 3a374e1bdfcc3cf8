#![allow(unexpected_cfgs)]
use trace_runtime::trace;

#[trace(args(id, nme))]
fn get(id: u64, name: &str) -> usize {
    id as usize + name.len()
}

fn main() {
    get(1, "a");
}
