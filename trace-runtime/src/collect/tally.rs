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

#[cfg(feature = "enable")]
impl Counts {
    /// Adds `other`'s counts (of the same run's sites) to these.
    pub fn add(&mut self, other: &Counts) {
        self.events += other.events;
        if self.sites.len() < other.sites.len() {
            self.sites.resize(other.sites.len(), Count::default());
        }
        for (mine, theirs) in self.sites.iter_mut().zip(&other.sites) {
            mine.events += theirs.events;
            mine.calls += theirs.calls;
            mine.total_ns += theirs.total_ns;
        }
    }
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
    /// Open frames no stack holds: id to the ticks they were entered at and their site.
    open: IdMap<(u64, u32)>,
    /// Per thread (by number), the frames it entered that are open, oldest first, at most
    /// `STACK_MAX` (older ones go to `open`): a sync call exits before its caller, so nearly
    /// every exit is its thread's innermost open frame and never touches `open`.
    stacks: Vec<Vec<Entered>>,
    pub counts: Counts,
    /// An exit came whose enter was not seen: only a decoding of the recording says how it
    /// shows.
    stray: bool,
    /// With several collectors (lanes), this tally's lane and how many there are: a frame is
    /// the lane's whose thread entered it (`thread % lanes`; the thread is in the frame's id).
    lane: u64,
    lanes: u64,
    /// Exits of other lanes' frames read here, for those lanes (`take_away`).
    away: Vec<Exited>,
    /// Exits from other lanes whose enter this lane has not read yet.
    early: IdMap<(u64, u32)>,
}

/// A frame entered: its id, the ticks it was entered at, its site.
#[cfg(feature = "enable")]
#[derive(Clone, Copy)]
struct Entered {
    id: u64,
    ts: u64,
    site: u32,
}

/// A frame's exit: its id, the ticks it exited at and its site (what a lane sends the lane
/// whose frame it is).
#[cfg(feature = "enable")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exited {
    pub id: u64,
    pub ts: u64,
    pub site: u32,
}

/// Threads numbered past this keep their enters in `open` only.
#[cfg(feature = "enable")]
const STACKS: usize = 1 << 16;

/// Open frames a thread's stack holds at most: past it, the older half goes to `open`, so an
/// exit that is not the innermost (a future finishing while others wait) searches few.
#[cfg(feature = "enable")]
const STACK_MAX: usize = 32;

#[cfg(feature = "enable")]
impl Tally {
    /// Whether `raw` goes into the recording: the decoder's rule but for frames entered twice,
    /// which capture never writes (a decoder of the recording checks that too).
    #[inline]
    pub fn admits(&self, raw: &Raw) -> bool {
        decode::admissible(raw, |_| false)
    }

    /// Whose frame `id` is: the lane of the thread that entered it.
    #[inline]
    fn owner(&self, id: u64) -> u64 {
        super::lane_of(id >> record::SEQ_BITS, self.lanes)
    }

    /// One record, in its thread's order (threads may come in any order).
    #[inline]
    pub fn see(&mut self, raw: &Raw, cal: &Calibration) {
        let id = raw.id & record::ID_MASK;
        let kind = raw.id & record::KIND_MASK;
        let t = raw.thread as usize;
        match kind {
            record::ENTER | record::TASK => {
                if !self.early.is_empty() {
                    if let Some((ts, site)) = self.early.remove(&id) {
                        // Its exit, read by another lane, came first.
                        self.counts
                            .call(site, cal.span_ns(ts.saturating_sub(raw.ts)));
                        return;
                    }
                }
                self.push(
                    t,
                    Entered {
                        id,
                        ts: raw.ts,
                        site: raw.site,
                    },
                );
            }
            record::EXIT => {
                if let Some(stack) = self.stacks.get_mut(t) {
                    if stack.last().is_some_and(|e| e.id == id) {
                        // The thread's innermost open frame: most exits. Never negative, as
                        // the decoder measures a call (one conversion to nanoseconds, not two:
                        // the same but for rounding).
                        let e = stack.pop().expect("just seen");
                        self.counts
                            .call(e.site, cal.span_ns(raw.ts.saturating_sub(e.ts)));
                        return;
                    }
                }
                let x = Exited {
                    id,
                    ts: raw.ts,
                    site: raw.site,
                };
                if self.lanes > 1 && self.owner(id) != self.lane {
                    self.away.push(x);
                } else {
                    self.exit(x, cal);
                }
            }
            _ => {}
        }
    }

    /// A frame thread `t` entered, on its stack.
    #[inline]
    fn push(&mut self, t: usize, e: Entered) {
        if t >= STACKS {
            self.open.insert(e.id, (e.ts, e.site));
            return;
        }
        if t >= self.stacks.len() {
            self.stacks.resize_with(t + 1, Vec::new);
        }
        let stack = &mut self.stacks[t];
        if stack.len() >= STACK_MAX {
            let older = stack.drain(..STACK_MAX / 2);
            self.open.extend(older.map(|e| (e.id, (e.ts, e.site))));
        }
        stack.push(e);
    }

    /// An exit of this lane's frame, read here or by another lane, paired with its enter: on
    /// the stack of the thread that entered it (its number is in the id), or in `open`. An
    /// exit whose enter has not been read yet (a task that moved to a thread read earlier in
    /// the round, or in another lane) waits for it in `early`; only at the end is one never
    /// paired a stray (`settle`).
    fn exit(&mut self, x: Exited, cal: &Calibration) {
        let t = (x.id >> record::SEQ_BITS) as usize;
        let stacked = self.stacks.get_mut(t).and_then(|stack| {
            let at = stack.iter().rposition(|e| e.id == x.id)?;
            let e = stack.remove(at);
            Some((e.ts, e.site))
        });
        match stacked.or_else(|| self.open.remove(&x.id)) {
            Some((ts, site)) => self.counts.call(site, cal.span_ns(x.ts.saturating_sub(ts))),
            None => {
                self.early.insert(x.id, (x.ts, x.site));
            }
        }
    }

    /// The exits of other lanes' frames read since the last call, for their lanes.
    pub fn take_away(&mut self) -> Vec<Exited> {
        std::mem::take(&mut self.away)
    }

    /// Exits of this lane's frames that another lane read.
    pub fn arrive(&mut self, exits: &[Exited], cal: &Calibration) {
        for &x in exits {
            self.exit(x, cal);
        }
    }

    /// This lane's share of the threads: `lane` of `lanes`.
    pub fn set_lane(&mut self, lane: usize, lanes: usize) {
        self.lane = lane as u64;
        self.lanes = lanes.max(1) as u64;
    }

    /// Takes in the other lanes' tallies at the end of the run, with the exits still on their
    /// way between lanes (`pending`): their counts and open frames, then every exit that
    /// crossed lanes matched with its enter; then `settle`.
    pub fn absorb(&mut self, others: Vec<Tally>, pending: Vec<Exited>, cal: &Calibration) {
        let mut exits: Vec<Exited> = self.take_away();
        exits.extend(pending);
        exits.extend(
            self.early
                .drain()
                .map(|(id, (ts, site))| Exited { id, ts, site }),
        );
        let mut stacks = std::mem::take(&mut self.stacks);
        for other in others {
            self.counts.add(&other.counts);
            self.stray |= other.stray;
            self.open.extend(other.open);
            stacks.extend(other.stacks);
            exits.extend(other.away);
            exits.extend(
                other
                    .early
                    .into_iter()
                    .map(|(id, (ts, site))| Exited { id, ts, site }),
            );
        }
        for e in stacks.into_iter().flatten() {
            self.open.insert(e.id, (e.ts, e.site));
        }
        // Every enter is in `open` now: what cannot be paired, no lane read.
        self.arrive(&exits, cal);
        self.settle();
    }

    /// The end of the run: an exit still waiting for its enter never had one read (recorded
    /// before the run's state was there, or lost): a stray, counted as the decoder shows it, a
    /// call of no time.
    pub fn settle(&mut self) {
        for (_, (_, site)) in self.early.drain() {
            self.stray = true;
            self.counts.call(site, 0);
        }
    }

    /// Frames open that a thread other than `thread` entered (`None`: any thread), as far as
    /// this tally knows: what is left to say when the recording cannot be read back.
    pub fn open_off(&self, thread: Option<u32>) -> usize {
        let elsewhere = |id: u64| thread.is_none_or(|t| id >> record::SEQ_BITS != u64::from(t));
        self.open.keys().filter(|&&id| elsewhere(id)).count()
            + self
                .stacks
                .iter()
                .flatten()
                .filter(|e| elsewhere(e.id))
                .count()
    }

    /// Whether what is open can only be told by decoding the recording: a frame is open, or
    /// an exit came without its enter (or is still on its way between lanes).
    pub fn needs_reading(&self) -> bool {
        !self.open.is_empty()
            || self.stray
            || !self.early.is_empty()
            || !self.away.is_empty()
            || self.stacks.iter().any(|s| !s.is_empty())
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
        let id = |n: u64| (1 << record::SEQ_BITS) + n;
        let mut t = Tally::default();
        // Thread 2's records come before thread 1's, as a round hands them on; frame 7 is a
        // future entered on thread 1 and finished on thread 2.
        for r in [
            raw(2, 30, record::EXIT, id(7), 1),
            raw(1, 10, record::ENTER, id(5), 0),
            raw(1, 11, record::TASK, id(7), 1),
            raw(1, 20, record::EXIT, id(5), 0),
            raw(1, 40, record::ENTER, id(6), 0),
        ] {
            assert!(t.admits(&r));
            t.see(&r, &CAL);
        }
        // Thread 2's exit came first: an exit without its enter, then the enter of 7.
        assert!(t.needs_reading());
        let mut t = Tally::default();
        for r in [
            raw(1, 10, record::ENTER, id(5), 0),
            raw(1, 11, record::TASK, id(7), 1),
            raw(1, 20, record::EXIT, id(5), 0),
            raw(2, 30, record::EXIT, id(7), 1),
            raw(1, 40, record::ENTER, id(6), 0),
        ] {
            t.see(&r, &CAL);
        }
        assert!(t.needs_reading(), "frame 6 is open");
        assert!(!t.admits(&raw(1, 41, record::EXIT, 0, 0)), "frame 0");
        t.see(&raw(1, 50, record::EXIT, id(6), 0), &CAL);
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

    /// Two lanes: thread 1's frames are lane 1's, thread 2's lane 0's. A task entered on
    /// thread 1 and finished on thread 2 is counted once, by lane 1, whichever lane reads
    /// first; at the end, exits still crossing find their enters, and one no lane entered is a
    /// stray.
    #[test]
    fn a_frame_entered_in_one_lane_and_exited_in_another_is_counted_once() {
        let id = |thread: u64, n: u64| (thread << record::SEQ_BITS) + n;
        let count = |t: &Tally, site: usize| t.counts.sites.get(site).copied().unwrap_or_default();
        let lane = |lane| {
            let mut t = Tally::default();
            t.set_lane(lane, 2);
            t
        };
        let (mut l0, mut l1) = (lane(0), lane(1));
        // The exit read before the enter.
        l0.see(&raw(2, 30, record::EXIT, id(1, 1), 3), &CAL);
        assert_eq!(l0.counts.events, 0);
        let away = l0.take_away();
        assert_eq!(
            away,
            [Exited {
                id: id(1, 1),
                ts: 30,
                site: 3
            }]
        );
        l1.arrive(&away, &CAL);
        assert!(l1.needs_reading(), "its enter not read yet");
        l1.see(&raw(1, 10, record::TASK, id(1, 1), 3), &CAL);
        assert_eq!(
            count(&l1, 3),
            Count {
                events: 2,
                calls: 1,
                total_ns: 40
            }
        );
        // The enter read first.
        l1.see(&raw(1, 50, record::TASK, id(1, 2), 4), &CAL);
        l0.see(&raw(2, 60, record::EXIT, id(1, 2), 4), &CAL);
        l1.arrive(&l0.take_away(), &CAL);
        assert_eq!(count(&l1, 4).total_ns, 20);
        assert!(!l0.needs_reading() && !l1.needs_reading());
        // At the end, one exit still on its way, and one whose frame no lane entered.
        l1.see(&raw(1, 70, record::ENTER, id(1, 3), 5), &CAL);
        l0.see(&raw(2, 80, record::EXIT, id(1, 3), 5), &CAL);
        l0.see(&raw(2, 90, record::EXIT, id(1, 9), 6), &CAL);
        l0.absorb(vec![l1], Vec::new(), &CAL);
        assert_eq!(count(&l0, 5).total_ns, 20);
        assert_eq!(count(&l0, 3).calls + count(&l0, 4).calls, 2);
        assert_eq!(
            count(&l0, 6),
            Count {
                events: 2,
                calls: 1,
                total_ns: 0
            }
        );
        assert_eq!(l0.counts.events, 8);
        assert!(l0.needs_reading(), "an exit without its enter");
    }

    /// One lane, threads handed on in number order: a task entered on thread 3 and finished on
    /// thread 1 shows its exit first; a task entered as thread 2's last record finishes on
    /// thread 1. Both pair with their enters; nothing is a stray.
    #[test]
    fn exits_read_before_their_enters_or_beside_a_last_enter_pair_up() {
        let id = |thread: u64, n: u64| (thread << record::SEQ_BITS) + n;
        let mut t = Tally::default();
        t.see(&raw(1, 50, record::EXIT, id(3, 1), 2), &CAL);
        assert!(t.needs_reading(), "its enter not read yet");
        t.see(&raw(3, 20, record::TASK, id(3, 1), 2), &CAL);
        t.see(&raw(2, 60, record::TASK, id(2, 1), 4), &CAL);
        t.see(&raw(1, 70, record::EXIT, id(2, 1), 4), &CAL);
        assert!(!t.needs_reading());
        t.settle();
        assert!(!t.needs_reading(), "no stray");
        assert_eq!(t.counts.sites[2].total_ns, 60);
        assert_eq!(t.counts.sites[4].total_ns, 20);
        // An exit whose enter never came is a stray once the run ends.
        t.see(&raw(1, 80, record::EXIT, id(3, 9), 5), &CAL);
        t.settle();
        assert!(t.needs_reading());
        assert_eq!(t.counts.sites[5].calls, 1);
    }

    /// A thread that enters more frames than its stack holds (futures that wait) and ends
    /// them oldest first: the older ones move to the map, and each exit finds its enter.
    #[test]
    fn frames_past_a_stack_s_depth_exit_in_any_order() {
        let id = |n: u64| (1 << record::SEQ_BITS) + n;
        let mut t = Tally::default();
        let n = 3 * STACK_MAX as u64 + 5;
        for i in 0..n {
            t.see(&raw(1, i, record::TASK, id(i), 0), &CAL);
        }
        assert_eq!(t.open_off(None), n as usize);
        for i in 0..n {
            assert!(t.needs_reading());
            t.see(&raw(2, n + i, record::EXIT, id(i), 0), &CAL);
        }
        t.settle();
        assert!(!t.needs_reading());
        assert_eq!(
            t.counts.sites[0],
            Count {
                events: 2 * n,
                calls: n,
                total_ns: 2 * n * n
            }
        );
    }
}
