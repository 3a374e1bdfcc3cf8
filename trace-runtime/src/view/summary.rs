//! The summary: per fn calls, total, self time, min, mean, max and max depth, and the weighted
//! call graph (caller -> callee: calls, total time); as a table or as JSON.

use std::collections::HashMap;
use std::io::Write;

use super::calls::SelfTime;
use super::stream::Out;
use super::text::{duration_string, json_string};
use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{Event, Kind};

/// Per fn figures, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FnStats {
    pub calls: u64,
    pub total: u64,
    pub own: u64,
    pub min: u64,
    pub max: u64,
    pub max_depth: u32,
}

impl FnStats {
    /// Mean time per call.
    pub fn mean(&self) -> u64 {
        self.total / self.calls.max(1)
    }
}

/// The order of a report's fns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Calls,
    Total,
    /// Self time.
    Own,
    Max,
    Mean,
    Name,
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
    pub fns: HashMap<u32, FnStats>,
    pub edges: HashMap<(u32, u32), EdgeStats>,
    self_time: SelfTime,
}

impl Stats {
    /// Accounts one event.
    pub fn add(&mut self, e: &Event, ctx: &Ctx<'_>) {
        let Kind::Exit { elapsed_ns, .. } = e.kind else {
            return;
        };
        let own = self.self_time.on_exit(e).unwrap_or(0);
        let f = self.fns.entry(e.site).or_default();
        if f.calls == 0 || elapsed_ns < f.min {
            f.min = elapsed_ns;
        }
        f.calls += 1;
        f.total += elapsed_ns;
        f.own += own;
        f.max = f.max.max(elapsed_ns);
        f.max_depth = f.max_depth.max(e.depth);
        if let Some(caller) = ctx.frames.get(e.parent) {
            let edge = self.edges.entry((caller.site, e.site)).or_default();
            edge.calls += 1;
            edge.total += elapsed_ns;
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
    let mut text = format!("trace summary: {} fns, {calls} calls\n", fns.len());
    text.push_str(&format!(
        "{:>10} {:>12} {:>12} {:>9}  fn\n",
        "calls", "total", "self", "max depth"
    ));
    for (name, f) in &fns {
        text.push_str(&format!(
            "{:>10} {:>12} {:>12} {:>9}  {}\n",
            f.calls,
            duration_string(f.total),
            duration_string(f.own),
            f.max_depth,
            name
        ));
    }
    text.push_str("call graph (caller -> callee: calls, total time), by time:\n");
    for (caller, callee, e) in stats.edges_by_total(tables) {
        text.push_str(&format!(
            "  {caller} -> {callee}: {} calls, {}\n",
            e.calls,
            duration_string(e.total)
        ));
    }
    text
}

/// Per fn calls, total, self, min, mean and max time, in the order `sort` asks for.
pub fn report(stats: &Stats, tables: &crate::collect::event::Tables, sort: Sort) -> String {
    let fns = stats.fns_sorted(tables, sort);
    let calls: u64 = fns.iter().map(|f| f.1.calls).sum();
    let mut text = format!("trace report: {} fns, {calls} calls\n", fns.len());
    text.push_str(&format!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  fn\n",
        "calls", "total", "self", "min", "mean", "max"
    ));
    for (name, f) in &fns {
        text.push_str(&format!(
            "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  {}\n",
            f.calls,
            duration_string(f.total),
            duration_string(f.own),
            duration_string(f.min),
            duration_string(f.mean()),
            duration_string(f.max),
            name
        ));
    }
    text
}

/// The summary as JSON: `{"fns":[...],"edges":[...]}`.
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
            ",\"calls\":{},\"total_ns\":{},\"self_ns\":{},\"min_ns\":{},\"mean_ns\":{},\"max_ns\":{},\"max_depth\":{}}}",
            f.calls,
            f.total,
            f.own,
            f.min,
            f.mean(),
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
}

impl Consumer for Summary {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.stats.add(e, ctx);
    }

    fn finish(&mut self, end: &End<'_>) {
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
