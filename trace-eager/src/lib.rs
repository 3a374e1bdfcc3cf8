//! The return type of a traced `async fn`'s eager copy (see `trace-transform`'s `eager`
//! module): `impl Future<Output = T>`, written in this crate so that it captures every lifetime
//! in scope, whatever the edition of the crate that uses it.
//!
//! Which lifetimes an `impl Trait` return type captures follows the edition of its `impl`
//! token. Before edition 2024 it captures none unless named, so the eager copy of an `async`
//! method in `impl Parser<'_>` or `impl<'a> Store<'a>`, whose future holds `&self` and with it
//! the impl's lifetime, would not compile, and a method's tokens cannot see that lifetime to
//! name it (an attribute on the method sees the method alone).
//! Tokens a `macro_rules!` macro produces keep the edition of the crate that defines it: this
//! one is edition 2024, so the `impl` below captures everything an `async fn` would.
#![warn(missing_docs)]
#![no_std]

/// `impl Future<Output = $t>` that captures every generic parameter and lifetime in scope, as
/// an `async fn`'s future does.
///
/// ```
/// struct Config<'a>(&'a str);
/// // The future borrows `config`, whose lifetime the signature does not name.
/// fn length(config: Config) -> trace_eager::future!(usize) {
///     async move { config.0.len() }
/// }
/// let text = String::from("abc");
/// let _future = length(Config(&text));
/// ```
#[macro_export]
macro_rules! future {
    ($t:ty) => {
        impl ::core::future::Future<Output = $t>
    };
}
