//! A view that writes one line per event (the human tree, JSON lines, Trace Event Format):
//! lines are gathered per collection round and written out in one call, so lines never tear.

use std::io::Write;

use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::Event;

/// Where a view writes: the live trace's destination, or the CLI's standard output.
pub type Out = Box<dyn Write + Send>;

/// One format of event lines.
pub trait Lines: Send {
    /// What comes before the first line.
    fn begin(&mut self, _buf: &mut Vec<u8>) {}
    /// The line (or nothing) for one event.
    fn line(&mut self, buf: &mut Vec<u8>, event: &Event, ctx: &Ctx<'_>);
    /// What comes after the last line.
    fn end(&mut self, _buf: &mut Vec<u8>, _end: &End<'_>) {}
}

/// Writes a format's lines to an output.
pub struct Stream<L> {
    lines: L,
    out: Out,
    buf: Vec<u8>,
}

impl<L: Lines> Stream<L> {
    pub fn new(mut lines: L, out: Out) -> Self {
        let mut buf = Vec::new();
        lines.begin(&mut buf);
        Stream { lines, out, buf }
    }
}

impl<L: Lines> Consumer for Stream<L> {
    fn event(&mut self, event: &Event, ctx: &Ctx<'_>) {
        self.lines.line(&mut self.buf, event, ctx);
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            // The output handles its own failures (a live destination warns once).
            let _ = self.out.write_all(&self.buf);
            self.buf.clear();
        }
        let _ = self.out.flush();
    }

    fn finish(&mut self, end: &End<'_>) {
        self.lines.end(&mut self.buf, end);
    }
}
