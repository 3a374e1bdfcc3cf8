//! One fn's neighbourhood in the call graph: who called (or spawned) it and whom it called (or
//! spawned), each edge with its calls and total time, read from the summary's figures.

use super::summary::{EdgeStats, Stats};
use super::text::duration_string;
use crate::collect::event::Tables;
use crate::filter::Term;

/// Per fn `name` means (see `filter::Term`), in name order: its figures, its callers and its
/// callees, each list by total time, longest first. Empty when no fn matches.
pub fn neighbours(stats: &Stats, tables: &Tables, name: &str) -> String {
    let term = Term::new(name);
    let mut sites: Vec<(&str, u32)> = stats
        .fns
        .keys()
        .map(|s| (tables.site(*s), *s))
        .filter(|(n, _)| term.matches(n))
        .collect();
    sites.sort();
    let mut text = String::new();
    for (fn_name, site) in sites {
        let f = &stats.fns[&site];
        text.push_str(&format!(
            "{fn_name}: {}, total {}, self {}\n",
            super::text::count(f.calls, "call"),
            duration_string(f.total),
            duration_string(f.own)
        ));
        // Calls first, then spawns (a task or thread whose root this fn created).
        let side = |callers: bool| {
            let mut edges: Vec<(&str, &str, &EdgeStats)> =
                [("call", &stats.edges), ("spawn", &stats.spawns)]
                    .into_iter()
                    .flat_map(|(how, edges)| {
                        edges
                            .iter()
                            .filter(
                                move |((a, b), _)| if callers { *b == site } else { *a == site },
                            )
                            .map(move |((a, b), e)| {
                                (how, tables.site(if callers { *a } else { *b }), e)
                            })
                    })
                    .collect();
            edges.sort_by(|x, y| {
                x.0.cmp(y.0)
                    .then(y.2.total.cmp(&x.2.total))
                    .then(x.1.cmp(y.1))
            });
            edges
        };
        for (heading, callers) in [("callers", true), ("callees", false)] {
            let edges = side(callers);
            text.push_str(&format!("  {heading}:"));
            if edges.is_empty() {
                text.push_str(" none\n");
                continue;
            }
            text.push('\n');
            for (how, other, e) in edges {
                text.push_str(&format!(
                    "    {:>8} {:<6} {:>10}  {other}\n",
                    e.calls,
                    crate::units::noun_for(e.calls, how),
                    duration_string(e.total)
                ));
            }
        }
    }
    text
}
