//! The guard of a traced sync call: a counted call ends in the traced fn; opening and closing a
//! frame on the thread's stack (or as an orphan, once the thread's state is gone) run out of
//! line.

use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use super::clock;
use super::record::{self, Rec};
use super::registry::{orphan, orphan_id};
use super::site::Site;
use super::thread::{depth_below, skip, with_local, Frame, Local, Unavailable};
use crate::value::{self, Arg, Value};

/// Where a guard's frame lives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GuardState {
    /// On this thread's stack.
    OnStack,
    /// Not opened: the runtime was busy on this thread when the call began, or the call was
    /// counted (its site is hot).
    Untraced,
    /// Recorded as an orphan: the thread's state was already gone.
    Orphan,
}

/// One traced call: created on entry, records the exit when dropped, on every path out of the
/// fn. Never `Send`: a guard moved to another thread would close a frame on the wrong stack.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<trace_runtime::__private::Guard>();
/// ```
pub struct Guard {
    site: &'static Site,
    /// Its frame id (the parent's when not recorded).
    id: u64,
    /// Its place on the thread's stack.
    index: u32,
    /// Its depth in the tree it belongs to (the thread's, or a task's), and its task: the
    /// `tracing` span's fields, kept only for it (a smaller guard is cheaper to make).
    #[cfg(feature = "tracing")]
    depth: u32,
    #[cfg(feature = "tracing")]
    task: u64,
    /// Whether its enter was recorded (`TRACE_FILTER` may leave it out).
    recorded: bool,
    state: GuardState,
    not_send: PhantomData<*const ()>,
    /// The `tracing` span of this call, entered for as long as the call runs.
    #[cfg(feature = "tracing")]
    span: Option<tracing::span::EnteredSpan>,
}

impl Guard {
    /// Opens a frame, or counts the call of a hot site. Called by generated code only.
    /// Inlined into the traced fn: a counted call is a few instructions there, and the guard
    /// it returns does nothing on exit.
    #[inline(always)]
    pub fn enter(site: &'static Site) -> Guard {
        // The state that tells a hot site also holds the filter's decision: read once.
        let state = site.state.load(Ordering::Relaxed);
        if let Some(slot) = super::hot::counted_slot(state) {
            super::hot::count(slot);
            return Guard::untraced(site);
        }
        Guard::open(site, state)
    }

    /// Opens a frame. Out of line: the traced fn keeps only the counted path, small enough
    /// for its own callers to inline it.
    #[inline(never)]
    fn open(site: &'static Site, state: u32) -> Guard {
        Guard::open_with(site, state, |_, _, _| {})
    }

    /// Opens a frame that records its arguments (before its enter, so that every view has
    /// them when it shows the enter).
    #[inline(never)]
    fn open_values(site: &'static Site, state: u32, args: &[Arg<'_>]) -> Guard {
        Guard::open_with(site, state, |l, id, ts| {
            l.record_values(id, ts, 0, |out, max| value::write_args(out, args, max))
        })
    }

    /// Opens a frame; `before` records what goes before its enter (its id, the enter's ticks).
    #[inline(always)]
    fn open_with(
        site: &'static Site,
        state: u32,
        before: impl FnOnce(&mut Local, u64, u64),
    ) -> Guard {
        // The timestamp is read once the thread's state exists: its creation starts the
        // process's runtime, which must not count inside the call.
        match with_local(site.start, |l| {
            let ts = clock::ticks();
            l.enter(site, state, ts, before)
        }) {
            Ok(guard) => guard,
            Err(Unavailable::Busy) => {
                skip();
                Guard::untraced(site)
            }
            Err(Unavailable::Gone) => {
                let id = orphan_id();
                orphan(Rec {
                    ts: clock::ticks(),
                    id: id | record::ENTER,
                    site: site as *const Site as usize,
                    aux: 0,
                });
                let mut guard = Guard::untraced(site);
                guard.id = id;
                guard.recorded = true;
                guard.state = GuardState::Orphan;
                guard
            }
        }
    }

    fn untraced(site: &'static Site) -> Guard {
        Guard {
            site,
            id: 0,
            index: 0,
            #[cfg(feature = "tracing")]
            depth: 0,
            #[cfg(feature = "tracing")]
            task: 0,
            recorded: false,
            state: GuardState::Untraced,
            not_send: PhantomData,
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// Opens a frame and the `tracing` span `make_span` builds from its depth, task and parent
    /// span (the caller's; for a root, the span of the frame its thread's work came from).
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn enter_span(
        site: &'static Site,
        make_span: impl FnOnce(i64, i64, Option<tracing::Id>) -> tracing::Span,
    ) -> Guard {
        let mut guard = Guard::enter(site);
        guard.enter_bridge_span(make_span);
        guard
    }

    /// The `tracing` span of a recorded call, the child of the span `bridge.rs` chooses.
    #[cfg(feature = "tracing")]
    fn enter_bridge_span(
        &mut self,
        make_span: impl FnOnce(i64, i64, Option<tracing::Id>) -> tracing::Span,
    ) {
        if self.recorded {
            let parent = super::bridge::parent(self.depth == 0, None);
            let (depth, task) = super::bridge::fields(self.depth, self.task);
            self.span = Some(make_span(depth, task, parent).entered());
        }
    }
}

impl Guard {
    /// Opens a frame that records its arguments. Called by generated code only.
    #[inline(always)]
    pub fn enter_values(site: &'static Site, args: &[Arg<'_>]) -> Guard {
        let state = site.state.load(Ordering::Relaxed);
        if let Some(slot) = super::hot::counted_slot(state) {
            super::hot::count(slot);
            return Guard::untraced(site);
        }
        Guard::open_values(site, state, args)
    }

    /// [`Guard::enter_values`] with a `tracing` span, as [`Guard::enter_span`].
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn enter_span_values(
        site: &'static Site,
        args: &[Arg<'_>],
        make_span: impl FnOnce(i64, i64, Option<tracing::Id>) -> tracing::Span,
    ) -> Guard {
        let mut guard = Guard::enter_values(site, args);
        guard.enter_bridge_span(make_span);
        guard
    }

    /// Records the frame's return value (`ret`).
    #[inline(always)]
    pub fn ret(&self, value: Value<'_>) {
        if self.recorded && self.state == GuardState::OnStack {
            self.result(record::RESULT, |out, max| value::write(out, value, max));
        }
    }

    /// Records the frame's `Ok` value (`ret` with `err`).
    #[inline(always)]
    pub fn ret_ok(&self, value: Value<'_>) {
        if self.recorded && self.state == GuardState::OnStack {
            self.result(record::RESULT, |out, max| {
                value::write_wrapped(out, "Ok", value, max)
            });
        }
    }

    /// Marks the frame's exit an error exit and records the error (`err`).
    #[inline(always)]
    pub fn err(&self, value: Value<'_>) {
        if self.recorded && self.state == GuardState::OnStack {
            self.result(record::RESULT | record::ERROR, |out, max| {
                value::write_wrapped(out, "Err", value, max)
            });
        }
    }

    /// Records the frame's result, formatted by `fill`, just before its exit.
    #[inline(never)]
    fn result(&self, flags: u64, fill: impl FnOnce(&mut Vec<u8>, usize)) {
        let _ = with_local(self.site.start, |l| {
            let ts = clock::ticks();
            l.record_values(self.id, ts, flags, fill)
        });
    }
}

impl Drop for Guard {
    /// Inlined into the traced fn: an untraced or counted call's guard ends there.
    #[inline(always)]
    fn drop(&mut self) {
        if self.state != GuardState::Untraced {
            self.close();
        }
    }
}

impl Guard {
    /// Closes the frame (out of line, as `open`).
    #[inline(never)]
    fn close(&mut self) {
        let unwinding = std::thread::panicking();
        match self.state {
            GuardState::OnStack => {
                let _ = with_local(self.site.start, |l| {
                    let ts = clock::ticks();
                    l.exit(self, ts, unwinding)
                });
            }
            GuardState::Untraced => {}
            GuardState::Orphan => {
                let flags = if unwinding { record::UNWINDING } else { 0 };
                orphan(Rec {
                    ts: clock::ticks(),
                    id: self.id | record::EXIT | flags,
                    site: self.site as *const Site as usize,
                    aux: 0,
                });
            }
        }
    }
}

impl Local {
    /// Opens a sync frame; `before` records what goes before its enter.
    #[inline(always)]
    fn enter(
        &mut self,
        site: &'static Site,
        state: u32,
        ts: u64,
        before: impl FnOnce(&mut Local, u64, u64),
    ) -> Guard {
        let index = self.stack.len();
        let (id, depth, recorded) = if index > self.ctx.mark {
            let depth = depth_below(&self.ctx.base) + (index - self.ctx.mark);
            let parent = self.stack[index - 1].id;
            let recorded = self.admits_as(site, state, depth);
            let id = if recorded {
                let id = self.next_id();
                before(self, id, ts);
                self.record(Rec {
                    ts,
                    id: id | record::ENTER,
                    site: site as *const Site as usize,
                    aux: parent,
                });
                id
            } else {
                parent
            };
            (id, depth, recorded)
        } else {
            self.enter_first(site, ts, before)
        };
        self.stack.push(Frame { site, id });
        // The depth was needed for `TRACE_FILTER=depth=`; the guard keeps it for `tracing`.
        #[cfg(not(feature = "tracing"))]
        let _ = depth;
        Guard {
            site,
            id,
            index: index as u32,
            #[cfg(feature = "tracing")]
            depth: depth as u32,
            #[cfg(feature = "tracing")]
            task: self.ctx.task,
            recorded,
            state: GuardState::OnStack,
            not_send: PhantomData,
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// Records the first sync frame of the current tree (its id, depth and whether it was
    /// recorded): under the traced future being polled, or a root. A root opened while a
    /// linked block runs as a task of its own is that task's root, linked to where the block
    /// was made. Kept out of `enter`, whose nested calls are the hot path.
    #[inline(never)]
    fn enter_first(
        &mut self,
        site: &'static Site,
        ts: u64,
        before: impl FnOnce(&mut Local, u64, u64),
    ) -> (u64, usize, bool) {
        let depth = depth_below(&self.ctx.base);
        let parent = self.ctx.base.as_ref().map_or(0, |n| n.id);
        let recorded = self.admits(site, depth);
        if !recorded {
            return (parent, depth, false);
        }
        let id = self.next_id();
        let (kind, aux) = if let (0, Some(created)) = (parent, self.ctx.linked) {
            if let Some(origin) = self.ctx.adopted.clone() {
                self.link(id, site, &origin, created);
            }
            (record::TASK, self.ctx.linked_task())
        } else {
            (record::ENTER, parent)
        };
        before(self, id, ts);
        self.record(Rec {
            ts,
            id: id | kind,
            site: site as *const Site as usize,
            aux,
        });
        (id, depth, true)
    }

    #[inline(always)]
    fn exit(&mut self, guard: &Guard, ts: u64, unwinding: bool) {
        // Truncating rather than popping keeps the stack right even if an inner guard leaked.
        self.stack.truncate(guard.index as usize);
        if guard.recorded {
            let flags = if unwinding { record::UNWINDING } else { 0 };
            self.record(Rec {
                ts,
                id: guard.id | record::EXIT | flags,
                site: guard.site as *const Site as usize,
                aux: 0,
            });
        }
    }
}
