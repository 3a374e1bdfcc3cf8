//! Views: each output is one module over the stream of decoded events (or, for the recording,
//! raw ones). The runtime drives them live; the CLI drives the same code on a recording.

// Reading recordings and some helpers serve only the CLI (the `read` feature).
#![cfg_attr(not(feature = "read"), allow(dead_code))]

pub mod calls;
pub mod chains;
pub mod chrome;
pub mod diff;
pub mod focus;
pub mod folded;
pub mod graph;
pub mod human;
pub mod jsonl;
pub mod min;
pub mod noisy;
pub mod open;
pub mod path;
pub mod recording;
pub mod select;
pub mod stream;
pub mod summary;
pub mod text;
pub mod trees;
pub mod watch;

use crate::collect::decode::Consumer;
use crate::config::Format;
use stream::{Out, Stream};

/// Which views a run's text output is made of: the same set live (from the environment) and
/// when a recording is exported.
#[derive(Clone, Debug, Default)]
pub struct TextViews {
    pub format: Option<Format>,
    pub color: bool,
    /// Event lines are not written (`TRACE_OUT=off`).
    pub quiet: bool,
    pub focus: Option<String>,
    pub summary: bool,
    pub summary_json: Option<std::path::PathBuf>,
    pub min_ns: Option<u64>,
}

impl TextViews {
    /// The views, in the order their output appears: event lines or focus chains or folded
    /// stacks, then the summary, then what never finished. `out` makes the trace's output;
    /// `reports` the output for reports (the trace itself for text formats, else stderr).
    pub fn build(
        &self,
        out: &dyn Fn() -> Out,
        reports: &dyn Fn() -> Out,
    ) -> Vec<Box<dyn Consumer>> {
        let format = self.format.unwrap_or(Format::Human);
        let mut views: Vec<Box<dyn Consumer>> = Vec::new();
        if let Some(name) = &self.focus {
            views.push(Box::new(Stream::new(
                focus::Focus::new(name.clone()),
                out(),
            )));
        } else if format == Format::Folded {
            views.push(Box::new(folded::Folded::new(out())));
        } else if !self.quiet {
            let lines: Box<dyn Consumer> = match format {
                Format::Jsonl => self.with_min(Stream::new(jsonl::Jsonl, out())),
                Format::Chrome => self.with_min(Stream::new(chrome::Chrome::default(), out())),
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
    /// for the human tree. JSON (jsonl, chrome) must stay valid and folded output must stay
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
