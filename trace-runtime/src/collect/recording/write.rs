//! Writes the recording of a live run: the pipeline (`collect/pipeline.rs`) hands it the raw
//! stream before any decoding, and it frames what it is fed into chunks which each decode on
//! their own.

use std::io::Write;
use std::path::Path;

use super::format::{
    self, crc32, header, put_str, put_varint, zigzag, CHUNK_BYTES, FRAME_V3, ITEM_COUNTED,
    ITEM_END, ITEM_RUN, ITEM_SITE, ITEM_THREAD, ITEM_THROUGH, SYNC, THREAD_ORDER,
};
use super::{last_id, Deltas};
use crate::capture::clock::Calibration;
use crate::capture::record;
use crate::collect::decode::End;
use crate::collect::event::{Raw, Tables};

/// The file a recording goes to, shared by the writers that fill it (one per collector):
/// chunks go in whole, each numbered and headed as it goes in, so that the file reads as if
/// one writer had written it.
pub struct RecordingFile {
    out: Box<dyn Write + Send>,
    path: std::path::PathBuf,
    broken: bool,
    /// Events and bytes in the file so far.
    events: u64,
    bytes: u64,
    /// Chunks written so far: the next one's number is this plus 1.
    chunks: u64,
    /// The threads the last chunk written held events of.
    last_threads: std::collections::BTreeSet<u32>,
    /// The file opened again for reading, when it is a regular file: what the running program
    /// reads back is what it wrote, even if the path is renamed or replaced since.
    reader: Option<std::fs::File>,
    /// Whether the header is written: by the first writer to start (a writer starts before
    /// it writes a chunk).
    headed: bool,
}

impl RecordingFile {
    /// One chunk of `events` events of `threads`, its head made now: its number, the events
    /// written before it, and the threads the chunk before it held events of, so that a reader
    /// that lost that chunk can say what it held. Whether the file still takes writes.
    fn write_chunk(
        &mut self,
        body: &[u8],
        events: u64,
        threads: std::collections::BTreeSet<u32>,
    ) -> bool {
        if self.broken {
            return false;
        }
        let mut payload = Vec::with_capacity(body.len() + 16);
        put_varint(&mut payload, self.chunks + 1);
        put_varint(&mut payload, self.events);
        put_varint(&mut payload, self.last_threads.len() as u64);
        for &t in &self.last_threads {
            put_varint(&mut payload, u64::from(t));
        }
        payload.extend_from_slice(body);
        let mut frame = Vec::with_capacity(FRAME_V3);
        frame.extend_from_slice(&SYNC);
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32(&payload).to_le_bytes());
        let result = self
            .out
            .write_all(&frame)
            .and_then(|_| self.out.write_all(&payload));
        self.bytes += (frame.len() + payload.len()) as u64;
        self.chunks += 1;
        self.events += events;
        self.last_threads = threads;
        self.took(result)
    }

    fn flush(&mut self) -> bool {
        if self.broken {
            return false;
        }
        let result = self.out.flush();
        self.took(result)
    }

    /// Whether the file still takes writes after `result`: a failed write is said once, and
    /// nothing more is written.
    fn took(&mut self, result: std::io::Result<()>) -> bool {
        if let Err(e) = result {
            self.broken = true;
            crate::config::warn(&format!(
                "cannot write TRACE_RECORD={} ({e}); the rest of the recording is dropped",
                self.path.display()
            ));
        }
        !self.broken
    }
}

/// The file's lock, for any writer into it (a writer that panicked holding it left whole
/// chunks: the file is still good).
fn lock(file: &std::sync::Mutex<RecordingFile>) -> std::sync::MutexGuard<'_, RecordingFile> {
    file.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes the recording of a live run: fills chunks and hands them to the file's [`RecordingFile`].
pub struct Writer {
    file: std::sync::Arc<std::sync::Mutex<RecordingFile>>,
    /// The chunk being filled, without its head (made as it goes into the file).
    chunk: Vec<u8>,
    /// Reset at every chunk: a chunk decodes without the ones before it.
    deltas: Deltas,
    sites_written: usize,
    threads_written: std::collections::BTreeSet<u32>,
    /// The file takes no more writes, as it said at this writer's last write (read without
    /// its lock, before every event).
    broken: bool,
    /// Events in the chunk being filled.
    chunk_events: u64,
    /// Threads with events in the chunk being filled.
    chunk_threads: std::collections::BTreeSet<u32>,
    /// The site and thread items first written in the chunk being filled, and in the one
    /// before it: each is written again in the next chunk, so one lost chunk loses no name.
    defined: Vec<u8>,
    repeat: Vec<u8>,
    /// The run item (`ITEM_RUN`) until the first chunk takes it.
    run: Vec<u8>,
    /// The header's flags: [`THREAD_ORDER`] when events come a thread at a time.
    flags: u16,
    /// The file's event count when this writer last said what it had written through: with
    /// nothing written since, by any writer, it need not say it again.
    through_at: Option<u64>,
}

impl Writer {
    /// Creates the file and writes its header; an unusable path is an error the caller warns
    /// about.
    pub fn create(path: &Path) -> std::io::Result<Writer> {
        let file = std::fs::File::create(path)?;
        // Never a pipe, a FIFO or a device: reading those back would take what a reader at the
        // other end is owed, wait forever, or never end.
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        let reader = regular.then(|| std::fs::File::open(path).ok()).flatten();
        let writer = Writer::to(
            Box::new(std::io::BufWriter::with_capacity(CHUNK_BYTES * 2, file)),
            path,
        );
        lock(&writer.file).reader = reader;
        Ok(writer)
    }

    /// A writer into `out`, named `path` in its warnings.
    pub(super) fn to(out: Box<dyn Write + Send>, path: &Path) -> Writer {
        let file = RecordingFile {
            out,
            path: path.to_path_buf(),
            broken: false,
            events: 0,
            bytes: 0,
            chunks: 0,
            last_threads: Default::default(),
            headed: false,
            reader: None,
        };
        Writer::into(std::sync::Arc::new(std::sync::Mutex::new(file)), 0)
    }

    fn into(file: std::sync::Arc<std::sync::Mutex<RecordingFile>>, flags: u16) -> Writer {
        Writer {
            file,
            chunk: Vec::with_capacity(CHUNK_BYTES + 64),
            deltas: Deltas::default(),
            sites_written: 0,
            threads_written: Default::default(),
            broken: false,
            chunk_events: 0,
            chunk_threads: Default::default(),
            defined: Vec::new(),
            repeat: Vec::new(),
            run: Vec::new(),
            flags,
            through_at: None,
        }
    }

    /// Another writer into the same file, for another collector: it names the sites and
    /// threads it writes of itself (a name given twice is the same name); the header and the
    /// run item are the first writer's to start.
    pub fn share(&self) -> Writer {
        Writer::into(self.file.clone(), self.flags)
    }

    /// The same writer, fed each thread's events in that thread's order, a thread at a time,
    /// rather than in time order: the header says so, and readers merge the threads by time.
    pub fn in_thread_order(mut self) -> Writer {
        self.flags |= THREAD_ORDER;
        self
    }

    /// Starts a chunk with what it repeats of the one before it and, the first time, the run
    /// item, if it has not started.
    #[inline]
    fn open_chunk(&mut self) {
        if self.chunk.is_empty() {
            self.start_chunk();
        }
    }

    #[cold]
    fn start_chunk(&mut self) {
        self.chunk.append(&mut self.repeat);
        self.chunk.append(&mut self.run);
    }

    /// Writes the sites and threads `tables` holds that the file has not named yet. Checked
    /// before every event: inline, with the writing out of line.
    #[inline]
    fn define(&mut self, tables: &Tables) {
        if self.sites_written != tables.sites.len()
            || self.threads_written.len() != tables.threads.len()
        {
            self.define_new(tables);
        }
    }

    #[cold]
    fn define_new(&mut self, tables: &Tables) {
        self.open_chunk();
        let from = self.chunk.len();
        while self.sites_written < tables.sites.len() {
            self.chunk.push(ITEM_SITE);
            put_varint(&mut self.chunk, self.sites_written as u64);
            put_str(&mut self.chunk, &tables.sites[self.sites_written]);
            self.sites_written += 1;
        }
        for (n, name) in &tables.threads {
            if self.threads_written.insert(*n) {
                self.chunk.push(ITEM_THREAD);
                put_varint(&mut self.chunk, u64::from(*n));
                match name {
                    None => put_varint(&mut self.chunk, 0),
                    Some(s) => {
                        put_varint(&mut self.chunk, s.len() as u64 + 1);
                        self.chunk.extend_from_slice(s.as_bytes());
                    }
                }
            }
        }
        self.defined.extend_from_slice(&self.chunk[from..]);
    }

    fn write_chunk(&mut self) {
        if self.chunk.is_empty() || self.broken {
            self.chunk.clear();
            return;
        }
        let threads = std::mem::take(&mut self.chunk_threads);
        let (chunk, events) = (&self.chunk, self.chunk_events);
        let written = lock(&self.file).write_chunk(chunk, events, threads);
        self.broken = !written;
        self.chunk.clear();
        self.chunk_events = 0;
        self.deltas = Deltas::default();
        self.repeat = std::mem::take(&mut self.defined);
    }
}

impl Writer {
    /// Writes the header, how ticks become nanoseconds in this run, unless another writer into
    /// the same file has: whether this one did.
    pub fn start(&mut self, cal: &Calibration) -> bool {
        let head = header(cal, self.flags);
        let broken = {
            let mut file = lock(&self.file);
            if file.headed {
                return false;
            }
            file.headed = true;
            file.bytes += head.len() as u64;
            if let Err(e) = file.out.write_all(&head) {
                file.broken = true;
                crate::config::warn(&format!(
                    "cannot write TRACE_RECORD={} ({e}); not recording",
                    file.path.display()
                ));
            }
            file.broken
        };
        self.broken = broken;
        true
    }

    /// Notes when and how this process's run began (`ITEM_RUN`): the wall clock now less the
    /// time since the first traced call, and the process's arguments, for readers that show or
    /// export them. A live run's alone: a recording rewritten from another has none of its own.
    pub fn run_began(&mut self, cal: &Calibration) {
        let since_first = cal.ns(crate::capture::clock::ticks());
        let unix_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        // It goes into the first chunk written, with the first names and events, so that a
        // chunk never holds it alone.
        let run = &mut self.run;
        run.push(ITEM_RUN);
        put_varint(run, unix_ns.saturating_sub(since_first));
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        put_varint(run, args.len() as u64);
        for a in &args {
            put_str(run, a);
        }
    }

    /// One raw record, in time order, with the tables as they stand: its sites and threads are
    /// defined before it.
    /// A frame's values (`values` as `Tables::add_values` gave it), before the event they go
    /// with.
    pub fn value(&mut self, thread: u32, id: u64, values: u32, tables: &Tables) {
        let Some(v) = (values as usize)
            .checked_sub(1)
            .and_then(|i| tables.values.get(i))
        else {
            return;
        };
        if self.broken {
            return;
        }
        self.define(tables);
        self.open_chunk();
        let c = &mut self.chunk;
        c.push(format::ITEM_VALUE);
        put_varint(c, u64::from(thread));
        put_varint(c, id & record::ID_MASK);
        match &v.result {
            Some(text) => {
                let error = if v.error { format::VALUE_ERROR } else { 0 };
                c.push(format::VALUE_RESULT | error);
                put_str(c, text);
            }
            None => {
                c.push(0);
                put_varint(c, v.args.len() as u64);
                for (name, text) in &v.args {
                    put_str(c, name);
                    put_str(c, text);
                }
            }
        }
    }

    pub fn raw(&mut self, raw: &Raw, tables: &Tables) {
        self.thread_run(std::slice::from_ref(raw), tables);
    }

    /// Records of one thread, in that thread's order: each as [`raw`](Self::raw) writes it,
    /// with what they share (the thread, its last frame id, the names) looked up once per
    /// chunk rather than per record.
    pub fn thread_run(&mut self, raws: &[Raw], tables: &Tables) {
        let Some(first) = raws.first() else {
            return;
        };
        let thread = first.thread;
        let mut rest = raws;
        while !rest.is_empty() && !self.broken {
            self.define(tables);
            self.open_chunk();
            // Never on a chunk's first event: a chunk decodes on its own.
            let mut same = thread == self.deltas.thread && self.chunk_events > 0;
            let mut at = Last {
                ts: self.deltas.ts,
                id: *last_id(&mut self.deltas.ids, thread),
            };
            let (mut taken, mut written) = (0, 0);
            for raw in rest {
                taken += 1;
                let Some(tag) = format::event_tag(raw.id, same) else {
                    // Capture makes no kind the format has no number for; one it may add is
                    // left out of the file until the format gives it a number.
                    continue;
                };
                put_event(&mut self.chunk, raw, tag, same, &mut at);
                same = true;
                written += 1;
                if self.chunk.len() >= CHUNK_BYTES {
                    break;
                }
            }
            rest = &rest[taken..];
            if written > 0 {
                // A run of one thread's events needs the set once.
                self.chunk_threads.insert(thread);
                self.deltas.thread = thread;
                self.deltas.ts = at.ts;
                *last_id(&mut self.deltas.ids, thread) = at.id;
                self.chunk_events += written;
            }
            if self.chunk.len() >= CHUNK_BYTES {
                self.write_chunk();
            }
        }
    }

    /// Says that this writer, collector `lane` of `lanes` of a run in thread order, has
    /// written every event its threads made before `ticks` (`ITEM_THROUGH`), unless nothing
    /// has gone into the file since it last said so. Written with the round's events, before
    /// the round's flush.
    pub fn written_through(&mut self, lane: usize, lanes: usize, ticks: u64) {
        if self.flags & THREAD_ORDER == 0 || self.broken {
            return;
        }
        let events = lock(&self.file).events + self.chunk_events;
        if self.through_at == Some(events) {
            return;
        }
        self.through_at = Some(events);
        self.open_chunk();
        let c = &mut self.chunk;
        c.push(ITEM_THROUGH);
        put_varint(c, lane as u64);
        put_varint(c, lanes as u64);
        put_varint(c, ticks);
    }

    /// The file written to.
    pub fn path(&self) -> std::path::PathBuf {
        lock(&self.file).path.clone()
    }

    /// Everything written so far, read back from the file (at most `max` bytes of it): for a
    /// running program that must decode what it recorded. `Err` says why it cannot be read,
    /// and what to run instead.
    pub fn written(&mut self, max: u64) -> Result<Vec<u8>, String> {
        use std::io::{Read, Seek};
        self.flush();
        let file = lock(&self.file);
        let shown = file.path.display();
        let later = format!("`cargo trace open {shown}` lists them once the run has ended");
        if file.broken {
            return Err(format!(
                "the recording TRACE_RECORD={shown} could not be written, so they cannot be listed"
            ));
        }
        let Some(mut reader) = file.reader.as_ref() else {
            return Err(format!(
                "TRACE_RECORD={shown} is not a regular file, so it cannot be read back: {later}"
            ));
        };
        let size = reader.metadata().map_or(0, |m| m.len());
        if size > max {
            return Err(format!(
                "the recording ({} MiB) is too large to read back in the program: {later}",
                size >> 20
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .seek(std::io::SeekFrom::Start(0))
            .and_then(|_| reader.take(size).read_to_end(&mut bytes))
            .map_err(|e| format!("cannot read TRACE_RECORD={shown} back ({e}): {later}"))?;
        Ok(bytes)
    }

    /// Writes the chunk being filled: the end of a collection round.
    pub fn flush(&mut self) {
        self.write_chunk();
        let flushed = lock(&self.file).flush();
        self.broken = !flushed;
    }

    /// The end of the run: the last names, the counted calls and the end item.
    pub fn finish(&mut self, end: &End<'_>) {
        self.define(end.tables);
        self.open_chunk();
        for &(site, calls) in end.counted {
            self.chunk.push(ITEM_COUNTED);
            put_varint(&mut self.chunk, u64::from(site));
            put_varint(&mut self.chunk, calls);
        }
        self.chunk.push(ITEM_END);
        put_varint(&mut self.chunk, end.ticks);
        put_varint(&mut self.chunk, end.skipped);
        self.flush();
        let file = lock(&self.file);
        if crate::config::get().verbose && file.events > 0 {
            crate::config::say(&format!(
                "recorded {} events in {} bytes ({:.1} bytes per event) to {}",
                file.events,
                file.bytes,
                file.bytes as f64 / file.events as f64,
                file.path.display()
            ));
        }
    }
}

/// What an event's deltas are taken from: the chunk's last ticks, the thread's last frame id.
struct Last {
    ts: u64,
    id: u64,
}

/// The most bytes an event takes: its tag, a thread number's varint, four 64-bit varints.
const EVENT_MAX: usize = 1 + 5 + 4 * 10;

/// One event's bytes, as `docs/recording.md` lays them out: its tag, its thread unless `same`
/// (on the thread of the event before it), then ticks, id, site and `aux` as the kind has it.
#[inline]
fn put_event(c: &mut Vec<u8>, raw: &Raw, tag: u8, same: bool, at: &mut Last) {
    format::put_in_room::<EVENT_MAX>(c, |c| {
        c.byte(tag);
        if !same {
            c.varint(u64::from(raw.thread));
        }
        c.varint(zigzag(raw.ts.wrapping_sub(at.ts) as i64));
        at.ts = raw.ts;
        let id = raw.id & record::ID_MASK;
        c.varint(zigzag(id.wrapping_sub(at.id) as i64));
        at.id = id;
        c.varint(u64::from(raw.site));
        match raw.id & record::KIND_MASK {
            record::ENTER | record::DECLARE | record::LINK => {
                c.varint(zigzag(id.wrapping_sub(raw.aux) as i64))
            }
            record::TASK => c.varint(raw.aux),
            _ => {
                if raw.id & record::ASYNC != 0 {
                    c.varint(raw.aux);
                }
            }
        }
    });
}

// The writer's tests read back what it wrote: both ends.
#[cfg(all(test, feature = "enable", feature = "read"))]
mod tests {
    use super::super::fixtures::{exits_v3, rewrite, starts, EXITS};
    use super::super::Recording;
    use super::*;
    use crate::collect::event::Values;

    #[test]
    fn the_writer_writes_chunks_that_read_back_whole() {
        let (whole, bytes) = exits_v3();
        assert_eq!(&bytes[8..10], &format::VERSION.to_le_bytes());
        assert_eq!(starts(&bytes).len(), 8, "7 chunks and the end");
        for &at in &starts(&bytes)[..7] {
            assert_eq!(bytes[at..at + 4], SYNC);
        }
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.raws, whole.raws);
        assert_eq!(rec.tables.sites, whole.tables.sites);
        assert_eq!(rec.tables.threads, whole.tables.threads);
        assert_eq!(rec.end, whole.end);
        assert_eq!(rec.cal, whole.cal);
    }

    #[test]
    fn the_writer_writes_the_bytes_of_format_version_6() {
        // `tests/data/exits-v6.trace` is EXITS as this writer wrote it in chunks of 8 events
        // when the format was made: any change to the bytes it writes is a format change.
        let checked_in: &[u8] = include_bytes!("../../../tests/data/exits-v6.trace");
        let whole = Recording::parse(EXITS).unwrap();
        assert_eq!(rewrite(&whole, 8), checked_in);
        let rec = Recording::parse(checked_in).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.raws, whole.raws);
    }

    /// What a reader says of a recording in thread order without its end and without any
    /// written-through item: all is read, and what cannot be vouched for is said.
    const UNFINISHED_IN_THREAD_ORDER: &str = "cut short: the run's end was not recorded (the process was killed); frames open then show as open\ncut short before its collectors said what they had written: each thread's last events may be from a later moment than another's";

    /// EXITS written as a run that only records writes it, by `lanes` collectors into one
    /// file: rounds at every 8th event's ticks, in which each collector writes each of its
    /// threads' new events a thread at a time, each enter with arguments and each exit with a
    /// result (naming the frame), then says it has written through the round before's start.
    /// Returns the bytes, where the first chunk to say so ends, and that first round's start.
    fn in_thread_order(whole: &Recording, lanes: usize) -> (Vec<u8>, usize, u64) {
        let buf = super::super::fixtures::Buf::default();
        let first = Writer::to(Box::new(buf.clone()), Path::new("t.trace")).in_thread_order();
        let mut writers: Vec<Writer> = (1..lanes).map(|_| first.share()).collect();
        writers.insert(0, first);
        writers[0].start(&whole.cal);
        let starts: Vec<u64> = whole.raws.iter().step_by(8).skip(1).map(|r| r.ts).collect();
        let mut tables = whole.tables.clone();
        let (mut written, mut previous, mut marked) = (0, None, None);
        for start in starts.iter().copied().chain([u64::MAX]) {
            for (lane, w) in writers.iter_mut().enumerate() {
                let mut threads: Vec<u32> = whole.tables.threads.keys().copied().collect();
                threads.retain(|t| *t as usize % lanes == lane);
                for t in threads {
                    let run = whole.raws[written..]
                        .iter()
                        .filter(|r| r.thread == t && r.ts < start);
                    for raw in run {
                        if let Some(v) = frame_value(raw) {
                            let v = tables.add_values(v);
                            w.value(t, raw.id, v, &tables);
                        }
                        w.raw(raw, &tables);
                    }
                }
                if let Some(through) = previous {
                    w.written_through(lane, lanes, through);
                    marked.get_or_insert(usize::MAX);
                }
                w.flush();
            }
            if marked == Some(usize::MAX) {
                marked = Some(buf.0.lock().unwrap().len());
            }
            written = whole.raws.partition_point(|r| r.ts < start);
            previous = Some(start);
        }
        let frames = crate::collect::decode::Decoder::new(whole.cal).frames;
        let (ticks, skipped) = whole.end.unwrap();
        writers[0].finish(&End {
            ticks,
            ts_ns: 0,
            frames: &frames,
            tables: &whole.tables,
            skipped,
            counted: &whole.counted,
            counts: None,
        });
        let bytes = buf.0.lock().unwrap().clone();
        (bytes, marked.unwrap(), starts[0])
    }

    /// The value `in_thread_order` gives an enter (its arguments) or an exit (its result): the
    /// frame's id, so that a reader's placing of it can be checked.
    fn frame_value(raw: &Raw) -> Option<Values> {
        let id: Box<str> = (raw.id & record::ID_MASK).to_string().into();
        match raw.id & record::KIND_MASK {
            record::ENTER | record::TASK => Some(Values {
                args: vec![("frame".into(), id)],
                ..Values::default()
            }),
            record::EXIT => Some(Values {
                result: Some(id),
                ..Values::default()
            }),
            _ => None,
        }
    }

    /// Cut anywhere past the first point every collector said it had written through, a
    /// recording in thread order reads back every thread up to the same moment: the events
    /// read are exactly the run's events up to some time, never one thread's later events
    /// without another's earlier ones (which would show a frame exiting before one it called).
    #[test]
    fn a_thread_order_recording_cut_anywhere_reads_back_every_thread_to_the_same_moment() {
        let whole = Recording::parse(EXITS).unwrap();
        let threads: Vec<u32> = whole.tables.threads.keys().copied().collect();
        assert!(threads.iter().any(|t| t % 2 == 0) && threads.iter().any(|t| t % 2 == 1));
        let key = |r: &Raw| (r.ts, r.thread, r.id);
        // Every enter and exit read has its value, fed before it; a value without its event is
        // only the one the byte cut itself may have parted from its event (the last item read).
        let values_placed = |rec: &Recording, at: usize| {
            let framed = rec.raws.iter().filter(|r| frame_value(r).is_some()).count();
            let mut parted = 0;
            for &(before, thread, id, v) in &rec.values {
                // Its thread's next event from where it is fed.
                let Some(raw) = rec.raws[before..].iter().find(|r| r.thread == thread) else {
                    parted += 1;
                    continue;
                };
                let want = frame_value(raw).unwrap();
                assert_eq!(raw.id & record::ID_MASK, id, "cut at byte {at}");
                assert_eq!(rec.tables.values.get(v as usize - 1), Some(&want));
            }
            assert!(
                parted <= 1,
                "cut at byte {at}: {parted} values without their events"
            );
            assert_eq!(rec.values.len() - parted, framed, "cut at byte {at}");
        };
        for lanes in [1, 2] {
            let (bytes, marked, first_round) = in_thread_order(&whole, lanes);
            let full = Recording::parse(&bytes).unwrap();
            assert_eq!(full.damage, None);
            assert!(full.thread_order);
            assert_eq!(
                full.raws, whole.raws,
                "{lanes} lanes: read back whole, in time order"
            );
            values_placed(&full, bytes.len());
            let (mut shortened, mut unknown) = (0, 0);
            for at in format::HEADER_LEN..bytes.len() {
                let rec = Recording::parse(&bytes[..at]).unwrap();
                let damage = rec.damage.clone().unwrap();
                if at < marked && damage.contains("may be from a later moment") {
                    // Not every collector has said what it wrote: read as it is.
                    unknown += 1;
                    continue;
                }
                let upto = rec.raws.iter().map(|r| r.ts).max().unwrap_or(0);
                let mut got: Vec<_> = rec.raws.iter().map(key).collect();
                let mut want: Vec<_> = whole
                    .raws
                    .iter()
                    .filter(|r| r.ts <= upto)
                    .map(key)
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{lanes} lanes, cut at byte {at}");
                values_placed(&rec, at);
                if at >= marked {
                    // Every collector said it wrote through the first round's start.
                    let before = whole.raws.partition_point(|r| r.ts < first_round);
                    assert!(got.len() >= before, "{lanes} lanes, cut at byte {at}");
                }
                if damage.contains("were left out") {
                    shortened += 1;
                }
            }
            assert!(shortened > 0, "{lanes} lanes: some cut left events out");
            assert!(
                unknown > 0,
                "{lanes} lanes: some cut came before a collector spoke"
            );
        }
    }

    #[test]
    fn version_5_still_reads() {
        // Version 6 only adds an item that recordings in time order never hold.
        let v5: &[u8] = include_bytes!("../../../tests/data/exits-v5.trace");
        let rec = Recording::parse(v5).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.raws, Recording::parse(EXITS).unwrap().raws);
    }

    #[test]
    fn version_4_still_reads() {
        // Version 5 only gives the reserved header field to flags: the same events come back.
        let v4: &[u8] = include_bytes!("../../../tests/data/exits-v4.trace");
        let rec = Recording::parse(v4).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.raws, Recording::parse(EXITS).unwrap().raws);
    }

    /// A recording written a thread at a time, as a run that only records writes it: each
    /// collection round of `per` events, thread by thread, with arguments before an enter of
    /// every thread, reads back in time order with each value before its own event.
    #[test]
    fn a_recording_in_thread_order_reads_back_in_time_order() {
        let whole = Recording::parse(EXITS).unwrap();
        let threads: std::collections::BTreeSet<u32> =
            whole.raws.iter().map(|r| r.thread).collect();
        assert!(threads.len() >= 2, "EXITS has events of several threads");
        let buf = super::super::fixtures::Buf::default();
        let mut w = Writer::to(Box::new(buf.clone()), Path::new("t.trace")).in_thread_order();
        w.start(&whole.cal);
        let mut tables = whole.tables.clone();
        // The first enter of each thread gets arguments naming its thread.
        let mut named = std::collections::BTreeSet::new();
        let mut with_args = Vec::new();
        for round in whole.raws.chunks(10) {
            for &t in &threads {
                for raw in round.iter().filter(|r| r.thread == t) {
                    if raw.id & record::KIND_MASK == record::ENTER && named.insert(t) {
                        let v = tables.add_values(Values {
                            args: vec![("thread".into(), t.to_string().into())],
                            ..Values::default()
                        });
                        w.value(t, raw.id, v, &tables);
                        with_args.push(*raw);
                    }
                    w.raw(raw, &tables);
                }
            }
            w.flush();
        }
        let bytes = buf.0.lock().unwrap().clone();
        assert_eq!(u16::from_le_bytes([bytes[10], bytes[11]]), THREAD_ORDER);
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(rec.damage.as_deref(), Some(UNFINISHED_IN_THREAD_ORDER));
        assert_eq!(rec.raws, whole.raws);
        assert_eq!(rec.values.len(), with_args.len());
        for ((before, thread, id, v), raw) in rec.values.iter().zip(&with_args) {
            assert_eq!(
                rec.raws[*before], *raw,
                "a value comes just before its enter"
            );
            assert_eq!((*thread, *id), (raw.thread, raw.id & record::ID_MASK));
            let args = &rec.tables.values.get(*v as usize - 1).unwrap().args;
            assert_eq!(args, &[("thread".into(), raw.thread.to_string().into())]);
        }
    }

    #[test]
    fn version_3_still_reads() {
        // `tests/data/exits-v3.trace`: EXITS as the version 3 writer wrote it. Version 4 only
        // adds an item, so the same events come back.
        let v3: &[u8] = include_bytes!("../../../tests/data/exits-v3.trace");
        let rec = Recording::parse(v3).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.raws, Recording::parse(EXITS).unwrap().raws);
        assert!(rec.values.is_empty());
    }

    /// The EXITS recording, and a writer that has started a recording of the same run into
    /// the buffer returned.
    fn started() -> (Recording, super::super::fixtures::Buf, Writer) {
        let whole = Recording::parse(EXITS).unwrap();
        let buf = super::super::fixtures::Buf::default();
        let mut w = Writer::to(Box::new(buf.clone()), std::path::Path::new("v.trace"));
        w.start(&whole.cal);
        (whole, buf, w)
    }

    #[test]
    fn values_are_written_before_their_event_and_read_back_in_place() {
        let (whole, buf, mut w) = started();
        let mut tables = whole.tables.clone();
        let args = tables.add_values(Values {
            args: vec![
                ("id".into(), "42".into()),
                ("key".into(), "\"user:7\"".into()),
            ],
            ..Values::default()
        });
        let err = tables.add_values(Values {
            result: Some("Err(NotFound)".into()),
            error: true,
            ..Values::default()
        });
        let (enter, exit) = (&whole.raws[1], &whole.raws[2]);
        w.value(enter.thread, enter.id, args, &tables);
        w.raw(enter, &tables);
        w.value(exit.thread, exit.id, err, &tables);
        w.raw(exit, &tables);
        w.flush();
        let bytes = buf.0.lock().unwrap().clone();
        let rec = Recording::parse(&bytes).unwrap();
        let id = enter.id & record::ID_MASK;
        assert_eq!(
            rec.values,
            [(0, enter.thread, id, 1), (1, exit.thread, id, 2)]
        );
        assert_eq!(rec.tables.values, tables.values);
    }

    /// A run stopped while a traced future waits ends with the arguments that follow its
    /// enter (recorded at its first poll): replayed, the enter has them, as it had live.
    #[test]
    fn arguments_after_the_last_event_reach_its_enter() {
        use crate::collect::decode::tests::Seen;
        let (whole, buf, mut w) = started();
        let mut tables = whole.tables.clone();
        let args = tables.add_values(Values {
            args: vec![("peer".into(), "\"10.0.0.2:80\"".into())],
            ..Values::default()
        });
        let enter = Raw {
            id: whole.raws[1].id | record::ARGS_FOLLOW,
            ..whole.raws[1]
        };
        w.raw(&enter, &tables);
        w.value(enter.thread, enter.id, args, &tables);
        w.flush();
        let bytes = buf.0.lock().unwrap().clone();
        let rec = Recording::parse(&bytes).unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        rec.replay(vec![Box::new(Seen(seen.clone()))]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].is_enter());
        let values = rec.tables.values(&seen[0]).expect("the enter's arguments");
        assert_eq!(values.args, [("peer".into(), "\"10.0.0.2:80\"".into())]);
    }

    /// Written a thread at a time: a future entered on thread 1, its arguments right after its
    /// enter, and finished on thread 2 before thread 1 records anything else. Read back, the
    /// arguments reach the enter before the exit (placed before thread 1's next event, they
    /// would come after the future had ended, and be lost).
    #[test]
    fn a_future_finished_elsewhere_keeps_the_arguments_that_followed_its_enter() {
        use crate::collect::decode::tests::Seen;
        let whole = Recording::parse(EXITS).unwrap();
        let buf = super::super::fixtures::Buf::default();
        let mut w = Writer::to(Box::new(buf.clone()), Path::new("f.trace")).in_thread_order();
        w.start(&whole.cal);
        let mut tables = whole.tables.clone();
        tables.threads.insert(2, None);
        let args = tables.add_values(Values {
            args: vec![("id".into(), "5".into())],
            ..Values::default()
        });
        let future = (1u64 << record::SEQ_BITS) + 7;
        let at = |thread, ts, id, site| Raw {
            thread,
            ts,
            id,
            site,
            aux: 0,
        };
        let enter = Raw {
            aux: 3,
            ..at(1, 10, future | record::TASK | record::ARGS_FOLLOW, 0)
        };
        w.thread_run(&[enter], &tables);
        w.value(1, future, args, &tables);
        w.thread_run(&[at(1, 100, (1 << record::SEQ_BITS) + 8, 1)], &tables);
        w.thread_run(&[at(2, 50, future | record::EXIT, 0)], &tables);
        w.flush();
        let bytes = buf.0.lock().unwrap().clone();
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(
            rec.raws.iter().map(|r| r.ts).collect::<Vec<_>>(),
            [10, 50, 100]
        );
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        rec.replay(vec![Box::new(Seen(seen.clone()))]);
        let seen = seen.lock().unwrap();
        assert!(seen[0].is_enter() && seen[0].id == future);
        let values = rec.tables.values(&seen[0]).expect("the future's arguments");
        assert_eq!(values.args, [("id".into(), "5".into())]);
        assert!(!seen[1].is_enter() && seen[1].id == future);
    }

    /// Written a thread at a time, a recording's events around a lost chunk bound no time
    /// (thread 1's come first in each chunk, at 100 ns and on; thread 2's after them, at 1000 ns
    /// and on): the damage note places the lost chunk by its own threads' events before and
    /// after it, and its events lie in that span.
    #[test]
    fn a_lost_chunk_in_thread_order_is_placed_in_time_by_its_threads() {
        let cal = Calibration {
            origin: 0,
            ns_per_tick: 1.0,
        };
        let mut tables = Tables::default();
        tables.sites.push("demo::f".into());
        tables.threads.insert(1, None);
        tables.threads.insert(2, None);
        let buf = super::super::fixtures::Buf::default();
        let mut w = Writer::to(Box::new(buf.clone()), Path::new("d.trace")).in_thread_order();
        w.start(&cal);
        let call = |thread: u32, n: u64, ts: u64| {
            let id = (u64::from(thread) << record::SEQ_BITS) + n;
            [
                Raw {
                    thread,
                    ts,
                    id: id | record::ENTER,
                    site: 0,
                    aux: 0,
                },
                Raw {
                    thread,
                    ts: ts + 5,
                    id: id | record::EXIT,
                    site: 0,
                    aux: 0,
                },
            ]
        };
        for round in 0..3u64 {
            w.thread_run(&call(1, round + 1, 100 + 10 * round), &tables);
            w.thread_run(&call(2, round + 1, 1000 + 10 * round), &tables);
            w.flush();
        }
        let mut bytes = buf.0.lock().unwrap().clone();
        let chunk = super::super::fixtures::starts(&bytes)[1];
        bytes[chunk + FRAME_V3 + 4] ^= 0x40;
        let rec = Recording::parse(&bytes).unwrap();
        let damage = rec.damage.unwrap();
        let line = damage
            .lines()
            .find(|l| l.contains("chunk 2"))
            .expect(&damage);
        assert!(
            line.contains("1 chunk of 4 events on [01], [02], between 105ns and 1.0µs;"),
            "{line}"
        );
    }

    /// Two writers into one file, as two collectors write it: their chunks interleave, each
    /// headed as it goes in (numbers and event counts running on across both), names given by
    /// both, and the file reads back whole.
    #[test]
    fn two_writers_share_one_file() {
        let whole = Recording::parse(EXITS).unwrap();
        let buf = super::super::fixtures::Buf::default();
        let mut a = Writer::to(Box::new(buf.clone()), Path::new("s.trace")).in_thread_order();
        let mut b = a.share();
        assert!(!b.start(&whole.cal) || !a.start(&whole.cal), "one header");
        let threads: std::collections::BTreeSet<u32> =
            whole.raws.iter().map(|r| r.thread).collect();
        for (i, round) in whole.raws.chunks(6).enumerate() {
            for &t in &threads {
                let run: Vec<Raw> = round.iter().filter(|r| r.thread == t).copied().collect();
                let w = if t % 2 == 0 { &mut a } else { &mut b };
                w.thread_run(&run, &whole.tables);
            }
            // The two flush in turn, one of them first each round.
            if i % 2 == 0 {
                a.flush();
                b.flush();
            } else {
                b.flush();
                a.flush();
            }
        }
        let bytes = buf.0.lock().unwrap().clone();
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(rec.damage.as_deref(), Some(UNFINISHED_IN_THREAD_ORDER));
        assert_eq!(rec.raws, whole.raws);
        assert_eq!(rec.tables.sites, whole.tables.sites);
        assert_eq!(rec.tables.threads, whole.tables.threads);
    }

    /// What a running program reads back of its recording: all of it when it may, else why
    /// not, with what to run instead.
    #[test]
    fn a_recording_is_read_back_whole_or_not_at_all() {
        let dir = std::env::temp_dir().join(format!("trace-readback-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.trace");
        let whole = Recording::parse(EXITS).unwrap();
        let mut w = Writer::create(&path).unwrap();
        w.start(&whole.cal);
        w.thread_run(&whole.raws[..10], &whole.tables);
        let bytes = w.written(1 << 20).unwrap();
        assert_eq!(Recording::parse(&bytes).unwrap().raws, whole.raws[..10]);
        let err = w.written(16).unwrap_err();
        assert!(
            err.contains("is too large to read back in the program: `cargo trace open"),
            "{err}"
        );
        // The path replaced by another file: what is read is what this writer wrote.
        std::fs::rename(&path, dir.join("moved.trace")).unwrap();
        std::fs::write(&path, b"not this").unwrap();
        assert_eq!(w.written(1 << 20).unwrap(), bytes);
        let mut device = Writer::create(Path::new("/dev/null")).unwrap();
        device.start(&whole.cal);
        let err = device.written(1 << 20).unwrap_err();
        assert_eq!(err, "TRACE_RECORD=/dev/null is not a regular file, so it cannot be read back: `cargo trace open /dev/null` lists them once the run has ended");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// One thread's recording in thread order is in time order already: read back as written,
    /// its arguments before their enter.
    #[test]
    fn one_threads_recording_in_thread_order_reads_as_written() {
        let whole = Recording::parse(EXITS).unwrap();
        let main = whole.raws[0].thread;
        let raws: Vec<Raw> = whole
            .raws
            .iter()
            .filter(|r| r.thread == main)
            .copied()
            .collect();
        let buf = super::super::fixtures::Buf::default();
        let mut w = Writer::to(Box::new(buf.clone()), Path::new("o.trace")).in_thread_order();
        w.start(&whole.cal);
        let mut tables = whole.tables.clone();
        let args = tables.add_values(Values {
            args: vec![("n".into(), "1".into())],
            ..Values::default()
        });
        w.thread_run(&raws[..1], &tables);
        w.value(main, raws[1].id, args, &tables);
        w.thread_run(&raws[1..], &tables);
        w.flush();
        let rec = Recording::parse(&buf.0.lock().unwrap()).unwrap();
        assert_eq!(rec.raws, raws);
        assert_eq!(rec.values, [(1, main, raws[1].id & record::ID_MASK, 1)]);
    }
}
