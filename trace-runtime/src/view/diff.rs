//! Two runs side by side: per fn and per chain, calls, total (wall) and busy time before and
//! after, the chains that appeared and those that vanished, each list by the size of the change
//! in the figure asked for. Runs are matched by names, never by site numbers, which differ from
//! run to run.

use std::collections::{BTreeMap, BTreeSet};

use super::chains::Chains;
use super::summary::{Sort, Stats};
use super::text::duration_string;
use crate::collect::decode::{Consumer, Ctx};
use crate::collect::event::{Event, Tables};

/// Calls, total (wall) and busy time (ns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub calls: u64,
    pub total: u64,
    /// Time inside polls; `total` for sync fns.
    pub busy: u64,
}

/// What a diff compares of one run, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub fns: BTreeMap<String, Figures>,
    /// By the chain as it reads (`m -> a => b`).
    pub chains: BTreeMap<String, Figures>,
    /// Error exits (`#[trace(err)]`) per fn that had any.
    pub errors: BTreeMap<String, u64>,
}

/// Gathers a run's profile.
#[derive(Default)]
pub struct Side {
    stats: Stats,
    chains: Chains,
}

impl Side {
    /// The profile, with the run's names.
    pub fn profile(&self, tables: &Tables) -> Profile {
        let fns = self
            .stats
            .fns
            .iter()
            .map(|(s, f)| {
                let figures = Figures {
                    calls: f.calls,
                    total: f.total,
                    busy: f.busy,
                };
                (tables.site(*s).to_string(), figures)
            })
            .collect();
        let chains = self
            .chains
            .chains
            .iter()
            .map(|(path, c)| {
                let names = path.text(tables);
                let figures = Figures {
                    calls: c.calls,
                    total: c.total,
                    busy: c.busy,
                };
                (names, figures)
            })
            .collect();
        let errors = self
            .stats
            .fns
            .iter()
            .filter(|(_, f)| f.errors > 0)
            .map(|(s, f)| (tables.site(*s).to_string(), f.errors))
            .collect();
        Profile {
            fns,
            chains,
            errors,
        }
    }
}

impl Consumer for Side {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.stats.add(e, ctx);
        self.chains.event(e, ctx);
    }
}

/// `+1.2ms`, `-850ns`, `0ns`.
fn signed(before: u64, after: u64) -> String {
    if after >= before {
        let d = after - before;
        format!("{}{}", if d == 0 { "" } else { "+" }, duration_string(d))
    } else {
        format!("-{}", duration_string(before - after))
    }
}

/// What `sort` orders rows by: the size of the change in that figure, then in the others.
fn change(sort: Sort, before: Figures, after: Figures) -> (u64, u64, u64) {
    let total = before.total.abs_diff(after.total);
    let busy = before.busy.abs_diff(after.busy);
    let calls = before.calls.abs_diff(after.calls);
    match sort {
        Sort::Busy => (busy, total, calls),
        Sort::Calls => (calls, total, busy),
        _ => (total, calls, busy),
    }
}

/// One row per key present on either side, by the size of the change `sort` names.
fn rows<K: Ord + Clone>(
    a: &BTreeMap<K, Figures>,
    b: &BTreeMap<K, Figures>,
    keys: impl Iterator<Item = K>,
    sort: Sort,
) -> Vec<(K, Figures, Figures)> {
    let mut rows: Vec<(K, Figures, Figures)> = keys
        .map(|k| {
            let before = a.get(&k).copied().unwrap_or_default();
            let after = b.get(&k).copied().unwrap_or_default();
            (k, before, after)
        })
        .collect();
    rows.sort_by(|x, y| {
        let size = |r: &(K, Figures, Figures)| change(sort, r.1, r.2);
        size(y).cmp(&size(x)).then(x.0.cmp(&y.0))
    });
    rows
}

fn row(text: &mut String, before: Figures, after: Figures, what: &str) {
    text.push_str(&format!(
        "  {:>7} -> {:<7} {:>9} -> {:<9} {:>10} {:>9} -> {:<9} {:>10}  {what}\n",
        before.calls,
        after.calls,
        duration_string(before.total),
        duration_string(after.total),
        signed(before.total, after.total),
        duration_string(before.busy),
        duration_string(after.busy),
        signed(before.busy, after.busy)
    ));
}

/// The diff of two runs as text, each list by the size of the change in the figure `sort` names
/// (total, busy or calls; any other key orders by total).
pub fn render(a: &Profile, b: &Profile, sort: Sort) -> String {
    let by = match sort {
        Sort::Busy => "busy time",
        Sort::Calls => "calls",
        _ => "total time",
    };
    let mut text = format!(
        "fns, by change in {by} (calls, total and busy time, before -> after and change; busy: inside polls):\n"
    );
    let names: BTreeSet<&String> = a.fns.keys().chain(b.fns.keys()).collect();
    for (name, before, after) in rows(&a.fns, &b.fns, names.into_iter().cloned(), sort) {
        row(&mut text, before, after, &name);
    }
    let both: Vec<String> = a
        .chains
        .keys()
        .filter(|k| b.chains.contains_key(*k))
        .cloned()
        .collect();
    text.push_str(&format!("chains in both runs, by change in {by}:\n"));
    for (chain, before, after) in rows(&a.chains, &b.chains, both.into_iter(), sort) {
        row(&mut text, before, after, &chain);
    }
    let appeared: Vec<String> = b
        .chains
        .keys()
        .filter(|k| !a.chains.contains_key(*k))
        .cloned()
        .collect();
    let vanished: Vec<String> = a
        .chains
        .keys()
        .filter(|k| !b.chains.contains_key(*k))
        .cloned()
        .collect();
    for (heading, only) in [
        ("chains that appeared", appeared),
        ("chains that vanished", vanished),
    ] {
        text.push_str(&format!("{heading}: {}\n", only.len()));
        for (chain, before, after) in rows(&a.chains, &b.chains, only.into_iter(), sort) {
            row(&mut text, before, after, &chain);
        }
    }
    errors(&mut text, a, b);
    text
}

/// The fns whose error exits (`#[trace(err)]`) changed in number, most changed first: said
/// only when some did.
fn errors(text: &mut String, a: &Profile, b: &Profile) {
    let names: BTreeSet<&String> = a.errors.keys().chain(b.errors.keys()).collect();
    let mut changed: Vec<(&String, u64, u64)> = names
        .into_iter()
        .map(|n| {
            let count = |p: &Profile| p.errors.get(n).copied().unwrap_or(0);
            (n, count(a), count(b))
        })
        .filter(|(_, before, after)| before != after)
        .collect();
    if changed.is_empty() {
        return;
    }
    changed.sort_by(|x, y| {
        x.2.abs_diff(x.1)
            .cmp(&y.2.abs_diff(y.1))
            .reverse()
            .then(x.0.cmp(y.0))
    });
    text.push_str(&format!(
        "fns whose error exits changed: {} (before -> after)\n",
        changed.len()
    ));
    for (name, before, after) in changed {
        text.push_str(&format!("{before:>10} -> {after:<10} {name}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows are `(name, calls, total, busy)`; `;` in a chain's name reads ` -> `.
    fn profile(fns: &[(&str, u64, u64, u64)], chains: &[(&str, u64, u64, u64)]) -> Profile {
        let f = |calls, total, busy| Figures { calls, total, busy };
        let map = |rows: &[(&str, u64, u64, u64)]| {
            rows.iter()
                .map(|(n, c, t, b)| (n.replace(';', " -> "), f(*c, *t, *b)))
                .collect()
        };
        Profile {
            fns: map(fns),
            chains: map(chains),
            errors: BTreeMap::new(),
        }
    }

    #[test]
    fn fns_whose_error_exits_changed_are_listed_only_when_some_did() {
        let (mut a, mut b) = runs();
        let plain = render(&a, &b, Sort::Total);
        assert!(!plain.contains("error"), "{plain}");
        a.errors.insert("load".into(), 3);
        a.errors.insert("read".into(), 1);
        b.errors.insert("read".into(), 1);
        b.errors.insert("parse".into(), 1);
        let text = render(&a, &b, Sort::Total);
        let tail = &text[text.find("fns whose").unwrap()..];
        assert_eq!(
            tail,
            "fns whose error exits changed: 2 (before -> after)\n         3 -> 0          load\n         0 -> 1          parse\n"
        );
    }

    fn runs() -> (Profile, Profile) {
        let a = profile(
            &[
                ("m", 1, 10_000, 10_000),
                ("a", 2, 4_000, 4_000),
                ("old", 1, 500, 500),
            ],
            &[
                ("m", 1, 10_000, 10_000),
                ("m;a", 2, 4_000, 4_000),
                ("m;old", 1, 500, 500),
            ],
        );
        // `m` now waits 2µs longer but works as long; `new` is busy all its time.
        let b = profile(
            &[
                ("m", 1, 12_000, 10_000),
                ("a", 3, 9_000, 4_500),
                ("new", 4, 2_000, 2_000),
            ],
            &[
                ("m", 1, 12_000, 10_000),
                ("m;a", 3, 9_000, 4_500),
                ("m;new", 4, 2_000, 2_000),
            ],
        );
        (a, b)
    }

    #[test]
    fn changes_are_listed_largest_first_then_by_calls_with_appeared_and_vanished_chains() {
        let (a, b) = runs();
        assert_eq!(
            render(&a, &b, Sort::Total),
            "\
fns, by change in total time (calls, total and busy time, before -> after and change; busy: inside polls):
        2 -> 3           4.0µs -> 9.0µs         +5.0µs     4.0µs -> 4.5µs         +500ns  a
        0 -> 4             0ns -> 2.0µs         +2.0µs       0ns -> 2.0µs         +2.0µs  new
        1 -> 1          10.0µs -> 12.0µs        +2.0µs    10.0µs -> 10.0µs           0ns  m
        1 -> 0           500ns -> 0ns           -500ns     500ns -> 0ns           -500ns  old
chains in both runs, by change in total time:
        2 -> 3           4.0µs -> 9.0µs         +5.0µs     4.0µs -> 4.5µs         +500ns  m -> a
        1 -> 1          10.0µs -> 12.0µs        +2.0µs    10.0µs -> 10.0µs           0ns  m
chains that appeared: 1
        0 -> 4             0ns -> 2.0µs         +2.0µs       0ns -> 2.0µs         +2.0µs  m -> new
chains that vanished: 1
        1 -> 0           500ns -> 0ns           -500ns     500ns -> 0ns           -500ns  m -> old
"
        );
    }

    #[test]
    fn busy_orders_by_the_change_in_time_inside_polls() {
        let (a, b) = runs();
        let text = render(&a, &b, Sort::Busy);
        let order: Vec<&str> = text
            .lines()
            .map(|l| l.rsplit("  ").next().unwrap())
            .collect();
        assert_eq!(
            order[..6],
            [
                "fns, by change in busy time (calls, total and busy time, before -> after and change; busy: inside polls):",
                "new",
                "a",
                "old",
                "m",
                "chains in both runs, by change in busy time:",
            ]
        );
        assert_eq!(order[6..8], ["m -> a", "m"]);
    }
}
