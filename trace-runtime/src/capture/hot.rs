//! Counted sites: a fn the collector found hot (many calls, each tiny: see `collect::hot`) is
//! from then on counted on its thread instead of recorded. A counted call costs a load of its
//! site's state, a thread-local counter's increment and nothing on exit: no clock read, no
//! record, no frame on the thread's stack (its callees' parent is its caller, as for a fn
//! `TRACE_FILTER` leaves out).
//!
//! Each counted site has a slot (at most [`MAX_COUNTED`]); each thread that makes counted calls
//! has one counter per slot, written by that thread alone (no shared cache line, no atomic
//! read-modify-write) and read by whoever reports; a thread's counters are added to the
//! process's totals when the thread ends.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::site::Site;

/// The most sites counted in one run: later hot sites stay recorded.
pub(crate) const MAX_COUNTED: usize = 1024;

/// `Site::state`: counted from now on (the slot is the bits from [`SLOT_SHIFT`] up). The low
/// byte is the filter decision's (`capture::site`).
const COUNTED: u32 = 1 << 8;
const SLOT_SHIFT: u32 = 16;

/// One thread's counters, one per slot.
struct Counts([AtomicU64; MAX_COUNTED]);

/// Counted sites by slot.
static SITES: Mutex<Vec<&'static Site>> = Mutex::new(Vec::new());
/// Counters of the threads that made counted calls and are still running.
static LIVE: Mutex<Vec<Arc<Counts>>> = Mutex::new(Vec::new());
/// Counts of ended threads, and of calls made where a thread's counters could not be reached
/// (while they were being set up, or after they were gone).
static ENDED: [AtomicU64; MAX_COUNTED] = [const { AtomicU64::new(0) }; MAX_COUNTED];

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// This thread's counters once it made a counted call (kept alive by `OWNER`); null
    /// before, and again once `OWNER` is gone. No destructor: reading it is one load.
    static MINE: Cell<*const Counts> = const { Cell::new(std::ptr::null()) };
    /// Set while this thread's counters are being set up (which allocates: a traced allocator
    /// may make a counted call meanwhile).
    static SETTING_UP: Cell<bool> = const { Cell::new(false) };
    /// Owns this thread's counters and, when the thread ends, adds them to the totals.
    static OWNER: Owner = Owner::new();
}

struct Owner(Arc<Counts>);

impl Owner {
    fn new() -> Owner {
        let counts = Arc::new(Counts([const { AtomicU64::new(0) }; MAX_COUNTED]));
        lock(&LIVE).push(counts.clone());
        Owner(counts)
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        MINE.with(|m| m.set(std::ptr::null()));
        // Under the lock readers take: a reader sees these counts once, live or ended.
        let mut live = lock(&LIVE);
        for (total, mine) in ENDED.iter().zip(self.0 .0.iter()) {
            total.fetch_add(mine.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        live.retain(|c| !Arc::ptr_eq(c, &self.0));
    }
}

/// The counted slot a site's `state` (as loaded) holds, if any.
#[inline(always)]
pub(crate) fn counted_slot(state: u32) -> Option<usize> {
    (state & COUNTED != 0).then_some((state >> SLOT_SHIFT) as usize)
}

/// Whether `site` is counted.
pub(crate) fn is_counted(site: &Site) -> bool {
    counted_slot(site.state.load(Ordering::Relaxed)).is_some()
}

/// Counts one call of the site counted in `slot`.
#[inline(always)]
pub(crate) fn count(slot: usize) {
    let mine = MINE.with(|m| m.get());
    if mine.is_null() {
        return count_cold(slot);
    }
    // SAFETY: `MINE` points at the counters `OWNER` keeps alive on this thread, and is nulled
    // before `OWNER` lets them go. Slots are below `MAX_COUNTED` (`mark` gives out no more).
    let counter = unsafe { (*mine).0.get_unchecked(slot) };
    // Only this thread writes its counters: a load and a store, no read-modify-write.
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// A thread's first counted call sets up its counters; a call made while they are being set
/// up, or after they are gone (thread-local destructors), goes to the totals.
#[cold]
#[inline(never)]
fn count_cold(slot: usize) {
    let busy = SETTING_UP.try_with(|s| s.replace(true)).unwrap_or(true);
    if !busy {
        if let Ok(counts) = OWNER.try_with(|o| Arc::as_ptr(&o.0)) {
            MINE.with(|m| m.set(counts));
        }
        let _ = SETTING_UP.try_with(|s| s.set(false));
    }
    if MINE.with(|m| m.get()).is_null() {
        ENDED[slot].fetch_add(1, Ordering::Relaxed);
    } else {
        count(slot);
    }
}

/// Makes `site` counted from now on. False when it already is, or when every slot is taken
/// (it stays recorded).
pub(crate) fn mark(site: &'static Site) -> bool {
    let mut sites = lock(&SITES);
    if is_counted(site) || sites.len() >= MAX_COUNTED {
        return false;
    }
    let slot = sites.len() as u32;
    sites.push(site);
    site.state
        .fetch_or(COUNTED | (slot << SLOT_SHIFT), Ordering::Relaxed);
    true
}

/// Every counted site with its counted calls so far (every thread's), in the order they were
/// marked.
pub(crate) fn counted() -> Vec<(&'static Site, u64)> {
    let sites = lock(&SITES).clone();
    let live = lock(&LIVE);
    sites
        .into_iter()
        .enumerate()
        .map(|(slot, site)| {
            let calls = ENDED[slot].load(Ordering::Relaxed)
                + live
                    .iter()
                    .map(|c| c.0[slot].load(Ordering::Relaxed))
                    .sum::<u64>();
            (site, calls)
        })
        .collect()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Calls counted on threads that end and on one still running are all reported, each
    /// once; a site is marked once.
    #[test]
    fn counted_calls_of_ended_and_live_threads_add_up() {
        static SITE: Site = Site::new("demo::tiny", || {});
        assert!(!is_counted(&SITE));
        assert!(mark(&SITE));
        assert!(!mark(&SITE));
        let slot = counted_slot(SITE.state.load(Ordering::Relaxed)).expect("marked");
        let workers: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        count(slot);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        for _ in 0..5 {
            count(slot);
        }
        let calls = counted()
            .into_iter()
            .find(|(s, _)| std::ptr::eq(*s, &SITE))
            .map(|(_, n)| n);
        assert_eq!(calls, Some(3005));
    }
}
