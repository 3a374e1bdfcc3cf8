//! The macro front end: `#[trace]` on a fn, impl, trait or inline mod.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::Item;

use crate::args::TraceArgs;
use crate::rules::Options;
use crate::walk::{walk_item, FnAction, Found, Visit};

/// Expands `#[trace(attr)] item`. Errors become `compile_error!` here, once, next to the original
/// item so that IDEs keep seeing it.
///
/// ```
/// let out = trace_transform::expand(quote::quote!(), quote::quote!(fn f() {}));
/// assert!(out.to_string().contains("__trace_guard"));
/// ```
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(out) => out,
        Err(err) => {
            let mut out = item;
            out.extend(err.to_compile_error());
            out
        }
    }
}

/// The macro's options: nested `#[trace(...)]` attributes are read and removed here.
pub const MACRO_OPTIONS: Options = Options {
    include_tests: false,
    consume_nested_attrs: true,
};

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = TraceArgs::from_tokens(attr)?;
    let mut item: Item = syn::parse2(item)?;
    check_target(&item, &args)?;
    if args.skip.is_some() {
        return Ok(item.into_token_stream());
    }
    let errors = walk_item(&mut item, &args, MACRO_OPTIONS, &mut Insert);
    // Errors in nested attributes are reported all together, beside the instrumented item.
    let mut out = item.into_token_stream();
    for e in errors {
        out.extend(e.to_compile_error());
    }
    Ok(out)
}

/// Rejects what cannot carry `#[trace]`, pointing at the token that says why.
fn check_target(item: &Item, args: &TraceArgs) -> syn::Result<()> {
    const WHERE: &str = "#[trace] goes on a fn, an impl block, a trait or an inline `mod { ... }`";
    let not_a_fn = |name_arg: &Option<syn::LitStr>| match name_arg {
        Some(name) => Err(syn::Error::new(
            name.span(),
            "`name` applies to a single fn; put #[trace(name = \"...\")] on the fn inside",
        )),
        None => Ok(()),
    };
    match item {
        Item::Fn(f) => match &f.sig.constness {
            Some(kw) => Err(syn::Error::new(
                kw.span,
                "#[trace] cannot go on a `const fn`: it may run at compile time, where a guard \
                 cannot live; remove `const` or the attribute",
            )),
            None => Ok(()),
        },
        Item::Impl(_) | Item::Trait(_) => not_a_fn(&args.name),
        Item::Mod(m) => match m.content {
            Some(_) => not_a_fn(&args.name),
            None => Err(syn::Error::new(
                m.semi.span(),
                "#[trace] cannot see into `mod name;` declared in another file; put #[trace] on \
                 the items inside that file, or instrument the crate with trace-rewriter",
            )),
        },
        Item::Struct(s) => Err(syn::Error::new(s.struct_token.span, WHERE)),
        Item::Enum(e) => Err(syn::Error::new(e.enum_token.span, WHERE)),
        Item::Union(u) => Err(syn::Error::new(u.union_token.span, WHERE)),
        Item::Const(c) => Err(syn::Error::new(c.const_token.span, WHERE)),
        Item::Static(s) => Err(syn::Error::new(s.static_token.span, WHERE)),
        Item::Type(t) => Err(syn::Error::new(t.type_token.span, WHERE)),
        Item::Use(u) => Err(syn::Error::new(u.use_token.span, WHERE)),
        Item::Verbatim(v) if v.to_string().contains("fn") => Err(syn::Error::new(
            v.span(),
            "#[trace] needs a fn with a body; a declaration without one has nothing to trace",
        )),
        other => Err(syn::Error::new(other.span(), WHERE)),
    }
}

/// The macro's edit: insert the guard statement at the top of the body.
struct Insert;

impl Visit for Insert {
    fn found(&mut self, found: Found<'_>) {
        if let FnAction::Instrument(spec) = found.action {
            let stmt: syn::Stmt = syn::parse2(spec.tokens()).expect("the guard statement parses");
            found.block.stmts.insert(0, stmt);
        }
    }
}
