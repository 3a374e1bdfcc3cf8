//! Collapsed stacks (`a;b;c self_ns`), written at the end, for inferno or flamegraph.pl.

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
        let mut lines: Vec<String> = self
            .stacks
            .iter()
            .map(|(path, own)| {
                let names: Vec<&str> = path.iter().map(|s| end.tables.site(*s)).collect();
                format!("{} {own}", names.join(";"))
            })
            .collect();
        lines.sort();
        let mut text = lines.join("\n");
        text.push('\n');
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}
