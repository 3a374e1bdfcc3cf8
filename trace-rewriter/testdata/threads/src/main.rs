//! Threads started three ways from a traced fn; each continues the chain of the call that
//! started it.
#![allow(clippy::needless_return)]

mod pool;

use std::thread;

fn main() {
    let total = pool::fan_out();
    // A spawn inside a macro call is out of the rewriter's sight: left alone.
    println!("{:?}", thread::spawn(|| 1).join().map(|n| n + total));
}
