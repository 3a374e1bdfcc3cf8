//! The guard statement every traced fn starts with, as tokens (for the macro) and as one line of
//! text (for the rewriter), built in one place so both front ends emit the same code.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;

use crate::name::FnName;
use crate::print::compact;

/// The binding that holds the guard: a reserved, hygienic-looking name the rewriter recognises.
pub const GUARD_BINDING: &str = "__trace_guard";

/// The cargo feature of the user's crate that switches guards on.
pub const FEATURE: &str = "trace";

/// Everything needed to emit one fn's guard statement.
///
/// ```
/// use trace_transform::{FnName, GuardSpec};
/// let spec = GuardSpec { name: FnName::free("main"), runtime: syn::parse_quote!(::trace_runtime) };
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
}

impl GuardSpec {
    /// The statement as tokens. Gated on the user's `trace` feature so that, with the feature off,
    /// the fn compiles to exactly what it was.
    pub fn tokens(&self) -> TokenStream {
        let runtime = &self.runtime;
        let name = self.name.tokens();
        let binding = syn::Ident::new(GUARD_BINDING, proc_macro2::Span::call_site());
        quote! {
            #[cfg(feature = "trace")]
            let #binding = #runtime::__private::enter!(#name);
        }
    }

    /// The statement as one line of text, for splicing into a source file.
    pub fn text(&self) -> String {
        compact(self.tokens())
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
