//! What in a traced fn's body must remember the frame that created it, so that work it hands
//! to an executor or a thread continues the fn's chain: `async` blocks (awaited where they are
//! made, they add nothing; run as a task of their own, their traced calls are spawned from the
//! fn), `async move` closures, and the closures given to thread spawns (`thread::spawn`,
//! `thread::Builder`, scoped `s.spawn`, `spawn_blocking`, `rayon::spawn`). Found here, and
//! wrapped here in the traced copy of the fn only.
//!
//! ```text
//! tokio::spawn(async move { handler.run().await });
//! std::thread::spawn(move || work());
//! // become, with the feature on:
//! tokio::spawn(::trace_runtime::__private::link(async move { handler.run().await }));
//! std::thread::spawn(::trace_runtime::__private::follow(move || work()));
//! ```
//!
//! Nested items (fns, impls) are left to their own tracing; macro arguments are tokens, not
//! expressions, and are left as written (a block inside `select!` or `join!` is polled by the
//! task that runs the macro, so it needs no link).

use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Path};

/// What [`wrap_links`] would wrap in a body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// `async` blocks and `async move` closures.
    pub blocks: usize,
    /// Closures handed to thread spawns.
    pub spawns: usize,
}

/// Counts what [`wrap_links`] would wrap in `block`.
///
/// ```
/// let body: syn::Block = syn::parse_quote!({
///     tokio::spawn(async move { work().await });
///     std::thread::spawn(move || more());
/// });
/// let links = trace_transform::link::count(&body);
/// assert_eq!((links.blocks, links.spawns), (1, 1));
/// ```
pub fn count(block: &syn::Block) -> Links {
    let mut finder = Finder {
        scopes: Vec::new(),
        links: Links::default(),
    };
    finder.visit_block(block);
    finder.links
}

/// Whether `block` holds anything [`wrap_links`] would wrap.
pub fn holds_links(block: &syn::Block) -> bool {
    count(block) != Links::default()
}

/// Wraps everything in `block` that must remember its creating frame, using the runtime at
/// `runtime`.
pub fn wrap_links(block: &mut syn::Block, runtime: &Path) {
    Wrapper {
        runtime,
        scopes: Vec::new(),
    }
    .visit_block_mut(block);
}

/// Whether a call hands its closure to another thread: one argument, a closure literal taking
/// nothing (what `follow` wraps), given to a path ending `thread::spawn`, `task::spawn_blocking`
/// (or `spawn_blocking` alone), `rayon::spawn` or `rayon::spawn_fifo`, to `.spawn` on a
/// `thread::Builder::new()` chain (which also takes a named fn), or to `s.spawn` inside
/// `thread::scope(|s| ..)`. Otherwise only closure literals: a fn of the user's that happens to
/// share a name takes other arguments, and a fn item or a variable may be needed as it is
/// (`Fn`, `Clone`), which a wrapped closure is not.
/// `scopes` are the parameter names of the `thread::scope` closures around the call.
fn spawns_closure(expr: &Expr, scopes: &[String]) -> bool {
    let mut any_fn = false;
    let (args, spawns) = match expr {
        Expr::Call(call) => {
            let spawns = call_path(call).is_some_and(|path| {
                path_ends_with(path, &["thread", "spawn"])
                    || path_ends_with(path, &["task", "spawn_blocking"])
                    || (path.segments.len() == 1 && path.is_ident("spawn_blocking"))
                    || path_ends_with(path, &["rayon", "spawn"])
                    || path_ends_with(path, &["rayon", "spawn_fifo"])
            });
            (&call.args, spawns)
        }
        Expr::MethodCall(m) if m.method == "spawn" => {
            let scoped = matches!(&*m.receiver, Expr::Path(p)
                if p.path.get_ident().is_some_and(|i| scopes.iter().any(|s| i == s)));
            // std's `Builder::spawn` takes any `FnOnce() -> T`: a fn named there too.
            any_fn = from_builder(&m.receiver);
            (&m.args, scoped || any_fn)
        }
        _ => return false,
    };
    // A scope's spawn that hands its closure the scope (rayon's, crossbeam's) is left alone:
    // `follow` cannot pass the scope on.
    spawns
        && args.len() == 1
        && match &args[0] {
            Expr::Closure(c) => c.inputs.is_empty() && c.asyncness.is_none(),
            Expr::Path(_) => any_fn,
            _ => false,
        }
}

/// The parameter name of a `thread::scope(|s| ..)` call's closure.
fn scope_param(expr: &Expr) -> Option<String> {
    let Expr::Call(call) = expr else { return None };
    let path = call_path(call)?;
    if call.args.len() != 1 || !path_ends_with(path, &["thread", "scope"]) {
        return None;
    }
    let Expr::Closure(c) = &call.args[0] else {
        return None;
    };
    let param = match c.inputs.first() {
        Some(syn::Pat::Type(t)) => Some(&*t.pat),
        other => other,
    };
    match param {
        Some(syn::Pat::Ident(p)) => Some(p.ident.to_string()),
        _ => None,
    }
}

/// Whether `path` ends with `tail` (and is not the runtime's own drop-in).
fn path_ends_with(path: &Path, tail: &[&str]) -> bool {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segs.len() >= tail.len()
        && segs[segs.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
        && segs.first().map(String::as_str) != Some("trace_runtime")
}

fn call_path(call: &syn::ExprCall) -> Option<&Path> {
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

/// An `async move` closure: its future can be given the creating frame from the closure's own
/// captures. A borrowing `async` closure cannot hold it (the frame's note would be a local the
/// closure outlives), so it is left as written.
fn linkable_closure(c: &syn::ExprClosure) -> bool {
    c.asyncness.is_some() && c.capture.is_some()
}

struct Finder {
    scopes: Vec<String>,
    links: Links,
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::Async(_) => self.links.blocks += 1,
            Expr::Closure(c) if linkable_closure(c) => self.links.blocks += 1,
            _ => {}
        }
        if spawns_closure(e, &self.scopes) {
            self.links.spawns += 1;
        }
        if let Some(param) = scope_param(e) {
            self.scopes.push(param);
            visit::visit_expr(self, e);
            self.scopes.pop();
        } else {
            visit::visit_expr(self, e);
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

struct Wrapper<'a> {
    runtime: &'a Path,
    scopes: Vec<String>,
}

impl VisitMut for Wrapper<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        // Inner expressions first: a block inside a block is linked when the outer one runs.
        let param = scope_param(e);
        if let Some(param) = &param {
            self.scopes.push(param.clone());
        }
        let spawned = spawns_closure(e, &self.scopes);
        visit_mut::visit_expr_mut(self, e);
        if param.is_some() {
            self.scopes.pop();
        }
        let runtime = self.runtime;
        match e {
            Expr::Async(_) => {
                let block = std::mem::replace(e, Expr::Verbatim(Default::default()));
                *e = syn::parse_quote!(#runtime::__private::link(#block));
            }
            Expr::Closure(c) if linkable_closure(c) => {
                let body = &c.body;
                let created = syn::Ident::new("__trace_created", proc_macro2::Span::call_site());
                let inner: Expr = syn::parse_quote!(
                    #runtime::__private::Linked::new(
                        ::core::clone::Clone::clone(&#created),
                        async { #body },
                    )
                    .await
                );
                *c.body = match &c.output {
                    // A declared output type needs a block body.
                    syn::ReturnType::Type(..) => syn::parse_quote!({ #inner }),
                    syn::ReturnType::Default => inner,
                };
                let closure = std::mem::replace(e, Expr::Verbatim(Default::default()));
                *e = syn::parse_quote!({
                    let #created = #runtime::__private::created();
                    #closure
                });
            }
            _ => {}
        }
        if spawned {
            let args = match e {
                Expr::Call(call) => &mut call.args,
                Expr::MethodCall(m) => &mut m.args,
                _ => return,
            };
            if let Some(arg) = args.first_mut() {
                let closure = std::mem::replace(arg, Expr::Verbatim(Default::default()));
                *arg = syn::parse_quote!(#runtime::__private::follow(#closure));
            }
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::{count, Links};

    fn links(body: syn::Block) -> (usize, usize) {
        let Links { blocks, spawns } = count(&body);
        (blocks, spawns)
    }

    #[test]
    fn thread_spawns_of_every_kind_are_found() {
        assert_eq!(
            links(syn::parse_quote!({
                std::thread::spawn(move || work());
                thread::Builder::new().name("w".into()).spawn(|| work());
                std::thread::Builder::new().spawn(worker);
                std::thread::scope(|s| {
                    s.spawn(|| work());
                });
                std::thread::scope(|s: &Scope| {
                    s.spawn(|| work());
                });
                tokio::task::spawn_blocking(move || work());
                spawn_blocking(|| work());
                rayon::spawn(|| work());
                rayon::spawn_fifo(|| work());
            })),
            (0, 9)
        );
    }

    /// Regression: a user's own fn sharing a spawn's name (taking a value, or a closure that
    /// must stay `Fn`/`Clone`) was wrapped, and failed to compile with the feature on.
    #[test]
    fn only_closure_literals_taking_nothing_are_wrapped() {
        assert_eq!(
            links(syn::parse_quote!({
                spawn_blocking(3);
                pool::thread::spawn(5);
                std::thread::spawn(worker);
                tokio::task::spawn_blocking(job);
                helper::spawn_blocking(|| 1);
                rayon::scope(|s| {
                    s.spawn(|_| work());
                });
                other.spawn(|| work());
                trace_runtime::thread::spawn(|| work());
            })),
            (0, 0)
        );
    }

    #[test]
    fn blocks_and_owning_async_closures_are_found_nested_items_and_macros_are_not() {
        assert_eq!(
            links(syn::parse_quote!({
                let a = async { 1 };
                tokio::spawn(async move {
                    tokio::spawn(async move { a.await });
                });
                let owned = async move |x: u32| x;
                let borrowed = async |x: u32| x;
                fn nested() {
                    let _ = async {};
                }
                tokio::join!(async {}, async {});
            })),
            (4, 0)
        );
    }
}
