//! The macro front end: `#[trace]` on a fn, impl, trait or inline mod.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Item};

use crate::guard::{box_pin_async, GuardKind, GuardSpec};
use crate::link;

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
    expand_with(attr, item, true)
}

/// [`expand`] without its fast path: the full parse, walk and split it falls back to. Public so
/// that a test can hold the two paths to the same output on every shape of fn.
pub fn expand_without_fast_path(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand_with(attr, item, false)
}

fn expand_with(attr: TokenStream, item: TokenStream, fast_path: bool) -> TokenStream {
    match try_expand(attr, item.clone(), fast_path) {
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
    include_inline_always: true,
    add_err: false,
};

fn try_expand(attr: TokenStream, item: TokenStream, fast_path: bool) -> syn::Result<TokenStream> {
    let args = TraceArgs::from_tokens(attr)?;
    if fast_path {
        if let Some(out) = plain_fn_fast_path(&args, &item) {
            return Ok(out);
        }
    }
    let mut item: Item = syn::parse2(item)?;
    check_target(&item, &args)?;
    if args.skip.is_some() {
        return Ok(item.into_token_stream());
    }
    let mut insert = Insert::default();
    let errors = walk_item(&mut item, &args, MACRO_OPTIONS, &mut insert);
    let mut split = Split {
        wraps: insert.wraps,
    };
    split.visit_item_mut(&mut item);
    let mut out = match item {
        Item::Fn(f) => split
            .split(f, true)
            .into_iter()
            .map(|f| f.into_token_stream())
            .collect(),
        other => other.into_token_stream(),
    };
    // Errors in nested attributes are reported all together, beside the instrumented item.
    for e in errors {
        out.extend(e.to_compile_error());
    }
    Ok(out)
}

/// The common case without parsing the whole item: a plain fn (not `const`, not `async`) whose
/// body declares no fn of its own, holds no `async` block and spawns no thread (a body shaped
/// `Box::pin(async move { .. })` is traced as the future it returns, which takes the full parse
/// to see). Full parsing with syn is what makes a crate with every fn
/// annotated slower to build (proc macros and syn are built unoptimised in debug builds); this
/// path inserts the same statement the full path would (a test checks they agree), and leaves
/// everything else to it.
fn plain_fn_fast_path(args: &TraceArgs, item: &TokenStream) -> Option<TokenStream> {
    use proc_macro2::{Delimiter, Group, TokenTree};
    if args.skip.is_some() || args.site.is_some() || !args.values.is_empty() {
        return None;
    }
    let mut tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let fn_at = tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(i) if i == "fn"))?;
    let qualified = tokens[..fn_at]
        .iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i == "const" || i == "async"));
    if qualified {
        return None;
    }
    let ident = match tokens.get(fn_at + 1) {
        Some(TokenTree::Ident(i)) => i.to_string(),
        _ => return None,
    };
    let Some(TokenTree::Group(body)) = tokens.last() else {
        return None;
    };
    if body.delimiter() != Delimiter::Brace
        || mentions(
            body.stream(),
            &[
                "fn",
                "async",
                crate::guard::GUARD_BINDING,
                // Thread spawns whose closure the full path links to the fn's frame.
                "spawn",
                "spawn_blocking",
                "spawn_fifo",
            ],
        )
    {
        return None;
    }
    let mut name = crate::name::FnName::free(ident);
    name.custom = args
        .name
        .as_ref()
        .map(|n| crate::name::SiteName::literal(n.value()));
    let spec = GuardSpec {
        name,
        runtime: args.runtime_path(),
        kind: GuardKind::Statement,
        values: None,
    };
    // After the body's inner attributes (`#![...]`), which must stay first.
    let inner: Vec<TokenTree> = body.stream().into_iter().collect();
    let mut at = 0;
    while matches!(inner.get(at), Some(TokenTree::Punct(p)) if p.as_char() == '#')
        && matches!(inner.get(at + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        && matches!(inner.get(at + 2), Some(TokenTree::Group(_)))
    {
        at += 3;
    }
    let mut stream: TokenStream = inner[..at].iter().cloned().collect();
    stream.extend(spec.tokens());
    stream.extend(inner[at..].iter().cloned());
    let mut group = Group::new(Delimiter::Brace, stream);
    group.set_span(body.span());
    *tokens.last_mut().expect("checked above") = TokenTree::Group(group);
    Some(tokens.into_iter().collect())
}

/// Whether any of `words` appears as an identifier anywhere in `tokens`.
fn mentions(tokens: TokenStream, words: &[&str]) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => words.iter().any(|w| i == w),
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), words),
        _ => false,
    })
}

/// Rejects what cannot carry `#[trace]`, pointing at the token that says why.
fn check_target(item: &Item, args: &TraceArgs) -> syn::Result<()> {
    const WHERE: &str = "#[trace] goes on a fn, an impl block, a trait or an inline `mod { ... }`";
    let not_a_fn = |name_arg: &Option<syn::LitStr>| match (name_arg, args.values.fn_only()) {
        (Some(name), _) => Err(syn::Error::new(
            name.span(),
            "`name` applies to a single fn; put #[trace(name = \"...\")] on the fn inside",
        )),
        (None, Some((span, key))) => Err(syn::Error::new(
            span,
            format!("`{key}` applies to a single fn; put #[trace({key})] on the fns inside"),
        )),
        (None, None) => Ok(()),
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

/// The macro's edit: a guard statement at the top of a plain fn's body; an async fn is marked,
/// to be split into an untouched and a traced copy once the walk is done.
#[derive(Default)]
struct Insert {
    wraps: Vec<GuardSpec>,
}

const MARK: &str = "__trace_wrap";

impl Visit for Insert {
    fn found(&mut self, found: Found<'_>) {
        let FnAction::Instrument(spec) = found.action else {
            return;
        };
        if spec.kind == GuardKind::Statement && !spec.holds_result() {
            // Inserted in place: the fn stays one item, token for token the user's beside it.
            let stmt: syn::Stmt = syn::parse2(spec.tokens()).expect("the guard statement parses");
            found.block.stmts.insert(0, stmt);
        } else {
            let index = self.wraps.len();
            self.wraps.push(*spec);
            let mark = syn::Ident::new(MARK, proc_macro2::Span::call_site());
            found.attrs.push(syn::parse_quote!(#[#mark(#index)]));
        }
    }
}

/// The marker `Insert` left, removed; its index into the specs.
fn take_mark(attrs: &mut Vec<Attribute>) -> Option<usize> {
    let at = attrs.iter().position(|a| a.path().is_ident(MARK))?;
    let attr = attrs.remove(at);
    attr.parse_args::<syn::LitInt>().ok()?.base10_parse().ok()
}

/// A fn item of any kind: its attributes and body.
trait FnLike: Clone {
    fn parts(&mut self) -> (&mut Vec<Attribute>, &mut syn::Block);

    /// The traced copy as a fn that builds its future when called, where the shape allows.
    fn eager(&self, _spec: &GuardSpec) -> Option<Self> {
        None
    }
}

impl FnLike for syn::ItemFn {
    fn parts(&mut self) -> (&mut Vec<Attribute>, &mut syn::Block) {
        (&mut self.attrs, &mut self.block)
    }

    fn eager(&self, spec: &GuardSpec) -> Option<Self> {
        let mut copy = self.clone();
        *copy.block = crate::eager::eager(&mut copy.attrs, &mut copy.sig, &self.block, spec)?;
        Some(copy)
    }
}

impl FnLike for syn::ImplItemFn {
    fn parts(&mut self) -> (&mut Vec<Attribute>, &mut syn::Block) {
        (&mut self.attrs, &mut self.block)
    }

    fn eager(&self, spec: &GuardSpec) -> Option<Self> {
        let mut copy = self.clone();
        copy.block = crate::eager::eager(&mut copy.attrs, &mut copy.sig, &self.block, spec)?;
        Some(copy)
    }
}

impl FnLike for syn::TraitItemFn {
    fn parts(&mut self) -> (&mut Vec<Attribute>, &mut syn::Block) {
        (
            &mut self.attrs,
            self.default
                .as_mut()
                .expect("only fns with a body are marked"),
        )
    }

    fn eager(&self, spec: &GuardSpec) -> Option<Self> {
        let mut copy = self.clone();
        let block = self.default.as_ref()?;
        copy.default = Some(crate::eager::eager(
            &mut copy.attrs,
            &mut copy.sig,
            block,
            spec,
        )?);
        Some(copy)
    }
}

/// Splits marked fns into `#[cfg(not(feature = "trace"))]` (exactly as written, so zero cost
/// holds token for token) and `#[cfg(feature = "trace")]` (body wrapped in the adaptor).
struct Split {
    wraps: Vec<GuardSpec>,
}

impl Split {
    /// `f`, split if marked; `eager` says whether its container lets it become a plain fn.
    fn split<F: FnLike>(&self, mut f: F, eager: bool) -> Vec<F> {
        let Some(index) = take_mark(f.parts().0) else {
            return vec![f];
        };
        let spec = &self.wraps[index];
        let mut traced = f.clone();
        f.parts()
            .0
            .push(syn::parse_quote!(#[cfg(not(feature = "trace"))]));
        if spec.kind == GuardKind::AsyncBody {
            link::wrap_links(traced.parts().1, &spec.runtime);
            spec.record_in_future(traced.parts().1);
        }
        if spec.kind == GuardKind::AsyncBody && eager {
            if let Some(mut eager) = traced.eager(spec) {
                eager
                    .parts()
                    .0
                    .push(syn::parse_quote!(#[cfg(feature = "trace")]));
                return vec![f, eager];
            }
        }
        let (attrs, block) = traced.parts();
        attrs.push(syn::parse_quote!(#[cfg(feature = "trace")]));
        match spec.kind {
            GuardKind::LinkedStatement | GuardKind::Statement => {
                if spec.kind == GuardKind::LinkedStatement {
                    link::wrap_links(block, &spec.runtime);
                }
                spec.hold_result(block);
                let stmt: syn::Stmt =
                    syn::parse2(spec.tokens()).expect("the guard statement parses");
                block.stmts.insert(0, stmt);
            }
            GuardKind::AsyncBody => {
                let body: syn::Expr = syn::Expr::Async(syn::ExprAsync {
                    attrs: Vec::new(),
                    async_token: Default::default(),
                    capture: Some(Default::default()),
                    block: block.clone(),
                });
                let wrapped = spec.wrap_future(&body);
                *block = syn::parse_quote!({ #wrapped.await });
            }
            GuardKind::BoxPinAsync => {
                if let Some(future) = box_pin_async(block) {
                    // The block is the fn's own frame; what it holds is linked to it.
                    if let syn::Expr::Async(a) = future {
                        link::wrap_links(&mut a.block, &spec.runtime);
                        spec.record_in_future(&mut a.block);
                    }
                    *future = spec.wrap_future(future);
                }
            }
        }
        vec![f, traced]
    }
}

impl VisitMut for Split {
    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        visit_mut::visit_item_mod_mut(self, m);
        if let Some((_, items)) = &mut m.content {
            *items = std::mem::take(items)
                .into_iter()
                .flat_map(|item| match item {
                    Item::Fn(f) => self.split(f, true).into_iter().map(Item::Fn).collect(),
                    other => vec![other],
                })
                .collect();
        }
    }

    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        visit_mut::visit_item_impl_mut(self, i);
        let eager = crate::eager::plain_container(&i.attrs);
        i.items = std::mem::take(&mut i.items)
            .into_iter()
            .flat_map(|item| match item {
                syn::ImplItem::Fn(f) => self
                    .split(f, eager)
                    .into_iter()
                    .map(syn::ImplItem::Fn)
                    .collect(),
                other => vec![other],
            })
            .collect();
    }

    fn visit_item_trait_mut(&mut self, t: &mut syn::ItemTrait) {
        visit_mut::visit_item_trait_mut(self, t);
        let eager = crate::eager::plain_container(&t.attrs);
        t.items = std::mem::take(&mut t.items)
            .into_iter()
            .flat_map(|item| match item {
                syn::TraitItem::Fn(f) if f.default.is_some() => self
                    .split(f, eager)
                    .into_iter()
                    .map(syn::TraitItem::Fn)
                    .collect(),
                other => vec![other],
            })
            .collect();
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        visit_mut::visit_block_mut(self, b);
        b.stmts = std::mem::take(&mut b.stmts)
            .into_iter()
            .flat_map(|stmt| match stmt {
                syn::Stmt::Item(Item::Fn(f)) => self
                    .split(f, true)
                    .into_iter()
                    .map(|f| syn::Stmt::Item(Item::Fn(f)))
                    .collect(),
                other => vec![other],
            })
            .collect();
    }
}
