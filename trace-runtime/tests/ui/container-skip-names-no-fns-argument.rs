#![allow(unexpected_cfgs)]
use trace_runtime::trace;

struct Auth;

// A mistyped `skip` on a container would record the secret it meant to leave out: an error.
#[trace(args, skip(pasword))]
impl Auth {
    fn login(&self, user: &str, password: &str) -> bool {
        user == password
    }
    fn logout(&self, user: &str) -> bool {
        user.is_empty()
    }
}

fn main() {
    Auth.login("a", "b");
    Auth.logout("a");
}
