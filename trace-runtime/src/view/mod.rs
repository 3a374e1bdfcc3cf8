//! Views: each output is one module over the stream of decoded events (or, for the recording,
//! raw ones). The runtime drives them live; the CLI drives the same code on a recording.
//! What only the reader uses is behind the `read` feature, what only a live run uses behind
//! `enable`, so that every build's compiler finds what nothing uses.

pub mod calls;
pub mod chains;
pub mod chrome;
#[cfg(feature = "read")]
pub mod diff;
pub mod focus;
pub mod folded;
#[cfg(feature = "read")]
pub mod graph;
pub mod hot;
pub mod human;
pub mod jsonl;
pub mod min;
pub mod noisy;
pub mod open;
#[cfg(feature = "read")]
pub mod otlp;
pub mod path;
#[cfg(feature = "read")]
pub mod select;
pub mod stream;
pub mod summary;
pub mod text;
#[cfg(feature = "read")]
pub mod timeline;
#[cfg(feature = "read")]
pub mod trees;
#[cfg(feature = "enable")]
pub mod watch;

use crate::collect::decode::Consumer;
use crate::config::Format;
use stream::{Out, Stream};

/// Which views a run's text output is made of: the same set live (from the environment) and
/// when a recording is exported.
#[derive(Clone, Debug, Default)]
pub struct TextViews {
    /// The event lines' format (`TRACE_FORMAT`); `None`: no event lines.
    pub format: Option<Format>,
    /// Colour the human lines.
    pub color: bool,
    /// Event lines are not written (`TRACE_OUT=off`).
    pub quiet: bool,
    /// `TRACE_FOCUS`: only the chains that reach this fn (with `:err`, when it returned `Err`).
    pub focus: Option<crate::filter::FocusRule>,
    /// `TRACE_SUMMARY`: the per-fn table and the call graph at the end.
    pub summary: bool,
    /// `TRACE_SUMMARY_JSON`: the summary as JSON, to this file.
    pub summary_json: Option<std::path::PathBuf>,
    /// `TRACE_FILTER=min=`: calls shorter than this are left out with their callees.
    pub min_ns: Option<u64>,
    /// Reports go to stderr whatever the format: the trace's own output named a file that
    /// could not be opened.
    pub reports_to_stderr: bool,
    /// The Unix time (ns) of the run's nanosecond 0: OTLP's timestamps are anchored to it.
    #[cfg(feature = "read")]
    pub start_unix_ns: u64,
}

impl TextViews {
    /// The views, in the order their output appears: event lines or focus chains or folded
    /// stacks, then the summary, then what never finished. `out` makes the trace's output,
    /// `stderr` the output for reports that do not go into the trace (see
    /// [`reports_in_trace`](Self::reports_in_trace)). Live (`setup.rs`) and on a recording
    /// exported (`trace-rewriter`), the same views.
    pub fn build(&self, out: &dyn Fn() -> Out, stderr: &dyn Fn() -> Out) -> Vec<Box<dyn Consumer>> {
        let in_trace = self.reports_in_trace() && !self.reports_to_stderr;
        let reports = || if in_trace { out() } else { stderr() };
        let reports = &reports;
        let format = self.format.unwrap_or(Format::Human);
        let mut views: Vec<Box<dyn Consumer>> = Vec::new();
        if let Some(rule) = &self.focus {
            views.push(Box::new(Stream::new(focus::Focus::new(rule), out())));
        } else if format == Format::Folded {
            views.push(Box::new(folded::Folded::new(out())));
        } else if !self.quiet {
            let lines: Box<dyn Consumer> = match format {
                Format::Jsonl => self.with_min(Stream::new(jsonl::Jsonl, out())),
                Format::Chrome => self.with_min(Stream::new(chrome::Chrome::default(), out())),
                #[cfg(feature = "read")]
                Format::Otlp => {
                    self.with_min(Stream::new(otlp::Otlp::new(self.start_unix_ns), out()))
                }
                _ => self.with_min(Stream::new(human::Human::new(self.color), out())),
            };
            views.push(lines);
        }
        if self.summary || self.summary_json.is_some() {
            let table = self.summary.then(reports);
            views.push(Box::new(summary::Summary::new(
                table,
                self.summary_json.clone(),
            )));
        }
        views.push(Box::new(open::OpenAtEnd::new(reports())));
        views
    }

    /// Whether reports (the summary, what never finished) go into the trace's own output: only
    /// for the human tree. JSON (jsonl, chrome, otlp) must stay valid and folded output must stay
    /// folded lines that flame graph tools read, so theirs go to stderr.
    pub fn reports_in_trace(&self) -> bool {
        self.format.unwrap_or(Format::Human) == Format::Human
    }

    /// What the trace's output must end with to be complete, for an output cut short: the
    /// Chrome array's closing when the event lines are Chrome's, else nothing.
    pub fn closing(&self) -> &'static [u8] {
        let chrome = self.format == Some(Format::Chrome);
        if chrome && self.focus.is_none() && !self.quiet {
            chrome::CLOSING
        } else {
            b""
        }
    }

    fn with_min<C: Consumer + 'static>(&self, view: C) -> Box<dyn Consumer> {
        match self.min_ns {
            Some(min) => Box::new(min::Min::new(view, min)),
            None => Box::new(view),
        }
    }
}

// A damaged recording read back and replayed into every view: the reader's and the views'.
#[cfg(all(test, feature = "enable", feature = "read"))]
mod tests {
    use crate::collect::decode::Consumer;
    use crate::collect::recording::fixtures::{exits_v3, EXITS};
    use crate::collect::recording::Recording;

    /// The calls a run counted instead of recording (`TRACE_HOT`) are read back per site, and
    /// a replay hands them to the views.
    #[test]
    fn counted_calls_read_back_and_reach_the_views() {
        use crate::collect::recording::fixtures::rewrite;
        use crate::view::summary::Stats;
        let mut rec = Recording::parse(EXITS).unwrap();
        rec.counted = vec![(1, 2_900_000), (0, 7)];
        let back = Recording::parse(&rewrite(&rec, 1000)).unwrap();
        assert_eq!(back.damage, None);
        assert_eq!(back.counted, [(1, 2_900_000), (0, 7)]);
        let stats = back.replay_into(Stats::default());
        let recorded = Recording::parse(EXITS)
            .unwrap()
            .replay_into(Stats::default());
        let f = &stats.fns[&1];
        assert_eq!(
            (f.calls, f.counted),
            (recorded.fns[&1].calls + 2_900_000, 2_900_000)
        );
        assert_eq!(
            f.mean(),
            recorded.fns[&1].mean(),
            "counted calls have no time"
        );
    }

    /// What damage can do to a recording's bytes.
    #[derive(Debug, Clone)]
    enum Harm {
        Flip(usize, u8),
        Cut(usize),
        Insert(usize, Vec<u8>),
        Remove(usize, usize),
    }

    fn harm() -> impl proptest::strategy::Strategy<Value = Harm> {
        use proptest::prelude::*;
        prop_oneof![
            (any::<usize>(), 1..=255u8).prop_map(|(at, bits)| Harm::Flip(at, bits)),
            any::<usize>().prop_map(Harm::Cut),
            (
                any::<usize>(),
                proptest::collection::vec(any::<u8>(), 1..16)
            )
                .prop_map(|(at, b)| Harm::Insert(at, b)),
            (any::<usize>(), 1..32usize).prop_map(|(at, n)| Harm::Remove(at, n)),
        ]
    }

    /// The views only the reader has, over a selection.
    fn reader_views() -> Vec<Box<dyn Consumer>> {
        let focus = crate::view::select::Selection {
            focus: Some("recurse".into()),
            exclude: vec!["exits::outer".into()],
            max_depth: Some(3),
            ..Default::default()
        };
        let sink = || Box::new(std::io::sink()) as crate::view::stream::Out;
        let trees = crate::view::trees::Trees::new(true, sink());
        vec![
            Box::new(crate::view::select::Select::new(trees, focus)),
            Box::new(crate::view::open::AtEnd::default()),
            Box::new(crate::view::timeline::Timeline::new(1_000, 4)),
            Box::new(crate::view::folded::Stacks::default()),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { timeout: 3000, ..proptest::prelude::ProptestConfig::with_cases(2000) })]

        /// However a real recording (version 2, or 3 in 7 chunks) is damaged, reading it returns (what it could read, or
        /// an error) and never panics; replaying what was read never panics either.
        #[test]
        fn damaged_recordings_never_panic(
            harms in proptest::collection::vec(harm(), 1..4),
            v3 in proptest::bool::ANY,
        ) {
            let mut bytes = if v3 { exits_v3().1 } else { EXITS.to_vec() };
            for h in harms {
                let len = bytes.len().max(1);
                match h {
                    Harm::Flip(at, bits) => {
                        if !bytes.is_empty() {
                            bytes[at % len] ^= bits;
                        }
                    }
                    Harm::Cut(at) => bytes.truncate(at % (len + 1)),
                    Harm::Insert(at, b) => {
                        let at = at % (bytes.len() + 1);
                        bytes.splice(at..at, b);
                    }
                    Harm::Remove(at, n) => {
                        let at = at % len;
                        let end = (at + n).min(bytes.len());
                        bytes.drain(at.min(end)..end);
                    }
                }
            }
            if let Ok(rec) = Recording::parse(&bytes) {
                let out = crate::view::TextViews::default();
                let sink = || Box::new(std::io::sink()) as crate::view::stream::Out;
                let mut views = out.build(&sink, &sink);
                views.extend(reader_views());
                rec.replay(views);
                rec.replay_into(crate::view::diff::Side::default()).profile(&rec.tables);
            }
        }
    }
}
