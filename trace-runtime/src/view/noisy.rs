//! The note on a large trace: which few fns make most of its events, with their calls, share
//! and mean time, and the exact `TRACE_FILTER` line that leaves them out. Printed at exit of a
//! run whose trace reached [`LARGE`] events (on stderr, never inside the trace) and at the end of
//! `trace-rewriter report`.
//!
//! A server's trace is mostly tiny helpers (a parser's byte and token fns) called tens of
//! thousands of times for tens of nanoseconds each; the calls a person wants to read drown in
//! them. Naming the few that make most of the lines, with the line that leaves them out, turns
//! the next run's trace into one a person can read.

#[cfg(feature = "enable")]
use std::io::Write;

#[cfg(feature = "enable")]
use super::stream::Out;
use super::text::duration_string;
#[cfg(feature = "enable")]
use crate::collect::decode::End;
use crate::collect::decode::{Consumer, Ctx};
use crate::collect::event::{Event, Kind, Tables};
use crate::filter::Filter;

/// A trace of this many events or more is large: about 10 MB of human trace, far more than a
/// person reads.
pub const LARGE: u64 = 100_000;

/// The note names at most this many fns...
pub const MAX_FNS: usize = 5;

/// ...and only when they make at least this share of the events (percent): "most of them".
pub const MIN_SHARE_PERCENT: u64 = 50;

pub use crate::collect::tally::{Count, Counts};

impl Consumer for Counts {
    fn event(&mut self, e: &Event, _ctx: &Ctx<'_>) {
        let Kind::Exit { elapsed_ns, .. } = e.kind else {
            return;
        };
        self.call(e.site, elapsed_ns);
    }
}

/// One of the fns that make most of the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoisyFn {
    pub name: String,
    pub calls: u64,
    pub events: u64,
    /// Mean wall time of a finished call.
    pub mean_ns: u64,
}

/// What the note says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Events in the trace.
    pub events: u64,
    /// The fns, most events first.
    pub fns: Vec<NoisyFn>,
    /// The `TRACE_FILTER` value that leaves them out (the run's own rules first), or `None`
    /// when none of them can be written as a rule.
    pub filter: Option<String>,
    /// Fns of the note that no rule can name (a `,` in the name splits a rule).
    pub unwritable: Vec<String>,
    /// Other fns of the trace the line leaves out too (a rule names every fn it matches).
    pub also: Vec<String>,
}

/// The note for a trace, when it is large and a few fns make most of it: the smallest set of
/// fns, at most `MAX_FNS` (5), most events first, that makes at least `MIN_SHARE_PERCENT` (50%) of
/// the events. `base` is the run's own `TRACE_FILTER`, kept in front of the new rules.
///
/// ```ignore
/// let note = noisy::note(&counts, &tables, None).expect("large, with a few noisy fns");
/// print!("{}", noisy::render(&note));
/// ```
pub fn note(counts: &Counts, tables: &Tables, base: Option<&str>) -> Option<Note> {
    if counts.events < LARGE {
        return None;
    }
    let mut fns: Vec<(&str, &Count)> = counts
        .sites
        .iter()
        .enumerate()
        .filter(|(_, c)| c.events > 0)
        .map(|(s, c)| (tables.site(s as u32), c))
        .collect();
    fns.sort_by(|a, b| b.1.events.cmp(&a.1.events).then(a.0.cmp(b.0)));
    let mut covered = 0;
    let mut chosen = Vec::new();
    for (name, c) in fns.iter().take(MAX_FNS) {
        covered += c.events;
        chosen.push(NoisyFn {
            name: name.to_string(),
            calls: c.calls,
            events: c.events,
            mean_ns: c.total_ns / c.calls.max(1),
        });
        if covered * 100 >= counts.events * MIN_SHARE_PERCENT {
            break;
        }
    }
    if covered * 100 < counts.events * MIN_SHARE_PERCENT {
        return None;
    }
    let (writable, unwritable): (Vec<&NoisyFn>, Vec<&NoisyFn>) =
        chosen.iter().partition(|f| !f.name.contains(','));
    // A base the run could not use (it warned, and traced everything) is left out.
    let base = base
        .map(str::trim)
        .filter(|b| !b.is_empty() && Filter::parse(b).is_ok());
    let filter = (!writable.is_empty()).then(|| {
        let rules = writable.iter().map(|f| format!("-{}", f.name));
        base.map(str::to_string)
            .into_iter()
            .chain(rules)
            .collect::<Vec<_>>()
            .join(",")
    });
    // What the line leaves out, asked of the filter itself (one rule for how names match).
    let before = base.and_then(|b| Filter::parse(b).ok()).unwrap_or_default();
    let after = filter
        .as_deref()
        .and_then(|f| Filter::parse(f).ok())
        .unwrap_or_default();
    let mut unwritable: Vec<String> = unwritable.iter().map(|f| f.name.clone()).collect();
    let mut also = Vec::new();
    for (name, _) in &fns {
        let noisy = chosen.iter().any(|f| f.name == *name);
        let dropped = before.admits(name) && !after.admits(name);
        if noisy && after.admits(name) && !unwritable.iter().any(|u| u == name) {
            unwritable.push(name.to_string());
        } else if !noisy && dropped {
            also.push(name.to_string());
        }
    }
    also.sort();
    Some(Note {
        events: counts.events,
        fns: chosen,
        filter,
        unwritable,
        also,
    })
}

/// `12.3%`: `part` of `whole` in percent with one decimal, rounded.
fn percent(part: u64, whole: u64) -> String {
    let tenths = (part as u128 * 1000 + whole as u128 / 2) / (whole as u128).max(1);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// `'text'` for a POSIX shell: pasted, it is one word whatever it holds.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The note as lines of text, the first without a prefix (the caller adds `trace-runtime: `
/// on a live run).
pub fn render(note: &Note) -> String {
    let covered: u64 = note.fns.iter().map(|f| f.events).sum();
    let mut text = format!(
        "a large trace: {} events, {} of them ({}) from {} fn{}:\n",
        note.events,
        covered,
        percent(covered, note.events),
        note.fns.len(),
        if note.fns.len() == 1 { "" } else { "s" }
    );
    text.push_str(&format!(
        "  {:>10} {:>7} {:>10}  fn\n",
        "calls", "events", "mean"
    ));
    for f in &note.fns {
        text.push_str(&format!(
            "  {:>10} {:>7} {:>10}  {}\n",
            f.calls,
            percent(f.events, note.events),
            duration_string(f.mean_ns),
            f.name
        ));
    }
    if let Some(filter) = &note.filter {
        text.push_str("  to leave them out, run with:\n");
        text.push_str(&format!("  TRACE_FILTER={}\n", shell_quote(filter)));
    }
    for name in &note.unwritable {
        text.push_str(&format!(
            "  {name} cannot be left out by TRACE_FILTER (a `,` in its name splits the rule): put #[trace(skip)] on it\n"
        ));
    }
    if !note.also.is_empty() {
        text.push_str(&format!(
            "  (the line also leaves out {}, whose names the rules match)\n",
            note.also.join(", ")
        ));
    }
    text.push_str(
        "  cargo trace instrument --exclude GLOB leaves out files, not fns: to keep these out of the build, put #[trace(skip)] on them\n",
    );
    text
}

#[cfg(feature = "enable")]
/// The live run's note: counts the events the trace holds and, at exit, writes the note when
/// the trace was large.
pub struct AtExit {
    counts: Counts,
    out: Out,
    base: Option<String>,
}

#[cfg(feature = "enable")]
impl AtExit {
    /// `counts` sees the events the trace holds; `base` is the run's `TRACE_FILTER`.
    pub fn new(counts: Counts, out: Out, base: Option<String>) -> Self {
        AtExit { counts, out, base }
    }
}

#[cfg(feature = "enable")]
impl Consumer for AtExit {
    fn event(&mut self, e: &Event, ctx: &Ctx<'_>) {
        self.counts.event(e, ctx);
    }

    fn finish(&mut self, end: &End<'_>) {
        let counts = end.counts.unwrap_or(&self.counts);
        if let Some(note) = note(counts, end.tables, self.base.as_deref()) {
            let text = format!("{}{}", crate::config::PREFIX, render(&note));
            let _ = self.out.write_all(text.as_bytes());
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(rows: &[(&str, u64, u64)]) -> (Counts, Tables) {
        let mut counts = Counts::default();
        let mut tables = Tables::default();
        for (i, (name, calls, mean)) in rows.iter().enumerate() {
            tables.sites.push((*name).into());
            assert_eq!(counts.sites.len(), i);
            counts.sites.push(Count {
                events: 2 * calls,
                calls: *calls,
                total_ns: calls * mean,
            });
            counts.events += 2 * calls;
        }
        (counts, tables)
    }

    #[test]
    fn a_few_fns_making_half_the_events_are_named_with_a_line_that_leaves_them_out() {
        let (c, t) = counts(&[
            ("srv::main", 1, 9_000_000),
            ("srv::handle", 20_000, 40_000),
            ("srv::parse::byte", 30_000, 30),
            ("srv::parse::byte::class", 5_000, 20),
            ("<srv::Tok as Display>::fmt", 10_000, 50),
        ]);
        let note = note(&c, &t, Some("depth=9")).unwrap();
        assert_eq!(
            render(&note),
            "\
a large trace: 130002 events, 100000 of them (76.9%) from 2 fns:
       calls  events       mean  fn
       30000   46.2%       30ns  srv::parse::byte
       20000   30.8%     40.0µs  srv::handle
  to leave them out, run with:
  TRACE_FILTER='depth=9,-srv::parse::byte,-srv::handle'
  (the line also leaves out srv::parse::byte::class, whose names the rules match)
  cargo trace instrument --exclude GLOB leaves out files, not fns: to keep these out of the build, put #[trace(skip)] on them
"
        );
    }

    #[test]
    fn small_or_spread_traces_get_no_note_and_commas_cannot_be_written() {
        let (c, t) = counts(&[("a", 100, 10), ("b", 100, 10)]);
        assert_eq!(note(&c, &t, None), None, "small");
        let spread: Vec<(String, u64, u64)> =
            (0..20).map(|i| (format!("f{i:02}"), 5_000, 10)).collect();
        let rows: Vec<(&str, u64, u64)> = spread
            .iter()
            .map(|(n, c, m)| (n.as_str(), *c, *m))
            .collect();
        let (c, t) = counts(&rows);
        assert_eq!(note(&c, &t, None), None, "no five fns make half");
        let (c, t) = counts(&[("<(u8, u16) as H>::hi", 60_000, 10), ("m", 1, 10)]);
        let n = note(&c, &t, None).unwrap();
        assert!(render(&n)
            .starts_with("a large trace: 120002 events, 120000 of them (100.0%) from 1 fn:\n"));
        assert_eq!(
            (n.filter, n.unwritable),
            (None, vec!["<(u8, u16) as H>::hi".to_string()])
        );
        // A base the run could not parse is not repeated; one it could leads the line.
        let (c, t) = counts(&[("a::b", 60_000, 10), ("m", 1, 10)]);
        let line = |base| note(&c, &t, Some(base)).unwrap().filter.unwrap();
        assert_eq!(line("min=fast"), "-a::b");
        assert_eq!(line(" a, depth=3 "), "a, depth=3,-a::b");
    }

    #[test]
    fn quoting_survives_a_shell() {
        assert_eq!(shell_quote("-<a as B>::c"), "'-<a as B>::c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
