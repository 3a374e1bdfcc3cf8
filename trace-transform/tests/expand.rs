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
            quote! { fn inner_attrs() { #![allow(unused)] #![deny(warnings)] work() } },
        ),
        (
            quote!(name = "custom", crate = my::rt),
            quote! { fn named() {} },
        ),
        (quote!(), quote! { #[test] fn a_test() { assert!(true) } }),
    ];
    for (attr, item) in cases {
        let fast = trace_transform::expand(attr.clone(), item.clone());
        // The full path by hand: parse with syn, walk, insert, re-emit.
        let mut parsed: syn::Item = syn::parse2(item.clone()).unwrap();
        let args: trace_transform::TraceArgs = syn::parse2(attr.clone()).unwrap();
        struct Insert;
        impl trace_transform::Visit for Insert {
            fn found(&mut self, f: trace_transform::Found<'_>) {
                if let trace_transform::FnAction::Instrument(spec) = f.action {
                    f.block.stmts.insert(0, syn::parse2(spec.tokens()).unwrap());
                }
            }
        }
        let errors = trace_transform::walk_item(
            &mut parsed,
            &args,
            trace_transform::expand::MACRO_OPTIONS,
            &mut Insert,
        );
        assert!(errors.is_empty());
        let slow = quote::ToTokens::to_token_stream(&parsed).to_string();
        assert_eq!(fast.to_string(), slow, "{item}");
    }
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
