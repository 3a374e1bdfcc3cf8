//! Which values a traced fn records: the value options of its own attribute and of the
//! containers around it ([`ValueArgs`]), resolved against its signature into a plain
//! [`ValueSpec`], with every mistake an error at the token that made it. The tokens that record
//! them are generated in `guard.rs`.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, ReturnType, Signature, Type};

use crate::args::{ArgSelection, Inherited, ValueArgs};

/// What one fn records, checked against its signature.
///
/// ```
/// use trace_transform::values::{resolve, merge};
/// let own: trace_transform::TraceArgs = syn::parse_str("args, skip(password), err").unwrap();
/// let sig: syn::Signature =
///     syn::parse_str("fn login(user: &str, password: &str) -> Result<(), Error>").unwrap();
/// let spec = resolve(&merge(None, Some(&own.values)), &sig).unwrap().unwrap();
/// assert_eq!(spec.args.len(), 1);
/// assert_eq!(spec.args[0].ident, "user");
/// assert!(spec.err && !spec.ret);
/// ```
#[derive(Clone)]
pub struct ValueSpec {
    /// The arguments recorded on enter, in the signature's order.
    pub args: Vec<ArgValue>,
    /// The return value is recorded on exit (for `Result` with `err`: the `Ok` value).
    pub ret: bool,
    /// An `Err` return marks the exit as an error and records the error.
    pub err: bool,
    /// The return type, for the binding that holds the result (`None`: `()`, or a type naming
    /// `impl Trait`, which a binding cannot spell).
    pub output: Option<Type>,
    /// Where an error about the return value points: the return type.
    pub output_span: Span,
}

/// One argument recorded on enter.
#[derive(Clone)]
pub struct ArgValue {
    /// The name it is recorded under; also how the generated code refers to it (the span of
    /// the name in `args(..)` when named there, so that a missing `Debug` points at it).
    pub ident: Ident,
    /// Named in `args(..)`: its type must be `Debug`. Otherwise (plain `args`) it is recorded
    /// only where its type is `Debug`.
    pub required: bool,
}

impl ValueSpec {
    /// Whether the result is recorded: the body's value must be held before the fn returns it.
    pub fn holds_result(&self) -> bool {
        self.ret || self.err
    }
}

/// The options in force for one fn: its own over its container's. `skip_args` drops the
/// container's arguments, `args`/`args(..)` replaces them, `skip(..)` adds to the container's
/// skips; `ret` and `err` are the fn's own.
///
/// ```
/// use trace_transform::values::merge;
/// let container: trace_transform::TraceArgs = syn::parse_str("args, skip(token)").unwrap();
/// let own: trace_transform::TraceArgs = syn::parse_str("skip(key)").unwrap();
/// let merged = merge(Some(&container.values), Some(&own.values));
/// assert_eq!((merged.skip.len(), merged.inherited.skip.len()), (1, 1));
/// let own: trace_transform::TraceArgs = syn::parse_str("skip_args").unwrap();
/// assert!(merge(Some(&container.values), Some(&own.values)).args.is_none());
/// ```
pub fn merge(container: Option<&ValueArgs>, own: Option<&ValueArgs>) -> ValueArgs {
    let empty = ValueArgs::default();
    let container = container.unwrap_or(&empty);
    let own = own.unwrap_or(&empty);
    let (args, skip, inherited) = if own.skip_args.is_some() {
        (None, Vec::new(), Inherited::default())
    } else if own.args.is_some() {
        (own.args.clone(), own.skip.clone(), Inherited::default())
    } else {
        let inherited = Inherited {
            args: container.args.is_some(),
            skip: container.skip.clone(),
        };
        (container.args.clone(), own.skip.clone(), inherited)
    };
    ValueArgs {
        args,
        skip,
        skip_args: None,
        ret: own.ret,
        err: own.err,
        inherited,
    }
}

/// Resolves the options in force against a fn's signature: `Ok(None)` when it records no
/// value (it then expands exactly as without them). Every mistake is reported, each at its
/// token: a name that is not an argument, `ret` on a fn returning `()`, `err` on one not
/// returning `Result`.
pub fn resolve(values: &ValueArgs, sig: &Signature) -> syn::Result<Option<ValueSpec>> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let params = params(sig);
    let known = |ident: &Ident| params.iter().any(|p| p == ident);
    let unknown = |ident: &Ident| {
        let list: Vec<String> = params.iter().map(|p| format!("`{p}`")).collect();
        let takes = if list.is_empty() {
            "no named argument".to_string()
        } else {
            list.join(", ")
        };
        syn::Error::new(
            ident.span(),
            format!(
                "`{}` takes no argument `{ident}`; it takes {takes}",
                sig.ident
            ),
        )
    };
    for skipped in &values.skip {
        if !known(skipped) {
            push(unknown(skipped));
        }
    }
    let args = match &values.args {
        None => Vec::new(),
        Some(ArgSelection::All(_)) => params
            .iter()
            .filter(|p| {
                *p != "self"
                    && !values.skip.iter().any(|s| s == *p)
                    && !values.inherited.skip.iter().any(|s| s == *p)
            })
            .map(|p| ArgValue {
                ident: p.clone(),
                required: false,
            })
            .collect(),
        Some(ArgSelection::Named(names)) => {
            let mut out: Vec<ArgValue> = Vec::new();
            for name in names {
                if !known(name) {
                    // A container's `args(..)` holds for the fns that take those arguments.
                    if !values.inherited.args {
                        push(unknown(name));
                    }
                } else if out.iter().any(|a| a.ident == *name) {
                    push(syn::Error::new(
                        name.span(),
                        format!("`{name}` is named twice"),
                    ));
                } else {
                    out.push(ArgValue {
                        ident: name.clone(),
                        required: true,
                    });
                }
            }
            out
        }
    };
    let output = match &sig.output {
        ReturnType::Type(_, ty) if !is_unit(ty) => Some(&**ty),
        _ => None,
    };
    let output_span = match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.paren_token.span.join(),
    };
    if let (Some(ret), None) = (values.ret, output) {
        push(syn::Error::new(
            ret,
            format!(
                "`ret` has nothing to record: `{}` returns `()`; remove `ret`",
                sig.ident
            ),
        ));
    }
    if let Some(err) = values.err {
        if !output.is_some_and(is_result) {
            let returns = output.map_or("()".to_string(), |ty| {
                crate::print::compact(quote::ToTokens::to_token_stream(ty))
            });
            push(syn::Error::new(
                err,
                format!(
                    "`err` needs a fn returning `Result` (or an alias named `Result`, like \
                     `io::Result`); `{}` returns `{returns}`",
                    sig.ident
                ),
            ));
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    if args.is_empty() && values.ret.is_none() && values.err.is_none() {
        return Ok(None);
    }
    Ok(Some(ValueSpec {
        args,
        ret: values.ret.is_some(),
        err: values.err.is_some(),
        output: output.filter(|ty| !names_impl(ty)).cloned(),
        output_span,
    }))
}

/// The names a fn's arguments can be recorded by: `self`, and every argument bound to a plain
/// name (`x`, `mut x`); destructuring patterns and `_` have none.
/// Whether `sig` takes an argument named `name` (`self` for a receiver).
pub fn takes(sig: &Signature, name: &Ident) -> bool {
    params(sig).iter().any(|p| p == name)
}

fn params(sig: &Signature) -> Vec<Ident> {
    sig.inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Receiver(r) => Some(Ident::new("self", r.self_token.span)),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) if p.subpat.is_none() => Some(p.ident.clone()),
                _ => None,
            },
        })
        .collect()
}

fn is_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(t) => t.elems.is_empty(),
        Type::Paren(p) => is_unit(&p.elem),
        Type::Never(_) => true,
        _ => false,
    }
}

/// Whether a return type is syntactically a `Result`: its last path segment is `Result`
/// (`Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`), the rule the rewriter's
/// `instrument --err` follows too.
pub fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().is_some_and(|s| s.ident == "Result")
        }
        Type::Paren(p) => is_result(&p.elem),
        Type::Group(g) => is_result(&g.elem),
        _ => false,
    }
}

/// Whether the rewriter's `instrument --err` records this fn's errors: its return type is
/// written `Result<..>` (`Result<T, E>`, `io::Result<T>`, a crate's own `Result<T>` alias), and
/// it is not an `unsafe fn`. `err` compiles on any error type, so nothing else need be known.
///
/// Left alone: a `Result` without generic arguments (`fmt::Result`, whose error is a unit that
/// only passes on a writer's failure, on every `Display` and `Debug` call; an associated type
/// `Self::Result<T>`, which may be anything), and an `unsafe fn`, whose body the traced copy runs
/// in a closure, which is not an unsafe context.
///
/// ```
/// use trace_transform::values::adds_err;
/// let sig = |s: &str| syn::parse_str::<syn::Signature>(s).unwrap();
/// assert!(adds_err(&sig("fn f() -> io::Result<u8>")));
/// assert!(adds_err(&sig("async fn f() -> Result<(), E>")));
/// assert!(!adds_err(&sig("fn fmt(&self, f: &mut Formatter) -> fmt::Result")));
/// assert!(!adds_err(&sig("unsafe fn f() -> Result<(), E>")));
/// assert!(!adds_err(&sig("fn f() -> impl Future<Output = Result<(), E>>")));
/// ```
pub fn adds_err(sig: &Signature) -> bool {
    fn written_result(ty: &Type) -> bool {
        match ty {
            // `Self::Result<T>`: an associated type, which may be anything.
            Type::Path(p) if p.path.segments.len() > 1 && p.path.segments[0].ident == "Self" => {
                false
            }
            Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|s| {
                s.ident == "Result" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
            }),
            Type::Paren(p) => written_result(&p.elem),
            Type::Group(g) => written_result(&g.elem),
            _ => false,
        }
    }
    sig.unsafety.is_none()
        && sig.constness.is_none()
        && matches!(&sig.output, ReturnType::Type(_, ty) if written_result(ty))
}

/// Whether a type mentions `impl Trait` anywhere.
fn names_impl(ty: &Type) -> bool {
    struct Find(bool);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut find = Find(false);
    syn::visit::visit_type(&mut find, ty);
    find.0
}
