//! Two runs side by side: per fn and per chain, calls and total time before and after, the
//! chains that appeared and those that vanished, each list by the size of the change. Runs are
//! matched by names, never by site numbers, which differ from run to run.

use std::collections::{BTreeMap, BTreeSet};

use super::chains::Chains;
use super::summary::Stats;
use super::text::duration_string;
use crate::collect::decode::{Consumer, Ctx};
use crate::collect::event::{Event, Tables};

/// Calls and total time (ns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub calls: u64,
    pub total: u64,
}

/// What a diff compares of one run, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub fns: BTreeMap<String, Figures>,
    /// By the chain as it reads (`m -> a => b`).
    pub chains: BTreeMap<String, Figures>,
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
                };
                (names, figures)
            })
            .collect();
        Profile { fns, chains }
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

/// One row per key present on either side, by the size of the change in time, then calls.
fn rows<K: Ord + Clone>(
    a: &BTreeMap<K, Figures>,
    b: &BTreeMap<K, Figures>,
    keys: impl Iterator<Item = K>,
) -> Vec<(K, Figures, Figures)> {
    let mut rows: Vec<(K, Figures, Figures)> = keys
        .map(|k| {
            let before = a.get(&k).copied().unwrap_or_default();
            let after = b.get(&k).copied().unwrap_or_default();
            (k, before, after)
        })
        .collect();
    rows.sort_by(|x, y| {
        let size = |r: &(K, Figures, Figures)| {
            (r.1.total.abs_diff(r.2.total), r.1.calls.abs_diff(r.2.calls))
        };
        size(y).cmp(&size(x)).then(x.0.cmp(&y.0))
    });
    rows
}

fn row(text: &mut String, before: Figures, after: Figures, what: &str) {
    text.push_str(&format!(
        "  {:>7} -> {:<7} {:>9} -> {:<9} {:>10}  {what}\n",
        before.calls,
        after.calls,
        duration_string(before.total),
        duration_string(after.total),
        signed(before.total, after.total)
    ));
}

/// The diff of two runs as text.
pub fn render(a: &Profile, b: &Profile) -> String {
    let mut text =
        String::from("fns, by change in total time (calls and total, before -> after):\n");
    let names: BTreeSet<&String> = a.fns.keys().chain(b.fns.keys()).collect();
    for (name, before, after) in rows(&a.fns, &b.fns, names.into_iter().cloned()) {
        row(&mut text, before, after, &name);
    }
    let both: Vec<String> = a
        .chains
        .keys()
        .filter(|k| b.chains.contains_key(*k))
        .cloned()
        .collect();
    text.push_str("chains in both runs, by change in total time:\n");
    for (chain, before, after) in rows(&a.chains, &b.chains, both.into_iter()) {
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
        for (chain, before, after) in rows(&a.chains, &b.chains, only.into_iter()) {
            row(&mut text, before, after, &chain);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(fns: &[(&str, u64, u64)], chains: &[(&str, u64, u64)]) -> Profile {
        let f = |calls, total| Figures { calls, total };
        Profile {
            fns: fns
                .iter()
                .map(|(n, c, t)| (n.to_string(), f(*c, *t)))
                .collect(),
            chains: chains
                .iter()
                .map(|(n, c, t)| (n.replace(';', " -> "), f(*c, *t)))
                .collect(),
        }
    }

    #[test]
    fn changes_are_listed_largest_first_then_by_calls_with_appeared_and_vanished_chains() {
        let a = profile(
            &[("m", 1, 10_000), ("a", 2, 4_000), ("old", 1, 500)],
            &[("m", 1, 10_000), ("m;a", 2, 4_000), ("m;old", 1, 500)],
        );
        let b = profile(
            &[("m", 1, 12_000), ("a", 3, 9_000), ("new", 4, 2_000)],
            &[("m", 1, 12_000), ("m;a", 3, 9_000), ("m;new", 4, 2_000)],
        );
        assert_eq!(
            render(&a, &b),
            "\
fns, by change in total time (calls and total, before -> after):
        2 -> 3           4.0µs -> 9.0µs         +5.0µs  a
        0 -> 4             0ns -> 2.0µs         +2.0µs  new
        1 -> 1          10.0µs -> 12.0µs        +2.0µs  m
        1 -> 0           500ns -> 0ns           -500ns  old
chains in both runs, by change in total time:
        2 -> 3           4.0µs -> 9.0µs         +5.0µs  m -> a
        1 -> 1          10.0µs -> 12.0µs        +2.0µs  m
chains that appeared: 1
        0 -> 4             0ns -> 2.0µs         +2.0µs  m -> new
chains that vanished: 1
        1 -> 0           500ns -> 0ns           -500ns  m -> old
"
        );
    }
}
