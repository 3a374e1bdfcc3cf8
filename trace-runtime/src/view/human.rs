//! The human tree: `->` on enter and `<-` on exit, two spaces per depth, the exit with its
//! elapsed time, busy time, and `cancelled`/`unwinding` marks. A frame entered while frames of
//! the same caller are still open (branches of one `join!`, `select!`, `FuturesUnordered`)
//! says so: `-> b  (concurrent with a)`, which tells `join!(a, b)` from `a -> b`; and as
//! their lines interleave, a call whose caller is not the line above it that a reader would
//! take for its caller names it: `-> c  (under a)`.

use super::stream::Lines;
use super::text::{duration, label, push_u64};
use crate::collect::decode::Ctx;
use crate::collect::event::{ErrorExit, Event, Kind, Tree, Values};
use crate::collect::frames::FastMap;

const INDENT: usize = 2;
/// Indentation levels shown before the depth is written as a number.
pub const MAX_INDENT: usize = 40;
const SPACES: &[u8] = b"                                                                ";

/// Human lines, coloured on a terminal.
#[derive(Default)]
pub struct Human {
    pub color: bool,
    /// The label of the last (thread, task) written: consecutive lines mostly share one.
    cached: Option<(u32, u64)>,
    prefix: Vec<u8>,
    printed: Printed,
}

impl Human {
    pub fn new(color: bool) -> Self {
        Human {
            color,
            ..Human::default()
        }
    }
}

impl Lines for Human {
    fn line(&mut self, buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
        if self.cached != Some((e.thread, e.task)) {
            self.prefix.clear();
            let name = ctx.tables.thread_name(e.thread);
            label(&mut self.prefix, self.color, e.thread, name, e.task);
            self.cached = Some((e.thread, e.task));
        }
        let under = self.printed.note(e);
        event_line(buf, self.color, &self.prefix, e, ctx, under);
    }
}

/// A caller named on its callee's enter line: its site, and when several open frames at its
/// depth share its name, which of them (1st, 2nd, ... in the order they were entered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Under {
    pub site: u32,
    pub nth: Option<usize>,
}

/// Per tree (a task, or a plain thread), the frames whose enter line is written and whose exit
/// line is not yet, in the order entered: what a reader of the tree sees as open. Frames a
/// filter left out are never noted.
#[derive(Default)]
pub struct Printed {
    open: FastMap<Tree, Vec<Written>>,
}

/// An open frame's enter line as written: its id, depth and site.
type Written = (u64, u32, u32);

impl Printed {
    /// Notes a line about to be written. For an enter whose caller is not the frame a reader
    /// takes for it (the last one written at the depth above and still open: concurrent
    /// branches interleave their lines), the caller to name.
    pub fn note(&mut self, e: &Event) -> Option<Under> {
        let key = e.tree();
        if !e.is_enter() {
            if let Some(open) = self.open.get_mut(&key) {
                if let Some(at) = open.iter().rposition(|f| f.0 == e.id) {
                    open.remove(at);
                }
                if open.is_empty() {
                    self.open.remove(&key);
                }
            }
            return None;
        }
        let open = self.open.entry(key).or_default();
        let mut under = None;
        if e.depth > 0 && e.parent != 0 {
            let above = e.depth - 1;
            let seen = open.iter().rev().find(|f| f.1 == above).map(|f| f.0);
            // From the end: the caller is mostly the last line written.
            let caller = open.iter().rev().find(|f| f.0 == e.parent).copied();
            if let (Some(seen), Some((caller, _, site))) = (seen, caller) {
                if seen != caller {
                    let same: Vec<u64> = open
                        .iter()
                        .filter(|f| f.1 == above && f.2 == site)
                        .map(|f| f.0)
                        .collect();
                    let nth = (same.len() > 1)
                        .then(|| same.iter().position(|id| *id == caller).map(|i| i + 1))
                        .flatten();
                    under = Some(Under { site, nth });
                }
            }
        }
        open.push((e.id, e.depth, e.site));
        under
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ... `11th`, `21st`.
fn ordinal(buf: &mut Vec<u8>, n: usize) {
    push_u64(buf, n as u64);
    let suffix: &[u8] = match (n % 10, n % 100) {
        (_, 11..=13) => b"th",
        (1, _) => b"st",
        (2, _) => b"nd",
        (3, _) => b"rd",
        _ => b"th",
    };
    buf.extend_from_slice(suffix);
}

/// Concurrent siblings named on an enter line at most; more are counted.
const NAME_AT_MOST: usize = 3;

/// One event's human line after its label; a spawned task's or thread's first line also says
/// where it came from, an enter under a caller a reader would not take for it names it
/// (`under`, from [`Printed::note`]), and an enter that runs concurrently with siblings names
/// them.
pub fn event_line(
    buf: &mut Vec<u8>,
    color: bool,
    prefix: &[u8],
    e: &Event,
    ctx: &Ctx<'_>,
    under: Option<Under>,
) {
    line(
        buf,
        color,
        prefix,
        e,
        ctx.tables.site(e.site),
        ctx.tables.values(e),
    );
    if let Some(under) = under {
        buf.pop();
        buf.extend_from_slice(b"  (under ");
        if let Some(nth) = under.nth {
            buf.extend_from_slice(b"the ");
            ordinal(buf, nth);
            buf.push(b' ');
        }
        buf.extend_from_slice(ctx.tables.site(under.site).as_bytes());
        buf.extend_from_slice(b")\n");
    }
    if e.is_enter() && e.parent != 0 {
        // The frame just entered is its caller's last open callee: the others came before.
        let others = ctx.frames.open_children_count(e.parent).saturating_sub(1) as usize;
        if others > 0 {
            buf.pop();
            buf.extend_from_slice(b"  (concurrent with ");
            let named = ctx
                .frames
                .open_children(e.parent)
                .filter(|(id, _)| *id != e.id)
                .take(NAME_AT_MOST);
            for (i, (_, sibling)) in named.enumerate() {
                if i > 0 {
                    buf.extend_from_slice(b", ");
                }
                buf.extend_from_slice(ctx.tables.site(sibling.site).as_bytes());
            }
            if others > NAME_AT_MOST {
                buf.extend_from_slice(b" and ");
                push_u64(buf, (others - NAME_AT_MOST) as u64);
                buf.extend_from_slice(b" more");
            }
            buf.extend_from_slice(b")\n");
        }
    }
    if e.is_enter() && e.origin != 0 {
        let from = super::open::spawn_chain(ctx.frames, ctx.tables, e.origin);
        if !from.is_empty() {
            buf.pop();
            buf.extend_from_slice(b"  (spawned from ");
            buf.extend_from_slice(from.as_bytes());
            buf.extend_from_slice(b")\n");
        }
    }
}

/// An exit's recorded result, after its time: ` = Some(..)`, or for an error exit ` ! Err(..)`
/// (red on a terminal), with ` (origin)` where the error was born; nothing when none was
/// recorded.
pub fn result(buf: &mut Vec<u8>, color: bool, e: &Event, values: Option<&Values>) {
    let Some((v, text)) = values.and_then(|v| Some((v, v.result.as_deref()?))) else {
        return;
    };
    match (v.error, color) {
        (false, _) => buf.extend_from_slice(b" = "),
        (true, false) => buf.extend_from_slice(b" ! "),
        (true, true) => buf.extend_from_slice(b" \x1b[31m! "),
    }
    buf.extend_from_slice(text.as_bytes());
    if e.error == ErrorExit::Origin {
        buf.extend_from_slice(b" (origin)");
    }
    if v.error && color {
        buf.extend_from_slice(b"\x1b[0m");
    }
}

/// One human line after its label, with the frame's recorded values: an enter's arguments as
/// `name(id=42, key="user:7")`, an exit's result after its time as `= Some(..)`, or for an
/// error exit `! Err(..)` (red on a terminal).
pub fn line(
    buf: &mut Vec<u8>,
    color: bool,
    prefix: &[u8],
    e: &Event,
    name: &str,
    values: Option<&Values>,
) {
    let depth = e.depth as usize;
    buf.extend_from_slice(prefix);
    buf.push(b' ');
    // Past MAX_INDENT levels the indentation stops growing and the depth is written out, so a
    // deep recursion stays readable.
    if depth > MAX_INDENT {
        buf.extend_from_slice(b"[depth ");
        push_u64(buf, depth as u64);
        buf.extend_from_slice(b"] ");
    }
    let mut indent = depth.min(MAX_INDENT) * INDENT;
    while indent > 0 {
        let n = indent.min(SPACES.len());
        buf.extend_from_slice(&SPACES[..n]);
        indent -= n;
    }
    match e.kind {
        Kind::Enter => {
            buf.extend_from_slice(b"-> ");
            buf.extend_from_slice(name.as_bytes());
            if let Some(v) = values.filter(|v| !v.args.is_empty()) {
                buf.push(b'(');
                for (i, (arg, text)) in v.args.iter().enumerate() {
                    if i > 0 {
                        buf.extend_from_slice(b", ");
                    }
                    buf.extend_from_slice(arg.as_bytes());
                    buf.push(b'=');
                    buf.extend_from_slice(text.as_bytes());
                }
                buf.push(b')');
            }
        }
        Kind::Exit {
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
            result(buf, color, e, values);
            if cancelled {
                buf.extend_from_slice(if color {
                    b" \x1b[33mcancelled\x1b[0m".as_slice()
                } else {
                    b" cancelled".as_slice()
                });
            }
            if unwinding {
                buf.extend_from_slice(if color {
                    b" \x1b[31munwinding\x1b[0m".as_slice()
                } else {
                    b" unwinding".as_slice()
                });
            }
        }
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: Kind, depth: u32) -> Event {
        Event {
            kind,
            thread: 2,
            task: 0,
            depth,
            site: 0,
            ts_ns: 42,
            id: 1,
            parent: 0,
            origin: 0,
            values: 0,
            error: Default::default(),
        }
    }

    fn render(color: bool, e: &Event) -> String {
        let mut prefix = Vec::new();
        label(&mut prefix, color, e.thread, Some("work\"er"), e.task);
        let mut buf = Vec::new();
        line(&mut buf, color, &prefix, e, "demo::a", None);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn values_follow_the_name_and_the_time() {
        let mut prefix = Vec::new();
        label(&mut prefix, false, 1, Some("main"), 0);
        let render = |color: bool, e: &Event, v: &Values| {
            let mut buf = Vec::new();
            line(&mut buf, color, &prefix, e, "demo::db::get", Some(v));
            String::from_utf8(buf).unwrap()
        };
        let args = Values {
            args: vec![
                ("id".into(), "42".into()),
                ("key".into(), "\"user:7\"".into()),
            ],
            ..Values::default()
        };
        assert_eq!(
            render(false, &event(Kind::Enter, 1), &args),
            "[01 main]   -> demo::db::get(id=42, key=\"user:7\")\n"
        );
        let exit = Kind::Exit {
            elapsed_ns: 31_400,
            busy_ns: 31_400,
            unwinding: false,
            cancelled: false,
        };
        let ret = Values {
            result: Some("Some(User { id: 7 })".into()),
            ..Values::default()
        };
        assert_eq!(
            render(false, &event(exit, 1), &ret),
            "[01 main]   <- demo::db::get 31.4µs = Some(User { id: 7 })\n"
        );
        let err = Values {
            result: Some("Err(NotFound)".into()),
            error: true,
            ..Values::default()
        };
        assert_eq!(
            render(false, &event(exit, 1), &err),
            "[01 main]   <- demo::db::get 31.4µs ! Err(NotFound)\n"
        );
        assert!(render(true, &event(exit, 1), &err).ends_with(" \x1b[31m! Err(NotFound)\x1b[0m\n"));
        let origin = Event {
            error: ErrorExit::Origin,
            ..event(exit, 1)
        };
        assert_eq!(
            render(false, &origin, &err),
            "[01 main]   <- demo::db::get 31.4µs ! Err(NotFound) (origin)\n"
        );
    }

    #[test]
    fn human_lines_indent_by_depth() {
        assert_eq!(
            render(false, &event(Kind::Enter, 2)),
            "[02 work\"er]     -> demo::a\n"
        );
        let exit = Kind::Exit {
            elapsed_ns: 12_345,
            busy_ns: 12_345,
            unwinding: true,
            cancelled: false,
        };
        assert_eq!(
            render(false, &event(exit, 0)),
            "[02 work\"er] <- demo::a 12.3µs unwinding\n"
        );
        let exit = Kind::Exit {
            elapsed_ns: 7,
            busy_ns: 3,
            unwinding: false,
            cancelled: true,
        };
        assert_eq!(
            render(false, &event(exit, 0)),
            "[02 work\"er] <- demo::a 7ns (busy 3ns) cancelled\n"
        );
    }

    #[test]
    fn ordinals_read_as_english() {
        let text = |n| {
            let mut buf = Vec::new();
            ordinal(&mut buf, n);
            String::from_utf8(buf).unwrap()
        };
        assert_eq!(
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(text),
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }

    /// Two branches of one caller: a call in the first, written after the second's enter, names
    /// its caller; one under the last line written at the depth above does not.
    #[test]
    fn a_call_whose_caller_is_not_the_line_above_names_it() {
        let enter = |id, parent, depth, site| Event {
            kind: Kind::Enter,
            task: 1,
            depth,
            site,
            id,
            parent,
            ..event(Kind::Enter, depth)
        };
        let mut printed = Printed::default();
        assert_eq!(printed.note(&enter(1, 0, 0, 0)), None);
        assert_eq!(printed.note(&enter(2, 1, 1, 1)), None);
        assert_eq!(printed.note(&enter(3, 1, 1, 2)), None);
        assert_eq!(
            printed.note(&enter(4, 2, 2, 3)),
            Some(Under { site: 1, nth: None })
        );
        assert_eq!(printed.note(&enter(5, 3, 2, 3)), None);
        // Same-named siblings: which one.
        assert_eq!(printed.note(&enter(6, 1, 1, 1)), None);
        assert_eq!(
            printed.note(&enter(7, 2, 2, 3)),
            Some(Under {
                site: 1,
                nth: Some(1)
            })
        );
    }

    #[test]
    fn colour_tints_the_thread_and_marks_unwinding() {
        let exit = Kind::Exit {
            elapsed_ns: 5,
            busy_ns: 5,
            unwinding: true,
            cancelled: false,
        };
        assert_eq!(
            render(true, &event(exit, 0)),
            "\x1b[35m[02 work\"er]\x1b[0m <- demo::a \x1b[2m5ns\x1b[0m \x1b[31munwinding\x1b[0m\n"
        );
    }
}
