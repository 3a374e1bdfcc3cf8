//! Reads a recording back into the raw stream it was written from: the header (one flipped
//! bit put back), every chunk that checks out, a line for each damaged or missing stretch
//! saying what it held, and the replay that feeds the stream to views through the pipeline
//! (`collect/pipeline.rs`) the live collector fed them through.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::format::{
    self, calibration, crc32, header_field, header_holds, unzigzag, Items, FRAME_V2, FRAME_V3,
    HEADER_LEN, HEADER_V2, ITEM_COUNTED, ITEM_END, ITEM_EVENT, ITEM_SITE, ITEM_THREAD, MAGIC,
    MAX_CHUNK, MAX_SITES, MAX_THREADS, OLDEST, SAME_THREAD, SYNC, THREAD_ORDER, VERSION,
};
use super::{last_id, Deltas};
use crate::capture::clock::Calibration;
use crate::capture::record;
#[cfg(feature = "read")]
use crate::collect::decode::Consumer;
use crate::collect::event::{Raw, Tables, Values};
use crate::collect::pipeline::Pipeline;
use crate::units::count;

/// A recording read back.
#[derive(Debug)]
pub struct Recording {
    /// The header's clock calibration: ticks to nanoseconds.
    pub cal: Calibration,
    /// Every event read, in time order.
    pub raws: Vec<Raw>,
    /// Values, each fed before the raw record at its index: thread, frame id, and the
    /// values' place (`Tables::add_values`).
    pub values: Vec<(usize, u32, u64, u32)>,
    /// The names and chains the events refer to.
    pub tables: Tables,
    /// Ticks the run ended at and calls not traced, when the end was recorded.
    pub end: Option<(u64, u64)>,
    /// Calls counted instead of recorded (`TRACE_HOT`), per site index.
    pub counted: Vec<(u32, u64)>,
    /// What was lost or repaired, when the file was cut short or damaged: a line for each
    /// damaged stretch (and for a header bit put back), in file order.
    pub damage: Option<String>,
    /// When and how the run began (version 4 on; `None` before, or when its chunk was lost).
    pub run: Option<Run>,
    /// Written a thread at a time (`THREAD_ORDER`), and merged by time when read.
    pub thread_order: bool,
    /// What each collector said it had written through (`ITEM_THROUGH`): lane, lanes, ticks.
    pub through: Vec<(u64, u64, u64)>,
}

/// When and how a recorded run began.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The Unix time of the run's first traced call, in nanoseconds.
    pub start_unix_ns: u64,
    /// The process's command line: the program, then its arguments.
    pub args: Vec<String>,
}

/// Why a file cannot be read as a recording.
#[derive(Debug)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// What the header says: the version, its flags, the calibration, where the chunks start, and
/// what was wrong with it if that could be put right.
fn read_header(bytes: &[u8]) -> Result<(u16, u16, Calibration, usize, Option<String>), ReadError> {
    let mut repaired = None;
    if bytes.len() >= HEADER_LEN && !header_holds(bytes) {
        // One flipped bit is found and put back: at this length any two headers whose
        // checksums hold differ in at least 6 bits (CRC-32's Hamming distance up to 268
        // bits), so a header one bit away from a valid one is that one, damaged.
        let mut h = bytes[..HEADER_LEN].to_vec();
        for bit in 0..HEADER_LEN * 8 {
            h[bit / 8] ^= 1 << (bit % 8);
            if header_holds(&h) {
                repaired = Some((h, bit));
                break;
            }
            h[bit / 8] ^= 1 << (bit % 8);
        }
    }
    let (bytes, note) = match &repaired {
        Some((h, bit)) => (
            &h[..],
            Some(format!(
                "the header is damaged: bit {} of byte {} ({}) was flipped; the header's checksum located it and it was put back",
                bit % 8,
                bit / 8,
                header_field(bit / 8)
            )),
        ),
        None => (bytes, None),
    };
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(ReadError(
            "not a trace recording (it does not start with TRACEREC); record one with TRACE_RECORD=PATH".into(),
        ));
    }
    if bytes.len() < 10 {
        return Err(ReadError("the recording's header is cut short".into()));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if !(OLDEST..=VERSION).contains(&version) {
        return Err(ReadError(format!(
            "recording format version {version}; this build reads versions {OLDEST} to {VERSION}"
        )));
    }
    let len = if version >= 3 { HEADER_LEN } else { HEADER_V2 };
    if bytes.len() < len {
        return Err(ReadError("the recording's header is cut short".into()));
    }
    // Chunks of version 3 after a header that says 1 or 2: a flipped version bit, and more.
    let v3_follows = bytes.get(HEADER_LEN..HEADER_LEN + 4) == Some(&SYNC[..]);
    if (version >= 3 || v3_follows) && !header_holds(bytes) {
        return Err(ReadError(
            "the header is damaged: its checksum does not hold and more than one bit differs, so the clock calibration (`origin`, `ns_per_tick`) cannot be trusted, nor any duration computed from it; nothing was read".into(),
        ));
    }
    let cal = calibration(bytes);
    if !(cal.ns_per_tick.is_finite() && cal.ns_per_tick > 0.0) {
        return Err(ReadError(
            "the recording's clock calibration is damaged".into(),
        ));
    }
    // Before version 5 the field was reserved, and written 0.
    let flags = match version {
        5.. => u16::from_le_bytes([bytes[10], bytes[11]]),
        _ => 0,
    };
    if flags & !THREAD_ORDER != 0 {
        return Err(ReadError(format!(
            "the recording's header has flags {flags:#06x}, of which this build knows only {THREAD_ORDER:#06x} (thread order): it was written by a newer build"
        )));
    }
    Ok((version, flags, cal, len, note))
}

/// A chunk's payload, where the next chunk starts, and whether it had its marker.
struct Framed<'a> {
    payload: &'a [u8],
    next: usize,
    marked: bool,
}

/// Why no chunk could be read at some byte.
enum Bad {
    /// Fewer bytes than a chunk's framing.
    Short(usize),
    TooLong(u32),
    Cut {
        present: usize,
        len: u32,
    },
    Checksum,
}

/// The chunk at byte `at`. A version 3 chunk whose marker is damaged but whose length and
/// checksum hold is read: the marker only serves to find chunks after damage.
fn frame(bytes: &[u8], at: usize, v3: bool) -> Result<Framed<'_>, Bad> {
    let (head, marked) = if v3 {
        (FRAME_V3, bytes.get(at..at + 4) == Some(&SYNC[..]))
    } else {
        (FRAME_V2, true)
    };
    let rest = bytes.len() - at;
    if rest < head {
        return Err(Bad::Short(rest));
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let (len, crc) = (word(at + head - 8), word(at + head - 4));
    if len > MAX_CHUNK {
        return Err(Bad::TooLong(len));
    }
    let body = at + head;
    if bytes.len() - body < len as usize {
        return Err(Bad::Cut {
            present: bytes.len() - body,
            len,
        });
    }
    let payload = &bytes[body..body + len as usize];
    if crc32(payload) != crc {
        return Err(Bad::Checksum);
    }
    Ok(Framed {
        payload,
        next: body + len as usize,
        marked,
    })
}

/// The first byte at or after `from` where a whole chunk with its marker starts, looking at
/// each byte once; `budget` bounds the bytes checksummed for candidates that turn out false,
/// so a file full of false markers costs linear time (`None` with `budget` at 0: gave up).
fn resync(bytes: &[u8], from: usize, budget: &mut usize) -> Option<usize> {
    let mut p = from;
    while p + FRAME_V3 <= bytes.len() {
        let q = p + bytes[p..].windows(SYNC.len()).position(|w| w == SYNC)?;
        if q + FRAME_V3 > bytes.len() {
            return None;
        }
        let len = u32::from_le_bytes(bytes[q + 4..q + 8].try_into().expect("4 bytes"));
        if len <= MAX_CHUNK && bytes.len() - q - FRAME_V3 >= len as usize {
            if *budget < len as usize {
                *budget = 0;
                return None;
            }
            *budget -= len as usize;
            if frame(bytes, q, true).is_ok() {
                return Some(q);
            }
        }
        p = q + 1;
    }
    None
}

/// A version 3 chunk's head: its number, the events written before it, and the threads the
/// chunk before it held events of.
struct Head {
    seq: u64,
    events: u64,
    threads: Vec<u32>,
}

/// Bytes skipped between chunks that were read.
struct Gap {
    /// Where the damage starts and where reading resumed (the end of the file: never).
    start: usize,
    end: usize,
    why: String,
    /// The chunk read last before it, and the events written up to its end.
    seq: u64,
    counted: u64,
    /// How many events were read before it: the last one before, the first one after.
    before: usize,
    /// The head of the chunk after it.
    next: Option<Head>,
    /// The search for the next chunk met too many false markers.
    gave_up: bool,
    /// What to say if nothing after it could be read: the file was cut short there.
    cut: Option<String>,
}

/// A site's name while the item that named it is lost.
fn lost_site(index: usize) -> Box<str> {
    format!("<site {index}: name lost>").into()
}

/// The largest recording a running program reads back (at its end, or to list what is open):
/// reading holds every event in memory, about 32 bytes each.
#[cfg(feature = "enable")]
pub const READ_BACK_MAX: u64 = 16 << 20;

/// What `w` has written so far, read back: a run that only records decodes its recording
/// when it must say what is open. `Err` says why not, and what to run instead.
#[cfg(feature = "enable")]
pub fn read_back(w: &mut super::Writer) -> Result<Recording, String> {
    let bytes = w.written(READ_BACK_MAX)?;
    Recording::parse(&bytes).map_err(|e| format!("TRACE_RECORD={}: {e}", w.path().display()))
}

impl Recording {
    /// Reads a recording from its bytes: every chunk that checks out, and in `damage` a line
    /// for each stretch that did not.
    ///
    /// ```
    /// # use trace_runtime::read::recording::Recording;
    /// let err = Recording::parse(b"PK\x03\x04").unwrap_err();
    /// assert!(err.0.starts_with("not a trace recording"));
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Recording, ReadError> {
        let (version, flags, cal, start, header) = read_header(bytes)?;
        let mut rec = Recording {
            cal,
            raws: Vec::new(),
            values: Vec::new(),
            tables: Tables::default(),
            end: None,
            counted: Vec::new(),
            damage: None,
            run: None,
            thread_order: flags & THREAD_ORDER != 0,
            through: Vec::new(),
        };
        let mut notes: Vec<String> = header.into_iter().collect();
        let lost = if version >= 3 {
            rec.chunks(bytes, start, &mut notes)
        } else {
            rec.chunks_v2(bytes, start, &mut notes)
        };
        if !lost && rec.end.is_none() {
            notes.push(
                "cut short: the run's end was not recorded (the process was killed); frames open then show as open"
                    .into(),
            );
        }
        if rec.thread_order && rec.end.is_none() {
            if let Some(note) = rec.cut_where_written() {
                notes.push(note);
            }
        }
        rec.damage = (!notes.is_empty()).then(|| notes.join("\n"));
        if rec.thread_order {
            rec.merge_threads();
        }
        Ok(rec)
    }

    /// A run in thread order whose end was not recorded (killed, or its file cut short) holds,
    /// past some moment, one thread's events without another's: each collector wrote its
    /// threads' events as they came, a thread at a time, and what was still to be written is
    /// lost. Keeps the events before the earliest of the moments each collector said it had
    /// written through (`ITEM_THROUGH`), so that every thread is shown up to the same moment
    /// and no frame exits while one it called is left open; says what was left out. When a
    /// collector whose threads have events here has said nothing yet, no such moment is known:
    /// everything is kept, and that is said.
    fn cut_where_written(&mut self) -> Option<String> {
        let unknown = || {
            "cut short before its collectors said what they had written: each thread's last events may be from a later moment than another's".to_string()
        };
        let Some(lanes) = self.through.iter().map(|t| t.1).max() else {
            return (!self.raws.is_empty()).then(unknown);
        };
        // Each collector's latest word, and the collectors whose threads have events here
        // (one pass each: `lanes` comes from the file, and may be anything up to its bound).
        let mut latest: BTreeMap<u64, u64> = BTreeMap::new();
        for &(lane, _, ticks) in &self.through {
            let l = latest.entry(lane).or_insert(0);
            *l = (*l).max(ticks);
        }
        let busy: std::collections::BTreeSet<u64> = self
            .raws
            .iter()
            .map(|r| crate::collect::lane_of(u64::from(r.thread), lanes))
            .collect();
        if busy.iter().any(|lane| !latest.contains_key(lane)) {
            return Some(unknown());
        }
        // A collector that said it wrote through a moment but whose threads have no events
        // here bounds the cut too: its threads' events after that moment may be lost.
        let cut = latest.values().copied().min()?;
        // Each thread's events are in its own order, its ticks rising: those kept are the ones
        // before the cut up to the first that is not (a thread whose ticks went back keeps no
        // event after one it lost). A value goes with its frame's enter (arguments) or exit
        // (a result), and goes where that event goes.
        let mut lost_thread: std::collections::BTreeSet<u32> = Default::default();
        let mut lost_events: std::collections::BTreeSet<(u64, bool)> = Default::default();
        let mut kept_before = Vec::with_capacity(self.raws.len() + 1);
        let mut raws = Vec::with_capacity(self.raws.len());
        for raw in &self.raws {
            kept_before.push(raws.len());
            if raw.ts < cut && !lost_thread.contains(&raw.thread) {
                raws.push(*raw);
            } else {
                lost_thread.insert(raw.thread);
                // Declarations and links name other frames: only enters and exits own values.
                match raw.id & record::KIND_MASK {
                    record::ENTER | record::TASK => {
                        lost_events.insert((raw.id & record::ID_MASK, false));
                    }
                    record::EXIT => {
                        lost_events.insert((raw.id & record::ID_MASK, true));
                    }
                    _ => {}
                }
            }
        }
        kept_before.push(raws.len());
        let left = self.raws.len() - raws.len();
        let tables = &self.tables;
        self.values = std::mem::take(&mut self.values)
            .into_iter()
            .filter(|v| {
                // `v.3` is the place an event's `values` holds: the index plus 1.
                let result = (v.3 as usize)
                    .checked_sub(1)
                    .and_then(|i| tables.values.get(i))
                    .is_some_and(|x| x.result.is_some());
                !lost_events.contains(&(v.2 & record::ID_MASK, result))
            })
            .map(|(at, thread, id, values)| {
                (kept_before[at.min(self.raws.len())], thread, id, values)
            })
            .collect();
        self.raws = raws;
        (left > 0).then(|| {
            format!(
                "cut short: {} from {} on were left out: not every thread's events from then on were written before the run was killed, and every thread is shown up to the same moment",
                crate::units::count(left as u64, "event"),
                crate::units::duration_string(self.cal.ns(cut))
            )
        })
    }

    /// Puts the events of a recording written in each thread's order ([`THREAD_ORDER`]) in
    /// time order: merged by (ticks, thread), each thread's own order kept whatever its ticks,
    /// and each value moved to just after the event of its thread before it (before the
    /// thread's first event, if none came before): a value is recorded beside its event, right
    /// before it (arguments, a result) or right after it (a future's arguments, which must
    /// reach its enter before another thread may see the future end).
    fn merge_threads(&mut self) {
        // One thread's events (the common case of a hot single-threaded program) are in its
        // order already, each value beside its event.
        if let Some(first) = self.raws.first() {
            if self.raws.iter().all(|r| r.thread == first.thread) {
                return;
            }
        }
        let n = self.raws.len();
        // Each thread's events, by their place in the file.
        let mut threads: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, raw) in self.raws.iter().enumerate() {
            threads.entry(raw.thread).or_default().push(i);
        }
        // The next event of each thread, the oldest first: (ticks, thread, place in the
        // thread's list).
        let mut next: BinaryHeap<Reverse<(u64, u32, usize)>> = threads
            .iter()
            .map(|(&t, list)| Reverse((self.raws[list[0]].ts, t, 0)))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse((_, t, k))) = next.pop() {
            let list = &threads[&t];
            order.push(list[k]);
            if let Some(&i) = list.get(k + 1) {
                next.push(Reverse((self.raws[i].ts, t, k + 1)));
            }
        }
        let mut place = vec![0; n];
        for (merged, &i) in order.iter().enumerate() {
            place[i] = merged;
        }
        for v in &mut self.values {
            let (before, thread) = (v.0, v.1);
            v.0 = threads.get(&thread).map_or(n, |list| {
                let k = list.partition_point(|&i| i < before);
                match k.checked_sub(1) {
                    Some(prev) => place[list[prev]] + 1,
                    None => list.get(k).map_or(n, |&i| place[i]),
                }
            });
        }
        // Stable: values before the same event keep their order.
        self.values.sort_by_key(|v| v.0);
        self.raws = order.iter().map(|&i| self.raws[i]).collect();
    }

    /// Versions 1 and 2: a chunk continues the deltas of the one before, so reading stops at
    /// the first chunk that does not check out. Says whether anything was lost.
    fn chunks_v2(&mut self, bytes: &[u8], mut at: usize, notes: &mut Vec<String>) -> bool {
        let mut deltas = Deltas::default();
        let mut chunks = 0usize;
        while at < bytes.len() {
            let rest = bytes.len() - at;
            let n = chunks + 1;
            let f = match frame(bytes, at, false) {
                Ok(f) => f,
                Err(bad) => {
                    notes.push(match bad {
                        Bad::Short(rest) => format!(
                            "cut short: {rest} bytes after chunk {chunks} are not a whole chunk and were lost"
                        ),
                        Bad::TooLong(len) => format!(
                            "damaged at byte {at}: chunk {n} claims {len} bytes; the rest ({rest} bytes) was not read"
                        ),
                        Bad::Cut { present, len } => format!(
                            "cut short: the last chunk ({present} of {len} bytes present) was lost"
                        ),
                        Bad::Checksum => format!(
                            "damaged at byte {at}: chunk {n} fails its checksum; the rest ({rest} bytes) was not read"
                        ),
                    });
                    return true;
                }
            };
            if let Err(what) = self.chunk(f.payload, &mut deltas, false, false) {
                notes.push(format!(
                    "damaged at byte {at}: chunk {n} holds {what}; the rest was not read"
                ));
                return true;
            }
            chunks += 1;
            at = f.next;
        }
        false
    }

    /// Version 3: every chunk decodes on its own, so a damaged stretch is skipped to the next
    /// chunk that checks out, and said. Says whether anything was lost.
    fn chunks(&mut self, bytes: &[u8], mut at: usize, notes: &mut Vec<String>) -> bool {
        let mut seq = 0u64;
        let mut counted = 0u64;
        let mut gap: Option<Gap> = None;
        let mut gaps = Vec::new();
        let mut budget = bytes.len().saturating_mul(2).saturating_add(1 << 20);
        while at < bytes.len() {
            let open = |why: String, raws: usize| Gap {
                start: at,
                end: bytes.len(),
                why,
                seq,
                counted,
                before: raws,
                next: None,
                gave_up: false,
                cut: None,
            };
            let n = seq + 1;
            match frame(bytes, at, true) {
                Ok(f) => {
                    if !f.marked {
                        notes.push(format!(
                            "damaged at byte {at}: chunk {n}'s marker; its length and checksum hold, so it was read whole"
                        ));
                    }
                    let before = self.raws.len();
                    let lost = gap.is_some() || !gaps.is_empty();
                    match self.chunk(
                        f.payload,
                        &mut Deltas {
                            v3: true,
                            ..Deltas::default()
                        },
                        true,
                        lost,
                    ) {
                        Ok(Some(head)) => {
                            let counted_here = head.events + (self.raws.len() - before) as u64;
                            if gap.is_some() || head.seq != n {
                                let mut g = gap.take().unwrap_or_else(|| {
                                    open(format!("chunk {n} is missing"), before)
                                });
                                g.end = at;
                                seq = head.seq;
                                g.next = Some(head);
                                gaps.push(g);
                            } else {
                                seq = head.seq;
                            }
                            counted = counted_here;
                        }
                        Ok(None) => {}
                        Err(what) => {
                            gap.get_or_insert_with(|| {
                                open(format!("chunk {n} holds {what}"), before)
                            });
                        }
                    }
                    at = f.next;
                }
                Err(bad) => {
                    let marked = bytes.get(at..at + 4) == Some(&SYNC[..]);
                    let marker = if marked { "" } else { "has no marker and " };
                    // A marked chunk past the end of the file, opening the gap: if no chunk
                    // follows, the file was cut inside it.
                    let cut_inside = match bad {
                        Bad::Cut { present, len } if marked && gap.is_none() => {
                            Some((present, len))
                        }
                        _ => None,
                    };
                    let lost_before = !gaps.is_empty();
                    // A chunk past the end is a cut if no chunk follows, else damage.
                    let (why, cut) = match bad {
                        Bad::Short(rest) => (
                            format!("chunk {n} is cut short"),
                            Some(format!(
                                "cut short: {rest} bytes after chunk {seq} are not a whole chunk and were lost"
                            )),
                        ),
                        Bad::Cut { present, len } => (
                            format!("chunk {n} {marker}claims {len} bytes, past the end of the file"),
                            Some(format!(
                                "cut short: the last chunk ({present} of {len} bytes present) was lost"
                            )),
                        ),
                        Bad::TooLong(len) => (format!("chunk {n} {marker}claims {len} bytes"), None),
                        Bad::Checksum => (format!("chunk {n} {marker}fails its checksum"), None),
                    };
                    let g = gap.get_or_insert_with(|| Gap {
                        cut,
                        ..open(why, self.raws.len())
                    });
                    match resync(bytes, at + 1, &mut budget) {
                        Some(next) => at = next,
                        None => {
                            g.gave_up = budget == 0;
                            if let (Some((present, len)), false) = (cut_inside, g.gave_up) {
                                let read = self.cut_chunk(&bytes[at + FRAME_V3..], lost_before);
                                if read > 0 {
                                    g.cut = Some(format!(
                                        "cut short: the last chunk ({present} of {len} bytes present) was cut inside; its {read} whole events before the cut were read (its checksum, over the whole chunk, could not be checked)"
                                    ));
                                }
                            }
                            break;
                        }
                    }
                }
            }
        }
        gaps.extend(gap);
        let lost = !gaps.is_empty();
        for g in gaps {
            notes.push(self.describe(&g));
        }
        lost
    }

    /// What a gap lost, in a line: bytes, chunks, events, threads, and the time between the
    /// events read on either side.
    fn describe(&self, g: &Gap) -> String {
        let at = |i: Option<usize>| {
            i.and_then(|i| self.raws.get(i))
                .map(|r| crate::units::duration_string(self.cal.ns(r.ts)))
        };
        let after = at(g.before.checked_sub(1));
        let Some(head) = &g.next else {
            if let (Some(cut), false) = (&g.cut, g.gave_up) {
                return cut.clone();
            }
            return format!(
                "damaged at byte {}: {}; the rest ({} bytes) was skipped{}: what it held after {} (how many events, on which threads) is unknown",
                g.start,
                g.why,
                g.end - g.start,
                if g.gave_up { " (too many false chunk markers to search on)" } else { "" },
                after.as_deref().unwrap_or("the start"),
            );
        };
        let chunks = head.seq.saturating_sub(g.seq + 1);
        let events = head
            .events
            .checked_sub(g.counted)
            .map_or("an unknown number of events".to_string(), |e| {
                count(e, "event")
            });
        let mut threads = Vec::new();
        for &t in &head.threads {
            crate::units::label(&mut threads, t, self.tables.thread_name(t), 0);
            threads.extend_from_slice(b", ");
        }
        threads.truncate(threads.len().saturating_sub(2));
        let threads = String::from_utf8_lossy(&threads);
        let what = match chunks {
            0 => "no chunk was lost".to_string(),
            1 if threads.is_empty() => format!("1 chunk of {events}"),
            1 => format!("1 chunk of {events} on {threads}"),
            n if threads.is_empty() => format!("{n} chunks of {events}"),
            n => format!("{n} chunks of {events}, the last of them on {threads}"),
        };
        // Written a thread at a time, the events around the gap bound no time: the lost
        // chunks' threads do, by their last event before it and their first after it.
        let (after, next) = if self.thread_order && !head.threads.is_empty() {
            let (before, later) = self.raws.split_at(g.before.min(self.raws.len()));
            let last = |t: u32| before.iter().rev().find(|r| r.thread == t).map(|r| r.ts);
            let first = |t: u32| later.iter().find(|r| r.thread == t).map(|r| r.ts);
            let time = |ts: u64| crate::units::duration_string(self.cal.ns(ts));
            (
                head.threads.iter().filter_map(|&t| last(t)).min().map(time),
                head.threads
                    .iter()
                    .filter_map(|&t| first(t))
                    .max()
                    .map(time),
            )
        } else {
            (after, at(Some(g.before)))
        };
        let consequence = if chunks == 0 {
            String::new()
        } else {
            format!(
                "; calls that ended in {0} stay open, calls that began in {0} show as outermost calls of {1}",
                if chunks == 1 { "it" } else { "them" },
                crate::units::duration_string(0)
            )
        };
        format!(
            "damaged at byte {}: {}; skipped {} bytes to byte {}: {what}, between {} and {}{consequence}",
            g.start,
            g.why,
            g.end - g.start,
            g.end,
            after.as_deref().unwrap_or("the start"),
            next.as_deref().unwrap_or("the end"),
        )
    }

    /// Reads a chunk's payload, all or nothing: what it defined is undone when an item cannot
    /// be read. Version 3 chunks (`v3`) start with a head, handed back. `lost`: a chunk before
    /// it was lost, so sites it names may have been defined in what was lost.
    fn chunk(
        &mut self,
        payload: &[u8],
        deltas: &mut Deltas,
        v3: bool,
        lost: bool,
    ) -> Result<Option<Head>, String> {
        let (raws, values, sites, end, counted, through) = (
            self.raws.len(),
            (self.values.len(), self.tables.values.len()),
            self.tables.sites.len(),
            self.end,
            self.counted.len(),
            self.through.len(),
        );
        let mut threads = Vec::new();
        let mut it = Items::new(payload);
        let result = (|| {
            let head = if v3 { Some(head(&mut it)?) } else { None };
            self.items(&mut it, deltas, lost, &mut threads)?;
            Ok(head)
        })();
        if result.is_err() {
            self.raws.truncate(raws);
            self.values.truncate(values.0);
            self.tables.values.truncate(values.1);
            self.tables.sites.truncate(sites);
            for t in threads {
                self.tables.threads.remove(&t);
            }
            self.end = end;
            self.counted.truncate(counted);
            self.through.truncate(through);
        }
        result
    }

    /// Reads what a chunk the file was cut inside holds before the cut: its head, then every
    /// item whole before the cut (an item is added only once it was read whole, so the one the
    /// cut went through is left out). Says how many events it added.
    fn cut_chunk(&mut self, present: &[u8], lost: bool) -> usize {
        let before = self.raws.len();
        let mut it = Items::new(present);
        if head(&mut it).is_err() {
            return 0;
        }
        let mut deltas = Deltas {
            v3: true,
            ..Deltas::default()
        };
        // The error is the cut (or damage past what was read): what came before it stays.
        let _ = self.items(&mut it, &mut deltas, lost, &mut Vec::new());
        self.raws.len() - before
    }

    /// Reads a chunk's items after its head, adding them to the recording; `threads` gets the
    /// threads it defined, for the caller to undo.
    fn items(
        &mut self,
        it: &mut Items<'_>,
        deltas: &mut Deltas,
        lost: bool,
        threads: &mut Vec<u32>,
    ) -> Result<(), String> {
        let bad = || "an unreadable item".to_string();
        while let Some(tag) = it.byte() {
            match tag {
                ITEM_SITE => {
                    let index = it.varint().ok_or_else(bad)?;
                    let len = it.varint().ok_or_else(bad)?;
                    let name = it.string(len).ok_or_else(bad)?;
                    let known = self.tables.sites.len() as u64;
                    if index < known && deltas.v3 {
                        // Version 3 repeats a definition in the next chunk: it names a site
                        // whose first definition was lost, or says what was said.
                        let slot = &mut self.tables.sites[index as usize];
                        if *slot == lost_site(index as usize) {
                            *slot = name;
                        } else if *slot != name {
                            return Err(format!("site {index} named twice"));
                        }
                        continue;
                    }
                    if index > known && lost && index <= MAX_SITES {
                        // Defined in a lost chunk: named as lost until a repeat names it.
                        self.fill_sites(index);
                    } else if index != known {
                        return Err(format!("site {index} out of order"));
                    }
                    self.tables.sites.push(name);
                }
                ITEM_THREAD => {
                    let n = it.varint().ok_or_else(bad)?;
                    let len = it.varint().ok_or_else(bad)?;
                    let name = if len == 0 {
                        None
                    } else {
                        Some(it.string(len - 1).ok_or_else(bad)?)
                    };
                    let n = u32::try_from(n).map_err(|_| bad())?;
                    if self.tables.threads.insert(n, name).is_none() {
                        threads.push(n);
                    }
                }
                ITEM_COUNTED => {
                    let site = it.varint().ok_or_else(bad)?;
                    let calls = it.varint().ok_or_else(bad)?;
                    let site = u32::try_from(site)
                        .ok()
                        .filter(|s| (*s as usize) < self.tables.sites.len())
                        .ok_or_else(|| format!("calls counted of undefined site {site}"))?;
                    self.counted.push((site, calls));
                }
                format::ITEM_VALUE => {
                    let thread = it.varint().ok_or_else(bad)?;
                    let thread = u32::try_from(thread).map_err(|_| bad())?;
                    let id = it.varint().ok_or_else(bad)?;
                    let flags = it.byte().ok_or_else(bad)?;
                    let mut values = Values::default();
                    if flags & format::VALUE_RESULT != 0 {
                        let len = it.varint().ok_or_else(bad)?;
                        values.result = Some(it.string(len).ok_or_else(bad)?);
                        values.error = flags & format::VALUE_ERROR != 0;
                    } else {
                        let n = it.varint().ok_or_else(bad)?;
                        for _ in 0..n {
                            let len = it.varint().ok_or_else(bad)?;
                            let name = it.string(len).ok_or_else(bad)?;
                            let len = it.varint().ok_or_else(bad)?;
                            values.args.push((name, it.string(len).ok_or_else(bad)?));
                        }
                    }
                    let at = self.tables.add_values(values);
                    self.values.push((self.raws.len(), thread, id, at));
                }
                format::ITEM_RUN => {
                    let start_unix_ns = it.varint().ok_or_else(bad)?;
                    let n = it.varint().ok_or_else(bad)?;
                    let mut args = Vec::new();
                    for _ in 0..n {
                        let len = it.varint().ok_or_else(bad)?;
                        args.push(it.string(len).ok_or_else(bad)?.into());
                    }
                    self.run = Some(Run {
                        start_unix_ns,
                        args,
                    });
                }
                ITEM_END => {
                    let ticks = it.varint().ok_or_else(bad)?;
                    let skipped = it.varint().ok_or_else(bad)?;
                    self.end = Some((ticks, skipped));
                }
                format::ITEM_THROUGH => {
                    let lane = it.varint().ok_or_else(bad)?;
                    let lanes = it.varint().ok_or_else(bad)?;
                    let ticks = it.varint().ok_or_else(bad)?;
                    if lane >= lanes || lanes > MAX_THREADS {
                        return Err(format!("collector {lane} of {lanes}"));
                    }
                    self.through.push((lane, lanes, ticks));
                }
                t if t & ITEM_EVENT != 0 => {
                    let (kind, flags) = format::tag_event(t)
                        .map_err(|n| format!("an event of unknown kind {n}"))?;
                    if t & SAME_THREAD == 0 {
                        let n = it.varint().ok_or_else(bad)?;
                        // Threads are numbered from 1 as they start: a number past any real
                        // run's is damage, not a table to grow to.
                        if n > MAX_THREADS {
                            return Err(format!("an event of thread {n}"));
                        }
                        deltas.thread = n as u32;
                    }
                    let thread = deltas.thread;
                    let dts = unzigzag(it.varint().ok_or_else(bad)?);
                    deltas.ts = deltas.ts.wrapping_add(dts as u64);
                    let last = last_id(&mut deltas.ids, thread);
                    let did = unzigzag(it.varint().ok_or_else(bad)?);
                    *last = last.wrapping_add(did as u64) & record::ID_MASK;
                    let id = *last;
                    let site = u32::try_from(it.varint().ok_or_else(bad)?).map_err(|_| bad())?;
                    if site as usize >= self.tables.sites.len() {
                        if !lost || u64::from(site) > MAX_SITES {
                            return Err(format!("an event of undefined site {site}"));
                        }
                        self.fill_sites(u64::from(site) + 1);
                    }
                    let aux = match kind {
                        record::ENTER | record::DECLARE | record::LINK => {
                            id.wrapping_sub(unzigzag(it.varint().ok_or_else(bad)?) as u64)
                        }
                        record::TASK => it.varint().ok_or_else(bad)?,
                        _ if flags & record::ASYNC != 0 => it.varint().ok_or_else(bad)?,
                        _ => 0,
                    };
                    self.raws.push(Raw {
                        thread,
                        ts: deltas.ts,
                        id: id | kind | flags,
                        site,
                        aux,
                    });
                }
                other => return Err(format!("an unknown item (tag {other:#x})")),
            }
        }
        Ok(())
    }

    /// Names sites up to `index` (not included) as lost.
    fn fill_sites(&mut self, index: u64) {
        while (self.tables.sites.len() as u64) < index.min(MAX_SITES) {
            let n = self.tables.sites.len();
            self.tables.sites.push(lost_site(n));
        }
    }

    /// Feeds the recording to views through the pipeline the live collector fed them through
    /// during the run.
    #[cfg(feature = "read")]
    pub fn replay(&self, views: Vec<Box<dyn Consumer>>) {
        let mut pipeline = Pipeline::new(views);
        self.feed(&mut pipeline);
        let (ticks, skipped) = self.end_and_skipped();
        pipeline.finish(&self.tables, ticks, skipped, &self.counted);
    }

    /// The frames open after the recording's last event (with its `tables`, which they point
    /// into).
    #[cfg(feature = "enable")]
    pub fn frames_at_end(&self) -> crate::collect::frames::Frames {
        let mut pipeline = Pipeline::new(Vec::new());
        self.feed(&mut pipeline);
        pipeline.into_frames()
    }

    /// Every event and value, in order, into `pipeline`, and a flush.
    fn feed(&self, pipeline: &mut Pipeline) {
        pipeline.start(self.cal);
        let mut values = self.values.iter().peekable();
        for (i, raw) in self.raws.iter().enumerate() {
            while let Some(&(_, thread, id, at)) = values.next_if(|v| v.0 <= i) {
                pipeline.value(thread, id, at, &self.tables);
            }
            pipeline.feed(raw, &self.tables);
        }
        // Values after the last event: an async fn's arguments follow its enter, and a run
        // stopped while it waited ends with them.
        for &(_, thread, id, at) in values {
            pipeline.value(thread, id, at, &self.tables);
        }
        pipeline.flush();
    }

    /// The ticks the run ended at and the calls it did not trace: as recorded, or for a run
    /// whose end was not recorded its last event and none.
    #[cfg(feature = "read")]
    fn end_and_skipped(&self) -> (u64, u64) {
        self.end
            .unwrap_or((self.raws.last().map_or(self.cal.origin, |r| r.ts), 0))
    }

    /// How long the run lasted, from its first traced call to its end, in nanoseconds.
    #[cfg(feature = "read")]
    pub fn length_ns(&self) -> u64 {
        self.cal.ns(self.end_and_skipped().0)
    }
}

#[cfg(feature = "read")]
impl Recording {
    /// Replays the recording into one view and hands the view back, for views whose answer
    /// is read from their state rather than written to an output.
    pub fn replay_into<C: Consumer + 'static>(&self, view: C) -> C {
        let shared = std::sync::Arc::new(std::sync::Mutex::new(view));
        self.replay(vec![Box::new(Shared(shared.clone()))]);
        match std::sync::Arc::try_unwrap(shared) {
            Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
            Err(_) => unreachable!("the replay dropped its handle"),
        }
    }
}

/// A view lent to a replay: the replay holds one handle, the caller the other.
#[cfg(feature = "read")]
struct Shared<C>(std::sync::Arc<std::sync::Mutex<C>>);

#[cfg(feature = "read")]
impl<C: Consumer> Consumer for Shared<C> {
    fn event(
        &mut self,
        event: &crate::collect::event::Event,
        ctx: &crate::collect::decode::Ctx<'_>,
    ) {
        self.lock().event(event, ctx);
    }
    fn flush(&mut self) {
        self.lock().flush();
    }
    fn finish(&mut self, end: &crate::collect::decode::End<'_>) {
        self.lock().finish(end);
    }
}

#[cfg(feature = "read")]
impl<C> Shared<C> {
    fn lock(&self) -> std::sync::MutexGuard<'_, C> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads a version 3 chunk's head.
fn head(it: &mut Items<'_>) -> Result<Head, String> {
    let bad = || "an unreadable head".to_string();
    let seq = it.varint().ok_or_else(bad)?;
    let events = it.varint().ok_or_else(bad)?;
    let n = it.varint().ok_or_else(bad)?;
    let mut threads = Vec::new();
    for _ in 0..n {
        // Each number takes a byte at least: a damaged count ends at the payload's end.
        let t = it.varint().ok_or_else(bad)?;
        if t > MAX_THREADS {
            return Err(format!("a head naming thread {t}"));
        }
        threads.push(t as u32);
    }
    if seq == 0 {
        return Err("a head numbered 0".into());
    }
    Ok(Head {
        seq,
        events,
        threads,
    })
}

// The reader's tests read what the writer wrote, damaged: both ends.
#[cfg(all(test, feature = "enable", feature = "read"))]
mod tests {
    use super::super::fixtures::{chunk, exits_v3, head, starts, time, EXITS};
    use super::super::format::header;
    use super::*;

    #[test]
    fn a_header_flag_this_build_does_not_know_is_refused() {
        let mut h = header(
            &Calibration {
                origin: 0,
                ns_per_tick: 1.0,
            },
            THREAD_ORDER | 4,
        );
        h.extend_from_slice(&chunk(&[1, 0, 0]));
        assert_eq!(
            Recording::parse(&h).unwrap_err().0,
            "the recording's header has flags 0x0005, of which this build knows only 0x0001 (thread order): it was written by a newer build"
        );
    }

    #[test]
    fn foreign_and_short_files_are_clear_errors() {
        assert!(Recording::parse(b"PK\x03\x04 zip")
            .unwrap_err()
            .0
            .contains("not a trace recording"));
        let mut h = header(
            &Calibration {
                origin: 5,
                ns_per_tick: 0.5,
            },
            0,
        );
        h.truncate(14);
        assert!(Recording::parse(&h)
            .unwrap_err()
            .0
            .contains("header is cut short"));
        let mut h = head();
        h[8] = 9;
        assert_eq!(
            Recording::parse(&h).unwrap_err().0,
            "recording format version 9; this build reads versions 1 to 6"
        );
    }

    #[test]
    fn a_real_recording_reads_whole() {
        let rec = Recording::parse(EXITS).unwrap();
        assert_eq!(rec.damage, None);
        assert!(rec.end.is_some());
        assert_eq!(rec.raws.len(), 54);
        assert_eq!(&*rec.tables.sites[0], "exits::main");
        // Tasks moving between four workers.
        let rec =
            Recording::parse(include_bytes!("../../../tests/data/tokio-multi.trace")).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.tables.threads.len(), 4);
    }

    #[test]
    fn one_flipped_header_bit_is_located_and_put_back() {
        let (whole, bytes) = exits_v3();
        let fields = [
            (0, "the magic `TRACEREC`"),
            (8, "the format version"),
            (10, "the flags"),
            (14, "`origin`, the clock's nanosecond 0"),
            (27, "`ns_per_tick`, the clock's rate"),
            (30, "the header's checksum"),
        ];
        for (byte, field) in fields {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[byte] ^= 1 << bit;
                let rec = Recording::parse(&damaged).unwrap();
                assert_eq!(
                    rec.damage.as_deref(),
                    Some(format!("the header is damaged: bit {bit} of byte {byte} ({field}) was flipped; the header's checksum located it and it was put back").as_str())
                );
                assert_eq!(rec.cal, whole.cal);
                assert_eq!(rec.raws, whole.raws);
            }
        }
        // Every bit of the header, not only the ones named above.
        for bit in 0..HEADER_LEN * 8 {
            let mut damaged = bytes.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                Recording::parse(&damaged).unwrap().cal,
                whole.cal,
                "bit {bit}"
            );
        }
    }

    #[test]
    fn two_flipped_header_bits_are_refused_never_misread() {
        let (whole, bytes) = exits_v3();
        for a in 0..HEADER_LEN * 8 {
            for b in a + 1..HEADER_LEN * 8 {
                let mut damaged = bytes.clone();
                damaged[a / 8] ^= 1 << (a % 8);
                damaged[b / 8] ^= 1 << (b % 8);
                match Recording::parse(&damaged) {
                    // A flip in the magic reads as a foreign file, one in the version as
                    // another version; any other pair is refused by the checksum.
                    Err(e) => assert!(
                        e.0.starts_with("the header is damaged: its checksum does not hold")
                            || (a < 64 && e.0.starts_with("not a trace recording"))
                            || ((64..80).contains(&a)
                                && e.0.starts_with("recording format version")),
                        "bits {a}, {b}: {}",
                        e.0
                    ),
                    Ok(rec) => panic!("bits {a}, {b} read as {:?}", rec.cal),
                }
            }
        }
        let _ = whole;
        let mut damaged = bytes.clone();
        damaged[14] ^= 1;
        damaged[22] ^= 4;
        assert_eq!(
            Recording::parse(&damaged).unwrap_err().0,
            "the header is damaged: its checksum does not hold and more than one bit differs, so the clock calibration (`origin`, `ns_per_tick`) cannot be trusted, nor any duration computed from it; nothing was read"
        );
    }

    #[test]
    fn a_flip_in_the_site_table_loses_its_events_but_no_name() {
        let (whole, bytes) = exits_v3();
        let s = starts(&bytes);
        let mut damaged = bytes.clone();
        // Chunk 1 starts with its head, then the names of the first sites and threads, which
        // chunk 2 repeats.
        damaged[s[0] + FRAME_V3 + 5] ^= 0x10;
        let rec = Recording::parse(&damaged).unwrap();
        assert_eq!(rec.raws[..], whole.raws[8..]);
        assert_eq!(rec.tables.sites, whole.tables.sites);
        assert_eq!(rec.tables.threads, whole.tables.threads);
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!(
                "damaged at byte 32: chunk 1 fails its checksum; skipped {} bytes to byte {}: 1 chunk of 8 events on [01 main], between the start and {}; calls that ended in it stay open, calls that began in it show as outermost calls of 0ns",
                s[1] - s[0], s[1], time(&whole, 8)
            ).as_str())
        );
    }

    #[test]
    fn a_flip_in_a_middle_chunk_loses_that_chunk_only() {
        let (whole, bytes) = exits_v3();
        let s = starts(&bytes);
        for at in [s[3] + 4, s[3] + 6, s[3] + 9, s[3] + 30, s[4] - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x04;
            let len = u32::from_le_bytes(damaged[s[3] + 4..s[3] + 8].try_into().unwrap());
            let rec = Recording::parse(&damaged).unwrap();
            let mut want = whole.raws[..24].to_vec();
            want.extend_from_slice(&whole.raws[32..]);
            assert_eq!(rec.raws, want, "flip at {at}");
            assert_eq!(rec.end, whole.end);
            assert_eq!(rec.tables.sites, whole.tables.sites);
            assert_eq!(rec.tables.threads, whole.tables.threads);
            // A length grown past the file's end is not taken for a cut: chunks follow.
            let why = if at == s[3] + 6 {
                format!("claims {len} bytes, past the end of the file")
            } else {
                "fails its checksum".to_string()
            };
            assert_eq!(
                rec.damage.as_deref(),
                Some(format!(
                    "damaged at byte {}: chunk 4 {why}; skipped {} bytes to byte {}: 1 chunk of 8 events on [01 main], between {} and {}; calls that ended in it stay open, calls that began in it show as outermost calls of 0ns",
                    s[3], s[4] - s[3], s[4], time(&whole, 23), time(&whole, 32)
                ).as_str()),
                "flip at {at}"
            );
        }
    }

    #[test]
    fn a_flip_in_the_last_chunk_loses_it_and_says_what_is_unknown() {
        let (whole, bytes) = exits_v3();
        let s = starts(&bytes);
        let mut damaged = bytes.clone();
        damaged[s[6] + 20] ^= 0x80;
        let rec = Recording::parse(&damaged).unwrap();
        assert_eq!(rec.raws[..], whole.raws[..48]);
        assert_eq!(rec.end, None);
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!(
                "damaged at byte {}: chunk 7 fails its checksum; the rest ({} bytes) was skipped: what it held after {} (how many events, on which threads) is unknown",
                s[6], bytes.len() - s[6], time(&whole, 47)
            ).as_str())
        );
    }

    #[test]
    fn a_flipped_marker_loses_nothing_and_garbage_between_chunks_loses_no_chunk() {
        let (whole, bytes) = exits_v3();
        let s = starts(&bytes);
        let mut damaged = bytes.clone();
        damaged[s[2] + 1] ^= 0x01;
        let rec = Recording::parse(&damaged).unwrap();
        assert_eq!(rec.raws, whole.raws);
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!("damaged at byte {}: chunk 3's marker; its length and checksum hold, so it was read whole", s[2]).as_str())
        );
        let mut damaged = bytes.clone();
        damaged.splice(s[2]..s[2], *b"junk!");
        let rec = Recording::parse(&damaged).unwrap();
        assert_eq!(rec.raws, whole.raws);
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!(
                "damaged at byte {}: chunk 3 has no marker and claims {} bytes; skipped 5 bytes to byte {}: no chunk was lost, between {} and {}",
                s[2], u32::from_le_bytes(*b"!\xF7ch"), s[2] + 5, time(&whole, 15), time(&whole, 16)
            ).as_str())
        );
    }

    #[test]
    fn two_lost_chunks_in_a_row_are_one_gap() {
        let (whole, bytes) = exits_v3();
        let s = starts(&bytes);
        let mut damaged = bytes.clone();
        damaged[s[1] + 20] ^= 1;
        damaged[s[2] + 20] ^= 1;
        let rec = Recording::parse(&damaged).unwrap();
        assert_eq!(rec.raws[..8], whole.raws[..8]);
        assert_eq!(rec.raws[8..], whole.raws[24..]);
        // The names chunk 2 defined, and chunk 3 repeated, are lost.
        let sites: Vec<Box<str>> = (0..whole.tables.sites.len())
            .map(|i| {
                let first = whole.raws.iter().position(|r| r.site as usize == i);
                if (8..16).contains(&first.unwrap()) {
                    format!("<site {i}: name lost>").into()
                } else {
                    whole.tables.sites[i].clone()
                }
            })
            .collect();
        assert!(sites.iter().any(|s| s.starts_with("<site")));
        assert_eq!(rec.tables.sites, sites);
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!(
                "damaged at byte {}: chunk 2 fails its checksum; skipped {} bytes to byte {}: 2 chunks of 16 events, the last of them on [01 main], [02 diverges], between {} and {}; calls that ended in them stay open, calls that began in them show as outermost calls of 0ns",
                s[1], s[3] - s[1], s[3], time(&whole, 7), time(&whole, 24)
            ).as_str())
        );
    }

    #[test]
    fn a_cut_anywhere_keeps_every_whole_event_before_it() {
        let (whole, bytes) = exits_v3();
        let s = starts(&bytes);
        let chunks = s.len() - 1;
        // Per chunk, the cuts at which one more event became readable.
        let mut steps = vec![Vec::new(); chunks];
        let mut read_before = 0;
        for cut in HEADER_LEN..=bytes.len() {
            let rec = Recording::parse(&bytes[..cut]).unwrap();
            let n = rec.raws.len();
            // Always the run's first events, in order, never a made-up one.
            assert_eq!(rec.raws[..], whole.raws[..n], "cut at {cut}");
            // One byte more gives at most one event more, never fewer.
            assert!(n == read_before || n == read_before + 1, "cut at {cut}");
            let whole_chunks = s.iter().filter(|&&b| b <= cut).count() - 1;
            // Every event of the chunks wholly before the cut: 8 each.
            assert!(n >= 8 * whole_chunks.min(chunks - 1), "cut at {cut}");
            if n > read_before {
                // The chunk whose bytes the event's last byte is in.
                let k = s.iter().filter(|&&b| b < cut).count() - 1;
                steps[k].push(cut);
            }
            read_before = n;
            if cut == bytes.len() {
                assert_eq!(rec.damage, None);
                assert_eq!(n, whole.raws.len());
                break;
            }
            assert_eq!(rec.end, None);
            let inside = cut - s[whole_chunks];
            let len = s[whole_chunks + 1] - s[whole_chunks] - FRAME_V3;
            let in_chunk = n - 8 * whole_chunks;
            let want = if inside == 0 {
                "cut short: the run's end was not recorded (the process was killed); frames open then show as open".to_string()
            } else if inside < FRAME_V3 {
                format!("cut short: {inside} bytes after chunk {whole_chunks} are not a whole chunk and were lost")
            } else if in_chunk == 0 {
                format!(
                    "cut short: the last chunk ({} of {len} bytes present) was lost",
                    inside - FRAME_V3
                )
            } else {
                format!(
                    "cut short: the last chunk ({} of {len} bytes present) was cut inside; its {in_chunk} whole events before the cut were read (its checksum, over the whole chunk, could not be checked)",
                    inside - FRAME_V3
                )
            };
            assert_eq!(rec.damage.as_deref(), Some(want.as_str()), "cut at {cut}");
        }
        // Each event became readable inside its own chunk, before the chunk was whole: 8 in
        // each chunk, 6 in the last (54 events); an event is at least 4 bytes.
        let held: Vec<usize> = steps.iter().map(Vec::len).collect();
        assert_eq!(held, [8, 8, 8, 8, 8, 8, 6]);
        for (k, cuts) in steps.iter().enumerate() {
            assert!(cuts.iter().all(|&c| c > s[k] + FRAME_V3 && c <= s[k + 1]));
            assert!(cuts.windows(2).all(|w| w[1] - w[0] >= 4), "{cuts:?}");
        }
        // Cut inside the header: an error.
        assert_eq!(
            Recording::parse(&bytes[..HEADER_LEN - 1]).unwrap_err().0,
            "the recording's header is cut short"
        );
    }

    #[test]
    fn false_markers_cost_a_bounded_search() {
        // 2,000 false starts each claiming 60,000 of the bytes after them: checking every one
        // would checksum 120 MB; the search gives up at its budget instead.
        let mut bytes = head();
        bytes.extend(chunk(&[1, 0, 0, ITEM_SITE, 0, 1, b'a']));
        bytes.extend_from_slice(&[0xFF; 12]);
        for _ in 0..2000 {
            bytes.extend_from_slice(&SYNC);
            bytes.extend_from_slice(&60_000u32.to_le_bytes());
            bytes.extend_from_slice(&[0; 4]);
        }
        bytes.extend(vec![0; 60_000]);
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(&*rec.tables.sites[0], "a");
        let damage = rec.damage.unwrap();
        assert!(
            damage.starts_with("damaged at byte 51: chunk 2 has no marker and claims 4294967295 bytes; the rest (")
                && damage.contains("was skipped (too many false chunk markers to search on): what it held after the start"),
            "{damage}"
        );
    }

    #[test]
    fn version_2_stops_at_its_first_damage() {
        let whole = Recording::parse(EXITS).unwrap();
        // The last chunk holds the END item: cut into it.
        let rec = Recording::parse(&EXITS[..EXITS.len() - 1]).unwrap();
        assert!(rec.end.is_none());
        let damage = rec.damage.unwrap();
        assert!(
            damage.starts_with("cut short: the last chunk (")
                && damage.ends_with("bytes present) was lost"),
            "{damage}"
        );
        assert_eq!(rec.raws[..], whole.raws[..rec.raws.len()]);
        let rec = Recording::parse(&EXITS[..HEADER_V2 + 5]).unwrap();
        assert_eq!(
            rec.damage.as_deref(),
            Some("cut short: 5 bytes after chunk 0 are not a whole chunk and were lost")
        );
        let mut bytes = EXITS.to_vec();
        bytes[HEADER_V2 + 8 + 3] ^= 0x40;
        let rec = Recording::parse(&bytes).unwrap();
        assert!(rec.raws.is_empty());
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!("damaged at byte 28: chunk 1 fails its checksum; the rest ({} bytes) was not read", EXITS.len() - HEADER_V2).as_str())
        );
        let mut bytes = EXITS.to_vec();
        bytes[20..28].copy_from_slice(&f64::NAN.to_bits().to_le_bytes());
        assert_eq!(
            Recording::parse(&bytes).unwrap_err().0,
            "the recording's clock calibration is damaged"
        );
    }

    #[test]
    fn hand_made_damage_is_described_and_skipped() {
        // Chunk 2 is read after each damaged chunk 1: it defines site 1 and enters it.
        let second = chunk(&[2, 1, 0, ITEM_SITE, 1, 1, b'b', ITEM_EVENT, 1, 2, 2, 1, 0]);
        let cases: [(&[u8], &str); 5] = [
            (&[1, 0, 0, 0x7f], "chunk 1 holds an unknown item (tag 0x7f)"),
            (
                &[1, 0, 0, ITEM_SITE, 1, 1, b'a'],
                "chunk 1 holds site 1 out of order",
            ),
            (
                &[1, 0, 0, ITEM_EVENT, 1, 2, 2, 0, 0],
                "chunk 1 holds an event of undefined site 0",
            ),
            (
                &[1, 0, 0, ITEM_SITE, 0, 9, b'a'],
                "chunk 1 holds an unreadable item",
            ),
            (&[0, 0, 0], "chunk 1 holds a head numbered 0"),
        ];
        for (payload, why) in cases {
            let mut bytes = head();
            bytes.extend(chunk(payload));
            let at = bytes.len();
            bytes.extend(&second);
            let rec = Recording::parse(&bytes).unwrap();
            assert_eq!(
                rec.damage.as_deref(),
                Some(format!("damaged at byte 32: {why}; skipped {} bytes to byte {at}: 1 chunk of 1 event, between the start and 1ns; calls that ended in it stay open, calls that began in it show as outermost calls of 0ns", at - 32).as_str())
            );
            assert_eq!(rec.raws.len(), 1);
            assert_eq!(
                rec.tables.sites,
                vec!["<site 0: name lost>".into(), "b".into()]
            );
        }
        let mut bytes = head();
        bytes.extend_from_slice(&SYNC);
        bytes.extend_from_slice(&(MAX_CHUNK + 1).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(
            rec.damage.as_deref(),
            Some("damaged at byte 32: chunk 1 claims 67108865 bytes; the rest (12 bytes) was skipped: what it held after the start (how many events, on which threads) is unknown")
        );
    }
}
