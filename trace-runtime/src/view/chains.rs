//! Distinct chains: per chain of fns (outermost first) that ended in a finished call, how many
//! calls it carried and their total and longest time. For one fn (every chain that reached it)
//! or for every fn (a run's profile by chain, which `diff` compares).

use std::collections::HashMap;

use super::path::Path;
use super::text::duration_string;
use crate::collect::decode::{Consumer, Ctx};
use crate::collect::event::{Event, Kind, Tables};
use crate::filter::ends_with_segment;

/// Figures of one chain, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainStats {
    pub calls: u64,
    pub total: u64,
    /// Time inside polls (the whole call for sync fns).
    pub busy: u64,
    pub max: u64,
}

/// Chains of sites and their figures, gathered from the exits of a run.
#[derive(Default)]
pub struct Chains {
    /// Only chains ending in a fn of this name (a full name or a path suffix); `None`: all.
    target: Option<String>,
    /// Per site: whether it is the target.
    matches: HashMap<u32, bool>,
    pub chains: HashMap<Path, ChainStats>,
}

impl Chains {
    /// Every chain that reached a fn of this name.
    pub fn reaching(name: &str) -> Self {
        Chains {
            target: Some(name.to_string()),
            ..Chains::default()
        }
    }

    /// Every chain of the run.
    pub fn all() -> Self {
        Chains::default()
    }

    /// The chains with names, by total time, longest first (ties by calls, then chain).
    pub fn by_total<'a>(&'a self, tables: &Tables) -> Vec<(String, &'a ChainStats)> {
        let mut out: Vec<(String, &ChainStats)> = self
            .chains
            .iter()
            .map(|(path, s)| (path.text(tables), s))
            .collect();
        out.sort_by(|a, b| {
            b.1.total
                .cmp(&a.1.total)
                .then(b.1.calls.cmp(&a.1.calls))
                .then(a.0.cmp(&b.0))
        });
        out
    }
}

impl Consumer for Chains {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        let Kind::Exit {
            elapsed_ns,
            busy_ns,
            ..
        } = e.kind
        else {
            return;
        };
        if let Some(name) = &self.target {
            let hit = *self
                .matches
                .entry(e.site)
                .or_insert_with(|| ends_with_segment(ctx.tables.site(e.site), name));
            if !hit {
                return;
            }
        }
        // Across spawns: the chain that reached a fn in a spawned task starts where it was
        // spawned from.
        let path = Path::of(ctx.frames, e.id, e.site);
        let s = self.chains.entry(path).or_default();
        s.calls += 1;
        s.total += elapsed_ns;
        s.busy += busy_ns.min(elapsed_ns);
        s.max = s.max.max(elapsed_ns);
    }
}

/// `chains reaching NAME: N calls by M distinct chains` and a row per chain.
pub fn table(chains: &Chains, tables: &Tables, name: &str) -> String {
    let rows = chains.by_total(tables);
    let calls: u64 = rows.iter().map(|r| r.1.calls).sum();
    let mut text = format!(
        "chains reaching {name}: {calls} calls by {} distinct chains\n",
        rows.len()
    );
    text.push_str(&format!(
        "{:>8} {:>10} {:>10}  chain\n",
        "calls", "total", "max"
    ));
    for (path, s) in rows {
        text.push_str(&format!(
            "{:>8} {:>10} {:>10}  {}\n",
            s.calls,
            duration_string(s.total),
            duration_string(s.max),
            path
        ));
    }
    text
}
