//! Collapsed stacks (`a;b;c self_ns`), written at the end, for inferno or flamegraph.pl: only
//! such lines, so every flame graph tool reads the output. Frames still open at the end (the
//! exit, the signal that stopped the run) count up to it. `Stacks` is the aggregation, which
//! the HTML report's flame graph reads too; `Folded` writes it.

use std::collections::HashMap;
use std::io::Write;

use super::calls::SelfTime;
use super::stream::Out;
use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{Event, Tables};

/// Self time per distinct stack of fns (site indexes, outermost first), open frames counted up
/// to the end once the run is over.
#[derive(Default)]
pub struct Stacks {
    self_time: SelfTime,
    /// Self time (ns) per stack of site indexes, outermost first.
    pub stacks: HashMap<Vec<u32>, u64>,
}

impl Stacks {
    /// The stacks with names, each `(names outermost first, self ns)`, ordered by names.
    ///
    /// ```ignore
    /// let stacks = recording.replay_into(Stacks::default());
    /// for (names, own) in stacks.named(&recording.tables) {
    ///     println!("{} {own}", names.join(";"));
    /// }
    /// ```
    pub fn named<'a>(&self, tables: &'a Tables) -> Vec<(Vec<&'a str>, u64)> {
        let mut named: Vec<(Vec<&str>, u64)> = self
            .stacks
            .iter()
            .map(|(path, own)| (path.iter().map(|s| tables.site(*s)).collect(), *own))
            .collect();
        named.sort();
        named
    }
}

impl Consumer for Stacks {
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
    }
}

/// The folded lines of a run, written at its end.
pub struct Folded {
    out: Out,
    stacks: Stacks,
}

impl Folded {
    pub fn new(out: Out) -> Self {
        Folded {
            out,
            stacks: Stacks::default(),
        }
    }
}

impl Consumer for Folded {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.stacks.event(e, ctx);
    }

    fn finish(&mut self, end: &End<'_>) {
        self.stacks.finish(end);
        let mut lines: Vec<String> = self
            .stacks
            .named(end.tables)
            .iter()
            .map(|(names, own)| format!("{} {own}\n", names.join(";")))
            .collect();
        // In the order of the lines' text, as every earlier run wrote them.
        lines.sort();
        let text: String = lines.concat();
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}
