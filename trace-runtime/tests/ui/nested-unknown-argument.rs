// The test crate declares no `trace` feature; its cfg warning is not what this test is about.
#![allow(unexpected_cfgs)]

use trace_runtime::trace;

#[trace]
mod db {
    #[trace(skp)]
    pub fn get() {}
}

fn main() {
    db::get();
}
