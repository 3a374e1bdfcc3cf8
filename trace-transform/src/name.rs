//! How a traced fn is named: module path, enclosing fns, the impl's Self type and trait, the fn.

use proc_macro2::TokenStream;
use quote::quote;

use crate::print::compact;

/// The parts of a traced fn's name that are known from syntax; the module path is filled in by
/// `module_path!()` where the guard is compiled.
///
/// ```
/// let name = trace_transform::FnName {
///     lead: vec![],
///     self_ty: Some("Cat".into()),
///     trait_: Some("Animal".into()),
///     ident: "speak".into(),
///     custom: None,
/// };
/// assert_eq!(name.display("demo"), "<demo::Cat as Animal>::speak");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnName {
    /// Enclosing fns (for fns declared in a fn body) and the trait a default method belongs to.
    pub lead: Vec<String>,
    /// The impl's Self type, generic arguments left out.
    pub self_ty: Option<String>,
    /// The trait of a trait impl, as written.
    pub trait_: Option<String>,
    /// The fn itself.
    pub ident: String,
    /// Replaces the whole name: `#[trace(name = "...")]`, or the pieces the rewriter passes in
    /// `#[trace(__site(...))]` for a fn whose impl the attribute cannot see.
    pub custom: Option<Vec<NamePiece>>,
}

impl FnName {
    /// A plain fn at module level.
    pub fn free(ident: impl Into<String>) -> Self {
        FnName {
            lead: Vec::new(),
            self_ty: None,
            trait_: None,
            ident: ident.into(),
            custom: None,
        }
    }

    /// The name as it reads once `module` is known, e.g. `demo::db::Pool::get`.
    pub fn display(&self, module: &str) -> String {
        self.pieces()
            .into_iter()
            .map(|p| match p {
                NamePiece::Module => module.to_string(),
                NamePiece::Text(t) => t,
            })
            .collect()
    }

    /// The input of the runtime's `enter!` macro that yields the name as a `&'static str`
    /// where the guard is compiled: `"name"`, `module "::tail"` or `"<" module "::tail"`, where
    /// `module` stands for `module_path!()`. The runtime expands it with paths of its own, so
    /// the emitted code needs no `::core` (absent from 2015-edition crates).
    pub fn tokens(&self) -> TokenStream {
        pieces_tokens(&self.pieces())
    }

    pub fn pieces(&self) -> Vec<NamePiece> {
        if let Some(custom) = &self.custom {
            return custom.clone();
        }
        let mut tail = String::new();
        for seg in &self.lead {
            tail.push_str("::");
            tail.push_str(seg);
        }
        match (&self.self_ty, &self.trait_) {
            (Some(ty), Some(tr)) => {
                // A Self type that is not a path (`&T`, `[T]`, `dyn Tr`) reads better without a module.
                let ty_is_path = ty
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_');
                let mut out = vec![NamePiece::Text("<".into())];
                if ty_is_path {
                    out.push(NamePiece::Module);
                    out.push(NamePiece::Text(format!(
                        "{tail}::{ty} as {tr}>::{}",
                        self.ident
                    )));
                } else {
                    let lead = tail.trim_start_matches("::");
                    let lead = if lead.is_empty() {
                        String::new()
                    } else {
                        format!("{lead}::")
                    };
                    out.push(NamePiece::Text(format!(
                        "{lead}{ty} as {tr}>::{}",
                        self.ident
                    )));
                }
                merge(out)
            }
            (Some(ty), None) => {
                vec![
                    NamePiece::Module,
                    NamePiece::Text(format!("{tail}::{ty}::{}", self.ident)),
                ]
            }
            _ => vec![
                NamePiece::Module,
                NamePiece::Text(format!("{tail}::{}", self.ident)),
            ],
        }
    }
}

/// A piece of a name: text, or the module path of the place the guard is compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamePiece {
    Module,
    Text(String),
}

/// Pieces as the runtime's macros take them: `"text"` and `module`.
pub fn pieces_tokens(pieces: &[NamePiece]) -> TokenStream {
    let parts = pieces.iter().map(|p| match p {
        NamePiece::Module => quote!(module),
        NamePiece::Text(t) => quote!(#t),
    });
    quote!(#(#parts)*)
}

/// Parses pieces written as [`pieces_tokens`] writes them.
pub fn parse_pieces(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<NamePiece>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        if input.peek(syn::LitStr) {
            out.push(NamePiece::Text(input.parse::<syn::LitStr>()?.value()));
        } else {
            let ident: syn::Ident = input.parse()?;
            if ident != "module" {
                return Err(syn::Error::new(
                    ident.span(),
                    "expected a string literal or `module`",
                ));
            }
            out.push(NamePiece::Module);
        }
    }
    Ok(out)
}

fn merge(pieces: Vec<NamePiece>) -> Vec<NamePiece> {
    let mut out: Vec<NamePiece> = Vec::new();
    for p in pieces {
        match (out.last_mut(), p) {
            (Some(NamePiece::Text(a)), NamePiece::Text(b)) => a.push_str(&b),
            (_, p) => out.push(p),
        }
    }
    out
}

/// Renders a Self type for a name: paths keep their segments and lose generic arguments
/// (`Stack<T>` reads as `Stack`); other types are printed compactly.
pub fn self_type(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
        syn::Type::Group(g) => self_type(&g.elem),
        syn::Type::Paren(p) => self_type(&p.elem),
        other => compact(quote!(#other)),
    }
}

/// Renders a trait path as written, generic arguments included (`From<&str>`).
pub fn trait_path(path: &syn::Path) -> String {
    compact(quote!(#path))
}
