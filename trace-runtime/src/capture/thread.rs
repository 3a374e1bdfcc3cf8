//! A thread's capture state and its busy flag: the thread's buffer, its stack of open sync
//! frames, and which tree frames opened now belong to (the traced future it is polling, whose
//! task its frames then belong to, or the origin it adopted).
//!
//! Re-entry is impossible by construction. Every access to a thread's state goes through
//! [`with_local`] (one thread-local read gives both the flag and the state), which first checks
//! and sets the thread's busy flag and clears it after: a traced call made while the runtime is
//! working on that thread (a traced allocator called by the runtime's own allocation, a traced
//! `Drop` or `Debug` run by it) finds the flag set and is not traced, only counted. No
//! reference to the state outlives one `with_local` call, and the state is never reached any
//! other way.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use super::buffer::{self, Writer};
use super::node::Node;
use super::record::{self, Rec};
use super::registry;
use super::site::Site;
use crate::config::{self, Config};

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
/// Calls not traced because the runtime was busy on their thread.
static SKIPPED: AtomicU64 = AtomicU64::new(0);

/// Chunks a thread may have waiting for the collector: handing over the last of them, it
/// waits for the collector. With the one being filled and the buffer's spares, a thread holds
/// at most `config::CHUNKS_PER_THREAD` chunks.
const MAX_PENDING: usize = config::CHUNKS_PER_THREAD - 1 - buffer::KEEP_FREE;

/// An open sync frame on this thread's stack.
#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub(super) site: &'static Site,
    /// Its id, or the nearest recorded ancestor's when it was not recorded.
    pub(super) id: u64,
}

/// Which tree frames opened now belong to.
pub(super) struct Ctx {
    /// The traced future being polled on this thread, if any. Sync frames from `mark` up nest
    /// under it, in its task; frames below `mark` belong to whoever called the poll.
    pub(super) base: Option<Arc<Node>>,
    pub(super) task: u64,
    pub(super) mark: usize,
    /// The origin adopted by this thread (`Origin::adopt`), or by the linked block being polled
    /// as a task of its own: root frames opened at the bottom of the thread's stack (from
    /// `mark` up) are linked to it.
    pub(super) adopted: Option<Arc<Node>>,
    /// While a linked block runs as a task of its own, when it was created (its roots' links
    /// are stamped with it): frames opened without a parent are that task's roots (`task` is
    /// given out by the first of them, 0 until then).
    pub(super) linked: Option<u64>,
}

impl Ctx {
    /// The task of a root opened now inside a linked block, given out on first use.
    pub(super) fn linked_task(&mut self) -> u64 {
        if self.task == 0 {
            self.task = NEXT_TASK.fetch_add(1, Ordering::Relaxed);
        }
        self.task
    }
}

pub(super) static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Local {
    cfg: &'static Config,
    pub(super) writer: Writer,
    /// The last frame id this thread gave out.
    last_id: u64,
    pub(super) stack: Vec<Frame>,
    pub(super) ctx: Ctx,
    /// The innermost sync frame last made into a node: futures made in a loop in one frame
    /// share it instead of each building the frames' nodes again.
    pub(super) last_node: Option<Arc<Node>>,
    /// The chain this thread last declared to the collector, innermost first: the collector
    /// keeps those frames for this thread until it declares another, so links to them need no
    /// declaration again.
    pub(super) held: Vec<u64>,
    /// Where a frame's values are formatted before they are recorded: reused, so a call
    /// allocates nothing once it has grown to the largest values.
    scratch: Vec<u8>,
}

/// The thread's busy flag and a pointer to its state, read together: one thread-local access
/// per event. No destructor, so reading it is a plain load (no check that it is still alive).
struct Fast {
    busy: Cell<bool>,
    /// This thread's state, owned by `OWNER`: null until it is made, and again once `OWNER`
    /// is gone.
    local: Cell<*mut Local>,
    /// `OWNER` is gone (the thread is ending): the state cannot be made again.
    gone: Cell<bool>,
}

/// Owns the thread's state; as the thread ends, ends its buffer and makes `FAST` forget it.
struct Owner(UnsafeCell<Option<Local>>);

thread_local! {
    static FAST: Fast = const {
        Fast {
            busy: Cell::new(false),
            local: Cell::new(std::ptr::null_mut()),
            gone: Cell::new(false),
        }
    };
    static OWNER: Owner = const { Owner(UnsafeCell::new(None)) };
}

/// Clears the busy flag when the runtime's work on this thread ends, even by unwinding.
pub(super) struct Busy;

impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        FAST.with(|f| f.busy.set(false));
    }
}

/// `Busy` for code that already holds the thread's `Fast`.
struct Clear<'a>(&'a Cell<bool>);

impl Drop for Clear<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Sets the busy flag unless it is set already.
#[inline(always)]
pub(super) fn claim() -> Option<Busy> {
    let claimed = FAST.with(|f| {
        if f.busy.get() {
            false
        } else {
            f.busy.set(true);
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
pub(super) fn skip() {
    SKIPPED.fetch_add(1, Ordering::Relaxed);
}

/// How the runtime's own threads are named: nothing they run is traced, not even what the
/// thread's start-up runs before the thread's own code.
pub(crate) const RUNTIME_THREAD_PREFIX: &str = "trace-runtime ";

/// Marks the calling thread as the runtime's own (collector, signal thread): nothing it calls
/// is ever traced.
pub(crate) fn runtime_thread() {
    FAST.with(|f| f.busy.set(true));
}

/// Whether this thread is one of the runtime's own, by its name.
fn is_runtime_thread() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|n| n.starts_with(RUNTIME_THREAD_PREFIX))
}

/// Why `with_local` could not run.
pub(super) enum Unavailable {
    /// The runtime is already working on this thread: the call is not traced.
    Busy,
    /// The thread's state has been destroyed (thread-local destructors are running).
    Gone,
}

/// Runs `f` on this thread's state, creating it (and starting the runtime with `start`) on the
/// thread's first traced call. The only way to reach the state.
#[inline(always)]
pub(super) fn with_local<R>(
    start: fn(),
    f: impl FnOnce(&mut Local) -> R,
) -> Result<R, Unavailable> {
    let fast = fast();
    if fast.busy.get() {
        return Err(Unavailable::Busy);
    }
    let mut local = fast.local.get();
    if local.is_null() {
        local = make_local(fast, start)?;
    }
    fast.busy.set(true);
    let _clear = Clear(&fast.busy);
    // SAFETY: `local` is non-null, so it points to the state `OWNER` owns on this thread,
    // which lives until `OWNER`'s destructor nulls the pointer (and that runs with the busy
    // flag set, never inside this call). The flag was clear and is now set, and every
    // reference to the state is made here and ends before it is cleared: no other reference
    // is live. Thread-locals are reached by their own thread only.
    Ok(f(unsafe { &mut *local }))
}

/// This thread's `Fast`. Not through `LocalKey::with` at each use: a closure holding the whole
/// event would not be inlined, and the event would pay a call and a copy of its result.
#[inline(always)]
fn fast() -> &'static Fast {
    // SAFETY: `FAST` has no destructor, so its storage is never torn down while the thread
    // runs, and it does not move; the reference is used on this thread only (`Fast` is not
    // `Sync`, so it cannot leave it) and only while the thread runs.
    unsafe { &*FAST.with(|f| f as *const Fast) }
}

/// Makes this thread's state on its first traced call, unless the thread is one of the
/// runtime's own or is ending.
#[cold]
#[inline(never)]
fn make_local(fast: &Fast, start: fn()) -> Result<*mut Local, Unavailable> {
    if fast.gone.get() {
        return Err(Unavailable::Gone);
    }
    fast.busy.set(true);
    if is_runtime_thread() {
        // One of the runtime's threads: it stays busy for good.
        return Err(Unavailable::Busy);
    }
    // Making the state allocates and starts the runtime: nothing that calls is traced.
    let _clear = Clear(&fast.busy);
    let made = OWNER.try_with(|owner| {
        // SAFETY: the busy flag is set, and `FAST` does not point to the state yet: no other
        // reference to it exists.
        let slot = unsafe { &mut *owner.0.get() };
        slot.insert(Local::new(start)) as *mut Local
    });
    match made {
        Ok(local) => {
            fast.local.set(local);
            Ok(local)
        }
        Err(_) => {
            fast.gone.set(true);
            Err(Unavailable::Gone)
        }
    }
}

/// Like `with_local`, without creating the state: `None` when this thread never traced.
pub(super) fn peek_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    let fast = fast();
    let local = fast.local.get();
    if fast.busy.get() || local.is_null() {
        return None;
    }
    fast.busy.set(true);
    let _clear = Clear(&fast.busy);
    // SAFETY: as in `with_local`.
    Some(f(unsafe { &mut *local }))
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Runs as the thread ends. Whatever runs here is the runtime's work, and from here on
        // the state is out of reach: a traced call made later on this thread (another
        // thread-local's destructor) is recorded as an orphan.
        let _busy = claim();
        FAST.with(|f| {
            f.local.set(std::ptr::null_mut());
            f.gone.set(true);
        });
        if let Some(local) = self.0.get_mut() {
            // The collector reads the current chunk too: ending is enough (no fresh chunk).
            local.writer.end();
        }
    }
}

pub(super) fn depth_below(base: &Option<Arc<Node>>) -> usize {
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
        registry::register(writer.shared().clone());
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
            scratch: Vec::new(),
        }
    }

    #[inline(always)]
    pub(super) fn next_id(&mut self) -> u64 {
        self.last_id += 1;
        self.last_id
    }

    #[inline(always)]
    pub(super) fn admits(&self, site: &'static Site, depth: usize) -> bool {
        let cfg = self.cfg;
        !site.excluded(|name| cfg.filter.admits(name)) && depth as u32 <= cfg.max_depth
    }

    /// [`Local::admits`] with the site's state already loaded.
    #[inline(always)]
    pub(super) fn admits_as(&self, site: &'static Site, state: u32, depth: usize) -> bool {
        let cfg = self.cfg;
        !site.excluded_as(state, |name| cfg.filter.admits(name)) && depth as u32 <= cfg.max_depth
    }

    #[inline(always)]
    pub(super) fn record(&mut self, rec: Rec) {
        if self.writer.room() == 0 {
            self.hand_over();
        }
        self.writer.push(rec);
    }

    /// Whether values are recorded (`TRACE_VALUES`).
    pub(super) fn values_on(&self) -> bool {
        self.cfg.values
    }

    /// Records values of frame `id` (`flags`: `record::RESULT`, `record::ERROR` or none for
    /// arguments): `fill` formats them into the thread's scratch, with each value's limit; a
    /// `VALUE` record then `DATA` records hold the bytes. With `TRACE_VALUES=off` nothing is
    /// formatted: only an error exit is recorded, as `Err` without its error's text, so that it
    /// stays an error exit (and an origin) in every view.
    /// Runs inside `with_local`: a `Debug` impl that calls traced fns finds the thread busy,
    /// and those calls are not traced (the re-entrancy rule).
    pub(super) fn record_values(
        &mut self,
        id: u64,
        ts: u64,
        flags: u64,
        fill: impl FnOnce(&mut Vec<u8>, usize),
    ) {
        let off = !self.cfg.values;
        if off && flags & record::ERROR == 0 {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        if off {
            scratch.extend_from_slice(b"Err");
        } else {
            fill(&mut scratch, self.cfg.value_max);
        }
        self.record(Rec {
            ts,
            id: id | record::VALUE | flags,
            site: 0,
            aux: scratch.len() as u64,
        });
        for piece in scratch.chunks(record::DATA_BYTES) {
            let mut bytes = [0u8; record::DATA_BYTES];
            bytes[..piece.len()].copy_from_slice(piece);
            let (aux, site) = bytes.split_at(8);
            self.record(Rec {
                ts,
                id: id | record::DATA,
                site: usize::from_le_bytes(site.try_into().expect("a word")),
                aux: u64::from_le_bytes(aux.try_into().expect("8 bytes")),
            });
        }
        self.scratch = scratch;
    }

    #[cold]
    fn hand_over(&mut self) {
        if registry::closed() {
            // The run's trace is complete: what comes after it has nowhere to go.
            self.writer.discard();
            return;
        }
        let pending = self.writer.hand_over();
        registry::wake_collector(self.writer.shared().thread);
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
            registry::wake_collector(self.writer.shared().thread);
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

/// The calling thread's number and current task (0 for none), if it ever traced.
pub(crate) fn whoami() -> Option<(u32, u64)> {
    peek_local(|l| (l.writer.shared().thread, l.ctx.task))
}

/// How many calls were not traced because the runtime was busy on their thread.
pub(crate) fn skipped() -> u64 {
    SKIPPED.load(Ordering::Relaxed)
}

/// Runs the runtime's own work (a collection on this thread, a hook) with the busy flag set, so
/// nothing it calls is traced; puts the flag back as it was.
pub(crate) fn runtime_work<R>(f: impl FnOnce() -> R) -> R {
    let was = FAST.with(|f| f.busy.replace(true));
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            FAST.with(|f| f.busy.set(self.0));
        }
    }
    let _restore = Restore(was);
    f()
}
