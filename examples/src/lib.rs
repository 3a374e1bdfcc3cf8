//! The Rust code the docs show, compiled and run as doctests: the README's tour and the pages of
//! `docs/` that hold Rust blocks. The crate has no code of its own; its binaries are the demos.
#![doc = include_str!("../../README.md")]

/// `docs/annotate.md`: where `#[trace]` goes.
#[doc = include_str!("../../docs/annotate.md")]
pub mod annotate {}

/// `docs/async.md`: tasks, spawns and threads.
#[doc = include_str!("../../docs/async.md")]
pub mod async_and_spawns {}
