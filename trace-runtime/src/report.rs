//! What is still open, as plain data: what `open_frames()` returns, what the reports at exit
//! and on the dump signal print, and what `assert_no_open_frames` checks. Open trees are listed
//! one by one; trees spawned from the same chain are summed up by where each is blocked, so a
//! leak of thousands of tasks reads as one line naming the call that spawned them. Frames one
//! task polls concurrently (branches of a `join!` or `select!`) are siblings under their common
//! caller, each branch on a line of its own marked `‖`.

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
    /// One tree per thread or task with open frames.
    pub trees: Vec<OpenTree>,
}

/// The open frames of one thread or task, as a tree in depth-first order: each frame before its
/// callees, callees in the order they were entered. A frame with more than one open callee
/// polls them concurrently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenTree {
    /// The thread that entered the tree's outermost open frame.
    pub thread: u32,
    /// That thread's name, if it has one.
    pub thread_name: Option<String>,
    /// The task, for a task's tree.
    pub task: Option<u64>,
    /// The open frames, outermost first, each before its callees.
    pub frames: Vec<OpenFrame>,
    /// The chain that spawned this task or thread as it reads (`main -> serve => handle`, `=>`
    /// where a spawn lies inside it); empty when it was not spawned from a traced call.
    pub spawned_from: String,
}

/// One open frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFrame {
    /// The fn's name, as every view spells it (`demo::db::Pool::get`).
    pub name: String,
    /// How long it has been open.
    pub open_for: Duration,
    /// Its caller's index in the tree's `frames`; `None` for the tree's outermost frame.
    pub caller: Option<usize>,
}

impl OpenFrames {
    /// Whether nothing is open.
    ///
    /// ```
    /// assert!(trace_runtime::open_frames().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// How many frames are open, in every tree.
    ///
    /// ```
    /// assert_eq!(trace_runtime::open_frames().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.trees.iter().map(|t| t.frames.len()).sum()
    }
}

impl OpenTree {
    /// The frame it is blocked in: its innermost open frame (with concurrent branches, the
    /// last branch's; [`OpenTree::blocked_in`] gives every branch's).
    ///
    /// ```
    /// for tree in &trace_runtime::open_frames().trees {
    ///     println!("{:?}", tree.innermost().map(|f| &f.name));
    /// }
    /// ```
    pub fn innermost(&self) -> Option<&OpenFrame> {
        self.frames.last()
    }

    /// Every frame it is blocked in: the innermost frame of each concurrent branch, in order.
    ///
    /// ```
    /// use std::time::Duration;
    /// use trace_runtime::{OpenFrame, OpenTree};
    /// let frame = |name: &str, caller| OpenFrame {
    ///     name: name.into(),
    ///     open_for: Duration::ZERO,
    ///     caller,
    /// };
    /// let tree = OpenTree {
    ///     thread: 1,
    ///     thread_name: None,
    ///     task: Some(1),
    ///     frames: vec![frame("serve", None), frame("read", Some(0)), frame("recv", Some(0))],
    ///     spawned_from: String::new(),
    /// };
    /// let names: Vec<&str> = tree.blocked_in().iter().map(|f| f.name.as_str()).collect();
    /// assert_eq!(names, ["read", "recv"]);
    /// ```
    pub fn blocked_in(&self) -> Vec<&OpenFrame> {
        let kids = self.callees();
        self.frames
            .iter()
            .enumerate()
            .filter(|(i, _)| kids[*i].is_empty())
            .map(|(_, f)| f)
            .collect()
    }

    /// Each frame's callees' indices.
    fn callees(&self) -> Vec<Vec<usize>> {
        let mut kids = vec![Vec::new(); self.frames.len()];
        for (i, f) in self.frames.iter().enumerate() {
            if let Some(c) = f.caller.filter(|c| *c < i) {
                kids[c].push(i);
            }
        }
        kids
    }

    /// A task's tree moves between threads: it is labelled by its task alone.
    fn label(&self) -> String {
        let mut buf = Vec::new();
        match self.task {
            Some(task) => {
                buf.push(b'[');
                crate::units::task_label(&mut buf, task);
                buf.push(b']');
            }
            None => crate::units::label(&mut buf, self.thread, self.thread_name.as_deref(), 0),
        }
        String::from_utf8_lossy(&buf).into_owned()
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
            let places: Vec<(String, Duration)> = trees
                .iter()
                .filter_map(|tree| {
                    let inner = tree.blocked_in();
                    let oldest = inner.iter().map(|f| f.open_for).max()?;
                    let names: Vec<&str> = inner.iter().map(|f| f.name.as_str()).collect();
                    Some((names.join(" + "), oldest))
                })
                .collect();
            for (place, oldest) in &places {
                let e = blocked.entry(place).or_default();
                e.0 += 1;
                e.1 = e.1.max(*oldest);
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

/// `  [task 3] serve (open 1s) -> handle (open 1s), spawned from main, concurrently:` and, for
/// each concurrent branch, `    ‖ read (open 1s)` on a line of its own, two spaces deeper per
/// level of concurrency.
fn write_tree(f: &mut fmt::Formatter<'_>, tree: &OpenTree) -> fmt::Result {
    let kids = tree.callees();
    let roots: Vec<usize> = (0..tree.frames.len())
        .filter(|i| tree.frames[*i].caller.is_none_or(|c| c >= *i))
        .collect();
    write!(f, "  {}", tree.label())?;
    let mut fork = roots.as_slice();
    let mut wrote = false;
    if let [root] = roots.as_slice() {
        f.write_str(" ")?;
        fork = write_chain(f, tree, &kids, *root)?;
        wrote = true;
    }
    if !tree.spawned_from.is_empty() {
        let sep = if wrote { ", " } else { " " };
        write!(f, "{sep}spawned from {}", tree.spawned_from)?;
        wrote = true;
    }
    write_branches(f, tree, &kids, fork, 4, wrote)
}

/// A chain longer than `CHAIN_HEAD + CHAIN_TAIL + 1` frames (a deep recursion, a stack
/// overflow's 40,000 frames) shows its first `CHAIN_HEAD` and its last `CHAIN_TAIL` frames, the
/// innermost, where it is blocked or crashed, with how many were left out between.
const CHAIN_HEAD: usize = 4;
const CHAIN_TAIL: usize = 16;

/// A chain from frame `at` as long as each frame has one open callee: `a (open 1s) -> b (open
/// 1s)`, its middle left out when long (`a (open 1s) -> ... 29080 frames ... -> z (open 1s)`);
/// returns the callees of the frame it stopped at (several: concurrent branches).
fn write_chain<'k>(
    f: &mut fmt::Formatter<'_>,
    tree: &OpenTree,
    kids: &'k [Vec<usize>],
    mut at: usize,
) -> Result<&'k [usize], fmt::Error> {
    let mut chain = vec![at];
    while let [one] = kids[at].as_slice() {
        at = *one;
        chain.push(at);
    }
    // Leaving out one frame would take as much room as showing it.
    let left_out = if chain.len() > CHAIN_HEAD + CHAIN_TAIL + 1 {
        chain.len() - CHAIN_HEAD - CHAIN_TAIL
    } else {
        0
    };
    for (n, &i) in chain.iter().enumerate() {
        if left_out > 0 && (CHAIN_HEAD..CHAIN_HEAD + left_out).contains(&n) {
            if n == CHAIN_HEAD {
                write!(f, "... {left_out} frames ... -> ")?;
            }
            continue;
        }
        let frame = &tree.frames[i];
        write!(f, "{} (open {})", frame.name, duration(frame.open_for))?;
        if n + 1 < chain.len() {
            f.write_str(" -> ")?;
        }
    }
    Ok(kids[at].as_slice())
}

/// Ends the current line, then writes each concurrent branch on a line of its own.
fn write_branches(
    f: &mut fmt::Formatter<'_>,
    tree: &OpenTree,
    kids: &[Vec<usize>],
    branches: &[usize],
    indent: usize,
    after_text: bool,
) -> fmt::Result {
    if branches.len() > 1 {
        f.write_str(if after_text {
            ", concurrently:"
        } else {
            " concurrently:"
        })?;
    }
    writeln!(f)?;
    if branches.len() > 1 {
        for &branch in branches {
            write!(f, "{:indent$}\u{2016} ", "")?;
            let fork = write_chain(f, tree, kids, branch)?;
            write_branches(f, tree, kids, fork, indent + 2, true)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str, caller: Option<usize>) -> OpenFrame {
        OpenFrame {
            name: name.into(),
            open_for: Duration::from_millis(5),
            caller,
        }
    }

    /// A chain of 1,000 frames shows its first 4 and its last 16 (the innermost, where it
    /// crashed or waits) and how many were left out; one frame more than fits is shown whole.
    #[test]
    fn a_deep_chain_shows_its_ends_and_how_many_frames_were_left_out() {
        let chain = |len: usize| OpenFrames {
            trees: vec![OpenTree {
                thread: 1,
                thread_name: Some("main".into()),
                task: None,
                frames: (0..len)
                    .map(|i| frame(&format!("f{i}"), i.checked_sub(1)))
                    .collect(),
                spawned_from: String::new(),
            }],
        };
        let names = |r: std::ops::Range<usize>| -> Vec<String> {
            r.map(|i| format!("f{i} (open 5.0ms)")).collect()
        };
        let deep = chain(1000).to_string();
        let want = format!(
            "  [01 main] {} -> ... 980 frames ... -> {}\n",
            names(0..4).join(" -> "),
            names(984..1000).join(" -> ")
        );
        assert_eq!(deep, want);
        let fits = chain(21).to_string();
        assert_eq!(fits, format!("  [01 main] {}\n", names(0..21).join(" -> ")));
    }

    /// Concurrent branches each get a line under their common caller, a branch's own
    /// concurrent branches two spaces deeper; a tree without a fork stays one line.
    #[test]
    fn concurrent_branches_are_listed_under_their_caller() {
        let open = OpenFrames {
            trees: vec![
                OpenTree {
                    thread: 1,
                    thread_name: Some("main".into()),
                    task: None,
                    frames: vec![frame("main", None), frame("wait", Some(0))],
                    spawned_from: String::new(),
                },
                OpenTree {
                    thread: 2,
                    thread_name: None,
                    task: Some(3),
                    frames: vec![
                        frame("serve", None),
                        frame("read", Some(0)),
                        frame("fill", Some(1)),
                        frame("recv", Some(0)),
                        frame("x", Some(3)),
                        frame("y", Some(3)),
                    ],
                    spawned_from: "main".into(),
                },
            ],
        };
        assert_eq!(
            open.to_string(),
            "  [01 main] main (open 5.0ms) -> wait (open 5.0ms)
  [task 3] serve (open 5.0ms), spawned from main, concurrently:
    \u{2016} read (open 5.0ms) -> fill (open 5.0ms)
    \u{2016} recv (open 5.0ms), concurrently:
      \u{2016} x (open 5.0ms)
      \u{2016} y (open 5.0ms)
"
        );
        let blocked: Vec<&str> = open.trees[1]
            .blocked_in()
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(blocked, ["fill", "x", "y"]);
    }

    /// Many trees from one chain are summed up by where they wait: every concurrent branch's
    /// innermost frame.
    #[test]
    fn trees_from_one_chain_are_summed_up_by_every_place_they_wait() {
        let tree = |task| OpenTree {
            thread: 2,
            thread_name: None,
            task: Some(task),
            frames: vec![
                frame("conn", None),
                frame("read", Some(0)),
                frame("recv", Some(0)),
            ],
            spawned_from: "main -> serve".into(),
        };
        let open = OpenFrames {
            trees: (1..=4).map(tree).collect(),
        };
        assert_eq!(
            open.to_string(),
            "  4 tasks spawned from main -> serve: 4 waiting in read + recv (oldest 5.0ms)\n"
        );
    }
}
