//! `TRACE_WATCH=5s`: a hang detector that needs no signal. At the end of each collection round,
//! every frame open longer than the threshold with no open callee (where a chain is stuck) is
//! reported once, with its whole causal chain, on stderr.

use std::collections::HashSet;
use std::io::Write;

use super::open::spawn_chain;
use super::text::{duration, label};
use crate::collect::decode::{Consumer, Ctx};

/// Reports long-open frames once each.
pub struct Watch {
    threshold_ns: u64,
    reported: HashSet<u64>,
}

impl Watch {
    pub fn new(threshold_ns: u64) -> Self {
        Watch {
            threshold_ns,
            reported: HashSet::new(),
        }
    }
}

impl Consumer for Watch {
    fn tick(&mut self, ctx: &Ctx<'_>, now_ns: u64) {
        let mut old: Vec<(u64, u64)> = ctx
            .frames
            .iter()
            .filter(|(id, f)| {
                ctx.frames.is_open(*id)
                    && now_ns.saturating_sub(f.start_ns) >= self.threshold_ns
                    && !self.reported.contains(id)
            })
            .map(|(id, f)| (f.start_ns, id))
            .collect();
        // Oldest first.
        old.sort_unstable();
        if old.is_empty() {
            return;
        }
        // Only where chains are stuck: frames with no open callee.
        let callers: HashSet<u64> = ctx
            .frames
            .iter()
            .filter(|(id, _)| ctx.frames.is_open(*id))
            .map(|(_, f)| f.parent)
            .collect();
        let mut text = Vec::new();
        for (_, id) in old {
            self.reported.insert(id);
            if callers.contains(&id) {
                continue;
            }
            let Some(f) = ctx.frames.get(id) else {
                continue;
            };
            text.extend_from_slice(crate::config::PREFIX.as_bytes());
            text.extend_from_slice(b"open longer than ");
            duration(&mut text, self.threshold_ns);
            text.extend_from_slice(b": ");
            label(
                &mut text,
                false,
                f.thread,
                ctx.tables.thread_name(f.thread),
                f.task,
            );
            text.push(b' ');
            text.extend_from_slice(spawn_chain(ctx.frames, ctx.tables, id).as_bytes());
            text.extend_from_slice(b" (open ");
            duration(&mut text, now_ns.saturating_sub(f.start_ns));
            text.extend_from_slice(b")\n");
        }
        if !text.is_empty() {
            let _ = std::io::stderr().write_all(&text);
        }
    }
}
