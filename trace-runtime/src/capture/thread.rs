//! A thread's capture state and its busy flag: the thread's buffer, its stack of open sync
//! frames, and which tree frames opened now belong to (the traced future it is polling, whose
//! task its frames then belong to, or the origin it adopted).
//!
//! Re-entry is impossible by construction. Every access to a thread's state goes through
//! [`with_local`], which first checks and sets the thread's busy flag and clears it after: a
//! traced call made while the runtime is working on that thread (a traced allocator called by
//! the runtime's own allocation, a traced `Drop` or `Debug` run by it) finds the flag set and is
//! not traced, only counted. No reference to the state outlives one `with_local` call, and the
//! state is never reached any other way.

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

struct Slot(UnsafeCell<Option<Local>>);

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
    static LOCAL: Slot = const { Slot(UnsafeCell::new(None)) };
}

/// Clears the busy flag when the runtime's work on this thread ends, even by unwinding.
pub(super) struct Busy;

impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        BUSY.with(|b| b.set(false));
    }
}

/// Sets the busy flag unless it is set already.
#[inline(always)]
pub(super) fn claim() -> Option<Busy> {
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
pub(super) fn skip() {
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
pub(super) fn peek_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
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

    /// Records values of frame `id` (`flags`: `record::RESULT`, `record::ERROR` or none for
    /// arguments): `fill` formats them into the thread's scratch, with each value's limit; a
    /// `VALUE` record then `DATA` records hold the bytes. Nothing with `TRACE_VALUES=off`.
    /// Runs inside `with_local`: a `Debug` impl that calls traced fns finds the thread busy,
    /// and those calls are not traced (the re-entrancy rule).
    pub(super) fn record_values(
        &mut self,
        id: u64,
        ts: u64,
        flags: u64,
        fill: impl FnOnce(&mut Vec<u8>, usize),
    ) {
        if !self.cfg.values {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        fill(&mut scratch, self.cfg.value_max);
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
        registry::wake_collector();
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
            registry::wake_collector();
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
