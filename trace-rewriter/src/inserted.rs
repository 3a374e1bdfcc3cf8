//! Recognises what `instrument` inserted, from its parsed form so that any layout a formatter
//! gave it is recognised: guard statements, the async fns' `cfg_attr` attribute, the cfg-gated
//! `extern crate`, and (through `follow.rs`) what the old `--follow-threads` inserted; all of
//! it gated on the user's `trace` feature, read here once. Hand-written code is never taken.

use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Attribute, Meta, Token};
use trace_transform::guard::is_guard_stmt;
use trace_transform::name::SiteName;

use crate::edit::{Edit, LineIndex};
use crate::reflow::FirstGuard;

/// Which way a `cfg` attribute gates code on the user's `trace` feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// `#[cfg(feature = "trace")]`: the code is there when tracing is on.
    On,
    /// `#[cfg(not(feature = "trace"))]`: the code is there when tracing is off.
    Off,
}

/// How `attr` gates on the `trace` feature, if it is one of the two `cfg`s inserted code uses.
///
/// ```
/// use trace_rewriter::inserted::{trace_gate, Gate};
/// let attr: syn::Attribute = syn::parse_quote!(#[cfg(not(feature = "trace"))]);
/// assert_eq!(trace_gate(&attr), Some(Gate::Off));
/// let attr: syn::Attribute = syn::parse_quote!(#[cfg(test)]);
/// assert_eq!(trace_gate(&attr), None);
/// ```
pub fn trace_gate(attr: &Attribute) -> Option<Gate> {
    if !attr.path().is_ident("cfg") {
        return None;
    }
    match attr.parse_args::<Meta>().ok()? {
        Meta::List(l) if l.path.is_ident("not") => l
            .parse_args::<Meta>()
            .is_ok_and(|m| is_trace_feature(&m))
            .then_some(Gate::Off),
        m => is_trace_feature(&m).then_some(Gate::On),
    }
}

/// `feature = "trace"`.
fn is_trace_feature(meta: &Meta) -> bool {
    let Meta::NameValue(nv) = meta else {
        return false;
    };
    nv.path.is_ident("feature")
        && matches!(&nv.value, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if s.value() == "trace")
}

/// Attributes that are exactly `#[cfg(feature = "trace")]`, as on every statement and item
/// `instrument` inserts.
fn gated_on(attrs: &[Attribute]) -> bool {
    matches!(attrs, [attr] if trace_gate(attr) == Some(Gate::On))
}

/// `#[cfg_attr(feature = "trace", <path ending in trace>(__site(..)))]`, as `instrument` puts on
/// async fns, and with `, err` after `__site(..)` on fns that record their errors
/// (`instrument --err`). The `__site` argument is never hand-written.
///
/// ```
/// use trace_rewriter::inserted::is_inserted_attr;
/// let attr: syn::Attribute =
///     syn::parse_quote!(#[cfg_attr(feature = "trace", ::trace_runtime::trace(__site(module "::f")))]);
/// assert!(is_inserted_attr(&attr));
/// let attr: syn::Attribute =
///     syn::parse_quote!(#[cfg_attr(feature = "trace", ::trace_runtime::trace(__site(module "::f"), err))]);
/// assert!(is_inserted_attr(&attr));
/// let attr: syn::Attribute = syn::parse_quote!(#[cfg_attr(feature = "trace", trace)]);
/// assert!(!is_inserted_attr(&attr));
/// let attr: syn::Attribute =
///     syn::parse_quote!(#[cfg_attr(feature = "trace", trace(__site(module "::f"), ret))]);
/// assert!(!is_inserted_attr(&attr));
/// ```
pub fn is_inserted_attr(attr: &Attribute) -> bool {
    inserted_attr_args(attr).is_some()
}

/// The arguments of an inserted attribute's `trace(..)`: `__site(..)`, and whether `err`
/// follows it.
fn inserted_attr_args(attr: &Attribute) -> Option<(syn::MetaList, bool)> {
    if !attr.path().is_ident("cfg_attr") {
        return None;
    }
    let metas = attr
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    let [predicate, Meta::List(trace)] = metas.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if !is_trace_feature(predicate) || !trace_transform::rules::is_trace_path(&trace.path) {
        return None;
    }
    let args = trace
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    match args.iter().collect::<Vec<_>>()[..] {
        [Meta::List(site)] if site.path.is_ident("__site") => Some((site.clone(), false)),
        [Meta::List(site), Meta::Path(err)]
            if site.path.is_ident("__site") && err.is_ident("err") =>
        {
            Some((site.clone(), true))
        }
        _ => None,
    }
}

/// The site name inside an inserted attribute's `__site(..)`.
pub fn attr_site(attr: &Attribute) -> Option<SiteName> {
    let (site, _) = inserted_attr_args(attr)?;
    SiteName::parse.parse2(site.tokens).ok()
}

/// Whether an inserted attribute records its fn's errors (`, err`, from `instrument --err`).
pub fn attr_err(attr: &Attribute) -> bool {
    inserted_attr_args(attr).is_some_and(|(_, err)| err)
}

/// A guard statement as `instrument` inserts it: `__trace_guard` bound to the runtime's
/// `__private::enter!` under `#[cfg(feature = "trace")]` and nothing else.
///
/// ```
/// use trace_rewriter::inserted::is_inserted_guard;
/// let stmt: syn::Stmt = syn::parse_quote! {
///     #[cfg(feature = "trace")] let __trace_guard = ::trace_runtime::__private::enter!(module "::f");
/// };
/// assert!(is_inserted_guard(&stmt));
/// ```
pub fn is_inserted_guard(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    let calls_enter = match &*init.expr {
        syn::Expr::Macro(m) => {
            let segs: Vec<String> = m
                .mac
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            segs.ends_with(&["__private".to_string(), "enter".to_string()])
        }
        _ => false,
    };
    is_guard_stmt(stmt) && calls_enter && gated_on(&local.attrs)
}

/// The site name an inserted guard statement enters.
pub fn guard_site(stmt: &syn::Stmt) -> Option<SiteName> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    match local.init.as_ref().map(|i| &*i.expr) {
        Some(syn::Expr::Macro(m)) if is_inserted_guard(stmt) => {
            SiteName::parse.parse2(m.mac.tokens.clone()).ok()
        }
        _ => None,
    }
}

/// `#[cfg(feature = "trace")] extern crate trace_runtime;`, as `instrument` puts at the root of
/// a 2015-edition crate.
fn is_inserted_extern_crate(item: &syn::ItemExternCrate) -> bool {
    item.ident == "trace_runtime" && gated_on(&item.attrs)
}

/// Everything inserted in one file, as byte offsets into it.
pub struct Inserted {
    /// Inserted pieces to take out with the space beside them (or their own lines): async
    /// fns' attributes, guards that are not their block's first statement, the `extern crate`,
    /// and the `--follow-threads` macro definitions.
    pub ranges: Vec<(usize, usize)>,
    /// Guards that are their block's first statement, with the block around them, for
    /// [`crate::reflow`].
    pub reflowed: Vec<FirstGuard>,
    /// Exact deletions around each `__trace_follow!(ARG)`'s ARG, two a wrap.
    pub unwraps: Vec<Edit>,
}

/// Finds everything `instrument` (or the old `--follow-threads`) inserted in `file`.
pub fn find(file: &syn::File, index: &LineIndex<'_>) -> Inserted {
    let mut finder = FindInserted {
        ranges: Vec::new(),
        reflowed: Vec::new(),
        index,
    };
    finder.visit_file(file);
    let (items, unwraps) = crate::follow::inserted(file, index);
    finder.ranges.extend(items);
    Inserted {
        ranges: finder.ranges,
        reflowed: finder.reflowed,
        unwraps,
    }
}

struct FindInserted<'a> {
    ranges: Vec<(usize, usize)>,
    /// Guards that are their block's first statement, with the block around them.
    reflowed: Vec<FirstGuard>,
    index: &'a LineIndex<'a>,
}

impl FindInserted<'_> {
    /// Notes whether the signature of the fn whose body opens with a guard takes several lines.
    fn signature(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let open = block.brace_token.span.open().start();
        let wraps = sig.fn_token.span.start().line != open.line;
        let open = self.index.offset(open);
        if let Some(guard) = self.reflowed.iter_mut().find(|g| g.open == open) {
            guard.sig_wraps = wraps;
        }
    }

    /// The async fns' inserted attributes.
    fn inserted_attrs(&mut self, attrs: &[Attribute]) {
        for attr in attrs.iter().filter(|a| is_inserted_attr(a)) {
            let start = self.index.offset(attr.pound_token.span.start());
            let end = self.index.offset(attr.bracket_token.span.close().end());
            self.ranges.push((start, end));
        }
    }
}

impl<'ast> Visit<'ast> for FindInserted<'_> {
    fn visit_block(&mut self, block: &'ast syn::Block) {
        for (i, stmt) in block.stmts.iter().enumerate() {
            if is_inserted_guard(stmt) {
                if let syn::Stmt::Local(local) = stmt {
                    let start = self.index.offset(local.attrs[0].pound_token.span.start());
                    let end = self.index.offset(local.semi_token.span.end());
                    if i == 0 {
                        let braces = block.brace_token.span;
                        self.reflowed.push(FirstGuard {
                            open: self.index.offset(braces.open().start()),
                            start,
                            end,
                            close: self.index.offset(braces.close().start()),
                            alone: block.stmts.len() == 1,
                            sig_wraps: false,
                        });
                    } else {
                        self.ranges.push((start, end));
                    }
                }
            }
        }
        syn::visit::visit_block(self, block);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.inserted_attrs(&f.attrs);
        syn::visit::visit_item_fn(self, f);
        self.signature(&f.sig, &f.block);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.inserted_attrs(&f.attrs);
        syn::visit::visit_impl_item_fn(self, f);
        self.signature(&f.sig, &f.block);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.inserted_attrs(&f.attrs);
        syn::visit::visit_trait_item_fn(self, f);
        if let Some(block) = &f.default {
            self.signature(&f.sig, block);
        }
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        if is_inserted_extern_crate(item) {
            let start = self.index.offset(item.attrs[0].pound_token.span.start());
            let end = self.index.offset(item.semi_token.span.end());
            self.ranges.push((start, end));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Look-alikes of inserted code under the other gate, another feature or with one more
    /// attribute are left alone; the inserted shapes beside them are found, the
    /// `--follow-threads` definitions under either of the two gates.
    #[test]
    fn only_the_inserted_gates_are_recognised() {
        let text = r#"#[cfg(not(feature = "trace"))] extern crate trace_runtime;
#[cfg(feature = "trace")] extern crate trace_runtime;
#[cfg(not(feature = "trace"))] #[allow(unused_macros)] macro_rules! __trace_follow { ($f:expr) => { $f }; }
#[cfg(feature = "tracing")] #[allow(unused_macros)] macro_rules! __trace_follow { ($f:expr) => { $f }; }
fn f() { #[cfg(feature = "trace")] let __trace_guard = ::trace_runtime::__private::enter!(module "::f"); }
fn g() { work(); #[cfg(not(feature = "trace"))] let __trace_guard = ::trace_runtime::__private::enter!(module "::g"); }
fn h() { work(); #[cfg(feature = "trace")] #[allow(unused)] let __trace_guard = ::trace_runtime::__private::enter!(module "::h"); }
"#;
        let file = syn::parse_file(text).unwrap();
        let index = LineIndex::new(text);
        let found = find(&file, &index);
        let ranges: Vec<&str> = found.ranges.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            ranges,
            [
                r#"#[cfg(feature = "trace")] extern crate trace_runtime;"#,
                r#"#[cfg(not(feature = "trace"))] #[allow(unused_macros)] macro_rules! __trace_follow { ($f:expr) => { $f }; }"#,
            ]
        );
        let guards: Vec<&str> = found
            .reflowed
            .iter()
            .map(|g| &text[g.start..g.end])
            .collect();
        assert_eq!(
            guards,
            [
                r#"#[cfg(feature = "trace")] let __trace_guard = ::trace_runtime::__private::enter!(module "::f");"#
            ]
        );
        assert!(found.unwraps.is_empty());
    }
}
