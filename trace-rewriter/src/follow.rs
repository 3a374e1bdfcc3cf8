//! `--follow-threads`: thread spawns whose closure is wrapped in `__trace_follow!(..)`, so the
//! new thread continues the chain of the call that spawned it, and the crate-root macro that
//! means `trace_runtime::thread::follow` with the feature on and the closure itself with it off.
//! Both are found again from their parsed form by `remove`.

use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{AttrStyle, Expr, Meta};

use crate::edit::{Edit, LineIndex};

/// The wrapping macro's name.
pub const MACRO: &str = "__trace_follow";

/// The two cfg-gated definitions of [`MACRO`], on one line, put in every crate root.
pub const BLOCK: &str = "#[cfg(feature = \"trace\")] #[allow(unused_macros)] macro_rules! \
__trace_follow { ($f:expr) => { ::trace_runtime::thread::follow($f) }; } \
#[cfg(not(feature = \"trace\"))] #[allow(unused_macros)] macro_rules! __trace_follow { \
($f:expr) => { $f }; }";

/// The insertions that wrap every following spawn's closure in `file`, and how many spawns.
pub fn wrap_spawns(file: &syn::File, index: &LineIndex<'_>) -> (Vec<Edit>, usize) {
    let mut finder = Spawns {
        index,
        scopes: Vec::new(),
        edits: Vec::new(),
        count: 0,
    };
    finder.visit_file(file);
    (finder.edits, finder.count)
}

/// Whether the file already defines [`MACRO`] (it was instrumented before).
pub fn has_block(file: &syn::File) -> bool {
    file.items.iter().any(|i| inserted_macro(i).is_some())
}

/// The edit putting [`BLOCK`] after the file's inner attributes, or before its first item.
pub fn block_edit(file: &syn::File, index: &LineIndex<'_>, body: &str) -> Option<Edit> {
    top_insertion(file, index, body, BLOCK)
}

/// Inserts `text` at the top of a file: after its inner attributes (on the line after an inner
/// `//!` doc comment, which would otherwise swallow it), or before its first item; a space
/// separates it from its neighbour.
pub fn top_insertion(
    file: &syn::File,
    index: &LineIndex<'_>,
    body: &str,
    text: &str,
) -> Option<Edit> {
    let last_inner = file
        .attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Inner(_)))
        .max_by_key(|a| index.offset(a.bracket_token.span.close().end()));
    match last_inner {
        Some(attr) if body[index.offset(attr.pound_token.span.start())..].starts_with("//") => {
            let end = index.offset(attr.bracket_token.span.close().end());
            let line_end = end + body[end..].find('\n')? + 1;
            match file.items.first() {
                // The first item begins on that next line: before it, as with no attributes.
                Some(item) if index.offset(item.span().start()) >= line_end => {
                    let at = index.offset(item.span().start());
                    Some(Edit::insert(at, format!("{text} ")))
                }
                _ => None,
            }
        }
        Some(attr) => {
            let end = index.offset(attr.bracket_token.span.close().end());
            Some(Edit::insert(end, format!(" {text}")))
        }
        None => {
            let first = file.items.first()?;
            Some(Edit::insert(
                index.offset(first.span().start()),
                format!("{text} "),
            ))
        }
    }
}

/// `macro_rules! __trace_follow` under `#[cfg(feature = "trace")]` or
/// `#[cfg(not(feature = "trace"))]`: its byte span's start and end positions.
fn inserted_macro(item: &syn::Item) -> Option<(proc_macro2::LineColumn, proc_macro2::LineColumn)> {
    let syn::Item::Macro(m) = item else {
        return None;
    };
    let named = m.ident.as_ref().is_some_and(|i| i == MACRO) && m.mac.path.is_ident("macro_rules");
    let gated = m.attrs.len() == 2
        && m.attrs[0].path().is_ident("cfg")
        && m.attrs[0]
            .parse_args::<Meta>()
            .is_ok_and(|meta| is_trace_gate(&meta))
        && m.attrs[1].path().is_ident("allow");
    if !(named && gated) {
        return None;
    }
    let end = match &m.semi_token {
        Some(semi) => semi.span.end(),
        None => m.mac.delimiter.span().close().end(),
    };
    Some((m.attrs[0].pound_token.span.start(), end))
}

/// `feature = "trace"` or `not(feature = "trace")`.
fn is_trace_gate(meta: &Meta) -> bool {
    let feature = |m: &Meta| {
        matches!(m, Meta::NameValue(nv) if nv.path.is_ident("feature")
            && matches!(&nv.value, Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if s.value() == "trace"))
    };
    match meta {
        Meta::List(l) if l.path.is_ident("not") => {
            l.parse_args::<Meta>().is_ok_and(|m| feature(&m))
        }
        m => feature(m),
    }
}

/// `__trace_follow!(ARG)`: ARG, parsed with its original spans.
fn wrapped(m: &syn::ExprMacro) -> Option<Expr> {
    if !m.mac.path.is_ident(MACRO) {
        return None;
    }
    m.mac.parse_body::<Expr>().ok()
}

fn path_ends_with(path: &syn::Path, tail: &[&str]) -> bool {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segs.len() >= tail.len()
        && segs[segs.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
        && segs.first().map(String::as_str) != Some("trace_runtime")
}

fn call_path(call: &syn::ExprCall) -> Option<&syn::Path> {
    match &*call.func {
        Expr::Path(p) => Some(&p.path),
        _ => None,
    }
}

/// A method chain starting at `thread::Builder::new()`.
fn from_builder(mut expr: &Expr) -> bool {
    loop {
        match expr {
            Expr::MethodCall(m) => expr = &m.receiver,
            Expr::Paren(p) => expr = &p.expr,
            Expr::Call(call) => {
                return call_path(call)
                    .is_some_and(|p| path_ends_with(p, &["thread", "Builder", "new"]))
            }
            _ => return false,
        }
    }
}

struct Spawns<'a> {
    index: &'a LineIndex<'a>,
    /// The parameter names of the `thread::scope` closures we are inside.
    scopes: Vec<String>,
    edits: Vec<Edit>,
    count: usize,
}

impl Spawns<'_> {
    fn wrap(&mut self, arg: &Expr) {
        if matches!(arg, Expr::Macro(m) if wrapped(m).is_some()) {
            return;
        }
        let start = self.index.offset(arg.span().start());
        let end = self.index.offset(arg.span().end());
        self.edits.push(Edit::insert(start, format!("{MACRO}!(")));
        self.edits.push(Edit::insert(end, ")"));
        self.count += 1;
    }
}

impl<'ast> Visit<'ast> for Spawns<'_> {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let Some(path) = call_path(call).filter(|_| call.args.len() == 1) {
            if path_ends_with(path, &["thread", "spawn"]) {
                self.wrap(&call.args[0]);
            }
            if path_ends_with(path, &["thread", "scope"]) {
                if let Expr::Closure(c) = &call.args[0] {
                    let param = match c.inputs.first() {
                        Some(syn::Pat::Type(t)) => Some(&*t.pat),
                        other => other,
                    };
                    if let Some(syn::Pat::Ident(p)) = param {
                        self.scopes.push(p.ident.to_string());
                        syn::visit::visit_expr_call(self, call);
                        self.scopes.pop();
                        return;
                    }
                }
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if m.method == "spawn" && m.args.len() == 1 {
            let scoped = matches!(&*m.receiver, Expr::Path(p)
                if p.path.get_ident().is_some_and(|i| self.scopes.iter().any(|s| i == s)));
            if scoped || from_builder(&m.receiver) {
                self.wrap(&m.args[0]);
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
        // Inside an earlier wrap: spawns written there since still get theirs.
        if let Some(inner) = wrapped(m) {
            self.visit_expr(&inner);
        }
    }
}

/// Byte ranges `remove` deletes: the crate root's two macro definitions (whole items) and,
/// for every `__trace_follow!(ARG)`, the exact text around ARG. The items are to be widened by
/// the space inserted beside them; the deletions around ARG are exact.
pub fn inserted(file: &syn::File, index: &LineIndex<'_>) -> (Vec<(usize, usize)>, Vec<Edit>) {
    let items = file
        .items
        .iter()
        .filter_map(inserted_macro)
        .map(|(s, e)| (index.offset(s), index.offset(e)))
        .collect();
    let mut finder = Wraps {
        index,
        edits: Vec::new(),
    };
    finder.visit_file(file);
    (items, finder.edits)
}

struct Wraps<'a> {
    index: &'a LineIndex<'a>,
    edits: Vec<Edit>,
}

impl<'ast> Visit<'ast> for Wraps<'_> {
    fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
        if let Some(inner) = wrapped(m) {
            // Up to ARG and from its end: also any space a formatter put inside the parentheses.
            let start = self.index.offset(m.mac.path.span().start());
            let first = self.index.offset(inner.span().start());
            let last = self.index.offset(inner.span().end());
            let end = self.index.offset(m.mac.delimiter.span().close().end());
            self.edits.push(Edit::delete(start, first - start));
            self.edits.push(Edit::delete(last, end - last));
            self.visit_expr(&inner);
        }
    }
}
