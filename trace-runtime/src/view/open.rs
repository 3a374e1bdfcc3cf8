//! Frames entered and never exited, as the decoded stream leaves them: the report at the end of
//! a run, the dump on the dump signal, `open_frames()` and `assert_no_open_frames`. Each tree (a
//! plain thread's frames, or a task's) is listed outermost first with how long each frame has
//! been open; trees spawned from one chain are summed up by where they are blocked.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use super::stream::Out;
use crate::collect::decode::{Consumer, End};
use crate::collect::event::{Tables, Tree};
use crate::collect::frames::{Frames, OpenFrame};
use crate::report::{self, OpenFrames, OpenTree};

/// The chain that leads to frame `id` across spawns, as it reads: `main -> serve => process`,
/// `=>` where a spawned task or thread begins; empty when the frame is not known.
pub fn spawn_chain(frames: &Frames, tables: &Tables, id: u64) -> String {
    match frames.get(id) {
        Some(f) => super::path::Path::of(frames, id, f.site).text(tables),
        None => String::new(),
    }
}

/// Every open frame as plain data, grouped by tree; `skip` leaves frames out (the caller's
/// own).
pub fn collect(
    frames: &Frames,
    tables: &Tables,
    now_ns: u64,
    skip: impl Fn(&OpenFrame) -> bool,
) -> OpenFrames {
    let mut by_tree: BTreeMap<Tree, Vec<(u64, &OpenFrame)>> = BTreeMap::new();
    for (id, f) in frames.iter() {
        if skip(f) {
            continue;
        }
        by_tree.entry(f.tree()).or_default().push((id, f));
    }
    let trees = by_tree
        .into_iter()
        .map(|(tree, mut open)| {
            open.sort_by_key(|(_, f)| (f.depth, f.start_ns));
            // The tree's outermost open frame is its root: a root outlives its callees.
            let root = open[0].1;
            let origin = root.origin;
            let in_tree = |f: &OpenFrame| f.tree() == tree;
            // Depth first from each frame whose caller is not open in this tree; callees in
            // the order they were entered, concurrent ones side by side.
            let mut ordered = Vec::with_capacity(open.len());
            for &(id, f) in &open {
                let caller_here = frames
                    .get(f.parent)
                    .filter(|p| frames.is_open(f.parent) && in_tree(p));
                if caller_here.is_none() {
                    walk(frames, id, None, &mut ordered, &in_tree);
                }
            }
            OpenTree {
                thread: match tree {
                    Tree::Thread(thread) => thread,
                    Tree::Task(_) => root.thread,
                },
                thread_name: tables.thread_name(root.thread).map(str::to_string),
                task: match tree {
                    Tree::Task(task) => Some(task),
                    Tree::Thread(_) => None,
                },
                frames: ordered
                    .iter()
                    .map(
                        |&(f, caller): &(&OpenFrame, Option<usize>)| report::OpenFrame {
                            name: tables.site(f.site).to_string(),
                            open_for: Duration::from_nanos(now_ns.saturating_sub(f.start_ns)),
                            caller,
                        },
                    )
                    .collect(),
                spawned_from: if origin != 0 {
                    spawn_chain(frames, tables, origin)
                } else {
                    String::new()
                },
            }
        })
        .collect();
    OpenFrames { trees }
}

/// Frame `id` and its open callees, depth first, each with its caller's index in `out`.
fn walk<'f>(
    frames: &'f Frames,
    id: u64,
    caller: Option<usize>,
    out: &mut Vec<(&'f OpenFrame, Option<usize>)>,
    keep: &dyn Fn(&OpenFrame) -> bool,
) {
    let Some(f) = frames.get(id) else {
        return;
    };
    // Iterative, so that a deep recursion's report cannot overflow the collector's stack.
    let mut stack = vec![(id, f, caller)];
    while let Some((id, f, caller)) = stack.pop() {
        let me = out.len();
        out.push((f, caller));
        let kids: Vec<(u64, &OpenFrame)> =
            frames.open_children(id).filter(|(_, k)| keep(k)).collect();
        for (kid, k) in kids.into_iter().rev() {
            stack.push((kid, k, Some(me)));
        }
    }
}

/// The report: a headline and the trees; empty when nothing is open.
pub fn report(headline: &str, frames: &Frames, tables: &Tables, now_ns: u64) -> String {
    let open = collect(frames, tables, now_ns, |_| false);
    if open.is_empty() {
        return String::new();
    }
    format!(
        "{headline}: {} never exited\n{open}",
        super::text::count(open.len() as u64, "traced frame")
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

#[cfg(feature = "read")]
/// The report on the frames open at the end ("" when none), kept for a reader of a recording,
/// with the time the recording ended.
#[derive(Default)]
pub struct AtEnd {
    /// The report as the run printed it.
    pub text: String,
    /// Nanoseconds from the first traced call to the end of the recording.
    pub end_ns: u64,
}

#[cfg(feature = "read")]
impl Consumer for AtEnd {
    fn finish(&mut self, end: &End<'_>) {
        self.text = report("open at exit", end.frames, end.tables, end.ts_ns);
        self.end_ns = end.ts_ns;
    }
}
