//! A thread's record buffer: compact binary records written by the owning thread without a
//! lock, and rendered (by the owner when full, or by the exit and panic hooks) under a lock that
//! only renderers take.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::__private::Site;

/// One event: 32 bytes.
#[derive(Clone, Copy)]
pub(crate) struct Rec {
    /// Ticks when it happened.
    pub ts: u64,
    pub site: &'static Site,
    /// Exit: ticks at the matching enter. Busy: ticks spent inside polls.
    pub aux: u64,
    pub task: u32,
    /// Depth (low 28 bits), kind, and the unwinding and cancelled flags.
    pub meta: u32,
}

pub(crate) const KIND_ENTER: u32 = 0;
pub(crate) const KIND_EXIT: u32 = 1 << 28;
/// Follows an async exit: its `aux` is the time spent inside polls.
pub(crate) const KIND_BUSY: u32 = 2 << 28;
pub(crate) const KIND_MASK: u32 = 3 << 28;
pub(crate) const UNWINDING: u32 = 1 << 30;
pub(crate) const CANCELLED: u32 = 1 << 31;
pub(crate) const DEPTH_MASK: u32 = (1 << 28) - 1;

/// The records of one thread.
pub(crate) struct Ring {
    pub thread: u32,
    pub name: Option<Box<str>>,
    slots: Box<[UnsafeCell<MaybeUninit<Rec>>]>,
    /// Records written and published: only the owner stores it.
    head: AtomicUsize,
    /// Rendering progress. The lock serialises renderers.
    rendered: Mutex<RenderState>,
}

/// What a renderer keeps between two drains of one ring.
#[derive(Default)]
pub(crate) struct RenderState {
    /// Records already rendered.
    pub done: usize,
    /// Sync frames entered and not yet exited, outermost first: open frames at exit, and the
    /// enter lines held back while `min=` may still fold their call away.
    pub open: Vec<OpenSync>,
    /// Text of calls still open whose fate `min=` has not decided yet.
    pub pending: Vec<u8>,
    /// The text of one drain, kept between drains so that its capacity is reused.
    pub scratch: Vec<u8>,
}

/// A sync frame seen entering and not yet exiting.
pub(crate) struct OpenSync {
    pub site: &'static Site,
    pub depth: u32,
    pub start: u64,
    /// Where its enter line starts in `pending`.
    pub offset: usize,
}

// SAFETY: the owner writes slots at and beyond `head` and publishes them with a release store;
// renderers read only slots below a `head` they loaded with acquire, under `rendered`'s lock.
// Slots are reused (head reset) only by the owner while it holds that lock. So no slot is read
// while written.
unsafe impl Sync for Ring {}

impl Ring {
    pub(crate) fn new(thread: u32, name: Option<Box<str>>, capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let mut slots: Vec<UnsafeCell<MaybeUninit<Rec>>> = Vec::with_capacity(capacity);
        // SAFETY: the elements are `MaybeUninit`, which needs no initialisation. Not writing
        // them also leaves the pages untouched until records land there.
        unsafe { slots.set_len(capacity) };
        let slots = slots.into_boxed_slice();
        Ring {
            thread,
            name,
            slots,
            head: AtomicUsize::new(0),
            rendered: Mutex::new(RenderState::default()),
        }
    }

    /// Free slots. Owner only.
    #[inline]
    pub(crate) fn room(&self) -> usize {
        self.slots.len() - self.head.load(Ordering::Relaxed)
    }

    /// Appends two records at once (an async exit and its busy time), published together so
    /// that no renderer sees one without the other. The caller makes sure there is room.
    #[inline]
    pub(crate) fn push2(&self, a: Rec, b: Rec) {
        let i = self.head.load(Ordering::Relaxed);
        debug_assert!(i + 1 < self.slots.len());
        // SAFETY: as in `push`, for slots `i` and `i + 1`.
        unsafe {
            (*self.slots.get_unchecked(i).get()).write(a);
            (*self.slots.get_unchecked(i + 1).get()).write(b);
        }
        self.head.store(i + 2, Ordering::Release);
    }

    /// Appends a record; the caller makes sure there is room. Owner only.
    #[inline]
    pub(crate) fn push(&self, rec: Rec) {
        let i = self.head.load(Ordering::Relaxed);
        debug_assert!(i < self.slots.len());
        // SAFETY: only the owner writes, slot `i` is unpublished (nobody reads it), and `i` is
        // in bounds because the caller checked `room()`.
        unsafe { (*self.slots.get_unchecked(i).get()).write(rec) };
        self.head.store(i + 1, Ordering::Release);
    }

    fn lock(&self, wait: bool) -> Option<MutexGuard<'_, RenderState>> {
        if wait {
            return Some(self.rendered.lock().unwrap_or_else(|p| p.into_inner()));
        }
        // The panic hook must not wait on a lock its own thread may hold (a panic inside
        // rendering): it tries for a while, then gives up on this ring.
        for _ in 0..10_000 {
            match self.rendered.try_lock() {
                Ok(g) => return Some(g),
                Err(std::sync::TryLockError::Poisoned(p)) => return Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => std::thread::yield_now(),
            }
        }
        None
    }

    /// Hands the unrendered records to `render`. With `reset` (owner only) the ring is emptied
    /// for reuse; otherwise the records are only marked rendered. `wait` is false in the panic
    /// hook.
    pub(crate) fn drain(
        &self,
        reset: bool,
        wait: bool,
        render: &mut dyn FnMut(&Ring, &mut RenderState, &[Rec]),
    ) {
        let Some(mut state) = self.lock(wait) else {
            return;
        };
        let head = self.head.load(Ordering::Acquire);
        let done = state.done;
        // SAFETY: slots below `head` are written and published (acquire above pairs with the
        // owner's release), and nobody writes them until the owner resets under this lock.
        let recs: &[Rec] = unsafe {
            std::slice::from_raw_parts(
                self.slots.as_ptr().add(done) as *const Rec,
                head.saturating_sub(done),
            )
        };
        render(self, &mut state, recs);
        if reset {
            self.head.store(0, Ordering::Relaxed);
            state.done = 0;
        } else {
            state.done = head;
        }
    }

    /// Runs `f` on the render state (open frames), under the renderers' lock.
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&RenderState) -> R) -> Option<R> {
        self.lock(true).map(|s| f(&s))
    }
}
