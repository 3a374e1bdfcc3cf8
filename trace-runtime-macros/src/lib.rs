//! The `#[trace]` attribute. A thin shim: the transform lives in `trace-transform`, which the
//! `trace-rewriter` CLI shares, so both front ends emit the same guard under the same names.
//!
//! Use it through `trace_runtime::trace`; see that crate for the full documentation.
#![warn(missing_docs)]

use proc_macro::TokenStream;

/// Traces a fn, every method of an impl, every default method of a trait, or every fn inside an
/// inline mod. Documented on `trace_runtime::trace`.
#[proc_macro_attribute]
pub fn trace(attr: TokenStream, item: TokenStream) -> TokenStream {
    trace_transform::expand(attr.into(), item.into()).into()
}
