//! Per-thread capture state: the thread's buffer, its stack of open sync frames, and the traced
//! future it is polling (whose task its frames then belong to); and the guard of a sync frame.
//!
//! Re-entry is impossible by construction. Every access to a thread's state goes through
//! [`with_local`], which first checks and sets the thread's busy flag and clears it after: a
//! traced call made while the runtime is working on that thread (a traced allocator called by
//! the runtime's own allocation, a traced `Drop` or `Debug` run by it) finds the flag set and is
//! not traced, only counted. No reference to the state outlives one `with_local` call, and the
//! state is never reached any other way.

use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::buffer::{self, SharedRef, Writer};
use super::clock;
use super::record::{self, Rec};
use super::site::Site;
use crate::config::{self, Config};

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
/// Calls not traced because the runtime was busy on their thread.
static SKIPPED: AtomicU64 = AtomicU64::new(0);
/// Every thread's buffer, for the collector.
static REGISTRY: Mutex<Vec<SharedRef>> = Mutex::new(Vec::new());
/// Records of threads whose state is already gone (a traced fn called from another
/// thread-local's destructor), and their ids.
static ORPHANS: Mutex<Vec<Rec>> = Mutex::new(Vec::new());
static NEXT_ORPHAN: AtomicU64 = AtomicU64::new(1);
/// Chunks a thread may have waiting for the collector: handing over the last of them, it
/// waits for the collector. With the one being filled and the buffer's spares, a thread holds
/// at most `config::CHUNKS_PER_THREAD` chunks.
const MAX_PENDING: usize = config::CHUNKS_PER_THREAD - 1 - buffer::KEEP_FREE;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A traced future's place in its task's tree: immutable and shared, so that each child keeps
/// its own parent however the children of one poll are interleaved.
pub(crate) struct Node {
    pub site: &'static Site,
    /// Its frame id (the nearest recorded ancestor's when its own enter was filtered out).
    pub id: u64,
    pub parent: Option<Arc<Node>>,
    pub depth: u32,
    /// For the root of a task or of an adopting thread: the frame it was created in.
    pub origin: Option<Arc<Node>>,
    /// How many spawns the chain ending here crosses.
    pub spawns: u32,
}

/// The most spawns a chain keeps: a task that spawns its successor, which spawns its own, and
/// so on, would otherwise keep every predecessor alive and make each link longer to declare.
/// A root created deeper starts a chain of its own.
pub(crate) const MAX_SPAWNS: u32 = 32;

/// What a root linked to `origin` keeps as its origin: `origin` unless its chain already
/// crosses [`MAX_SPAWNS`] spawns.
fn within_reach(origin: Option<Arc<Node>>) -> Option<Arc<Node>> {
    origin.filter(|o| o.spawns < MAX_SPAWNS)
}

/// The spawns a node built under `parent`, linked to `origin`, crosses.
fn spawns_of(parent: &Option<Arc<Node>>, origin: &Option<Arc<Node>>) -> u32 {
    match (parent, origin) {
        (Some(p), _) => p.spawns,
        (None, Some(o)) => o.spawns + 1,
        (None, None) => 0,
    }
}

impl Drop for Node {
    /// Lets go of the chain above one node at a time: a long chain dropped by recursion would
    /// overflow the stack.
    fn drop(&mut self) {
        // Nodes this drop is the last owner of; nothing is allocated while links are shared
        // (the common case: a frame's callers outlive it).
        let mut last: Vec<Node> = Vec::new();
        self.let_go(&mut last);
        // Each popped node is dropped with its links already taken: no recursion.
        while let Some(mut n) = last.pop() {
            n.let_go(&mut last);
        }
    }
}

impl Node {
    /// Takes this node's links, keeping on `last` the nodes no one else holds.
    #[inline(always)]
    fn let_go(&mut self, last: &mut Vec<Node>) {
        if let Some(n) = self.parent.take().and_then(Arc::into_inner) {
            last.push(n);
        }
        if let Some(n) = self.origin.take().and_then(Arc::into_inner) {
            last.push(n);
        }
    }
}

impl Node {
    /// Whether the collector knows this frame by its id: it was recorded (an unrecorded frame
    /// carries its nearest recorded ancestor's id, or 0 without one).
    fn recorded(&self) -> bool {
        self.id != 0 && self.parent.as_ref().is_none_or(|p| p.id != self.id)
    }

    /// The nearest frame of this chain (itself first, then its callers, across spawns) that
    /// the collector knows.
    pub fn nearest_recorded(self: &Arc<Node>) -> Option<&Arc<Node>> {
        let mut at = self;
        while !at.recorded() {
            at = at.parent.as_ref().or(at.origin.as_ref())?;
        }
        Some(at)
    }

    /// Names of the causal chain ending here, outermost first, and where spawns cross it
    /// (indices of the first name after each spawn).
    pub fn causal_names(&self, names: &mut Vec<&'static str>, spawns: &mut Vec<usize>) {
        let mut tree = Vec::new();
        let mut at = Some(self);
        let mut root = self;
        while let Some(n) = at {
            tree.push(n.site.name());
            root = n;
            at = n.parent.as_deref();
        }
        if let Some(origin) = &root.origin {
            origin.causal_names(names, spawns);
            spawns.push(names.len());
        }
        names.extend(tree.into_iter().rev());
    }
}

/// An open sync frame on this thread's stack.
#[derive(Clone, Copy)]
struct Frame {
    site: &'static Site,
    /// Its id, or the nearest recorded ancestor's when it was not recorded.
    id: u64,
}

/// Which tree frames opened now belong to.
struct Ctx {
    /// The traced future being polled on this thread, if any. Sync frames from `mark` up nest
    /// under it, in its task; frames below `mark` belong to whoever called the poll.
    base: Option<Arc<Node>>,
    task: u64,
    mark: usize,
    /// The origin adopted by this thread (`Origin::adopt`), or by the linked block being polled
    /// as a task of its own: root frames opened at the bottom of the thread's stack (from
    /// `mark` up) are linked to it.
    adopted: Option<Arc<Node>>,
    /// While a linked block runs as a task of its own, when it was created (its roots' links
    /// are stamped with it): frames opened without a parent are that task's roots (`task` is
    /// given out by the first of them, 0 until then).
    linked: Option<u64>,
}

impl Ctx {
    /// The task of a root opened now inside a linked block, given out on first use.
    fn linked_task(&mut self) -> u64 {
        if self.task == 0 {
            self.task = NEXT_TASK.fetch_add(1, Ordering::Relaxed);
        }
        self.task
    }
}

/// What a poll replaced, to be put back when it returns (or unwinds).
pub(crate) struct PollScope {
    ctx: Ctx,
}

pub(crate) struct Local {
    cfg: &'static Config,
    writer: Writer,
    /// The last frame id this thread gave out.
    last_id: u64,
    stack: Vec<Frame>,
    ctx: Ctx,
    /// The innermost sync frame last made into a node: futures made in a loop in one frame
    /// share it instead of each building the frames' nodes again.
    last_node: Option<Arc<Node>>,
    /// The chain this thread last declared to the collector, innermost first: the collector
    /// keeps those frames for this thread until it declares another, so links to them need no
    /// declaration again.
    held: Vec<u64>,
}

struct Slot(UnsafeCell<Option<Local>>);

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
    static LOCAL: Slot = const { Slot(UnsafeCell::new(None)) };
}

/// Clears the busy flag when the runtime's work on this thread ends, even by unwinding.
struct Busy;

impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        BUSY.with(|b| b.set(false));
    }
}

/// Sets the busy flag unless it is set already.
#[inline(always)]
fn claim() -> Option<Busy> {
    let claimed = BUSY.with(|b| {
        if b.get() {
            false
        } else {
            b.set(true);
            true
        }
    });
    // Not `then_some(Busy)`: that would build (and drop, clearing the flag) a `Busy` even
    // when the flag was already set by someone else.
    if claimed {
        Some(Busy)
    } else {
        None
    }
}

/// Counts a traced call left out because the runtime was busy on its thread.
#[cold]
fn skip() {
    SKIPPED.fetch_add(1, Ordering::Relaxed);
}

/// How the runtime's own threads are named: nothing they run is traced, not even what the
/// thread's start-up runs before the thread's own code.
pub(crate) const RUNTIME_THREAD_PREFIX: &str = "trace-runtime ";

/// Marks the calling thread as the runtime's own (collector, signal thread): nothing it calls
/// is ever traced.
pub(crate) fn runtime_thread() {
    BUSY.with(|b| b.set(true));
}

/// Whether this thread is one of the runtime's own, by its name.
fn is_runtime_thread() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|n| n.starts_with(RUNTIME_THREAD_PREFIX))
}

/// Why `with_local` could not run.
pub(crate) enum Unavailable {
    /// The runtime is already working on this thread: the call is not traced.
    Busy,
    /// The thread's state has been destroyed (thread-local destructors are running).
    Gone,
}

/// Runs `f` on this thread's state, creating it (and starting the runtime with `start`) on the
/// thread's first traced call. The only way to reach the state.
#[inline(always)]
fn with_local<R>(start: fn(), f: impl FnOnce(&mut Local) -> R) -> Result<R, Unavailable> {
    let Some(busy) = claim() else {
        return Err(Unavailable::Busy);
    };
    let out = LOCAL.try_with(|slot| {
        // SAFETY: the busy flag was clear and is now set on this thread, and every reference
        // to the slot is made here and ends before the flag is cleared: no other reference to
        // it is live. Thread-locals are reached by their own thread only.
        let local = unsafe { &mut *slot.0.get() };
        let local = match local {
            Some(l) => l,
            None if is_runtime_thread() => return None,
            None => local.insert(Local::new(start)),
        };
        Some(f(local))
    });
    match out {
        Ok(Some(r)) => {
            drop(busy);
            Ok(r)
        }
        Ok(None) => {
            // One of the runtime's threads: it stays busy for good.
            std::mem::forget(busy);
            Err(Unavailable::Busy)
        }
        Err(_) => {
            drop(busy);
            Err(Unavailable::Gone)
        }
    }
}

/// Like `with_local`, without creating the state: `None` when this thread never traced.
fn peek_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    let busy = claim()?;
    let out = LOCAL
        .try_with(|slot| {
            // SAFETY: as in `with_local`.
            unsafe { &mut *slot.0.get() }.as_mut().map(f)
        })
        .ok()
        .flatten();
    drop(busy);
    out
}

impl Drop for Slot {
    fn drop(&mut self) {
        // Runs as the thread ends. Whatever runs here is the runtime's work.
        let _busy = claim();
        if let Some(local) = self.0.get_mut() {
            // The collector reads the current chunk too: ending is enough (no fresh chunk).
            local.writer.end();
        }
    }
}

fn depth_below(base: &Option<Arc<Node>>) -> usize {
    base.as_ref().map_or(0, |n| n.depth as usize + 1)
}

impl Local {
    #[cold]
    fn new(start: fn()) -> Self {
        start();
        let cfg = config::get();
        let thread = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
        let writer = Writer::new(
            thread,
            std::thread::current().name().map(Into::into),
            cfg.chunk,
        );
        lock(&REGISTRY).push(writer.shared().clone());
        Local {
            cfg,
            writer,
            last_id: record::id_base(thread),
            stack: Vec::with_capacity(64),
            ctx: Ctx {
                base: None,
                task: 0,
                mark: 0,
                adopted: None,
                linked: None,
            },
            last_node: None,
            held: Vec::new(),
        }
    }

    /// The innermost open frame as a node (sync frames above the polled future made into
    /// nodes on the way), or none outside any frame.
    fn innermost_node(&mut self) -> Option<Arc<Node>> {
        let top = self
            .stack
            .len()
            .checked_sub(1)
            .filter(|&i| i >= self.ctx.mark);
        let Some(top) = top else {
            return self.ctx.base.clone();
        };
        let frame = self.stack[top];
        let depth = (depth_below(&self.ctx.base) + top - self.ctx.mark) as u32;
        // Ids are unique per recorded frame; an unrecorded one carries its recorded ancestor's,
        // so the site and depth must match too (and then the node is the same in all but name).
        if let Some(n) = &self.last_node {
            // Id 0 (no recorded frame below) names no frame: never a hit.
            if n.id == frame.id
                && frame.id != 0
                && std::ptr::eq(n.site, frame.site)
                && n.depth == depth
            {
                return Some(n.clone());
            }
        }
        let node = self.build_node();
        self.last_node = node.clone();
        node
    }

    /// Makes the open sync frames above the polled future into nodes, innermost returned.
    fn build_node(&self) -> Option<Arc<Node>> {
        let mut parent = self.ctx.base.clone();
        for i in self.ctx.mark..self.stack.len() {
            let frame = self.stack[i];
            let depth = depth_below(&parent) as u32;
            // The bottom frame of a plain thread (or of a linked block's task) carries the
            // adopted origin.
            let origin = if parent.is_none() && i == self.ctx.mark {
                within_reach(self.ctx.adopted.clone())
            } else {
                None
            };
            let spawns = spawns_of(&parent, &origin);
            parent = Some(Arc::new(Node {
                site: frame.site,
                id: frame.id,
                parent,
                depth,
                origin,
                spawns,
            }));
        }
        parent
    }

    /// Tells the collector that this thread's root frames are from now on linked to `now`
    /// (none: to nothing) instead of `before`: a `LINK` record of root 0, after the chain's
    /// declaration. Said once per adoption, so that entering a frame never checks for one.
    fn announce_adopted(&mut self, before: Option<&Arc<Node>>, now: Option<&Arc<Node>>) {
        let Some(site) = now.or(before).map(|n| n.site) else {
            return;
        };
        let ts = clock::ticks();
        let now = now.and_then(|n| n.nearest_recorded());
        if let Some(origin) = now {
            if self.held.first() != Some(&origin.id) {
                self.declare(origin, ts);
            }
        }
        self.record(Rec {
            ts,
            id: record::LINK | record::ADOPT,
            site: site as *const Site as usize,
            aux: now.map_or(0, |n| n.id),
        });
    }

    /// Links a root frame to the frame that created it (a `LINK` record), first telling the
    /// collector about that frame's chain unless this thread's last declaration covered it.
    fn link(&mut self, root: u64, root_site: &'static Site, origin: &Arc<Node>, created: u64) {
        let Some(origin) = origin.nearest_recorded() else {
            return;
        };
        if self.held.first() != Some(&origin.id) {
            self.declare(origin, created);
        }
        self.record(Rec {
            ts: created,
            id: root | record::LINK,
            site: root_site as *const Site as usize,
            aux: origin.id,
        });
    }

    /// Declares the chain that created a root, which the collector may no longer know (it may
    /// have exited): `DECLARE` records outermost first for every frame of the chain (spawns
    /// crossed) that the last declaration did not cover, then `origin` itself flagged `HOLD`
    /// (the collector keeps it, and so its chain, for this thread until the next `HOLD`), and
    /// a `LINK` for each root the new part crosses.
    #[cold]
    fn declare(&mut self, origin: &Arc<Node>, created: u64) {
        let mut fresh: Vec<&Node> = Vec::new();
        let mut links: Vec<(u64, &'static Site, u64)> = Vec::new();
        let mut covered = self.held.len();
        // Innermost first, up to the first frame the held chain has (and so everything above).
        let mut at: Option<&Node> = Some(origin);
        while let Some(n) = at {
            if let Some(i) = self.held.iter().position(|&id| id == n.id) {
                covered = i;
                break;
            }
            // Frames the collector cannot know by id (filtered out) are passed over.
            let recorded = n.recorded();
            if recorded {
                fresh.push(n);
            }
            match (&n.parent, &n.origin) {
                (Some(p), _) => at = Some(p),
                (None, Some(o)) => {
                    let to = o.nearest_recorded();
                    if let (true, Some(to)) = (recorded, to) {
                        links.push((n.id, n.site, to.id));
                    }
                    at = Some(o);
                }
                (None, None) => at = None,
            }
        }
        let ids: Vec<u64> = fresh.iter().map(|n| n.id).collect();
        for n in fresh.iter().skip(1).rev() {
            self.declare_one(n, created, 0);
        }
        self.declare_one(origin, created, record::HOLD);
        for (id, site, to) in links.into_iter().rev() {
            self.record(Rec {
                ts: created,
                id: id | record::LINK,
                site: site as *const Site as usize,
                aux: to,
            });
        }
        let mut held = ids;
        held.extend_from_slice(&self.held[covered..]);
        self.held = held;
    }

    fn declare_one(&mut self, n: &Node, created: u64, flags: u64) {
        self.record(Rec {
            ts: created,
            id: n.id | record::DECLARE | flags,
            site: n.site as *const Site as usize,
            aux: n.parent.as_ref().map_or(0, |p| p.id),
        });
    }

    #[inline(always)]
    fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    #[inline(always)]
    fn admits(&self, site: &'static Site, depth: usize) -> bool {
        let cfg = self.cfg;
        !site.excluded(|name| cfg.filter.admits(name)) && depth as u32 <= cfg.max_depth
    }

    /// Opens a sync frame.
    #[inline(always)]
    fn enter(&mut self, site: &'static Site, ts: u64) -> Guard {
        let index = self.stack.len();
        let (id, depth, recorded) = if index > self.ctx.mark {
            let depth = depth_below(&self.ctx.base) + (index - self.ctx.mark);
            let parent = self.stack[index - 1].id;
            let recorded = self.admits(site, depth);
            let id = if recorded {
                let id = self.next_id();
                self.record(Rec {
                    ts,
                    id: id | record::ENTER,
                    site: site as *const Site as usize,
                    aux: parent,
                });
                id
            } else {
                parent
            };
            (id, depth, recorded)
        } else {
            self.enter_first(site, ts)
        };
        self.stack.push(Frame { site, id });
        Guard {
            site,
            id,
            index: index as u32,
            depth: depth as u32,
            task: self.ctx.task,
            recorded,
            state: GuardState::OnStack,
            not_send: PhantomData,
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// Records the first sync frame of the current tree (its id, depth and whether it was
    /// recorded): under the traced future being polled, or a root. A root opened while a
    /// linked block runs as a task of its own is that task's root, linked to where the block
    /// was made. Kept out of `enter`, whose nested calls are the hot path.
    #[inline(never)]
    fn enter_first(&mut self, site: &'static Site, ts: u64) -> (u64, usize, bool) {
        let depth = depth_below(&self.ctx.base);
        let parent = self.ctx.base.as_ref().map_or(0, |n| n.id);
        let recorded = self.admits(site, depth);
        if !recorded {
            return (parent, depth, false);
        }
        let id = self.next_id();
        let (kind, aux) = if let (0, Some(created)) = (parent, self.ctx.linked) {
            if let Some(origin) = self.ctx.adopted.clone() {
                self.link(id, site, &origin, created);
            }
            (record::TASK, self.ctx.linked_task())
        } else {
            (record::ENTER, parent)
        };
        self.record(Rec {
            ts,
            id: id | kind,
            site: site as *const Site as usize,
            aux,
        });
        (id, depth, true)
    }

    /// Whether `node`'s frame is open on this thread's stack, in the current tree: a future it
    /// created, polled here now, is being driven by it (awaited, `block_on`), not spawned.
    fn open_here(&self, node: &Node) -> bool {
        node.id != 0
            && self.stack[self.ctx.mark.min(self.stack.len())..]
                .iter()
                .any(|f| f.id == node.id && std::ptr::eq(f.site, node.site))
    }

    #[inline(always)]
    fn exit(&mut self, guard: &Guard, ts: u64, unwinding: bool) {
        // Truncating rather than popping keeps the stack right even if an inner guard leaked.
        self.stack.truncate(guard.index as usize);
        if guard.recorded {
            let flags = if unwinding { record::UNWINDING } else { 0 };
            self.record(Rec {
                ts,
                id: guard.id | record::EXIT | flags,
                site: guard.site as *const Site as usize,
                aux: 0,
            });
        }
    }

    #[inline(always)]
    fn record(&mut self, rec: Rec) {
        if self.writer.room() == 0 {
            self.hand_over();
        }
        self.writer.push(rec);
    }

    #[cold]
    fn hand_over(&mut self) {
        if closed() {
            // The run's trace is complete: what comes after it has nowhere to go.
            self.writer.discard();
            return;
        }
        let pending = self.writer.hand_over();
        wake_collector();
        if pending >= MAX_PENDING {
            self.wait_for_collector();
        }
    }

    /// Bounds memory when the collector falls behind: waits for it to catch up, but never for
    /// long, so a stalled collector (a blocked output) slows the program without hanging it.
    #[cold]
    fn wait_for_collector(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while self.writer.pending() > MAX_PENDING / 2 && std::time::Instant::now() < deadline {
            wake_collector();
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

/// The thread that collects, woken when a chunk is handed over.
static COLLECTOR: Mutex<Option<std::thread::Thread>> = Mutex::new(None);

fn wake_collector() {
    if let Some(t) = lock(&COLLECTOR).as_ref() {
        t.unpark();
    }
}

/// Names the collector thread, to be woken when buffers fill.
pub(crate) fn set_collector(thread: std::thread::Thread) {
    *lock(&COLLECTOR) = Some(thread);
}

/// Every thread's buffer, for the collector.
pub(crate) fn buffers() -> Vec<SharedRef> {
    lock(&REGISTRY).clone()
}

/// Forgets buffers the collector has read to the end of ended threads.
pub(crate) fn forget_buffers(done: &[SharedRef]) {
    lock(&REGISTRY).retain(|s| !done.iter().any(|d| buffer::same(d, s)));
}

/// Takes the records of threads whose state was gone.
pub(crate) fn take_orphans(out: &mut Vec<Rec>) {
    out.append(&mut lock(&ORPHANS));
}

/// How many calls were not traced because the runtime was busy on their thread.
pub(crate) fn skipped() -> u64 {
    SKIPPED.load(Ordering::Relaxed)
}

/// Records of a thread whose state is already gone: kept under a lock, never dropped.
fn orphan(rec: Rec) {
    let Some(_busy) = claim() else { return };
    lock(&ORPHANS).push(rec);
}

fn orphan_id() -> u64 {
    NEXT_ORPHAN.fetch_add(1, Ordering::Relaxed)
}

/// Where a guard's frame lives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GuardState {
    /// On this thread's stack.
    OnStack,
    /// Not opened: the runtime was busy on this thread when the call began.
    Untraced,
    /// Recorded as an orphan: the thread's state was already gone.
    Orphan,
}

/// One traced call: created on entry, records the exit when dropped, on every path out of the
/// fn. Never `Send`: a guard moved to another thread would close a frame on the wrong stack.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<trace_runtime::__private::Guard>();
/// ```
pub struct Guard {
    site: &'static Site,
    /// Its frame id (the parent's when not recorded).
    id: u64,
    /// Its place on the thread's stack.
    index: u32,
    /// Its depth in the tree it belongs to (the thread's, or a task's), and its task: the
    /// `tracing` span's fields.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    depth: u32,
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    task: u64,
    /// Whether its enter was recorded (`TRACE_FILTER` may leave it out).
    recorded: bool,
    state: GuardState,
    not_send: PhantomData<*const ()>,
    /// The `tracing` span of this call, entered for as long as the call runs.
    #[cfg(feature = "tracing")]
    span: Option<tracing::span::EnteredSpan>,
}

impl Guard {
    /// Opens a frame. Called by generated code only.
    #[inline]
    pub fn enter(site: &'static Site) -> Guard {
        // The timestamp is read once the thread's state exists: its creation starts the
        // process's runtime, which must not count inside the call.
        match with_local(site.start, |l| {
            let ts = clock::ticks();
            l.enter(site, ts)
        }) {
            Ok(guard) => guard,
            Err(Unavailable::Busy) => {
                skip();
                Guard::untraced(site)
            }
            Err(Unavailable::Gone) => {
                let id = orphan_id();
                orphan(Rec {
                    ts: clock::ticks(),
                    id: id | record::ENTER,
                    site: site as *const Site as usize,
                    aux: 0,
                });
                let mut guard = Guard::untraced(site);
                guard.id = id;
                guard.recorded = true;
                guard.state = GuardState::Orphan;
                guard
            }
        }
    }

    fn untraced(site: &'static Site) -> Guard {
        Guard {
            site,
            id: 0,
            index: 0,
            depth: 0,
            task: 0,
            recorded: false,
            state: GuardState::Untraced,
            not_send: PhantomData,
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
        if guard.recorded {
            guard.span = Some(make_span(guard.depth, guard.task).entered());
        }
        guard
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let unwinding = std::thread::panicking();
        match self.state {
            GuardState::OnStack => {
                let _ = with_local(self.site.start, |l| {
                    let ts = clock::ticks();
                    l.exit(self, ts, unwinding)
                });
            }
            GuardState::Untraced => {}
            GuardState::Orphan => {
                let flags = if unwinding { record::UNWINDING } else { 0 };
                orphan(Rec {
                    ts: clock::ticks(),
                    id: self.id | record::EXIT | flags,
                    site: self.site as *const Site as usize,
                    aux: 0,
                });
            }
        }
    }
}

/// The current causal chain, outermost first: the chain that spawned this task or thread (across
/// every spawn), then the task's traced futures and this thread's sync frames inside them; and
/// the indices where a spawn was crossed.
pub(crate) fn current_chain() -> (Vec<&'static str>, Vec<usize>) {
    peek_local(|l| {
        let mut names = Vec::new();
        let mut spawns = Vec::new();
        if let Some(node) = l.innermost_node() {
            node.causal_names(&mut names, &mut spawns);
        } else if let Some(origin) = &l.ctx.adopted {
            origin.causal_names(&mut names, &mut spawns);
            spawns.push(names.len());
        }
        (names, spawns)
    })
    .unwrap_or_default()
}

/// The innermost frame of the calling thread, as a node others can link to: where a traced
/// future is created, or an origin captured. Outside any frame, the thread's adopted origin.
pub(crate) fn creator() -> Option<Arc<Node>> {
    peek_local(|l| l.innermost_node().or_else(|| l.ctx.adopted.clone())).flatten()
}

/// Makes `origin` the origin of root frames this thread opens until the returned value is put
/// back with [`unadopt`].
pub(crate) fn adopt(origin: Option<Arc<Node>>) -> Option<Option<Arc<Node>>> {
    let start = origin.as_ref().map(|o| o.site.start)?;
    with_local(start, |l| {
        l.announce_adopted(l.ctx.adopted.clone().as_ref(), origin.as_ref());
        std::mem::replace(&mut l.ctx.adopted, origin)
    })
    .ok()
}

/// Puts back the origin `adopt` replaced.
pub(crate) fn unadopt(previous: Option<Arc<Node>>) {
    let _ = peek_local(|l| {
        l.announce_adopted(l.ctx.adopted.clone().as_ref(), previous.as_ref());
        l.ctx.adopted = previous;
    });
}

/// The calling thread's number and current task (0 for none), if it ever traced.
pub(crate) fn whoami() -> Option<(u32, u64)> {
    peek_local(|l| (l.writer.shared().thread, l.ctx.task))
}

/// How a traced future's first poll placed it.
pub(crate) struct Placed {
    pub node: Arc<Node>,
    pub task: u64,
    /// Whether its enter was recorded (`TRACE_FILTER` may leave it out).
    pub recorded: bool,
}

static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

/// A traced future's first poll: its place under the future being polled (and any sync frames
/// it opened since), in that future's task; or, outside any traced future, the root of a new
/// task. Records its enter. `None` when the runtime is busy on this thread.
pub(crate) fn place(site: &'static Site, origin: Option<&Created>) -> Option<Placed> {
    with_local(site.start, |l| {
        let ts = clock::ticks();
        let driven = origin
            .and_then(|o| o.node.as_deref())
            .is_some_and(|n| l.open_here(n));
        let (parent, task) = match l.ctx.base {
            // Driven by the frame that created it, on its thread (awaited in it, `block_on`):
            // a call of that frame.
            None if driven => (l.innermost_node(), l.ctx.task),
            // Outside any traced future a future starts a task of its own (the task of the
            // linked block being polled, if one is): tasks do not nest under the sync frames of
            // whoever happens to poll them.
            None if l.ctx.linked.is_some() => (None, l.ctx.linked_task()),
            None => (None, NEXT_TASK.fetch_add(1, Ordering::Relaxed)),
            Some(_) => (l.innermost_node(), l.ctx.task),
        };
        let depth = depth_below(&parent);
        let parent_id = parent.as_ref().map_or(0, |p| p.id);
        let recorded = l.admits(site, depth);
        // A task's root keeps the frame its future was created in: its chain crosses the spawn.
        let (origin, created) = match origin {
            Some(o) if parent.is_none() => (within_reach(o.node.clone()), o.ticks),
            _ => (None, ts),
        };
        let id = if recorded {
            let id = l.next_id();
            if let Some(node) = &origin {
                l.link(id, site, node, created);
            }
            // A task's root says which task it starts; any other frame, its parent.
            let (kind, aux) = if parent.is_none() {
                (record::TASK, task)
            } else {
                (record::ENTER, parent_id)
            };
            l.record(Rec {
                ts,
                id: id | kind,
                site: site as *const Site as usize,
                aux,
            });
            id
        } else {
            parent_id
        };
        Placed {
            node: Arc::new(Node {
                site,
                id,
                spawns: spawns_of(&parent, &origin),
                parent,
                depth: depth as u32,
                origin,
            }),
            task,
            recorded,
        }
    })
    .map_err(|e| {
        if matches!(e, Unavailable::Busy) {
            skip();
        }
    })
    .ok()
}

/// Where a traced future was created: the frame (as a node) and when.
#[derive(Clone)]
pub struct Created {
    pub(crate) node: Option<Arc<Node>>,
    pub(crate) ticks: u64,
}

/// The frame a traced future is created in, captured when it is created (outside any frame:
/// none, and no clock read). Made directly in a linked block running as a task of its own, it
/// was created, as far as the chain knows, when the block was: its link says so.
pub(crate) fn created() -> Created {
    peek_local(|l| match l.innermost_node() {
        Some(node) => Created {
            node: Some(node),
            ticks: clock::ticks(),
        },
        None => {
            let node = l.ctx.adopted.clone();
            let ticks = match (&node, l.ctx.linked) {
                (Some(_), Some(block)) => block,
                (Some(_), None) => clock::ticks(),
                (None, _) => 0,
            };
            Created { node, ticks }
        }
    })
    .unwrap_or(Created {
        node: None,
        ticks: 0,
    })
}

/// Makes a traced future's place current on this thread for the length of a poll.
pub(crate) fn enter_poll(node: Arc<Node>, task: u64) -> Option<PollScope> {
    // A task may be polled on a thread that never traced before: its state starts here.
    with_local(node.site.start, |l| {
        let mark = l.stack.len();
        let adopted = l.ctx.adopted.clone();
        let previous = std::mem::replace(
            &mut l.ctx,
            Ctx {
                base: Some(node),
                task,
                mark,
                adopted,
                linked: None,
            },
        );
        PollScope { ctx: previous }
    })
    .ok()
}

/// How a linked block relates to the frame that created it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linking {
    /// Not polled yet.
    Unplaced,
    /// Driven by its creating frame on that frame's thread (awaited in it, `block_on`), or
    /// made outside any frame: the block adds nothing, for good.
    Driven,
    /// Anything else. Each poll by an executor outside any traced future runs it as a task of
    /// its own, with this task number (0 until a frame opens in it), its frames continuing the
    /// creating frame's chain; a poll inside a traced future or another linked task adds
    /// nothing (a block is polled inside a `select!` first, spawned afterwards).
    Free(u64),
}

/// A linked block's poll (or drop): decides at the first poll whether its creator drives it,
/// then, when an executor polls it as a task of its own, makes its origin and task current on
/// this thread until [`leave_poll`].
pub(crate) fn enter_linked(created: &Created, linking: &mut Linking) -> Option<PollScope> {
    let node = created.node.as_ref()?;
    with_local(node.site.start, |l| {
        if *linking == Linking::Unplaced {
            *linking = if l.open_here(node) {
                Linking::Driven
            } else {
                Linking::Free(0)
            };
        }
        let Linking::Free(task) = *linking else {
            return None;
        };
        if l.ctx.base.is_some() || l.ctx.linked.is_some() {
            return None;
        }
        let mark = l.stack.len();
        let previous = std::mem::replace(
            &mut l.ctx,
            Ctx {
                base: None,
                task,
                mark,
                adopted: within_reach(Some(node.clone())),
                linked: Some(created.ticks),
            },
        );
        Some(PollScope { ctx: previous })
    })
    .ok()
    .flatten()
}

/// Ends a poll: the thread's previous place put back; returns the task of the place the poll
/// made current (a linked block keeps the number its frames were given).
pub(crate) fn leave_poll(scope: PollScope) -> u64 {
    peek_local(|l| {
        // A frame leaked inside the poll must not outlive it.
        l.stack.truncate(l.ctx.mark);
        std::mem::replace(&mut l.ctx, scope.ctx).task
    })
    .unwrap_or(0)
}

/// How an async frame ended.
pub(crate) struct AsyncExit {
    pub busy: u64,
    pub unwinding: bool,
    pub cancelled: bool,
}

/// Records an async frame's exit from the thread that completes or drops it.
pub(crate) fn exit_async(node: &Node, recorded: bool, exit: AsyncExit) {
    if !recorded {
        return;
    }
    let flags = record::ASYNC
        | if exit.unwinding { record::UNWINDING } else { 0 }
        | if exit.cancelled { record::CANCELLED } else { 0 };
    let site = node.site;
    let make = |ts| Rec {
        ts,
        id: node.id | record::EXIT | flags,
        site: site as *const Site as usize,
        aux: exit.busy,
    };
    match with_local(site.start, |l| l.record(make(clock::ticks()))) {
        Ok(()) | Err(Unavailable::Busy) => {}
        Err(Unavailable::Gone) => orphan(make(clock::ticks())),
    }
}

/// Set once the final collection has run: records are no longer handed over.
static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// After the final collection: buffers that fill are reused in place, nothing waits.
pub(crate) fn close() {
    CLOSED.store(true, Ordering::Release);
}

fn closed() -> bool {
    CLOSED.load(Ordering::Acquire)
}

/// Runs the runtime's own work (a collection on this thread, a hook) with the busy flag set, so
/// nothing it calls is traced; puts the flag back as it was.
pub(crate) fn runtime_work<R>(f: impl FnOnce() -> R) -> R {
    let was = BUSY.with(|b| b.replace(true));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUSY.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(was);
    f()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    static SITE: Site = Site::new("demo::f", || {});

    fn node(parent: Option<Arc<Node>>, origin: Option<Arc<Node>>, id: u64) -> Arc<Node> {
        Arc::new(Node {
            site: &SITE,
            id,
            spawns: spawns_of(&parent, &origin),
            parent,
            depth: 0,
            origin,
        })
    }

    /// A chain a million nodes long (callers and spawns) is let go of on a test thread's small
    /// stack: dropping it one node at a time, not by recursion.
    #[test]
    fn a_long_chain_drops_without_recursing() {
        let mut at = node(None, None, 1);
        for id in 2..1_000_000 {
            at = if id % 2 == 0 {
                node(Some(at), None, id)
            } else {
                node(None, Some(at), id)
            };
        }
        drop(at);
    }

    /// Filtered frames carry their nearest recorded caller's id, or 0: the collector is told
    /// of the nearest frame it knows, across a spawn if need be.
    #[test]
    fn the_nearest_recorded_frame_skips_filtered_ones() {
        let spawner = node(None, None, 7);
        let root = node(None, Some(spawner), 0);
        assert_eq!(root.spawns, 1);
        let filtered = node(Some(root), None, 0);
        assert_eq!(filtered.nearest_recorded().map(|n| n.id), Some(7));
        let caller = node(None, None, 9);
        let carrying = node(Some(caller), None, 9);
        assert_eq!(carrying.nearest_recorded().map(|n| n.id), Some(9));
        assert!(node(None, None, 0).nearest_recorded().is_none());
    }
}
