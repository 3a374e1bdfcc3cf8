//! Turns raw events, in time order, into decoded events: names, depth, task, durations in
//! nanoseconds, one method per record kind over the table of open frames (`frames.rs`). The
//! same decoder serves the live collector and a recording read back, so both give the views the
//! same events.

use super::event::{ErrorExit, Event, Kind, Raw, Tables};
use super::frames::{Frames, IdMap, OpenFrame};
use super::tally::Counts;
use crate::capture::clock::Calibration;
use crate::capture::record;

/// What consumes the collected stream: the views, live or on a recording.
pub trait Consumer: Send {
    /// Every decoded event, in order; `ctx.frames` still holds an exiting frame and its
    /// callers.
    fn event(&mut self, _event: &Event, _ctx: &Ctx<'_>) {}
    /// Write out what is buffered: the end of one collection round.
    fn flush(&mut self) {}
    /// The end of a live collection round, with the frames open and the time now: what sees
    /// time pass with no event (the hang detector, `view/watch.rs`).
    fn tick(&mut self, _ctx: &Ctx<'_>, _now_ns: u64) {}
    /// The run is over (or the process is going down): final reports.
    fn finish(&mut self, _end: &End<'_>) {}
    /// Whether the view holds events back, to hand on (and read the values of) later: while
    /// any view does, no frame's values are freed (`Decoder::free_values`).
    fn holds_events(&self) -> bool {
        false
    }
}

/// What a view may look up while it handles an event.
pub struct Ctx<'a> {
    pub frames: &'a Frames,
    pub tables: &'a Tables,
}

/// The state of the run at its end.
pub struct End<'a> {
    /// Raw ticks when the run ended.
    pub ticks: u64,
    /// Nanoseconds since the first traced call.
    pub ts_ns: u64,
    pub frames: &'a Frames,
    pub tables: &'a Tables,
    /// Calls not traced because the runtime was busy on their thread.
    pub skipped: u64,
    /// Calls counted instead of recorded (`TRACE_HOT`), per site index, in the order the
    /// sites turned hot.
    pub counted: &'a [(u32, u64)],
    /// The calls a run that only records counted as it wrote them, in place of the events no
    /// view was given (see `collect::tally`).
    pub counts: Option<&'a Counts>,
}

/// Whether `raw` can be decoded, given which frames are open (`is_open`): frame 0 means "none"
/// in every link, and a frame is entered once. Only a damaged recording read past its checksum
/// holds either, and the frame lists would loop on it.
#[inline]
pub fn admissible(raw: &Raw, is_open: impl Fn(u64) -> bool) -> bool {
    let id = raw.id & record::ID_MASK;
    let kind = raw.id & record::KIND_MASK;
    !(matches!(kind, record::ENTER | record::TASK | record::EXIT) && id == 0
        || matches!(kind, record::ENTER | record::TASK) && is_open(id))
}

/// Decodes raw events in time order.
pub struct Decoder {
    pub cal: Calibration,
    pub frames: Frames,
    /// The last timestamp seen, in nanoseconds.
    pub now_ns: u64,
    /// Values recorded for a frame (before its enter, or before its exit) and not yet handed
    /// on with the event: frame id to `Event::values`. Empty in a run without values, which
    /// every event's lookup checks first.
    values: IdMap<u32>,
    /// Open frames a callee of which exited with an error: their own error exit passes it on.
    erred: IdMap<()>,
    /// Enters of traced futures whose arguments follow (`record::ARGS_FOLLOW`: recorded first
    /// thing in their first poll, just after the enter), held until the arguments come or
    /// their thread records anything else, so that every view sees them on the enter. At most
    /// one per thread, for the length of one argument's formatting.
    held: Vec<Event>,
    /// Open frames' arguments (`Event::values` of their enter): freed with their exit.
    args_of: IdMap<u32>,
    /// Values of frames whose exit every view has seen, to free once no view holds events.
    retired: Vec<u32>,
}

impl Decoder {
    pub fn new(cal: Calibration) -> Self {
        Decoder {
            cal,
            frames: Frames::default(),
            now_ns: 0,
            values: Default::default(),
            erred: Default::default(),
            held: Vec::new(),
            args_of: Default::default(),
            retired: Vec::new(),
        }
    }

    /// Frees the values of frames whose exit every view has seen, unless a view still holds
    /// events back (then at a later call). The collector calls it before it adds a value: a
    /// run then holds the values of its open frames, of the events views hold back, and of the
    /// frames that exited since the last value was added, whatever its length.
    #[cfg(feature = "enable")]
    pub fn free_values(&mut self, tables: &mut Tables, consumers: &[Box<dyn Consumer>]) {
        if self.retired.is_empty() || consumers.iter().any(|c| c.holds_events()) {
            return;
        }
        for values in self.retired.drain(..) {
            tables.values.free(values);
        }
    }

    /// The end of the run in nanoseconds, from the ticks it ended at: never before the last
    /// event.
    pub fn end_ns(&self, ticks: u64) -> u64 {
        self.cal.ns(ticks).max(self.now_ns)
    }

    /// Whether `raw` can be decoded ([`admissible`] against the frames open here).
    #[inline]
    pub fn admits(&self, raw: &Raw) -> bool {
        admissible(raw, |id| self.frames.is_open(id))
    }

    /// Values recorded for frame `id` (`values` as `Tables::add_values` gave it): handed on with
    /// the frame's next enter or exit; a held enter's arguments, with it now.
    pub fn value(
        &mut self,
        id: u64,
        values: u32,
        tables: &Tables,
        consumers: &mut [Box<dyn Consumer>],
    ) {
        let id = id & record::ID_MASK;
        if let Some(i) = self.held.iter().position(|e| e.id == id) {
            let mut event = self.held.remove(i);
            event.values = values;
            self.emit(&event, tables, consumers);
            return;
        }
        self.values.insert(id, values);
    }

    /// Hands on the enters held for thread `thread`'s arguments: a record of that thread that
    /// is not their arguments means none come.
    fn release(&mut self, thread: u32, tables: &Tables, consumers: &mut [Box<dyn Consumer>]) {
        while let Some(i) = self.held.iter().position(|e| e.thread == thread) {
            let event = self.held.remove(i);
            self.emit(&event, tables, consumers);
        }
    }

    /// Hands on every held enter: the end of the run.
    pub fn release_all(&mut self, tables: &Tables, consumers: &mut [Box<dyn Consumer>]) {
        for event in std::mem::take(&mut self.held) {
            self.emit(&event, tables, consumers);
        }
    }

    /// Decodes one raw event that the decoder [admits](Self::admits) and hands it to every
    /// consumer.
    pub fn feed(&mut self, raw: &Raw, tables: &Tables, consumers: &mut [Box<dyn Consumer>]) {
        let id = raw.id & record::ID_MASK;
        let kind = raw.id & record::KIND_MASK;
        let ts_ns = self.cal.ns(raw.ts);
        self.now_ns = self.now_ns.max(ts_ns);
        if !self.held.is_empty() {
            self.release(raw.thread, tables, consumers);
        }
        match kind {
            record::ENTER => self.enter(id, raw, ts_ns, None, tables, consumers),
            record::TASK => self.enter(id, raw, ts_ns, Some(raw.aux), tables, consumers),
            record::EXIT => self.exit(id, raw, ts_ns, tables, consumers),
            // Id 0 names no frame.
            record::DECLARE | record::LINK if id == 0 && raw.id & record::ADOPT == 0 => {}
            record::DECLARE => self
                .frames
                .declare(id, raw, ts_ns, raw.id & record::HOLD != 0),
            record::LINK if raw.id & record::ADOPT != 0 => self.frames.adopt(raw.thread, raw.aux),
            record::LINK => self.frames.link(id, raw.aux, ts_ns),
            _ => {}
        }
    }

    /// `ENTER` (a call under the frame in `raw.aux`) or `TASK` (the root of task `root_of`):
    /// the frame opens, then the views see it.
    fn enter(
        &mut self,
        id: u64,
        raw: &Raw,
        ts_ns: u64,
        root_of: Option<u64>,
        tables: &Tables,
        consumers: &mut [Box<dyn Consumer>],
    ) {
        let frame = self.frames.open(id, raw, ts_ns, root_of);
        let event = Event {
            kind: Kind::Enter,
            thread: raw.thread,
            task: frame.task,
            depth: frame.depth,
            site: raw.site,
            ts_ns,
            id,
            parent: frame.parent,
            origin: frame.origin,
            values: take(&mut self.values, id).unwrap_or(0),
            error: ErrorExit::None,
        };
        if raw.id & record::ARGS_FOLLOW != 0 && event.values == 0 {
            self.held.push(event);
            return;
        }
        self.emit(&event, tables, consumers);
    }

    /// `EXIT`: the views see the frame's exit while it and its callers are still in the
    /// table, then it closes. Its duration is never negative; an async frame's busy time
    /// (`raw.aux`, in ticks) never exceeds its wall time.
    fn exit(
        &mut self,
        id: u64,
        raw: &Raw,
        ts_ns: u64,
        tables: &Tables,
        consumers: &mut [Box<dyn Consumer>],
    ) {
        let open = self.frames.get_open(id).copied();
        // An exit whose enter was never seen (a thread-local destructor's call whose enter
        // came before the thread's state was gone) still shows, at depth 0.
        let frame = open.unwrap_or(OpenFrame::entered(raw, ts_ns, (0, 0, 0)));
        let elapsed_ns = ts_ns.saturating_sub(frame.start_ns);
        let busy_ns = if raw.id & record::ASYNC != 0 {
            self.cal.span_ns(raw.aux).min(elapsed_ns)
        } else {
            elapsed_ns
        };
        let event = Event {
            kind: Kind::Exit {
                elapsed_ns,
                busy_ns,
                unwinding: raw.id & record::UNWINDING != 0,
                cancelled: raw.id & record::CANCELLED != 0,
            },
            thread: raw.thread,
            task: frame.task,
            depth: frame.depth,
            site: frame.site,
            ts_ns,
            id,
            parent: frame.parent,
            origin: frame.origin,
            values: take(&mut self.values, id).unwrap_or(0),
            error: ErrorExit::None,
        };
        let callee_erred = take(&mut self.erred, id).is_some();
        let event = match tables.values(&event).is_some_and(|v| v.error) {
            true => {
                self.erred.insert(event.parent, ());
                Event {
                    error: if callee_erred {
                        ErrorExit::Passed
                    } else {
                        ErrorExit::Origin
                    },
                    ..event
                }
            }
            false => event,
        };
        self.emit(&event, tables, consumers);
        self.frames.close(id);
    }

    /// Hands a decoded event to every consumer, with the frame table as it stands; after an
    /// exit, the frame's values (its arguments and its result) are no view's to read any more
    /// but those views that hold events back.
    fn emit(&mut self, event: &Event, tables: &Tables, consumers: &mut [Box<dyn Consumer>]) {
        let ctx = Ctx {
            frames: &self.frames,
            tables,
        };
        for c in consumers.iter_mut() {
            c.event(event, &ctx);
        }
        if event.is_enter() {
            if event.values != 0 {
                self.args_of.insert(event.id, event.values);
            }
            return;
        }
        if event.values != 0 {
            self.retired.push(event.values);
        }
        self.retired.extend(take(&mut self.args_of, event.id));
    }
}

/// `map`'s entry for frame `id`, taken out: nothing to hash when the map is empty, as it is for
/// every event of a run without values or errors.
#[inline]
fn take<V>(map: &mut IdMap<V>, id: u64) -> Option<V> {
    if map.is_empty() {
        return None;
    }
    map.remove(&id)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects decoded events into a vector the test keeps a handle on.
    pub(crate) struct Seen(pub(crate) Arc<Mutex<Vec<Event>>>);

    impl Consumer for Seen {
        fn event(&mut self, event: &Event, _ctx: &Ctx<'_>) {
            self.0.lock().unwrap().push(*event);
        }
    }

    pub(crate) fn raw(ts: u64, id: u64, kind: u64, aux: u64) -> Raw {
        Raw {
            thread: 1,
            ts,
            id: id | kind,
            site: 0,
            aux,
        }
    }

    /// Feeds `raws` to a decoder with one view.
    pub(crate) fn run(raws: &[Raw], view: Box<dyn Consumer>) -> Decoder {
        let tables = Tables {
            sites: vec!["demo::f".into()],
            ..Tables::default()
        };
        let cal = Calibration {
            origin: 0,
            ns_per_tick: 1.0,
        };
        let mut views = vec![view];
        let mut d = Decoder::new(cal);
        for r in raws {
            if d.admits(r) {
                d.feed(r, &tables, &mut views);
            }
        }
        d
    }

    pub(crate) fn decode(raws: &[Raw]) -> Vec<Event> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        run(raws, Box::new(Seen(seen.clone())));
        let out = seen.lock().unwrap().clone();
        out
    }

    #[test]
    fn depth_and_task_follow_the_parent() {
        let events = decode(&[
            raw(10, 1, record::TASK, 7),
            raw(11, 2, record::ENTER, 1),
            raw(12, 3, record::ENTER, 2),
            raw(13, 3, record::EXIT, 0),
        ]);
        let shape: Vec<(u32, u64, u64)> =
            events.iter().map(|e| (e.depth, e.task, e.parent)).collect();
        assert_eq!(shape, [(0, 7, 0), (1, 7, 1), (2, 7, 2), (2, 7, 2)]);
    }

    /// Ticks taken on two CPUs whose counters disagree can put an exit before its enter: the
    /// duration is then 0, never negative or wrapped.
    #[test]
    fn an_exit_stamped_before_its_enter_lasts_zero_never_wraps() {
        let events = decode(&[
            raw(100, 1, record::ENTER, 0),
            raw(40, 1, record::EXIT | record::ASYNC, 500),
        ]);
        assert_eq!(
            events[1].kind,
            Kind::Exit {
                elapsed_ns: 0,
                busy_ns: 0,
                unwinding: false,
                cancelled: false
            }
        );
    }

    /// A traced future's arguments are recorded just after its enter (at its first poll): the
    /// views see them on the enter all the same. An enter whose arguments do not come (its
    /// thread records something else first) goes on as it is, before that record.
    #[test]
    fn arguments_that_follow_an_enter_go_with_it() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut views: Vec<Box<dyn Consumer>> = vec![Box::new(Seen(seen.clone()))];
        let tables = Tables {
            sites: vec!["demo::f".into()],
            ..Tables::default()
        };
        let mut d = Decoder::new(Calibration {
            origin: 0,
            ns_per_tick: 1.0,
        });
        let follow = record::ENTER | record::ARGS_FOLLOW;
        d.feed(&raw(10, 1, follow, 0), &tables, &mut views);
        assert!(seen.lock().unwrap().is_empty(), "held for its arguments");
        d.value(1, 7, &tables, &mut views);
        d.feed(&raw(11, 2, follow, 1), &tables, &mut views);
        d.feed(&raw(12, 2, record::EXIT, 0), &tables, &mut views);
        let shape: Vec<(u64, bool, u32)> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e.id, e.is_enter(), e.values))
            .collect();
        assert_eq!(shape, [(1, true, 7), (2, true, 0), (2, false, 0)]);
    }

    /// An exit whose enter was never seen still shows, at depth 0, lasting 0.
    #[test]
    fn an_exit_without_its_enter_is_kept() {
        let events = decode(&[raw(5, 9, record::EXIT | record::UNWINDING, 0)]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].depth, 0);
        assert!(matches!(
            events[0].kind,
            Kind::Exit {
                elapsed_ns: 0,
                unwinding: true,
                ..
            }
        ));
    }
}
