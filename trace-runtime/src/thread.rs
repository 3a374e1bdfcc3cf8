//! Per-thread state: the thread's number and name, its stack of open frames, the traced future
//! it is polling (whose task its frames then belong to), and its output buffer; and the guard
//! that opens and closes a sync frame.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::__private::Site;
use crate::config::{self, Config};
use crate::format::{self, Event, Record, Who};
use crate::{clock, sink};

/// A thread's buffer is written out when it holds this much.
const FLUSH_AT: usize = 32 * 1024;
/// An outermost call that returns this long after the last write also writes the buffer out, so
/// a slow program shows its trace as it goes.
const FLUSH_EVERY_NS: u64 = 100_000_000;

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
/// Every live thread's state, so that the exit and panic hooks can write out all buffers.
static REGISTRY: Mutex<Vec<Weak<ThreadState>>> = Mutex::new(Vec::new());
/// Set once the process is exiting: from then on every line is written at once.
static EXITING: AtomicBool = AtomicBool::new(false);

pub(crate) struct ThreadState {
    id: u32,
    name: Option<Box<str>>,
    data: Mutex<Data>,
}

struct Data {
    /// Sync frames open on this thread, outermost first.
    stack: Vec<&'static Site>,
    /// The traced future being polled on this thread, if any. Sync frames from `mark` up nest
    /// under it, in its task; frames below `mark` belong to whoever called the poll.
    base: Option<Arc<Node>>,
    task: u64,
    mark: usize,
    buf: Vec<u8>,
    last_flush_ns: u64,
}

/// A traced future's place in its task's tree: immutable and shared, so that each child keeps
/// its own parent however the children of one poll are interleaved.
pub(crate) struct Node {
    pub site: &'static Site,
    pub parent: Option<Arc<Node>>,
    pub depth: u32,
}

/// What a poll replaced, to be put back when it returns (or unwinds).
pub(crate) struct PollScope {
    base: Option<Arc<Node>>,
    task: u64,
    mark: usize,
}

/// The thread-local handle; dropping it (thread end) writes the buffer out.
struct Local(Arc<ThreadState>);

impl Drop for Local {
    fn drop(&mut self) {
        self.0.flush();
    }
}

thread_local! {
    static LOCAL: Local = Local::new();
}

impl Local {
    fn new() -> Self {
        let state = Arc::new(ThreadState {
            id: NEXT_THREAD.fetch_add(1, Ordering::Relaxed),
            name: std::thread::current().name().map(Into::into),
            data: Mutex::new(Data {
                stack: Vec::new(),
                base: None,
                task: 0,
                mark: 0,
                buf: Vec::with_capacity(FLUSH_AT + 1024),
                last_flush_ns: 0,
            }),
        });
        let mut registry = lock(&REGISTRY);
        registry.retain(|w| w.strong_count() > 0);
        registry.push(Arc::downgrade(&state));
        Local(state)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn depth_below(base: &Option<Arc<Node>>) -> usize {
    base.as_ref().map_or(0, |n| n.depth as usize + 1)
}

impl ThreadState {
    fn who(&self, task: u64) -> Who<'_> {
        Who {
            thread: self.id,
            thread_name: self.name.as_deref(),
            task,
        }
    }

    /// Opens a sync frame; returns its stack index, depth and task.
    fn enter(&self, cfg: &Config, site: &'static Site, now: u64) -> (u32, u32, u64) {
        let mut data = lock(&self.data);
        let index = data.stack.len();
        let depth = depth_below(&data.base) + (index - data.mark);
        let task = data.task;
        data.stack.push(site);
        self.emit(&mut data, cfg, site.name, depth, task, now, Event::Enter);
        (index as u32, depth as u32, task)
    }

    fn exit(&self, cfg: &Config, guard: &Guard, now: u64, event: Event) {
        let mut data = lock(&self.data);
        // Truncating rather than popping keeps the stack right even if an inner guard was leaked.
        data.stack.truncate(guard.index as usize);
        self.emit(
            &mut data,
            cfg,
            guard.site.name,
            guard.depth as usize,
            guard.task,
            now,
            event,
        );
    }

    /// Writes one event into the buffer, and the buffer out when it is due.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        data: &mut Data,
        cfg: &Config,
        name: &str,
        depth: usize,
        task: u64,
        now: u64,
        event: Event,
    ) {
        if cfg.silent {
            return;
        }
        let record = Record {
            who: self.who(task),
            depth,
            name,
            ts_ns: now,
            event,
        };
        format::line(&mut data.buf, cfg.format, cfg.color, &record);
        let outermost_exit = depth == 0 && task == 0 && matches!(event, Event::Exit { .. });
        let stale = outermost_exit && now.saturating_sub(data.last_flush_ns) >= FLUSH_EVERY_NS;
        if stale || data.buf.len() >= FLUSH_AT || EXITING.load(Ordering::Relaxed) {
            sink::write(&data.buf);
            data.buf.clear();
            data.last_flush_ns = now;
        }
    }

    /// Where a traced future first polled here sits: under the future being polled (and any
    /// sync frames it opened since), in that future's task; or nowhere, starting a new task.
    fn position(&self) -> (Option<Arc<Node>>, u64) {
        let data = lock(&self.data);
        // Outside any traced future a future starts a task of its own: tasks do not nest under
        // the sync frames of whoever happens to poll them.
        let Some(base) = data.base.clone() else {
            return (None, 0);
        };
        let mut parent = Some(base);
        for site in &data.stack[data.mark..] {
            let depth = depth_below(&parent) as u32;
            parent = Some(Arc::new(Node {
                site,
                parent,
                depth,
            }));
        }
        (parent, data.task)
    }

    fn enter_poll(&self, node: Arc<Node>, task: u64) -> PollScope {
        let mut data = lock(&self.data);
        let mark = data.stack.len();
        PollScope {
            base: data.base.replace(node),
            task: std::mem::replace(&mut data.task, task),
            mark: std::mem::replace(&mut data.mark, mark),
        }
    }

    fn leave_poll(&self, scope: PollScope) {
        let mut data = lock(&self.data);
        // A frame leaked inside the poll must not outlive it.
        let mark = data.mark;
        data.stack.truncate(mark);
        data.base = scope.base;
        data.task = scope.task;
        data.mark = scope.mark;
    }

    fn chain(&self) -> Vec<&'static str> {
        let data = lock(&self.data);
        let mut names = Vec::new();
        let mut node = data.base.as_deref();
        while let Some(n) = node {
            names.push(n.site.name);
            node = n.parent.as_deref();
        }
        names.reverse();
        names.extend(data.stack[data.mark..].iter().map(|s| s.name));
        names
    }

    fn flush(&self) {
        let mut data = lock(&self.data);
        sink::write(&data.buf);
        data.buf.clear();
    }
}

/// Runs `f` on this thread's state; `None` once the thread's state is gone (during its
/// thread-local destructors).
pub(crate) fn with_state<R>(f: impl FnOnce(&ThreadState) -> R) -> Option<R> {
    LOCAL.try_with(|l| f(&l.0)).ok()
}

pub(crate) fn position() -> (Option<Arc<Node>>, u64) {
    with_state(ThreadState::position).unwrap_or((None, 0))
}

pub(crate) fn enter_poll(node: Arc<Node>, task: u64) -> Option<PollScope> {
    with_state(|t| t.enter_poll(node, task))
}

pub(crate) fn leave_poll(scope: PollScope) {
    with_state(|t| t.leave_poll(scope));
}

/// Writes an async frame's event from this thread.
pub(crate) fn emit(name: &str, depth: u32, task: u64, now: u64, event: Event) {
    let cfg = config::get();
    let written = with_state(|t| {
        let mut data = lock(&t.data);
        t.emit(&mut data, cfg, name, depth as usize, task, now, event);
    });
    if written.is_none() {
        orphan(cfg, name, now, depth as usize, task, event);
    }
}

/// Writes out every thread's buffer: at process exit and when a panic starts.
pub(crate) fn flush_all() {
    let threads: Vec<Arc<ThreadState>> = lock(&REGISTRY).iter().filter_map(Weak::upgrade).collect();
    for t in threads {
        t.flush();
    }
}

/// From now on lines are written as they happen: the process is exiting and no buffer will be
/// written out later.
pub(crate) fn exiting() {
    EXITING.store(true, Ordering::Relaxed);
    flush_all();
}

/// The current thread's chain of traced fns, outermost first.
pub(crate) fn current_chain() -> Vec<&'static str> {
    with_state(ThreadState::chain).unwrap_or_default()
}

/// An event on a thread whose state is already gone (a traced fn called from another
/// thread-local's destructor): written at once, never dropped.
fn orphan(cfg: &Config, name: &str, now: u64, depth: usize, task: u64, event: Event) {
    if cfg.silent {
        return;
    }
    let mut buf = Vec::new();
    let record = Record {
        who: Who {
            thread: 0,
            thread_name: None,
            task,
        },
        depth,
        name,
        ts_ns: now,
        event,
    };
    format::line(&mut buf, cfg.format, cfg.color, &record);
    sink::write(&buf);
}

/// One traced call: created on entry, writes the exit when dropped, on every path out of the fn.
pub struct Guard {
    site: &'static Site,
    start_ns: u64,
    /// Its place on the thread's stack.
    index: u32,
    /// Its depth in the tree it belongs to (the thread's, or a task's).
    depth: u32,
    task: u64,
}

impl Guard {
    /// Opens a frame. Called by generated code only.
    #[inline]
    pub fn enter(site: &'static Site) -> Guard {
        let cfg = config::get();
        let now = clock::now_ns();
        let (index, depth, task) = LOCAL
            .try_with(|l| l.0.enter(cfg, site, now))
            .unwrap_or_else(|_| {
                orphan(cfg, site.name, now, 0, 0, Event::Enter);
                (0, 0, 0)
            });
        Guard {
            site,
            start_ns: now,
            index,
            depth,
            task,
        }
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let cfg = config::get();
        let now = clock::now_ns();
        let elapsed_ns = now.saturating_sub(self.start_ns);
        let event = Event::Exit {
            elapsed_ns,
            busy_ns: elapsed_ns,
            unwinding: std::thread::panicking(),
            cancelled: false,
        };
        if LOCAL.try_with(|l| l.0.exit(cfg, self, now, event)).is_err() {
            orphan(
                cfg,
                self.site.name,
                now,
                self.depth as usize,
                self.task,
                event,
            );
        }
    }
}
