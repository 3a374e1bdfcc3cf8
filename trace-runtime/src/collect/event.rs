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
    /// The values recorded with it (`#[trace(args, ret, err)]`: an enter's arguments, an
    /// exit's result), as an index into `Tables::values` plus 1; 0 for none.
    pub values: u32,
    /// An exit's error (`#[trace(err)]` recorded an `Err`): where it was born.
    pub error: ErrorExit,
}

/// Whether an exit returned an `Err`, and if so whether the error was born there: in a chain
/// of calls each returning `Err` (a `?` chain), the innermost is the origin, the others pass
/// it on. Decided once, by the decoder, for every view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorExit {
    /// Not an error exit (or not recorded as one).
    #[default]
    None,
    /// An error exit with no callee's error exit before it: the error was born here.
    Origin,
    /// An error exit after a callee's error exit: the error was passed on.
    Passed,
}

/// A frame's values as recorded (`#[trace(args, ret, err)]`): an enter's arguments, or an
/// exit's result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    /// Argument names and their text, in the signature's order.
    pub args: Vec<(Box<str>, Box<str>)>,
    /// The result's text (`Ok(..)`/`Err(..)` for a `Result` with `err`).
    pub result: Option<Box<str>>,
    /// The result is an `Err`: an error exit.
    pub error: bool,
}

impl Values {
    /// Decodes what one `VALUE` record held: its flags (`record::RESULT`, `record::ERROR`) and
    /// bytes (the arguments as `value::write_args` lays them out, or the result's text).
    pub fn decode(flags: u64, bytes: &[u8]) -> Values {
        if flags & crate::capture::record::RESULT != 0 {
            Values {
                args: Vec::new(),
                result: Some(String::from_utf8_lossy(bytes).into()),
                error: flags & crate::capture::record::ERROR != 0,
            }
        } else {
            Values {
                args: crate::value::read_args(bytes),
                result: None,
                error: false,
            }
        }
    }
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
    /// Frames' recorded values, numbered in the order they were recorded (an event's `values`
    /// points here): live, each kept only while a view may still read it.
    pub values: ValueTable,
}

/// Recorded values by number (an event's `values` less 1). A recording read back keeps them
/// all; the live collector frees a frame's once no view can read them any more (see
/// `Decoder::free_values`), so that a run holds the values of its open frames and of the
/// events a view holds back, not of every call it made.
///
/// ```ignore
/// let mut t = ValueTable::default();
/// let n = t.push(Values::default());
/// t.free(n);
/// assert_eq!((t.len(), t.held()), (1, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValueTable {
    held: super::frames::FastMap<u32, Values>,
    /// Values ever added: the next one's number.
    added: u32,
    /// The most held at once.
    peak: usize,
}

impl ValueTable {
    /// How many values were ever added (freed ones too): what [`truncate`](Self::truncate)
    /// counts.
    pub fn len(&self) -> usize {
        self.added as usize
    }

    /// Whether none was ever added.
    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// Value `i` (0-based), unless it was freed.
    pub fn get(&self, i: usize) -> Option<&Values> {
        self.held.get(&u32::try_from(i).ok()?)
    }

    /// Adds a value; returns what an event's `values` holds to point at it (its index plus 1).
    pub fn push(&mut self, values: Values) -> u32 {
        self.held.insert(self.added, values);
        self.added += 1;
        self.peak = self.peak.max(self.held.len());
        self.added
    }

    /// Forgets the values added after the first `n`, as if never added.
    pub fn truncate(&mut self, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.held.retain(|&i, _| i < n);
        self.added = self.added.min(n);
    }

    /// Frees the value an event's `values` points at (0: none).
    pub fn free(&mut self, values: u32) {
        if let Some(i) = values.checked_sub(1) {
            self.held.remove(&i);
        }
    }

    /// How many values are held now.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The most values held at once in the run.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

impl Tables {
    pub fn site(&self, index: u32) -> &str {
        self.sites.get(index as usize).map_or("?", |s| s)
    }

    /// The values recorded with `event`, if any.
    pub fn values(&self, event: &Event) -> Option<&Values> {
        (event.values as usize)
            .checked_sub(1)
            .and_then(|i| self.values.get(i))
    }

    /// Adds a frame's values; returns what an event's `values` holds to point at them.
    pub fn add_values(&mut self, values: Values) -> u32 {
        self.values.push(values)
    }

    pub fn thread_name(&self, thread: u32) -> Option<&str> {
        self.threads.get(&thread).and_then(|n| n.as_deref())
    }
}
