//! What the collector reaches of the traced threads: every thread's buffer, the records of
//! threads whose state was already gone, the collector's wake-up when a chunk is handed over,
//! and the end of hand-over once the final collection has run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::buffer::{self, SharedRef};
use super::record::Rec;
use super::thread::claim;

/// Every thread's buffer, for the collector.
static REGISTRY: Mutex<Vec<SharedRef>> = Mutex::new(Vec::new());
/// Records of threads whose state is already gone (a traced fn called from another
/// thread-local's destructor), and their ids.
static ORPHANS: Mutex<Vec<Rec>> = Mutex::new(Vec::new());
static NEXT_ORPHAN: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The threads that collect, woken when a chunk is handed over: thread `n`'s records are
/// collected by the one at `n % len` (see `collect::collector`'s lanes).
static COLLECTORS: Mutex<Vec<std::thread::Thread>> = Mutex::new(Vec::new());

/// Wakes the collector of thread `thread`'s records.
pub(super) fn wake_collector(thread: u32) {
    let collectors = lock(&COLLECTORS);
    if !collectors.is_empty() {
        collectors[thread as usize % collectors.len()].unpark();
    }
}

/// Names the collector threads, to be woken when buffers fill: the one collecting thread `n`'s
/// records is at `n % collectors.len()`.
pub(crate) fn set_collectors(collectors: Vec<std::thread::Thread>) {
    *lock(&COLLECTORS) = collectors;
}

/// Registers a thread's buffer, as the thread first traces.
pub(super) fn register(shared: SharedRef) {
    lock(&REGISTRY).push(shared);
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

/// Records of a thread whose state is already gone: kept under a lock, never dropped.
pub(super) fn orphan(rec: Rec) {
    let Some(_busy) = claim() else { return };
    lock(&ORPHANS).push(rec);
}

pub(super) fn orphan_id() -> u64 {
    NEXT_ORPHAN.fetch_add(1, Ordering::Relaxed)
}

/// Set once the final collection has run: records are no longer handed over.
static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// After the final collection: buffers that fill are reused in place, nothing waits.
pub(crate) fn close() {
    CLOSED.store(true, Ordering::Release);
}

pub(super) fn closed() -> bool {
    CLOSED.load(Ordering::Acquire)
}
