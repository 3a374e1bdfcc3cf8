//! The summary: per fn calls, total (wall) and busy time, self time, min, mean, max and max
//! depth, and the weighted call graph (caller -> callee: calls, total time); as a table or as
//! JSON. Busy time is what a traced future spent inside its polls: beside the wall time it
//! tells a fn that works from one that mostly waits.

use std::collections::HashMap;
use std::io::Write;

use super::calls::SelfTime;
use super::stream::Out;
use super::text::{count, duration_string, json_string};
use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{ErrorExit, Event, Kind};

/// Per fn figures, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FnStats {
    /// Every call, counted ones (`counted`) included.
    pub calls: u64,
    /// Calls counted instead of recorded once the fn turned hot (`TRACE_HOT`): no time.
    pub counted: u64,
    /// Wall time, first poll (or entry) to exit.
    pub total: u64,
    /// Time spent inside polls (async), or the whole call (sync): never more than `total`.
    pub busy: u64,
    /// Self time: wall time less the time of the fn's traced callees.
    pub own: u64,
    /// The shortest recorded call.
    pub min: u64,
    /// The longest recorded call.
    pub max: u64,
    /// The deepest the fn was called, in its tree.
    pub max_depth: u32,
    /// Calls that returned an `Err` (`#[trace(err)]`).
    pub errors: u64,
    /// Of those, the ones where the error was born (not passed on from a callee's).
    pub origins: u64,
}

impl FnStats {
    /// Calls recorded, with their time.
    pub fn timed(&self) -> u64 {
        self.calls - self.counted
    }

    /// Mean time per recorded call.
    pub fn mean(&self) -> u64 {
        self.total / self.timed().max(1)
    }

    /// Mean busy time per recorded call.
    pub fn mean_busy(&self) -> u64 {
        self.busy / self.timed().max(1)
    }

    /// What the table says after a fn's name when some of its calls were only counted.
    fn counted_note(&self) -> String {
        if self.counted == 0 {
            String::new()
        } else {
            format!(" ({} calls counted, not timed: hot)", self.counted)
        }
    }
}

/// The order of a report's fns (and of a diff's rows), largest first; `Name`: alphabetical.
/// The one list of sort keys: the CLI's `--sort` takes [`Sort::NAMES`].
///
/// ```ignore
/// assert_eq!(Sort::parse("busy"), Some(Sort::Busy));
/// assert_eq!(Sort::Own.name(), "self");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(
    not(feature = "read"),
    expect(
        dead_code,
        reason = "a live run's summary sorts by total; the other keys are the CLI's"
    )
)]
pub enum Sort {
    /// Number of calls.
    Calls,
    /// Wall time.
    #[default]
    Total,
    /// Time inside polls.
    Busy,
    /// Self time.
    Own,
    /// The longest call.
    Max,
    /// Mean time per call.
    Mean,
    /// The fn's name, alphabetically.
    Name,
}

impl Sort {
    #[cfg(feature = "read")]
    /// Every key as `--sort` spells it, in the order help lists them.
    pub const NAMES: &'static [&'static str] =
        &["calls", "total", "busy", "self", "max", "mean", "name"];

    #[cfg(feature = "read")]
    /// The keys a diff can order by: the figures both runs have, per fn and per chain.
    pub const DIFF_NAMES: &'static [&'static str] = &["total", "busy", "calls"];

    #[cfg(feature = "read")]
    const ALL: [Sort; 7] = [
        Sort::Calls,
        Sort::Total,
        Sort::Busy,
        Sort::Own,
        Sort::Max,
        Sort::Mean,
        Sort::Name,
    ];

    #[cfg(feature = "read")]
    /// The key as `--sort` spells it.
    pub fn name(self) -> &'static str {
        Sort::NAMES[Sort::ALL.iter().position(|s| *s == self).unwrap_or(0)]
    }

    #[cfg(feature = "read")]
    /// The key `--sort` spells `name`.
    pub fn parse(name: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Per caller -> callee figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeStats {
    pub calls: u64,
    pub total: u64,
}

/// What the summary accumulates over a run.
#[derive(Default)]
pub struct Stats {
    /// Per fn (by site number).
    pub fns: HashMap<u32, FnStats>,
    /// Per caller -> callee.
    pub edges: HashMap<(u32, u32), EdgeStats>,
    /// Per spawner -> spawned task or thread root: the frame a root was created in, and the
    /// root's figures.
    pub spawns: HashMap<(u32, u32), EdgeStats>,
    self_time: SelfTime,
}

impl Stats {
    /// Accounts one event.
    pub fn add(&mut self, e: &Event, ctx: &Ctx<'_>) {
        let Kind::Exit {
            elapsed_ns,
            busy_ns,
            ..
        } = e.kind
        else {
            return;
        };
        let own = self.self_time.on_exit(e).unwrap_or(0);
        let f = self.fns.entry(e.site).or_default();
        if f.calls == 0 || elapsed_ns < f.min {
            f.min = elapsed_ns;
        }
        f.calls += 1;
        f.total += elapsed_ns;
        f.busy += busy_ns;
        f.own += own;
        f.max = f.max.max(elapsed_ns);
        f.max_depth = f.max_depth.max(e.depth);
        match e.error {
            ErrorExit::None => {}
            ErrorExit::Passed => f.errors += 1,
            ErrorExit::Origin => {
                f.errors += 1;
                f.origins += 1;
            }
        }
        let (edges, from) = match ctx.frames.get(e.parent) {
            Some(caller) => (&mut self.edges, Some(caller)),
            None => (&mut self.spawns, ctx.frames.get(e.origin)),
        };
        if let Some(from) = from {
            let edge = edges.entry((from.site, e.site)).or_default();
            edge.calls += 1;
            edge.total += elapsed_ns;
        }
    }

    /// Adds the calls counted instead of recorded (`End::counted`) to their fns.
    pub fn add_counted(&mut self, counted: &[(u32, u64)]) {
        for &(site, calls) in counted {
            let f = self.fns.entry(site).or_default();
            f.calls += calls;
            f.counted += calls;
        }
    }

    /// Fns by total time, longest first (ties by name).
    pub fn fns_by_total<'a>(
        &'a self,
        names: &'a crate::collect::event::Tables,
    ) -> Vec<(&'a str, &'a FnStats)> {
        self.fns_sorted(names, Sort::Total)
    }

    /// Fns in the order `sort` asks for, largest first (by name: alphabetical); ties by name.
    pub fn fns_sorted<'a>(
        &'a self,
        names: &'a crate::collect::event::Tables,
        sort: Sort,
    ) -> Vec<(&'a str, &'a FnStats)> {
        let mut fns: Vec<(&str, &FnStats)> =
            self.fns.iter().map(|(s, f)| (names.site(*s), f)).collect();
        let key = |f: &FnStats| match sort {
            Sort::Calls => f.calls,
            Sort::Total => f.total,
            Sort::Busy => f.busy,
            Sort::Own => f.own,
            Sort::Max => f.max,
            Sort::Mean => f.mean(),
            Sort::Name => 0,
        };
        fns.sort_by(|a, b| key(b.1).cmp(&key(a.1)).then(a.0.cmp(b.0)));
        fns
    }

    /// Edges by total time, longest first.
    pub fn edges_by_total<'a>(
        &'a self,
        names: &'a crate::collect::event::Tables,
    ) -> Vec<(&'a str, &'a str, &'a EdgeStats)> {
        let mut edges: Vec<(&str, &str, &EdgeStats)> = self
            .edges
            .iter()
            .map(|((a, b), e)| (names.site(*a), names.site(*b), e))
            .collect();
        edges.sort_by(|a, b| {
            b.2.total
                .cmp(&a.2.total)
                .then(a.1.cmp(b.1))
                .then(a.0.cmp(b.0))
        });
        edges
    }
}

/// `TRACE_SUMMARY`: the table at the end; `TRACE_SUMMARY_JSON`: the JSON to a file.
pub struct Summary {
    stats: Stats,
    table: Option<Out>,
    json: Option<std::path::PathBuf>,
}

impl Summary {
    pub fn new(table: Option<Out>, json: Option<std::path::PathBuf>) -> Self {
        Summary {
            stats: Stats::default(),
            table,
            json,
        }
    }
}

/// The summary table and call graph as text.
pub fn table(stats: &Stats, tables: &crate::collect::event::Tables) -> String {
    let fns = stats.fns_by_total(tables);
    let calls: u64 = fns.iter().map(|f| f.1.calls).sum();
    let mut text = format!(
        "trace summary: {}, {}\n",
        count(fns.len() as u64, "fn"),
        count(calls, "call")
    );
    text.push_str(&format!(
        "{:>10} {:>12} {:>12} {:>12} {:>9}  fn\n",
        "calls", "total", "busy", "self", "max depth"
    ));
    for (name, f) in &fns {
        text.push_str(&format!(
            "{:>10} {:>12} {:>12} {:>12} {:>9}  {}{}\n",
            f.calls,
            duration_string(f.total),
            duration_string(f.busy),
            duration_string(f.own),
            f.max_depth,
            name,
            f.counted_note()
        ));
    }
    text.push_str("call graph (caller -> callee: calls, total time), by time:\n");
    for (caller, callee, e) in stats.edges_by_total(tables) {
        text.push_str(&format!(
            "  {caller} -> {callee}: {}, {}\n",
            count(e.calls, "call"),
            duration_string(e.total)
        ));
    }
    text
}

#[cfg(feature = "read")]
/// Per fn calls, total (wall) and busy time, self, min, mean (wall and busy) and max time, in
/// the order `sort` asks for. The heading names the order.
pub fn report(stats: &Stats, tables: &crate::collect::event::Tables, sort: Sort) -> String {
    let fns = stats.fns_sorted(tables, sort);
    let calls: u64 = fns.iter().map(|f| f.1.calls).sum();
    let order = match sort {
        Sort::Name => "by name".to_string(),
        Sort::Total => "by total (wall) time".to_string(),
        Sort::Busy => "by busy time".to_string(),
        Sort::Own => "by self time".to_string(),
        other => format!("by {}", other.name()),
    };
    let mut text = format!(
        "trace report: {}, {}, {order}\n",
        count(fns.len() as u64, "fn"),
        count(calls, "call")
    );
    // Error columns only for a run that recorded an error exit (`#[trace(err)]`).
    let erred = fns.iter().any(|f| f.1.errors > 0);
    let errors = |a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| match erred {
        true => format!(" {a:>10} {b:>10}"),
        false => String::new(),
    };
    text.push_str(&format!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}{}  fn\n",
        "calls",
        "total",
        "busy",
        "self",
        "min",
        "mean",
        "mean busy",
        "max",
        errors(&"errors", &"origins")
    ));
    for (name, f) in &fns {
        text.push_str(&format!(
            "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}{}  {}{}\n",
            f.calls,
            duration_string(f.total),
            duration_string(f.busy),
            duration_string(f.own),
            duration_string(f.min),
            duration_string(f.mean()),
            duration_string(f.mean_busy()),
            duration_string(f.max),
            errors(&f.errors, &f.origins),
            name,
            f.counted_note()
        ));
    }
    text
}

/// The summary as JSON: `{"fns":[...],"edges":[...]}`; per fn `name`, `calls`, `total_ns`
/// (wall), `counted` (calls of a hot fn counted, not timed), `busy_ns` (inside polls), `self_ns`, `min_ns`, `mean_ns`, `mean_busy_ns`, `max_ns`,
/// `max_depth`.
pub fn json(stats: &Stats, tables: &crate::collect::event::Tables) -> Vec<u8> {
    json_sorted(stats, tables, Sort::Total)
}

/// The summary as JSON with the fns in the order `sort` asks for.
pub fn json_sorted(stats: &Stats, tables: &crate::collect::event::Tables, sort: Sort) -> Vec<u8> {
    let mut json = Vec::new();
    json.extend_from_slice(b"{\"fns\":[");
    for (i, (name, f)) in stats.fns_sorted(tables, sort).iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(b"{\"name\":");
        json_string(&mut json, name);
        let _ = write!(
            json,
            ",\"calls\":{},\"counted\":{},\"total_ns\":{},\"busy_ns\":{},\"self_ns\":{},\"min_ns\":{},\"mean_ns\":{},\"mean_busy_ns\":{},\"max_ns\":{},\"max_depth\":{}}}",
            f.calls,
            f.counted,
            f.total,
            f.busy,
            f.own,
            f.min,
            f.mean(),
            f.mean_busy(),
            f.max,
            f.max_depth
        );
    }
    json.extend_from_slice(b"],\"edges\":[");
    for (i, (caller, callee, e)) in stats.edges_by_total(tables).iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(b"{\"caller\":");
        json_string(&mut json, caller);
        json.extend_from_slice(b",\"callee\":");
        json_string(&mut json, callee);
        let _ = write!(json, ",\"calls\":{},\"total_ns\":{}}}", e.calls, e.total);
    }
    json.extend_from_slice(b"]}\n");
    json
}

impl Consumer for Stats {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.add(e, ctx);
    }

    fn finish(&mut self, end: &End<'_>) {
        self.add_counted(end.counted);
    }
}

impl Consumer for Summary {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.stats.add(e, ctx);
    }

    fn finish(&mut self, end: &End<'_>) {
        self.stats.add_counted(end.counted);
        if let Some(out) = &mut self.table {
            let _ = out.write_all(table(&self.stats, end.tables).as_bytes());
            let _ = out.flush();
        }
        if let Some(path) = &self.json {
            if let Err(e) = std::fs::write(path, json(&self.stats, end.tables)) {
                crate::config::warn(&format!(
                    "cannot write TRACE_SUMMARY_JSON={}: {e}",
                    path.display()
                ));
            }
        }
    }
}
