//! Snapshots of what `#[trace]` expands to, one per item shape.

use proc_macro2::TokenStream;
use quote::quote;

fn expand(attr: TokenStream, item: TokenStream) -> String {
    let out = trace_transform::expand(attr, item);
    let file: syn::File = syn::parse2(out.clone()).unwrap_or_else(|e| panic!("{e}: {out}"));
    prettyplease::unparse(&file)
}

#[test]
fn free_fn() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub fn get(id: u32) -> Option<u32> {
                let row = lookup(id)?;
                Some(row)
            }
        }
    ));
}

#[test]
fn async_fn_with_inner_attribute() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            async fn fetch(n: u32) -> u32 {
                #![allow(unused)]
                n + 1
            }
        }
    ));
}

/// Work a traced fn hands to an executor or a thread remembers the fn's frame: async blocks
/// (nested ones too) are linked, an `async move` closure's future is, thread spawns' closures
/// follow; a borrowing async closure and a block inside a macro are left as written. Only the
/// traced copy changes.
#[test]
fn blocks_and_spawned_closures_are_linked() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            mod server {
                pub async fn accept(listener: &Listener) {
                    loop {
                        let mut handler = listener.next().await;
                        tokio::spawn(async move {
                            if let Err(e) = handler.run().await { report(e) }
                            tokio::spawn(async { later().await });
                        });
                    }
                }

                pub fn start(rt: &Runtime) -> u32 {
                    tokio::task::spawn_blocking(move || snapshot());
                    std::thread::scope(|s| { s.spawn(|| snapshot()); });
                    let owned = async move |x: u32| x + 1;
                    let borrowed = async |x: u32| x + 1;
                    rt.block_on(tokio::select! { v = async { 1 } => v })
                }
            }
        }
    ));
}

#[test]
fn async_method_and_async_trait_shape() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            impl Client {
                pub async fn get(&self, id: u32) -> Result<Row, Error> {
                    let row = self.fetch(id).await?;
                    Ok(row)
                }
                fn boxed<'a>(&'a self) -> Pin<Box<dyn Future<Output = u32> + Send + 'a>> {
                    Box::pin(async move { self.n })
                }
            }
        }
    ));
}

#[test]
fn impl_block_with_generics() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            impl<'a, T: Clone> Stack<'a, T> where T: Default {
                pub fn push(&mut self, v: T) { self.items.push(v) }
                pub const fn cap() -> usize { 8 }
                fn boxed(self: Box<Self>) -> usize { self.items.len() }
            }
        }
    ));
}

#[test]
fn trait_impl() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            impl<'a> From<&'a str> for Name {
                fn from(s: &'a str) -> Self { Name(s.into()) }
            }
        }
    ));
}

#[test]
fn trait_default_methods_only() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            pub trait Animal {
                fn name(&self) -> String;
                fn speak(&self) -> String { self.name() }
            }
        }
    ));
}

#[test]
fn inline_mod_recursive_with_opt_out_and_tests() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            mod db {
                fn connect() {
                    fn retry() {}
                    retry()
                }
                #[trace(skip)]
                fn quiet() {}
                #[trace(name = "db.query")]
                fn query() {}
                #[cfg_attr(feature = "x", trace(skip))]
                fn quiet_too() {}
                struct Pool;
                impl Pool {
                    fn get(&self) {
                        fn helper() {}
                    }
                }
                mod nested {
                    fn deep() {}
                }
                macro_rules! m { () => { fn untouched() {} } }
                #[cfg(test)]
                mod tests {
                    #[test]
                    fn t() {}
                }
                #[test]
                fn also_a_test() {}
            }
        }
    ));
}

#[test]
fn custom_name_and_crate_path() {
    insta::assert_snapshot!(expand(
        quote!(name = "startup", crate = my::rt),
        quote! {
            fn init() {}
        }
    ));
}

#[test]
fn test_fn_traced_directly() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            #[test]
            fn works() { assert!(true) }
        }
    ));
}

#[test]
fn skip_leaves_the_item_untouched() {
    let item = quote! { fn f() { body() } };
    assert_eq!(
        trace_transform::expand(quote!(skip), item.clone()).to_string(),
        item.to_string()
    );
}

#[test]
fn a_second_expansion_adds_nothing() {
    let once = trace_transform::expand(quote!(), quote! { fn f() { body() } });
    let twice = trace_transform::expand(quote!(), once.clone());
    assert_eq!(once.to_string(), twice.to_string());
}

#[test]
fn errors_keep_the_original_item() {
    let out = trace_transform::expand(quote!(bogus), quote! { fn f() {} }).to_string();
    assert!(out.starts_with("fn f () { }"), "{out}");
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.contains("unknown argument `bogus`"), "{out}");
}

/// Regression: a fn returning `Box::pin(async move { .. })` was traced by the fast path as a
/// sync call (its frame closed before the future ran) and by the full path as the future.
#[test]
fn the_fast_path_agrees_with_the_full_path() {
    let cases = [
        (
            quote!(),
            quote! { pub fn get(id: u32) -> Option<u32> { let row = lookup(id)?; Some(row) } },
        ),
        (
            quote!(),
            quote! { #[inline] pub(crate) unsafe extern "C" fn raw<'a, T: Copy>(p: &'a T) -> T where T: Default { *p } },
        ),
        (
            quote!(),
            quote! { fn boxed() -> Pin<Box<dyn Future<Output = ()>>> { Box::pin(async move { work().await }) } },
        ),
        (
            quote!(),
            quote! { fn block() -> impl Future<Output = u32> { async { 1 } } },
        ),
        (quote!(), quote! { async fn fetch(n: u32) -> u32 { n + 1 } }),
        (
            quote!(),
            quote! { pub async unsafe fn raw_fetch<T: Send>(t: T) -> T where T: Sync { t } },
        ),
        (
            quote!(),
            quote! { fn method(&self, n: u32) -> u32 { self.n + n } },
        ),
        (
            quote!(),
            quote! { fn consume(mut self: Box<Self>) { drop(self) } },
        ),
        (
            quote!(),
            quote! { fn generic<T: Clone, const N: usize>(t: [T; N]) -> Vec<T> where T: Default { t.to_vec() } },
        ),
        (
            quote!(),
            quote! { fn inner_attrs() { #![allow(unused)] #![deny(warnings)] work() } },
        ),
        (
            quote!(),
            quote! { #[must_use] #[doc = "x"] fn attributes() -> u32 { 1 } },
        ),
        (quote!(), quote! { fn never() -> ! { loop {} } }),
        (
            quote!(),
            quote! { extern "C" fn callback(x: i32) -> i32 { x } },
        ),
        (
            quote!(),
            quote! { fn outer() -> u32 { fn inner() -> u32 { 1 } inner() } },
        ),
        (
            quote!(),
            quote! { fn spawner() { std::thread::spawn(|| work()); tokio::spawn(fetch()); } },
        ),
        (
            quote!(name = "custom", crate = my::rt),
            quote! { fn named() {} },
        ),
        (quote!(), quote! { #[test] fn a_test() { assert!(true) } }),
        (quote!(skip), quote! { fn skipped() {} }),
    ];
    for (attr, item) in cases {
        let fast = trace_transform::expand(attr.clone(), item.clone());
        let full = trace_transform::expand::expand_without_fast_path(attr, item.clone());
        assert_eq!(fast.to_string(), full.to_string(), "{item}");
    }
}

#[test]
fn self_types_resolved_at_run_time() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            mod names {
                impl Hello for u8 { fn hi(&self) {} }
                impl Hello for [u8; 4] { fn hi(&self) {} }
                impl<'a> Hello for &'a str { fn hi(&self) {} }
                impl fmt::Debug for dyn Shape { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { Ok(()) } }
                impl<T> Hello for Vec<T> { fn hi(&self) {} }
                impl dyn Shape { fn describe(&self) {} }
                impl User { async fn load(&self) {} }
            }
        }
    ));
}

#[test]
fn blanket_impls_and_relative_trait_paths() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            mod c {
                impl<T: Marker> Hello for T { fn hi(&self) {} }
                impl<T: Marker> crate::Hello for &T { fn hi(&self) {} }
                impl super::Hello for B { fn hi(&self) {} }
                impl super::super::Hello for B { fn hi(&self) {} }
                impl self::Hello for B { fn hi(&self) {} }
                impl ::std::fmt::Display for B { fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { Ok(()) } }
            }
        }
    ));
}

/// The rewriter names an async method from its impl and passes the name in `__site(...)`: the
/// macro, seeing the fn alone, must emit that name, resolution pieces included.
#[test]
fn a_site_passed_by_the_rewriter_round_trips() {
    let spec = trace_transform::GuardSpec {
        name: trace_transform::FnName {
            self_ty: Some(trace_transform::name::SelfType::parse(
                &syn::parse_quote!(Pool),
                &Default::default(),
            )),
            ..trace_transform::FnName::free("load")
        },
        runtime: syn::parse_quote!(::trace_runtime),
        kind: trace_transform::guard::GuardKind::AsyncBody,
        values: None,
    };
    let item: syn::ItemFn =
        syn::parse_str(&format!("{} fn f() {{}}", spec.attribute_text())).unwrap();
    let syn::Meta::List(cfg_attr) = item.attrs[0].meta.clone() else {
        panic!("{}", spec.attribute_text())
    };
    let trace: syn::MetaList = syn::parse2(
        cfg_attr
            .tokens
            .into_iter()
            .skip_while(|t| t.to_string() != ",")
            .skip(1)
            .collect(),
    )
    .unwrap();
    let out = trace_transform::expand(trace.tokens, quote! { async fn load(&self) {} });
    let expected = r#"instrument ! ([[module "::Pool::load"] [(Self) "::load"] Self] ;"#;
    assert!(out.to_string().contains(expected), "{out}");
}

#[test]
fn allocator_impls_in_a_traced_mod_are_skipped() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            mod alloc {
                struct Counting;
                unsafe impl GlobalAlloc for Counting {
                    unsafe fn alloc(&self, layout: Layout) -> *mut u8 { System.alloc(layout) }
                    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) { System.dealloc(ptr, layout) }
                }
                impl core::alloc::Allocator for Arena {
                    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> { todo!() }
                }
                #[trace]
                unsafe impl std::alloc::GlobalAlloc for Traced {
                    unsafe fn alloc(&self, layout: Layout) -> *mut u8 { System.alloc(layout) }
                }
                impl Counting {
                    fn count(&self) -> usize { 0 }
                }
            }
        }
    ));
}

#[test]
fn allocator_impl_traced_directly() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            unsafe impl std::alloc::GlobalAlloc for Counting {
                unsafe fn alloc(&self, layout: Layout) -> *mut u8 { System.alloc(layout) }
            }
        }
    ));
}

/// `args`: every argument (not `self`), each recorded where its type is `Debug`; `skip(..)`
/// leaves some out. Only the guard statement changes: the fn stays one item.
#[test]
fn args_all_with_skip() {
    insta::assert_snapshot!(expand(
        quote!(args, skip(password)),
        quote! {
            pub fn login(&self, user: &str, password: &str, (a, b): (u8, u8)) -> bool {
                check(user, password)
            }
        }
    ));
}

/// `args(..)`: exactly the named arguments (`self` too), each required to be `Debug` where it
/// is named.
#[test]
fn args_named() {
    insta::assert_snapshot!(expand(
        quote!(args(self, id)),
        quote! {
            fn get(&self, id: u64, key: &str) -> Option<u32> { self.map.get(key).copied() }
        }
    ));
}

/// `ret`: the body runs in a closure in a traced copy, its value recorded before it is
/// returned; the untraced copy is the fn as written.
#[test]
fn ret() {
    insta::assert_snapshot!(expand(
        quote!(ret),
        quote! {
            fn get(id: u64) -> Option<u32> {
                if id == 0 { return None; }
                Some(lookup(id)?)
            }
        }
    ));
}

/// `err`: an `Err` records its error (Debug text or type name, never a compile error);
/// `ret` with `err` records the `Ok` value too. An `impl` type is not restated.
#[test]
fn err_and_ret_with_err() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            mod db {
                #[trace(err)]
                pub fn load(path: &Path) -> io::Result<Vec<u8>> { std::fs::read(path) }
                #[trace(ret, err)]
                pub fn parse(text: &str) -> Result<u32, ParseIntError> { text.parse() }
                #[trace(ret)]
                pub fn iter(v: &[u8]) -> impl Iterator<Item = &u8> + '_ { v.iter() }
            }
        }
    ));
}

/// An async fn records its arguments at its first poll and its output before it completes,
/// on the frame being polled.
#[test]
fn async_fn_args_and_err() {
    insta::assert_snapshot!(expand(
        quote!(args, err),
        quote! {
            pub async fn fetch(&self, id: u64) -> Result<Row, Error> {
                let row = self.get(id).await?;
                Ok(row)
            }
        }
    ));
}

/// On a container, `args` applies to every fn inside; a fn overrides it with `skip_args`,
/// `args(..)` or more `skip(..)`.
#[test]
fn container_defaults_with_overrides() {
    insta::assert_snapshot!(expand(
        quote!(args, skip(token)),
        quote! {
            impl Store {
                fn get(&self, id: u64, token: &str) -> u32 { 1 }
                #[trace(skip_args)]
                fn put(&mut self, id: u64, value: u32) {}
                #[trace(args(key))]
                fn find(&self, key: &str, limit: usize) -> u32 { 2 }
                #[trace(skip(id), ret)]
                fn del(&mut self, id: u64, token: &str, force: bool) -> bool { true }
            }
        }
    ));
}

/// A container's `skip(..)` and `args(..)` hold for the fns that take those arguments: `len`
/// takes no `token` and records what it has; `name` takes no `id` and records none.
#[test]
fn container_names_hold_where_a_fn_takes_them() {
    insta::assert_snapshot!(expand(
        quote!(args, skip(token)),
        quote! {
            impl Store {
                fn get(&self, id: u64, token: &str) -> u32 { 1 }
                fn len(&self, shelf: u8) -> usize { 0 }
            }
        }
    ));
    insta::assert_snapshot!(expand(
        quote!(args(id)),
        quote! {
            impl Store {
                fn get(&self, id: u64, token: &str) -> u32 { 1 }
                fn name(&self) -> &str { "" }
            }
        }
    ));
}

/// Mistakes are compile errors at the token, all of them at once, beside the item.
#[test]
fn value_mistakes_point_at_the_token() {
    let errors = |attr: TokenStream, item: TokenStream| {
        let out = trace_transform::expand(attr, item).to_string();
        out.match_indices("compile_error")
            .map(|(at, _)| {
                let msg = &out[at..];
                let start = msg.find('"').unwrap() + 1;
                msg[start..start + msg[start..].find('"').unwrap()].to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        errors(
            quote!(args(id, nme)),
            quote! { fn get(id: u64, name: &str) {} }
        ),
        ["`get` takes no argument `nme`; it takes `id`, `name`"]
    );
    assert_eq!(
        errors(quote!(ret), quote! { fn put(id: u64) {} }),
        ["`ret` has nothing to record: `put` returns `()`; remove `ret`"]
    );
    assert_eq!(
        errors(quote!(err), quote! { fn put(id: u64) -> Option<u8> { None } }),
        ["`err` needs a fn returning `Result` (or an alias named `Result`, like `io::Result`); `put` returns `Option<u8>`"]
    );
    assert_eq!(
        errors(quote!(ret), quote! { impl S { fn a(&self) -> u8 { 1 } } }),
        ["`ret` applies to a single fn; put #[trace(ret)] on the fns inside"]
    );
    assert_eq!(
        errors(quote!(args, skip_args), quote! { fn a(x: u8) {} }),
        [
            "arguments named together with `skip_args`",
            "`skip_args` records none"
        ]
    );
}

/// Without value options a fn expands as before: the same tokens as plain `#[trace]`.
#[test]
fn a_fn_without_values_is_unchanged() {
    let item = quote! { impl S { #[trace(skip_args)] fn a(&self, x: u8) -> u8 { x } } };
    let plain = quote! { impl S { #[trace] fn a(&self, x: u8) -> u8 { x } } };
    assert_eq!(
        trace_transform::expand(quote!(), item).to_string(),
        trace_transform::expand(quote!(), plain).to_string()
    );
}

/// `instrument --err` puts `err` beside the site it passes: the macro then expands the fn
/// exactly as `#[trace(err)]` written on it.
#[test]
fn the_rewriters_err_expands_as_trace_err() {
    let sig: syn::Signature = syn::parse_quote!(fn load(id: u64) -> io::Result<u64>);
    let err = trace_transform::args::ValueArgs {
        err: Some(proc_macro2::Span::call_site()),
        ..Default::default()
    };
    let spec = trace_transform::GuardSpec {
        name: trace_transform::FnName::free("load"),
        runtime: syn::parse_quote!(::trace_runtime),
        kind: trace_transform::guard::GuardKind::Statement,
        values: trace_transform::values::resolve(&err, &sig).unwrap(),
    };
    let text = spec.attribute_text();
    assert_eq!(
        text,
        "#[cfg_attr(feature = \"trace\", ::trace_runtime::trace(__site(module \"::load\"), err))]"
    );
    let attr: syn::Attribute = syn::parse_str::<syn::ItemFn>(&format!("{text} fn f() {{}}"))
        .unwrap()
        .attrs
        .remove(0);
    let metas = attr
        .parse_args_with(syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
        .unwrap();
    let syn::Meta::List(trace) = &metas[1] else {
        panic!("{text}")
    };
    let item = quote! { fn load(id: u64) -> io::Result<u64> { let n = read(id)?; Ok(n + 1) } };
    assert_eq!(
        expand(trace.tokens.clone(), item.clone()).to_string(),
        expand(quote!(err), item).to_string()
    );
}
