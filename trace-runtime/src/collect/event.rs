//! What collection hands to the views: raw events in time order (as captured, with the site as
//! an index into the run's table of names), and the events they decode to.

/// A captured record in the form every consumer shares, live or read back from a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw {
    /// The number of the thread that wrote it (0: a thread whose state was already gone).
    pub thread: u32,
    /// Raw clock ticks.
    pub ts: u64,
    /// Frame id with kind and flag bits (see `capture::record`).
    pub id: u64,
    /// Index into the run's sites.
    pub site: u32,
    /// By kind: the parent id, the task number, the busy ticks, or the origin id.
    pub aux: u64,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Enter,
    Exit {
        elapsed_ns: u64,
        /// Time spent inside polls (async) or the whole call (sync): never more than
        /// `elapsed_ns` (the decoder clamps it once, for every view).
        busy_ns: u64,
        unwinding: bool,
        /// A traced future dropped before it completed.
        cancelled: bool,
    },
}

/// One decoded event, with everything a view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    /// The thread that wrote the event.
    pub thread: u32,
    /// The task the frame belongs to; 0 on plain threads.
    pub task: u64,
    /// 0 for an outermost frame; equal on an enter and its exit.
    pub depth: u32,
    /// Index into the run's sites.
    pub site: u32,
    /// Nanoseconds since the first traced call.
    pub ts_ns: u64,
    /// The frame's id, unique in the run.
    pub id: u64,
    /// The calling frame's id; 0 for an outermost frame.
    pub parent: u64,
    /// For the root of a task or of an adopting thread: the frame that created it; else 0.
    pub origin: u64,
}

impl Event {
    pub fn is_enter(&self) -> bool {
        matches!(self.kind, Kind::Enter)
    }

    /// The tree the event's frame belongs to.
    pub fn tree(&self) -> Tree {
        Tree::of(self.thread, self.task)
    }

    /// The frame a frame hangs from: its calling frame, or for the root of a spawned task or
    /// thread the frame that created it (0: none).
    pub fn parent_or_origin(&self) -> u64 {
        if self.parent != 0 {
            self.parent
        } else {
            self.origin
        }
    }
}

/// The tree a frame belongs to: its task's, whichever threads polled it, or on a plain thread
/// that thread's. Ordered plain threads first, then tasks, each by number: the order views list
/// trees in.
///
/// ```ignore
/// assert_eq!(Tree::of(2, 0), Tree::Thread(2));
/// assert_eq!(Tree::of(2, 7), Tree::Task(7));
/// assert!(Tree::Thread(9) < Tree::Task(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    /// A thread's own tree (its number): sync calls outside any traced future.
    Thread(u32),
    /// A task's tree (its number), whichever threads polled it.
    Task(u64),
}

impl Tree {
    /// The tree of a frame on `thread` in `task` (0: none).
    pub fn of(thread: u32, task: u64) -> Tree {
        if task != 0 {
            Tree::Task(task)
        } else {
            Tree::Thread(thread)
        }
    }
}

/// Names of the run's sites and threads, as they become known.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// Site names by index.
    pub sites: Vec<Box<str>>,
    /// Thread names by number; `None` for unnamed threads.
    pub threads: std::collections::BTreeMap<u32, Option<Box<str>>>,
}

impl Tables {
    pub fn site(&self, index: u32) -> &str {
        self.sites.get(index as usize).map_or("?", |s| s)
    }

    pub fn thread_name(&self, thread: u32) -> Option<&str> {
        self.threads.get(&thread).and_then(|n| n.as_deref())
    }
}
