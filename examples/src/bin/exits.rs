//! Every way out of a traced fn, and every fn shape the attribute accepts. The integration
//! tests run this and assert its exact tree.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use trace_runtime::trace;

#[trace]
fn early_return(n: u32) -> u32 {
    if n > 1 {
        return n;
    }
    0
}

#[trace]
fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
    s.parse::<u32>()
}

#[trace]
fn question_mark(s: &str) -> Result<u32, std::num::ParseIntError> {
    let n = parse(s)?;
    Ok(n + 1)
}

#[trace]
fn boom() {
    panic!("boom");
}

#[trace]
fn catches() -> bool {
    std::panic::catch_unwind(boom).is_err()
}

#[trace]
fn diverges() -> ! {
    panic!("never returns");
}

#[trace]
fn recurse(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        1 + recurse(n - 1)
    }
}

#[trace]
fn longest<'a, T>(a: &'a [T], b: &'a [T]) -> &'a [T]
where
    T: Clone,
{
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[trace]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

/// # Safety
/// `p` must point to a live u32.
#[trace]
unsafe fn read(p: *const u32) -> u32 {
    *p
}

#[trace]
fn outer() -> u32 {
    fn inner() -> u32 {
        7
    }
    inner()
}

struct Counter {
    n: u32,
}

// Box<Self> is one of the receivers under test.
#[allow(clippy::boxed_local)]
#[trace]
impl Counter {
    fn by_value(self) -> u32 {
        self.n
    }

    fn by_ref(&self) -> u32 {
        self.n
    }

    fn by_mut(&mut self) {
        self.n += 1;
    }

    fn boxed(self: Box<Self>) -> u32 {
        self.n
    }

    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.n
    }
}

#[trace]
async fn fetch(n: u32) -> u32 {
    n + 1
}

#[trace]
async fn fetch_twice() -> u32 {
    fetch(1).await + fetch(2).await
}

/// Polls a future to completion on this thread: enough for a demo, no executor needed.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[trace]
fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    early_return(5);
    early_return(0);
    let _ = question_mark("x");
    let _ = question_mark("1");
    catches();
    let _ = std::thread::Builder::new()
        .name("diverges".into())
        .spawn(|| diverges())
        .expect("spawn")
        .join();
    recurse(2);
    longest(&[1, 2], &[3]);
    evens(4).count();
    let x = 5;
    // SAFETY: `x` is a live u32.
    unsafe { read(&x) };
    outer();
    let mut c = Counter { n: 1 };
    c.by_mut();
    c.by_ref();
    std::pin::pin!(Counter { n: 2 }).as_mut().pinned();
    Box::new(Counter { n: 3 }).boxed();
    c.by_value();
    block_on(fetch_twice());
}
