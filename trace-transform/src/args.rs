//! Parsing `#[trace(...)]` arguments into a plain [`TraceArgs`] value.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path, Token};

use crate::name::SiteName;

/// The arguments of one `#[trace(...)]` attribute.
///
/// ```
/// let args: trace_transform::TraceArgs = syn::parse_str(r#"name = "db.get", crate = my::rt"#).unwrap();
/// assert_eq!(args.name.unwrap().value(), "db.get");
/// ```
#[derive(Default, Clone)]
pub struct TraceArgs {
    /// `skip`: leave this fn (or everything inside this item) untraced.
    pub skip: Option<Span>,
    /// `name = "..."`: the name shown in the trace instead of the fn's path.
    pub name: Option<LitStr>,
    /// `crate = path`: where the runtime lives, for crates that re-export it.
    pub krate: Option<Path>,
    /// `__site(...)`: the site's name, passed by the rewriter for a fn whose impl or enclosing
    /// fn the attribute cannot see. Not for hand-written use.
    pub site: Option<SiteName>,
}

const KNOWN: &str = "`skip`, `name = \"...\"`, `crate = path`";

impl Parse for TraceArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = TraceArgs::default();
        let mut seen = HashSet::new();
        let mut errors: Option<syn::Error> = None;
        let mut push = |e: syn::Error| match &mut errors {
            Some(all) => all.combine(e),
            None => errors = Some(e),
        };
        while !input.is_empty() {
            let key: Ident = if input.peek(Token![crate]) {
                let kw: Token![crate] = input.parse()?;
                Ident::new("crate", kw.span)
            } else {
                input.parse()?
            };
            let key_name = key.to_string();
            if !seen.insert(key_name.clone()) {
                push(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{key_name}`"),
                ));
            }
            match key_name.as_str() {
                "skip" => args.skip = Some(key.span()),
                "name" => {
                    input.parse::<Token![=]>()?;
                    args.name = Some(input.parse()?);
                }
                "crate" => {
                    input.parse::<Token![=]>()?;
                    args.krate = Some(input.call(Path::parse_mod_style)?);
                }
                "__site" => {
                    let content;
                    syn::parenthesized!(content in input);
                    args.site = Some(SiteName::parse(&content)?);
                }
                _ => {
                    push(syn::Error::new(
                        key.span(),
                        format!("unknown argument `{key_name}`; #[trace] takes {KNOWN}"),
                    ));
                    // Skip to the next comma so later arguments are still checked.
                    while !input.is_empty() && !input.peek(Token![,]) {
                        input.parse::<proc_macro2::TokenTree>()?;
                    }
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let (Some(skip), Some(name)) = (args.skip, &args.name) {
            let mut e = syn::Error::new(name.span(), "`name` has no effect together with `skip`");
            e.combine(syn::Error::new(skip, "`skip` given here"));
            push(e);
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }
}

impl TraceArgs {
    /// Parses the tokens inside `#[trace(...)]`; empty tokens mean no arguments.
    pub fn from_tokens(tokens: TokenStream) -> syn::Result<Self> {
        syn::parse2(tokens)
    }

    /// The runtime crate's path: `crate = ...` when given, `::trace_runtime` otherwise.
    pub fn runtime_path(&self) -> Path {
        self.krate
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::trace_runtime))
    }
}
