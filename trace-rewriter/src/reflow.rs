//! What rustfmt makes of a body's opening once its first statement, an inserted guard, is gone,
//! so that `remove` after `cargo fmt` gives exactly what `cargo fmt` makes of the original.
//!
//! rustfmt lays out what follows a body's `{` by other rules than what follows a statement:
//! - it drops blank lines between `{` and what comes first, but keeps one after a statement;
//! - in a body with statements, a comment on the brace's line goes to a line of its own;
//! - in a body with none (comments only, or nothing), a comment that was on the brace's line
//!   stays there while that line is narrower than `comment_width` (80), and so do the comments
//!   that follow it on one line; `{}` closes an empty one;
//! - a block comment's continuation lines keep their place relative to its first line.
//!
//! The guard was inserted right after `{`, so rustfmt saw the original's opening as what follows
//! the guard and laid it out by the second set of rules; this module lays it out by the first.
//! What rustfmt kept of the original (blank lines between comments, a comment on the line
//! before it) is read back from the formatted text. One thing it cannot keep: a comment that was
//! on the brace's line of a comment-only body, after a guard line 80 or more columns wide, was
//! moved to a line of its own, and is left there.

use crate::edit::Edit;

/// rustfmt's `comment_width` default: a comment stays at the end of the line before it only
/// while that line is narrower than this.
const COMMENT_WIDTH: usize = 80;

/// An inserted guard that is its block's first statement, as byte offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstGuard {
    /// The block's `{`.
    pub open: usize,
    /// The guard's `#` ..
    pub start: usize,
    /// .. up to after its `;`.
    pub end: usize,
    /// The block's `}`.
    pub close: usize,
    /// The guard is the block's only statement.
    pub alone: bool,
    /// The fn's signature takes more than one line (rustfmt then never closes an empty body
    /// on the brace's line).
    pub sig_wraps: bool,
}

/// The edit that takes out a guard a formatter moved onto lines of its own and lays out the
/// body's opening as rustfmt would without it; `None` when the guard is still where
/// `instrument` put it (beside the `{` or the inner attributes), or the text is not of a shape
/// rustfmt makes: then only the guard and its space go.
///
/// ```
/// use trace_rewriter::reflow::{after_guard, FirstGuard};
/// use trace_rewriter::edit::apply;
/// let text = "fn f() {\n    #[cfg(feature = \"trace\")]\n    let g = 0; /* c */\n}\n";
/// let guard = FirstGuard { open: 7, start: 13, end: 53, close: 62, alone: true, sig_wraps: false };
/// assert_eq!(&text[guard.start..guard.end], "#[cfg(feature = \"trace\")]\n    let g = 0;");
/// let edit = after_guard(text, &guard).unwrap();
/// assert_eq!(apply(text, &[edit]), "fn f() { /* c */\n}\n");
/// ```
pub fn after_guard(body: &str, g: &FirstGuard) -> Option<Edit> {
    let between = &body[g.open + 1..g.start];
    if !between.contains('\n') || !is_space(between) {
        return None;
    }
    let indent = &body[line_start(body, g.start)..g.start];
    let nl = if body[..g.start]
        .trim_end_matches([' ', '\t'])
        .ends_with("\r\n")
    {
        "\r\n"
    } else {
        "\n"
    };
    if g.alone {
        return comment_only(body, g, indent, nl);
    }
    let rest = &body[g.end..g.close];
    let after = g.end + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    if let Some(len) = comment_len(&body[after..g.close]) {
        // The comment was on the brace's line; with statements after it, rustfmt gives it a
        // line of its own, where the guard's began.
        let text = shift(
            &body[after..after + len],
            column(body, g.start),
            column(body, after),
        );
        return Some(Edit {
            at: g.start,
            remove: after + len - g.start,
            text,
        });
    }
    let eol = g.end + body[g.end..].find('\n')? + 1;
    if !is_space(&body[g.end..eol]) {
        return None;
    }
    // The guard's lines go, and the blank lines rustfmt kept after it as after a statement.
    let from = line_start(body, g.start);
    let mut to = eol;
    while let Some(len) = body[to..g.close].find('\n') {
        if !is_space(&body[to..to + len]) {
            break;
        }
        to += len + 1;
    }
    Some(Edit::delete(from, to - from))
}

/// A body left with comments only, or nothing: rustfmt's closing of a block, from its `{`.
fn comment_only(body: &str, g: &FirstGuard, indent: &str, nl: &str) -> Option<Edit> {
    let outer = &body[line_start(body, g.close)..g.close];
    if !is_space(outer) {
        return None;
    }
    let head = width(&body[line_start(body, g.open)..=g.open]);
    let mut out = String::new();
    let mut pos = g.end;
    loop {
        let rest = &body[pos..g.close];
        let gap = &rest[..rest.len() - rest.trim_start().len()];
        let at = pos + gap.len();
        if at == g.close {
            break;
        }
        let len = comment_len(&body[at..g.close])?;
        let comment = &body[at..at + len];
        let line = match out.rfind('\n') {
            Some(i) => width(&out[i + 1..]),
            None => head + width(&out),
        };
        let newlines = gap.matches('\n').count();
        // On the line before it in the original: still there, or rustfmt moved it because
        // that line (with the guard) was too wide, which leaves no trace. Then a one-line
        // block comment right after the guard is taken to have been on the brace's line
        // (`{ /* nothing */ }`), anything else not.
        let was_beside = newlines == 0
            || (newlines == 1
                && pos == g.end
                && column(body, pos) >= COMMENT_WIDTH
                && comment.starts_with("/*")
                && !comment.contains('\n'));
        if was_beside && line < COMMENT_WIDTH {
            out.push(' ');
            // rustfmt indents the comment's further lines to where it begins, but never less
            // than the block's indentation plus one.
            let to = line.max(width(indent)) + 1;
            out.push_str(&shift(comment, to, column(body, at)));
        } else {
            if newlines >= 2 {
                out.push_str(nl);
            }
            out.push_str(nl);
            out.push_str(indent);
            out.push_str(&shift(comment, width(indent), column(body, at)));
        }
        pos = at + len;
    }
    // An empty body closes on the brace's line, unless the signature took several lines.
    if !out.is_empty() || g.sig_wraps {
        out.push_str(nl);
        out.push_str(outer);
    }
    Some(Edit {
        at: g.open + 1,
        remove: g.close - g.open - 1,
        text: out,
    })
}

/// The length of the comment `text` starts with (a line comment without its line ending).
fn comment_len(text: &str) -> Option<usize> {
    if text.starts_with("//") {
        // Line comments on consecutive lines are one comment to rustfmt, laid out together.
        let mut end = 0;
        loop {
            let eol = text[end..].find('\n').map_or(text.len(), |i| end + i);
            end = text[..eol].trim_end_matches('\r').len();
            match text.get(eol + 1..) {
                Some(next) if next.trim_start_matches([' ', '\t']).starts_with("//") => {
                    end = eol + 1 + (next.len() - next.trim_start_matches([' ', '\t']).len());
                }
                _ => return Some(end),
            }
        }
    }
    if !text.starts_with("/*") {
        return None;
    }
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"/*" => {
                depth += 1;
                i += 2;
            }
            b"*/" => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// A comment moved from column `from` to column `to`: its continuation lines move with it,
/// as rustfmt indents them relative to the first.
fn shift(comment: &str, to: usize, from: usize) -> String {
    let mut lines = comment.split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        let lead = line.len() - line.trim_start_matches(' ').len();
        if line.trim().is_empty() {
            out.push_str(line);
        } else if to >= from {
            out.push_str(&" ".repeat(to - from));
            out.push_str(line);
        } else {
            out.push_str(&line[lead.min(from - to)..]);
        }
    }
    out
}

fn line_start(body: &str, at: usize) -> usize {
    body[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn column(body: &str, at: usize) -> usize {
    width(&body[line_start(body, at)..at])
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn is_space(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_whitespace())
}
