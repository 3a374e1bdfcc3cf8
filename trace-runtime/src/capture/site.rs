//! A traced fn's static description (one `static` per fn, made by the runtime's macros) and
//! its name.
//!
//! Names are built in two steps. The transform writes what syntax tells: the name known at
//! compile time, and, when that name cannot be true by itself, the pieces of the true one
//! ([`Piece`]). The pieces are composed (by `crate::name`) once per site, on its first call.
//!
//! A site has one name for the whole run: whatever [`Site::name`] returns first is what it
//! returns ever after, so the filter decision, the collector's name table, `chain()` and the
//! `tracing` bridge all agree. A reader that comes while another thread is composing waits for
//! it, a little: composing allocates, and the allocator may be traced, so a composition can
//! wait on something the reader holds (the runtime's start). After [`LONGEST_WAIT`], or at
//! once when the reader is the composing thread re-entered, it keeps the compile-time name for
//! good, and the composed one is dropped.

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use crate::name::{compose, Piece};

/// A traced fn's static description, one per fn.
pub struct Site {
    /// The name known at compile time: the true name for a fn outside impls; for a method, the
    /// Self type and trait as written (see [`Site::name`] for the name composed at run time).
    pub name: &'static str,
    /// What `TRACE_FILTER` decided for it, worked out on its first call (the low byte), and
    /// whether it is counted instead of recorded, with its slot (`capture::hot` owns those
    /// bits).
    #[cfg_attr(not(feature = "enable"), allow(dead_code))]
    pub(crate) state: AtomicU32,
    /// Starts the runtime (configuration, collector, hooks): called on each thread's first
    /// traced call, so that the capture layer needs no knowledge of what sits above it.
    #[cfg_attr(not(feature = "enable"), allow(dead_code))]
    pub(crate) start: fn(),
    /// Where the fn is (`module_path!()`), for `crate::` and `super::` in its pieces.
    module: &'static str,
    /// The true name's pieces; empty when `name` is already true.
    pieces: &'static [Piece],
    /// `UNRESOLVED`, `RESOLVING`, `RESOLVED` (`composed` holds the name) or `FROZEN` (the
    /// compile-time name was read first and is the name for good).
    resolution: AtomicU8,
    composed: UnsafeCell<&'static str>,
}

// SAFETY: `composed` is written once, by the one caller that moved `resolution` from UNRESOLVED
// to RESOLVING, before it moves it from RESOLVING to RESOLVED with Release; it is read only
// after an Acquire load has seen RESOLVED. `resolution` never leaves RESOLVED or FROZEN, so no
// write follows a read. Every other field is immutable or atomic.
unsafe impl Sync for Site {}

const UNRESOLVED: u8 = 0;
const RESOLVING: u8 = 1;
const RESOLVED: u8 = 2;
const FROZEN: u8 = 3;

/// The longest a reader waits for another thread to finish composing a name (which takes
/// microseconds unless that thread is descheduled or blocked).
const LONGEST_WAIT: Duration = Duration::from_millis(100);

std::thread_local! {
    /// The site whose name this thread is composing (its address), or 0: a reader on the
    /// composing thread itself (re-entered from a traced allocator) must not wait.
    static COMPOSING: Cell<usize> = const { Cell::new(0) };
}

impl Site {
    /// A site whose compile-time name is true. Called from generated statics.
    pub const fn new(name: &'static str, start: fn()) -> Self {
        Site::composed(name, "", &[], start)
    }

    /// A site whose true name is composed from `pieces` on its first call. Called from
    /// generated statics.
    pub const fn composed(
        name: &'static str,
        module: &'static str,
        pieces: &'static [Piece],
        start: fn(),
    ) -> Self {
        Site {
            name,
            state: AtomicU32::new(0),
            start,
            module,
            pieces,
            resolution: AtomicU8::new(UNRESOLVED),
            composed: UnsafeCell::new(""),
        }
    }

    /// The fn's name, the same on every call: the composed one when [`Site::resolve`] or
    /// [`Site::resolve_self`] had finished composing it before the name was first asked for,
    /// otherwise the compile-time one (always for a site created by [`Site::new`]).
    ///
    /// ```ignore
    /// static SITE: Site = Site::new("demo::get", start);
    /// assert_eq!(SITE.name(), "demo::get");
    /// ```
    #[inline]
    pub fn name(&self) -> &'static str {
        match self.resolution.load(Ordering::Acquire) {
            // SAFETY: RESOLVED was stored with Release after the write (see `impl Sync`).
            RESOLVED => unsafe { *self.composed.get() },
            FROZEN => self.name,
            _ if self.pieces.is_empty() => self.name,
            _ => self.name_cold(),
        }
    }

    /// A reader of a name being composed on another thread waits for it (at most
    /// [`LONGEST_WAIT`]); the first reader of a name not composed by then keeps the
    /// compile-time name for good.
    #[cold]
    fn name_cold(&self) -> &'static str {
        let me = self as *const Site as usize;
        let composing_here = COMPOSING.try_with(|c| c.get() == me).unwrap_or(true);
        if !composing_here {
            let start = Instant::now();
            while self.resolution.load(Ordering::Acquire) == RESOLVING
                && start.elapsed() < LONGEST_WAIT
            {
                std::thread::yield_now();
            }
        }
        let mut seen = self.resolution.load(Ordering::Acquire);
        while seen == UNRESOLVED || seen == RESOLVING {
            match self.resolution.compare_exchange_weak(
                seen,
                FROZEN,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return self.name,
                Err(now) => seen = now,
            }
        }
        if seen == RESOLVED {
            // SAFETY: RESOLVED was seen with Acquire, after the write (see `impl Sync`).
            unsafe { *self.composed.get() }
        } else {
            self.name
        }
    }

    /// Composes the true name of a site whose pieces need no Self type (a trait path with
    /// `crate::` or `super::` on a generic impl). Called by generated code before the guard.
    #[inline]
    pub fn resolve(&self) {
        if self.resolution.load(Ordering::Relaxed) == UNRESOLVED {
            self.resolve_cold(None);
        }
    }

    /// Composes the true name with the impl's Self type, `core::any::type_name::<Self>` passed
    /// by generated code (a `static` cannot mention `Self`). Once resolved, one relaxed load.
    #[inline]
    pub fn resolve_self(&self, self_type: fn() -> &'static str) {
        if self.resolution.load(Ordering::Relaxed) == UNRESOLVED {
            self.resolve_cold(Some(self_type));
        }
    }

    /// Composing allocates, and the allocator may itself be traced: a caller that finds the
    /// site RESOLVING (another thread, or this one re-entered from the allocator) goes on
    /// rather than wait here, so nothing can deadlock or panic on re-entry; when it asks for
    /// the name, [`Site::name`] decides whether to wait and which name is kept.
    #[cold]
    #[inline(never)]
    fn resolve_cold(&self, self_type: Option<fn() -> &'static str>) {
        if !cfg!(feature = "enable") {
            return;
        }
        if self
            .resolution
            .compare_exchange(UNRESOLVED, RESOLVING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let outer = COMPOSING.try_with(|c| c.replace(self as *const Site as usize));
        let self_type = self_type.map_or("", |f| f());
        let name: *mut str =
            Box::into_raw(compose(self.module, self.pieces, self_type).into_boxed_str());
        if let Ok(outer) = outer {
            let _ = COMPOSING.try_with(|c| c.set(outer));
        }
        // SAFETY: only the caller that moved UNRESOLVED to RESOLVING gets here, once, and no
        // one reads `composed` before seeing RESOLVED, which only the exchange below stores
        // (see `impl Sync`). `name` is leaked unless the exchange fails.
        unsafe { *self.composed.get() = &*name };
        if self
            .resolution
            .compare_exchange(RESOLVING, RESOLVED, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            // A reader froze the compile-time name meanwhile: FROZEN is final, so `composed`
            // is never read, and the composed text is freed.
            // SAFETY: as above, this caller alone touches `composed`; nothing else holds the
            // pointer `name` (it came from `Box::into_raw` just above).
            unsafe {
                *self.composed.get() = "";
                drop(Box::from_raw(name));
            }
        }
    }
}

impl Site {
    /// Whether `TRACE_FILTER` leaves this fn out, decided on its first call with `admits`.
    #[cfg(feature = "enable")]
    #[inline(always)]
    pub(crate) fn excluded(&self, admits: impl FnOnce(&'static str) -> bool) -> bool {
        self.excluded_as(self.state.load(Ordering::Relaxed), admits)
    }

    /// [`Site::excluded`] with the state already loaded (by a guard that looked at it first).
    #[cfg(feature = "enable")]
    #[inline(always)]
    pub(crate) fn excluded_as(
        &self,
        state: u32,
        admits: impl FnOnce(&'static str) -> bool,
    ) -> bool {
        if state & FILTER_DECIDED != 0 {
            return state & FILTER_EXCLUDED != 0;
        }
        self.decide(admits)
    }

    #[cfg(feature = "enable")]
    #[cold]
    fn decide(&self, admits: impl FnOnce(&'static str) -> bool) -> bool {
        let excluded = !admits(self.name());
        let state = FILTER_DECIDED | if excluded { FILTER_EXCLUDED } else { 0 };
        // Or'ed in: the bits above the filter's are not this decision's.
        self.state.fetch_or(state, Ordering::Relaxed);
        excluded
    }
}

/// `Site::state` bits.
#[cfg(feature = "enable")]
const FILTER_DECIDED: u32 = 1;
#[cfg(feature = "enable")]
const FILTER_EXCLUDED: u32 = 2;

// Every test here is about the name a running site gives out, with the runtime on.
#[cfg(all(test, feature = "enable"))]
mod tests {
    use super::Piece;
    use super::Site;
    use std::sync::Barrier;
    use std::sync::Mutex;

    fn no_start() {}

    /// The Self type of the test's generic impl, as `type_name` gives it.
    fn stack_of_u8() -> &'static str {
        "m::Stack<u8>"
    }

    const PUSH: &[Piece] = &[Piece::SelfQualifier, Piece::Text("::push")];

    /// The names a site gives a caller: by the filter decision (when this call made it) and
    /// by `name()`.
    fn names_seen(site: &Site) -> Vec<&'static str> {
        let mut seen = Vec::new();
        site.excluded(|name| {
            seen.push(name);
            true
        });
        seen.push(site.name());
        seen
    }

    /// Composition held half-way (the Self type is asked for inside it) until the other thread
    /// has taken its first name and filter decision.
    static COMPOSING: Barrier = Barrier::new(2);
    static READ: Barrier = Barrier::new(2);

    fn held_stack_type() -> &'static str {
        COMPOSING.wait();
        READ.wait();
        "m::Stack<u8>"
    }

    #[test]
    fn a_name_whose_composition_is_stuck_elsewhere_is_the_compile_time_one_for_good() {
        static SITE: Site = Site::composed("m::Stack<T>::push", "m", PUSH, no_start);
        let composer = std::thread::spawn(|| SITE.resolve_self(held_stack_type));
        COMPOSING.wait();
        // This thread's first call: composition is under way elsewhere, it goes on, and asking
        // for the name waits for it (the longest wait: the composer waits for this thread).
        SITE.resolve_self(held_stack_type);
        let first = names_seen(&SITE);
        READ.wait();
        composer.join().unwrap();
        assert_eq!(first, ["m::Stack<T>::push"; 2]);
        assert_eq!(names_seen(&SITE), ["m::Stack<T>::push"]);
        // The composition ended after the name was given out: the first name stays.
        assert_eq!(SITE.name(), "m::Stack<T>::push");
    }

    /// Composition that goes on once both threads are in: the reader waits for the name.
    static BOTH_IN: Barrier = Barrier::new(2);

    fn stack_type_when_both_are_in() -> &'static str {
        BOTH_IN.wait();
        "m::Stack<u8>"
    }

    #[test]
    fn a_name_read_while_another_thread_composes_it_is_the_composed_one() {
        static SITE: Site = Site::composed("m::Stack<T>::push", "m", PUSH, no_start);
        let composer = std::thread::spawn(|| SITE.resolve_self(stack_type_when_both_are_in));
        BOTH_IN.wait();
        SITE.resolve_self(stack_type_when_both_are_in);
        let first = names_seen(&SITE);
        composer.join().unwrap();
        assert_eq!(first, ["m::Stack::push"; 2]);
        assert_eq!(SITE.name(), "m::Stack::push");
    }

    /// A traced allocator re-entered while this thread composes the site's name: it asks for
    /// the name at once, without waiting for itself.
    #[test]
    fn a_name_asked_for_by_the_composing_thread_itself_is_the_compile_time_one() {
        static SITE: Site = Site::composed("m::Stack<T>::push", "m", PUSH, no_start);
        static INSIDE: Mutex<&str> = Mutex::new("");
        fn reentering_type() -> &'static str {
            *INSIDE.lock().unwrap() = SITE.name();
            "m::Stack<u8>"
        }
        SITE.resolve_self(reentering_type);
        assert_eq!(*INSIDE.lock().unwrap(), "m::Stack<T>::push");
        assert_eq!(SITE.name(), "m::Stack<T>::push");
    }

    #[test]
    fn a_name_composed_before_it_is_read_is_the_name() {
        static SITE: Site = Site::composed("m::Stack<T>::push", "m", PUSH, no_start);
        SITE.resolve_self(stack_of_u8);
        assert_eq!(names_seen(&SITE), ["m::Stack::push"; 2]);
        assert_eq!(names_seen(&SITE), ["m::Stack::push"]);
        SITE.resolve_self(held_stack_type); // resolved: the type is not asked again
        assert_eq!(SITE.name(), "m::Stack::push");
    }

    /// Two threads make a generic impl's method's first call at once, many times over: each
    /// site has one name, whichever it is, in every thread and after.
    #[test]
    fn racing_first_calls_agree_on_the_name() {
        static START: Barrier = Barrier::new(2);
        static SEEN: Mutex<Vec<&str>> = Mutex::new(Vec::new());
        for _ in 0..500 {
            let site: &'static Site = Box::leak(Box::new(Site::composed(
                "m::Stack<T>::push",
                "m",
                PUSH,
                no_start,
            )));
            let call = move || {
                START.wait();
                site.resolve_self(stack_of_u8);
                let seen = names_seen(site);
                SEEN.lock().unwrap().extend(seen);
            };
            let other = std::thread::spawn(call);
            call();
            other.join().unwrap();
            let seen = std::mem::take(&mut *SEEN.lock().unwrap());
            let last = site.name();
            assert!(["m::Stack<T>::push", "m::Stack::push"].contains(&last));
            // Two `name()`s and the filter decision (made by either thread, or by both at once).
            assert!(
                seen.len() >= 3 && seen.iter().all(|n| *n == last),
                "{seen:?}"
            );
        }
    }
}
