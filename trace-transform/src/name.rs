//! How a traced fn is named: the pieces syntax knows (module path, enclosing fns, the impl's
//! Self type and trait as written, the fn), for the runtime to compose.
//!
//! A macro sees tokens, not resolved paths: `User` may be imported from another module, `u8` is
//! in no module at all. So a method's Self type is not spelled here: the runtime composes it
//! from `core::any::type_name::<Self>()` on the site's first call (`trace_runtime::__private`,
//! `Site::resolve_self`), and this module says where it goes. Trait paths stay as written,
//! except that `crate::`, `super::` and `self::` are marked for the runtime to resolve against
//! the module path.
//!
//! This module is the transform's one owner of the pieces and their token form; the runtime's
//! one owner of composing them is its `name` module (`Piece`, `compose`, the generic-argument
//! stripper). They are not one shared type because neither crate can depend on the other
//! without a cycle or without `syn` in the runtime's library, and a crate of their own would
//! be one more crate for every user's build for one enum; see `trace_runtime`'s `name` module.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;

use crate::print::compact;

/// The parts of a traced fn's name that are known from syntax.
///
/// ```
/// use trace_transform::name::{FnName, SelfType, TraitPath};
/// let name = FnName {
///     self_ty: Some(SelfType::parse(&syn::parse_quote!(Cat), &Default::default())),
///     trait_: Some(TraitPath::parse(&syn::parse_quote!(super::Animal))),
///     ..FnName::free("speak")
/// };
/// // Known at compile time: the Self type guessed local, the trait as written.
/// assert_eq!(name.site().display("demo"), "<demo::Cat as super::Animal>::speak");
/// // Composed at run time: the Self type as `type_name` gives it, `super` resolved.
/// assert_eq!(
///     name.site().tokens().to_string(),
///     r#"["<" module "::Cat as super::Animal>::speak"] ["<" Self " as " super "::Animal>::speak"] Self"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnName {
    /// Enclosing fns (for fns declared in a fn body) and the trait a default method belongs to.
    pub lead: Vec<String>,
    /// The impl's Self type.
    pub self_ty: Option<SelfType>,
    /// The trait of a trait impl.
    pub trait_: Option<TraitPath>,
    /// The fn itself.
    pub ident: String,
    /// Replaces the whole name: `#[trace(name = "...")]`, or what the rewriter passes in
    /// `#[trace(__site(...))]` for a fn whose impl the attribute cannot see.
    pub custom: Option<SiteName>,
}

/// An impl's Self type as syntax shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfType {
    /// As written, generic arguments of paths left out: `Stack<T>` reads `Stack`, `[u8; 4]`
    /// stays.
    pub written: String,
    /// A path (`Pool`, `db::Pool`): it qualifies a fn bare, others in angle brackets.
    pub is_path: bool,
    /// It names one of the impl's own generic parameters outside generic arguments (`T`, `&T`,
    /// `[T; N]`): Self differs per instantiation while all of them share one static site, so
    /// the name keeps the type as written (`<T as Hello>::hi`) instead of resolving it.
    pub per_instance: bool,
}

/// A trait path as written, with a leading `crate`, `self` or `super`s split off to resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraitPath {
    /// The whole path as written, generic arguments included (`From<&'a str>`).
    pub written: String,
    /// `crate` as [`NamePiece::Crate`], `self` as [`NamePiece::Module`], each `super` as
    /// [`NamePiece::Super`]; empty for any other path.
    pub root: Vec<NamePiece>,
    /// What follows the root, as written: `::Hello` after `super`, the whole path without one.
    pub rest: String,
}

/// A piece of a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamePiece {
    /// Text as it is.
    Text(String),
    /// The module path where the guard is compiled (`module_path!()`).
    Module,
    /// The crate's root module, for `crate::` (composed at run time only).
    Crate,
    /// One module up, for `super::` (composed at run time only).
    Super,
    /// The impl's Self type, resolved (composed at run time only).
    SelfType,
    /// The resolved Self type qualifying an inherent fn (composed at run time only).
    SelfQualifier,
}

/// What the runtime's `enter!` and `instrument!` macros take to name a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteName {
    /// The name known at compile time: only [`NamePiece::Text`] and [`NamePiece::Module`].
    pub name: Vec<NamePiece>,
    /// The true name's pieces, when it must be composed at run time.
    pub composed: Option<Vec<NamePiece>>,
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

    /// How the site is named: at compile time, and composed at run time when the compile-time
    /// name cannot be true by itself.
    pub fn site(&self) -> SiteName {
        if let Some(custom) = &self.custom {
            return custom.clone();
        }
        let ident = &self.ident;
        let text = |s: String| NamePiece::Text(s);
        match (&self.self_ty, &self.trait_) {
            (Some(ty), Some(tr)) => {
                let tail = format!(" as {}>::{ident}", tr.written);
                // The compile-time name guesses a path type is local, as most are; the
                // composed name is true for imported ones too.
                let name = if ty.is_path && !ty.per_instance && !is_primitive(&ty.written) {
                    vec![
                        text("<".into()),
                        NamePiece::Module,
                        text(format!("{}::{}{tail}", self.lead_text(), ty.written)),
                    ]
                } else {
                    vec![text(format!("<{}{tail}", ty.written))]
                };
                let mut composed = if ty.per_instance {
                    vec![text(format!("<{} as ", ty.written))]
                } else {
                    vec![text("<".into()), NamePiece::SelfType, text(" as ".into())]
                };
                composed.extend(tr.root.iter().cloned());
                composed.push(text(format!("{}>::{ident}", tr.rest)));
                let needed = !ty.per_instance || !tr.root.is_empty();
                SiteName {
                    name,
                    composed: needed.then(|| merge(composed)),
                }
            }
            (Some(ty), None) => {
                let name = if ty.is_path {
                    vec![
                        NamePiece::Module,
                        text(format!("{}::{}::{ident}", self.lead_text(), ty.written)),
                    ]
                } else {
                    vec![text(format!("<{}>::{ident}", ty.written))]
                };
                let composed = (!ty.per_instance)
                    .then(|| vec![NamePiece::SelfQualifier, text(format!("::{ident}"))]);
                SiteName { name, composed }
            }
            _ => SiteName {
                name: vec![
                    NamePiece::Module,
                    text(format!("{}::{ident}", self.lead_text())),
                ],
                composed: None,
            },
        }
    }

    /// The compile-time name once `module` is known, e.g. `demo::db::Pool::get`.
    pub fn display(&self, module: &str) -> String {
        self.site().display(module)
    }

    /// `::outer::inner` for the enclosing fns and trait, empty at module level.
    fn lead_text(&self) -> String {
        self.lead.iter().map(|seg| format!("::{seg}")).collect()
    }
}

impl SelfType {
    /// Reads an impl's Self type; `generics` are the impl's own.
    pub fn parse(ty: &syn::Type, generics: &syn::Generics) -> Self {
        let params: Vec<&syn::Ident> = generics
            .params
            .iter()
            .filter_map(|p| match p {
                syn::GenericParam::Type(t) => Some(&t.ident),
                syn::GenericParam::Const(c) => Some(&c.ident),
                syn::GenericParam::Lifetime(_) => None,
            })
            .collect();
        SelfType {
            written: written_type(ty),
            is_path: matches!(ungrouped(ty), syn::Type::Path(p) if p.qself.is_none()),
            per_instance: names_a_param(ty, &params),
        }
    }
}

impl TraitPath {
    /// Reads the trait of a trait impl.
    pub fn parse(path: &syn::Path) -> Self {
        let written = compact(quote!(#path));
        let mut root = Vec::new();
        let mut segments = path.segments.iter().peekable();
        if path.leading_colon.is_none() {
            if let Some(first) = segments.peek() {
                if first.ident == "crate" {
                    root.push(NamePiece::Crate);
                    segments.next();
                } else if first.ident == "self" {
                    root.push(NamePiece::Module);
                    segments.next();
                } else {
                    while segments.next_if(|s| s.ident == "super").is_some() {
                        root.push(NamePiece::Super);
                    }
                }
            }
        }
        let rest: Vec<String> = segments.map(|s| compact(quote!(#s))).collect();
        let rest = if root.is_empty() {
            written.clone()
        } else {
            rest.iter().map(|s| format!("::{s}")).collect()
        };
        TraitPath {
            written,
            root,
            rest,
        }
    }
}

impl SiteName {
    /// A name given whole, as `#[trace(name = "...")]` gives it.
    pub fn literal(name: impl Into<String>) -> Self {
        SiteName {
            name: vec![NamePiece::Text(name.into())],
            composed: None,
        }
    }

    /// The compile-time name once `module` is known, e.g. `demo::db::Pool::get`.
    pub fn display(&self, module: &str) -> String {
        self.name
            .iter()
            .map(|p| match p {
                NamePiece::Text(t) => t.as_str(),
                _ => module,
            })
            .collect()
    }

    /// Whether composing the name needs the impl's Self type.
    pub fn uses_self(&self) -> bool {
        self.composed
            .iter()
            .flatten()
            .any(|p| matches!(p, NamePiece::SelfType | NamePiece::SelfQualifier))
    }

    /// The input of the runtime's `enter!` macro: `module "::load"` for a name known at compile
    /// time; `[NAME] [PIECES]`, then `Self` when the pieces need the Self type, for one composed
    /// at run time. Pieces are `"text"`, `module`, `crate`, `super`, `Self` and `(Self)`. The
    /// runtime expands it with paths of its own, so the emitted code needs no `::core` (absent
    /// from 2015-edition crates).
    pub fn tokens(&self) -> TokenStream {
        let name = pieces_tokens(&self.name);
        match &self.composed {
            None => name,
            Some(composed) => {
                let composed = pieces_tokens(composed);
                let self_ty = self.uses_self().then(|| quote!(Self));
                quote!([#name] [#composed] #self_ty)
            }
        }
    }

    /// Parses what [`SiteName::tokens`] writes.
    pub fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        if !input.peek(syn::token::Bracket) {
            return Ok(SiteName {
                name: parse_pieces(input, false)?,
                composed: None,
            });
        }
        let (name, composed);
        syn::bracketed!(name in input);
        syn::bracketed!(composed in input);
        let site = SiteName {
            name: parse_pieces(&name, false)?,
            composed: Some(parse_pieces(&composed, true)?),
        };
        if site.uses_self() {
            input.parse::<syn::Token![Self]>()?;
        }
        Ok(site)
    }
}

fn pieces_tokens(pieces: &[NamePiece]) -> TokenStream {
    let parts = pieces.iter().map(|p| match p {
        NamePiece::Text(t) => quote!(#t),
        NamePiece::Module => quote!(module),
        NamePiece::Crate => quote!(crate),
        NamePiece::Super => quote!(super),
        NamePiece::SelfType => quote!(Self),
        NamePiece::SelfQualifier => quote!((Self)),
    });
    quote!(#(#parts)*)
}

fn parse_pieces(input: syn::parse::ParseStream<'_>, composed: bool) -> syn::Result<Vec<NamePiece>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        if input.peek(syn::LitStr) {
            out.push(NamePiece::Text(input.parse::<syn::LitStr>()?.value()));
            continue;
        }
        if composed && input.peek(syn::token::Paren) {
            let inner;
            syn::parenthesized!(inner in input);
            inner.parse::<syn::Token![Self]>()?;
            out.push(NamePiece::SelfQualifier);
            continue;
        }
        let ident = input.call(syn::Ident::parse_any)?;
        out.push(match ident.to_string().as_str() {
            "module" => NamePiece::Module,
            "crate" if composed => NamePiece::Crate,
            "super" if composed => NamePiece::Super,
            "Self" if composed => NamePiece::SelfType,
            _ => {
                return Err(syn::Error::new(
                    ident.span(),
                    "expected a string literal or `module`",
                ))
            }
        });
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

fn ungrouped(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Group(g) => ungrouped(&g.elem),
        syn::Type::Paren(p) => ungrouped(&p.elem),
        other => other,
    }
}

/// Types that are in no module, whatever module the impl is in.
fn is_primitive(ty: &str) -> bool {
    const PRIMITIVES: &[&str] = &[
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f32", "f64",
    ];
    PRIMITIVES.contains(&ty)
}

/// A Self type as written: paths keep their segments and lose generic arguments (`Stack<T>`
/// reads as `Stack`); other types are printed compactly.
fn written_type(ty: &syn::Type) -> String {
    match ungrouped(ty) {
        syn::Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect::<Vec<_>>()
            .join("::"),
        other => {
            // Lifetimes are not part of a type's name (`type_name` leaves them out too).
            struct NoLifetimes;
            impl syn::visit_mut::VisitMut for NoLifetimes {
                fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
                    r.lifetime = None;
                    syn::visit_mut::visit_type_reference_mut(self, r);
                }
            }
            let mut other = other.clone();
            syn::visit_mut::VisitMut::visit_type_mut(&mut NoLifetimes, &mut other);
            compact(quote!(#other))
        }
    }
}

/// Whether `ty` names a parameter other than inside a path's generic arguments (which names
/// leave out). Beyond a plain path it errs on the safe side: any mention counts.
fn names_a_param(ty: &syn::Type, params: &[&syn::Ident]) -> bool {
    match ungrouped(ty) {
        syn::Type::Path(p) if p.qself.is_none() => {
            p.path.get_ident().is_some_and(|i| params.contains(&i))
        }
        other => mentions(quote!(#other), params),
    }
}

fn mentions(tokens: TokenStream, params: &[&syn::Ident]) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => params.contains(&&i),
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), params),
        _ => false,
    })
}
