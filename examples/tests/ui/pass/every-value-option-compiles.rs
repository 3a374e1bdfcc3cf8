//! Every value option on every shape of fn compiles traced and runs: `err` on error types with
//! and without `Debug` (a generic one without the bound too), `?` inside a held body, early
//! `return`, `impl Trait` output, async fns and methods, container defaults with overrides.

use std::fmt::Debug;

use trace_runtime::trace;

#[derive(Debug, Clone, Copy, PartialEq)]
struct User {
    id: u64,
}

/// An error type without `Debug`: `err` records its type name.
struct Opaque;

#[trace(args, skip(password))]
fn login(user: &str, password: &str) -> bool {
    user.len() == password.len()
}

#[trace(args(id), ret)]
fn get(id: u64, _cache: &mut Vec<u8>) -> Option<User> {
    if id == 0 {
        return None;
    }
    Some(User { id })
}

#[trace(err)]
fn parse(text: &str) -> Result<u64, std::num::ParseIntError> {
    let n: u64 = text.trim().parse()?;
    Ok(n * 2)
}

#[trace(ret, err)]
fn read(path: &str) -> std::io::Result<usize> {
    Ok(std::fs::read(path)?.len())
}

#[trace(err)]
fn opaque(fail: bool) -> Result<(), Opaque> {
    if fail {
        Err(Opaque)
    } else {
        Ok(())
    }
}

#[trace(args, err)]
fn generic<E>(e: Option<E>) -> Result<u8, E> {
    match e {
        Some(e) => Err(e),
        None => Ok(1),
    }
}

#[trace(ret)]
fn debug_iter(v: &[u8]) -> impl Debug + '_ {
    v.iter().max()
}

#[derive(Debug)]
struct Store {
    users: Vec<User>,
}

#[trace(args)]
impl Store {
    #[trace(args(self, id), ret)]
    fn find(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    #[trace(skip_args)]
    fn add(&mut self, user: User) {
        self.users.push(user)
    }

    #[trace(skip(token), err)]
    fn remove(&mut self, id: u64, token: &str) -> Result<User, String> {
        let at = self.users.iter().position(|u| u.id == id).ok_or(token.to_string())?;
        Ok(self.users.remove(at))
    }

    #[trace(ret)]
    async fn count(&self, min: u64) -> usize {
        self.users.iter().filter(|u| u.id >= min).count()
    }
}

#[trace(args, ret, err)]
async fn fetch(store: &Store, id: u64) -> Result<u64, String> {
    let n = store.count(id).await;
    if n == 0 {
        return Err(format!("no user from {id}"));
    }
    Ok(n as u64)
}

/// A container's `skip(..)` holds for the fns that take that argument; the others record
/// what they have.
struct Auth;

#[trace(args, skip(password))]
impl Auth {
    fn login(&self, user: &str, password: &str) -> bool {
        user == password
    }
    fn logout(&self, user: &str) -> bool {
        user.is_empty()
    }
}

fn main() {
    assert!(!Auth.login("a", "b"));
    assert!(!Auth.logout("a"));
    assert!(login("ab", "cd"));
    assert_eq!(get(0, &mut Vec::new()), None);
    assert_eq!(get(7, &mut Vec::new()), Some(User { id: 7 }));
    assert_eq!(parse(" 21 "), Ok(42));
    assert!(parse("x").is_err());
    assert!(read("/nonexistent/file").is_err());
    assert!(opaque(true).is_err() && opaque(false).is_ok());
    assert!(generic::<Opaque>(Some(Opaque)).is_err());
    assert_eq!(format!("{:?}", debug_iter(&[1, 3, 2])), "Some(3)");
    let mut store = Store { users: Vec::new() };
    store.add(User { id: 1 });
    assert_eq!(store.find(1), Some(&User { id: 1 }));
    assert_eq!(store.remove(2, "t"), Err("t".to_string()));
    assert_eq!(store.remove(1, "t"), Ok(User { id: 1 }));
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut fut = std::pin::pin!(fetch(&store, 1));
    assert_eq!(
        fut.as_mut().poll(&mut cx),
        std::task::Poll::Ready(Err("no user from 1".to_string()))
    );
}

use std::future::Future;
