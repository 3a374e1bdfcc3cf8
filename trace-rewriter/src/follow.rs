//! What `--follow-threads` inserted before thread spawns followed the chain by default (the
//! transform now links them, see `trace_transform::link`): `__trace_follow!(closure)` wraps and
//! the crate-root macro's two cfg-gated definitions, found again from their parsed form so that
//! `remove` still restores crates instrumented that way.

use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::Expr;

use crate::edit::{Edit, LineIndex};

/// The wrapping macro's name.
pub const MACRO: &str = "__trace_follow";

/// `macro_rules! __trace_follow` under `#[cfg(feature = "trace")]` or
/// `#[cfg(not(feature = "trace"))]`: its byte span's start and end positions.
fn inserted_macro(item: &syn::Item) -> Option<(proc_macro2::LineColumn, proc_macro2::LineColumn)> {
    let syn::Item::Macro(m) = item else {
        return None;
    };
    let named = m.ident.as_ref().is_some_and(|i| i == MACRO) && m.mac.path.is_ident("macro_rules");
    let gated = m.attrs.len() == 2
        && crate::inserted::trace_gate(&m.attrs[0]).is_some()
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

/// `__trace_follow!(ARG)`: ARG, parsed with its original spans.
fn wrapped(m: &syn::ExprMacro) -> Option<Expr> {
    if !m.mac.path.is_ident(MACRO) {
        return None;
    }
    m.mac.parse_body::<Expr>().ok()
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

#[cfg(test)]
mod tests {
    /// A crate root as `instrument --follow-threads` left it before thread spawns followed the
    /// chain by default: `remove` still gives back the original bytes.
    #[test]
    fn remove_undoes_what_follow_threads_inserted() {
        let original = "//! Docs.\nuse std::thread;\nfn go() -> u32 {\n    thread::spawn(|| 2).join().unwrap()\n}\n";
        let instrumented = "//! Docs.\n#[cfg(feature = \"trace\")] #[allow(unused_macros)] macro_rules! \
__trace_follow { ($f:expr) => { ::trace_runtime::thread::follow($f) }; } \
#[cfg(not(feature = \"trace\"))] #[allow(unused_macros)] macro_rules! __trace_follow { \
($f:expr) => { $f }; } use std::thread;\nfn go() -> u32 { #[cfg(feature = \"trace\")] let __trace_guard = \
::trace_runtime::__private::enter!(module \"::go\");\n    thread::spawn(__trace_follow!(|| 2)).join().unwrap()\n}\n";
        let out = crate::source::remove(instrumented).unwrap();
        assert_eq!(out.text, original);
        assert_eq!(out.removed, 4);
    }
}
