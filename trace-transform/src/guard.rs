//! What every traced fn gets, built in one place so both front ends emit the same code: a guard
//! statement for a plain fn, or the body wrapped in the runtime's future adaptor for an async fn.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;

use crate::name::FnName;
use crate::print::compact;
use crate::values::{ArgValue, ValueSpec};

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
///     values: None,
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
    /// The values it records (`args`, `ret`, `err`); `None` for none, which expands exactly as
    /// a fn without them.
    pub values: Option<ValueSpec>,
}

impl GuardSpec {
    /// The guard statement as tokens. Gated on the user's `trace` feature so that, with the
    /// feature off, the fn compiles to exactly what it was.
    pub fn tokens(&self) -> TokenStream {
        let runtime = &self.runtime;
        let name = self.name.site().tokens();
        let binding = syn::Ident::new(GUARD_BINDING, proc_macro2::Span::call_site());
        match self.values.as_ref().filter(|v| !v.args.is_empty()) {
            Some(values) => {
                let args = values.args.iter().map(|a| self.arg(a));
                quote! {
                    #[cfg(feature = "trace")]
                    let #binding = #runtime::__private::enter!(@values [#(#args),*] #name);
                }
            }
            None => quote! {
                #[cfg(feature = "trace")]
                let #binding = #runtime::__private::enter!(#name);
            },
        }
    }

    /// Whether the fn's result is held and recorded before it returns: its body is then moved
    /// into a closure (an async block, for a future) in a traced copy of the fn.
    pub fn holds_result(&self) -> bool {
        self.values.as_ref().is_some_and(ValueSpec::holds_result)
    }

    /// One recorded argument: `Arg("name", value)`. A named one must be `Debug` (the check is
    /// spanned at its name, so the compiler's error points there); one of plain `args` is
    /// recorded only where its type is `Debug`, chosen by autoref specialization.
    fn arg(&self, arg: &ArgValue) -> TokenStream {
        let runtime = &self.runtime;
        let ident = &arg.ident;
        let name = ident.to_string();
        if arg.required {
            quote_spanned! {ident.span()=>
                #runtime::__private::Arg(#name, #runtime::__private::debug_arg(&#ident))
            }
        } else {
            let value = self.probe(quote!(&#ident));
            quote!(#runtime::__private::Arg(#name, #value))
        }
    }

    /// A value's text where its type is `Debug`, its type name otherwise: never a compile error.
    fn probe(&self, reference: TokenStream) -> TokenStream {
        let runtime = &self.runtime;
        quote! {{
            use #runtime::__private::{ProbeDebug as _, ProbeName as _};
            (&#runtime::__private::Probe(#reference)).__trace_value()
        }}
    }

    /// What records the held result `__trace_ret` on `target` (the guard, or for a future the
    /// frame being polled): with `ret` its value (a `Result`'s `Ok` value, with `err` too),
    /// with `err` an `Err`'s error, marking the exit an error.
    /// `site` is the first argument of each call, for a future's `Here`.
    fn record_result(
        &self,
        values: &ValueSpec,
        target: &TokenStream,
        site: &TokenStream,
    ) -> TokenStream {
        let runtime = &self.runtime;
        let span = values.output_span;
        let err = self.probe(quote!(__trace_err));
        match (values.ret, values.err) {
            (true, false) => {
                // Spanned at the return type, where a missing `Debug` is reported.
                let value = quote_spanned!(span=> #runtime::__private::debug_ret(&__trace_ret));
                quote!(#target.ret(#site #value);)
            }
            (false, true) => quote! {
                if let ::core::result::Result::Err(__trace_err) = &__trace_ret {
                    #target.err(#site #err);
                }
            },
            (true, true) => {
                let ok = quote_spanned!(span=> #runtime::__private::debug_ret(__trace_ok));
                quote! {
                    match &__trace_ret {
                        ::core::result::Result::Ok(__trace_ok) => #target.ret_ok(#site #ok),
                        ::core::result::Result::Err(__trace_err) => #target.err(#site #err),
                    }
                }
            }
            (false, false) => TokenStream::new(),
        }
    }

    /// The traced copy's body of a sync fn that holds its result: the body runs in a closure
    /// (so that `return` and `?` leave it with the fn's value), whose value is recorded on the
    /// guard before the fn returns it. The guard statement goes on top afterwards.
    ///
    /// The closure is called through the runtime's `call_once`, which makes it `FnOnce`: a
    /// body returning a borrow of what it captured (`&mut self` giving `Result<&mut T, E>`)
    /// would not compile in a closure called in place, which is `FnMut`. Its return type is
    /// spelled where it can be, so that `return` and the last expression coerce to it as they
    /// do in the fn (`Ok(Box::new(x))` to `Result<Box<dyn Trait>, E>`).
    pub fn hold_result(&self, block: &mut syn::Block) {
        let Some(values) = self.values.as_ref().filter(|v| v.holds_result()) else {
            return;
        };
        let runtime = &self.runtime;
        let binding = syn::Ident::new(GUARD_BINDING, proc_macro2::Span::call_site());
        let record = self.record_result(values, &quote!(#binding), &TokenStream::new());
        let ret = values.output.as_ref().map(|ty| quote!(-> #ty));
        *block = syn::parse_quote!({
            let __trace_ret = #runtime::__private::call_once(move || #ret #block);
            #record
            __trace_ret
        });
    }

    /// The body of a traced future that records values: its arguments first (recorded on the
    /// frame being polled, the future's own, at its first poll; `__TRACE_SITE`, the `static`
    /// the runtime's `instrument!` declares around the future, says which fn's it is), then the body in an async
    /// block of its own whose output is recorded before the future completes with it.
    pub fn record_in_future(&self, block: &mut syn::Block) {
        let Some(values) = &self.values else {
            return;
        };
        let runtime = &self.runtime;
        let here = quote!(#runtime::__private::Here);
        let args = (!values.args.is_empty()).then(|| {
            let args = values.args.iter().map(|a| self.arg(a));
            quote!(#here.args(&__TRACE_SITE, &[#(#args),*]);)
        });
        if values.holds_result() {
            let record = self.record_result(values, &here, &quote!(&__TRACE_SITE,));
            let ty = values.output.as_ref().map(|ty| quote!(: #ty));
            *block = syn::parse_quote!({
                #args
                let __trace_ret #ty = async move #block.await;
                #record
                __trace_ret
            });
        } else if let Some(args) = args {
            block
                .stmts
                .insert(0, syn::parse2(args).expect("a statement"));
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
        let args = self.args_first();
        syn::parse_quote!(#runtime::__private::instrument!([#name]; #args #future))
    }

    /// `args;` for a future whose body records its arguments first thing (see
    /// [`record_in_future`](Self::record_in_future)): its enter then says they follow, and the
    /// views show them on it. Nothing for any other, which expands as before.
    fn args_first(&self) -> Option<TokenStream> {
        self.values
            .as_ref()
            .filter(|v| !v.args.is_empty())
            .map(|_| quote!(args;))
    }

    /// An async block wrapped in the adaptor with the frame the fn was called in, captured in
    /// the binding `created` before the future existed.
    pub fn wrap_future_from(&self, created: &syn::Ident, future: &syn::Expr) -> syn::Expr {
        let runtime = &self.runtime;
        let name = self.name.site().tokens();
        let args = self.args_first();
        syn::parse_quote!(#runtime::__private::instrument!([#name]; #args created #created; #future))
    }

    /// The attribute the rewriter puts on a fn that needs its body wrapped (async fns): the
    /// macro then does the wrapping, with the name the rewriter saw, and only when the feature
    /// is on.
    ///
    /// A fn that records its errors (`instrument --err`) gets `err` there too: the macro then
    /// holds its result and records an `Err`, exactly as for `#[trace(err)]`.
    pub fn attribute_text(&self) -> String {
        let runtime = &self.runtime;
        let site = self.name.site().tokens();
        let err = self
            .values
            .as_ref()
            .is_some_and(|v| v.err)
            .then(|| quote!(, err));
        compact(quote!(#[cfg_attr(feature = "trace", #runtime::trace(__site(#site) #err))]))
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
