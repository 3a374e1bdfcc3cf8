//! Every shape of fn `instrument --err` meets: which get `err`, which are left as they are.
mod store;

use std::fmt;
use std::future::Future;
use std::io;

/// A crate's own alias, with generics: gets `err`.
pub type Result<T> = std::result::Result<T, Error>;

/// An error type without `Debug`: recorded by its type name.
pub struct Error(&'static str);

impl fmt::Display for Error {
    // `fmt::Result`: left without `err`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

fn parse(text: &str) -> std::result::Result<u32, std::num::ParseIntError> {
    text.trim().parse()
}

// `?` and `return` inside, a closure inside.
fn total(texts: &[&str]) -> Result<u32> {
    if texts.is_empty() {
        return Err(Error("empty"));
    }
    let each = |t: &str| parse(t).map_err(|_| Error("not a number"));
    let mut sum = 0;
    for t in texts {
        sum += each(t)?;
    }
    Ok(sum)
}

fn read(path: &str) -> io::Result<String> {
    std::fs::read_to_string(path)
}

// Generic, with an error boxed and coerced to `Box<dyn Error>` by `return`.
fn first<T: Clone + fmt::Debug + 'static>(
    items: &[T],
) -> std::result::Result<T, Box<dyn std::error::Error>> {
    if items.is_empty() {
        return Err(Box::new(fmt::Error));
    }
    Ok(items[0].clone())
}

// Not a `Result`: left without `err`.
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

/// An `unsafe fn` keeps its guard only: its body cannot move into a closure.
unsafe fn raw(ptr: *const u32) -> std::result::Result<u32, Error> {
    if ptr.is_null() {
        return Err(Error("null"));
    }
    Ok(*ptr)
}

async fn fetch(key: &str) -> std::result::Result<u32, String> {
    store::lookup(key).ok_or_else(|| format!("no {key}"))
}

fn main() {
    let _ = total(&["1", "2"]);
    let _ = total(&["1", "x"]);
    let _ = read("/nonexistent/errors-fixture");
    let _ = first::<u8>(&[]);
    let mut shelf = store::Shelf::default();
    let _ = shelf.slot(3).map(|s| *s = 1).map_err(|missing| missing.0);
    let _ = <store::Shelf as store::Check>::check(&shelf);
    let _ = store::must(None);
    let _ = evens(4).count();
    // SAFETY: a null pointer is never read.
    let _ = unsafe { raw(std::ptr::null()) };
    let mut fetching = std::pin::pin!(fetch("a"));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = fetching.as_mut().poll(&mut cx);
}
