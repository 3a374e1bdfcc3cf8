//! A thread's record buffer: chunks of records that the owning thread fills without a lock and
//! publishes with a release store, that the collector reads (acquire) while they fill, and that
//! the owner hands over whole, under a lock taken once per chunk, when one is full.
//!
//! Protocol (model-checked by `tests/loom.rs`):
//! - Only the owner writes a chunk's slots, and only slots at or above the chunk's published
//!   count; it publishes each with a release store of the count.
//! - The collector reads only slots below a count it loaded with acquire.
//! - A full chunk moves from the owner to the queue's `full` list under the queue's lock; the
//!   collector returns it to `free` under the same lock once it has read it and dropped every
//!   reference of its own; the owner reuses (and resets) a chunk only after taking it from
//!   `free` under that lock. So no slot is ever read while it is written.

use std::collections::VecDeque;
use std::mem::MaybeUninit;

#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};
#[cfg(not(loom))]
use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

use super::record::Rec;

/// One slot: written once by the owner before it is published, read by anyone after.
struct Slot(
    #[cfg(not(loom))] std::cell::UnsafeCell<MaybeUninit<Rec>>,
    #[cfg(loom)] loom::cell::UnsafeCell<MaybeUninit<Rec>>,
);

impl Slot {
    fn new() -> Self {
        #[cfg(not(loom))]
        return Slot(std::cell::UnsafeCell::new(MaybeUninit::uninit()));
        #[cfg(loom)]
        return Slot(loom::cell::UnsafeCell::new(MaybeUninit::uninit()));
    }

    /// # Safety
    /// Only the owner calls it, on an unpublished slot (nobody reads it).
    #[inline(always)]
    unsafe fn write(&self, rec: Rec) {
        #[cfg(not(loom))]
        (*self.0.get()).write(rec);
        #[cfg(loom)]
        self.0.with_mut(|p| (*p).write(rec));
    }

    /// # Safety
    /// The slot is published: written, and its count loaded with acquire.
    #[inline(always)]
    unsafe fn read(&self) -> Rec {
        #[cfg(not(loom))]
        return (*self.0.get()).assume_init();
        #[cfg(loom)]
        return self.0.with(|p| (*p).assume_init());
    }
}

/// A fixed number of slots and how many are published.
pub struct Chunk {
    slots: Box<[Slot]>,
    published: AtomicUsize,
}

// SAFETY: slots are written only by the owner before publication and read only after it (see
// the module's protocol); `Rec` is plain data.
unsafe impl Sync for Chunk {}
// SAFETY: as above; a chunk moves between threads only through the queue's lock.
unsafe impl Send for Chunk {}

impl Chunk {
    fn new(capacity: usize) -> Arc<Chunk> {
        let capacity = capacity.max(2);
        let mut slots: Vec<Slot> = Vec::with_capacity(capacity);
        slots.extend((0..capacity).map(|_| Slot::new()));
        Arc::new(Chunk {
            slots: slots.into_boxed_slice(),
            published: AtomicUsize::new(0),
        })
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Records published so far (acquire: every record below it is readable).
    pub fn published(&self) -> usize {
        self.published.load(Ordering::Acquire)
    }

    /// Copies the published records `from..` onto `out`; returns the new count read.
    pub fn read_from(&self, from: usize, out: &mut Vec<Rec>) -> usize {
        let to = self.published();
        // One reservation for the whole range (a slice's iterator says its length).
        out.extend(
            self.slots
                .get(from..to)
                .unwrap_or(&[])
                .iter()
                // SAFETY: below the count loaded with acquire: written and published.
                .map(|slot| unsafe { slot.read() }),
        );
        to.max(from)
    }
}

/// What the owner and the collector exchange, under the lock.
struct Queue {
    /// Chunks the owner filled, oldest first, not yet read to the end by the collector.
    full: VecDeque<Arc<Chunk>>,
    /// Chunks the collector has finished with, for the owner to reuse.
    free: Vec<Arc<Chunk>>,
    /// The chunk the owner is filling now.
    current: Arc<Chunk>,
}

/// A thread's buffer as the collector sees it.
pub struct Shared {
    /// The thread's number (1 for the first thread that traced).
    pub thread: u32,
    pub name: Option<Box<str>>,
    queue: Mutex<Queue>,
    /// Set when the thread has ended: once read to the end, its buffer can be forgotten.
    ended: AtomicBool,
}

/// A shared handle on a thread's buffer (loom's `Arc` when model-checking).
pub type SharedRef = Arc<Shared>;

/// Whether two handles name the same buffer.
pub fn same(a: &SharedRef, b: &SharedRef) -> bool {
    Arc::ptr_eq(a, b)
}

/// Free chunks kept for reuse: reused memory costs no page faults.
pub const KEEP_FREE: usize = 2;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(loom))]
    return m.lock().unwrap_or_else(|p| p.into_inner());
    #[cfg(loom)]
    return m.lock().unwrap();
}

/// The owner's end of a thread's buffer.
pub struct Writer {
    shared: Arc<Shared>,
    current: Arc<Chunk>,
    /// Records written to `current` (the owner's copy of its published count).
    len: usize,
}

impl Writer {
    /// A new thread's buffer with chunks of `capacity` records.
    pub fn new(thread: u32, name: Option<Box<str>>, capacity: usize) -> Writer {
        let current = Chunk::new(capacity);
        let shared = Arc::new(Shared {
            thread,
            name,
            queue: Mutex::new(Queue {
                full: VecDeque::new(),
                free: Vec::new(),
                current: current.clone(),
            }),
            ended: AtomicBool::new(false),
        });
        Writer {
            shared,
            current,
            len: 0,
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Free slots in the current chunk.
    #[inline(always)]
    pub fn room(&self) -> usize {
        self.current.slots.len() - self.len
    }

    /// Appends a record; the caller made sure there is room.
    #[inline(always)]
    pub fn push(&mut self, rec: Rec) {
        let i = self.len;
        debug_assert!(i < self.current.slots.len());
        // SAFETY: only the owner writes; slot `i` is unpublished (nobody reads it) and in
        // bounds (the caller checked `room`).
        unsafe { self.current.slots.get_unchecked(i).write(rec) };
        self.len = i + 1;
        self.current.published.store(i + 1, Ordering::Release);
    }

    /// Hands the current (full or not) chunk to the collector and starts a fresh one; returns
    /// how many chunks now wait for the collector.
    pub fn hand_over(&mut self) -> usize {
        let mut q = lock(&self.shared.queue);
        let fresh = match q.free.pop() {
            Some(chunk) => {
                // Ours alone again: the collector put it in `free` after its last read.
                chunk.published.store(0, Ordering::Relaxed);
                chunk
            }
            None => Chunk::new(self.current.capacity()),
        };
        let full = std::mem::replace(&mut self.current, fresh.clone());
        q.full.push_back(full);
        q.current = fresh;
        self.len = 0;
        q.full.len()
    }

    /// Empties the current chunk in place, its records dropped: once nothing reads them.
    pub fn discard(&mut self) {
        self.len = 0;
        self.current.published.store(0, Ordering::Release);
    }

    /// Chunks waiting for the collector.
    pub fn pending(&self) -> usize {
        lock(&self.shared.queue).full.len()
    }

    /// Marks the thread ended: everything it wrote is published.
    pub fn end(&self) {
        self.shared.ended.store(true, Ordering::Release);
    }
}

/// Where the collector is in one thread's buffer.
#[derive(Default)]
pub struct Cursor {
    chunk: Option<Arc<Chunk>>,
    read: usize,
}

impl Shared {
    /// Copies every record published since the last call onto `out`, oldest first; returns
    /// whether the thread has ended and everything it wrote has been read.
    pub fn drain(&self, cursor: &mut Cursor, out: &mut Vec<Rec>) -> bool {
        // Read `ended` first: if it is set, everything is published and visible below.
        let ended = self.ended.load(Ordering::Acquire);
        let (full, current) = {
            let mut q = lock(&self.queue);
            (std::mem::take(&mut q.full), q.current.clone())
        };
        let mut done = Vec::new();
        for chunk in full {
            let from = match &cursor.chunk {
                Some(c) if Arc::ptr_eq(c, &chunk) => cursor.read,
                _ => 0,
            };
            chunk.read_from(from, out);
            done.push(chunk);
        }
        let from = match &cursor.chunk {
            Some(c) if Arc::ptr_eq(c, &current) => cursor.read,
            _ => 0,
        };
        cursor.read = current.read_from(from, out);
        cursor.chunk = Some(current);
        if !done.is_empty() {
            // Every reference of ours to these chunks is in `done`: the cursor holds the
            // current one, which is not among them.
            let mut q = lock(&self.queue);
            for chunk in done {
                if q.free.len() < KEEP_FREE {
                    q.free.push(chunk);
                }
            }
        }
        ended
    }
}

/// Record `n` of a test: its number in every field that orders it.
#[cfg(test)]
fn rec(n: u64) -> Rec {
    Rec {
        ts: n,
        id: n,
        site: 0,
        aux: 0,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_collector_reads_every_record_once_in_order_across_chunks() {
        let mut w = Writer::new(1, None, 4);
        let shared = w.shared().clone();
        let mut cursor = Cursor::default();
        let mut seen = Vec::new();
        let mut n = 0;
        for round in 0..20 {
            for _ in 0..(round % 7) {
                if w.room() == 0 {
                    w.hand_over();
                }
                w.push(rec(n));
                n += 1;
            }
            shared.drain(&mut cursor, &mut seen);
        }
        w.end();
        assert!(shared.drain(&mut cursor, &mut seen));
        assert_eq!(seen, (0..n).map(rec).collect::<Vec<_>>());
    }
}

/// The owner/collector protocol under every interleaving loom can find: the collector reads each
/// record exactly once, in order, and never one that is being written, while the owner fills
/// chunks, hands them over and reuses the ones the collector returned.
///
/// `RUSTFLAGS="--cfg loom" cargo test -p trace-runtime --features enable --release --lib loom`
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;

    #[test]
    fn loom_every_record_is_read_once_in_order() {
        loom::model(|| {
            let mut w = Writer::new(1, None, 2);
            let shared = w.shared().clone();
            let collector = loom::thread::spawn(move || {
                let mut cursor = Cursor::default();
                let mut seen = Vec::new();
                loop {
                    let ended = shared.drain(&mut cursor, &mut seen);
                    if ended {
                        // Everything published before the end is visible to this drain.
                        shared.drain(&mut cursor, &mut seen);
                        return seen;
                    }
                    loom::thread::yield_now();
                }
            });
            for n in 0..5 {
                if w.room() == 0 {
                    w.hand_over();
                }
                w.push(rec(n));
            }
            w.end();
            let seen = collector.join().unwrap();
            assert_eq!(seen, (0..5).map(rec).collect::<Vec<_>>());
        });
    }
}
