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
        /// Time spent inside polls (async) or the whole call (sync).
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
