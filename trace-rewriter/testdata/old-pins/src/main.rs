//! A program whose dependencies are locked at old releases.

fn tokens() -> String {
    let ident = proc_macro2::Ident::new("answer", proc_macro2::Span::call_site());
    quote::quote!(#ident).to_string()
}

fn pid() -> bool {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() > 0 }
}

fn main() {
    println!("{} {}", tokens(), pid());
}
