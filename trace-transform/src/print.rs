//! Prints a token stream as compact, readable text: the form the rewriter splices into files.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Prints tokens the way a person would write them on one line.
///
/// ```
/// let ts: proc_macro2::TokenStream = "let x = ::a::b!(concat!(\"<\", y)); f(&'a str) -> u8".parse().unwrap();
/// assert_eq!(
///     trace_transform::print::compact(ts),
///     "let x = ::a::b!(concat!(\"<\", y)); f(&'a str) -> u8"
/// );
/// ```
pub fn compact(tokens: TokenStream) -> String {
    let mut out = String::new();
    write(&mut out, tokens);
    out
}

#[derive(PartialEq, Clone, Copy)]
enum Prev {
    Start,
    Word,
    Close,
    /// An operator after which nothing is spaced (`::`, `!`, `&`, `'`, `<`).
    Tight,
    /// An operator after which a space was already written (`,`, `;`, `=`, `->`).
    Spaced,
}

fn write(out: &mut String, tokens: TokenStream) {
    let mut prev = Prev::Start;
    let mut op = String::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Ident(_) | TokenTree::Literal(_) => {
                if matches!(prev, Prev::Word | Prev::Close) {
                    out.push(' ');
                }
                out.push_str(&tt.to_string());
                prev = Prev::Word;
            }
            TokenTree::Punct(p) => {
                op.push(p.as_char());
                if p.spacing() == Spacing::Joint && matches!(iter.peek(), Some(TokenTree::Punct(_)))
                {
                    continue;
                }
                // A lifetime's quote is joint with the ident after it.
                if op == "'" {
                    if matches!(prev, Prev::Word | Prev::Close) {
                        out.push(' ');
                    }
                    out.push('\'');
                    prev = Prev::Tight;
                    op.clear();
                    continue;
                }
                match op.as_str() {
                    "," | ";" => {
                        out.push_str(&op);
                        out.push(' ');
                        prev = Prev::Spaced;
                    }
                    "=" | "=>" | "->" | "==" | "!=" | "+=" | "-=" | "|" | "+" | ".." => {
                        if prev != Prev::Spaced && prev != Prev::Start {
                            out.push(' ');
                        }
                        out.push_str(&op);
                        out.push(' ');
                        prev = Prev::Spaced;
                    }
                    "#" if matches!(prev, Prev::Word | Prev::Close) => {
                        out.push_str(" #");
                        prev = Prev::Tight;
                    }
                    _ => {
                        out.push_str(&op);
                        prev = Prev::Tight;
                    }
                }
                op.clear();
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::None => {
                        write(out, g.stream());
                        prev = Prev::Word;
                        continue;
                    }
                };
                let space = match g.delimiter() {
                    Delimiter::Brace => matches!(prev, Prev::Word | Prev::Close | Prev::Tight),
                    _ => prev == Prev::Close,
                };
                if space {
                    out.push(' ');
                }
                out.push(open);
                write(out, g.stream());
                if out.ends_with(' ') && close != '}' {
                    out.pop();
                }
                out.push(close);
                prev = Prev::Close;
            }
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
}
