//! What is still open, as plain data: what `open_frames()` returns, what the reports at exit
//! and on the dump signal print, and what `assert_no_open_frames` checks. Open trees are listed
//! one by one; trees spawned from the same chain are summed up by where each is blocked, so a
//! leak of thousands of tasks reads as one line naming the call that spawned them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Every frame still open, grouped by tree: a plain thread's frames, or a task's.
///
/// ```
/// let open = trace_runtime::open_frames();
/// assert!(open.is_empty()); // nothing traced is running here
/// println!("{open}");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenFrames {
    pub trees: Vec<OpenTree>,
}

/// The open frames of one thread or task, outermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenTree {
    /// The thread that entered the tree's outermost open frame.
    pub thread: u32,
    pub thread_name: Option<String>,
    /// The task, for a task's tree.
    pub task: Option<u64>,
    pub frames: Vec<OpenFrame>,
    /// The chain that spawned this task or thread as it reads (`main -> serve => handle`, `=>`
    /// where a spawn lies inside it); empty when it was not spawned from a traced call.
    pub spawned_from: String,
}

/// One open frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFrame {
    pub name: String,
    /// How long it has been open.
    pub open_for: Duration,
}

impl OpenFrames {
    /// Whether nothing is open.
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// How many frames are open.
    pub fn len(&self) -> usize {
        self.trees.iter().map(|t| t.frames.len()).sum()
    }
}

impl OpenTree {
    /// The frame it is blocked in: its innermost open frame.
    pub fn innermost(&self) -> Option<&OpenFrame> {
        self.frames.last()
    }

    /// A task's tree moves between threads: it is labelled by its task alone.
    fn label(&self) -> String {
        match self.task {
            Some(task) => format!("[task {task}]"),
            None => {
                let mut buf = Vec::new();
                crate::units::label(&mut buf, self.thread, self.thread_name.as_deref(), 0);
                String::from_utf8_lossy(&buf).into_owned()
            }
        }
    }
}

fn duration(d: Duration) -> String {
    crate::units::duration_string(d.as_nanos() as u64)
}

/// Trees spawned from the same chain are summed up when there are more than this many.
const LIST_AT_MOST: usize = 3;

impl fmt::Display for OpenFrames {
    /// `  [01 main] a (open 1.2s) -> b (open 1.1s)` per tree; trees spawned from one chain,
    /// when more than three: `  400 tasks spawned from main -> subscribe: 200 waiting in
    /// heartbeat (oldest 6.1s), 200 in pump (oldest 6.1s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut groups: BTreeMap<&str, Vec<&OpenTree>> = BTreeMap::new();
        for tree in &self.trees {
            if tree.spawned_from.is_empty() {
                write_tree(f, tree)?;
            } else {
                groups.entry(&tree.spawned_from).or_default().push(tree);
            }
        }
        for (from, trees) in groups {
            if trees.len() <= LIST_AT_MOST {
                for tree in trees {
                    write_tree(f, tree)?;
                }
                continue;
            }
            let what = if trees.iter().all(|t| t.task.is_some()) {
                "tasks"
            } else {
                "tasks and threads"
            };
            write!(f, "  {} {what} spawned from {from}:", trees.len())?;
            // By where they are blocked, most first.
            let mut blocked: BTreeMap<&str, (usize, Duration)> = BTreeMap::new();
            for tree in &trees {
                if let Some(inner) = tree.innermost() {
                    let e = blocked.entry(&inner.name).or_default();
                    e.0 += 1;
                    e.1 = e.1.max(inner.open_for);
                }
            }
            let mut blocked: Vec<_> = blocked.into_iter().collect();
            blocked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
            for (i, (name, (n, oldest))) in blocked.iter().enumerate() {
                let sep = if i == 0 { " " } else { ", " };
                let verb = if i == 0 { "waiting in " } else { "in " };
                write!(f, "{sep}{n} {verb}{name} (oldest {})", duration(*oldest))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

fn write_tree(f: &mut fmt::Formatter<'_>, tree: &OpenTree) -> fmt::Result {
    write!(f, "  {} ", tree.label())?;
    for (i, frame) in tree.frames.iter().enumerate() {
        if i > 0 {
            f.write_str(" -> ")?;
        }
        write!(f, "{} (open {})", frame.name, duration(frame.open_for))?;
    }
    if !tree.spawned_from.is_empty() {
        write!(f, ", spawned from {}", tree.spawned_from)?;
    }
    writeln!(f)
}
