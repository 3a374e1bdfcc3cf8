//! The table of frames still open, which views read chains from: each open frame's open
//! callees in order (more than one: concurrent siblings) and its lane, and the exited frames
//! kept while a spawned root's chain still runs through them (pins, holds, adoptions, roots
//! announced by a link before their first record).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::event::{Raw, Tree};

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
    /// The tree the frame belongs to.
    pub fn tree(&self) -> Tree {
        Tree::of(self.thread, self.task)
    }

    /// The frame it hangs from, as [`Event::parent_or_origin`](super::event::Event::parent_or_origin).
    #[cfg(feature = "read")]
    pub fn parent_or_origin(&self) -> u64 {
        if self.parent != 0 {
            self.parent
        } else {
            self.origin
        }
    }

    /// A frame `raw` opens (or declares) at `ts_ns`, under `(parent, depth, task)`, linked to
    /// nothing.
    pub(super) fn entered(
        raw: &Raw,
        ts_ns: u64,
        (parent, depth, task): (u64, u32, u64),
    ) -> OpenFrame {
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

/// Frame ids are unique and well spread in their low bits: hashing them is a multiply. Thread
/// numbers and tree keys, hashed per event too, go the same cheap way.
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

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    /// One word mixed in: for a single id, a multiply; for a key of several words (a tree
    /// key, a thread number), each word after the first is mixed with the ones before.
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map whose keys are ids, thread numbers or tree keys, hashed the cheap way: for the
/// maps the collector and the views touch on every event.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A map keyed by frame id, hashed the cheap way.
pub(crate) type IdMap<V> = FastMap<u64, V>;

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
    holds: HashMap<u32, u64, BuildHasherDefault<IdHasher>>,
    /// The origin each adopting thread links its root frames to.
    adopted: HashMap<u32, u64, BuildHasherDefault<IdHasher>>,
    /// Per tree with concurrent lanes: how many open frames each lane past the first holds.
    lanes: HashMap<Tree, Vec<u32>, BuildHasherDefault<IdHasher>>,
}

impl Frames {
    /// An open frame, or a retired one on a spawned root's chain.
    pub fn get(&self, id: u64) -> Option<&OpenFrame> {
        // Mostly nothing is retired (no spawn in the run): no second lookup then.
        match self.map.get(&id) {
            None if !self.retired.is_empty() => self.retired.get(&id),
            found => found,
        }
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
        let lanes = self.lanes.entry(frame.tree()).or_default();
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
            let key = frame.tree();
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

    fn known(&self, id: u64) -> bool {
        self.map.contains_key(&id) || self.retired.contains_key(&id)
    }

    /// Where a frame entered under `parent` goes: that parent (if known), its depth and task;
    /// else the top of a tree of no task.
    fn under(&self, parent: u64) -> (u64, u32, u64) {
        self.get(parent)
            .map_or((0, 0, 0), |p| (parent, p.depth + 1, p.task))
    }

    // `get_open`, `open` and `close` run once an event on the collector: `#[inline]` lets the
    // decoder, in another codegen unit, inline them as it did when they were its own code.
    /// An open frame (not a retired one).
    #[inline]
    pub(super) fn get_open(&self, id: u64) -> Option<&OpenFrame> {
        self.map.get(&id)
    }

    /// Opens frame `id`, which `raw` enters at `ts_ns`: the root of task `root_of` (at the top
    /// of its tree), or with no task a call under the frame in `raw.aux`. A root takes the
    /// origin a link announced for it; a call without a recorded caller, the one its thread
    /// adopted. Returns the frame as opened.
    #[inline]
    pub(super) fn open(
        &mut self,
        id: u64,
        raw: &Raw,
        ts_ns: u64,
        root_of: Option<u64>,
    ) -> OpenFrame {
        let (parent, depth, task) = match root_of {
            Some(task) => (0, 0, task),
            None => self.under(raw.aux),
        };
        // Only a root can have been announced by a link, and mostly none is waiting.
        let announced = if parent == 0 && !self.pending.is_empty() {
            let at = self.pending.iter().position(|p| p.0 == id);
            at.map(|at| self.pending.swap_remove(at))
        } else {
            None
        };
        let (mut origin, created_ns) = announced.map_or((0, ts_ns), |(_, o, c)| (o, c));
        // A sync frame without a recorded caller on a thread that adopted an origin.
        if raw.aux == 0 && origin == 0 && root_of.is_none() {
            if let Some(&adopted) = self.adopted.get(&raw.thread) {
                origin = adopted;
                self.pin(origin);
            }
        }
        let mut frame = OpenFrame {
            origin,
            created_ns,
            ..OpenFrame::entered(raw, ts_ns, (parent, depth, task))
        };
        self.attach(id, &mut frame);
        self.map.insert(id, frame);
        frame
    }

    /// Frame `id` has exited: out of the open frames, and kept (with its callers) only while
    /// the chain of a root it spawned runs through it; else it lets go of its origin.
    #[inline]
    pub(super) fn close(&mut self, id: u64) {
        if let Some(exited) = self.map.remove(&id) {
            self.detach(id, &exited);
            if !self.pins.is_empty() && self.pins.contains_key(&id) {
                // Still on the chain of a root it spawned: kept for that chain, with its
                // callers.
                self.retired.insert(id, exited);
                self.pin(exited.parent);
            } else if exited.origin != 0 {
                self.unpin(exited.origin);
            }
        }
    }

    /// Frame `id`, declared by `raw` at `ts_ns` under the frame in `raw.aux`, is on the chain
    /// of a root about to be linked to it: kept from now on if it is not known yet. Held
    /// (`hold`), it is also kept for the thread's later links until the thread holds another.
    pub(super) fn declare(&mut self, id: u64, raw: &Raw, ts_ns: u64, hold: bool) {
        if !self.known(id) {
            let (parent, depth, task) = self.under(raw.aux);
            self.pin(parent);
            let frame = OpenFrame::entered(raw, ts_ns, (parent, depth, task));
            self.retired.insert(id, frame);
        }
        if hold {
            // The new hold first: the old one's chain may run through it.
            self.pin(id);
            if let Some(old) = self.holds.insert(raw.thread, id) {
                self.unpin(old);
            }
        }
    }

    /// The thread's root frames are linked to `origin` from now on (0: to none).
    pub(super) fn adopt(&mut self, thread: u32, origin: u64) {
        let before = if origin != 0 {
            self.pin(origin);
            self.adopted.insert(thread, origin)
        } else {
            self.adopted.remove(&thread)
        };
        if let Some(before) = before {
            self.unpin(before);
        }
    }

    /// Root `root`, created at `ts_ns`, was made in frame `origin`.
    pub(super) fn link(&mut self, root: u64, origin: u64, ts_ns: u64) {
        let frame = match self.map.get_mut(&root) {
            Some(frame) => Some(frame),
            None => self.retired.get_mut(&root),
        };
        match frame {
            // A root further up a chain, declared again: linked once.
            Some(frame) => {
                if frame.origin == 0 && frame.parent == 0 && origin != root {
                    frame.origin = origin;
                    self.pin(origin);
                }
            }
            None => {
                // Kept from now on: the creating frame may exit before the root's first
                // record arrives.
                if !self.pending.iter().any(|p| p.0 == root) {
                    self.pending.push((root, origin, ts_ns));
                    self.pin(origin);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::capture::record;
    use crate::collect::decode::tests::{decode, raw, run, Seen};
    use crate::collect::decode::{Consumer, Ctx, Decoder};
    use crate::collect::event::{Event, Kind, Tables};

    /// Decodes `raws` with [`Chains`]: each linked root's chain, and the decoder after.
    fn chains_of(raws: &[Raw]) -> (Vec<Vec<u64>>, Decoder) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let d = run(raws, Box::new(Chains(seen.clone())));
        let chains = seen.lock().unwrap().clone();
        (chains, d)
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
        assert_eq!(f.iter().count(), 2);
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
}
