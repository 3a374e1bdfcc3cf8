//! A free `async fn`, traced so that its future knows the call that created it: the traced copy
//! becomes a plain fn returning `impl Future`, which notes the calling frame when it is called
//! and then builds the future, so `tokio::spawn(process(x))` links `process`'s task to the
//! caller. Everything an `async fn` does is kept: every argument moves into the future and is
//! bound (and later dropped) inside it, the output type is the declared one, and every lifetime
//! of the signature is captured.
//!
//! ```text
//! async fn get<'a>(db: &'a Db, key: &str) -> Row { body }
//! // becomes, with the feature on:
//! fn get<'a, '__trace_l0>(__trace_arg0: &'a Db, __trace_arg1: &'__trace_l0 str)
//!     -> impl Future<Output = Row> + Captures<(&'a (), &'__trace_l0 ())>
//! {
//!     let __trace_created = created();
//!     instrument!([..]; created __trace_created; async move {
//!         let db = __trace_arg0; let key = __trace_arg1;
//!         let __trace_return: Row = { body }; __trace_return
//!     })
//! }
//! ```

use quote::quote;
use syn::visit_mut::VisitMut;

use crate::guard::GuardSpec;

/// Attributes an eager copy keeps; any other (an executor's `#[tokio::main]`, a test harness's)
/// needs the fn to stay `async`.
const KEEPS: &[&str] = &[
    "doc",
    "allow",
    "warn",
    "deny",
    "expect",
    "must_use",
    "inline",
    "cfg",
    "cfg_attr",
    "deprecated",
];

/// Names every elided lifetime of a signature's argument types.
struct NameElided {
    named: Vec<syn::Lifetime>,
}

impl NameElided {
    fn fresh(&mut self) -> syn::Lifetime {
        let l = syn::Lifetime::new(
            &format!("'__trace_l{}", self.named.len()),
            proc_macro2::Span::call_site(),
        );
        self.named.push(l.clone());
        l
    }
}

impl VisitMut for NameElided {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        if r.lifetime.is_none() {
            r.lifetime = Some(self.fresh());
        }
        syn::visit_mut::visit_type_reference_mut(self, r);
    }

    fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
        if l.ident == "_" {
            *l = self.fresh();
        }
    }

    // Lifetimes inside `fn` pointer types and `Fn` bounds are the pointer's own.
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// Whether a type mentions `impl Trait`, `Self` or a macro, which an eager copy cannot restate.
fn unsayable(ty: &syn::Type) -> bool {
    fn scan(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl" || i == "Self",
            proc_macro2::TokenTree::Punct(p) => p.as_char() == '!',
            proc_macro2::TokenTree::Group(g) => scan(g.stream()),
            proc_macro2::TokenTree::Literal(_) => false,
        })
    }
    scan(quote!(#ty))
}

/// The eager copy of a traced free `async fn`, or `None` when its shape needs it to stay
/// `async` (the caller then wraps its body as before, and its origin is taken at first poll).
pub fn eager(f: &syn::ItemFn, spec: &GuardSpec) -> Option<syn::ItemFn> {
    let sig = &f.sig;
    if sig.asyncness.is_none() || sig.receiver().is_some() || sig.variadic.is_some() {
        return None;
    }
    if !f
        .attrs
        .iter()
        .all(|a| KEEPS.iter().any(|k| a.path().is_ident(k)))
    {
        return None;
    }
    let output: syn::Type = match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if unsayable(&output) {
        return None;
    }
    let mut names = NameElided { named: Vec::new() };
    let mut inputs = Vec::new();
    let mut binds = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(arg) = input else {
            return None;
        };
        let mut ty = (*arg.ty).clone();
        if unsayable(&ty) {
            return None;
        }
        names.visit_type_mut(&mut ty);
        let arg_name = syn::Ident::new(&format!("__trace_arg{i}"), proc_macro2::Span::call_site());
        let attrs = &arg.attrs;
        let pat = &arg.pat;
        inputs.push(quote!(#(#attrs)* #arg_name: #ty));
        binds.push(quote!(let #pat = #arg_name;));
    }
    let mut generics = sig.generics.clone();
    for l in names.named.iter().rev() {
        generics.params.insert(
            0,
            syn::GenericParam::Lifetime(syn::LifetimeParam::new(l.clone())),
        );
    }
    let lifetimes: Vec<&syn::Lifetime> = generics.lifetimes().map(|l| &l.lifetime).collect();
    let runtime = &spec.runtime;
    let captures = if lifetimes.is_empty() {
        quote!()
    } else {
        quote!(+ #runtime::__private::Captures<(#(&#lifetimes (),)*)>)
    };
    let created = syn::Ident::new("__trace_created", proc_macro2::Span::call_site());
    let block = &f.block;
    let body: syn::Expr = syn::parse_quote!(async move {
        #(#binds)*
        let __trace_return: #output = #block;
        __trace_return
    });
    let wrapped = spec.wrap_future_from(&created, &body);
    let (params, _, where_clause) = generics.split_for_impl();
    // Inner attributes of the body (`#![allow(..)]`) apply to the fn: said outside it.
    let attrs: Vec<syn::Attribute> = f
        .attrs
        .iter()
        .cloned()
        .map(|mut a| {
            a.style = syn::AttrStyle::Outer;
            a
        })
        .collect();
    let vis = &f.vis;
    let unsafety = &sig.unsafety;
    let abi = &sig.abi;
    let ident = &sig.ident;
    // A body that never returns makes the binding after it unreachable: said for the copy only
    // (the fn as written, compiled without the feature, still gets the warning).
    Some(syn::parse_quote! {
        #(#attrs)*
        #[allow(unreachable_code)]
        #vis #unsafety #abi fn #ident #params (#(#inputs),*)
            -> impl #runtime::__private::Future<Output = #output> #captures
            #where_clause
        {
            let #created = #runtime::__private::created();
            #wrapped
        }
    })
}
