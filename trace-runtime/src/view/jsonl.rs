//! JSON lines: one object per event with exactly the keys of the documented schema.

use super::stream::Lines;
use super::text::{json_pairs, json_string, push_u64};
use crate::collect::decode::Ctx;
use crate::collect::event::{Event, Kind, Values};

/// JSON lines.
pub struct Jsonl;

impl Lines for Jsonl {
    fn line(&mut self, buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
        line(
            buf,
            e,
            ctx.tables.thread_name(e.thread),
            ctx.tables.site(e.site),
            ctx.tables.values(e),
        );
    }
}

/// One event as a JSON object and a newline; with recorded values, an enter's `args` (name to
/// text) and an exit's `ret` (text) and `error` (whether it is an `Err`), only where recorded.
pub fn line(
    buf: &mut Vec<u8>,
    e: &Event,
    thread_name: Option<&str>,
    name: &str,
    values: Option<&Values>,
) {
    buf.extend_from_slice(b"{\"thread\":");
    push_u64(buf, u64::from(e.thread));
    buf.extend_from_slice(b",\"thread_name\":");
    match thread_name {
        Some(n) => json_string(buf, n),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"task\":");
    if e.task == 0 {
        buf.extend_from_slice(b"null");
    } else {
        push_u64(buf, e.task);
    }
    buf.extend_from_slice(b",\"depth\":");
    push_u64(buf, u64::from(e.depth));
    buf.extend_from_slice(match e.kind {
        Kind::Enter => b",\"event\":\"enter\",\"name\":".as_slice(),
        Kind::Exit { .. } => b",\"event\":\"exit\",\"name\":".as_slice(),
    });
    json_string(buf, name);
    buf.extend_from_slice(b",\"ts_ns\":");
    push_u64(buf, e.ts_ns);
    buf.extend_from_slice(b",\"id\":");
    push_u64(buf, e.id);
    if e.is_enter() {
        // The calling frame; for a spawned task's or thread's root, the frame that created it.
        let parent = e.parent_or_origin();
        buf.extend_from_slice(b",\"parent\":");
        if parent == 0 {
            buf.extend_from_slice(b"null");
        } else {
            push_u64(buf, parent);
        }
        if let Some(v) = values.filter(|v| !v.args.is_empty()) {
            json_pairs(buf, "args", &v.args);
        }
    }
    if let Kind::Exit {
        elapsed_ns,
        busy_ns,
        unwinding,
        cancelled,
    } = e.kind
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
        if let Some((v, text)) = values.and_then(|v| Some((v, v.result.as_deref()?))) {
            buf.extend_from_slice(b",\"ret\":");
            json_string(buf, text);
            buf.extend_from_slice(if v.error {
                b",\"error\":true".as_slice()
            } else {
                b",\"error\":false".as_slice()
            });
        }
    }
    buf.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_has_exactly_the_contract_keys() {
        let e = Event {
            kind: Kind::Exit {
                elapsed_ns: 7,
                busy_ns: 3,
                unwinding: false,
                cancelled: true,
            },
            thread: 2,
            task: 0,
            depth: 1,
            site: 0,
            ts_ns: 42,
            id: 9,
            parent: 3,
            origin: 0,
            values: 0,
            error: Default::default(),
        };
        let mut buf = Vec::new();
        line(&mut buf, &e, Some("work\"er"), "demo::a", None);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\"thread\":2,\"thread_name\":\"work\\\"er\",\"task\":null,\"depth\":1,\"event\":\"exit\",\
             \"name\":\"demo::a\",\"ts_ns\":42,\"id\":9,\"elapsed_ns\":7,\"busy_ns\":3,\"unwinding\":false,\
             \"cancelled\":true}\n"
        );
    }

    #[test]
    fn values_are_keys_only_where_recorded() {
        let enter = Event {
            kind: Kind::Enter,
            thread: 1,
            task: 0,
            depth: 0,
            site: 0,
            ts_ns: 5,
            id: 4,
            parent: 0,
            origin: 0,
            values: 1,
            error: Default::default(),
        };
        let args = Values {
            args: vec![
                ("id".into(), "42".into()),
                ("key".into(), "\"a\nb\"".into()),
            ],
            ..Values::default()
        };
        let mut buf = Vec::new();
        line(&mut buf, &enter, None, "demo::get", Some(&args));
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\"thread\":1,\"thread_name\":null,\"task\":null,\"depth\":0,\"event\":\"enter\",\
             \"name\":\"demo::get\",\"ts_ns\":5,\"id\":4,\"parent\":null,\
             \"args\":{\"id\":\"42\",\"key\":\"\\\"a\\nb\\\"\"}}\n"
        );
        let exit = Event {
            kind: Kind::Exit {
                elapsed_ns: 7,
                busy_ns: 7,
                unwinding: false,
                cancelled: false,
            },
            ts_ns: 12,
            ..enter
        };
        let err = Values {
            result: Some("Err(NotFound)".into()),
            error: true,
            ..Values::default()
        };
        let mut buf = Vec::new();
        line(&mut buf, &exit, None, "demo::get", Some(&err));
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "{\"thread\":1,\"thread_name\":null,\"task\":null,\"depth\":0,\"event\":\"exit\",\
             \"name\":\"demo::get\",\"ts_ns\":12,\"id\":4,\"elapsed_ns\":7,\"busy_ns\":7,\
             \"unwinding\":false,\"cancelled\":false,\"ret\":\"Err(NotFound)\",\"error\":true}\n"
        );
    }
}
