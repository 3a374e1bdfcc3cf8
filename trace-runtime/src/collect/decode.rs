//! Turns raw events, in time order, into decoded events: names, depth, task, durations in
//! nanoseconds; and keeps the table of frames still open, which views read for chains. The
//! same decoder serves the live collector and a recording read back, so both give the views the
//! same events.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::event::{Event, Kind, Raw, Tables};
use crate::capture::clock::Calibration;
use crate::capture::record;

/// A frame entered and not yet exited.
#[derive(Clone, Copy, Debug)]
pub struct OpenFrame {
    pub site: u32,
    /// The thread that entered it.
    pub thread: u32,
    pub task: u64,
    pub depth: u32,
    pub start_ns: u64,
    /// The calling frame (0: none).
    pub parent: u64,
    /// For the root of a task or of an adopting thread: the frame that created it (0: none).
    pub origin: u64,
    /// For a linked root: when it was created (its future made, its origin captured).
    pub created_ns: u64,
    /// Its lane in its tree: frames of one lane nest like calls; a frame entered while a
    /// sibling (a frame of the same caller) is still open is polled concurrently with it (two
    /// branches of a `join!` or `select!`) and goes on a lane no open frame is on (0: the
    /// tree's first).
    pub lane: u32,
    /// Its open callees, in the order they were entered: the first and last, and how many.
    first_kid: u64,
    last_kid: u64,
    kids: u32,
    /// The open siblings entered just before and just after it (0: none).
    prev: u64,
    next: u64,
}

impl OpenFrame {
    /// A frame `raw` opens (or declares) at `ts_ns`, under `(parent, depth, task)`, linked to
    /// nothing.
    fn entered(raw: &Raw, ts_ns: u64, (parent, depth, task): (u64, u32, u64)) -> OpenFrame {
        OpenFrame {
            site: raw.site,
            thread: raw.thread,
            task,
            depth,
            start_ns: ts_ns,
            parent,
            origin: 0,
            created_ns: ts_ns,
            lane: 0,
            first_kid: 0,
            last_kid: 0,
            kids: 0,
            prev: 0,
            next: 0,
        }
    }
}

/// Frame ids are unique and well spread in their low bits: hashing them is a multiply.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// The frames open at some point of the run, by id; and frames that have exited but are still
/// on the chain of a task or thread they spawned, so that chains can cross spawns.
#[derive(Default)]
pub struct Frames {
    map: IdMap<OpenFrame>,
    /// Exited (or only declared) frames kept because an open root's chain goes through them.
    retired: IdMap<OpenFrame>,
    /// How many open roots' chains go through each frame.
    pins: IdMap<u32>,
    /// Roots announced by a link before their first record: root, origin, when created. At
    /// most one a thread (a thread writes a root's link right before its first record), so a
    /// list.
    pending: Vec<(u64, u64, u64)>,
    /// The frame each thread holds (its last `HOLD` declaration), kept for its later links.
    holds: HashMap<u32, u64>,
    /// The origin each adopting thread links its root frames to.
    adopted: HashMap<u32, u64>,
    /// Per tree (see [`tree_key`]) with concurrent lanes: how many open frames each lane past
    /// the first holds.
    lanes: HashMap<u64, Vec<u32>>,
}

/// A frame's tree: its task, or for a plain thread's frames the thread (top bit set).
fn tree_key(f: &OpenFrame) -> u64 {
    if f.task != 0 {
        f.task
    } else {
        1 << 63 | u64::from(f.thread)
    }
}

impl Frames {
    /// An open frame, or a retired one on a spawned root's chain.
    pub fn get(&self, id: u64) -> Option<&OpenFrame> {
        self.map.get(&id).or_else(|| self.retired.get(&id))
    }

    /// Whether the frame is open (has not exited).
    pub fn is_open(&self, id: u64) -> bool {
        self.map.contains_key(&id)
    }

    /// When a linked root was created (its future made, its origin captured), in nanoseconds.
    pub fn created_ns(&self, root: u64) -> Option<u64> {
        self.get(root)
            .filter(|f| f.origin != 0)
            .map(|f| f.created_ns)
    }

    /// The chain that led to a frame across spawns, outermost first: each entry is a frame and
    /// whether a spawn lies between it and the one before.
    pub fn causal_chain(&self, id: u64) -> Vec<(u64, &OpenFrame, bool)> {
        let mut out: Vec<(u64, &OpenFrame, bool)> = Vec::new();
        let mut at = id;
        let mut crossed = false;
        while let Some(f) = self.get(at) {
            out.push((at, f, crossed));
            if out.len() > 100_000 {
                break;
            }
            (at, crossed) = if f.parent != 0 {
                (f.parent, false)
            } else {
                (f.origin, true)
            };
        }
        // Reversed, a spawn mark belongs to the frame after it.
        let marks: Vec<bool> = out.iter().map(|e| e.2).collect();
        out.reverse();
        let n = out.len();
        for (i, entry) in out.iter_mut().enumerate() {
            entry.2 = i > 0 && marks[n - i];
        }
        out
    }

    /// One more reference to frame `id` from a frame that needs it on its chain: a root
    /// linked to it, an exited or declared frame whose parent it is, a thread holding it.
    fn pin(&mut self, id: u64) {
        if id != 0 {
            *self.pins.entry(id).or_insert(0) += 1;
        }
    }

    /// One reference fewer; a frame that has exited and is no longer referenced is dropped,
    /// and lets go of its own parent and origin in turn. A frame still open stays: its exit
    /// decides. Each frame is kept by those right below it, so a chain stays whole exactly as
    /// long as a frame needs it, at a constant cost per link.
    fn unpin(&mut self, mut id: u64) {
        while id != 0 {
            let Some(pins) = self.pins.get_mut(&id) else {
                return;
            };
            *pins -= 1;
            if *pins > 0 {
                return;
            }
            self.pins.remove(&id);
            let Some(gone) = self.retired.remove(&id) else {
                return;
            };
            if gone.origin != 0 {
                self.unpin(gone.origin);
            }
            id = gone.parent;
        }
    }

    /// A thread has ended: what it held or adopted is no longer kept for it.
    pub fn thread_ended(&mut self, thread: u32) {
        if let Some(held) = self.holds.remove(&thread) {
            self.unpin(held);
        }
        if let Some(adopted) = self.adopted.remove(&thread) {
            self.unpin(adopted);
        }
    }

    /// The open callees of frame `id`, in the order they were entered. More than one means
    /// they are polled concurrently (branches of one `join!`, `select!`, `FuturesUnordered`):
    /// siblings, not caller and callee.
    ///
    /// ```ignore
    /// for (kid, frame) in frames.open_children(parent) { /* ... */ }
    /// ```
    pub fn open_children(&self, id: u64) -> impl Iterator<Item = (u64, &OpenFrame)> {
        let mut at = self.map.get(&id).map_or(0, |p| p.first_kid);
        std::iter::from_fn(move || {
            let f = self.map.get(&at)?;
            let this = at;
            at = f.next;
            Some((this, f))
        })
    }

    /// How many open callees frame `id` has.
    pub fn open_children_count(&self, id: u64) -> u32 {
        self.map.get(&id).map_or(0, |p| p.kids)
    }

    /// Puts a frame entered under its caller in the caller's list of open callees, and on a
    /// lane: its caller's when none of the caller's other callees is open (it nests), else
    /// (a sibling is open: it runs concurrently) a lane no open frame of its tree is on.
    fn attach(&mut self, id: u64, frame: &mut OpenFrame) {
        if frame.parent == 0 {
            // A tree's first frame.
            return;
        }
        let Some(p) = self.map.get_mut(&frame.parent) else {
            // Its caller has exited (kept for a chain): nothing of the caller's is open there.
            frame.lane = self.free_lane(frame);
            return;
        };
        let alone = p.kids == 0;
        let lane = p.lane;
        frame.prev = p.last_kid;
        if p.last_kid == 0 {
            p.first_kid = id;
        }
        p.last_kid = id;
        p.kids += 1;
        if frame.prev != 0 {
            if let Some(before) = self.map.get_mut(&frame.prev) {
                before.next = id;
            }
        }
        frame.lane = if alone { lane } else { self.free_lane(frame) };
    }

    /// The lowest lane past the first that no open frame of `frame`'s tree is on, taken.
    fn free_lane(&mut self, frame: &OpenFrame) -> u32 {
        let lanes = self.lanes.entry(tree_key(frame)).or_default();
        let free = match lanes.iter().position(|n| *n == 0) {
            Some(i) => i,
            None => {
                lanes.push(0);
                lanes.len() - 1
            }
        };
        lanes[free] += 1;
        free as u32 + 1
    }

    /// Takes an exiting frame out of its caller's list of open callees and off its lane.
    fn detach(&mut self, id: u64, frame: &OpenFrame) {
        if frame.lane > 0 {
            let key = tree_key(frame);
            if let Some(lanes) = self.lanes.get_mut(&key) {
                if let Some(n) = lanes.get_mut(frame.lane as usize - 1) {
                    *n = n.saturating_sub(1);
                }
                while lanes.last() == Some(&0) {
                    lanes.pop();
                }
                if lanes.is_empty() {
                    self.lanes.remove(&key);
                }
            }
        }
        if frame.parent == 0 {
            return;
        }
        if frame.prev != 0 {
            if let Some(before) = self.map.get_mut(&frame.prev) {
                before.next = frame.next;
            }
        }
        if frame.next != 0 {
            if let Some(after) = self.map.get_mut(&frame.next) {
                after.prev = frame.prev;
            }
        }
        if let Some(p) = self.map.get_mut(&frame.parent) {
            if p.first_kid == id {
                p.first_kid = frame.next;
            }
            if p.last_kid == id {
                p.last_kid = frame.prev;
            }
            p.kids = p.kids.saturating_sub(1);
        }
    }

    /// The frame and its callers, outermost first.
    pub fn chain(&self, id: u64) -> Vec<(u64, &OpenFrame)> {
        let mut out = Vec::new();
        let mut at = id;
        while let Some(f) = self.map.get(&at) {
            out.push((at, f));
            if out.len() > 100_000 {
                break;
            }
            at = f.parent;
        }
        out.reverse();
        out
    }

    /// Every open frame, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &OpenFrame)> {
        self.map.iter().map(|(id, f)| (*id, f))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn known(&self, id: u64) -> bool {
        self.map.contains_key(&id) || self.retired.contains_key(&id)
    }

    /// Where a frame entered under `parent` goes: that parent (if known), its depth and task;
    /// else the top of a tree of no task.
    fn under(&self, parent: u64) -> (u64, u32, u64) {
        self.get(parent)
            .map_or((0, 0, 0), |p| (parent, p.depth + 1, p.task))
    }
}

/// What consumes the collected stream: the views, live or on a recording.
pub trait Consumer: Send {
    /// Before the first event: how ticks become nanoseconds in this run.
    fn start(&mut self, _cal: &Calibration) {}
    /// Every raw event, in order, with the tables as they stand (the recording writer).
    fn raw(&mut self, _raw: &Raw, _tables: &Tables) {}
    /// Every decoded event, in order; `ctx.frames` still holds an exiting frame and its
    /// callers.
    fn event(&mut self, _event: &Event, _ctx: &Ctx<'_>) {}
    /// Write out what is buffered: the end of one collection round.
    fn flush(&mut self) {}
    /// The end of a live collection round, with the frames open and the time now.
    fn tick(&mut self, _ctx: &Ctx<'_>, _now_ns: u64) {}
    /// The run is over (or the process is going down): final reports.
    fn finish(&mut self, _end: &End<'_>) {}
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
}

/// Decodes raw events in time order.
pub struct Decoder {
    pub cal: Calibration,
    pub frames: Frames,
    /// The last timestamp seen, in nanoseconds.
    pub now_ns: u64,
}

impl Decoder {
    pub fn new(cal: Calibration) -> Self {
        Decoder {
            cal,
            frames: Frames::default(),
            now_ns: 0,
        }
    }

    /// The end of the run in nanoseconds, from the ticks it ended at: never before the last
    /// event.
    pub fn end_ns(&self, ticks: u64) -> u64 {
        self.cal.ns(ticks).max(self.now_ns)
    }

    /// Decodes one raw event and hands it to every consumer.
    pub fn feed(&mut self, raw: &Raw, tables: &Tables, consumers: &mut [Box<dyn Consumer>]) {
        for c in consumers.iter_mut() {
            c.raw(raw, tables);
        }
        let ts_ns = self.cal.ns(raw.ts);
        self.now_ns = self.now_ns.max(ts_ns);
        let id = raw.id & record::ID_MASK;
        match raw.id & record::KIND_MASK {
            kind @ (record::ENTER | record::TASK) => {
                let (parent, depth, task) = if kind == record::TASK {
                    (0, 0, raw.aux)
                } else {
                    self.frames.under(raw.aux)
                };
                // Only a root can have been announced by a link, and mostly none is waiting.
                let pending = &mut self.frames.pending;
                let announced = if parent == 0 && !pending.is_empty() {
                    let at = pending.iter().position(|p| p.0 == id);
                    at.map(|at| pending.swap_remove(at))
                } else {
                    None
                };
                let (mut origin, created_ns) = announced.map_or((0, ts_ns), |(_, o, c)| (o, c));
                // A sync frame without a recorded caller on a thread that adopted an origin.
                if raw.aux == 0 && origin == 0 && kind == record::ENTER {
                    if let Some(&adopted) = self.frames.adopted.get(&raw.thread) {
                        origin = adopted;
                        self.frames.pin(origin);
                    }
                }
                let mut frame = OpenFrame {
                    origin,
                    created_ns,
                    ..OpenFrame::entered(raw, ts_ns, (parent, depth, task))
                };
                self.frames.attach(id, &mut frame);
                self.frames.map.insert(id, frame);

                let event = Event {
                    kind: Kind::Enter,
                    thread: raw.thread,
                    task,
                    depth,
                    site: raw.site,
                    ts_ns,
                    id,
                    parent,
                    origin,
                };
                for c in consumers.iter_mut() {
                    c.event(
                        &event,
                        &Ctx {
                            frames: &self.frames,
                            tables,
                        },
                    );
                }
            }
            record::EXIT => {
                let open = self.frames.map.get(&id).copied();
                // An exit whose enter was never seen (a thread-local destructor's call whose
                // enter came before the thread's state was gone) still shows, at depth 0.
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
                };
                for c in consumers.iter_mut() {
                    c.event(
                        &event,
                        &Ctx {
                            frames: &self.frames,
                            tables,
                        },
                    );
                }
                if let Some(exited) = self.frames.map.remove(&id) {
                    self.frames.detach(id, &exited);
                    if self.frames.pins.contains_key(&id) {
                        // Still on the chain of a root it spawned: kept for that chain, with
                        // its callers.
                        self.frames.retired.insert(id, exited);
                        self.frames.pin(exited.parent);
                    } else if exited.origin != 0 {
                        self.frames.unpin(exited.origin);
                    }
                }
            }
            // Id 0 names no frame.
            record::DECLARE | record::LINK if id == 0 && raw.id & record::ADOPT == 0 => {}
            record::DECLARE => {
                if !self.frames.known(id) {
                    let (parent, depth, task) = self.frames.under(raw.aux);
                    self.frames.pin(parent);
                    let frame = OpenFrame::entered(raw, ts_ns, (parent, depth, task));
                    self.frames.retired.insert(id, frame);
                }
                if raw.id & record::HOLD != 0 {
                    // The new hold first: the old one's chain may run through it.
                    self.frames.pin(id);
                    if let Some(old) = self.frames.holds.insert(raw.thread, id) {
                        self.frames.unpin(old);
                    }
                }
            }
            record::LINK if raw.id & record::ADOPT != 0 => {
                // The thread's root frames are linked to `aux` from now on (0: none).
                let before = if raw.aux != 0 {
                    self.frames.pin(raw.aux);
                    self.frames.adopted.insert(raw.thread, raw.aux)
                } else {
                    self.frames.adopted.remove(&raw.thread)
                };
                if let Some(before) = before {
                    self.frames.unpin(before);
                }
            }
            record::LINK => {
                let root = match self.frames.map.get_mut(&id) {
                    Some(root) => Some(root),
                    None => self.frames.retired.get_mut(&id),
                };
                match root {
                    // A root further up a chain, declared again: linked once.
                    Some(root) => {
                        if root.origin == 0 && root.parent == 0 && raw.aux != id {
                            root.origin = raw.aux;
                            self.frames.pin(raw.aux);
                        }
                    }
                    None => {
                        // Kept from now on: the creating frame may exit before the root's first
                        // record arrives.
                        if !self.frames.pending.iter().any(|p| p.0 == id) {
                            self.frames.pending.push((id, raw.aux, ts_ns));
                            self.frames.pin(raw.aux);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects decoded events into a vector the test keeps a handle on.
    struct Seen(Arc<Mutex<Vec<Event>>>);

    impl Consumer for Seen {
        fn event(&mut self, event: &Event, _ctx: &Ctx<'_>) {
            self.0.lock().unwrap().push(*event);
        }
    }

    fn raw(ts: u64, id: u64, kind: u64, aux: u64) -> Raw {
        Raw {
            thread: 1,
            ts,
            id: id | kind,
            site: 0,
            aux,
        }
    }

    /// Decodes `raws` with [`Chains`]: each linked root's chain, and the decoder after.
    fn chains_of(raws: &[Raw]) -> (Vec<Vec<u64>>, Decoder) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let d = run(raws, Box::new(Chains(seen.clone())));
        let chains = seen.lock().unwrap().clone();
        (chains, d)
    }

    /// Feeds `raws` to a decoder with one view.
    fn run(raws: &[Raw], view: Box<dyn Consumer>) -> Decoder {
        let tables = Tables {
            sites: vec!["demo::f".into()],
            threads: Default::default(),
        };
        let cal = Calibration {
            origin: 0,
            ns_per_tick: 1.0,
        };
        let mut views = vec![view];
        let mut d = Decoder::new(cal);
        for r in raws {
            d.feed(r, &tables, &mut views);
        }
        d
    }

    fn decode(raws: &[Raw]) -> Vec<Event> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        run(raws, Box::new(Seen(seen.clone())));
        let out = seen.lock().unwrap().clone();
        out
    }

    /// Notes each linked root's causal chain (frame ids) as it enters.
    struct Chains(Arc<Mutex<Vec<Vec<u64>>>>);

    impl Consumer for Chains {
        fn event(&mut self, event: &Event, ctx: &Ctx<'_>) {
            if event.kind == Kind::Enter && event.origin != 0 {
                let ids = ctx
                    .frames
                    .causal_chain(event.id)
                    .iter()
                    .map(|e| e.0)
                    .collect();
                self.0.lock().unwrap().push(ids);
            }
        }
    }

    /// Tasks made in `spawner` (under `main`) are first polled after both exited, one of them
    /// makes another task and finishes before it starts: every chain is whole when its root
    /// enters, and once the roots are done nothing is kept.
    #[test]
    fn exited_frames_stay_while_a_root_needs_them_and_not_longer() {
        let (main, spawner, t1, t2, t3) = (1, 2, 10, 11, 20);
        let raws = [
            raw(1, main, record::ENTER, 0),
            raw(2, spawner, record::ENTER, main),
            raw(5, spawner, record::EXIT, 0),
            raw(6, main, record::EXIT, 0),
            raw(3, main, record::DECLARE, 0),
            raw(3, spawner, record::DECLARE, main),
            raw(3, t1, record::LINK, spawner),
            raw(7, t1, record::TASK, 1),
            raw(4, main, record::DECLARE, 0),
            raw(4, spawner, record::DECLARE, main),
            raw(4, t2, record::LINK, spawner),
            raw(8, t2, record::TASK, 2),
            raw(9, t3, record::LINK, t1),
            raw(10, t1, record::EXIT, 0),
            raw(11, t2, record::EXIT, 0),
            raw(12, t3, record::TASK, 3),
            raw(13, t3, record::EXIT, 0),
        ];
        let (chains, d) = chains_of(&raws);
        assert_eq!(
            chains,
            [
                vec![main, spawner, t1],
                vec![main, spawner, t2],
                vec![main, spawner, t1, t3]
            ]
        );
        let f = &d.frames;
        assert!(f.map.is_empty() && f.retired.is_empty(), "frames kept");
        assert!(f.pins.is_empty() && f.pending.is_empty());
    }

    /// A thread declares a chain once, held: its later links to the same frame come alone,
    /// after that frame exited, and still read the whole chain; holding another frame lets
    /// the first chain go once no root needs it.
    #[test]
    fn a_held_declaration_serves_later_links_until_the_thread_holds_another() {
        let (main, spawner, other, t1, t2, t3) = (1, 2, 3, 10, 11, 12);
        let raws = [
            raw(1, main, record::ENTER, 0),
            raw(2, spawner, record::ENTER, main),
            raw(3, spawner, record::DECLARE | record::HOLD, main),
            raw(3, t1, record::LINK, spawner),
            raw(4, t1, record::TASK, 1),
            raw(5, t1, record::EXIT, 0),
            raw(6, spawner, record::EXIT, 0),
            raw(7, main, record::EXIT, 0),
            // Made in `spawner` before it exited, first polled after: no declaration.
            raw(5, t2, record::LINK, spawner),
            raw(8, t2, record::TASK, 2),
            raw(9, t2, record::EXIT, 0),
            raw(10, other, record::ENTER, 0),
            raw(11, other, record::DECLARE | record::HOLD, 0),
            raw(11, t3, record::LINK, other),
            raw(12, t3, record::TASK, 3),
        ];
        let (chains, d) = chains_of(&raws);
        assert_eq!(
            chains,
            [
                vec![main, spawner, t1],
                vec![main, spawner, t2],
                vec![other, t3]
            ]
        );
        // `spawner` and `main` are gone; `other` and `t3` are open, `other` held and linked.
        let f = &d.frames;
        assert!(f.retired.is_empty(), "exited frames kept");
        assert_eq!(f.len(), 2);
        assert_eq!(f.pins.get(&other), Some(&2));
        // Both exit: `other` stays for the thread's hold until the thread ends.
        let mut d = d;
        let tables = Tables::default();
        for r in [
            raw(13, t3, record::EXIT, 0),
            raw(14, other, record::EXIT, 0),
        ] {
            d.feed(&r, &tables, &mut []);
        }
        assert_eq!(d.frames.retired.len(), 1);
        d.frames.thread_ended(1);
        assert!(d.frames.retired.is_empty() && d.frames.pins.is_empty());
    }

    /// A thread adopts an origin made on another thread (root 0 links to it): each of its
    /// frames without a caller is linked to it until it adopts none; a frame with a caller,
    /// or entered after, is not.
    #[test]
    fn an_adopting_threads_roots_link_to_its_origin_until_it_lets_go() {
        let on = |thread, r: Raw| Raw { thread, ..r };
        let (spawner, a, b, inner, after) = (1, 10, 11, 12, 13);
        let raws = [
            on(1, raw(1, spawner, record::ENTER, 0)),
            on(2, raw(2, spawner, record::DECLARE | record::HOLD, 0)),
            on(2, raw(2, 0, record::LINK | record::ADOPT, spawner)),
            on(2, raw(3, a, record::ENTER, 0)),
            on(2, raw(4, inner, record::ENTER, a)),
            on(2, raw(5, inner, record::EXIT, 0)),
            on(2, raw(6, a, record::EXIT, 0)),
            on(1, raw(7, spawner, record::EXIT, 0)),
            on(2, raw(8, b, record::ENTER, 0)),
            on(2, raw(9, b, record::EXIT, 0)),
            on(2, raw(10, 0, record::LINK | record::ADOPT, 0)),
            on(2, raw(11, after, record::ENTER, 0)),
        ];
        let events = decode(&raws);
        let origins: Vec<(u64, u64)> = events
            .iter()
            .filter(|e| e.kind == Kind::Enter)
            .map(|e| (e.id, e.origin))
            .collect();
        assert_eq!(
            origins,
            [
                (spawner, 0),
                (a, spawner),
                (inner, 0),
                (b, spawner),
                (after, 0)
            ]
        );
    }

    /// Two callees of one frame open at once (a `join!`) are its open children in the order
    /// entered; the second goes on a lane of its own, and its callees with it; a lane freed is
    /// taken again; exits unlink siblings in any order.
    #[test]
    fn concurrent_callees_are_siblings_on_lanes_of_their_own() {
        let (root, a, b, under_a, under_b, c) = (1, 2, 3, 4, 5, 6);
        let mut d = run(
            &[
                raw(1, root, record::TASK, 7),
                raw(2, a, record::ENTER, root),
                raw(3, b, record::ENTER, root),
                raw(4, under_a, record::ENTER, a),
                raw(5, under_b, record::ENTER, b),
            ],
            Box::new(Seen(Default::default())),
        );
        let f = &d.frames;
        let kids = |id| f.open_children(id).map(|(k, _)| k).collect::<Vec<_>>();
        let lane = |id| f.get(id).unwrap().lane;
        assert_eq!(kids(root), [a, b]);
        assert_eq!(f.open_children_count(root), 2);
        assert_eq!([root, a, b, under_a, under_b].map(lane), [0, 0, 1, 0, 1]);
        let tables = Tables::default();
        for r in [
            raw(6, under_b, record::EXIT, 0),
            raw(7, b, record::EXIT, 0),
            raw(8, c, record::ENTER, root),
        ] {
            d.feed(&r, &tables, &mut []);
        }
        let f = &d.frames;
        assert_eq!(
            f.open_children(root).map(|(k, _)| k).collect::<Vec<_>>(),
            [a, c]
        );
        assert_eq!(f.get(c).unwrap().lane, 1);
        // The first sibling exits before the last: the list stays whole.
        for r in [
            raw(9, under_a, record::EXIT, 0),
            raw(10, a, record::EXIT, 0),
        ] {
            d.feed(&r, &tables, &mut []);
        }
        let f = &d.frames;
        assert_eq!(
            f.open_children(root).map(|(k, _)| k).collect::<Vec<_>>(),
            [c]
        );
        assert_eq!(f.open_children_count(root), 1);
        d.feed(&raw(11, c, record::EXIT, 0), &tables, &mut []);
        assert_eq!(d.frames.open_children(root).count(), 0);
        assert!(d.frames.lanes.is_empty(), "lanes kept");
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
