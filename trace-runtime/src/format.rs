//! Renders events as text: the human tree and JSON lines.

use std::io::Write;

use crate::clock::{self, Calibration};
use crate::config::{Config, Format};
use crate::ring::{
    OpenSync, Rec, RenderState, CANCELLED, DEPTH_MASK, KIND_BUSY, KIND_ENTER, KIND_MASK, UNWINDING,
};

/// What happened.
#[derive(Clone, Copy)]
pub(crate) enum Event {
    Enter,
    Exit {
        elapsed_ns: u64,
        /// Time spent inside polls (async) or the whole call (sync).
        busy_ns: u64,
        unwinding: bool,
        /// A traced future dropped before it completed.
        cancelled: bool,
    },
}

/// The thread an event comes from.
pub(crate) struct Who<'a> {
    pub thread: u32,
    pub thread_name: Option<&'a str>,
    /// The task the event belongs to; 0 for plain threads.
    pub task: u64,
}

const INDENT: &str = "  ";
/// Indentation levels shown before the depth is written as a number.
pub(crate) const MAX_INDENT: usize = 40;
const SPACES: &str = "                                                                ";
const PALETTE: [&str; 6] = ["36", "33", "35", "32", "34", "31"];

/// One event, with everything a line shows.
pub(crate) struct Record<'a> {
    pub who: Who<'a>,
    pub depth: usize,
    pub name: &'a str,
    pub ts_ns: u64,
    pub event: Event,
}

/// The event a record stands for; `busy` is the record that follows an async exit.
pub(crate) fn event_of(rec: &Rec, busy: Option<&Rec>, cal: &Calibration) -> Event {
    if rec.meta & KIND_MASK == KIND_ENTER {
        return Event::Enter;
    }
    let elapsed_ns = cal.ns(rec.ts) - cal.ns(rec.aux);
    Event::Exit {
        elapsed_ns,
        busy_ns: busy.map_or(elapsed_ns, |b| cal.span_ns(b.aux).min(elapsed_ns)),
        unwinding: rec.meta & UNWINDING != 0,
        cancelled: rec.meta & CANCELLED != 0,
    }
}

/// Renders one ring's records as lines of the configured format, keeping track of open frames
/// (for the report at exit) and folding away calls shorter than `min=`.
pub(crate) fn render(
    out: &mut Vec<u8>,
    cfg: &Config,
    thread: u32,
    thread_name: Option<&str>,
    state: &mut RenderState,
    recs: &[Rec],
) {
    let cal = clock::calibration();
    let min_ticks = cfg.filter.min_ns.map(|ns| cal.ticks_for(ns));
    let mut cache = PrefixCache::default();
    let mut i = 0;
    while i < recs.len() {
        let rec = &recs[i];
        if rec.meta & KIND_MASK == KIND_BUSY {
            i += 1;
            continue;
        }
        let busy = recs.get(i + 1).filter(|n| n.meta & KIND_MASK == KIND_BUSY);
        i += if busy.is_some() { 2 } else { 1 };
        let depth = rec.meta & DEPTH_MASK;
        let enter = rec.meta & KIND_MASK == KIND_ENTER;
        let record = Record {
            who: Who {
                thread,
                thread_name,
                task: u64::from(rec.task),
            },
            depth: depth as usize,
            name: rec.site.name,
            ts_ns: cal.ns(rec.ts),
            event: event_of(rec, busy, cal),
        };
        if rec.task != 0 {
            crate::open::task_event(rec);
            if !cfg.quiet_events && !min_ticks.is_some_and(|m| !enter && rec.ts - rec.aux < m) {
                line_with(out, cfg.format, cfg.color, &mut cache, &record);
            }
            continue;
        }
        // A sync frame: this ring holds its enter and exit, in order. Lines go straight out,
        // unless `min=` may still fold the call they belong to away.
        let folding = min_ticks.is_some();
        if enter {
            state.open.push(OpenSync {
                site: rec.site,
                depth,
                start: rec.ts,
                offset: state.pending.len(),
            });
            if !cfg.quiet_events {
                let buf = if folding {
                    &mut state.pending
                } else {
                    &mut *out
                };
                line_with(buf, cfg.format, cfg.color, &mut cache, &record);
            }
        } else {
            // Frames leaked inside this one close with it.
            while state.open.last().is_some_and(|o| o.depth > depth) {
                state.open.pop();
            }
            let opened = state.open.pop();
            let short = min_ticks.is_some_and(|m| rec.ts.saturating_sub(rec.aux) < m);
            match opened {
                Some(o) if short => state.pending.truncate(o.offset),
                _ if !cfg.quiet_events => {
                    let buf = if folding {
                        &mut state.pending
                    } else {
                        &mut *out
                    };
                    line_with(buf, cfg.format, cfg.color, &mut cache, &record);
                }
                _ => {}
            }
            if folding && state.open.is_empty() {
                out.append(&mut state.pending);
            }
        }
    }
}

/// Appends one event line to `buf`.
#[cfg(test)]
pub(crate) fn line(buf: &mut Vec<u8>, format: Format, color: bool, r: &Record<'_>) {
    line_with(buf, format, color, &mut PrefixCache::default(), r);
}

/// Appends one event line to `buf`, reusing the cached human prefix.
pub(crate) fn line_with(
    buf: &mut Vec<u8>,
    format: Format,
    color: bool,
    cache: &mut PrefixCache,
    r: &Record<'_>,
) {
    match format {
        Format::Human => human(buf, color, cache.get(color, &r.who), r),
        Format::Jsonl => jsonl(buf, r),
        Format::Chrome => chrome(buf, r),
        // Folded stacks are written at exit, from the analysis.
        Format::Folded => {}
    }
}

/// The `[01 main task 3] ` that starts each human line, coloured per thread or task.
fn prefix(buf: &mut Vec<u8>, color: bool, who: &Who<'_>) {
    // Each task, or each plain thread, gets its own tint.
    let key = if who.task != 0 {
        who.task as usize
    } else {
        who.thread as usize
    };
    let tint = PALETTE[key % PALETTE.len()];
    if color {
        buf.extend_from_slice(b"\x1b[");
        buf.extend_from_slice(tint.as_bytes());
        buf.push(b'm');
    }
    buf.push(b'[');
    if who.thread < 10 {
        buf.push(b'0');
    }
    push_u64(buf, u64::from(who.thread));
    if let Some(n) = who.thread_name {
        buf.push(b' ');
        buf.extend_from_slice(n.as_bytes());
    }
    if who.task != 0 {
        buf.extend_from_slice(b" task ");
        push_u64(buf, who.task);
    }
    buf.push(b']');
    if color {
        buf.extend_from_slice(b"\x1b[0m");
    }
}

/// The prefix of the last (thread, task) rendered: a ring's lines mostly share one.
#[derive(Default)]
pub(crate) struct PrefixCache {
    key: Option<(u32, u64)>,
    bytes: Vec<u8>,
}

impl PrefixCache {
    fn get(&mut self, color: bool, who: &Who<'_>) -> &[u8] {
        if self.key != Some((who.thread, who.task)) {
            self.bytes.clear();
            prefix(&mut self.bytes, color, who);
            self.key = Some((who.thread, who.task));
        }
        &self.bytes
    }
}

fn human(buf: &mut Vec<u8>, color: bool, prefix: &[u8], r: &Record<'_>) {
    let Record {
        depth, name, event, ..
    } = r;
    let (depth, event) = (*depth, *event);
    buf.extend_from_slice(prefix);
    buf.push(b' ');
    // Past MAX_INDENT levels the indentation stops growing and the depth is written out, so a
    // deep recursion stays readable.
    if depth > MAX_INDENT {
        buf.extend_from_slice(b"[depth ");
        push_u64(buf, depth as u64);
        buf.extend_from_slice(b"] ");
    }
    let mut indent = depth.min(MAX_INDENT) * INDENT.len();
    while indent > 0 {
        let n = indent.min(SPACES.len());
        buf.extend_from_slice(&SPACES.as_bytes()[..n]);
        indent -= n;
    }
    match event {
        Event::Enter => {
            buf.extend_from_slice(b"-> ");
            buf.extend_from_slice(name.as_bytes());
        }
        Event::Exit {
            elapsed_ns,
            busy_ns,
            unwinding,
            cancelled,
        } => {
            buf.extend_from_slice(b"<- ");
            buf.extend_from_slice(name.as_bytes());
            buf.push(b' ');
            if color {
                buf.extend_from_slice(b"\x1b[2m");
            }
            duration(buf, elapsed_ns);
            if busy_ns != elapsed_ns {
                buf.extend_from_slice(b" (busy ");
                duration(buf, busy_ns);
                buf.push(b')');
            }
            if color {
                buf.extend_from_slice(b"\x1b[0m");
            }
            if cancelled {
                if color {
                    buf.extend_from_slice(b" \x1b[33mcancelled\x1b[0m");
                } else {
                    buf.extend_from_slice(b" cancelled");
                }
            }
            if unwinding {
                if color {
                    buf.extend_from_slice(b" \x1b[31munwinding\x1b[0m");
                } else {
                    buf.extend_from_slice(b" unwinding");
                }
            }
        }
    }
    buf.push(b'\n');
}

/// `850ns`, `12.3µs`, `4.5ms`, `2.01s`: rounded to the digits shown.
pub(crate) fn duration(buf: &mut Vec<u8>, ns: u64) {
    let (scaled, decimals, unit): (u64, u32, &str) = match ns {
        0..=999 => (ns, 0, "ns"),
        1_000..=999_949 => ((ns + 50) / 100, 1, "µs"),
        999_950..=999_949_999 => ((ns + 50_000) / 100_000, 1, "ms"),
        _ => ((ns + 5_000_000) / 10_000_000, 2, "s"),
    };
    let div = 10u64.pow(decimals);
    push_u64(buf, scaled / div);
    if decimals > 0 {
        buf.push(b'.');
        let frac = scaled % div;
        if decimals == 2 && frac < 10 {
            buf.push(b'0');
        }
        push_u64(buf, frac);
    }
    buf.extend_from_slice(unit.as_bytes());
}

/// Decimal digits of `n`, without going through `fmt`.
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

fn jsonl(buf: &mut Vec<u8>, r: &Record<'_>) {
    let Record {
        who,
        depth,
        name,
        ts_ns,
        event,
    } = r;
    buf.extend_from_slice(b"{\"thread\":");
    push_u64(buf, u64::from(who.thread));
    buf.extend_from_slice(b",\"thread_name\":");
    match who.thread_name {
        Some(n) => json_string(buf, n),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"task\":");
    if who.task == 0 {
        buf.extend_from_slice(b"null");
    } else {
        push_u64(buf, who.task);
    }
    buf.extend_from_slice(b",\"depth\":");
    push_u64(buf, *depth as u64);
    buf.extend_from_slice(match event {
        Event::Enter => b",\"event\":\"enter\",\"name\":".as_slice(),
        Event::Exit { .. } => b",\"event\":\"exit\",\"name\":".as_slice(),
    });
    json_string(buf, name);
    buf.extend_from_slice(b",\"ts_ns\":");
    push_u64(buf, *ts_ns);
    if let Event::Exit {
        elapsed_ns,
        busy_ns,
        unwinding,
        cancelled,
    } = *event
    {
        buf.extend_from_slice(b",\"elapsed_ns\":");
        push_u64(buf, elapsed_ns);
        buf.extend_from_slice(b",\"busy_ns\":");
        push_u64(buf, busy_ns);
        buf.extend_from_slice(if unwinding {
            b",\"unwinding\":true".as_slice()
        } else {
            b",\"unwinding\":false".as_slice()
        });
        buf.extend_from_slice(if cancelled {
            b",\"cancelled\":true".as_slice()
        } else {
            b",\"cancelled\":false".as_slice()
        });
    }
    buf.extend_from_slice(b"}\n");
}

/// Offsets task tracks from thread tracks in Trace Event Format `tid`s.
pub(crate) const TASK_TRACK: u64 = 1_000_000;

/// One complete ("X") event per finished call, on its thread's or its task's track.
fn chrome(buf: &mut Vec<u8>, r: &Record<'_>) {
    let Event::Exit {
        elapsed_ns,
        unwinding,
        cancelled,
        ..
    } = r.event
    else {
        return;
    };
    let start_ns = r.ts_ns - elapsed_ns;
    buf.extend_from_slice(b"{\"name\":");
    json_string(buf, r.name);
    buf.extend_from_slice(b",\"cat\":\"call\",\"ph\":\"X\",\"ts\":");
    micros(buf, start_ns);
    buf.extend_from_slice(b",\"dur\":");
    micros(buf, elapsed_ns);
    buf.extend_from_slice(b",\"pid\":1,\"tid\":");
    let tid = if r.who.task != 0 {
        TASK_TRACK + r.who.task
    } else {
        u64::from(r.who.thread)
    };
    push_u64(buf, tid);
    buf.extend_from_slice(b",\"args\":{\"depth\":");
    push_u64(buf, r.depth as u64);
    buf.extend_from_slice(b",\"thread\":");
    push_u64(buf, u64::from(r.who.thread));
    if unwinding {
        buf.extend_from_slice(b",\"unwinding\":true");
    }
    if cancelled {
        buf.extend_from_slice(b",\"cancelled\":true");
    }
    buf.extend_from_slice(b"}},\n");
}

/// Opens the Trace Event Format array; events follow, one per line, each ending in a comma.
pub(crate) fn chrome_prologue() -> &'static [u8] {
    b"[\n"
}

/// Closes the Trace Event Format array at exit with metadata naming each track (threads by
/// number and name, tasks by number), so the file is complete JSON.
pub(crate) fn chrome_epilogue() {
    let cfg = crate::config::get();
    if cfg.format != Format::Chrome {
        return;
    }
    let mut out = Vec::new();
    let mut meta = |tid: u64, name: &str| {
        out.extend_from_slice(b"{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":");
        push_u64(&mut out, tid);
        out.extend_from_slice(b",\"args\":{\"name\":");
        json_string(&mut out, name);
        out.extend_from_slice(b"}},\n");
    };
    for (thread, name) in crate::thread::threads_seen() {
        let label = match name {
            Some(n) => format!("thread {thread:02} {n}"),
            None => format!("thread {thread:02}"),
        };
        meta(u64::from(thread), &label);
    }
    for task in crate::open::tasks_seen() {
        meta(TASK_TRACK + u64::from(task), &format!("task {task}"));
    }
    out.extend_from_slice(b"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"traced program\"}}\n]\n");
    crate::sink::write(&out);
}

/// Nanoseconds as microseconds with three decimals (Trace Event Format's unit).
fn micros(buf: &mut Vec<u8>, ns: u64) {
    push_u64(buf, ns / 1000);
    buf.push(b'.');
    let frac = ns % 1000;
    if frac < 100 {
        buf.push(b'0');
    }
    if frac < 10 {
        buf.push(b'0');
    }
    push_u64(buf, frac);
}

/// A JSON string literal with the escapes RFC 8259 requires.
pub(crate) fn json_string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format, event: Event, depth: usize) -> String {
        let mut buf = Vec::new();
        let record = Record {
            who: Who {
                thread: 2,
                thread_name: Some("work\"er"),
                task: 0,
            },
            depth,
            name: "demo::a",
            ts_ns: 42,
            event,
        };
        line(&mut buf, format, false, &record);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn human_lines_indent_by_depth() {
        assert_eq!(
            render(Format::Human, Event::Enter, 2),
            "[02 work\"er]     -> demo::a\n"
        );
        let exit = Event::Exit {
            elapsed_ns: 12_345,
            busy_ns: 12_345,
            unwinding: true,
            cancelled: false,
        };
        assert_eq!(
            render(Format::Human, exit, 0),
            "[02 work\"er] <- demo::a 12.3µs unwinding\n"
        );
    }

    #[test]
    fn jsonl_has_exactly_the_contract_keys() {
        let exit = Event::Exit {
            elapsed_ns: 7,
            busy_ns: 3,
            unwinding: false,
            cancelled: true,
        };
        assert_eq!(
            render(Format::Jsonl, exit, 1),
            "{\"thread\":2,\"thread_name\":\"work\\\"er\",\"task\":null,\"depth\":1,\"event\":\"exit\",\
             \"name\":\"demo::a\",\"ts_ns\":42,\"elapsed_ns\":7,\"busy_ns\":3,\"unwinding\":false,\
             \"cancelled\":true}\n"
        );
        assert_eq!(
            render(Format::Human, exit, 0),
            "[02 work\"er] <- demo::a 7ns (busy 3ns) cancelled\n"
        );
    }

    #[test]
    fn colour_tints_the_thread_and_marks_unwinding() {
        let mut buf = Vec::new();
        let record = Record {
            who: Who {
                thread: 1,
                thread_name: None,
                task: 0,
            },
            depth: 0,
            name: "a",
            ts_ns: 0,
            event: Event::Exit {
                elapsed_ns: 5,
                busy_ns: 5,
                unwinding: true,
                cancelled: false,
            },
        };
        line(&mut buf, Format::Human, true, &record);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "\x1b[33m[01]\x1b[0m <- a \x1b[2m5ns\x1b[0m \x1b[31munwinding\x1b[0m\n"
        );
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        let cases = [
            (0, "0ns"),
            (999, "999ns"),
            (1_500, "1.5µs"),
            (12_345, "12.3µs"),
            (999_949, "999.9µs"),
            (999_950, "1.0ms"),
            (2_500_000, "2.5ms"),
            (3_210_000_000, "3.21s"),
            (3_005_000_000, "3.01s"),
            (12_000_000_000, "12.00s"),
        ];
        for (ns, want) in cases {
            let mut buf = Vec::new();
            duration(&mut buf, ns);
            assert_eq!(String::from_utf8(buf).unwrap(), want);
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut buf = Vec::new();
        json_string(&mut buf, "a\u{1}b\n");
        assert_eq!(String::from_utf8(buf).unwrap(), "\"a\\u0001b\\n\"");
    }
}
