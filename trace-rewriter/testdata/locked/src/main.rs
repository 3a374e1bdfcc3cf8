//! A crate whose Cargo.lock pins proc-macro2, quote and syn at older releases.

fn tokens() -> String {
    let ident: syn::Ident = syn::parse_str("answer").unwrap();
    quote::quote!(#ident).to_string()
}

async fn later() -> u32 {
    42
}

fn main() {
    let _unpolled = later();
    println!("{}", tokens());
}
