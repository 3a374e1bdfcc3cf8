//! Text edits by byte offset, applied back to front so earlier offsets stay valid.

use proc_macro2::LineColumn;

/// Insert `text` at byte `at`, after removing `remove` bytes there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub at: usize,
    pub remove: usize,
    pub text: String,
}

impl Edit {
    /// An insertion only.
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            at,
            remove: 0,
            text: text.into(),
        }
    }

    /// A deletion only.
    pub fn delete(at: usize, len: usize) -> Self {
        Edit {
            at,
            remove: len,
            text: String::new(),
        }
    }
}

/// Applies non-overlapping edits. Every byte outside them is kept.
///
/// ```
/// use trace_rewriter::edit::{apply, Edit};
/// assert_eq!(apply("fn f() {}", &[Edit::insert(8, " x;")]), "fn f() { x;}");
/// ```
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.at);
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut pos = 0;
    for e in sorted {
        debug_assert!(e.at >= pos, "edits overlap");
        out.push_str(&text[pos..e.at]);
        out.push_str(&e.text);
        pos = e.at + e.remove;
    }
    out.push_str(&text[pos..]);
    out
}

/// Maps proc-macro2's line/column positions (1-based lines, columns in chars) to byte offsets.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The byte offset of a position.
    pub fn offset(&self, at: LineColumn) -> usize {
        let start = self.starts[at.line.saturating_sub(1).min(self.starts.len() - 1)];
        let line = &self.text[start..];
        if line.as_bytes().iter().take(at.column).all(u8::is_ascii) {
            return start + at.column.min(line.len());
        }
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_chars_not_bytes() {
        let text = "é = 1;\nlet ü = {";
        let index = LineIndex::new(text);
        let brace = index.offset(LineColumn { line: 2, column: 8 });
        assert_eq!(&text[brace..], "{");
    }

    #[test]
    fn edits_apply_back_to_front() {
        let out = apply(
            "abcdef",
            &[
                Edit::insert(4, "X"),
                Edit::delete(0, 1),
                Edit::insert(6, "Y"),
            ],
        );
        assert_eq!(out, "bcdXefY");
    }
}
