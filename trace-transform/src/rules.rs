//! Which fns get a guard: the skip rules both front ends share, and the attributes they read.

use std::fmt;

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use crate::args::TraceArgs;

/// How a front end walks items.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Trace `#[test]` fns and `#[cfg(test)]` modules found inside a traced item.
    pub include_tests: bool,
    /// The macro consumes a nested `#[trace(...)]` and applies its arguments itself; the rewriter
    /// leaves an item that carries its own `#[trace]` to the macro, so nothing is traced twice.
    pub consume_nested_attrs: bool,
    /// Trace `#[inline(always)]` fns: the macro does (it was asked to), the rewriter only when
    /// told to, as such fns are the ones called billions of times in a crate's innermost loops.
    pub include_inline_always: bool,
    /// The rewriter's `instrument --err`: every fn whose return type is written `Result<..>`
    /// records its `Err` returns, as if it carried `#[trace(err)]` (see
    /// [`crate::values::adds_err`]). The macro records only what its attributes ask.
    pub add_err: bool,
}

/// Why a fn was left without a guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A `const fn` may run at compile time, where a guard cannot live.
    ConstFn,
    /// `#[trace(skip)]`, directly or inside `cfg_attr`.
    OptedOut,
    /// It, or the item around it, carries `#[trace]`, which traces it at compile time.
    HasTraceAttr,
    /// A `#[test]` fn or inside a `#[cfg(test)]` module.
    TestCode,
    /// Its body already starts with a guard.
    AlreadyInstrumented,
    /// A method of a `GlobalAlloc` or `Allocator` impl that does not carry `#[trace]` itself.
    AllocatorImpl,
    /// `#[inline(always)]`, left out by the rewriter unless asked (`--inline-always`).
    InlineAlways,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::ConstFn => "const fn: may run at compile time, where a guard cannot live",
            SkipReason::OptedOut => "opted out with #[trace(skip)]",
            SkipReason::HasTraceAttr => "carries #[trace], which traces it at compile time",
            SkipReason::TestCode => "test code (include it with --tests)",
            SkipReason::AlreadyInstrumented => "already instrumented",
            SkipReason::InlineAlways => {
                "#[inline(always)]: made to vanish into its callers, and called too often to record (include it with --inline-always)"
            }
            SkipReason::AllocatorImpl => {
                "allocator impl: every allocation would be traced (put #[trace] on the impl to trace it)"
            }
        })
    }
}

/// Whether a path names the `#[trace]` attribute: `trace`, `trace_runtime::trace`, or any
/// re-export ending in `trace`.
pub fn is_trace_path(path: &syn::Path) -> bool {
    path.segments.last().is_some_and(|s| s.ident == "trace")
}

/// The `#[trace(...)]` attributes on an item, direct or inside `cfg_attr`, with their arguments.
/// A `cfg_attr` is read whatever its predicate: skipping more than asked is the safe side.
pub fn trace_attrs(attrs: &[Attribute]) -> syn::Result<Vec<(usize, TraceArgs)>> {
    let mut found = Vec::new();
    for (i, attr) in attrs.iter().enumerate() {
        if is_trace_path(attr.path()) {
            found.push((i, args_of(&attr.meta)?));
        } else if attr.path().is_ident("cfg_attr") {
            for meta in cfg_attr_metas(attr) {
                if is_trace_path(meta.path()) {
                    found.push((i, args_of(&meta)?));
                }
            }
        }
    }
    Ok(found)
}

fn args_of(meta: &Meta) -> syn::Result<TraceArgs> {
    match meta {
        Meta::Path(_) => Ok(TraceArgs::default()),
        Meta::List(list) => TraceArgs::from_tokens(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv,
            "write #[trace] or #[trace(...)], not #[trace = ...]",
        )),
    }
}

fn cfg_attr_metas(attr: &Attribute) -> Vec<Meta> {
    attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .map(|metas| metas.into_iter().skip(1).collect())
        .unwrap_or_default()
}

/// The trait of an allocator impl: `GlobalAlloc`, `Allocator`, however qualified
/// (`std::alloc::GlobalAlloc`, `core::alloc::Allocator`). Such impls are skipped unless traced
/// directly: every allocation (the tracer's own included) would be a traced call, which drowns
/// the trace, and re-enters the tracer from inside its own allocations.
pub fn is_allocator_trait(path: &syn::Path) -> bool {
    path.segments
        .last()
        .is_some_and(|s| s.ident == "GlobalAlloc" || s.ident == "Allocator")
}

/// `#[test]`, `#[bench]`, `#[tokio::test]` and the like.
pub fn is_test_fn(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "test" || s.ident == "bench")
    })
}

/// `#[inline(always)]`.
pub fn is_inline_always(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("inline") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "always")
    })
}

/// `#[track_caller]`.
pub fn is_track_caller(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("track_caller"))
}

/// `#[cfg(test)]`, `#[cfg(all(test, ...))]`: code that only exists in test builds.
pub fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .filter_map(|a| a.parse_args::<Meta>().ok())
        .any(|m| requires_test(&m))
}

fn requires_test(meta: &Meta) -> bool {
    match meta {
        Meta::Path(p) => p.is_ident("test"),
        Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .is_ok_and(|ms| ms.iter().any(requires_test)),
        Meta::List(list) if list.path.is_ident("any") => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .is_ok_and(|ms| !ms.is_empty() && ms.iter().all(requires_test)),
        _ => false,
    }
}
