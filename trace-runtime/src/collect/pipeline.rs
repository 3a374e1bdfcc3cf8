//! The one pipeline from the raw stream to the views, driven by the live collector
//! (`collector.rs`) and by a recording read back (`recording::read`): the recording writer gets
//! each raw record before any decoding, then the decoder turns it into the event every view
//! sees; a round ends with a tick and a flush, the run with the state it ended in.

#[cfg(feature = "enable")]
use super::decode::Ctx;
use super::decode::{Consumer, Decoder, End};
use super::event::{Raw, Tables};
#[cfg(feature = "enable")]
use super::frames::Frames;
#[cfg(feature = "enable")]
use super::recording::Writer;
use crate::capture::clock::Calibration;

/// The decoder and its views, and the recording the raw stream is written to (live only).
pub struct Pipeline {
    /// Made once the run's calibration is known (`start`).
    decoder: Option<Decoder>,
    views: Vec<Box<dyn Consumer>>,
    #[cfg(feature = "enable")]
    recording: Option<Writer>,
}

impl Pipeline {
    /// A pipeline into `views`, in the order their output appears.
    pub fn new(views: Vec<Box<dyn Consumer>>) -> Self {
        Pipeline {
            decoder: None,
            views,
            #[cfg(feature = "enable")]
            recording: None,
        }
    }

    /// The same pipeline, writing the raw stream to `writer` too.
    #[cfg(feature = "enable")]
    pub fn recording(mut self, writer: Writer) -> Self {
        self.recording = Some(writer);
        self
    }

    /// How ticks become nanoseconds in this run: once, before the first record. The recording
    /// starts with it.
    pub fn start(&mut self, cal: Calibration) {
        if self.decoder.is_some() {
            return;
        }
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            w.start(&cal);
            w.run_began(&cal);
        }
        self.decoder = Some(Decoder::new(cal));
    }

    /// The decoder, once started.
    #[cfg(feature = "enable")]
    pub fn decoder(&self) -> Option<&Decoder> {
        self.decoder.as_ref()
    }

    /// The frames open as of the last record fed.
    #[cfg(feature = "enable")]
    pub fn frames(&self) -> &Frames {
        static NONE: std::sync::OnceLock<Frames> = std::sync::OnceLock::new();
        match &self.decoder {
            Some(d) => &d.frames,
            None => NONE.get_or_init(Frames::default),
        }
    }

    /// One raw record, in time order, with the tables as they stand: to the recording, then
    /// decoded to every view. A record no frame table can take (see [`Decoder::admits`]) goes
    /// to neither. Before `start`, nothing happens.
    #[inline]
    pub fn feed(&mut self, raw: &Raw, tables: &Tables) {
        let Some(decoder) = &mut self.decoder else {
            return;
        };
        if !decoder.admits(raw) {
            return;
        }
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            w.raw(raw, tables);
        }
        decoder.feed(raw, tables, &mut self.views);
    }

    /// Values recorded for frame `id` of `thread` (`values` as `Tables::add_values` gave it,
    /// in `tables`), in time order with the raw records: to the recording, then the decoder,
    /// which hands them on with the frame's next enter or exit.
    pub fn value(&mut self, thread: u32, id: u64, values: u32, tables: &Tables) {
        let Some(decoder) = &mut self.decoder else {
            return;
        };
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            w.value(thread, id, values, tables);
        }
        #[cfg(not(feature = "enable"))]
        let _ = thread;
        decoder.value(id, values, tables, &mut self.views);
    }

    /// Frees the values no view can read any more (see [`Decoder::free_values`]).
    #[cfg(feature = "enable")]
    pub fn free_values(&mut self, tables: &mut Tables) {
        if let Some(d) = &mut self.decoder {
            d.free_values(tables, &self.views);
        }
    }

    /// The end of a live collection round, at `ticks`: the views see the frames open and the
    /// time now.
    #[cfg(feature = "enable")]
    pub fn tick(&mut self, tables: &Tables, ticks: u64) {
        let Some(decoder) = &self.decoder else {
            return;
        };
        let now_ns = decoder.end_ns(ticks);
        let ctx = Ctx {
            frames: &decoder.frames,
            tables,
        };
        for v in self.views.iter_mut() {
            v.tick(&ctx, now_ns);
        }
    }

    /// Writes out what the views and the recording hold: the end of a round.
    pub fn flush(&mut self) {
        for v in self.views.iter_mut() {
            v.flush();
        }
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            w.flush();
        }
    }

    /// Thread `n` has ended and every record of it was fed.
    #[cfg(feature = "enable")]
    pub fn thread_ended(&mut self, n: u32) {
        if let Some(d) = &mut self.decoder {
            d.frames.thread_ended(n);
        }
    }

    /// The end of the run, at `ticks`: every view's final report, in order, each written out
    /// before the next reports, then the recording's end. Needs `start` first.
    pub fn finish(&mut self, tables: &Tables, ticks: u64, skipped: u64, counted: &[(u32, u64)]) {
        let Some(decoder) = &mut self.decoder else {
            return;
        };
        decoder.release_all(tables, &mut self.views);
        let end = End {
            ticks,
            ts_ns: decoder.end_ns(ticks),
            frames: &decoder.frames,
            tables,
            skipped,
            counted,
        };
        for v in self.views.iter_mut() {
            v.finish(&end);
            v.flush();
        }
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            w.finish(&end);
        }
    }
}
