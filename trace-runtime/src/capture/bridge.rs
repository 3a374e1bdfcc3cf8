//! The `tracing` bridge's parent links: which span a traced call's span is the child of. Inside
//! a tree it is the current span (the calling frame's); a root of a task or of a thread's
//! adopted work takes the span of the frame that created it, so that an OpenTelemetry trace
//! crosses spawns as the runtime's chains do.
//!
//! A parent is named by id and held by a clone of its `Span` until the child exists (a closed
//! span's id cannot be a parent); it is never entered on another thread, which would move the
//! parent's end (tracing-opentelemetry ends a span at its last exit) past the traced call's.

use std::cell::RefCell;

use tracing::{Id, Span};

thread_local! {
    /// The span of the frame whose work this thread runs now: an adopted `Origin`'s, or a
    /// linked block's polled as a task of its own.
    static ORIGIN: RefCell<Option<Span>> = const { RefCell::new(None) };
}

/// The span that work made here (a future, an `Origin`, a linked block) continues: the current
/// span, else the origin this thread runs for, else none.
pub(crate) fn creator() -> Option<Span> {
    let current = Span::current();
    if !current.is_none() {
        return Some(current);
    }
    ORIGIN.try_with(|o| o.borrow().clone()).ok().flatten()
}

/// Makes `span` this thread's origin until the returned value is dropped.
pub(crate) fn adopt(span: Option<&Span>) -> Adopted {
    Adopted(ORIGIN.try_with(|o| o.replace(span.cloned())).ok())
}

/// Puts the thread's previous origin back.
pub(crate) struct Adopted(Option<Option<Span>>);

impl Drop for Adopted {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            let _ = ORIGIN.try_with(|o| o.replace(previous));
        }
    }
}

/// Builds a traced future's span from its `depth`, its `task` and its parent (generated code).
pub type MakeSpan = fn(i64, i64, Option<Id>) -> Span;

/// A call's depth and task as its span's `depth` and `task` fields: signed, because
/// OpenTelemetry has no unsigned integers and tracing-opentelemetry records a `u64` field as
/// text, which a backend cannot compare or sum.
pub(crate) fn fields(depth: u32, task: u64) -> (i64, i64) {
    (i64::from(depth), i64::try_from(task).unwrap_or(i64::MAX))
}

/// The parent of a new call's span. `root`: the call is the root of the runtime's tree (a
/// task's first frame, or a thread's outermost); its parent is then the span of the frame that
/// created it (`created`, a traced future's) or of the origin this thread runs for. Any other
/// call's parent is the current span: its caller's.
pub(crate) fn parent(root: bool, created: Option<&Span>) -> Option<Id> {
    if root {
        if let Some(id) = created.and_then(Span::id) {
            return Some(id);
        }
        let origin = ORIGIN.try_with(|o| o.borrow().as_ref().and_then(Span::id));
        if let Some(id) = origin.ok().flatten() {
            return Some(id);
        }
    }
    tracing::dispatcher::get_default(|d| d.current_span().id().cloned())
}
