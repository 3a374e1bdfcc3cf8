//! Distinct chains: per chain of fns (outermost first) that ended in a finished call, how many
//! calls it carried and their total and longest time. For one fn (every chain that reached it)
//! or for every fn (a run's profile by chain, which `diff` compares). A name that means several
//! fns gets a table per fn.

#[cfg(feature = "read")]
use std::collections::BTreeMap;
use std::collections::HashMap;

use super::path::Path;
#[cfg(feature = "read")]
use super::text::{count, duration_string};
use crate::collect::decode::{Consumer, Ctx};
use crate::collect::event::{ErrorExit, Event, Kind, Tables};
use crate::filter::SiteMatch;

/// The first thing to know when a question about errors finds none: only `err` records error
/// exits.
pub const NO_ERRORS: &str =
    "(an error exit is recorded for fns marked #[trace(err)] only: see docs/values.md)\n";

/// Figures of one chain, in nanoseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainStats {
    /// Calls of the fn that came by this chain.
    pub calls: u64,
    /// Their wall time added up.
    pub total: u64,
    /// Time inside polls (the whole call for sync fns).
    pub busy: u64,
    /// The longest of them.
    pub max: u64,
}

/// Chains of sites and their figures, gathered from the exits of a run.
#[derive(Default)]
pub struct Chains {
    /// Only chains ending in a fn this term means (see `filter::Term`); `None`: all.
    target: Option<SiteMatch>,
    /// Which calls count.
    only: Only,
    /// Each distinct chain, with its calls and times.
    pub chains: HashMap<Path, ChainStats>,
}

/// Which calls a [`Chains`] counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Only {
    /// Every finished call.
    #[default]
    All,
    /// Calls that returned `Err` (`#[trace(err)]`): who reached the fn when it failed.
    Errors,
    /// Error exits where the error was born (the innermost of a `?` chain).
    #[cfg_attr(not(feature = "read"), allow(dead_code))]
    Origins,
}

impl Chains {
    /// Every chain that reached a fn of this name.
    pub fn reaching(name: &str) -> Self {
        Chains {
            target: Some(SiteMatch::new(name)),
            ..Chains::default()
        }
    }

    /// Counting only the calls `only` says.
    pub fn only(self, only: Only) -> Self {
        Chains { only, ..self }
    }

    /// Whether calls of `site` are counted: it is the fn looked for, or every fn is.
    pub fn reaches(&mut self, site: u32, tables: &Tables) -> bool {
        self.target
            .as_mut()
            .is_none_or(|m| m.hits(site, || tables.site(site)))
    }

    /// Whether exit `e` is one counted: of the fn looked for, and a call `only` takes.
    pub fn counts(&mut self, e: &Event, tables: &Tables) -> bool {
        let taken = match self.only {
            Only::All => true,
            Only::Errors => e.error != ErrorExit::None,
            Only::Origins => e.error == ErrorExit::Origin,
        };
        taken && self.reaches(e.site, tables)
    }

    /// The chains with names, by total time, longest first (ties by calls, then chain).
    pub fn by_total<'a>(&'a self, tables: &Tables) -> Vec<(String, &'a ChainStats)> {
        let mut out: Vec<(String, &ChainStats)> = self
            .chains
            .iter()
            .map(|(path, s)| (path.text(tables), s))
            .collect();
        out.sort_by(by_total);
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
        if !self.counts(e, ctx.tables) {
            return;
        }
        // Across spawns: the chain that reached a fn in a spawned task starts where it was
        // spawned from.
        let path = Path::of(ctx.frames, e.id, e.site);
        let s = self.chains.entry(path).or_default();
        s.calls += 1;
        s.total += elapsed_ns;
        s.busy += busy_ns;
        s.max = s.max.max(elapsed_ns);
    }
}

#[cfg(feature = "read")]
/// `chains reaching NAME: N calls by M distinct chains` and a row per chain; when `name` means
/// several fns, a table per fn reached, each headed with its full name, in name order.
pub fn table(chains: &Chains, tables: &Tables, name: &str) -> String {
    let per_fn = chains.by_fn(tables);
    if per_fn.len() < 2 {
        let mut text = one_table(chains.by_total(tables), name);
        if per_fn.is_empty() && chains.only != Only::All {
            text.push_str(NO_ERRORS);
        }
        return text;
    }
    let tables: Vec<String> = per_fn
        .into_iter()
        .map(|(fn_name, rows)| one_table(rows, fn_name))
        .collect();
    tables.join("\n")
}

#[cfg(feature = "read")]
impl Chains {
    /// The chains grouped by the fn they reached (its full name, in name order), each group
    /// by total time, longest first.
    pub fn by_fn<'t>(&self, tables: &'t Tables) -> BTreeMap<&'t str, Vec<(String, &ChainStats)>> {
        let mut per_fn: BTreeMap<&str, Vec<(String, &ChainStats)>> = BTreeMap::new();
        for (path, s) in &self.chains {
            let last = path.0.last().map_or(u32::MAX, |(site, _)| *site);
            per_fn
                .entry(tables.site(last))
                .or_default()
                .push((path.text(tables), s));
        }
        for rows in per_fn.values_mut() {
            rows.sort_by(by_total);
        }
        per_fn
    }
}

/// A table's rows: each chain as it reads, and its figures.
#[cfg(feature = "read")]
type Rows<'a> = Vec<(String, &'a ChainStats)>;

#[cfg(feature = "read")]
/// Where errors were born: `error origins: N errors born in M fns`, then per origin fn (most
/// errors first, then by name) the chains that reached it when its error was born.
pub fn origins(chains: &Chains, tables: &Tables) -> String {
    let total: u64 = chains.chains.values().map(|s| s.calls).sum();
    let mut fns: Vec<(&str, u64, Rows<'_>)> = chains
        .by_fn(tables)
        .into_iter()
        .map(|(name, mut rows)| {
            rows.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(&b.0)));
            (name, rows.iter().map(|r| r.1.calls).sum(), rows)
        })
        .collect();
    fns.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut text = format!(
        "error origins: {} born in {}\n",
        count(total, "error"),
        count(fns.len() as u64, "fn")
    );
    if total == 0 {
        text.push_str(NO_ERRORS);
    }
    for (name, errors, rows) in fns {
        text.push_str(&format!(
            "\n{name}: {} born here, reached by\n",
            count(errors, "error")
        ));
        for (path, s) in rows {
            text.push_str(&format!("{:>8}  {path}\n", s.calls));
        }
    }
    text
}

/// Longest total first, ties by calls, then by chain.
fn by_total(a: &(String, &ChainStats), b: &(String, &ChainStats)) -> std::cmp::Ordering {
    b.1.total
        .cmp(&a.1.total)
        .then(b.1.calls.cmp(&a.1.calls))
        .then(a.0.cmp(&b.0))
}

#[cfg(feature = "read")]
fn one_table(rows: Vec<(String, &ChainStats)>, name: &str) -> String {
    let calls: u64 = rows.iter().map(|r| r.1.calls).sum();
    let mut text = format!(
        "chains reaching {name}: {} by {}\n",
        count(calls, "call"),
        count(rows.len() as u64, "distinct chain")
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
