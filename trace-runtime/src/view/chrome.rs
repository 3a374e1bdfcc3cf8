//! Trace Event Format (Perfetto, chrome://tracing): an array opened before the first event, one
//! complete ("X") event per finished call on its thread's or its task's track, and closed at
//! the end with metadata naming each track, so the file is complete JSON.

use std::collections::BTreeSet;

use super::stream::Lines;
use super::text::{json_string, micros, push_u64};
use crate::collect::decode::{Ctx, End};
use crate::collect::event::{Event, Kind};

/// Offsets task tracks from thread tracks in `tid`s.
pub const TASK_TRACK: u64 = 1_000_000;

/// Trace Event Format.
#[derive(Default)]
pub struct Chrome {
    tasks: BTreeSet<u64>,
}

impl Lines for Chrome {
    fn begin(&mut self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"[\n");
    }

    fn line(&mut self, buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
        if e.task != 0 {
            self.tasks.insert(e.task);
        }
        if e.is_enter() && e.origin != 0 {
            flow(buf, e, ctx);
        }
        let Kind::Exit {
            elapsed_ns,
            unwinding,
            cancelled,
            ..
        } = e.kind
        else {
            return;
        };
        let start_ns = e.ts_ns.saturating_sub(elapsed_ns);
        buf.extend_from_slice(b"{\"name\":");
        json_string(buf, ctx.tables.site(e.site));
        buf.extend_from_slice(b",\"cat\":\"call\",\"ph\":\"X\",\"ts\":");
        micros(buf, start_ns);
        buf.extend_from_slice(b",\"dur\":");
        micros(buf, elapsed_ns);
        buf.extend_from_slice(b",\"pid\":1,\"tid\":");
        push_u64(buf, track(e.task, e.thread));
        buf.extend_from_slice(b",\"args\":{\"depth\":");
        push_u64(buf, u64::from(e.depth));
        buf.extend_from_slice(b",\"thread\":");
        push_u64(buf, u64::from(e.thread));
        if unwinding {
            buf.extend_from_slice(b",\"unwinding\":true");
        }
        if cancelled {
            buf.extend_from_slice(b",\"cancelled\":true");
        }
        buf.extend_from_slice(b"}},\n");
    }

    fn end(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        self.close(buf, end);
    }
}

/// A frame's track: its task's, or its thread's.
fn track(task: u64, thread: u32) -> u64 {
    if task != 0 {
        TASK_TRACK + task
    } else {
        u64::from(thread)
    }
}

/// A flow arrow from the call that created a task's (or thread's) root to the root's first
/// slice: a start ("s") on the creator's track when the root was created, a finish ("f") bound
/// to the root's slice.
fn flow(buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
    let Some(creator) = ctx.frames.get(e.origin) else {
        return;
    };
    let created = ctx.frames.created_ns(e.id).unwrap_or(e.ts_ns).min(e.ts_ns);
    for (phase, ts, tid) in [
        ("s", created, track(creator.task, creator.thread)),
        ("f", e.ts_ns, track(e.task, e.thread)),
    ] {
        buf.extend_from_slice(b"{\"name\":\"spawn\",\"cat\":\"spawn\",\"ph\":\"");
        buf.extend_from_slice(phase.as_bytes());
        buf.extend_from_slice(b"\",\"id\":");
        push_u64(buf, e.id);
        buf.extend_from_slice(b",\"ts\":");
        micros(buf, ts);
        if phase == "f" {
            buf.extend_from_slice(b",\"bp\":\"e\"");
        }
        buf.extend_from_slice(b",\"pid\":1,\"tid\":");
        push_u64(buf, tid);
        buf.extend_from_slice(b"},\n");
    }
}

impl Chrome {
    fn close(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        let mut meta = |tid: u64, name: &str| {
            buf.extend_from_slice(b"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":");
            push_u64(buf, tid);
            buf.extend_from_slice(b",\"args\":{\"name\":");
            json_string(buf, name);
            buf.extend_from_slice(b"}},\n");
        };
        for (thread, name) in &end.tables.threads {
            let label = match name {
                Some(n) => format!("thread {thread:02} {n}"),
                None => format!("thread {thread:02}"),
            };
            meta(u64::from(*thread), &label);
        }
        for task in &self.tasks {
            meta(TASK_TRACK + task, &format!("task {task}"));
        }
        buf.extend_from_slice(
            b"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"traced program\"}}\n]\n",
        );
    }
}
