//! One fn's neighbourhood in the call graph: who called it and whom it called, each edge with
//! its calls and total time, read from the summary's figures.

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
            "{fn_name}: {} calls, total {}, self {}\n",
            f.calls,
            duration_string(f.total),
            duration_string(f.own)
        ));
        let side = |callers: bool| {
            let mut edges: Vec<(&str, &EdgeStats)> = stats
                .edges
                .iter()
                .filter(|((a, b), _)| if callers { *b == site } else { *a == site })
                .map(|((a, b), e)| (tables.site(if callers { *a } else { *b }), e))
                .collect();
            edges.sort_by(|x, y| y.1.total.cmp(&x.1.total).then(x.0.cmp(y.0)));
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
            for (other, e) in edges {
                text.push_str(&format!(
                    "    {:>8} calls {:>10}  {other}\n",
                    e.calls,
                    duration_string(e.total)
                ));
            }
        }
    }
    text
}
