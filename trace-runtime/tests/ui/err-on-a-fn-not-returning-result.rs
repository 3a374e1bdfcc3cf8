#![allow(unexpected_cfgs)]
use trace_runtime::trace;

#[trace(err)]
fn find(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {
    find(1);
}
