//! Collapsed stacks (`a;b;c self_ns`), written at the end, for inferno or flamegraph.pl: only
//! such lines, so every flame graph tool reads the output. Frames still open at the end (the
//! exit, the signal that stopped the run) count up to it.

use std::collections::HashMap;
use std::io::Write;

use super::calls::SelfTime;
use super::stream::Out;
use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::Event;

/// Self time per distinct stack of fns.
pub struct Folded {
    out: Out,
    self_time: SelfTime,
    stacks: HashMap<Vec<u32>, u64>,
}

impl Folded {
    pub fn new(out: Out) -> Self {
        Folded {
            out,
            self_time: SelfTime::default(),
            stacks: HashMap::new(),
        }
    }
}

impl Consumer for Folded {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        let Some(own) = self.self_time.on_exit(e) else {
            return;
        };
        let path: Vec<u32> = ctx.frames.chain(e.id).iter().map(|(_, f)| f.site).collect();
        *self.stacks.entry(path).or_default() += own;
    }

    fn finish(&mut self, end: &End<'_>) {
        // An open frame's self time up to the end: its time so far minus its callees', the
        // finished ones' and the open ones' so far.
        for (id, f) in end.frames.iter() {
            let so_far =
                |f: &crate::collect::frames::OpenFrame| end.ts_ns.saturating_sub(f.start_ns);
            let open_callees: u64 = end.frames.open_children(id).map(|(_, k)| so_far(k)).sum();
            let own = so_far(f)
                .saturating_sub(self.self_time.callees_ns(id))
                .saturating_sub(open_callees);
            let path: Vec<u32> = end.frames.chain(id).iter().map(|(_, f)| f.site).collect();
            *self.stacks.entry(path).or_default() += own;
        }
        let mut lines: Vec<String> = self
            .stacks
            .iter()
            .map(|(path, own)| {
                let names: Vec<&str> = path.iter().map(|s| end.tables.site(*s)).collect();
                format!("{} {own}", names.join(";"))
            })
            .collect();
        lines.sort();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}
