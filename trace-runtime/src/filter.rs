//! Which fns a name given by the user means, in one place: `TRACE_FILTER` rules (capture: which
//! fns and depths are recorded; the views: `min=`), `TRACE_FOCUS`, `chain().passes_through`, and
//! the viewer's `FN`, `--focus` and `--exclude` all match names with [`Term`].
//!
//! `TRACE_FILTER` is comma-separated: `term` or `+term` includes the fns it matches (when any
//! include is given, only those), `-term` excludes, `depth=N` drops frames deeper than N (0 is
//! outermost), and `min=DURATION` (`500ns`, `20us`, `1.5ms`, `2s`) folds away calls shorter than
//! that, with everything they called.

use std::sync::atomic::{AtomicBool, Ordering};

/// A name as a user gives it, and the one rule for which fns it matches, by whole `::`
/// segments:
/// - the fn's full name: `demo::db::get`, `<demo::Cat as demo::Animal>::speak`;
/// - the end of it (a fn, by as much of its path as needed): `get`, `db::get`, `Pool::get`;
///   `db::get` matches `demo::db::get`, never `demo::mydb::get`;
/// - the start of it (a module or type, and everything in it): `demo`, `demo::db`, `demo::Cat`
///   (its inherent methods and its trait impls' methods);
/// - a qualified name whose type and trait are written as path ends: `<Cat as Animal>::speak`
///   matches `<demo::Cat as demo::Animal>::speak`.
///
/// ```ignore
/// let t = Term::new("db::get");
/// assert!(t.matches("demo::db::get") && !t.matches("demo::mydb::get"));
/// assert!(Term::new("demo::db").matches("demo::db::pool::take"));
/// ```
#[derive(Debug)]
pub struct Term {
    text: String,
    /// `<T as Trait>::rest` split, for a term written that way.
    qualified: Option<(String, String, String)>,
    /// Whether some traced fn was matched (set by [`Filter::admits`]).
    used: AtomicBool,
}

impl Term {
    pub fn new(text: &str) -> Term {
        let text = text.trim();
        // `demo::db::` names the module `demo::db`.
        let text = text.strip_suffix("::").unwrap_or(text).to_string();
        Term {
            qualified: qualified(&text).map(|(t, tr, rest)| (t.into(), tr.into(), rest.into())),
            text,
            used: AtomicBool::new(false),
        }
    }

    #[cfg(feature = "enable")]
    /// The term as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the fn named `name` is one this term means.
    pub fn matches(&self, name: &str) -> bool {
        if self.text.is_empty() {
            return false;
        }
        if name == self.text {
            return true;
        }
        if let Some((ty, tr, rest)) = &self.qualified {
            return qualified(name).is_some_and(|(nty, ntr, nrest)| {
                nrest == rest && path_ends_with(nty, ty) && path_ends_with(ntr, tr)
            });
        }
        ends_with_segments(name, &self.text) || starts_with_segments(name, &self.text)
    }
}

impl Clone for Term {
    fn clone(&self) -> Term {
        Term {
            text: self.text.clone(),
            qualified: self.qualified.clone(),
            used: AtomicBool::new(self.used.load(Ordering::Relaxed)),
        }
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        self.text == other.text
    }
}

/// `<T as Trait>::rest` as `(T, Trait, ::rest)`; `None` for any other name. The ` as ` and the
/// closing `>` are the outermost ones (a type may hold generic-free paths, arrays, `dyn`).
fn qualified(name: &str) -> Option<(&str, &str, &str)> {
    let inner = name.strip_prefix('<')?;
    let mut depth = 0usize;
    let mut as_at = None;
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => {
                let (ty, tr) = (&inner[..as_at?], &inner[as_at? + 4..i]);
                return Some((ty, tr, &inner[i + 1..]));
            }
            '>' => depth -= 1,
            ' ' if depth == 0 && inner[i..].starts_with(" as ") && as_at.is_none() => {
                as_at = Some(i)
            }
            _ => {}
        }
    }
    None
}

/// `demo::Cat` ends with the path `Cat` and `demo::Cat`, not `at`; `dyn demo::Shape` with
/// `dyn Shape`.
fn path_ends_with(path: &str, end: &str) -> bool {
    if let (Some(path), Some(end)) = (path.strip_prefix("dyn "), end.strip_prefix("dyn ")) {
        return path_ends_with(path, end);
    }
    path == end
        || path
            .strip_suffix(end)
            .is_some_and(|head| head.ends_with("::"))
}

/// `demo::db::get` ends with the segments `get`, `db::get`, and `<demo::Cat as Animal>::speak`
/// with `speak`, `Animal>::speak`, `Cat as Animal>::speak`: the end starts after `::`, `<` or
/// a space.
fn ends_with_segments(name: &str, end: &str) -> bool {
    name.strip_suffix(end)
        .is_some_and(|head| head.ends_with("::") || head.ends_with('<') || head.ends_with(' '))
}

/// `demo::db::get` starts with the segments `demo` and `demo::db`; `<demo::Cat as Animal>::speak`
/// with `demo` and `demo::Cat`: the start ends before `::`, ` as ` or `>`.
fn starts_with_segments(name: &str, start: &str) -> bool {
    let name = name.strip_prefix('<').unwrap_or(name);
    name.strip_prefix(start).is_some_and(|tail| {
        tail.starts_with("::") || tail.starts_with(" as ") || tail.starts_with('>')
    })
}

#[cfg(any(feature = "enable", feature = "read"))]
/// Terms' decision per site of a run (whether any of them matches the site's name), worked
/// out once per site: the one per-site cache the views that look for fns (focus, chains, the
/// selection) keep.
///
/// ```ignore
/// let mut m = SiteMatch::new("db::get");
/// assert!(m.hits(0, || "demo::db::get"));
/// ```
#[derive(Debug)]
pub struct SiteMatch {
    terms: Vec<Term>,
    /// Per site index: 0 unknown, 1 no, 2 yes.
    known: Vec<u8>,
}

#[cfg(any(feature = "enable", feature = "read"))]
impl SiteMatch {
    /// Matches what `term` matches.
    pub fn new(term: &str) -> SiteMatch {
        SiteMatch::any_of([term])
    }

    /// Matches what any of `terms` matches; no term matches nothing.
    pub fn any_of<'a>(terms: impl IntoIterator<Item = &'a str>) -> SiteMatch {
        SiteMatch {
            terms: terms.into_iter().map(Term::new).collect(),
            known: Vec::new(),
        }
    }

    /// Whether site `site`, named `name()`, is one a term means; `name` is asked once per site.
    #[inline]
    pub fn hits<'a>(&mut self, site: u32, name: impl FnOnce() -> &'a str) -> bool {
        let i = site as usize;
        match self.known.get(i) {
            Some(1) => return false,
            Some(2) => return true,
            _ => {}
        }
        let name = name();
        let hit = self.terms.iter().any(|t| t.matches(name));
        if self.known.len() <= i {
            self.known.resize(i + 1, 0);
        }
        self.known[i] = if hit { 2 } else { 1 };
        hit
    }
}

#[cfg(any(feature = "enable", feature = "read"))]
/// What `TRACE_FOCUS` and the viewer's `--focus` follow: a fn (a `Term`), and with `:err` after
/// it (`db::get:err`) only its calls that returned `Err` (recorded with `#[trace(err)]`). One
/// parser for both, so that a run and its recording answer the same question.
///
/// ```ignore
/// assert_eq!(FocusRule::parse("db::get:err"), FocusRule { name: "db::get".into(), errors: true });
/// assert_eq!(FocusRule::parse("db::get"), FocusRule { name: "db::get".into(), errors: false });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FocusRule {
    /// The fn's term.
    pub name: String,
    /// Only calls that returned `Err`.
    pub errors: bool,
}

#[cfg(any(feature = "enable", feature = "read"))]
impl FocusRule {
    /// The condition written after the fn: `NAME:err`. A path's separator is `::`, so a single
    /// `:` before `err` is never part of a name.
    pub const ERRORS: &'static str = ":err";

    /// Reads `NAME` or `NAME:err`.
    pub fn parse(text: &str) -> FocusRule {
        let text = text.trim();
        match text.strip_suffix(Self::ERRORS) {
            Some(name) if !name.ends_with(':') => FocusRule {
                name: name.trim_end().into(),
                errors: true,
            },
            _ => FocusRule {
                name: text.into(),
                errors: false,
            },
        }
    }
}

#[cfg(any(feature = "enable", feature = "read"))]
/// The names of `names` that `term` matches, each once, in order: more than one means the term
/// is ambiguous.
///
/// ```ignore
/// assert_eq!(matching(["a::apply", "b::apply", "c"], "apply"), ["a::apply", "b::apply"]);
/// ```
pub fn matching<'a>(names: impl IntoIterator<Item = &'a str>, term: &str) -> Vec<&'a str> {
    let term = Term::new(term);
    let mut out: Vec<&str> = names.into_iter().filter(|n| term.matches(n)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(any(feature = "enable", feature = "read"))]
/// The parsed rules.
///
/// ```ignore
/// let f = Filter::parse("demo::db, -demo::db::pool, depth=3, min=1.5ms").unwrap();
/// assert!(f.admits("demo::db::get"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub include: Vec<Term>,
    pub exclude: Vec<Term>,
    pub max_depth: Option<u32>,
    pub min_ns: Option<u64>,
}

#[cfg(any(feature = "enable", feature = "read"))]
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
                f.exclude.push(Term::new(p));
            } else {
                f.include
                    .push(Term::new(rule.strip_prefix('+').unwrap_or(rule)));
            }
        }
        Ok(f)
    }

    /// Whether a fn of this name is recorded. Called once per fn (its site keeps the answer);
    /// notes which terms matched, for [`Filter::unmatched`].
    pub fn admits(&self, name: &str) -> bool {
        let mut included = self.include.is_empty();
        let mut excluded = false;
        for (terms, hit) in [
            (&self.include, &mut included),
            (&self.exclude, &mut excluded),
        ] {
            for t in terms.iter().filter(|t| t.matches(name)) {
                t.used.store(true, Ordering::Relaxed);
                *hit = true;
            }
        }
        included && !excluded
    }

    #[cfg(feature = "enable")]
    /// The include and exclude terms no fn has matched so far, each as a warning's text.
    ///
    /// ```ignore
    /// let f = Filter::parse("db::gett").unwrap();
    /// f.admits("demo::db::get");
    /// assert_eq!(f.unmatched(), ["TRACE_FILTER term \"db::gett\" matched no traced fn"]);
    /// ```
    pub fn unmatched(&self) -> Vec<String> {
        let include = self.include.iter().map(|t| (t, ""));
        let exclude = self.exclude.iter().map(|t| (t, "-"));
        include
            .chain(exclude)
            .filter(|(t, _)| !t.used.load(Ordering::Relaxed))
            .map(|(t, sign)| {
                format!(
                    "TRACE_FILTER term \"{sign}{}\" matched no traced fn",
                    t.text()
                )
            })
            .collect()
    }
}

#[cfg(any(feature = "enable", feature = "read"))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "enable", feature = "read"))]
    #[test]
    fn a_focus_rule_is_a_term_with_an_optional_error_condition() {
        let rule = |name: &str, errors| FocusRule {
            name: name.into(),
            errors,
        };
        assert_eq!(FocusRule::parse("db::get:err"), rule("db::get", true));
        assert_eq!(FocusRule::parse(" get :err "), rule("get", true));
        assert_eq!(FocusRule::parse("db::get"), rule("db::get", false));
        // `err` as a path's last segment is a fn named `err`.
        assert_eq!(FocusRule::parse("demo::err"), rule("demo::err", false));
        assert_eq!(
            FocusRule::parse("<demo::Cat as demo::Animal>::speak:err"),
            rule("<demo::Cat as demo::Animal>::speak", true)
        );
    }

    #[cfg(any(feature = "enable", feature = "read"))]
    #[test]
    fn rules_parse() {
        let f = Filter::parse("demo::db, -demo::db::pool, depth=3, min=1.5ms").unwrap();
        assert_eq!(f.include, [Term::new("demo::db")]);
        assert_eq!(f.exclude, [Term::new("demo::db::pool")]);
        assert_eq!((f.max_depth, f.min_ns), (Some(3), Some(1_500_000)));
        assert!(f.admits("demo::db::get"));
        assert!(!f.admits("demo::db::pool::take"));
        assert!(!f.admits("demo::main"));
        assert!(Filter::parse("min=fast").is_err());
        assert!(Filter::parse("depth=x").is_err());
    }

    /// The table of the rule, as docs/names.md states it.
    #[test]
    fn a_term_matches_whole_segments_at_the_end_or_the_start_of_a_name() {
        let cases: &[(&str, &str, bool)] = &[
            ("demo::db::get", "demo::db::get", true),
            ("demo::db::get", "get", true),
            ("demo::db::get", "db::get", true),
            ("demo::mydb::get", "db::get", false),
            ("demo::db::get", "et", false),
            ("demo::db::get_all", "get", false),
            ("demo::db::Pool::get", "Pool::get", true),
            ("demo::db::get", "demo::db", true),
            ("demo::db::get", "demo::db::", true),
            ("demo::db::pool::take", "demo::db", true),
            ("demo::dbx::get", "demo::db", false),
            ("demo::db::get", "demo", true),
            ("demo::db::get", "db", false),
            ("chains::b1", "chains::b", false),
            ("<demo::Cat as demo::Animal>::speak", "speak", true),
            ("<demo::Cat as demo::Animal>::speak", "Animal>::speak", true),
            ("<demo::Cat as demo::Animal>::speak", "demo::Cat", true),
            ("<demo::Cat as demo::Animal>::speak", "demo", true),
            (
                "<demo::Cat as demo::Animal>::speak",
                "<Cat as Animal>::speak",
                true,
            ),
            (
                "<demo::Cat as demo::Animal>::speak",
                "<demo::Cat as Animal>::speak",
                true,
            ),
            (
                "<demo::Cat as demo::Animal>::speak",
                "<Dog as Animal>::speak",
                false,
            ),
            (
                "<demo::Cat as demo::Animal>::speak",
                "<at as Animal>::speak",
                false,
            ),
            (
                "<demo::Cat as demo::Animal>::speak",
                "<Cat as Animal>::eat",
                false,
            ),
            (
                "<[u8; 4] as names::Hello>::hi",
                "<[u8; 4] as Hello>::hi",
                true,
            ),
            (
                "<names::Local as fmt::Display>::fmt",
                "<Local as Display>::fmt",
                true,
            ),
            ("<names::Stack as Hello>::hi", "names::Stack", true),
            ("names::Stack::len::helper", "len::helper", true),
            (
                "<dyn names::Shape as Hello>::hi",
                "<dyn Shape as Hello>::hi",
                true,
            ),
            (
                "<dyn names::Shape as Hello>::hi",
                "<Shape as Hello>::hi",
                true,
            ),
            (
                "<dyn names::Shape as Hello>::hi",
                "<dyn Hello as Hello>::hi",
                false,
            ),
            ("names.custom", "names.custom", true),
            ("demo::get", "", false),
        ];
        for &(name, term, want) in cases {
            assert_eq!(Term::new(term).matches(name), want, "{term:?} on {name:?}");
        }
    }

    #[cfg(feature = "enable")]
    #[test]
    fn terms_that_matched_no_fn_are_named() {
        let f = Filter::parse("db::gett, demo, -demo::db::pool, -zzz").unwrap();
        assert!(f.admits("demo::db::get"));
        assert!(!f.admits("demo::db::pool::take"));
        assert_eq!(
            f.unmatched(),
            [
                "TRACE_FILTER term \"db::gett\" matched no traced fn",
                "TRACE_FILTER term \"-zzz\" matched no traced fn",
            ]
        );
    }

    #[cfg(any(feature = "enable", feature = "read"))]
    #[test]
    fn a_site_is_judged_once_and_ambiguity_is_listed() {
        let mut m = SiteMatch::new("apply");
        assert!(m.hits(3, || "a::apply"));
        // Known now: the name is not asked again.
        assert!(m.hits(3, || unreachable!()));
        assert!(!m.hits(0, || "a::other"));
        let mut m = SiteMatch::any_of(["a", "b::c"]);
        assert!(m.hits(0, || "a::x") && m.hits(1, || "z::b::c") && !m.hits(2, || "z::c"));
        assert!(!SiteMatch::any_of([]).hits(0, || "a"));
        assert_eq!(
            matching(["b::apply", "a::apply", "c::applyx", "b::apply"], "apply"),
            ["a::apply", "b::apply"]
        );
    }
}
