//! What every traced fn gets, built in one place so both front ends emit the same code: a guard
//! statement for a plain fn, or the body wrapped in the runtime's future adaptor for an async fn.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;

use crate::name::FnName;
use crate::print::compact;

/// The binding that holds the guard: a reserved, hygienic-looking name the rewriter recognises.
pub const GUARD_BINDING: &str = "__trace_guard";

/// How a fn's calls are traced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardKind {
    /// A guard statement at the top of the body: enter on call, exit on every way out.
    Statement,
    /// `async fn`: the body becomes a future wrapped in the runtime's adaptor, which re-enters
    /// the task's place in the tree on every poll and exits on completion, panic or drop.
    AsyncBody,
    /// A fn whose body is `Box::pin(async move { .. })` (what `#[async_trait]` produces): the
    /// async block is wrapped.
    BoxPinAsync,
    /// A plain fn whose body creates work that runs elsewhere (`async` blocks, closures given
    /// to thread spawns, see [`crate::link`]): the guard statement, in a traced copy whose
    /// blocks and closures remember the fn's frame.
    LinkedStatement,
}

/// Everything needed to emit one fn's tracing.
///
/// ```
/// use trace_transform::{FnName, GuardSpec};
/// use trace_transform::guard::GuardKind;
/// let spec = GuardSpec {
///     name: FnName::free("main"),
///     runtime: syn::parse_quote!(::trace_runtime),
///     kind: GuardKind::Statement,
/// };
/// assert_eq!(
///     spec.text(),
///     "#[cfg(feature = \"trace\")] let __trace_guard = ::trace_runtime::__private::enter!(module \"::main\");"
/// );
/// ```
#[derive(Clone)]
pub struct GuardSpec {
    /// How the fn is named in the trace.
    pub name: FnName,
    /// The runtime crate's path (`::trace_runtime` unless overridden).
    pub runtime: Path,
    /// Which guard: a statement, or a wrapped future.
    pub kind: GuardKind,
}

impl GuardSpec {
    /// The guard statement as tokens. Gated on the user's `trace` feature so that, with the
    /// feature off, the fn compiles to exactly what it was.
    pub fn tokens(&self) -> TokenStream {
        let runtime = &self.runtime;
        let name = self.name.site().tokens();
        let binding = syn::Ident::new(GUARD_BINDING, proc_macro2::Span::call_site());
        quote! {
            #[cfg(feature = "trace")]
            let #binding = #runtime::__private::enter!(#name);
        }
    }

    /// The guard statement as one line of text, for splicing into a source file.
    pub fn text(&self) -> String {
        compact(self.tokens())
    }

    /// An async block wrapped in the runtime's future adaptor, ungated: the macro emits it in a
    /// `#[cfg(feature = "trace")]` copy of the fn.
    pub fn wrap_future(&self, future: &syn::Expr) -> syn::Expr {
        let runtime = &self.runtime;
        let name = self.name.site().tokens();
        syn::parse_quote!(#runtime::__private::instrument!([#name]; #future))
    }

    /// An async block wrapped in the adaptor with the frame the fn was called in, captured in
    /// the binding `created` before the future existed.
    pub fn wrap_future_from(&self, created: &syn::Ident, future: &syn::Expr) -> syn::Expr {
        let runtime = &self.runtime;
        let name = self.name.site().tokens();
        syn::parse_quote!(#runtime::__private::instrument!([#name]; created #created; #future))
    }

    /// The attribute the rewriter puts on a fn that needs its body wrapped (async fns): the
    /// macro then does the wrapping, with the name the rewriter saw, and only when the feature
    /// is on.
    pub fn attribute_text(&self) -> String {
        let runtime = &self.runtime;
        let site = self.name.site().tokens();
        compact(quote!(#[cfg_attr(feature = "trace", #runtime::trace(__site(#site)))]))
    }
}

/// Whether a statement is a guard this transform emitted (by either front end).
pub fn is_guard_stmt(stmt: &syn::Stmt) -> bool {
    match stmt {
        syn::Stmt::Local(local) => match &local.pat {
            syn::Pat::Ident(p) => p.ident == GUARD_BINDING,
            _ => false,
        },
        _ => false,
    }
}

fn is_box_pin_call(call: &syn::ExprCall) -> bool {
    let syn::Expr::Path(func) = &*call.func else {
        return false;
    };
    let segs: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_box_pin =
        segs.len() >= 2 && segs[segs.len() - 2] == "Box" && segs[segs.len() - 1] == "pin";
    is_box_pin && call.args.len() == 1 && matches!(call.args.first(), Some(syn::Expr::Async(_)))
}

/// Whether a body is shaped `Box::pin(async move { .. })`.
pub fn is_box_pin_async(block: &syn::Block) -> bool {
    matches!(block.stmts.last(), Some(syn::Stmt::Expr(syn::Expr::Call(call), None)) if is_box_pin_call(call))
}

/// The `async move { .. }` of a body shaped `Box::pin(async move { .. })`, if it is one.
pub fn box_pin_async(block: &mut syn::Block) -> Option<&mut syn::Expr> {
    match block.stmts.last_mut() {
        Some(syn::Stmt::Expr(syn::Expr::Call(call), None)) if is_box_pin_call(call) => {
            call.args.first_mut()
        }
        _ => None,
    }
}
