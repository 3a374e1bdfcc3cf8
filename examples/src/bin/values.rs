//! Arguments, return values and errors in the trace: `args`, `skip(..)`, `ret`, `err` (an error
//! type with `Debug` and one without), a `?` chain of `Err` exits, a value cut at
//! `TRACE_VALUE_MAX`, a `Debug` that panics and one that calls a traced fn, and an async fn's
//! arguments and output. `values loop N`: only `db::get` N times (the collector's memory for
//! values stays bounded).

use std::fmt;

use trace_runtime::trace;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    id: u64,
}

#[derive(Debug)]
pub enum DbError {
    NotFound,
}

/// An error type without `Debug`: `err` records its type name.
pub struct Refused;

/// A `Debug` that panics: recorded as `<panicked>`, the program goes on.
pub struct Bomb;

impl fmt::Debug for Bomb {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Bomb cannot be shown")
    }
}

/// A `Debug` that calls a traced fn: that call is not traced (it would nest into the line
/// being written).
pub struct Described(u64);

impl fmt::Debug for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Described({})", db::describe(self.0))
    }
}

pub mod db {
    use super::*;

    #[trace(args, ret)]
    pub fn get(id: u64, key: &str) -> Option<User> {
        (id == 42 && key.starts_with("user:")).then_some(User { id })
    }

    #[trace(args, err)]
    pub fn read(id: u64) -> Result<u64, DbError> {
        if id == 7 {
            Err(DbError::NotFound)
        } else {
            Ok(id * 2)
        }
    }

    #[trace(args, skip(password), ret)]
    pub fn login(user: &str, password: &str) -> bool {
        user.len() == password.len()
    }

    #[trace(err)]
    pub fn check(id: u64) -> Result<(), Refused> {
        if id == 0 {
            Err(Refused)
        } else {
            Ok(())
        }
    }

    #[trace]
    pub fn describe(n: u64) -> u64 {
        n + 1
    }
}

#[trace(args, err)]
fn load(id: u64) -> Result<u64, DbError> {
    let n = db::read(id)?;
    Ok(n + 1)
}

#[trace(args, ret, err)]
fn serve(id: u64) -> Result<u64, DbError> {
    let n = load(id)?;
    Ok(n)
}

#[trace(args)]
fn show(text: &str, bomb: Bomb, described: Described) -> usize {
    let _ = (bomb, described);
    text.len()
}

/// An async fn: its arguments show on its enter and its output on its exit, as a sync fn's.
#[trace(args, ret)]
async fn fetch(id: u64, key: &str) -> Option<u64> {
    std::future::ready(()).await;
    key.starts_with("user:").then_some(id * 10)
}

#[trace]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, n] = &args[..] {
        assert_eq!(mode, "loop", "usage: values [loop N]");
        for i in 0..n.parse::<u64>().expect("a number of calls") {
            db::get(i, "user:7");
        }
        return;
    }
    db::get(42, "user:7");
    db::get(1, "user:1");
    let _ = serve(3);
    let _ = serve(7);
    db::login("ñññ", "secret");
    let _ = db::check(0);
    show(&"x".repeat(100), Bomb, Described(1));
    futures::executor::block_on(fetch(5, "user:5"));
}
