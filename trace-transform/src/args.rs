//! Parsing `#[trace(...)]` arguments into a plain [`TraceArgs`] value.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
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
    /// `args`, `args(..)`, `skip(..)`, `skip_args`, `ret`, `err`: the values the fn records.
    pub values: ValueArgs,
}

/// The value options of one `#[trace(...)]`, as written (resolved against a fn's signature by
/// [`crate::values`]).
///
/// ```
/// let args: trace_transform::TraceArgs = syn::parse_str("args, skip(password), err").unwrap();
/// assert_eq!(args.values.skip[0], "password");
/// assert!(args.values.err.is_some() && args.values.ret.is_none());
/// ```
#[derive(Default, Clone)]
pub struct ValueArgs {
    /// `args` (every argument whose type is `Debug`) or `args(a, b)` (exactly these).
    pub args: Option<ArgSelection>,
    /// `skip(a, b)`: arguments left out of `args`.
    pub skip: Vec<Ident>,
    /// `skip_args`: no arguments, whatever the container says.
    pub skip_args: Option<Span>,
    /// `ret`: the return value (the output, for an async fn).
    pub ret: Option<Span>,
    /// `err`: an `Err` return marks the exit as an error and records the error.
    pub err: Option<Span>,
    /// Set by [`merge`](crate::values::merge) only: `args` and `skip(..)` names a container
    /// gave, which hold for the fns inside that take those arguments and are no mistake in one
    /// that does not (a container's name that no fn inside takes is one: `Walker` reports it).
    pub inherited: Inherited,
}

/// A container's `args(..)` and `skip(..)` as one fn inside it sees them (see
/// [`ValueArgs::inherited`]).
#[derive(Default, Clone)]
pub struct Inherited {
    /// `args` came from the container: names a fn does not take are passed over.
    pub args: bool,
    /// The container's `skip(..)` names.
    pub skip: Vec<Ident>,
}

/// Which arguments `args` names.
#[derive(Clone)]
pub enum ArgSelection {
    /// `args`: all of them (`self` only when named), each recorded where its type is `Debug`.
    All(Span),
    /// `args(a, self)`: these, each of which must be `Debug`.
    Named(Vec<Ident>),
}

impl ValueArgs {
    /// Whether the attribute asks for no value at all.
    pub fn is_empty(&self) -> bool {
        self.args.is_none()
            && self.skip.is_empty()
            && self.skip_args.is_none()
            && self.ret.is_none()
            && self.err.is_none()
    }

    /// The first token of a value option only a single fn can take (`ret`, `err`).
    pub fn fn_only(&self) -> Option<(Span, &'static str)> {
        self.ret
            .map(|s| (s, "ret"))
            .or(self.err.map(|s| (s, "err")))
    }
}

const KNOWN: &str = "`skip`, `name = \"...\"`, `crate = path`, `args`, `args(..)`, `skip(..)`, \
                     `skip_args`, `ret`, `err`";

/// A parenthesized list of argument names: `(a, self, b)`.
fn names(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    let content;
    syn::parenthesized!(content in input);
    let list = content.parse_terminated(Ident::parse_any, Token![,])?;
    Ok(list.into_iter().collect())
}

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
            let mut key_name = key.to_string();
            if key_name == "skip" && input.peek(syn::token::Paren) {
                // `skip(..)` lists arguments; plain `skip` leaves the fn untraced.
                key_name = "skip(..)".into();
            }
            if !seen.insert(key_name.clone()) {
                push(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{key_name}`"),
                ));
            }
            match key_name.as_str() {
                "skip" => args.skip = Some(key.span()),
                "skip(..)" => args.values.skip = names(input)?,
                "args" if input.peek(syn::token::Paren) => {
                    let list = names(input)?;
                    if list.is_empty() {
                        push(syn::Error::new(
                            key.span(),
                            "`args()` names no argument; write `skip_args` for none",
                        ));
                    }
                    args.values.args = Some(ArgSelection::Named(list));
                }
                "args" => args.values.args = Some(ArgSelection::All(key.span())),
                "skip_args" => args.values.skip_args = Some(key.span()),
                "ret" => args.values.ret = Some(key.span()),
                "err" => args.values.err = Some(key.span()),
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
        let values = &args.values;
        if let Some(skip_args) = values.skip_args {
            if let Some(other) = match &values.args {
                Some(ArgSelection::All(span)) => Some(*span),
                Some(ArgSelection::Named(list)) => list.first().map(|i| i.span()),
                None => values.skip.first().map(|i| i.span()),
            } {
                let mut e = syn::Error::new(other, "arguments named together with `skip_args`");
                e.combine(syn::Error::new(skip_args, "`skip_args` records none"));
                push(e);
            }
        }
        if let (Some(ArgSelection::Named(_)), Some(first)) = (&values.args, values.skip.first()) {
            push(syn::Error::new(
                first.span(),
                "`skip(..)` goes with `args` (all arguments); `args(..)` already names the ones \
                 recorded",
            ));
        }
        if let (Some(skip), false) = (args.skip, values.is_empty()) {
            let mut e = syn::Error::new(skip, "`skip` leaves the fn untraced: nothing to record");
            if let Some((span, key)) = values
                .fn_only()
                .or(values.skip_args.map(|s| (s, "skip_args")))
            {
                e.combine(syn::Error::new(span, format!("`{key}` given here")));
            }
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
