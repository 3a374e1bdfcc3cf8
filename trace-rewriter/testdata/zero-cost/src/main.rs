//! Every shape `#[trace]` accepts, every value option (`args`, `args(..)`, `skip(..)`,
//! `skip_args`, `ret`, `err`, on fns and containers), and the chain API. Built with the feature
//! off, it must compile to the same machine code as with every annotation blanked out.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use trace_runtime::trace;

#[trace]
fn leaf(n: u64) -> u64 {
    if n % 7 == 0 {
        return n / 7;
    }
    n.wrapping_mul(2654435761) >> 3
}

#[trace(args, err)]
fn parse(s: &str) -> Result<u64, std::num::ParseIntError> {
    let n: u64 = s.trim().parse()?;
    Ok(leaf(n))
}

#[trace(args(n), ret)]
fn recurse(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        leaf(n) ^ recurse(n - 1)
    }
}

trait Shape {
    fn area(&self) -> u64;
    fn twice(&self) -> u64 {
        self.area() * 2
    }
}

struct Square(u64);

#[trace]
impl Shape for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }
}

#[trace]
mod store {
    pub struct Pool {
        pub slots: Vec<u64>,
    }

    impl Pool {
        pub fn get(&self, i: usize) -> Option<u64> {
            self.slots.get(i).copied()
        }

        pub const fn cap() -> usize {
            4
        }
    }

    pub fn fill(n: u64) -> Pool {
        Pool {
            slots: (0..n).map(super::leaf).collect(),
        }
    }
}

struct Client {
    base: u64,
}

#[trace(args)]
impl Client {
    #[trace(ret, err)]
    async fn get(&self, n: u64) -> Result<u64, String> {
        let v = self.base.checked_add(n).ok_or("overflow")?;
        Ok(v)
    }

    /// The shape `#[async_trait]` produces.
    #[trace(skip_args)]
    fn boxed(&self, n: u64) -> Pin<Box<dyn Future<Output = u64> + Send + '_>> {
        Box::pin(async move { self.base + n })
    }
}

#[trace(args, ret)]
async fn fetch(n: u64) -> u64 {
    leaf(n) + 1
}

#[trace]
async fn fetch_all(n: u64) -> u64 {
    let mut total = 0;
    for i in 0..n {
        total += fetch(i).await;
    }
    total
}

/// Work made in a fn to run elsewhere: an async block, one inside an async fn, an `async move`
/// closure, a thread spawn.
#[trace]
fn later(n: u64) -> impl Future<Output = u64> {
    async move { leaf(n) * 3 }
}

#[trace]
async fn nested_blocks(n: u64) -> u64 {
    let add = async move |x: u64| x + n;
    let inner = async move { add(2).await + later(n).await };
    inner.await
}

#[trace]
fn on_a_thread(n: u64) -> u64 {
    std::thread::spawn(move || leaf(n)).join().unwrap_or(0)
}

/// An error type without `Debug`: `err` records its type name.
struct Refused;

#[trace(args, skip(secret), err)]
fn check(n: u64, secret: &str) -> Result<u64, Refused> {
    if secret.len() as u64 > n {
        Err(Refused)
    } else {
        Ok(n)
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

#[trace]
fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "12".into());
    let n = parse(&arg).unwrap_or(3);
    let pool = store::fill(n.min(store::Pool::cap() as u64 * 4));
    let client = Client { base: n };
    let remote = block_on(client.get(n)).unwrap_or(0) + block_on(client.boxed(n));
    let total = recurse(n % 64) + Square(n).twice() + pool.get(1).unwrap_or(0) + block_on(fetch_all(n % 16)) + remote;
    let total = total + block_on(nested_blocks(n)) + on_a_thread(n);
    let total = total + check(n, &arg).unwrap_or(1);
    println!("{total} {}", trace_runtime::chain().len());
}
