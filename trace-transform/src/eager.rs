//! A traced `async fn` (free or a method), traced so that its future knows the call that created
//! it: the traced copy becomes a plain fn returning `impl Future`, which notes the calling frame
//! when it is called and then builds the future, so `tokio::spawn(process(x))` and
//! `tokio::spawn(service.handle(x))` link the task to the caller. Everything an `async fn` does
//! is kept: every argument moves into the future whole and is bound (and later dropped) inside
//! it, the output type is the declared one, and the future captures every lifetime in scope
//! (the return type comes from `trace_eager::future!`, whose `impl` token is edition 2024's,
//! so lifetimes the signature does not show, an impl's `'a` in `impl<'a> Store<'a>`, are
//! captured too).
//!
//! ```text
//! async fn get(&self, key: &str) -> Row { body }
//! // becomes, with the feature on:
//! fn get(&self, __trace_arg1: &str) -> ::trace_runtime::__private::eager_future!(Row) {
//!     let __trace_created = created();
//!     instrument!([..]; created __trace_created; async move {
//!         let _ = &self;
//!         let __trace_arg1 = __trace_arg1; let key = __trace_arg1;
//!         let __trace_return: Row = { body }; __trace_return
//!     })
//! }
//! ```
//!
//! The same copy is right in an inherent impl, a trait impl (a trait's `async fn` is
//! `fn -> impl Future` too) and a trait's default body, so a method traced by a lone attribute
//! (the rewriter's) needs no knowledge of its container. A container that some other attribute
//! macro rewrites after `#[trace]` (`#[async_trait]` below `#[trace]`) keeps its methods
//! `async`: [`plain_container`] tells.

use quote::quote;

use crate::guard::GuardSpec;

/// Attributes no macro implements: an impl or trait carrying only these is left as written, so
/// its methods may change shape.
const INERT: &[&str] = &[
    "doc",
    "allow",
    "warn",
    "deny",
    "expect",
    "must_use",
    "cfg",
    "deprecated",
];

/// Whether an eager copy keeps the attribute: inert ones, `inline`, and `cfg_attr` (its
/// contents apply to the fn either way); any other (an executor's `#[tokio::main]`, a test
/// harness's) needs the fn to stay `async`.
fn kept(a: &syn::Attribute) -> bool {
    plain_container(std::slice::from_ref(a))
        || a.path().is_ident("inline")
        || a.path().is_ident("cfg_attr")
}

/// Whether a fn carrying `attrs` may be emitted twice, as the user wrote it and traced: no other
/// macro sees it (which could make items beside it for each copy), `#[test]` aside.
pub fn may_split(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().all(|a| kept(a) || a.path().is_ident("test"))
}

/// Whether an impl or trait carrying `attrs` is left as written by every other macro, so that
/// its methods may change shape.
pub fn plain_container(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .all(|a| INERT.iter().any(|k| a.path().is_ident(k)))
}

/// Whether an output type cannot be restated as `impl Future<Output = T>`: it mentions
/// `impl Trait` (whose capture rules are the `async fn`'s own) or `!` (unstable as a type
/// anywhere but a fn's return), or is a macro (which may expand to either).
fn unsayable(ty: &syn::Type) -> bool {
    fn scan(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Punct(p) => p.as_char() == '!',
            proc_macro2::TokenTree::Group(g) => scan(g.stream()),
            proc_macro2::TokenTree::Literal(_) => false,
        })
    }
    scan(quote!(#ty))
}

/// The eager copy of a traced `async fn` (of any kind) with attributes `attrs`, signature `sig`
/// and body `block`: the new body, the signature and attributes changed in place; `None`, and
/// nothing changed, when its shape needs it to stay `async` (the caller then wraps its body
/// as before, and its origin is taken at first poll).
pub fn eager(
    attrs: &mut Vec<syn::Attribute>,
    sig: &mut syn::Signature,
    block: &syn::Block,
    spec: &GuardSpec,
) -> Option<syn::Block> {
    if sig.asyncness.is_none() || sig.variadic.is_some() {
        return None;
    }
    if !attrs.iter().all(kept) {
        return None;
    }
    let output: syn::Type = match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if unsayable(&output) {
        return None;
    }
    // A parameter under `#[cfg]` (or any attribute) may not exist: its binding could not be
    // written without restating the condition.
    let attributed = |input: &syn::FnArg| match input {
        syn::FnArg::Receiver(r) => !r.attrs.is_empty(),
        syn::FnArg::Typed(t) => !t.attrs.is_empty(),
    };
    if sig.inputs.iter().any(attributed) {
        return None;
    }
    let mut inputs = sig.inputs.clone();
    let mut binds = Vec::new();
    for (i, input) in inputs.iter_mut().enumerate() {
        match input {
            // `self` cannot be renamed: a use of the whole place makes the block capture all of
            // it (a block captures only the fields it uses otherwise, and would drop the rest
            // when the fn returns).
            syn::FnArg::Receiver(_) => binds.push(quote!(let _ = &self;)),
            syn::FnArg::Typed(arg) => {
                let name =
                    syn::Ident::new(&format!("__trace_arg{i}"), proc_macro2::Span::call_site());
                let pat = std::mem::replace(&mut *arg.pat, syn::parse_quote!(#name));
                // Moved whole first, then destructured, as an `async fn` binds its arguments.
                binds.push(quote!(let #name = #name; let #pat = #name;));
            }
        }
    }
    let runtime = &spec.runtime;
    let created = syn::Ident::new("__trace_created", proc_macro2::Span::call_site());
    let body: syn::Expr = syn::parse_quote!(async move {
        #(#binds)*
        let __trace_return: #output = #block;
        __trace_return
    });
    let wrapped = spec.wrap_future_from(&created, &body);
    sig.asyncness = None;
    sig.inputs = inputs;
    sig.output = syn::parse_quote!(-> #runtime::__private::eager_future!(#output));
    // A body that never returns makes the binding after it unreachable: said for the copy only
    // (the fn as written, compiled without the feature, still gets the warning).
    attrs.push(syn::parse_quote!(#[allow(unreachable_code)]));
    Some(syn::parse_quote!({
        let #created = #runtime::__private::created();
        #wrapped
    }))
}
