//! Timestamps. The hot path reads raw ticks: the CPU's time-stamp counter on x86_64 when it is
//! invariant and agrees across cores, else the OS monotonic clock in nanoseconds. Which one is
//! decided once, before the first timestamp; turning ticks into nanoseconds (calibration) is
//! the collector's business, off the traced threads.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// 0 undecided, 1 TSC, 2 monotonic clock.
static SOURCE: AtomicU8 = AtomicU8::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();
#[cfg(feature = "enable")]
static WHY: OnceLock<&'static str> = OnceLock::new();

/// Raw ticks: read on every event, so as cheap as the platform allows. Call [`choose`] once
/// before the first one (the runtime's setup does).
#[inline(always)]
pub fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if SOURCE.load(Ordering::Relaxed) == 1 {
            // SAFETY: RDTSC exists on every x86_64 CPU; `choose` checked it is invariant and
            // consistent across cores.
            return unsafe { std::arch::x86_64::_rdtsc() };
        }
    }
    monotonic_ns()
}

fn monotonic_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Whether ticks are TSC cycles (else nanoseconds).
pub fn is_tsc() -> bool {
    SOURCE.load(Ordering::Relaxed) == 1
}

#[cfg(feature = "enable")]
/// Why this clock was chosen, for `TRACE_VERBOSE`.
pub fn description() -> &'static str {
    WHY.get().copied().unwrap_or("not chosen yet")
}

#[cfg(feature = "enable")]
/// Decides the clock, once: the TSC if the CPU says it is invariant (constant rate, never
/// stopped) and two threads reading it in turn never see it go backwards; else the monotonic
/// clock.
pub fn choose() {
    if SOURCE.load(Ordering::Acquire) != 0 {
        return;
    }
    EPOCH.get_or_init(Instant::now);
    let (source, why) = decide();
    let _ = WHY.set(why);
    let _ = SOURCE.compare_exchange(0, source, Ordering::AcqRel, Ordering::Acquire);
}

#[cfg(target_arch = "x86_64")]
// `__cpuid` is safe to call on recent toolchains and unsafe on older ones.
#[cfg(feature = "enable")]
#[allow(unused_unsafe)]
fn decide() -> (u8, &'static str) {
    if std::env::var_os("TRACE_CLOCK").is_some_and(|v| v == "monotonic") {
        return (2, "monotonic clock (TRACE_CLOCK=monotonic)");
    }
    // CPUID leaf 0x8000_0007, EDX bit 8: the TSC runs at a constant rate in every power state.
    // SAFETY (older toolchains): CPUID exists on every x86_64 CPU.
    let max = unsafe { std::arch::x86_64::__cpuid(0x8000_0000) }.eax;
    let invariant = max >= 0x8000_0007 && {
        // SAFETY: as above; the leaf is supported (checked against `max`).
        let leaf = unsafe { std::arch::x86_64::__cpuid(0x8000_0007) };
        leaf.edx & (1 << 8) != 0
    };
    if !invariant {
        return (
            2,
            "monotonic clock (the CPU does not report an invariant TSC)",
        );
    }
    if !tsc_agrees_across_threads() {
        return (
            2,
            "monotonic clock (the TSC went backwards from one CPU to another)",
        );
    }
    (1, "TSC (invariant, consistent across CPUs)")
}

#[cfg(feature = "enable")]
#[cfg(not(target_arch = "x86_64"))]
fn decide() -> (u8, &'static str) {
    (2, "monotonic clock")
}

/// Moves this thread onto each CPU it may run on in turn, reading the TSC on each: a reading
/// smaller than the one before it means the CPUs' counters disagree. Puts the thread's CPU set
/// back as it was. A migration or so per CPU (a fraction of a millisecond), and no other thread.
#[cfg(all(target_arch = "x86_64", target_os = "linux", feature = "enable"))]
fn tsc_agrees_across_threads() -> bool {
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `cpu_set_t` is plain data (all zeroes is the empty set); the affinity calls get
    // valid pointers and their sizes; RDTSC exists on every x86_64 CPU.
    unsafe {
        let mut original: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, size, &mut original) != 0 {
            return true;
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &original))
            .take(64)
            .collect();
        if cpus.len() < 2 {
            return true;
        }
        let mut last = 0u64;
        let mut agree = true;
        // Each CPU once, then back to the first: every pair of neighbours compared both ways
        // round the ring.
        for &cpu in cpus.iter().chain(cpus.first()) {
            {
                let mut one: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu, &mut one);
                if libc::sched_setaffinity(0, size, &one) != 0 {
                    continue;
                }
                let now = std::arch::x86_64::_rdtsc();
                agree &= now >= last;
                last = now;
            }
        }
        libc::sched_setaffinity(0, size, &original);
        agree
    }
}

#[cfg(all(
    target_arch = "x86_64",
    not(all(target_os = "linux", feature = "enable"))
))]
#[cfg(feature = "enable")]
fn tsc_agrees_across_threads() -> bool {
    // No way to visit each CPU here: the CPU's word stands.
    true
}

#[cfg(feature = "enable")]
/// The ticks and the instant of the first traced call, from which calibration measures.
pub fn origin() -> (u64, Instant) {
    let t = ticks();
    (t, Instant::now())
}

/// How ticks become nanoseconds, measured once by the collector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// Ticks at the first traced call: nanosecond 0.
    pub origin: u64,
    pub ns_per_tick: f64,
}

impl Calibration {
    /// Measures the tick rate between two moments, `origin` (ticks and instant at the first
    /// traced call) and now, after at least a millisecond: the collector does it off the traced
    /// threads, the longer after the start the more exact.
    pub fn since(origin: (u64, Instant)) -> Calibration {
        if !is_tsc() {
            return Calibration {
                origin: origin.0,
                ns_per_tick: 1.0,
            };
        }
        let min = std::time::Duration::from_millis(1);
        while origin.1.elapsed() < min {
            std::thread::sleep(min.saturating_sub(origin.1.elapsed()));
        }
        let (t1, ns) = (ticks(), origin.1.elapsed().as_nanos() as f64);
        Calibration {
            origin: origin.0,
            ns_per_tick: ns / (t1.saturating_sub(origin.0).max(1)) as f64,
        }
    }

    /// Nanoseconds since the first traced call (0 for anything earlier).
    #[inline]
    pub fn ns(&self, ticks: u64) -> u64 {
        (ticks.saturating_sub(self.origin) as f64 * self.ns_per_tick) as u64
    }

    /// A duration in ticks as nanoseconds.
    #[inline]
    pub fn span_ns(&self, ticks: u64) -> u64 {
        // Through `i64`, which converts to and from `f64` in one instruction each (`u64` takes
        // several); no span comes near 2^63 ticks, and one past it is held there, as a negative
        // product (a damaged recording's calibration) is held at 0.
        ((ticks.min(i64::MAX as u64) as i64 as f64 * self.ns_per_tick) as i64).max(0) as u64
    }
}
