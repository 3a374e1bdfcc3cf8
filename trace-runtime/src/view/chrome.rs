//! Trace Event Format (Perfetto, chrome://tracing): an array opened before the first event, one
//! complete ("X") event per finished call on its thread's or its task's track, and closed at
//! the end with the frames still open (complete events up to the end, `"open":true`) and
//! metadata naming each track, so the file is complete JSON. Frames one task polls
//! concurrently (branches of a `join!`) overlap without nesting, which one track cannot show:
//! each concurrent branch gets a lane of its own, a track next to its task's.

use std::collections::{BTreeMap, BTreeSet};

use super::stream::Lines;
use super::text::{json_pairs, json_string, micros, push_u64};
use crate::collect::decode::{Ctx, End};
use crate::collect::event::{Event, Kind, Tree};
use crate::collect::frames::OpenFrame;
use crate::units;

/// Offsets task tracks from thread tracks in `tid`s.
pub const TASK_TRACK: u64 = 1_000_000;
/// Offsets each further lane of a thread or task from its first in `tid`s.
pub const LANE_TRACK: u64 = 10_000_000;

/// The array's last lines: the process's name, then its closing. A live output cut short (a
/// full disk) ends with them too, where there is room, so the file stays complete JSON.
pub const CLOSING: &[u8] =
    b"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"traced program\"}}\n]\n";

/// Trace Event Format.
#[derive(Default)]
pub struct Chrome {
    /// Each task seen, with its root's site once known.
    tasks: BTreeMap<u64, Option<u32>>,
    /// The lanes past the first in use, per tree.
    lanes: BTreeSet<(Tree, u32)>,
    /// Open frames whose enter recorded arguments: their values, for the exit's slice.
    args: crate::collect::frames::IdMap<u32>,
}

impl Lines for Chrome {
    fn begin(&mut self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(b"[\n");
    }

    fn line(&mut self, buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
        let lane = ctx.frames.get(e.id).map_or(0, |f| f.lane);
        if e.task != 0 {
            let root = self.tasks.entry(e.task).or_default();
            if e.is_enter() && e.parent == 0 && root.is_none() {
                *root = Some(e.site);
            }
        }
        if lane > 0 {
            self.lanes.insert((e.tree(), lane));
        }
        if e.is_enter() && e.values != 0 {
            self.args.insert(e.id, e.values);
        }
        if e.is_enter() && e.origin != 0 {
            flow(buf, e, lane, ctx);
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
        let slice = Slice {
            name: ctx.tables.site(e.site),
            start_ns,
            dur_ns: elapsed_ns,
            tid: track(e.tree(), lane),
            depth: e.depth,
            thread: e.thread,
            error: false,
        };
        let args = (!self.args.is_empty())
            .then(|| self.args.remove(&e.id))
            .flatten()
            .map(|values| Event { values, ..*e });
        let args = args.as_ref().and_then(|a| ctx.tables.values(a));
        let result = ctx.tables.values(e).filter(|v| v.result.is_some());
        let slice = Slice {
            error: result.is_some_and(|v| v.error),
            ..slice
        };
        slice.write(buf, |buf| {
            if let Some(args) = args.filter(|v| !v.args.is_empty()) {
                json_pairs(buf, "values", &args.args);
            }
            if let Some((v, text)) = result.and_then(|v| Some((v, v.result.as_deref()?))) {
                buf.extend_from_slice(b",\"ret\":");
                json_string(buf, text);
                if v.error {
                    buf.extend_from_slice(b",\"error\":true");
                }
            }
            if unwinding {
                buf.extend_from_slice(b",\"unwinding\":true");
            }
            if cancelled {
                buf.extend_from_slice(b",\"cancelled\":true");
            }
        });
    }

    fn end(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        self.open_frames(buf, end);
        self.close(buf, end);
    }
}

/// A complete event.
struct Slice<'a> {
    name: &'a str,
    start_ns: u64,
    dur_ns: u64,
    tid: u64,
    depth: u32,
    thread: u32,
    /// An error exit (`#[trace(err)]`).
    error: bool,
}

impl Slice<'_> {
    /// The event and a comma, its `args` ending with what `more` adds.
    /// An error exit gets the Trace Event Format's reserved colour for a failure.
    fn write(&self, buf: &mut Vec<u8>, more: impl FnOnce(&mut Vec<u8>)) {
        buf.extend_from_slice(if self.error {
            b"{\"cname\":\"terrible\",\"name\":".as_slice()
        } else {
            b"{\"name\":".as_slice()
        });
        json_string(buf, self.name);
        buf.extend_from_slice(b",\"cat\":\"call\",\"ph\":\"X\",\"ts\":");
        micros(buf, self.start_ns);
        buf.extend_from_slice(b",\"dur\":");
        micros(buf, self.dur_ns);
        buf.extend_from_slice(b",\"pid\":1,\"tid\":");
        push_u64(buf, self.tid);
        buf.extend_from_slice(b",\"args\":{\"depth\":");
        push_u64(buf, u64::from(self.depth));
        buf.extend_from_slice(b",\"thread\":");
        push_u64(buf, u64::from(self.thread));
        more(buf);
        buf.extend_from_slice(b"}},\n");
    }
}

/// A frame's track: its task's, or its thread's, and of those its lane's.
fn track(tree: Tree, lane: u32) -> u64 {
    let base = match tree {
        Tree::Task(task) => TASK_TRACK + task,
        Tree::Thread(thread) => u64::from(thread),
    };
    base + u64::from(lane) * LANE_TRACK
}

/// The track of a frame in the decoder's table.
fn frame_track(f: &OpenFrame) -> u64 {
    track(f.tree(), f.lane)
}

/// A flow arrow from the call that created a task's (or thread's) root to the root's first
/// slice: a start ("s") on the creator's track (its lane's) when the root was created, inside
/// the creator's slice; a finish ("f") bound to the root's slice.
fn flow(buf: &mut Vec<u8>, e: &Event, lane: u32, ctx: &Ctx<'_>) {
    let Some(creator) = ctx.frames.get(e.origin) else {
        return;
    };
    let created = ctx
        .frames
        .created_ns(e.id)
        .unwrap_or(e.ts_ns)
        .clamp(creator.start_ns.min(e.ts_ns), e.ts_ns);
    for (phase, ts, tid) in [
        ("s", created, frame_track(creator)),
        ("f", e.ts_ns, track(e.tree(), lane)),
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
    /// Frames never exited: complete events from their enter to the end of the run (the exit,
    /// the signal that stopped it), marked `"open":true`, outermost first.
    fn open_frames(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        let mut open: Vec<(u64, &OpenFrame)> = end.frames.iter().collect();
        open.sort_by_key(|(id, f)| (f.start_ns, f.depth, *id));
        for (_, f) in open {
            self.note(f);
            let slice = Slice {
                name: end.tables.site(f.site),
                start_ns: f.start_ns,
                dur_ns: end.ts_ns.saturating_sub(f.start_ns),
                tid: frame_track(f),
                depth: f.depth,
                thread: f.thread,
                error: false,
            };
            slice.write(buf, |buf| buf.extend_from_slice(b",\"open\":true"));
        }
    }

    /// Notes an open frame's task and lane for the tracks' names.
    fn note(&mut self, f: &OpenFrame) {
        if f.task != 0 {
            let root = self.tasks.entry(f.task).or_default();
            if f.parent == 0 && root.is_none() {
                *root = Some(f.site);
            }
        }
        if f.lane > 0 {
            self.lanes.insert((f.tree(), f.lane));
        }
    }

    fn close(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        let mut meta = |tid: u64, name: &str| {
            buf.extend_from_slice(b"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":");
            push_u64(buf, tid);
            buf.extend_from_slice(b",\"args\":{\"name\":");
            json_string(buf, name);
            buf.extend_from_slice(b"}},\n");
        };
        let thread_label = |thread: u32| {
            let mut text = b"thread ".to_vec();
            units::thread_label(&mut text, thread, end.tables.thread_name(thread));
            String::from_utf8_lossy(&text).into_owned()
        };
        // A task's track is named by the fn it runs: `task 3 server::handle`.
        let task_label = |task: u64, root: Option<u32>| {
            let mut text = Vec::new();
            units::task_label(&mut text, task);
            if let Some(site) = root {
                text.push(b' ');
                text.extend_from_slice(end.tables.site(site).as_bytes());
            }
            String::from_utf8_lossy(&text).into_owned()
        };
        for thread in end.tables.threads.keys() {
            meta(u64::from(*thread), &thread_label(*thread));
        }
        for (task, root) in &self.tasks {
            meta(TASK_TRACK + task, &task_label(*task, *root));
        }
        for &(tree, lane) in &self.lanes {
            let of = match tree {
                Tree::Task(task) => task_label(task, self.tasks.get(&task).copied().flatten()),
                Tree::Thread(thread) => thread_label(thread),
            };
            meta(track(tree, lane), &format!("{of}, concurrent lane {lane}"));
        }
        buf.extend_from_slice(CLOSING);
    }
}
