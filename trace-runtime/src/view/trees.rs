//! The human tree grouped by tree: every plain thread's frames, then every task's, each in
//! time order. Live, lines of all threads interleave as they happen; read back, a task whose
//! polls ran on several workers reads as one tree (each line still names the thread that
//! wrote it).

use std::collections::BTreeMap;
use std::io::Write;

use super::human;
use super::stream::Out;
use super::text::label;
use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{Event, Tree};

/// Human lines gathered per tree, written out at the end.
pub struct Trees {
    color: bool,
    out: Out,
    /// Lines per tree, plain threads first.
    trees: BTreeMap<Tree, Vec<u8>>,
    printed: human::Printed,
}

impl Trees {
    /// Writes each thread's and task's tree to `out`, coloured when `color`.
    pub fn new(color: bool, out: Out) -> Self {
        Trees {
            color,
            out,
            trees: BTreeMap::new(),
            printed: human::Printed::default(),
        }
    }
}

impl Consumer for Trees {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        let buf = self.trees.entry(e.tree()).or_default();
        let mut prefix = Vec::new();
        label(
            &mut prefix,
            self.color,
            e.thread,
            ctx.tables.thread_name(e.thread),
            e.task,
        );
        let under = self.printed.note(e);
        human::event_line(buf, self.color, &prefix, e, ctx, under);
    }

    fn finish(&mut self, _end: &End<'_>) {
        for lines in self.trees.values() {
            let _ = self.out.write_all(lines);
        }
        let _ = self.out.flush();
    }
}
