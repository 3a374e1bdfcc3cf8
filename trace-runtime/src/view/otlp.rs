//! OTLP JSON: the run as OpenTelemetry `ExportTraceServiceRequest`s, one per line of at most
//! `BATCH` spans (JSON lines: the collector's `otlpjsonfile` receiver reads the file as it is,
//! and each line is a body for `POST /v1/traces`). One span per finished call, written at its
//! exit; at the end the frames still open, up to the end of the run and marked `"open"`. A span's parent is its
//! calling frame, or for the root of a spawned task or thread the frame that created it, so a
//! trace crosses spawns as the chains do; a root with neither starts a trace of its own.
//!
//! A recording's clock starts at the first traced call and holds no Unix time: the caller
//! gives the Unix time of that nanosecond 0 (`trace-rewriter` takes the recording's
//! modification time less the run's length), and every timestamp is anchored to it.

use std::collections::HashMap;
use std::io::Write;

use super::stream::Lines;
use super::text::{json_string, push_u64};
use crate::collect::decode::{Ctx, End};
use crate::collect::event::{Event, Kind, Tables};

/// The request's opening, up to its list of spans: the resource (OpenTelemetry's name for an
/// unnamed service, which a collector's `resource` processor can set) and the scope.
const OPENING: &str = concat!(
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",",
    "\"value\":{\"stringValue\":\"unknown_service\"}}]},\"scopeSpans\":[{\"scope\":",
    "{\"name\":\"trace-runtime\",\"version\":\"",
    env!("CARGO_PKG_VERSION"),
    "\"},\"spans\":["
);

/// The request's closing, and its line's.
const CLOSING: &[u8] = b"]}]}]}\n";

/// Spans per request: a line stays well under a collector's default request limit (4 MiB
/// over gRPC) at the length of a span (about 400 bytes).
pub const BATCH: usize = 4096;

/// OTLP JSON.
pub struct Otlp {
    /// Unix time of the run's nanosecond 0, in nanoseconds.
    start_unix_ns: u64,
    /// Each open frame's trace: the root frame it descends from, across spawns.
    traces: HashMap<u64, u64>,
    /// Spans in the request being written.
    spans: usize,
}

impl Otlp {
    /// Spans whose timestamps are `start_unix_ns` plus the run's nanoseconds.
    pub fn new(start_unix_ns: u64) -> Self {
        Otlp {
            start_unix_ns,
            traces: HashMap::new(),
            spans: 0,
        }
    }

    /// The trace a frame entering under `link` (its parent or origin; 0: none) belongs to: its
    /// link's, else the root of its link's chain (a spawned root entering after its creator
    /// exited), else its own.
    fn trace_of(&self, id: u64, link: u64, ctx: &Ctx<'_>) -> u64 {
        if link == 0 {
            return id;
        }
        if let Some(trace) = self.traces.get(&link) {
            return *trace;
        }
        ctx.frames
            .causal_chain(link)
            .first()
            .map_or(link, |(root, _, _)| *root)
    }
}

impl Lines for Otlp {
    fn begin(&mut self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(OPENING.as_bytes());
    }

    fn line(&mut self, buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
        let link = e.parent_or_origin();
        let Kind::Exit {
            elapsed_ns,
            busy_ns,
            unwinding,
            cancelled,
        } = e.kind
        else {
            let trace = self.trace_of(e.id, link, ctx);
            self.traces.insert(e.id, trace);
            return;
        };
        let trace = match self.traces.remove(&e.id) {
            Some(trace) => trace,
            None => self.trace_of(e.id, link, ctx),
        };
        let span = Span {
            trace,
            id: e.id,
            parent: link,
            site: e.site,
            start_ns: e.ts_ns.saturating_sub(elapsed_ns),
            end_ns: e.ts_ns,
            depth: e.depth,
            task: e.task,
            // The thread it began on, as for a frame still open (a task's frame may end on
            // another).
            thread: ctx.frames.get(e.id).map_or(e.thread, |f| f.thread),
            busy_ns: Some(busy_ns),
            panicked: unwinding,
        };
        self.write(buf, &span, ctx.tables, |buf| {
            if cancelled {
                bool_attribute(buf, "cancelled");
            }
        });
    }

    fn end(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        let mut open: Vec<_> = end.frames.iter().collect();
        open.sort_by_key(|(id, f)| (f.start_ns, f.depth, *id));
        for (id, f) in open {
            let link = f.parent_or_origin();
            let trace = match self.traces.get(&id) {
                Some(trace) => *trace,
                None => end
                    .frames
                    .causal_chain(id)
                    .first()
                    .map_or(id, |(root, _, _)| *root),
            };
            let span = Span {
                trace,
                id,
                parent: link,
                site: f.site,
                start_ns: f.start_ns,
                end_ns: end.ts_ns.max(f.start_ns),
                depth: f.depth,
                task: f.task,
                thread: f.thread,
                busy_ns: None,
                panicked: false,
            };
            self.write(buf, &span, end.tables, |buf| bool_attribute(buf, "open"));
        }
        buf.extend_from_slice(CLOSING);
    }
}

/// One span's fields.
struct Span {
    trace: u64,
    id: u64,
    parent: u64,
    site: u32,
    start_ns: u64,
    end_ns: u64,
    depth: u32,
    task: u64,
    thread: u32,
    /// Time inside polls: known once the call has exited.
    busy_ns: Option<u64>,
    /// The call ended unwinding: the span's status is an error.
    panicked: bool,
}

impl Otlp {
    /// A span object (after a comma, or in a new request when the one being written is full),
    /// its attributes ending with what `more` adds.
    fn write(
        &mut self,
        buf: &mut Vec<u8>,
        s: &Span,
        tables: &Tables,
        more: impl FnOnce(&mut Vec<u8>),
    ) {
        if self.spans == BATCH {
            buf.extend_from_slice(CLOSING);
            buf.extend_from_slice(OPENING.as_bytes());
            self.spans = 0;
        } else if self.spans > 0 {
            buf.push(b',');
        }
        self.spans += 1;
        // A trace id is 16 bytes: the run's start and its root frame's id make it unique
        // across runs (frame ids restart at each run).
        let _ = write!(
            buf,
            "{{\"traceId\":\"{:016x}{:016x}\",\"spanId\":\"{:016x}\"",
            self.start_unix_ns, s.trace, s.id
        );
        if s.parent != 0 {
            let _ = write!(buf, ",\"parentSpanId\":\"{:016x}\"", s.parent);
        }
        buf.extend_from_slice(b",\"name\":");
        json_string(buf, tables.site(s.site));
        // SPAN_KIND_INTERNAL: a call inside the process.
        buf.extend_from_slice(b",\"kind\":1,\"startTimeUnixNano\":\"");
        push_u64(buf, self.start_unix_ns.saturating_add(s.start_ns));
        buf.extend_from_slice(b"\",\"endTimeUnixNano\":\"");
        push_u64(buf, self.start_unix_ns.saturating_add(s.end_ns));
        buf.extend_from_slice(b"\",\"attributes\":[");
        int_attribute(buf, "depth", u64::from(s.depth));
        buf.push(b',');
        int_attribute(buf, "task", s.task);
        buf.push(b',');
        int_attribute(buf, "thread.id", u64::from(s.thread));
        if let Some(name) = tables.thread_name(s.thread) {
            buf.extend_from_slice(b",{\"key\":\"thread.name\",\"value\":{\"stringValue\":");
            json_string(buf, name);
            buf.extend_from_slice(b"}}");
        }
        if let Some(busy) = s.busy_ns {
            buf.push(b',');
            int_attribute(buf, "busy_ns", busy);
        }
        more(buf);
        buf.push(b']');
        if s.panicked {
            // STATUS_CODE_ERROR.
            buf.extend_from_slice(b",\"status\":{\"code\":2,\"message\":\"panicked\"}");
        }
        buf.push(b'}');
    }
}

/// An integer attribute: OTLP JSON writes 64-bit integers as strings.
fn int_attribute(buf: &mut Vec<u8>, key: &str, value: u64) {
    buf.extend_from_slice(b"{\"key\":\"");
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\",\"value\":{\"intValue\":\"");
    push_u64(buf, value.min(i64::MAX as u64));
    buf.extend_from_slice(b"\"}}");
}

/// A `true` attribute, after others.
fn bool_attribute(buf: &mut Vec<u8>, key: &str) {
    buf.extend_from_slice(b",{\"key\":\"");
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\",\"value\":{\"boolValue\":true}}");
}
