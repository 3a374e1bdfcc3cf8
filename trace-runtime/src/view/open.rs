//! Frames entered and never exited: the report at the end of a run, the dump on the dump signal,
//! and what `assert_no_open_frames` checks. Each tree (a plain thread's frames, or a task's)
//! is listed outermost first with how long each frame has been open.

use std::collections::BTreeMap;
use std::io::Write;

use super::stream::Out;
use super::text::{duration, label};
use crate::collect::decode::{Consumer, End, Frames, OpenFrame};
use crate::collect::event::Tables;

/// The open frames of one tree, outermost first.
pub struct OpenTree<'a> {
    /// The thread (for a plain thread's frames) and the task (0 for none).
    pub thread: u32,
    pub task: u64,
    pub frames: Vec<&'a OpenFrame>,
}

/// Every open frame, grouped by tree (plain threads by number, then tasks by number); `skip`
/// leaves frames out (the caller's own).
pub fn trees<'a>(frames: &'a Frames, skip: impl Fn(&OpenFrame) -> bool) -> Vec<OpenTree<'a>> {
    let mut by_tree: BTreeMap<(u8, u64), Vec<&OpenFrame>> = BTreeMap::new();
    for (_, f) in frames.iter() {
        if skip(f) {
            continue;
        }
        let key = if f.task != 0 {
            (1, f.task)
        } else {
            (0, u64::from(f.thread))
        };
        by_tree.entry(key).or_default().push(f);
    }
    by_tree
        .into_iter()
        .map(|((kind, n), mut frames)| {
            frames.sort_by_key(|f| (f.depth, f.start_ns));
            OpenTree {
                thread: if kind == 0 {
                    n as u32
                } else {
                    frames[0].thread
                },
                task: if kind == 1 { n } else { 0 },
                frames,
            }
        })
        .collect()
}

/// `  [01 main] a (open 1.2s) -> b (open 1.1s)` per tree.
pub fn describe(trees: &[OpenTree<'_>], tables: &Tables, now_ns: u64) -> String {
    let mut text = Vec::new();
    for tree in trees {
        text.extend_from_slice(b"  ");
        if tree.task != 0 {
            text.extend_from_slice(format!("[task {}]", tree.task).as_bytes());
        } else {
            label(
                &mut text,
                false,
                tree.thread,
                tables.thread_name(tree.thread),
                0,
            );
        }
        text.push(b' ');
        for (i, f) in tree.frames.iter().enumerate() {
            if i > 0 {
                text.extend_from_slice(b" -> ");
            }
            text.extend_from_slice(tables.site(f.site).as_bytes());
            text.extend_from_slice(b" (open ");
            duration(&mut text, now_ns.saturating_sub(f.start_ns));
            text.push(b')');
        }
        text.push(b'\n');
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The report: a headline and the trees; empty when nothing is open.
pub fn report(headline: &str, frames: &Frames, tables: &Tables, now_ns: u64) -> String {
    let trees = trees(frames, |_| false);
    if trees.is_empty() {
        return String::new();
    }
    let count: usize = trees.iter().map(|t| t.frames.len()).sum();
    format!(
        "{headline}: {count} traced frames never exited\n{}",
        describe(&trees, tables, now_ns)
    )
}

/// Reports what never finished at the end of the run.
pub struct OpenAtEnd {
    out: Out,
}

impl OpenAtEnd {
    pub fn new(out: Out) -> Self {
        OpenAtEnd { out }
    }
}

impl Consumer for OpenAtEnd {
    fn finish(&mut self, end: &End<'_>) {
        let text = report("open at exit", end.frames, end.tables, end.ts_ns);
        if !text.is_empty() {
            let _ = self.out.write_all(text.as_bytes());
            let _ = self.out.flush();
        }
    }
}

/// The report on the frames open at the end, kept for a reader of a recording ("" when none).
#[derive(Default)]
pub struct AtEnd {
    pub text: String,
}

impl Consumer for AtEnd {
    fn finish(&mut self, end: &End<'_>) {
        self.text = report("open at exit", end.frames, end.tables, end.ts_ns);
    }
}
