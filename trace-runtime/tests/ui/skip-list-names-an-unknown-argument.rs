#![allow(unexpected_cfgs)]
use trace_runtime::trace;

struct Store;

#[trace(args)]
impl Store {
    #[trace(skip(pasword))]
    fn login(&self, user: &str, password: &str) -> bool {
        user == password
    }
}

fn main() {
    Store.login("a", "b");
}
