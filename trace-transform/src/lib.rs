//! The one transform behind both front ends: the `#[trace]` attribute and the `trace-rewriter` CLI.
//!
//! It decides which fns get a guard ([`rules`]), what they are called ([`name`]), what the guard
//! statement is ([`guard`]), and walks items to find them ([`walk`]). The macro front end applies
//! it to a token tree ([`expand()`]); the rewriter applies the same walk to a parsed file and splices
//! the same statement into the original text by byte offset.
#![warn(missing_docs)]

pub mod args;
pub mod eager;
pub mod expand;
pub mod guard;
pub mod link;
pub mod name;
pub mod print;
pub mod rules;
pub mod values;
pub mod walk;

pub use args::TraceArgs;
pub use expand::expand;
pub use guard::GuardSpec;
pub use name::FnName;
pub use rules::{Options, SkipReason};
pub use walk::{walk_file, walk_item, FnAction, Found, Visit};
