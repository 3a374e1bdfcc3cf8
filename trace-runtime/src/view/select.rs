//! Which frames a reader of a recording wants to see: a stage in front of any view that passes
//! on the events of the selected frames only (fn name, depth, thread, task, time window, and
//! only the chains through one fn).
//!
//! A frame is decided once, at its enter, and its exit follows that decision, so a task whose
//! polls ran on several threads never shows an enter without its exit. A frame left out takes
//! only itself out: the frames it called stay, at their recorded depth and with their recorded
//! parent, as the live `TRACE_FILTER` leaves them (a tree keeps its shape, with a gap where
//! the frame was).

use std::collections::{HashMap, HashSet, VecDeque};

use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{ErrorExit, Event, Kind};
use crate::filter::SiteMatch;

/// What to keep. Every rule given must hold; no rule keeps everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only the chains through the fns this term means (see `filter::Term`): their callers,
    /// their calls and everything under them.
    pub focus: Option<String>,
    /// With `focus`: only the chains through its calls that returned `Err` (`--focus FN:err`).
    pub focus_errors: bool,
    /// Leave out the fns these terms mean.
    pub exclude: Vec<String>,
    /// Leave out frames deeper than this (0 is outermost).
    pub max_depth: Option<u32>,
    /// Only frames entered on this thread.
    pub thread: Option<u32>,
    /// Only frames of this task.
    pub task: Option<u64>,
    /// Only frames entered at or after this time (ns since the run's start).
    pub since_ns: Option<u64>,
    /// Only frames entered before this time.
    pub until_ns: Option<u64>,
}

impl Selection {
    /// The frame-local rules but the fn's name, judged on a frame's enter (or on an exit whose
    /// enter was never seen).
    fn admits(&self, e: &Event) -> bool {
        self.max_depth.is_none_or(|d| e.depth <= d)
            && self.thread.is_none_or(|t| e.thread == t)
            && self.task.is_none_or(|t| e.task == t)
            && self.since_ns.is_none_or(|s| e.ts_ns >= s)
            && self.until_ns.is_none_or(|u| e.ts_ns < u)
    }
}

/// Whether a frame's events go on, for the focus rule.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    /// Not yet known: the frame may still call the focused fn.
    Waiting,
    Kept,
    Dropped,
    /// Kept if and only if this frame is: a callee of a focused call that counts only if it
    /// returns `Err` (`--focus FN:err`).
    As(u64),
}

/// A frame the stage has seen enter and not yet exit.
struct Open {
    fate: Fate,
    /// The focused fn is this frame or one of its callers: everything below is kept.
    inside: bool,
    /// The innermost focused call around this frame (this frame too) that is kept only if it
    /// returns `Err`: the fate of everything below it.
    under: Option<u64>,
    parent: u64,
}

/// Passes the selected frames' events to `inner`, in their order.
pub struct Select<C> {
    inner: C,
    rules: Selection,
    /// Which sites are the focused fns, and which are excluded.
    focused: Option<SiteMatch>,
    excluded: SiteMatch,
    open: HashMap<u64, Open>,
    /// Events waiting for a focus decision on some frame before them, in order.
    held: VecDeque<Event>,
    /// Exited frames whose events are still held, with their fate.
    closed: HashMap<u64, Fate>,
    /// Frames whose enter went on: their exit goes on too.
    passed: HashSet<u64>,
    /// Exits whose enter was never seen (a frame entered before its thread's state was gone).
    orphans: HashSet<u64>,
}

impl<C: Consumer> Select<C> {
    /// Passes `inner` the events `rules` select.
    pub fn new(inner: C, rules: Selection) -> Self {
        Select {
            inner,
            focused: rules.focus.as_deref().map(SiteMatch::new),
            excluded: SiteMatch::any_of(rules.exclude.iter().map(String::as_str)),
            rules,
            open: HashMap::new(),
            held: VecDeque::new(),
            closed: HashMap::new(),
            passed: HashSet::new(),
            orphans: HashSet::new(),
        }
    }

    /// The wrapped view.
    pub fn into_inner(self) -> C {
        self.inner
    }

    fn is_focus(&mut self, site: u32, ctx: &Ctx<'_>) -> bool {
        self.focused
            .as_mut()
            .is_some_and(|m| m.hits(site, || ctx.tables.site(site)))
    }

    /// Applies the frame-local rules.
    fn admits(&mut self, e: &Event, ctx: &Ctx<'_>) -> bool {
        self.rules.admits(e) && !self.excluded.hits(e.site, || ctx.tables.site(e.site))
    }

    /// A frame's fate, following `Fate::As` to the frame it depends on.
    fn fate(&self, mut id: u64) -> Fate {
        loop {
            let fate = match self.open.get(&id) {
                Some(o) => o.fate,
                None => self.closed.get(&id).copied().unwrap_or(Fate::Kept),
            };
            match fate {
                Fate::As(on) if on != id => id = on,
                Fate::As(_) => return Fate::Waiting,
                decided => return decided,
            }
        }
    }

    /// Whether exit `e` is a call of the focused fn that counts: any call, or with
    /// `focus_errors` one that returned `Err`.
    fn focus_counts(&mut self, e: &Event, ctx: &Ctx<'_>) -> bool {
        (!self.rules.focus_errors || e.error != ErrorExit::None) && self.is_focus(e.site, ctx)
    }

    /// A focused call kept only if it returned `Err` has been decided: frames still waiting on
    /// it (a callee that outlived it) take its fate, which is about to be forgotten.
    fn settle(&mut self, id: u64, fate: Fate) {
        for o in self.open.values_mut() {
            if o.fate == Fate::As(id) {
                o.fate = fate;
            }
        }
        for f in self.closed.values_mut() {
            if *f == Fate::As(id) {
                *f = fate;
            }
        }
    }

    /// Marks a frame and its callers as kept: the focused fn was reached through them.
    fn keep_chain(&mut self, mut id: u64) {
        while let Some(o) = self.open.get_mut(&id) {
            if o.fate == Fate::Kept {
                break;
            }
            o.fate = Fate::Kept;
            id = o.parent;
        }
    }

    /// Hands on held events from the front while their frames are decided.
    fn drain(&mut self, ctx: &Ctx<'_>) {
        while let Some(front) = self.held.front() {
            let fate = self.fate(front.id);
            if fate == Fate::Waiting {
                break;
            }
            let e = self.held.pop_front().expect("front exists");
            if fate == Fate::Kept {
                self.pass(&e, ctx);
            }
            if !e.is_enter() {
                self.closed.remove(&e.id);
                if self.rules.focus_errors {
                    self.settle(e.id, fate);
                }
            }
        }
    }

    /// Applies the frame-local rules and hands the event on.
    fn pass(&mut self, e: &Event, ctx: &Ctx<'_>) {
        let go = match e.kind {
            Kind::Enter => {
                let admitted = self.admits(e, ctx);
                if admitted {
                    self.passed.insert(e.id);
                }
                admitted
            }
            // An exit whose enter was never seen is judged on its own.
            Kind::Exit { .. } => {
                self.passed.remove(&e.id) || (self.orphans.remove(&e.id) && self.admits(e, ctx))
            }
        };
        if go {
            self.inner.event(e, ctx);
        }
    }
}

impl<C: Consumer> Consumer for Select<C> {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        // The decoder still holds an exiting frame: one it does not hold was never entered.
        if !e.is_enter() && ctx.frames.get(e.id).is_none() {
            self.orphans.insert(e.id);
        }
        if self.rules.focus.is_none() {
            self.pass(e, ctx);
            return;
        }
        match e.kind {
            Kind::Enter => {
                let parent = self.open.get(&e.parent);
                let parent_inside = parent.is_some_and(|p| p.inside);
                let parent_under = parent.and_then(|p| p.under);
                let here = self.is_focus(e.site, ctx);
                // `FN:err`: a call of FN is known to count only at its exit.
                let conditional = here && self.rules.focus_errors;
                let fate = match parent_under {
                    _ if parent_inside => Fate::Kept,
                    Some(on) => Fate::As(on),
                    None => Fate::Waiting,
                };
                self.open.insert(
                    e.id,
                    Open {
                        fate,
                        inside: parent_inside || (here && !conditional),
                        under: if conditional {
                            Some(e.id)
                        } else {
                            parent_under
                        },
                        parent: e.parent,
                    },
                );
                if here && !conditional {
                    self.keep_chain(e.id);
                }
            }
            Kind::Exit { .. } => {
                let counts = self.rules.focus_errors && self.focus_counts(e, ctx);
                let fate = match self.open.remove(&e.id) {
                    // A call of `FN:err` that returned `Err`: it and its callers are kept.
                    Some(o) if counts => {
                        self.keep_chain(o.parent);
                        Fate::Kept
                    }
                    // Exited without reaching the focused fn: not on any chain through it.
                    Some(o) if o.fate == Fate::Waiting => Fate::Dropped,
                    Some(o) => o.fate,
                    None => {
                        if self.focus_counts(e, ctx) {
                            Fate::Kept
                        } else {
                            Fate::Dropped
                        }
                    }
                };
                self.closed.insert(e.id, fate);
            }
        }
        self.held.push_back(*e);
        self.drain(ctx);
    }

    fn flush(&mut self) {
        self.inner.flush();
    }

    fn holds_events(&self) -> bool {
        !self.held.is_empty() || self.inner.holds_events()
    }

    fn finish(&mut self, end: &End<'_>) {
        // Frames still open that never reached the focused fn never will.
        for o in self.open.values_mut() {
            if o.fate == Fate::Waiting {
                o.fate = Fate::Dropped;
            }
        }
        self.drain(&Ctx {
            frames: end.frames,
            tables: end.tables,
        });
        self.inner.finish(end);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::capture::clock::Calibration;
    use crate::capture::record::{ENTER, EXIT};
    use crate::collect::event::{Raw, Tables};
    use crate::collect::recording::Recording;
    use crate::view::trees::Trees;

    /// A shared buffer as a view's output.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A record of thread 1.
    fn raw(ts: u64, id: u64, site: u32, aux: u64) -> Raw {
        Raw {
            thread: 1,
            ts,
            id,
            site,
            aux,
        }
    }

    /// main (m) calls a, which calls b then d; then m calls b. One tick is one nanosecond.
    fn run() -> Recording {
        let mut tables = Tables {
            sites: ["demo::m", "demo::a", "demo::b", "demo::d"]
                .map(Into::into)
                .to_vec(),
            ..Tables::default()
        };
        tables.threads.insert(1, Some("main".into()));
        Recording {
            cal: Calibration {
                origin: 0,
                ns_per_tick: 1.0,
            },
            values: Vec::new(),
            raws: vec![
                raw(0, 1 | ENTER, 0, 0),
                raw(10, 2 | ENTER, 1, 1),
                raw(20, 3 | ENTER, 2, 2),
                raw(30, 3 | EXIT, 2, 0),
                raw(40, 4 | ENTER, 3, 2),
                raw(50, 4 | EXIT, 3, 0),
                raw(60, 2 | EXIT, 1, 0),
                raw(70, 5 | ENTER, 2, 1),
                raw(80, 5 | EXIT, 2, 0),
                raw(100, 1 | EXIT, 0, 0),
            ],
            tables,
            end: Some((100, 0)),
            counted: Vec::new(),
            damage: None,
            run: None,
            thread_order: false,
            through: Vec::new(),
        }
    }

    fn show(rules: Selection) -> String {
        let buf = Buf::default();
        let view = Select::new(Trees::new(false, Box::new(buf.clone())), rules);
        run().replay(vec![Box::new(view)]);
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn focus_keeps_the_chains_through_the_fn_only() {
        let rules = Selection {
            focus: Some("d".into()),
            ..Selection::default()
        };
        assert_eq!(
            show(rules),
            "\
[01 main] -> demo::m
[01 main]   -> demo::a
[01 main]     -> demo::d
[01 main]     <- demo::d 10ns
[01 main]   <- demo::a 50ns
[01 main] <- demo::m 100ns
"
        );
    }

    /// `--focus d:err`: m calls a, which calls b then d, which calls b and returns `Err`; then
    /// m calls d, which calls b and returns `Ok`. Only the chain through the failed call stays,
    /// with what that call did; a's other callee and the call that succeeded go.
    #[test]
    fn focus_on_errors_keeps_the_chains_through_failed_calls_only() {
        let mut rec = run();
        rec.raws = vec![
            raw(0, 1 | ENTER, 0, 0),
            raw(10, 2 | ENTER, 1, 1),
            raw(20, 3 | ENTER, 2, 2),
            raw(30, 3 | EXIT, 2, 0),
            raw(40, 4 | ENTER, 3, 2),
            raw(45, 6 | ENTER, 2, 4),
            raw(47, 6 | EXIT, 2, 0),
            raw(50, 4 | EXIT, 3, 0),
            raw(60, 2 | EXIT, 1, 0),
            raw(70, 5 | ENTER, 3, 1),
            raw(75, 7 | ENTER, 2, 5),
            raw(77, 7 | EXIT, 2, 0),
            raw(80, 5 | EXIT, 3, 0),
            raw(100, 1 | EXIT, 0, 0),
        ];
        let err = rec.tables.add_values(crate::collect::event::Values {
            result: Some("Err(Gone)".into()),
            error: true,
            ..Default::default()
        });
        // Before d's first exit (raw 7).
        rec.values = vec![(7, 1, 4, err)];
        let buf = Buf::default();
        let rules = Selection {
            focus: Some("d".into()),
            focus_errors: true,
            ..Selection::default()
        };
        let view = Select::new(Trees::new(false, Box::new(buf.clone())), rules);
        rec.replay(vec![Box::new(view)]);
        let bytes = buf.0.lock().unwrap().clone();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "\
[01 main] -> demo::m
[01 main]   -> demo::a
[01 main]     -> demo::d
[01 main]       -> demo::b
[01 main]       <- demo::b 2ns
[01 main]     <- demo::d 10ns ! Err(Gone) (origin)
[01 main]   <- demo::a 50ns
[01 main] <- demo::m 100ns
"
        );
    }

    #[test]
    fn a_left_out_frame_leaves_its_callees_at_their_depth() {
        let rules = Selection {
            exclude: vec!["demo::a".into()],
            ..Selection::default()
        };
        assert_eq!(
            show(rules),
            "\
[01 main] -> demo::m
[01 main]     -> demo::b
[01 main]     <- demo::b 10ns
[01 main]     -> demo::d
[01 main]     <- demo::d 10ns
[01 main]   -> demo::b
[01 main]   <- demo::b 10ns
[01 main] <- demo::m 100ns
"
        );
    }

    #[test]
    fn a_time_window_keeps_frames_entered_in_it_whole() {
        let rules = Selection {
            since_ns: Some(15),
            until_ns: Some(70),
            max_depth: Some(1),
            ..Selection::default()
        };
        assert_eq!(show(rules), "");
        let rules = Selection {
            since_ns: Some(15),
            until_ns: Some(75),
            ..Selection::default()
        };
        assert_eq!(
            show(rules),
            "\
[01 main]     -> demo::b
[01 main]     <- demo::b 10ns
[01 main]     -> demo::d
[01 main]     <- demo::d 10ns
[01 main]   -> demo::b
[01 main]   <- demo::b 10ns
"
        );
    }
}
