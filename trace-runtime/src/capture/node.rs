//! A traced future's node, its place in its task's tree, and the declare/link protocol: how a
//! root frame is linked to the frame that created it (across a spawn), the creating chain
//! declared to the collector first unless this thread's last declaration covered it.

use std::sync::Arc;

use super::clock;
use super::record::{self, Rec};
use super::site::Site;
use super::thread::{depth_below, peek_local, with_local, Local};

/// A traced future's place in its task's tree: immutable and shared, so that each child keeps
/// its own parent however the children of one poll are interleaved.
pub(crate) struct Node {
    pub site: &'static Site,
    /// Its frame id (the nearest recorded ancestor's when its own enter was filtered out).
    pub id: u64,
    pub parent: Option<Arc<Node>>,
    pub depth: u32,
    /// For the root of a task or of an adopting thread: the frame it was created in.
    pub origin: Option<Arc<Node>>,
    /// How many spawns the chain ending here crosses.
    pub spawns: u32,
}

/// The most spawns a chain keeps: a task that spawns its successor, which spawns its own, and
/// so on, would otherwise keep every predecessor alive and make each link longer to declare.
/// A root created deeper starts a chain of its own.
pub(crate) const MAX_SPAWNS: u32 = 32;

/// What a root linked to `origin` keeps as its origin: `origin` unless its chain already
/// crosses [`MAX_SPAWNS`] spawns.
pub(super) fn within_reach(origin: Option<Arc<Node>>) -> Option<Arc<Node>> {
    origin.filter(|o| o.spawns < MAX_SPAWNS)
}

/// The spawns a node built under `parent`, linked to `origin`, crosses.
pub(super) fn spawns_of(parent: &Option<Arc<Node>>, origin: &Option<Arc<Node>>) -> u32 {
    match (parent, origin) {
        (Some(p), _) => p.spawns,
        (None, Some(o)) => o.spawns + 1,
        (None, None) => 0,
    }
}

impl Drop for Node {
    /// Lets go of the chain above one node at a time: a long chain dropped by recursion would
    /// overflow the stack.
    fn drop(&mut self) {
        // Nodes this drop is the last owner of; nothing is allocated while links are shared
        // (the common case: a frame's callers outlive it).
        let mut last: Vec<Node> = Vec::new();
        self.let_go(&mut last);
        // Each popped node is dropped with its links already taken: no recursion.
        while let Some(mut n) = last.pop() {
            n.let_go(&mut last);
        }
    }
}

impl Node {
    /// Takes this node's links, keeping on `last` the nodes no one else holds.
    #[inline(always)]
    fn let_go(&mut self, last: &mut Vec<Node>) {
        if let Some(n) = self.parent.take().and_then(Arc::into_inner) {
            last.push(n);
        }
        if let Some(n) = self.origin.take().and_then(Arc::into_inner) {
            last.push(n);
        }
    }
}

impl Node {
    /// Whether the collector knows this frame by its id: it was recorded (an unrecorded frame
    /// carries its nearest recorded ancestor's id, or 0 without one).
    fn recorded(&self) -> bool {
        self.id != 0 && self.parent.as_ref().is_none_or(|p| p.id != self.id)
    }

    /// The nearest frame of this chain (itself first, then its callers, across spawns) that
    /// the collector knows.
    pub fn nearest_recorded(self: &Arc<Node>) -> Option<&Arc<Node>> {
        let mut at = self;
        while !at.recorded() {
            at = at.parent.as_ref().or(at.origin.as_ref())?;
        }
        Some(at)
    }

    /// Names of the causal chain ending here, outermost first, and where spawns cross it
    /// (indices of the first name after each spawn).
    pub fn causal_names(&self, names: &mut Vec<&'static str>, spawns: &mut Vec<usize>) {
        let mut tree = Vec::new();
        let mut at = Some(self);
        let mut root = self;
        while let Some(n) = at {
            tree.push(n.site.name());
            root = n;
            at = n.parent.as_deref();
        }
        if let Some(origin) = &root.origin {
            origin.causal_names(names, spawns);
            spawns.push(names.len());
        }
        names.extend(tree.into_iter().rev());
    }
}

impl Local {
    /// The innermost open frame as a node (sync frames above the polled future made into
    /// nodes on the way), or none outside any frame.
    pub(super) fn innermost_node(&mut self) -> Option<Arc<Node>> {
        let top = self
            .stack
            .len()
            .checked_sub(1)
            .filter(|&i| i >= self.ctx.mark);
        let Some(top) = top else {
            return self.ctx.base.clone();
        };
        let frame = self.stack[top];
        let depth = (depth_below(&self.ctx.base) + top - self.ctx.mark) as u32;
        // Ids are unique per recorded frame; an unrecorded one carries its recorded ancestor's,
        // so the site and depth must match too (and then the node is the same in all but name).
        if let Some(n) = &self.last_node {
            // Id 0 (no recorded frame below) names no frame: never a hit.
            if n.id == frame.id
                && frame.id != 0
                && std::ptr::eq(n.site, frame.site)
                && n.depth == depth
            {
                return Some(n.clone());
            }
        }
        let node = self.build_node();
        self.last_node = node.clone();
        node
    }

    /// Makes the open sync frames above the polled future into nodes, innermost returned.
    fn build_node(&self) -> Option<Arc<Node>> {
        let mut parent = self.ctx.base.clone();
        for i in self.ctx.mark..self.stack.len() {
            let frame = self.stack[i];
            let depth = depth_below(&parent) as u32;
            // The bottom frame of a plain thread (or of a linked block's task) carries the
            // adopted origin.
            let origin = if parent.is_none() && i == self.ctx.mark {
                within_reach(self.ctx.adopted.clone())
            } else {
                None
            };
            let spawns = spawns_of(&parent, &origin);
            parent = Some(Arc::new(Node {
                site: frame.site,
                id: frame.id,
                parent,
                depth,
                origin,
                spawns,
            }));
        }
        parent
    }

    /// Tells the collector that this thread's root frames are from now on linked to `now`
    /// (none: to nothing) instead of `before`: a `LINK` record of root 0, after the chain's
    /// declaration. Said once per adoption, so that entering a frame never checks for one.
    pub(super) fn announce_adopted(&mut self, before: Option<&Arc<Node>>, now: Option<&Arc<Node>>) {
        let Some(site) = now.or(before).map(|n| n.site) else {
            return;
        };
        let ts = clock::ticks();
        let now = now.and_then(|n| n.nearest_recorded());
        if let Some(origin) = now {
            if self.held.first() != Some(&origin.id) {
                self.declare(origin, ts);
            }
        }
        self.record(Rec {
            ts,
            id: record::LINK | record::ADOPT,
            site: site as *const Site as usize,
            aux: now.map_or(0, |n| n.id),
        });
    }

    /// Links a root frame to the frame that created it (a `LINK` record), first telling the
    /// collector about that frame's chain unless this thread's last declaration covered it.
    pub(super) fn link(
        &mut self,
        root: u64,
        root_site: &'static Site,
        origin: &Arc<Node>,
        created: u64,
    ) {
        let Some(origin) = origin.nearest_recorded() else {
            return;
        };
        if self.held.first() != Some(&origin.id) {
            self.declare(origin, created);
        }
        self.record(Rec {
            ts: created,
            id: root | record::LINK,
            site: root_site as *const Site as usize,
            aux: origin.id,
        });
    }

    /// Declares the chain that created a root, which the collector may no longer know (it may
    /// have exited): `DECLARE` records outermost first for every frame of the chain (spawns
    /// crossed) that the last declaration did not cover, then `origin` itself flagged `HOLD`
    /// (the collector keeps it, and so its chain, for this thread until the next `HOLD`), and
    /// a `LINK` for each root the new part crosses.
    #[cold]
    fn declare(&mut self, origin: &Arc<Node>, created: u64) {
        let mut fresh: Vec<&Node> = Vec::new();
        let mut links: Vec<(u64, &'static Site, u64)> = Vec::new();
        let mut covered = self.held.len();
        // Innermost first, up to the first frame the held chain has (and so everything above).
        let mut at: Option<&Node> = Some(origin);
        while let Some(n) = at {
            if let Some(i) = self.held.iter().position(|&id| id == n.id) {
                covered = i;
                break;
            }
            // Frames the collector cannot know by id (filtered out) are passed over.
            let recorded = n.recorded();
            if recorded {
                fresh.push(n);
            }
            match (&n.parent, &n.origin) {
                (Some(p), _) => at = Some(p),
                (None, Some(o)) => {
                    let to = o.nearest_recorded();
                    if let (true, Some(to)) = (recorded, to) {
                        links.push((n.id, n.site, to.id));
                    }
                    at = Some(o);
                }
                (None, None) => at = None,
            }
        }
        let ids: Vec<u64> = fresh.iter().map(|n| n.id).collect();
        for n in fresh.iter().skip(1).rev() {
            self.declare_one(n, created, 0);
        }
        self.declare_one(origin, created, record::HOLD);
        for (id, site, to) in links.into_iter().rev() {
            self.record(Rec {
                ts: created,
                id: id | record::LINK,
                site: site as *const Site as usize,
                aux: to,
            });
        }
        let mut held = ids;
        held.extend_from_slice(&self.held[covered..]);
        self.held = held;
    }

    fn declare_one(&mut self, n: &Node, created: u64, flags: u64) {
        self.record(Rec {
            ts: created,
            id: n.id | record::DECLARE | flags,
            site: n.site as *const Site as usize,
            aux: n.parent.as_ref().map_or(0, |p| p.id),
        });
    }
}

/// The current causal chain, outermost first: the chain that spawned this task or thread (across
/// every spawn), then the task's traced futures and this thread's sync frames inside them; and
/// the indices where a spawn was crossed.
pub(crate) fn current_chain() -> (Vec<&'static str>, Vec<usize>) {
    peek_local(|l| {
        let mut names = Vec::new();
        let mut spawns = Vec::new();
        if let Some(node) = l.innermost_node() {
            node.causal_names(&mut names, &mut spawns);
        } else if let Some(origin) = &l.ctx.adopted {
            origin.causal_names(&mut names, &mut spawns);
            spawns.push(names.len());
        }
        (names, spawns)
    })
    .unwrap_or_default()
}

/// The innermost frame of the calling thread, as a node others can link to: where a traced
/// future is created, or an origin captured. Outside any frame, the thread's adopted origin.
pub(crate) fn creator() -> Option<Arc<Node>> {
    peek_local(|l| l.innermost_node().or_else(|| l.ctx.adopted.clone())).flatten()
}

/// Makes `origin` the origin of root frames this thread opens until the returned value is put
/// back with [`unadopt`].
pub(crate) fn adopt(origin: Option<Arc<Node>>) -> Option<Option<Arc<Node>>> {
    let start = origin.as_ref().map(|o| o.site.start)?;
    with_local(start, |l| {
        l.announce_adopted(l.ctx.adopted.clone().as_ref(), origin.as_ref());
        std::mem::replace(&mut l.ctx.adopted, origin)
    })
    .ok()
}

/// Puts back the origin `adopt` replaced.
pub(crate) fn unadopt(previous: Option<Arc<Node>>) {
    let _ = peek_local(|l| {
        l.announce_adopted(l.ctx.adopted.clone().as_ref(), previous.as_ref());
        l.ctx.adopted = previous;
    });
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    static SITE: Site = Site::new("demo::f", || {});

    fn node(parent: Option<Arc<Node>>, origin: Option<Arc<Node>>, id: u64) -> Arc<Node> {
        Arc::new(Node {
            site: &SITE,
            id,
            spawns: spawns_of(&parent, &origin),
            parent,
            depth: 0,
            origin,
        })
    }

    /// A chain a million nodes long (callers and spawns) is let go of on a test thread's small
    /// stack: dropping it one node at a time, not by recursion.
    #[test]
    fn a_long_chain_drops_without_recursing() {
        let mut at = node(None, None, 1);
        for id in 2..1_000_000 {
            at = if id % 2 == 0 {
                node(Some(at), None, id)
            } else {
                node(None, Some(at), id)
            };
        }
        drop(at);
    }

    /// Filtered frames carry their nearest recorded caller's id, or 0: the collector is told
    /// of the nearest frame it knows, across a spawn if need be.
    #[test]
    fn the_nearest_recorded_frame_skips_filtered_ones() {
        let spawner = node(None, None, 7);
        let root = node(None, Some(spawner), 0);
        assert_eq!(root.spawns, 1);
        let filtered = node(Some(root), None, 0);
        assert_eq!(filtered.nearest_recorded().map(|n| n.id), Some(7));
        let caller = node(None, None, 9);
        let carrying = node(Some(caller), None, 9);
        assert_eq!(carrying.nearest_recorded().map(|n| n.id), Some(9));
        assert!(node(None, None, 0).nearest_recorded().is_none());
    }
}
