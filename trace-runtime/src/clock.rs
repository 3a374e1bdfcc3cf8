//! Timestamps. The hot path reads raw ticks (the CPU's invariant time-stamp counter on x86_64,
//! else `Instant` nanoseconds); records keep ticks, and rendering turns them into nanoseconds
//! since the process's first traced call with a factor calibrated once against `Instant`.

use std::sync::OnceLock;
use std::time::Instant;

/// How ticks become nanoseconds.
pub(crate) struct Calibration {
    origin: u64,
    ns_per_tick: f64,
}

static CALIBRATION: OnceLock<Calibration> = OnceLock::new();
static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Whether the TSC can be used: 0 unknown, 1 yes, 2 no.
#[cfg(target_arch = "x86_64")]
static TSC_USABLE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tsc_usable() -> bool {
    match TSC_USABLE.load(std::sync::atomic::Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => probe_tsc(),
    }
}

#[cfg(target_arch = "x86_64")]
// `__cpuid` is safe to call on recent toolchains and unsafe on older ones.
#[allow(unused_unsafe)]
#[cold]
fn probe_tsc() -> bool {
    use std::sync::atomic::Ordering;
    // CPUID leaf 0x8000_0007, EDX bit 8: the TSC runs at a constant rate in every power state
    // and is synchronised across cores.
    // SAFETY (older toolchains): CPUID exists on every x86_64 CPU.
    let max = unsafe { std::arch::x86_64::__cpuid(0x8000_0000) }.eax;
    let invariant = max >= 0x8000_0007 && {
        // SAFETY: as above; the leaf is supported (checked against `max`).
        let leaf = unsafe { std::arch::x86_64::__cpuid(0x8000_0007) };
        leaf.edx & (1 << 8) != 0
    };
    TSC_USABLE.store(if invariant { 1 } else { 2 }, Ordering::Relaxed);
    invariant
}

/// Raw ticks: read on every event, so as cheap as the platform allows.
#[inline(always)]
pub(crate) fn ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if tsc_usable() {
            // SAFETY: RDTSC exists on every x86_64 CPU; invariance was checked.
            return unsafe { std::arch::x86_64::_rdtsc() };
        }
    }
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Calibrates once (about 2 ms of spinning on first use when the TSC is used).
pub(crate) fn calibration() -> &'static Calibration {
    CALIBRATION.get_or_init(|| {
        let epoch = *EPOCH.get_or_init(Instant::now);
        let origin = ticks();
        #[cfg(target_arch = "x86_64")]
        if tsc_usable() {
            let start = Instant::now();
            let t0 = ticks();
            while start.elapsed().as_nanos() < 2_000_000 {
                std::hint::spin_loop();
            }
            let t1 = ticks();
            let ns = start.elapsed().as_nanos() as f64;
            return Calibration {
                origin,
                ns_per_tick: ns / (t1.wrapping_sub(t0).max(1)) as f64,
            };
        }
        let _ = epoch;
        Calibration {
            origin,
            ns_per_tick: 1.0,
        }
    })
}

impl Calibration {
    /// Nanoseconds since the first traced call.
    #[inline]
    pub(crate) fn ns(&self, ticks: u64) -> u64 {
        (ticks.saturating_sub(self.origin) as f64 * self.ns_per_tick) as u64
    }

    /// A duration in ticks as nanoseconds.
    #[inline]
    pub(crate) fn span_ns(&self, ticks: u64) -> u64 {
        (ticks as f64 * self.ns_per_tick) as u64
    }

    /// Nanoseconds as ticks (for thresholds compared on the hot path).
    pub(crate) fn ticks_for(&self, ns: u64) -> u64 {
        (ns as f64 / self.ns_per_tick) as u64
    }
}
