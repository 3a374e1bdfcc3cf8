//! Walks items the way the compiler nests them and decides, for every fn with a body, whether it
//! gets a guard and under which name.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Block, Ident, Path, Signature};

use crate::args::{ArgSelection, TraceArgs, ValueArgs};
use crate::guard::{is_box_pin_async, is_guard_stmt, GuardKind, GuardSpec};
use crate::name::{FnName, SelfType, SiteName, TraitPath};
use crate::rules::{self, Options, SkipReason};
use crate::values;

/// What to do with one fn.
pub enum FnAction {
    /// Insert this guard at the top of the body.
    Instrument(Box<GuardSpec>),
    /// Leave it alone, for this reason.
    Skip(SkipReason),
}

/// One fn with a body, as the walk found it.
pub struct Found<'a> {
    /// Its name in the trace.
    pub name: FnName,
    /// Its signature (`async`, `const`, the ident's span).
    pub sig: &'a Signature,
    /// Its body, for the front end to edit or to read the span of.
    pub block: &'a mut Block,
    /// Its attributes, outer and inner.
    pub attrs: &'a mut Vec<Attribute>,
    /// Its first token after the outer attributes (visibility or signature): where the rewriter
    /// puts an attribute.
    pub item_start: Span,
    /// The decision.
    pub action: FnAction,
    /// Inline modules between where the walk started and this fn, outermost first (the
    /// compiled name gets them from `module_path!()`; reports need them spelled out).
    pub inline_mods: &'a [String],
}

/// A front end: told of every fn the walk finds.
pub trait Visit {
    /// Called once per fn with a body, outermost first.
    fn found(&mut self, found: Found<'_>);

    /// Called for an impl left out as a whole by a rule of its own (an allocator impl), with
    /// the span of its `impl` keyword, before its fns are reported as skipped.
    fn skipped_impl(&mut self, _impl_token: Span, _reason: &SkipReason) {}
}

/// Walks a whole file (the rewriter's entry point). Returns every error found in nested
/// `#[trace(...)]` arguments.
pub fn walk_file(file: &mut syn::File, opts: Options, visit: &mut dyn Visit) -> Vec<syn::Error> {
    let mut walker = Walker::new(opts, visit, syn::parse_quote!(::trace_runtime));
    walker.in_test = rules::is_cfg_test(&file.attrs);
    walker.visit_file_mut(file);
    walker.errors
}

/// Walks one item that carries `#[trace(args)]` (the macro's entry point).
pub fn walk_item(
    item: &mut syn::Item,
    args: &TraceArgs,
    opts: Options,
    visit: &mut dyn Visit,
) -> Vec<syn::Error> {
    let mut walker = Walker::new(opts, visit, args.runtime_path());
    if matches!(item, syn::Item::Fn(_)) {
        walker.top = Some(args.clone());
    } else {
        // On a container, the macro's own value options are the default of every fn inside.
        walker.values = Some(args.values.clone());
        walker.names.push(ContainerNames::of(&args.values));
    }
    walker.top_impl = matches!(item, syn::Item::Impl(_));
    walker.visit_item_mut(item);
    if let Some(names) = walker.names.pop() {
        names.check(&mut walker.errors);
    }
    walker.errors
}

struct Walker<'v> {
    opts: Options,
    visit: &'v mut dyn Visit,
    runtime: Path,
    /// Enclosing fns and traits, for names of items declared inside them.
    lead: Vec<String>,
    /// Inline modules entered so far.
    mods: Vec<String>,
    /// The Self type and trait of the impl being walked.
    impl_ctx: Option<(SelfType, Option<TraitPath>)>,
    in_test: bool,
    /// A container said `skip` (or carries its own `#[trace]`, for the rewriter).
    skip_all: Option<SkipReason>,
    /// The macro's own arguments when it sits on a fn: they act as that fn's own attribute.
    top: Option<TraceArgs>,
    /// The macro sits on an impl: the first impl walked carries `#[trace]` itself.
    top_impl: bool,
    /// The value options of the innermost container that gave some, for the fns inside it.
    values: Option<ValueArgs>,
    /// The argument names of the containers that gave value options, innermost last: each
    /// must be an argument of some fn inside its container.
    names: Vec<ContainerNames>,
    /// The container being walked pushed onto `names`.
    names_here: bool,
    errors: Vec<syn::Error>,
}

/// A container's `args(..)` and `skip(..)` names, each with whether a fn inside takes it: a
/// name no fn takes is a typo, and a mistyped `skip` would record the secret it meant to leave
/// out.
struct ContainerNames(Vec<(Ident, bool)>);

impl ContainerNames {
    fn of(values: &ValueArgs) -> Self {
        let named = match &values.args {
            Some(ArgSelection::Named(names)) => names.as_slice(),
            _ => &[],
        };
        ContainerNames(
            named
                .iter()
                .chain(&values.skip)
                .map(|n| (n.clone(), false))
                .collect(),
        )
    }

    /// Notes the names `sig` takes.
    fn seen_in(&mut self, sig: &Signature) {
        for (name, taken) in &mut self.0 {
            *taken = *taken || values::takes(sig, name);
        }
    }

    fn check(self, errors: &mut Vec<syn::Error>) {
        for (name, taken) in self.0 {
            if !taken {
                errors.push(syn::Error::new(
                    name.span(),
                    format!("no fn inside takes an argument `{name}`"),
                ));
            }
        }
    }
}

/// The state a container changes and restores when the walk leaves it.
struct Saved {
    lead: Vec<String>,
    impl_ctx: Option<(SelfType, Option<TraitPath>)>,
    in_test: bool,
    skip_all: Option<SkipReason>,
    values: Option<ValueArgs>,
    names_here: bool,
}

impl<'v> Walker<'v> {
    fn new(opts: Options, visit: &'v mut dyn Visit, runtime: Path) -> Self {
        Walker {
            opts,
            visit,
            runtime,
            lead: Vec::new(),
            mods: Vec::new(),
            impl_ctx: None,
            in_test: false,
            skip_all: None,
            top: None,
            top_impl: false,
            values: None,
            names: Vec::new(),
            names_here: false,
            errors: Vec::new(),
        }
    }

    fn save(&self) -> Saved {
        Saved {
            lead: self.lead.clone(),
            impl_ctx: self.impl_ctx.clone(),
            in_test: self.in_test,
            skip_all: self.skip_all.clone(),
            values: self.values.clone(),
            names_here: self.names_here,
        }
    }

    fn restore(&mut self, s: Saved) {
        self.lead = s.lead;
        self.impl_ctx = s.impl_ctx;
        self.in_test = s.in_test;
        self.skip_all = s.skip_all;
        self.values = s.values;
        if self.names_here {
            if let Some(names) = self.names.pop() {
                names.check(&mut self.errors);
            }
        }
        self.names_here = s.names_here;
    }

    /// Reads (and for the macro, removes) a nested `#[trace(...)]`; returns its arguments.
    fn own_attr(&mut self, attrs: &mut Vec<Attribute>) -> Option<TraceArgs> {
        let found = match rules::trace_attrs(attrs) {
            Ok(found) => found,
            Err(e) => {
                self.errors.push(e);
                // Removed all the same, so that the item emitted beside the error compiles.
                if self.opts.consume_nested_attrs {
                    attrs.retain(|a| !rules::is_trace_path(a.path()));
                }
                return Some(TraceArgs::default());
            }
        };
        let (index, args) = found.into_iter().next()?;
        if self.opts.consume_nested_attrs && rules::is_trace_path(attrs[index].path()) {
            attrs.remove(index);
        }
        Some(args)
    }

    /// Applies a container's own attributes to everything inside it. Returns whether it carries
    /// `#[trace]` (or `#[trace(skip)]`) itself.
    fn enter_container(&mut self, attrs: &mut Vec<Attribute>) -> bool {
        self.names_here = false;
        if rules::is_cfg_test(attrs) {
            self.in_test = true;
        }
        let Some(args) = self.own_attr(attrs) else {
            return false;
        };
        if let Some((span, key)) = args.values.fn_only() {
            self.errors.push(syn::Error::new(
                span,
                format!("`{key}` applies to a single fn; put it on the fns inside"),
            ));
        }
        if !args.values.is_empty() {
            self.values = Some(args.values.clone());
            self.names.push(ContainerNames::of(&args.values));
            self.names_here = true;
        }
        if args.skip.is_some() {
            self.skip_all = Some(SkipReason::OptedOut);
        } else if !self.opts.consume_nested_attrs {
            self.skip_all = Some(SkipReason::HasTraceAttr);
        }
        true
    }

    fn decide(
        &mut self,
        attrs: &mut Vec<Attribute>,
        sig: &Signature,
        block: &Block,
    ) -> (FnAction, FnName) {
        let own = match self.top.take() {
            Some(top) => Some(top),
            None => self.own_attr(attrs),
        };
        let name = FnName {
            lead: self.lead.clone(),
            self_ty: self.impl_ctx.as_ref().map(|c| c.0.clone()),
            trait_: self.impl_ctx.as_ref().and_then(|c| c.1.clone()),
            ident: sig.ident.to_string(),
            custom: own.as_ref().and_then(|a| {
                a.site
                    .clone()
                    .or_else(|| a.name.as_ref().map(|n| SiteName::literal(n.value())))
            }),
        };
        let reason = if sig.constness.is_some() {
            Some(SkipReason::ConstFn)
        } else if own.as_ref().is_some_and(|a| a.skip.is_some()) {
            Some(SkipReason::OptedOut)
        } else if own.is_some() && !self.opts.consume_nested_attrs {
            Some(SkipReason::HasTraceAttr)
        } else if let Some(reason) = &self.skip_all {
            Some(reason.clone())
        } else if !self.opts.include_tests
            && (self.in_test || rules::is_test_fn(attrs))
            && own.is_none()
        {
            Some(SkipReason::TestCode)
        } else if !self.opts.include_inline_always
            && own.is_none()
            && rules::is_inline_always(attrs)
        {
            Some(SkipReason::InlineAlways)
        } else if block.stmts.first().is_some_and(is_guard_stmt) {
            Some(SkipReason::AlreadyInstrumented)
        } else {
            None
        };
        if let Some(names) = self.names.last_mut() {
            names.seen_in(sig);
        }
        let values = match reason {
            Some(_) => None,
            None => {
                let mut merged =
                    values::merge(self.values.as_ref(), own.as_ref().map(|a| &a.values));
                // A `#[track_caller]` fn's body in a closure would report its own lines as
                // the caller's (closures cannot track the caller): left with its guard.
                if self.opts.add_err
                    && merged.err.is_none()
                    && values::adds_err(sig)
                    && !rules::is_track_caller(attrs)
                {
                    merged.err = Some(sig.output.span());
                }
                match values::resolve(&merged, sig) {
                    Ok(spec) => spec,
                    Err(e) => {
                        self.errors.push(e);
                        None
                    }
                }
            }
        };
        let action = match reason {
            Some(reason) => FnAction::Skip(reason),
            None => FnAction::Instrument(Box::new(GuardSpec {
                values,
                kind: if sig.asyncness.is_some() {
                    GuardKind::AsyncBody
                } else if is_box_pin_async(block) {
                    GuardKind::BoxPinAsync
                } else if crate::eager::may_split(attrs) && crate::link::holds_links(block) {
                    GuardKind::LinkedStatement
                } else {
                    GuardKind::Statement
                },
                name: name.clone(),
                runtime: own
                    .and_then(|a| a.krate)
                    .unwrap_or_else(|| self.runtime.clone()),
            })),
        };
        (action, name)
    }

    /// Walks a fn body: items declared in it are named after the fn and cannot see `Self`.
    fn walk_body(&mut self, segment: String, block: &mut Block) {
        let saved = self.save();
        self.lead.push(segment);
        self.impl_ctx = None;
        self.visit_block_mut(block);
        self.restore(saved);
    }

    fn body_segment(&self, ident: &syn::Ident) -> String {
        match &self.impl_ctx {
            Some((ty, Some(tr))) => format!("<{} as {}>::{ident}", ty.written, tr.written),
            Some((ty, None)) => format!("{}::{ident}", ty.written),
            None => ident.to_string(),
        }
    }
}

impl VisitMut for Walker<'_> {
    fn visit_item_fn_mut(&mut self, f: &mut syn::ItemFn) {
        let (action, name) = self.decide(&mut f.attrs, &f.sig, &f.block);
        let was_test = self.in_test;
        self.in_test |= rules::is_test_fn(&f.attrs);
        let item_start = start_of(&f.vis, &f.sig);
        self.visit.found(Found {
            name,
            sig: &f.sig,
            block: &mut f.block,
            attrs: &mut f.attrs,
            item_start,
            action,
            inline_mods: &self.mods,
        });
        let segment = self.body_segment(&f.sig.ident);
        self.walk_body(segment, &mut f.block);
        self.in_test = was_test;
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        let (action, name) = self.decide(&mut f.attrs, &f.sig, &f.block);
        let item_start = match &f.defaultness {
            Some(d) if matches!(f.vis, syn::Visibility::Inherited) => d.span,
            _ => start_of(&f.vis, &f.sig),
        };
        self.visit.found(Found {
            name,
            sig: &f.sig,
            block: &mut f.block,
            attrs: &mut f.attrs,
            item_start,
            action,
            inline_mods: &self.mods,
        });
        let segment = self.body_segment(&f.sig.ident);
        self.walk_body(segment, &mut f.block);
    }

    fn visit_trait_item_fn_mut(&mut self, f: &mut syn::TraitItemFn) {
        let Some(block) = &mut f.default else {
            // A required method has no body to trace; still strip a nested attribute.
            self.own_attr(&mut f.attrs);
            return;
        };
        let (action, name) = self.decide(&mut f.attrs, &f.sig, block);
        let item_start = f.sig.span();
        self.visit.found(Found {
            name,
            sig: &f.sig,
            block,
            attrs: &mut f.attrs,
            item_start,
            action,
            inline_mods: &self.mods,
        });
        let segment = self.body_segment(&f.sig.ident);
        self.walk_body(segment, block);
    }

    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        let saved = self.save();
        let traced_directly = std::mem::take(&mut self.top_impl);
        let own = self.enter_container(&mut i.attrs);
        let allocator = i
            .trait_
            .as_ref()
            .is_some_and(|(_, path, _)| rules::is_allocator_trait(path));
        if allocator && !traced_directly && !own && self.skip_all.is_none() {
            self.skip_all = Some(SkipReason::AllocatorImpl);
            self.visit
                .skipped_impl(i.impl_token.span, &SkipReason::AllocatorImpl);
        }
        let ty = SelfType::parse(&i.self_ty, &i.generics);
        let tr = i.trait_.as_ref().map(|(_, path, _)| TraitPath::parse(path));
        self.impl_ctx = Some((ty, tr));
        for item in &mut i.items {
            self.visit_impl_item_mut(item);
        }
        self.restore(saved);
    }

    fn visit_item_trait_mut(&mut self, t: &mut syn::ItemTrait) {
        let saved = self.save();
        self.enter_container(&mut t.attrs);
        self.impl_ctx = None;
        self.lead.push(t.ident.to_string());
        for item in &mut t.items {
            self.visit_trait_item_mut(item);
        }
        self.restore(saved);
    }

    fn visit_item_mod_mut(&mut self, m: &mut syn::ItemMod) {
        let saved = self.save();
        self.enter_container(&mut m.attrs);
        // `module_path!()` names the module from here on.
        self.lead.clear();
        self.impl_ctx = None;
        self.mods.push(m.ident.to_string());
        visit_mut::visit_item_mod_mut(self, m);
        self.mods.pop();
        self.restore(saved);
    }

    fn visit_item_macro_mut(&mut self, _: &mut syn::ItemMacro) {
        // macro_rules! bodies and other item macros are token soup: left alone.
    }
}

/// The first token of a fn after its outer attributes.
fn start_of(vis: &syn::Visibility, sig: &Signature) -> Span {
    match vis {
        syn::Visibility::Inherited => sig.span(),
        other => other.span(),
    }
}
