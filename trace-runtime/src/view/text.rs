//! Text pieces every view shares: JSON strings, microseconds, and the `[01 main task 3]` label
//! of a thread or task (durations and numbers come from `units`). Each is spelled once.

use std::io::Write;

use crate::collect::event::Tree;

pub use crate::units::{count, duration, duration_string, push_u64};

/// Nanoseconds as microseconds with three decimals (Trace Event Format's unit).
pub fn micros(buf: &mut Vec<u8>, ns: u64) {
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

/// `,"key":{"name":"text",...}`: a frame's recorded arguments, as jsonl and chrome write them.
pub fn json_pairs(buf: &mut Vec<u8>, key: &str, pairs: &[(Box<str>, Box<str>)]) {
    buf.push(b',');
    json_string(buf, key);
    buf.extend_from_slice(b":{");
    for (i, (name, text)) in pairs.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        json_string(buf, name);
        buf.push(b':');
        json_string(buf, text);
    }
    buf.push(b'}');
}

/// A JSON string literal with the escapes RFC 8259 requires.
pub fn json_string(buf: &mut Vec<u8>, s: &str) {
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

const PALETTE: [&str; 6] = ["36", "33", "35", "32", "34", "31"];

/// The `[01 main task 3]` label of a thread (and task), tinted per task or per plain thread.
pub fn label(buf: &mut Vec<u8>, color: bool, thread: u32, thread_name: Option<&str>, task: u64) {
    let number = match Tree::of(thread, task) {
        Tree::Task(task) => task as usize,
        Tree::Thread(thread) => thread as usize,
    };
    let tint = PALETTE[number % PALETTE.len()];
    if color {
        buf.extend_from_slice(b"\x1b[");
        buf.extend_from_slice(tint.as_bytes());
        buf.push(b'm');
    }
    crate::units::label(buf, thread, thread_name, task);
    if color {
        buf.extend_from_slice(b"\x1b[0m");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let mut buf = Vec::new();
        json_string(&mut buf, "a\u{1}b\n");
        assert_eq!(String::from_utf8(buf).unwrap(), "\"a\\u0001b\\n\"");
    }

    #[test]
    fn labels_name_thread_and_task() {
        let label_string = |thread, thread_name, task| {
            let mut b = Vec::new();
            label(&mut b, false, thread, thread_name, task);
            String::from_utf8_lossy(&b).into_owned()
        };
        assert_eq!(label_string(2, Some("worker"), 0), "[02 worker]");
        assert_eq!(label_string(12, None, 7), "[12 task 7]");
    }
}
