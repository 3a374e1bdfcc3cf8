#![allow(unexpected_cfgs)]
use trace_runtime::trace;

struct Store;

#[trace(args, ret)]
impl Store {
    fn get(&self, id: u64) -> u64 {
        id
    }
}

fn main() {
    Store.get(1);
}
