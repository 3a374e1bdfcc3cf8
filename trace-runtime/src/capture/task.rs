//! Traced futures: the adaptor a traced `async fn`'s body is wrapped in. Its frame belongs to
//! the task that polls it: on every poll it makes its own place in the tree current on the
//! polling thread (whichever thread that is) and restores the previous one after, so depth and
//! chains follow the task across `.await` points and worker threads.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::clock;
use super::node::Node;
use super::poll::{self, AsyncExit, Created, Linking};
use super::site::Site;

/// A traced future. Created by generated code only.
pub struct Instrumented<F> {
    /// Dropped by hand in `drop`, before the exit is written: a cancelled child must exit
    /// before its parent.
    inner: ManuallyDrop<F>,
    site: &'static Site,
    /// Where the future was created, until its first poll.
    created: Option<Created>,
    frame: Option<Frame>,
    /// Set while the inner future is being polled: still set in `drop` means the poll panicked.
    polling: bool,
    /// The inner future records its arguments first thing (`#[trace(args)]`).
    args: bool,
    /// Builds the `tracing` span at the first poll, from the frame's depth, task and parent.
    #[cfg(feature = "tracing")]
    make_span: Option<super::bridge::MakeSpan>,
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

struct Frame {
    node: Arc<Node>,
    task: u64,
    /// Whether its enter was recorded (`TRACE_FILTER` may leave it out).
    recorded: bool,
    /// Ticks spent inside polls.
    busy: u64,
    done: bool,
}

impl<F> Instrumented<F> {
    /// Wraps a future created in the frame `created` names (captured when the traced fn was
    /// called, before the future existed).
    pub fn new_from(site: &'static Site, created: Created, inner: F) -> Self {
        Instrumented {
            inner: ManuallyDrop::new(inner),
            site,
            created: Some(created),
            frame: None,
            polling: false,
            args: false,
            #[cfg(feature = "tracing")]
            make_span: None,
            #[cfg(feature = "tracing")]
            span: None,
        }
    }

    /// The same future, whose body records its arguments first thing (`#[trace(args)]` on an
    /// async fn): its enter says so, so that the views see them on it.
    pub fn with_args(mut self) -> Self {
        self.args = true;
        self
    }

    /// Wraps a future whose frame is also a `tracing` span, entered on every poll.
    #[cfg(feature = "tracing")]
    pub fn new_span(
        site: &'static Site,
        created: Created,
        inner: F,
        make_span: super::bridge::MakeSpan,
    ) -> Self {
        let mut this = Instrumented::new_from(site, created, inner);
        this.make_span = Some(make_span);
        this
    }
}

/// Puts the thread's previous place back when a poll returns or unwinds.
struct Restore(Option<poll::PollScope>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(scope) = self.0.take() {
            let _ = poll::leave_poll(scope);
        }
    }
}

/// Puts the thread's previous place back when a linked block's poll returns or unwinds, keeping
/// the task number its frames were given.
struct RestoreLinked<'a> {
    scope: Option<poll::PollScope>,
    linking: &'a mut Linking,
}

impl Drop for RestoreLinked<'_> {
    fn drop(&mut self) {
        if let Some(scope) = self.scope.take() {
            *self.linking = Linking::Free(poll::leave_poll(scope));
        }
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and `drop`
        // does not move it either. The other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        if this.frame.is_none() {
            // The runtime busy on this thread (a future polled from inside its own work): the
            // future runs untraced.
            let created = this.created.take();
            let Some(placed) = poll::place(this.site, created.as_ref(), this.args) else {
                // SAFETY: as above.
                return unsafe { Pin::new_unchecked(&mut *this.inner) }.poll(cx);
            };
            // A recorded call's span (as a sync call's). Its parent: the caller's span, or for
            // a task's root the span of the frame that made the future (`created`), which a
            // spawn leaves behind.
            #[cfg(feature = "tracing")]
            if let (Some(make), true) = (this.make_span, placed.recorded) {
                let made_in = created.as_ref().and_then(|c| c.span.as_ref());
                let parent = super::bridge::parent(placed.node.parent.is_none(), made_in);
                let (depth, task) = super::bridge::fields(placed.node.depth, placed.task);
                this.span = Some(make(depth, task, parent));
            }
            this.frame = Some(Frame {
                recorded: placed.recorded,
                node: placed.node,
                task: placed.task,
                busy: 0,
                done: false,
            });
        }
        let frame = this.frame.as_mut().expect("set above");
        if frame.done {
            // Polled after completion: the inner future decides what that means.
            // SAFETY: as above.
            return unsafe { Pin::new_unchecked(&mut *this.inner) }.poll(cx);
        }
        #[cfg(feature = "tracing")]
        let _entered = this.span.as_ref().map(|s| s.enter());
        let started = clock::ticks();
        let restore = Restore(poll::enter_poll(frame.node.clone(), frame.task));
        this.polling = true;
        // SAFETY: as above.
        let out = unsafe { Pin::new_unchecked(&mut *this.inner) }.poll(cx);
        this.polling = false;
        drop(restore);
        let now = clock::ticks();
        frame.busy += now.saturating_sub(started);
        if out.is_ready() {
            frame.done = true;
            frame.exit(false, false);
        }
        out
    }
}

impl Frame {
    /// Records the end of the frame: completed, unwound or cancelled.
    fn exit(&self, unwinding: bool, cancelled: bool) {
        let exit = AsyncExit {
            busy: self.busy,
            unwinding,
            cancelled,
        };
        poll::exit_async(&self.node, self.recorded, exit);
    }
}

impl<F> Drop for Instrumented<F> {
    fn drop(&mut self) {
        // A future still running when dropped is being cancelled (or unwound): everything it
        // owns, traced children included, goes first, so that their exits precede ours.
        // SAFETY: `inner` is dropped exactly once, here, in place (pinning allows dropping in
        // place), and never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        let Some(frame) = &self.frame else { return };
        if frame.done {
            return;
        }
        // A poll that panicked left `polling` set; a drop during unwinding is unwinding too.
        // Any other drop of an unfinished future is a cancellation.
        let unwinding = self.polling || std::thread::panicking();
        frame.exit(unwinding, !unwinding);
    }
}

/// An `async` block (or async closure's body) written in a traced fn: no frame of its own, but
/// it remembers the frame that created it. Polled by an executor as a task of its own
/// (`tokio::spawn(async move { .. })`), the traced calls it makes (and the traced `Drop`s of
/// what it holds, when it is dropped unfinished) continue that frame's chain; awaited where it
/// was made, or inside any traced future, it adds nothing. Created by generated code only.
pub struct Linked<F> {
    /// Dropped by hand in `drop`, inside the block's task when it runs as one.
    inner: ManuallyDrop<F>,
    created: Created,
    linking: Linking,
}

impl<F> Linked<F> {
    /// Wraps a block created in the frame `created` names.
    #[inline]
    pub fn new(created: Created, inner: F) -> Self {
        Linked {
            inner: ManuallyDrop::new(inner),
            created,
            linking: Linking::Unplaced,
        }
    }
}

impl<F: Future> Future for Linked<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and `drop`
        // drops it in place. The other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let scope = match this.linking {
            Linking::Driven => None,
            _ => poll::enter_linked(&this.created, &mut this.linking),
        };
        // Polled as a task of its own: the spans of its roots are children of its creator's.
        #[cfg(feature = "tracing")]
        let _origin = scope
            .as_ref()
            .map(|_| super::bridge::adopt(this.created.span.as_ref()));
        let restore = RestoreLinked {
            scope,
            linking: &mut this.linking,
        };
        // SAFETY: as above.
        let out = unsafe { Pin::new_unchecked(&mut *this.inner) }.poll(cx);
        drop(restore);
        out
    }
}

impl<F> Drop for Linked<F> {
    fn drop(&mut self) {
        // What the block still holds (a cancelled task's locals) is dropped inside its task.
        let scope = match self.linking {
            Linking::Free(_) => poll::enter_linked(&self.created, &mut self.linking),
            _ => None,
        };
        #[cfg(feature = "tracing")]
        let _origin = scope
            .as_ref()
            .map(|_| super::bridge::adopt(self.created.span.as_ref()));
        let restore = RestoreLinked {
            scope,
            linking: &mut self.linking,
        };
        // SAFETY: `inner` is dropped exactly once, here, in place (pinning allows dropping in
        // place), and never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        drop(restore);
    }
}
