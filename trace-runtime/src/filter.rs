//! `TRACE_FILTER`: which calls are recorded. Comma-separated rules:
//! `prefix` or `+prefix` includes fns whose path starts with it (when any include is given,
//! only those), `-prefix` excludes, `depth=N` drops frames deeper than N (0 is outermost), and
//! `min=DURATION` (`500ns`, `20us`, `1.5ms`, `2s`) folds away calls shorter than that.

use std::sync::atomic::Ordering;

use crate::__private::Site;

/// The parsed rules.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Filter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub max_depth: Option<u32>,
    pub min_ns: Option<u64>,
}

/// `Site::state` bits.
pub(crate) const RESOLVED: u8 = 1;
pub(crate) const EXCLUDED: u8 = 2;
pub(crate) const FOCUSED: u8 = 4;

impl Filter {
    pub(crate) fn parse(spec: &str) -> Result<Filter, String> {
        let mut f = Filter::default();
        for rule in spec.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            if let Some(n) = rule.strip_prefix("depth=") {
                f.max_depth = Some(
                    n.trim()
                        .parse()
                        .map_err(|_| format!("`{rule}`: depth is a whole number"))?,
                );
            } else if let Some(d) = rule.strip_prefix("min=") {
                f.min_ns = Some(
                    parse_duration(d.trim())
                        .ok_or(format!("`{rule}`: give a duration like 20us"))?,
                );
            } else if let Some(p) = rule.strip_prefix('-') {
                f.exclude.push(p.to_string());
            } else {
                f.include
                    .push(rule.strip_prefix('+').unwrap_or(rule).to_string());
            }
        }
        Ok(f)
    }

    fn admits(&self, name: &str) -> bool {
        let matches = |p: &String| {
            name.starts_with(p.as_str()) || name.trim_start_matches('<').starts_with(p.as_str())
        };
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

fn parse_duration(text: &str) -> Option<u64> {
    let split = text.find(|c: char| c.is_alphabetic() || c == 'µ')?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    let scale = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some((value * scale) as u64)
}

/// A site's decision, computed on its first call and cached in the site.
#[inline]
pub(crate) fn site_state(site: &'static Site, cfg: &crate::config::Config) -> u8 {
    let state = site.state.load(Ordering::Relaxed);
    if state & RESOLVED != 0 {
        return state;
    }
    let mut state = RESOLVED;
    if !cfg.filter.admits(site.name) {
        state |= EXCLUDED;
    }
    if let Some(focus) = &cfg.focus {
        if crate::chain::ends_with_segment(site.name, focus) {
            state |= FOCUSED;
        }
    }
    site.state.store(state, Ordering::Relaxed);
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        let f = Filter::parse("demo::db, -demo::db::pool, depth=3, min=1.5ms").unwrap();
        assert_eq!(f.include, ["demo::db"]);
        assert_eq!(f.exclude, ["demo::db::pool"]);
        assert_eq!((f.max_depth, f.min_ns), (Some(3), Some(1_500_000)));
        assert!(f.admits("demo::db::get"));
        assert!(!f.admits("demo::db::pool::take"));
        assert!(!f.admits("demo::main"));
        assert!(Filter::parse("min=fast").is_err());
        assert!(Filter::parse("depth=x").is_err());
    }
}
