//! Per-thread state: the thread's record ring, its stack of open sync frames, and the traced
//! future it is polling (whose task its frames then belong to); and the guard of a sync frame.
//!
//! The hot path touches only this thread's state: no lock, no atomic read-modify-write. Records
//! are rendered to text when the ring fills, when an outermost call returns a while after the
//! last write (print mode), when the thread ends, at exit and when a panic starts.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::__private::Site;
use crate::config::{self, Config, Mode};
use crate::format;
use crate::ring::{Rec, RenderState, Ring, CANCELLED, KIND_BUSY, KIND_ENTER, KIND_EXIT, UNWINDING};
use crate::{clock, filter, sink};

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
/// Every thread that traced, by number and name, for naming tracks.
static THREADS: Mutex<Vec<(u32, Option<Box<str>>)>> = Mutex::new(Vec::new());
/// Every live thread's ring, so that the exit and panic hooks can render them all.
static REGISTRY: Mutex<Vec<Weak<Ring>>> = Mutex::new(Vec::new());
/// Set once the process is exiting: from then on every record is rendered at once.
static EXITING: AtomicBool = AtomicBool::new(false);

/// A traced future's place in its task's tree: immutable and shared, so that each child keeps
/// its own parent however the children of one poll are interleaved.
pub(crate) struct Node {
    pub site: &'static Site,
    pub parent: Option<Arc<Node>>,
    pub depth: u32,
    /// Ticks at its first poll.
    pub start: u64,
    /// Ticks its children took, for self time.
    pub child: std::sync::atomic::AtomicU64,
}

/// An open sync frame on this thread's stack.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    pub site: &'static Site,
    pub start: u64,
    /// Ticks its children took, for self time.
    pub child: u64,
}

/// Which tree frames opened now belong to.
struct Ctx {
    /// The traced future being polled on this thread, if any. Sync frames from `mark` up nest
    /// under it, in its task; frames below `mark` belong to whoever called the poll.
    base: Option<Arc<Node>>,
    task: u64,
    mark: usize,
}

/// What a poll replaced, to be put back when it returns (or unwinds).
pub(crate) struct PollScope {
    ctx: Ctx,
}

struct Local {
    /// The process's configuration, kept here so the hot path reads no global.
    cfg: &'static Config,
    ring: Arc<Ring>,
    // Only this thread touches these, and never across a call that could re-enter.
    stack: UnsafeCell<Vec<Frame>>,
    ctx: UnsafeCell<Ctx>,
    last_flush: Cell<u64>,
    /// Per-call analysis (summary, folded stacks, focus), when asked for.
    stats: Option<Arc<Mutex<crate::analysis::Stats>>>,
}

thread_local! {
    static LOCAL: Local = Local::new();
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn depth_below(base: &Option<Arc<Node>>) -> usize {
    base.as_ref().map_or(0, |n| n.depth as usize + 1)
}

impl Local {
    fn new() -> Self {
        let cfg = config::get();
        let ring = Arc::new(Ring::new(
            NEXT_THREAD.fetch_add(1, Ordering::Relaxed),
            std::thread::current().name().map(Into::into),
            cfg.capacity,
        ));
        lock(&THREADS).push((ring.thread, ring.name.clone()));
        let mut registry = lock(&REGISTRY);
        registry.retain(|w| w.strong_count() > 0);
        registry.push(Arc::downgrade(&ring));
        drop(registry);
        Local {
            cfg,
            stats: cfg.analyze.then(crate::analysis::register),
            ring,
            stack: UnsafeCell::new(Vec::with_capacity(64)),
            ctx: UnsafeCell::new(Ctx {
                base: None,
                task: 0,
                mark: 0,
            }),
            last_flush: Cell::new(clock::ticks()),
        }
    }

    /// Opens a sync frame; returns its stack index, depth, task and whether it is recorded.
    #[inline]
    fn enter(&self, site: &'static Site, ts: u64) -> (u32, u32, u64, bool) {
        let cfg = self.cfg;
        // SAFETY: only this thread reaches its `Local`, and nothing called while these
        // references live can re-enter tracing.
        let stack = unsafe { &mut *self.stack.get() };
        let ctx = unsafe { &*self.ctx.get() };
        let index = stack.len();
        let depth = depth_below(&ctx.base) + (index - ctx.mark);
        let task = ctx.task;
        stack.push(Frame {
            site,
            start: ts,
            child: 0,
        });
        let recorded =
            filter::site_state(site, cfg) & filter::EXCLUDED == 0 && depth as u32 <= cfg.max_depth;
        if recorded {
            self.record(
                cfg,
                Rec {
                    ts,
                    site,
                    aux: 0,
                    task: task as u32,
                    meta: depth as u32 | KIND_ENTER,
                },
                false,
            );
        }
        (index as u32, depth as u32, task, recorded)
    }

    #[inline]
    fn exit(&self, guard: &Guard, ts: u64, unwinding: bool) {
        let cfg = self.cfg;
        // SAFETY: as in `enter`.
        let stack = unsafe { &mut *self.stack.get() };
        let ctx = unsafe { &*self.ctx.get() };
        let index = guard.index as usize;
        let elapsed = ts.wrapping_sub(guard.start);
        let child = stack.get(index).map_or(0, |f| f.child);
        if let Some(stats) = &self.stats {
            let chain = || chain_frames(ctx, &stack[ctx.mark..(index + 1).min(stack.len())]);
            crate::analysis::on_exit(
                stats,
                cfg,
                &self.ring,
                guard.site,
                guard.depth,
                guard.task,
                ts,
                elapsed,
                child,
                &chain,
            );
        }
        // Truncating rather than popping keeps the stack right even if an inner guard was leaked.
        stack.truncate(index);
        // The caller's self time excludes this call.
        if index > ctx.mark {
            stack[index - 1].child += elapsed;
        } else if let Some(base) = &ctx.base {
            base.child.fetch_add(elapsed, Ordering::Relaxed);
        }
        if guard.recorded {
            let flags = if unwinding { UNWINDING } else { 0 };
            let rec = Rec {
                ts,
                site: guard.site,
                aux: guard.start,
                task: guard.task as u32,
                meta: guard.depth | KIND_EXIT | flags,
            };
            self.record(cfg, rec, guard.depth == 0 && guard.task == 0);
        }
    }

    #[inline]
    fn record(&self, cfg: &Config, rec: Rec, outermost_exit: bool) {
        if self.ring.room() == 0 {
            self.flush();
        }
        self.ring.push(rec);
        self.after_record(cfg, rec.ts, outermost_exit);
    }

    #[inline]
    fn after_record(&self, cfg: &Config, ts: u64, outermost_exit: bool) {
        let due = cfg.mode == Mode::Print
            && outermost_exit
            && ts.wrapping_sub(self.last_flush.get()) >= cfg.flush_every_ticks;
        if due || EXITING.load(Ordering::Relaxed) {
            self.flush();
            self.last_flush.set(ts);
        }
    }

    fn flush(&self) {
        self.ring.drain(true, true, &mut render_to_sink);
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Renders records as the configured text and writes them out.
fn render_to_sink(ring: &Ring, state: &mut RenderState, recs: &[Rec]) {
    let cfg = config::get();
    // The buffer is kept between drains: no reallocation once it has grown to a drain's text.
    let mut out = std::mem::take(&mut state.scratch);
    out.clear();
    format::render(
        &mut out,
        cfg,
        ring.thread,
        ring.name.as_deref(),
        state,
        recs,
    );
    sink::write(&out);
    state.scratch = out;
}

/// Every thread that traced, by number and name.
pub(crate) fn threads_seen() -> Vec<(u32, Option<Box<str>>)> {
    lock(&THREADS).clone()
}

/// Every live thread's ring.
pub(crate) fn rings() -> Vec<Arc<Ring>> {
    lock(&REGISTRY).iter().filter_map(Weak::upgrade).collect()
}

/// Renders every thread's records: at process exit and when a panic starts.
pub(crate) fn flush_all(wait: bool) {
    for ring in rings() {
        ring.drain(false, wait, &mut render_to_sink);
    }
}

/// From now on records are rendered as they happen: the process is exiting and nothing would
/// render them later.
pub(crate) fn exiting() {
    EXITING.store(true, Ordering::Relaxed);
    flush_all(true);
}

/// The current thread's chain of traced fns, outermost first: the task's (when polling a traced
/// future) and then this thread's sync frames inside it.
pub(crate) fn current_chain() -> Vec<&'static str> {
    LOCAL
        .try_with(|l| {
            // SAFETY: on this thread; the references end with the closure.
            let (ctx, stack) = unsafe { (&mut *l.ctx.get(), &mut *l.stack.get()) };
            let mut names = Vec::new();
            let mut node = ctx.base.as_deref();
            while let Some(n) = node {
                names.push(n.site.name);
                node = n.parent.as_deref();
            }
            names.reverse();
            names.extend(stack[ctx.mark..].iter().map(|f| f.site.name));
            names
        })
        .unwrap_or_default()
}

/// Where a traced future first polled here sits: under the future being polled (and any sync
/// frames it opened since), in that future's task; or nowhere, starting a new task.
pub(crate) fn position() -> (Option<Arc<Node>>, u64) {
    LOCAL
        .try_with(|l| {
            // SAFETY: on this thread; the references end with the closure.
            let (ctx, stack) = unsafe { (&mut *l.ctx.get(), &mut *l.stack.get()) };
            // Outside any traced future a future starts a task of its own: tasks do not nest
            // under the sync frames of whoever happens to poll them.
            let Some(base) = ctx.base.clone() else {
                return (None, 0);
            };
            let mut parent = Some(base);
            for frame in &stack[ctx.mark..] {
                let depth = depth_below(&parent) as u32;
                parent = Some(Arc::new(Node {
                    site: frame.site,
                    parent,
                    depth,
                    start: frame.start,
                    child: std::sync::atomic::AtomicU64::new(0),
                }));
            }
            (parent, ctx.task)
        })
        .unwrap_or((None, 0))
}

pub(crate) fn enter_poll(node: Arc<Node>, task: u64) -> Option<PollScope> {
    LOCAL
        .try_with(|l| {
            // SAFETY: on this thread; the references end with the closure.
            let (ctx, stack) = unsafe { (&mut *l.ctx.get(), &mut *l.stack.get()) };
            let mark = stack.len();
            let previous = std::mem::replace(
                ctx,
                Ctx {
                    base: Some(node),
                    task,
                    mark,
                },
            );
            PollScope { ctx: previous }
        })
        .ok()
}

pub(crate) fn leave_poll(scope: PollScope) {
    let _ = LOCAL.try_with(|l| {
        // SAFETY: on this thread; the references end with the closure.
        let (ctx, stack) = unsafe { (&mut *l.ctx.get(), &mut *l.stack.get()) };
        // A frame leaked inside the poll must not outlive it.
        stack.truncate(ctx.mark);
        *ctx = scope.ctx;
    });
}

/// Records an async frame's enter or exit from this thread. An exit carries the time spent
/// inside polls in a second record.
pub(crate) fn record_async(
    site: &'static Site,
    depth: u32,
    task: u64,
    ts: u64,
    exit: Option<AsyncExit>,
) {
    let cfg = config::get();
    if filter::site_state(site, cfg) & filter::EXCLUDED != 0 || depth > cfg.max_depth {
        return;
    }
    let rec = Rec {
        ts,
        site,
        aux: exit.as_ref().map_or(0, |e| e.start),
        task: task as u32,
        meta: depth
            | match &exit {
                None => KIND_ENTER,
                Some(e) => {
                    KIND_EXIT
                        | if e.unwinding { UNWINDING } else { 0 }
                        | if e.cancelled { CANCELLED } else { 0 }
                }
            },
    };
    let done = LOCAL.try_with(|l| match &exit {
        None => l.record(cfg, rec, false),
        Some(e) => {
            if l.ring.room() < 2 {
                l.flush();
            }
            let busy = Rec {
                ts,
                site,
                aux: e.busy,
                task: task as u32,
                meta: depth | KIND_BUSY,
            };
            l.ring.push2(rec, busy);
            l.after_record(cfg, ts, false);
        }
    });
    if done.is_err() {
        let mut recs = vec![rec];
        if let Some(e) = exit {
            recs.push(Rec {
                aux: e.busy,
                meta: depth | KIND_BUSY,
                ..rec
            });
        }
        orphan(&recs);
    }
}

/// How an async frame ended.
pub(crate) struct AsyncExit {
    pub start: u64,
    pub busy: u64,
    pub unwinding: bool,
    pub cancelled: bool,
}

/// Records of a thread whose state is already gone (a traced fn called from another
/// thread-local's destructor): rendered at once, never dropped.
fn orphan(recs: &[Rec]) {
    let cfg = config::get();
    if cfg.quiet_events {
        return;
    }
    let mut out = Vec::new();
    format::render(&mut out, cfg, 0, None, &mut RenderState::default(), recs);
    sink::write(&out);
}

/// One traced call: created on entry, records the exit when dropped, on every path out of the fn.
pub struct Guard {
    site: &'static Site,
    start: u64,
    /// Its place on the thread's stack.
    index: u32,
    /// Its depth in the tree it belongs to (the thread's, or a task's).
    depth: u32,
    task: u64,
    /// Whether its enter was recorded (`TRACE_FILTER` may leave it out).
    recorded: bool,
    /// The `tracing` span of this call, entered for as long as the call runs.
    #[cfg(feature = "tracing")]
    span: Option<tracing::span::EnteredSpan>,
}

impl Guard {
    /// Opens a frame. Called by generated code only.
    #[inline]
    pub fn enter(site: &'static Site) -> Guard {
        // The timestamp is read once the thread's state exists: its first creation sets up the
        // process (and calibrates the clock), which must not count inside the call.
        let (ts, index, depth, task, recorded) = LOCAL
            .try_with(|l| {
                let ts = clock::ticks();
                let (index, depth, task, recorded) = l.enter(site, ts);
                (ts, index, depth, task, recorded)
            })
            .unwrap_or_else(|_| {
                config::get();
                let ts = clock::ticks();
                orphan(&[Rec {
                    ts,
                    site,
                    aux: 0,
                    task: 0,
                    meta: KIND_ENTER,
                }]);
                (ts, 0, 0, 0, false)
            });
        Guard {
            site,
            start: ts,
            index,
            depth,
            task,
            recorded,
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// Opens a frame and the `tracing` span `make_span` builds from its depth and task.
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn enter_span(
        site: &'static Site,
        make_span: impl FnOnce(u32, u64) -> tracing::Span,
    ) -> Guard {
        let mut guard = Guard::enter(site);
        guard.span = Some(make_span(guard.depth, guard.task).entered());
        guard
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let ts = clock::ticks();
        let unwinding = std::thread::panicking();
        if LOCAL.try_with(|l| l.exit(self, ts, unwinding)).is_err() {
            orphan(&[Rec {
                ts,
                site: self.site,
                aux: self.start,
                task: self.task as u32,
                meta: self.depth | KIND_EXIT | if unwinding { UNWINDING } else { 0 },
            }]);
        }
    }
}

/// The chain of an exiting frame, outermost first, with the ticks each was entered at: the
/// task's traced futures, then this thread's sync frames up to and including the frame.
fn chain_frames(ctx: &Ctx, sync: &[Frame]) -> Vec<(&'static Site, u64)> {
    let mut out = Vec::new();
    let mut node = ctx.base.as_deref();
    while let Some(n) = node {
        out.push((n.site, n.start));
        node = n.parent.as_deref();
    }
    out.reverse();
    out.extend(sync.iter().map(|f| (f.site, f.start)));
    out
}

/// The chain of a traced future (its node included), for the analysis of its exit.
pub(crate) fn node_chain(node: &Node) -> Vec<(&'static Site, u64)> {
    let mut out = Vec::new();
    let mut n = Some(node);
    while let Some(x) = n {
        out.push((x.site, x.start));
        n = x.parent.as_deref();
    }
    out.reverse();
    out
}

/// Records an async exit's analysis from this thread.
pub(crate) fn analyze_async_exit(node: &Node, task: u64, ts: u64, elapsed: u64) {
    let cfg = config::get();
    if let Some(parent) = &node.parent {
        parent.child.fetch_add(elapsed, Ordering::Relaxed);
    }
    if !cfg.analyze {
        return;
    }
    let child = node.child.load(Ordering::Relaxed);
    let _ = LOCAL.try_with(|l| {
        if let Some(stats) = &l.stats {
            let chain = || node_chain(node);
            crate::analysis::on_exit(
                stats, cfg, &l.ring, node.site, node.depth, task, ts, elapsed, child, &chain,
            );
        }
    });
}

/// Frames open on other threads and in other tasks than the caller's, described; empty when
/// there are none. Renders every ring first, so that what is open is up to date.
pub(crate) fn open_elsewhere() -> String {
    flush_all(true);
    let (me, my_task) = LOCAL
        .try_with(|l| {
            // SAFETY: on this thread; the reference ends with the closure.
            let ctx = unsafe { &*l.ctx.get() };
            (
                Some(l.ring.thread),
                (ctx.task != 0).then_some(ctx.task as u32),
            )
        })
        .unwrap_or((None, None));
    let trees = crate::open::collect(me, my_task);
    crate::open::describe(&trees)
}
