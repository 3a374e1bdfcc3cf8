//! `TRACE_FILTER` rules, shared by capture (which fns and depths are recorded) and the views
//! (`min=`, and the same rules on a recording). Comma-separated: `prefix` or `+prefix` includes
//! fns whose path starts with it (when any include is given, only those), `-prefix` excludes,
//! `depth=N` drops frames deeper than N (0 is outermost), and `min=DURATION` (`500ns`, `20us`,
//! `1.5ms`, `2s`) folds away calls shorter than that, with everything they called.

// Without the runtime's features only `ends_with_segment` is used (by `Chain`).
#![cfg_attr(not(any(feature = "enable", feature = "read")), allow(dead_code))]

/// The parsed rules.
///
/// ```ignore
/// let f = Filter::parse("demo::db, -demo::db::pool, depth=3, min=1.5ms").unwrap();
/// assert!(f.admits("demo::db::get"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub max_depth: Option<u32>,
    pub min_ns: Option<u64>,
}

impl Filter {
    /// Parses the rules, or says which one is wrong and how to write it.
    pub fn parse(spec: &str) -> Result<Filter, String> {
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

    /// Whether a fn of this name is recorded.
    pub fn admits(&self, name: &str) -> bool {
        let matches = |p: &String| {
            name.starts_with(p.as_str()) || name.trim_start_matches('<').starts_with(p.as_str())
        };
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

/// `500ns`, `20us`, `1.5ms`, `2s` as nanoseconds.
pub fn parse_duration(text: &str) -> Option<u64> {
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
    (value >= 0.0).then_some((value * scale) as u64)
}

/// `demo::db::get` ends with the segments `get`, `db::get` and `demo::db::get`: how a fn is
/// named by `Chain::passes_through`, `TRACE_FOCUS` and the CLI's `FN` arguments.
pub fn ends_with_segment(full: &str, suffix: &str) -> bool {
    full == suffix
        || full
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with("::") || head.ends_with('<'))
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

    #[test]
    fn names_match_by_whole_segments() {
        assert!(ends_with_segment("demo::db::get", "get"));
        assert!(ends_with_segment("demo::db::get", "db::get"));
        assert!(ends_with_segment("<demo::Cat as Animal>::speak", "speak"));
        assert!(!ends_with_segment("demo::db::get", "et"));
    }
}
