//! `min=`: calls shorter than a threshold disappear whole, with everything they called; longer
//! ones stay whole. Sync and async alike: a frame's events are held until the frame is decided
//! (it exits, or it has been open longer than the threshold), then passed on in order.

use std::collections::VecDeque;

use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{Event, Kind, Tree};
use crate::collect::frames::FastMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Decision {
    Undecided,
    Kept,
    Dropped,
}

/// Wraps a view with the `min=` rule.
pub struct Min<C> {
    inner: C,
    min_ns: u64,
    held: VecDeque<Event>,
    /// Decision and parent of every frame with held events.
    frames: FastMap<u64, (Decision, u64)>,
    /// Undecided frames by tree (task, or plain thread), oldest first: a frame is known to be
    /// long only from a later event of its own tree, whose order is the order things happened
    /// in (events of different threads may reach the collector a little out of order).
    undecided: FastMap<Tree, VecDeque<(u64, u64)>>,
}

impl<C: Consumer> Min<C> {
    /// Passes `inner` every event but those of calls shorter than `min_ns` and their callees.
    pub fn new(inner: C, min_ns: u64) -> Self {
        Min {
            inner,
            min_ns,
            held: VecDeque::new(),
            frames: FastMap::default(),
            undecided: FastMap::default(),
        }
    }

    /// Whether the front event can go (true), must be dropped (false), or waits (None).
    fn fate(&self, id: u64) -> Option<bool> {
        let mut at = id;
        let mut steps = 0;
        while let Some(&(decision, parent)) = self.frames.get(&at) {
            match decision {
                Decision::Dropped => return Some(false),
                Decision::Undecided => return None,
                Decision::Kept => {}
            }
            at = parent;
            steps += 1;
            if steps > 1_000_000 {
                break;
            }
        }
        Some(true)
    }

    fn drain(&mut self, ctx: &Ctx<'_>) {
        while let Some(front) = self.held.front() {
            let Some(keep) = self.fate(front.id) else {
                break;
            };
            let e = self.held.pop_front().expect("front exists");
            if keep {
                self.inner.event(&e, ctx);
            }
            if !e.is_enter() {
                self.frames.remove(&e.id);
            }
        }
    }

    fn decide_old(&mut self, key: Tree, now_ns: u64) {
        let Some(undecided) = self.undecided.get_mut(&key) else {
            return;
        };
        while let Some(&(id, start)) = undecided.front() {
            if start.saturating_add(self.min_ns) > now_ns {
                break;
            }
            undecided.pop_front();
            if let Some(f) = self.frames.get_mut(&id) {
                if f.0 == Decision::Undecided {
                    f.0 = Decision::Kept;
                }
            }
        }
    }
}

impl<C: Consumer> Consumer for Min<C> {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.decide_old(e.tree(), e.ts_ns);
        match e.kind {
            Kind::Enter => {
                self.frames.insert(e.id, (Decision::Undecided, e.parent));
                self.undecided
                    .entry(e.tree())
                    .or_default()
                    .push_back((e.id, e.ts_ns));
            }
            Kind::Exit { elapsed_ns, .. } => {
                let entry = self
                    .frames
                    .entry(e.id)
                    .or_insert((Decision::Undecided, e.parent));
                if entry.0 == Decision::Undecided {
                    entry.0 = if elapsed_ns < self.min_ns {
                        Decision::Dropped
                    } else {
                        Decision::Kept
                    };
                }
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
        // Frames still open never finished: they were not short.
        for f in self.frames.values_mut() {
            if f.0 == Decision::Undecided {
                f.0 = Decision::Kept;
            }
        }
        self.drain(&Ctx {
            frames: end.frames,
            tables: end.tables,
        });
        self.inner.finish(end);
    }
}
