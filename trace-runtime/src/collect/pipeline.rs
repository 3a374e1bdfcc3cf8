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
use super::recording::{self, Recording, Writer};
#[cfg(feature = "enable")]
use super::tally::Tally;
use crate::capture::clock::Calibration;

/// The decoder and its views, and the recording the raw stream is written to (live only).
pub struct Pipeline {
    /// Made once the run's calibration is known (`start`).
    decoder: Option<Decoder>,
    views: Vec<Box<dyn Consumer>>,
    #[cfg(feature = "enable")]
    recording: Option<Writer>,
    /// A run that only records: what it keeps in place of decoding (`records_only`).
    #[cfg(feature = "enable")]
    tally: Option<Tally>,
    /// Values written and not yet freed (a run that only records keeps none).
    #[cfg(feature = "enable")]
    written: Vec<u32>,
}

impl Pipeline {
    /// A pipeline into `views`, in the order their output appears.
    pub fn new(views: Vec<Box<dyn Consumer>>) -> Self {
        Pipeline {
            decoder: None,
            views,
            #[cfg(feature = "enable")]
            recording: None,
            #[cfg(feature = "enable")]
            tally: None,
            #[cfg(feature = "enable")]
            written: Vec::new(),
        }
    }

    /// The same pipeline, writing the raw stream to `writer` too.
    #[cfg(feature = "enable")]
    pub fn recording(mut self, writer: Writer) -> Self {
        self.recording = Some(writer);
        self
    }

    /// The same pipeline for a run whose views write no trace (`TRACE_OUT=off`) and read no
    /// event as it comes: records go to the recording a thread at a time, undecoded (its
    /// header says so), while a [`Tally`] keeps the counts and the open frames; what is open
    /// is decoded from the recording read back, when asked (`read_back`). Without a
    /// recording, nothing changes.
    #[cfg(feature = "enable")]
    pub fn records_only(mut self) -> Self {
        if let Some(w) = self.recording.take() {
            self.recording = Some(w.in_thread_order());
            self.tally = Some(Tally::default());
        }
        self
    }

    /// The pipeline of another collector of a run that only records: its share (`lane` of
    /// `lanes`) of the threads' records into the same recording, no views.
    #[cfg(feature = "enable")]
    pub fn lane(&self, lane: usize, lanes: usize) -> Option<Pipeline> {
        let w = self.recording.as_ref().filter(|_| self.tally.is_some())?;
        let mut pipeline = Pipeline::new(Vec::new())
            .recording(w.share())
            .records_only();
        pipeline.set_lane(lane, lanes);
        Some(pipeline)
    }

    /// Exits read here of frames another lane's threads entered, for that lane.
    #[cfg(feature = "enable")]
    pub fn take_away(&mut self) -> Vec<super::tally::Exited> {
        self.tally
            .as_mut()
            .map(Tally::take_away)
            .unwrap_or_default()
    }

    /// Exits of this lane's frames that other lanes read.
    #[cfg(feature = "enable")]
    pub fn arrive(&mut self, exits: &[super::tally::Exited]) {
        if let (Some(tally), Some(d)) = (&mut self.tally, &self.decoder) {
            tally.arrive(exits, &d.cal);
        }
    }

    /// Frames open that a thread other than `thread` entered, by the tally (see `Tally::open_off`).
    #[cfg(feature = "enable")]
    pub fn open_off(&self, thread: Option<u32>) -> usize {
        self.tally.as_ref().map_or(0, |t| t.open_off(thread))
    }

    /// Whether what is open must be read back from the recording (see `Tally`).
    #[cfg(feature = "enable")]
    pub fn needs_reading(&self) -> bool {
        self.tally.as_ref().is_some_and(Tally::needs_reading)
    }

    /// The end of a run with several collectors: the other lanes' tallies taken into this
    /// one's, before `finish`.
    #[cfg(feature = "enable")]
    pub fn absorb(&mut self, lanes: Vec<Pipeline>, pending: Vec<super::tally::Exited>) {
        let others: Vec<Tally> = lanes.into_iter().filter_map(|p| p.tally).collect();
        if let (Some(tally), Some(d)) = (&mut self.tally, &self.decoder) {
            tally.absorb(others, pending, &d.cal);
        }
    }

    /// This pipeline's share of the threads, for a run that only records with several
    /// collectors: `lane` of `lanes`.
    #[cfg(feature = "enable")]
    pub fn set_lane(&mut self, lane: usize, lanes: usize) {
        if let Some(tally) = &mut self.tally {
            tally.set_lane(lane, lanes);
        }
    }

    /// Whether records go straight to the recording, a thread at a time (`records_only`).
    #[cfg(feature = "enable")]
    pub fn is_records_only(&self) -> bool {
        self.tally.is_some()
    }

    /// How ticks become nanoseconds in this run: once, before the first record. The recording
    /// starts with it.
    pub fn start(&mut self, cal: Calibration) {
        if self.decoder.is_some() {
            return;
        }
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            // Of several collectors' writers, the first to start heads the file and names
            // the run.
            if w.start(&cal) {
                w.run_began(&cal);
            }
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
        #[cfg(feature = "enable")]
        if let Some(tally) = &mut self.tally {
            if tally.admits(raw) {
                tally.see(raw, &decoder.cal);
                if let Some(w) = &mut self.recording {
                    w.raw(raw, tables);
                }
            }
            return;
        }
        if !decoder.admits(raw) {
            return;
        }
        #[cfg(feature = "enable")]
        if let Some(w) = &mut self.recording {
            w.raw(raw, tables);
        }
        decoder.feed(raw, tables, &mut self.views);
    }

    /// Records of one thread, in its order, for a run that only records (`records_only`):
    /// each counted by the tally and written, in one run through the writer.
    #[cfg(feature = "enable")]
    pub fn feed_thread_run(&mut self, raws: &[Raw], tables: &Tables) {
        let (Some(decoder), Some(tally)) = (&self.decoder, &mut self.tally) else {
            return;
        };
        // What the tally does not admit (never in a live run) stays out of the recording.
        let mut admitted = true;
        for raw in raws {
            if tally.admits(raw) {
                tally.see(raw, &decoder.cal);
            } else {
                admitted = false;
            }
        }
        let Some(w) = &mut self.recording else {
            return;
        };
        if admitted {
            w.thread_run(raws, tables);
        } else {
            let kept: Vec<Raw> = raws.iter().filter(|r| tally.admits(r)).copied().collect();
            w.thread_run(&kept, tables);
        }
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
            if self.tally.is_some() {
                self.written.push(values);
                return;
            }
        }
        #[cfg(not(feature = "enable"))]
        let _ = thread;
        decoder.value(id, values, tables, &mut self.views);
    }

    /// Frees the values no view can read any more (see [`Decoder::free_values`]).
    #[cfg(feature = "enable")]
    pub fn free_values(&mut self, tables: &mut Tables) {
        for values in self.written.drain(..) {
            tables.values.free(values);
        }
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

    /// A run that only records: collector `lane` of `lanes` has written every event its
    /// threads made before `ticks` (it goes into the recording with the round's events).
    #[cfg(feature = "enable")]
    pub fn written_through(&mut self, lane: usize, lanes: usize, ticks: u64) {
        if let Some(w) = &mut self.recording {
            w.written_through(lane, lanes, ticks);
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
        // A run that only records hands the views its tally's counts in place of the events it
        // never decoded (and no frame open: its trace goes nowhere, the recording holds them).
        #[cfg(feature = "enable")]
        let counts = self.tally.as_mut().map(|tally| {
            tally.settle();
            &tally.counts
        });
        #[cfg(not(feature = "enable"))]
        let counts = None;
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
            counts,
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

    /// A run that only records, with frames open: the recording so far read back, for what
    /// is open now (`Ok(None)`: nothing to read, the frames here say it all). `Err` says why
    /// it could not be read.
    ///
    /// `open_elsewhere`: another lane's tally says something is open.
    #[cfg(feature = "enable")]
    pub fn read_back(&mut self, open_elsewhere: bool) -> Result<Option<Recording>, String> {
        let needed = open_elsewhere || self.needs_reading();
        match &mut self.recording {
            Some(w) if needed && self.tally.is_some() => recording::read_back(w).map(Some),
            _ => Ok(None),
        }
    }

    /// The frames open once everything fed has been decoded.
    #[cfg(feature = "enable")]
    pub fn into_frames(self) -> Frames {
        self.decoder.map(|d| d.frames).unwrap_or_default()
    }
}
