//! A traced future's polls on a thread: its first poll places it (under the future being
//! polled, or as a task's root linked to where it was created), each poll makes its place
//! current on the thread, and its exit is recorded by whichever thread completes or drops it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::clock;
use super::node::{spawns_of, within_reach, Node};
use super::record::{self, Rec};
use super::registry::orphan;
use super::site::Site;
use super::thread::{
    depth_below, peek_local, skip, with_local, Ctx, Local, Unavailable, NEXT_TASK,
};

/// What a poll replaced, to be put back when it returns (or unwinds).
pub(crate) struct PollScope {
    ctx: Ctx,
}

/// How a traced future's first poll placed it.
pub(crate) struct Placed {
    pub node: Arc<Node>,
    pub task: u64,
    /// Whether its enter was recorded (`TRACE_FILTER` may leave it out).
    pub recorded: bool,
}

/// A traced future's first poll: its place under the future being polled (and any sync frames
/// it opened since), in that future's task; or, outside any traced future, the root of a new
/// task. Records its enter, flagged `ARGS_FOLLOW` when `args` (the future records its
/// arguments first thing in its first poll) and values are on. `None` when the runtime is busy
/// on this thread.
pub(crate) fn place(site: &'static Site, origin: Option<&Created>, args: bool) -> Option<Placed> {
    with_local(site.start, |l| {
        let ts = clock::ticks();
        let driven = origin
            .and_then(|o| o.node.as_deref())
            .is_some_and(|n| l.open_here(n));
        let (parent, task) = match l.ctx.base {
            // Driven by the frame that created it, on its thread (awaited in it, `block_on`):
            // a call of that frame.
            None if driven => (l.innermost_node(), l.ctx.task),
            // Outside any traced future a future starts a task of its own (the task of the
            // linked block being polled, if one is): tasks do not nest under the sync frames of
            // whoever happens to poll them.
            None if l.ctx.linked.is_some() => (None, l.ctx.linked_task()),
            None => (None, NEXT_TASK.fetch_add(1, Ordering::Relaxed)),
            Some(_) => (l.innermost_node(), l.ctx.task),
        };
        let depth = depth_below(&parent);
        let parent_id = parent.as_ref().map_or(0, |p| p.id);
        let recorded = l.admits(site, depth);
        // A task's root keeps the frame its future was created in: its chain crosses the spawn.
        let (origin, created) = match origin {
            Some(o) if parent.is_none() => (within_reach(o.node.clone()), o.ticks),
            _ => (None, ts),
        };
        let id = if recorded {
            let id = l.next_id();
            if let Some(node) = &origin {
                l.link(id, site, node, created);
            }
            // A task's root says which task it starts; any other frame, its parent.
            let (kind, aux) = if parent.is_none() {
                (record::TASK, task)
            } else {
                (record::ENTER, parent_id)
            };
            let follow = if args && l.values_on() {
                record::ARGS_FOLLOW
            } else {
                0
            };
            l.record(Rec {
                ts,
                id: id | kind | follow,
                site: site as *const Site as usize,
                aux,
            });
            id
        } else {
            parent_id
        };
        Placed {
            node: Arc::new(Node {
                site,
                id,
                spawns: spawns_of(&parent, &origin),
                parent,
                depth: depth as u32,
                origin,
            }),
            task,
            recorded,
        }
    })
    .map_err(|e| {
        if matches!(e, Unavailable::Busy) {
            skip();
        }
    })
    .ok()
}

/// Where a traced future was created: the frame (as a node) and when.
#[derive(Clone)]
pub struct Created {
    pub(crate) node: Option<Arc<Node>>,
    pub(crate) ticks: u64,
    /// The `tracing` span current where it was created: the parent of a spawned root's span.
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<tracing::Span>,
}

/// The frame a traced future is created in, captured when it is created (outside any frame:
/// none, and no clock read). Made directly in a linked block running as a task of its own, it
/// was created, as far as the chain knows, when the block was: its link says so.
pub(crate) fn created() -> Created {
    peek_local(|l| match l.innermost_node() {
        Some(node) => Created {
            node: Some(node),
            ticks: clock::ticks(),
            #[cfg(feature = "tracing")]
            span: super::bridge::creator(),
        },
        None => {
            let node = l.ctx.adopted.clone();
            let ticks = match (&node, l.ctx.linked) {
                (Some(_), Some(block)) => block,
                (Some(_), None) => clock::ticks(),
                (None, _) => 0,
            };
            Created {
                node,
                ticks,
                #[cfg(feature = "tracing")]
                span: super::bridge::creator(),
            }
        }
    })
    .unwrap_or(Created {
        node: None,
        ticks: 0,
        #[cfg(feature = "tracing")]
        span: super::bridge::creator(),
    })
}

/// Makes a traced future's place current on this thread for the length of a poll.
pub(crate) fn enter_poll(node: Arc<Node>, task: u64) -> Option<PollScope> {
    // A task may be polled on a thread that never traced before: its state starts here.
    with_local(node.site.start, |l| {
        let mark = l.stack.len();
        let adopted = l.ctx.adopted.clone();
        let previous = std::mem::replace(
            &mut l.ctx,
            Ctx {
                base: Some(node),
                task,
                mark,
                adopted,
                linked: None,
            },
        );
        PollScope { ctx: previous }
    })
    .ok()
}

/// How a linked block relates to the frame that created it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linking {
    /// Not polled yet.
    Unplaced,
    /// Driven by its creating frame on that frame's thread (awaited in it, `block_on`), or
    /// made outside any frame: the block adds nothing, for good.
    Driven,
    /// Anything else. Each poll by an executor outside any traced future runs it as a task of
    /// its own, with this task number (0 until a frame opens in it), its frames continuing the
    /// creating frame's chain; a poll inside a traced future or another linked task adds
    /// nothing (a block is polled inside a `select!` first, spawned afterwards).
    Free(u64),
}

/// A linked block's poll (or drop): decides at the first poll whether its creator drives it,
/// then, when an executor polls it as a task of its own, makes its origin and task current on
/// this thread until [`leave_poll`].
pub(crate) fn enter_linked(created: &Created, linking: &mut Linking) -> Option<PollScope> {
    let node = created.node.as_ref()?;
    with_local(node.site.start, |l| {
        if *linking == Linking::Unplaced {
            *linking = if l.open_here(node) {
                Linking::Driven
            } else {
                Linking::Free(0)
            };
        }
        let Linking::Free(task) = *linking else {
            return None;
        };
        if l.ctx.base.is_some() || l.ctx.linked.is_some() {
            return None;
        }
        let mark = l.stack.len();
        let previous = std::mem::replace(
            &mut l.ctx,
            Ctx {
                base: None,
                task,
                mark,
                adopted: within_reach(Some(node.clone())),
                linked: Some(created.ticks),
            },
        );
        Some(PollScope { ctx: previous })
    })
    .ok()
    .flatten()
}

/// Ends a poll: the thread's previous place put back; returns the task of the place the poll
/// made current (a linked block keeps the number its frames were given).
pub(crate) fn leave_poll(scope: PollScope) -> u64 {
    peek_local(|l| {
        // A frame leaked inside the poll must not outlive it.
        l.stack.truncate(l.ctx.mark);
        std::mem::replace(&mut l.ctx, scope.ctx).task
    })
    .unwrap_or(0)
}

/// How an async frame ended.
pub(crate) struct AsyncExit {
    pub busy: u64,
    pub unwinding: bool,
    pub cancelled: bool,
}

/// Records an async frame's exit from the thread that completes or drops it.
pub(crate) fn exit_async(node: &Node, recorded: bool, exit: AsyncExit) {
    if !recorded {
        return;
    }
    let flags = record::ASYNC
        | if exit.unwinding { record::UNWINDING } else { 0 }
        | if exit.cancelled { record::CANCELLED } else { 0 };
    let site = node.site;
    let make = |ts| Rec {
        ts,
        id: node.id | record::EXIT | flags,
        site: site as *const Site as usize,
        aux: exit.busy,
    };
    match with_local(site.start, |l| l.record(make(clock::ticks()))) {
        Ok(()) | Err(Unavailable::Busy) => {}
        Err(Unavailable::Gone) => orphan(make(clock::ticks())),
    }
}

impl Local {
    /// Whether `node`'s frame is open on this thread's stack, in the current tree: a future it
    /// created, polled here now, is being driven by it (awaited, `block_on`), not spawned.
    pub(super) fn open_here(&self, node: &Node) -> bool {
        node.id != 0
            && self.stack[self.ctx.mark.min(self.stack.len())..]
                .iter()
                .any(|f| f.id == node.id && std::ptr::eq(f.site, node.site))
    }
}

/// Records values of the traced future being polled on this thread, if it is `site`'s and its
/// enter was recorded and no sync frame is open above it (where a future's own body runs).
#[inline(never)]
pub(crate) fn here_values(site: &'static Site, flags: u64, fill: impl FnOnce(&mut Vec<u8>, usize)) {
    let _ = with_local(site.start, |l| {
        let Some(base) = l.ctx.base.clone() else {
            return;
        };
        let own = std::ptr::eq(base.site, site)
            && l.stack.len() == l.ctx.mark
            && l.admits(site, base.depth as usize);
        if own {
            let ts = clock::ticks();
            l.record_values(base.id, ts, flags, fill);
        }
    });
}
