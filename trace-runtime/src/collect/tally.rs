//! What a run that only records keeps of its events as it writes them, in place of decoding
//! them: per fn the calls, events and time the note on a large trace names (`Counts`), and
//! which frames are open (`Tally`), so that the end of the run reads the recording back only
//! when something never finished.

#[cfg(feature = "enable")]
use super::{decode, event::Raw, frames::IdMap};
#[cfg(feature = "enable")]
use crate::capture::{clock::Calibration, record};

/// Per fn: events (enters and exits), finished calls, and their wall time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub events: u64,
    pub calls: u64,
    pub total_ns: u64,
}

/// Counts a trace's events per fn: a finished call's enter and exit, when the call is in the
/// trace. A call shorter than `min_ns` (`TRACE_FILTER=min=`) is not: nor are its callees, which
/// are shorter still, so the rule per call is the one `min=` applies per tree.
#[derive(Debug, Default)]
pub struct Counts {
    /// Events counted in all.
    pub events: u64,
    /// Per fn, by site index (dense, from 0): a vector, not a map, since every event lands
    /// here.
    pub sites: Vec<Count>,
    /// Calls shorter than this are not counted (0: every call).
    pub min_ns: u64,
}

impl Counts {
    /// Counts only calls at least `min_ns` long, as `TRACE_FILTER=min=` writes them.
    pub fn at_least(min_ns: u64) -> Self {
        Counts {
            min_ns,
            ..Counts::default()
        }
    }

    /// A finished call of the fn at `site` that took `elapsed_ns`: its enter and its exit.
    #[inline]
    pub fn call(&mut self, site: u32, elapsed_ns: u64) {
        if elapsed_ns < self.min_ns {
            return;
        }
        self.events += 2;
        let i = site as usize;
        if i >= self.sites.len() {
            self.sites.resize(i + 1, Count::default());
        }
        let c = &mut self.sites[i];
        c.events += 2;
        c.calls += 1;
        c.total_ns += elapsed_ns;
    }
}

/// The open frames and the counts of a run that only records.
///
/// ```ignore
/// let mut tally = Tally::default();
/// if tally.admits(&raw) {
///     tally.see(&raw, &cal);
/// }
/// assert!(!tally.needs_reading(), "every frame entered has exited");
/// ```
#[cfg(feature = "enable")]
#[derive(Default)]
pub struct Tally {
    /// Open frames: id to the ticks they were entered at and their site.
    open: IdMap<(u64, u32)>,
    /// Per thread (by number), its last enter while nothing else of the thread has come
    /// since: most calls are leaves, whose exit comes next, and never touch `open`.
    last_enter: Vec<Option<Entered>>,
    pub counts: Counts,
    /// An exit came whose enter was not seen: only a decoding of the recording says how it
    /// shows.
    stray: bool,
}

/// A frame entered: its id, the ticks it was entered at, its site.
#[cfg(feature = "enable")]
#[derive(Clone, Copy)]
struct Entered {
    id: u64,
    ts: u64,
    site: u32,
}

/// Threads numbered past this keep their enters in `open` only.
#[cfg(feature = "enable")]
const LAST_ENTERS: usize = 1 << 16;

#[cfg(feature = "enable")]
impl Tally {
    /// Whether `raw` goes into the recording: the decoder's rule but for frames entered twice,
    /// which capture never writes (a decoder of the recording checks that too).
    #[inline]
    pub fn admits(&self, raw: &Raw) -> bool {
        decode::admissible(raw, |_| false)
    }

    /// One record, in its thread's order (threads may come in any order).
    #[inline]
    pub fn see(&mut self, raw: &Raw, cal: &Calibration) {
        let id = raw.id & record::ID_MASK;
        let kind = raw.id & record::KIND_MASK;
        let t = raw.thread as usize;
        if let Some(last) = self.last_enter.get_mut(t).and_then(Option::take) {
            if kind == record::EXIT && last.id == id {
                // A leaf call. Never negative, as the decoder measures a call (one conversion
                // to nanoseconds, not two: the same but for rounding).
                self.counts
                    .call(last.site, cal.span_ns(raw.ts.saturating_sub(last.ts)));
                return;
            }
            self.open.insert(last.id, (last.ts, last.site));
        }
        match kind {
            record::ENTER | record::TASK if t < LAST_ENTERS => {
                if t >= self.last_enter.len() {
                    self.last_enter.resize(t + 1, None);
                }
                self.last_enter[t] = Some(Entered {
                    id,
                    ts: raw.ts,
                    site: raw.site,
                });
            }
            record::ENTER | record::TASK => {
                self.open.insert(id, (raw.ts, raw.site));
            }
            record::EXIT => match self.open.remove(&id) {
                Some((ts, site)) => self
                    .counts
                    .call(site, cal.span_ns(raw.ts.saturating_sub(ts))),
                None => {
                    self.stray = true;
                    self.counts.call(raw.site, 0);
                }
            },
            _ => {}
        }
    }

    /// Whether what is open can only be told by decoding the recording: a frame is open, or
    /// an exit came without its enter.
    pub fn needs_reading(&self) -> bool {
        !self.open.is_empty() || self.stray || self.last_enter.iter().any(Option::is_some)
    }
}

#[cfg(all(test, feature = "enable"))]
mod tests {
    use super::*;

    fn raw(thread: u32, ts: u64, kind: u64, id: u64, site: u32) -> Raw {
        Raw {
            thread,
            ts,
            id: kind | id,
            site,
            aux: 0,
        }
    }

    const CAL: Calibration = Calibration {
        origin: 0,
        ns_per_tick: 2.0,
    };

    #[test]
    fn calls_are_counted_per_fn_and_open_frames_known_whatever_the_thread_order() {
        let mut t = Tally::default();
        // Thread 2's records come before thread 1's, as a round hands them on; frame 7 is a
        // future entered on thread 1 and finished on thread 2.
        for r in [
            raw(2, 30, record::EXIT, 7, 1),
            raw(1, 10, record::ENTER, 5, 0),
            raw(1, 11, record::TASK, 7, 1),
            raw(1, 20, record::EXIT, 5, 0),
            raw(1, 40, record::ENTER, 6, 0),
        ] {
            assert!(t.admits(&r));
            t.see(&r, &CAL);
        }
        // Thread 2's exit came first: an exit without its enter, then the enter of 7.
        assert!(t.needs_reading());
        let mut t = Tally::default();
        for r in [
            raw(1, 10, record::ENTER, 5, 0),
            raw(1, 11, record::TASK, 7, 1),
            raw(1, 20, record::EXIT, 5, 0),
            raw(2, 30, record::EXIT, 7, 1),
            raw(1, 40, record::ENTER, 6, 0),
        ] {
            t.see(&r, &CAL);
        }
        assert!(t.needs_reading(), "frame 6 is open");
        assert!(!t.admits(&raw(1, 41, record::EXIT, 0, 0)), "frame 0");
        t.see(&raw(1, 50, record::EXIT, 6, 0), &CAL);
        assert!(!t.needs_reading());
        assert_eq!(t.counts.events, 6);
        assert_eq!(
            t.counts.sites,
            [
                Count {
                    events: 4,
                    calls: 2,
                    total_ns: 2 * (10 + 10)
                },
                Count {
                    events: 2,
                    calls: 1,
                    total_ns: 2 * 19
                }
            ]
        );
    }
}
