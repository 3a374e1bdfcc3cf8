//! One file's text in, one file's text out: the guard spliced in after each body's opening
//! brace (and after its inner attributes), or taken out again (what `inserted.rs` recognises),
//! every other byte kept.

use proc_macro2::LineColumn;
use syn::spanned::Spanned;
use syn::AttrStyle;
use trace_transform::guard::GuardKind;
use trace_transform::walk::{walk_file, FnAction, Found, Visit};
use trace_transform::GuardSpec;
use trace_transform::{Options, SkipReason};

use crate::edit::{apply, Edit, LineIndex};
use crate::inserted;

/// What to do to one file.
#[derive(Clone, Debug, Default)]
pub struct SourceOptions {
    /// Which fns the transform takes.
    pub transform: Options,
    /// This file is the root of a 2015-edition crate: `::trace_runtime` needs an `extern crate`.
    pub extern_crate: bool,
    /// The file's module path from the crate root (`crate::db`), for reports.
    pub module: String,
}

/// One fn, as reported by `-v`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnNote {
    pub name: String,
    pub line: usize,
    /// Why it was left alone; `None` when it was instrumented.
    pub skipped: Option<SkipReason>,
    /// It records its `Err` returns (`instrument --err`).
    pub err: bool,
}

/// The outcome for one file.
#[derive(Clone, Debug, Default)]
pub struct FileEdits {
    /// The file's new text (equal to the old one when nothing changed).
    pub text: String,
    pub fns: Vec<FnNote>,
    /// How many inserted pieces `remove` took out.
    pub removed: usize,
    /// `mod name;` declarations, for following the module tree.
    pub mods: Vec<crate::modtree::ModDecl>,
    /// Problems that do not stop the rewrite (a malformed nested `#[trace(...)]`).
    pub warnings: Vec<(usize, usize, String)>,
    /// Inserted code whose name no longer matches its fn (renamed or moved since), updated.
    pub renamed: Vec<Renamed>,
    /// Lines of `GlobalAlloc`/`Allocator` impls left out as a whole.
    pub allocator_impls: Vec<usize>,
    /// What traced fns hand to executors and threads, linked to their frame by the macro.
    pub links: trace_transform::link::Links,
}

/// A guard or async attribute that names its fn as it was called when it was inserted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renamed {
    pub line: usize,
    pub old: String,
    pub new: String,
}

impl FileEdits {
    pub fn instrumented(&self) -> usize {
        self.fns.iter().filter(|f| f.skipped.is_none()).count()
    }

    pub fn skipped(&self) -> usize {
        self.fns.len() - self.instrumented()
    }

    /// How many instrumented fns record their `Err` returns.
    pub fn with_err(&self) -> usize {
        self.fns.iter().filter(|f| f.err).count()
    }
}

/// A file that does not parse: where and why, 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The cfg-gated `extern crate` that 2015-edition crate roots need for `::trace_runtime` paths.
pub const EXTERN_CRATE: &str = "#[cfg(feature = \"trace\")] extern crate trace_runtime;";

fn parse(body: &str) -> Result<syn::File, SourceError> {
    syn::parse_file(body).map_err(|e| {
        let at = e.span().start();
        let message = match e.to_string().as_str() {
            // proc-macro2's lexer error says nothing of where or why.
            "cannot parse string into token stream" => {
                "cannot tokenize: an unclosed delimiter or an invalid token from here on"
                    .to_string()
            }
            other => other.to_string(),
        };
        SourceError {
            line: at.line,
            column: at.column + 1,
            message,
        }
    })
}

fn split_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(body) => (&text[..3], body),
        None => ("", text),
    }
}

/// Instruments one file's text.
///
/// ```
/// use trace_rewriter::source::{instrument, SourceOptions};
/// let out = instrument("fn main() {\n    run();\n}\n", &SourceOptions::default()).unwrap();
/// assert_eq!(
///     out.text,
///     "fn main() { #[cfg(feature = \"trace\")] let __trace_guard = \
///      ::trace_runtime::__private::enter!(module \"::main\");\n    run();\n}\n"
/// );
/// ```
pub fn instrument(text: &str, opts: &SourceOptions) -> Result<FileEdits, SourceError> {
    let (bom, body) = split_bom(text);
    let mut file = parse(body)?;
    let index = LineIndex::new(body);
    let mut collect = Collect {
        index: &index,
        body,
        edits: Vec::new(),
        fns: Vec::new(),
        renamed: Vec::new(),
        allocator_impls: Vec::new(),
        module: &opts.module,
        links: Default::default(),
    };
    let errors = walk_file(&mut file, opts.transform, &mut collect);
    let Collect {
        mut edits,
        fns,
        renamed,
        allocator_impls,
        links,
        ..
    } = collect;
    if opts.extern_crate && !edits.is_empty() && !has_extern_crate(&file) {
        if let Some(edit) = top_insertion(&file, &index, body, EXTERN_CRATE) {
            edits.push(edit);
        }
    }
    let warnings = errors
        .into_iter()
        .map(|e| {
            let at = e.span().start();
            (at.line, at.column + 1, e.to_string())
        })
        .collect();
    Ok(FileEdits {
        text: format!("{bom}{}", apply(body, &edits)),
        fns,
        removed: 0,
        mods: crate::modtree::declarations(&file),
        warnings,
        renamed,
        allocator_impls,
        links,
    })
}

struct Collect<'a> {
    index: &'a LineIndex<'a>,
    body: &'a str,
    edits: Vec<Edit>,
    fns: Vec<FnNote>,
    renamed: Vec<Renamed>,
    allocator_impls: Vec<usize>,
    module: &'a str,
    links: trace_transform::link::Links,
}

impl Collect<'_> {
    /// Replaces inserted code whose name differs from the one the walk gives the fn now (it
    /// was renamed or moved by hand after `instrument`). Only text `instrument` inserts, and
    /// whose name can be read back, is touched.
    fn refresh(&mut self, found: &Found<'_>, module: &str, line: usize) {
        let fresh = trace_transform::FnName {
            custom: None,
            ..found.name.clone()
        };
        let spec = |kind, values| GuardSpec {
            name: fresh.clone(),
            runtime: syn::parse_quote!(::trace_runtime),
            kind,
            values,
        };
        let (old, start, end, text) =
            if let Some(attr) = found.attrs.iter().find(|a| inserted::is_inserted_attr(a)) {
                let Some(old) = inserted::attr_site(attr) else {
                    return;
                };
                let start = attr.pound_token.span.start();
                let end = attr.bracket_token.span.close().end();
                // An attribute that records errors keeps doing so under its new name.
                let values = inserted::attr_err(attr)
                    .then(|| {
                        let err = trace_transform::args::ValueArgs {
                            err: Some(proc_macro2::Span::call_site()),
                            ..Default::default()
                        };
                        trace_transform::values::resolve(&err, found.sig)
                            .ok()
                            .flatten()
                    })
                    .flatten();
                (
                    old,
                    start,
                    end,
                    spec(GuardKind::AsyncBody, values).attribute_text(),
                )
            } else {
                let Some(stmt @ syn::Stmt::Local(local)) = found.block.stmts.first() else {
                    return;
                };
                let Some(old) = inserted::guard_site(stmt) else {
                    return;
                };
                let start = local.attrs[0].pound_token.span.start();
                let end = local.semi_token.span.end();
                (old, start, end, spec(GuardKind::Statement, None).text())
            };
        if old == fresh.site() {
            return;
        }
        let (start, end) = (self.index.offset(start), self.index.offset(end));
        self.edits.push(Edit {
            at: start,
            remove: end - start,
            text,
        });
        self.renamed.push(Renamed {
            line,
            old: old.display(module),
            new: fresh.display(module),
        });
    }
}

impl Visit for Collect<'_> {
    fn skipped_impl(&mut self, impl_token: proc_macro2::Span, reason: &SkipReason) {
        if *reason == SkipReason::AllocatorImpl {
            self.allocator_impls.push(impl_token.start().line);
        }
    }

    fn found(&mut self, found: Found<'_>) {
        let line = found.sig.ident.span().start().line;
        let mut module = if self.module.is_empty() {
            "crate".to_string()
        } else {
            self.module.to_string()
        };
        for m in found.inline_mods {
            module.push_str("::");
            module.push_str(m);
        }
        let name = found.name.display(&module);
        match &found.action {
            // With `err` too (`instrument --err`): the macro holds the result and records it.
            FnAction::Instrument(spec)
                if spec.kind != GuardKind::Statement || spec.holds_result() =>
            {
                let links = trace_transform::link::count(found.block);
                // A `Box::pin(async move { .. })` body's own block is the fn's frame.
                let own = usize::from(spec.kind == GuardKind::BoxPinAsync);
                self.links.blocks += links.blocks.saturating_sub(own);
                self.links.spawns += links.spawns;
                // The body must be wrapped, not prefixed: the macro does that, only with the
                // feature on, under the name the rewriter sees here.
                let at = self.index.offset(found.item_start.start());
                self.edits
                    .push(Edit::insert(at, format!("{} ", spec.attribute_text())));
                self.fns.push(FnNote {
                    name,
                    line,
                    skipped: None,
                    err: spec.holds_result(),
                });
            }
            FnAction::Instrument(spec) => {
                // After the opening brace, or after the body's inner attributes, which must stay first.
                let last_inner = found
                    .attrs
                    .iter()
                    .filter(|a| matches!(a.style, AttrStyle::Inner(_)))
                    .max_by_key(|a| self.index.offset(a.bracket_token.span.close().end()));
                let after: LineColumn = last_inner.map_or_else(
                    || found.block.brace_token.span.open().end(),
                    |a| a.bracket_token.span.close().end(),
                );
                let at = self.index.offset(after);
                let line_doc = last_inner.is_some_and(|a| {
                    self.body[self.index.offset(a.pound_token.span.start())..].starts_with("//")
                });
                match self.body[at..].find('\n') {
                    // A `//!` line would swallow the rest of its line: the guard opens the next
                    // line instead, after its indentation, and `remove` takes the space after it.
                    Some(eol) if line_doc => {
                        let next = at + eol + 1;
                        let indent = self.body[next..]
                            .bytes()
                            .take_while(|b| matches!(b, b' ' | b'\t'))
                            .count();
                        self.edits
                            .push(Edit::insert(next + indent, format!("{} ", spec.text())));
                    }
                    _ => self
                        .edits
                        .push(Edit::insert(at, format!(" {}", spec.text()))),
                }
                self.fns.push(FnNote {
                    name,
                    line,
                    skipped: None,
                    err: false,
                });
            }
            FnAction::Skip(reason) => {
                if matches!(
                    reason,
                    SkipReason::AlreadyInstrumented | SkipReason::HasTraceAttr
                ) {
                    self.refresh(&found, &module, line);
                }
                self.fns.push(FnNote {
                    name,
                    line,
                    skipped: Some(reason.clone()),
                    err: false,
                });
            }
        }
    }
}

fn has_extern_crate(file: &syn::File) -> bool {
    file.items
        .iter()
        .any(|i| matches!(i, syn::Item::ExternCrate(e) if e.ident == "trace_runtime"))
}

/// Takes out everything [`instrument`] put in: guard statements this transform emits and the
/// cfg-gated `extern crate`, with the one space inserted beside each. Hand-written code is left
/// alone: only a `__trace_guard` binding to the runtime's `__private::enter!` under
/// `cfg(feature = "trace")` is recognised.
///
/// ```
/// use trace_rewriter::source::{instrument, remove, SourceOptions};
/// let original = "fn f() { work() }\n";
/// let traced = instrument(original, &SourceOptions::default()).unwrap().text;
/// assert_eq!(remove(&traced).unwrap().text, original);
/// ```
pub fn remove(text: &str) -> Result<FileEdits, SourceError> {
    let (bom, body) = split_bom(text);
    let file = parse(body)?;
    let index = LineIndex::new(body);
    let found = inserted::find(&file, &index);
    let mut ranges: Vec<(usize, usize)> = found
        .ranges
        .into_iter()
        .map(|(start, end)| widen(body, start, end))
        .collect();
    ranges.sort_unstable();
    // Two insertions side by side each claim the one space between them (the `extern crate`
    // and the `__trace_follow!` definitions before a root's first item): the second takes
    // the space after it instead.
    for i in 1..ranges.len() {
        let prev_end = ranges[i - 1].1;
        if ranges[i].0 < prev_end {
            let end = ranges[i].1;
            let extra = usize::from(body.as_bytes().get(end) == Some(&b' '));
            ranges[i] = (prev_end, end + extra);
        }
    }
    let mut edits: Vec<Edit> = ranges
        .into_iter()
        .map(|(start, end)| Edit::delete(start, end - start))
        .collect();
    for guard in &found.reflowed {
        edits.push(match crate::reflow::after_guard(body, guard) {
            Some(edit) => edit,
            None => {
                let (start, end) = widen(body, guard.start, guard.end);
                Edit::delete(start, end - start)
            }
        });
    }
    let removed = edits.len() + found.unwraps.len() / 2;
    edits.extend(found.unwraps);
    Ok(FileEdits {
        text: format!("{bom}{}", apply(body, &edits)),
        fns: Vec::new(),
        removed,
        mods: crate::modtree::declarations(&file),
        warnings: Vec::new(),
        renamed: Vec::new(),
        allocator_impls: Vec::new(),
        links: Default::default(),
    })
}

/// The bytes to delete for an insertion at `start..end`: the insertion and the one space
/// `instrument` put beside it; or, when a formatter has since given it lines of its own, those
/// whole lines (indentation and line ending included). A guard that opens its body is handled
/// by [`crate::reflow`] first.
fn widen(body: &str, start: usize, end: usize) -> (usize, usize) {
    let blank = |s: &str| s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
    let line_start = body[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = body[end..].find('\n').map(|i| end + i + 1);
    if let Some(line_end) = line_end {
        if blank(&body[line_start..start]) && blank(&body[end..line_end - 1]) {
            return (line_start, line_end);
        }
    }
    let bytes = body.as_bytes();
    if start > 0 && bytes[start - 1] == b' ' {
        (start - 1, end)
    } else if bytes.get(end) == Some(&b' ') {
        (start, end + 1)
    } else {
        (start, end)
    }
}

/// Inserts `text` at the top of a file: after its inner attributes (on the line after an inner
/// `//!` doc comment, which would otherwise swallow it), or before its first item; a space
/// separates it from its neighbour.
fn top_insertion(file: &syn::File, index: &LineIndex<'_>, body: &str, text: &str) -> Option<Edit> {
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
