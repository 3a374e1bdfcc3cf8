//! Following a chain across `std::thread::spawn`: drop-ins for `std::thread::spawn`, `Builder`
//! and `scope` whose threads' chains start with the chain that spawned them, and [`Origin`],
//! the same link by hand for thread pools and custom executors.

use std::io;
use std::thread::{JoinHandle, Scope, ScopedJoinHandle};

/// Where a chain was: capture it in one place, adopt it in another, and the chains of the
/// traced calls made while it is adopted start with the captured one (`a -> b => c`).
///
/// For thread pools and executors that run work elsewhere than where it was submitted:
///
/// ```
/// use trace_runtime::thread::Origin;
///
/// let origin = Origin::capture(); // in the submitting call
/// std::thread::spawn(move || {
///     origin.adopt(|| {
///         // traced calls here show the submitting chain first
///     })
/// })
/// .join()
/// .unwrap();
/// ```
///
/// With rayon: `let origin = Origin::capture(); items.par_iter().for_each(|x| origin.adopt(|| work(x)));`
#[derive(Clone, Default)]
pub struct Origin {
    #[cfg(feature = "enable")]
    node: Option<std::sync::Arc<crate::capture::node::Node>>,
    /// The `tracing` span current at the capture: the parent of the adopted work's spans.
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

impl Origin {
    /// The calling thread's innermost traced frame (none outside traced code, or with tracing
    /// off).
    ///
    /// ```
    /// let origin = trace_runtime::thread::Origin::capture();
    /// # drop(origin);
    /// ```
    pub fn capture() -> Origin {
        Origin {
            #[cfg(feature = "enable")]
            node: crate::capture::node::creator(),
            #[cfg(feature = "tracing")]
            span: crate::capture::bridge::creator(),
        }
    }

    /// Runs `f` with this origin adopted: traced calls it makes at the bottom of the thread's
    /// stack are linked to the captured frame. Returns what `f` returns.
    ///
    /// ```
    /// let origin = trace_runtime::thread::Origin::capture();
    /// assert_eq!(origin.adopt(|| 1 + 1), 2);
    /// ```
    pub fn adopt<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "enable")]
        {
            struct Restore(Option<Option<std::sync::Arc<crate::capture::node::Node>>>);
            impl Drop for Restore {
                fn drop(&mut self) {
                    if let Some(previous) = self.0.take() {
                        crate::capture::node::unadopt(previous);
                    }
                }
            }
            let _restore = Restore(crate::capture::node::adopt(self.node.clone()));
            #[cfg(feature = "tracing")]
            let _span = crate::capture::bridge::adopt(self.span.as_ref());
            f()
        }
        #[cfg(not(feature = "enable"))]
        f()
    }
}

/// Wraps a closure to run elsewhere (another thread, a pool, `spawn_blocking`) so that the
/// traced calls it makes continue the chain of the call that wrapped it: `Origin::capture()`
/// now, `adopt` when it runs.
///
/// ```
/// let work = trace_runtime::thread::follow(|| 40 + 2);
/// assert_eq!(std::thread::spawn(work).join().unwrap(), 42);
/// ```
pub fn follow<F, T>(f: F) -> impl FnOnce() -> T
where
    F: FnOnce() -> T,
{
    let origin = Origin::capture();
    move || origin.adopt(f)
}

/// `std::thread::spawn`, with the new thread's chains starting with the caller's.
///
/// ```
/// let handle = trace_runtime::thread::spawn(|| 1 + 1);
/// assert_eq!(handle.join().unwrap(), 2);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    std::thread::spawn(follow(f))
}

/// `std::thread::scope`'s scope, whose spawned threads' chains start with the caller's.
#[derive(Clone, Copy)]
pub struct TracedScope<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
}

impl<'scope, 'env> TracedScope<'scope, 'env> {
    /// `Scope::spawn`, following the chain.
    ///
    /// ```
    /// let mut total = 0;
    /// trace_runtime::thread::scope(|s| {
    ///     s.spawn(|| total += 1);
    /// });
    /// assert_eq!(total, 1);
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let origin = Origin::capture();
        self.scope.spawn(move || origin.adopt(f))
    }
}

/// `std::thread::scope`, whose spawned threads' chains start with the caller's.
///
/// ```
/// let n = trace_runtime::thread::scope(|s| s.spawn(|| 2).join().unwrap());
/// assert_eq!(n, 2);
/// ```
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(TracedScope<'scope, 'env>) -> T,
{
    std::thread::scope(|s| f(TracedScope { scope: s }))
}

/// `std::thread::Builder`, following the chain into the thread it spawns.
///
/// ```
/// let handle = trace_runtime::thread::Builder::new().name("worker".into()).spawn(|| 3).unwrap();
/// assert_eq!(handle.join().unwrap(), 3);
/// ```
#[derive(Debug)]
pub struct Builder(std::thread::Builder);

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// `std::thread::Builder::new`.
    ///
    /// ```
    /// let handle = trace_runtime::thread::Builder::new().spawn(|| 1).unwrap();
    /// assert_eq!(handle.join().unwrap(), 1);
    /// ```
    pub fn new() -> Builder {
        Builder(std::thread::Builder::new())
    }

    /// Names the thread (the name every trace line of the thread shows).
    ///
    /// ```
    /// let handle = trace_runtime::thread::Builder::new()
    ///     .name("worker".into())
    ///     .spawn(|| std::thread::current().name().map(String::from))
    ///     .unwrap();
    /// assert_eq!(handle.join().unwrap().as_deref(), Some("worker"));
    /// ```
    pub fn name(self, name: String) -> Builder {
        Builder(self.0.name(name))
    }

    /// Sets the thread's stack size.
    ///
    /// ```
    /// let handle = trace_runtime::thread::Builder::new()
    ///     .stack_size(4 << 20)
    ///     .spawn(|| 5)
    ///     .unwrap();
    /// assert_eq!(handle.join().unwrap(), 5);
    /// ```
    pub fn stack_size(self, size: usize) -> Builder {
        Builder(self.0.stack_size(size))
    }

    /// `std::thread::Builder::spawn`, following the chain: the thread's traced calls continue
    /// the caller's chain (`caller => first traced fn of the thread`).
    ///
    /// ```
    /// let handle = trace_runtime::thread::Builder::new().spawn(|| "done").unwrap();
    /// assert_eq!(handle.join().unwrap(), "done");
    /// ```
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let origin = Origin::capture();
        self.0.spawn(move || origin.adopt(f))
    }
}
