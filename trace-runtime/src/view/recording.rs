//! The binary recording (`TRACE_RECORD`): written by a view over the raw stream, read back by
//! the CLI into the same stream, so every view gives the same output from either. The format
//! is documented in `docs/recording.md`.
//!
//! A file is a header and then length-prefixed, checksummed chunks of items; a file cut short
//! is readable up to its last complete chunk.

use std::io::Write;
use std::path::Path;

use crate::capture::clock::Calibration;
use crate::capture::record;
use crate::collect::decode::{Consumer, Decoder, End};
use crate::collect::event::{Raw, Tables};

/// The first bytes of every recording.
pub const MAGIC: &[u8; 8] = b"TRACEREC";
/// The format version this code writes.
pub const VERSION: u16 = 2;
/// The oldest version this code reads: version 1 differs only in never holding a declaration.
pub const OLDEST: u16 = 1;
/// A chunk is written once its items reach this many bytes (and at every collection round).
const CHUNK_BYTES: usize = 64 * 1024;
/// Largest chunk a reader accepts: anything bigger is corruption.
const MAX_CHUNK: u32 = 64 << 20;

/// More threads than any run starts: a larger thread number in a recording is damage.
const MAX_THREADS: u64 = 1 << 24;

const ITEM_SITE: u8 = 0x01;
const ITEM_THREAD: u8 = 0x02;
const ITEM_END: u8 = 0x03;
/// Events: `0x80 | kind | unwinding << 3 | cancelled << 4 | async << 5 | same thread << 6`.
const ITEM_EVENT: u8 = 0x80;
const UNWINDING_BIT: u8 = 1 << 3;
const CANCELLED_BIT: u8 = 1 << 4;
const ASYNC_BIT: u8 = 1 << 5;
const SAME_THREAD: u8 = 1 << 6;

/// CRC-32 (IEEE), as zlib and PNG compute it, a byte at a time from a table.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc = CRC_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The CRC of each byte value, worked out at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

fn put_varint(buf: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// The last id written on `thread`, growing the table as threads appear.
fn last_id(ids: &mut Vec<u64>, thread: u32) -> &mut u64 {
    let at = thread as usize;
    if at >= ids.len() {
        ids.resize(at + 1, 0);
    }
    &mut ids[at]
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// What both ends keep to delta-encode events.
#[derive(Default)]
struct Deltas {
    ts: u64,
    thread: u32,
    /// The last frame id per thread, by thread number.
    ids: Vec<u64>,
}

/// Writes the recording of a live run.
pub struct Writer {
    out: Box<dyn Write + Send>,
    path: std::path::PathBuf,
    chunk: Vec<u8>,
    deltas: Deltas,
    sites_written: usize,
    threads_written: std::collections::BTreeSet<u32>,
    broken: bool,
    events: u64,
    bytes: u64,
}

/// The header: magic, version, then the calibration that turns ticks into nanoseconds.
fn header(cal: &Calibration) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&cal.origin.to_le_bytes());
    h.extend_from_slice(&cal.ns_per_tick.to_bits().to_le_bytes());
    h
}

const HEADER_LEN: usize = 8 + 2 + 2 + 8 + 8;

impl Writer {
    /// Creates the file and writes its header; an unusable path is an error the caller warns
    /// about.
    pub fn create(path: &Path) -> std::io::Result<Writer> {
        let file = std::fs::File::create(path)?;
        Ok(Writer {
            out: Box::new(std::io::BufWriter::with_capacity(CHUNK_BYTES * 2, file)),
            path: path.to_path_buf(),
            chunk: Vec::with_capacity(CHUNK_BYTES + 64),
            deltas: Deltas::default(),
            sites_written: 0,
            threads_written: Default::default(),
            broken: false,
            events: 0,
            bytes: 0,
        })
    }

    fn define(&mut self, tables: &Tables) {
        while self.sites_written < tables.sites.len() {
            self.chunk.push(ITEM_SITE);
            put_varint(&mut self.chunk, self.sites_written as u64);
            put_str(&mut self.chunk, &tables.sites[self.sites_written]);
            self.sites_written += 1;
        }
        if self.threads_written.len() < tables.threads.len() {
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
        }
    }

    fn write_chunk(&mut self) {
        if self.chunk.is_empty() || self.broken {
            self.chunk.clear();
            return;
        }
        let mut frame = Vec::with_capacity(8);
        frame.extend_from_slice(&(self.chunk.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32(&self.chunk).to_le_bytes());
        let result = self
            .out
            .write_all(&frame)
            .and_then(|_| self.out.write_all(&self.chunk));
        self.bytes += (frame.len() + self.chunk.len()) as u64;
        self.chunk.clear();
        if let Err(e) = result {
            self.broken = true;
            crate::config::warn(&format!(
                "cannot write TRACE_RECORD={} ({e}); the rest of the recording is dropped",
                self.path.display()
            ));
        }
    }
}

impl Consumer for Writer {
    fn start(&mut self, cal: &Calibration) {
        let head = header(cal);
        self.bytes += head.len() as u64;
        if let Err(e) = self.out.write_all(&head) {
            self.broken = true;
            crate::config::warn(&format!(
                "cannot write TRACE_RECORD={} ({e}); not recording",
                self.path.display()
            ));
        }
    }

    fn raw(&mut self, raw: &Raw, tables: &Tables) {
        if self.broken {
            return;
        }
        self.define(tables);
        let kind = ((raw.id & record::KIND_MASK) >> 56) as u8;
        let flags = raw.id & record::FLAG_MASK;
        let mut tag = ITEM_EVENT | kind;
        if flags & record::UNWINDING != 0 {
            tag |= UNWINDING_BIT;
        }
        if flags & record::CANCELLED != 0 {
            tag |= CANCELLED_BIT;
        }
        if flags & record::ASYNC != 0 {
            tag |= ASYNC_BIT;
        }
        let same = raw.thread == self.deltas.thread && self.events > 0;
        if same {
            tag |= SAME_THREAD;
        }
        let c = &mut self.chunk;
        c.push(tag);
        if !same {
            put_varint(c, u64::from(raw.thread));
            self.deltas.thread = raw.thread;
        }
        put_varint(c, zigzag(raw.ts.wrapping_sub(self.deltas.ts) as i64));
        self.deltas.ts = raw.ts;
        let id = raw.id & record::ID_MASK;
        let last = last_id(&mut self.deltas.ids, raw.thread);
        put_varint(c, zigzag(id.wrapping_sub(*last) as i64));
        *last = id;
        put_varint(c, u64::from(raw.site));
        match raw.id & record::KIND_MASK {
            record::ENTER | record::DECLARE | record::LINK => {
                put_varint(c, zigzag(id.wrapping_sub(raw.aux) as i64))
            }
            record::TASK => put_varint(c, raw.aux),
            _ => {
                if flags & record::ASYNC != 0 {
                    put_varint(c, raw.aux);
                }
            }
        }
        self.events += 1;
        if self.chunk.len() >= CHUNK_BYTES {
            self.write_chunk();
        }
    }

    fn flush(&mut self) {
        self.write_chunk();
        if !self.broken {
            let _ = self.out.flush();
        }
    }

    fn finish(&mut self, end: &End<'_>) {
        self.define(end.tables);
        self.chunk.push(ITEM_END);
        put_varint(&mut self.chunk, end.ticks);
        put_varint(&mut self.chunk, end.skipped);
        self.write_chunk();
        if !self.broken {
            let _ = self.out.flush();
        }
        if crate::config::get().verbose && self.events > 0 {
            crate::config::say(&format!(
                "recorded {} events in {} bytes ({:.1} bytes per event) to {}",
                self.events,
                self.bytes,
                self.bytes as f64 / self.events as f64,
                self.path.display()
            ));
        }
    }
}

/// A recording read back.
#[derive(Debug)]
pub struct Recording {
    pub cal: Calibration,
    pub raws: Vec<Raw>,
    pub tables: Tables,
    /// Ticks the run ended at and calls not traced, when the end was recorded.
    pub end: Option<(u64, u64)>,
    /// What was lost, when the file was cut short or damaged.
    pub damage: Option<String>,
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

/// Reads items from a chunk's bytes.
struct Items<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Items<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn bytes(&mut self, len: u64) -> Option<&[u8]> {
        let len = usize::try_from(len).ok()?;
        let end = self.at.checked_add(len)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn string(&mut self, len: u64) -> Option<Box<str>> {
        Some(String::from_utf8_lossy(self.bytes(len)?).into())
    }
}

impl Recording {
    /// Reads a recording file.
    pub fn open(path: &Path) -> Result<Recording, ReadError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ReadError(format!("{}: cannot read: {e}", path.display())))?;
        Recording::parse(&bytes).map_err(|e| ReadError(format!("{}: {}", path.display(), e.0)))
    }

    /// Reads a recording from its bytes.
    pub fn parse(bytes: &[u8]) -> Result<Recording, ReadError> {
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(ReadError(
                "not a trace recording (it does not start with TRACEREC); record one with TRACE_RECORD=PATH".into(),
            ));
        }
        if bytes.len() < HEADER_LEN {
            return Err(ReadError("the recording's header is cut short".into()));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if !(OLDEST..=VERSION).contains(&version) {
            return Err(ReadError(format!(
                "recording format version {version}; this build reads versions {OLDEST} to {VERSION}"
            )));
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let cal = Calibration {
            origin: word(12),
            ns_per_tick: f64::from_bits(word(20)),
        };
        if !(cal.ns_per_tick.is_finite() && cal.ns_per_tick > 0.0) {
            return Err(ReadError(
                "the recording's clock calibration is damaged".into(),
            ));
        }
        let mut rec = Recording {
            cal,
            raws: Vec::new(),
            tables: Tables::default(),
            end: None,
            damage: None,
        };
        let mut deltas = Deltas::default();
        let mut at = HEADER_LEN;
        let mut chunks = 0usize;
        while at < bytes.len() {
            let rest = bytes.len() - at;
            if rest < 8 {
                rec.damage = Some(format!(
                    "cut short: {rest} bytes after chunk {chunks} are not a whole chunk and were lost"
                ));
                break;
            }
            let len = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
            let crc = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
            if len > MAX_CHUNK {
                rec.damage = Some(format!(
                    "damaged at byte {at}: chunk {} claims {len} bytes; the rest ({rest} bytes) was not read",
                    chunks + 1
                ));
                break;
            }
            let body = at + 8;
            if bytes.len() - body < len as usize {
                rec.damage = Some(format!(
                    "cut short: the last chunk ({} of {len} bytes present) was lost",
                    bytes.len() - body
                ));
                break;
            }
            let payload = &bytes[body..body + len as usize];
            if crc32(payload) != crc {
                rec.damage = Some(format!(
                    "damaged at byte {at}: chunk {} fails its checksum; the rest ({rest} bytes) was not read",
                    chunks + 1
                ));
                break;
            }
            if let Err(what) = rec.items(payload, &mut deltas) {
                rec.damage = Some(format!(
                    "damaged at byte {at}: chunk {} holds {what}; the rest was not read",
                    chunks + 1
                ));
                break;
            }
            chunks += 1;
            at = body + len as usize;
        }
        if rec.damage.is_none() && rec.end.is_none() {
            rec.damage = Some(
                "cut short: the run's end was not recorded (the process was killed); frames open then show as open"
                    .into(),
            );
        }
        Ok(rec)
    }

    fn items(&mut self, payload: &[u8], deltas: &mut Deltas) -> Result<(), String> {
        let mut it = Items {
            bytes: payload,
            at: 0,
        };
        let bad = || "an unreadable item".to_string();
        while let Some(tag) = it.byte() {
            match tag {
                ITEM_SITE => {
                    let index = it.varint().ok_or_else(bad)?;
                    let len = it.varint().ok_or_else(bad)?;
                    let name = it.string(len).ok_or_else(bad)?;
                    if index != self.tables.sites.len() as u64 {
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
                    self.tables.threads.insert(n, name);
                }
                ITEM_END => {
                    let ticks = it.varint().ok_or_else(bad)?;
                    let skipped = it.varint().ok_or_else(bad)?;
                    self.end = Some((ticks, skipped));
                }
                t if t & ITEM_EVENT != 0 => {
                    let kind = u64::from(t & 7) << 56;
                    if kind > record::LINK {
                        return Err(format!("an event of unknown kind {}", t & 7));
                    }
                    let mut flags = 0;
                    if t & UNWINDING_BIT != 0 {
                        flags |= record::UNWINDING;
                    }
                    if t & CANCELLED_BIT != 0 {
                        flags |= record::CANCELLED;
                    }
                    if t & ASYNC_BIT != 0 {
                        flags |= record::ASYNC;
                    }
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
                        return Err(format!("an event of undefined site {site}"));
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

    /// Feeds the recording to views, as the live collector fed them during the run.
    pub fn replay(&self, consumers: &mut [Box<dyn Consumer>]) {
        let mut decoder = Decoder::new(self.cal);
        for raw in &self.raws {
            decoder.feed(raw, &self.tables, consumers);
        }
        for c in consumers.iter_mut() {
            c.flush();
        }
        let (ticks, skipped) = self
            .end
            .unwrap_or((self.raws.last().map_or(self.cal.origin, |r| r.ts), 0));
        let end = End {
            ticks,
            ts_ns: decoder.end_ns(ticks),
            frames: &decoder.frames,
            tables: &self.tables,
            skipped,
        };
        for c in consumers.iter_mut() {
            c.finish(&end);
            c.flush();
        }
    }
}

impl Recording {
    /// Replays the recording into one view and hands the view back, for views whose answer
    /// is read from their state rather than written to an output.
    pub fn replay_into<C: Consumer + 'static>(&self, view: C) -> C {
        let shared = std::sync::Arc::new(std::sync::Mutex::new(view));
        self.replay(&mut [Box::new(Shared(shared.clone())) as Box<dyn Consumer>]);
        match std::sync::Arc::try_unwrap(shared) {
            Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
            Err(_) => unreachable!("the replay dropped its handle"),
        }
    }
}

/// A view lent to a replay: the replay holds one handle, the caller the other.
struct Shared<C>(std::sync::Arc<std::sync::Mutex<C>>);

impl<C: Consumer> Consumer for Shared<C> {
    fn start(&mut self, cal: &Calibration) {
        self.lock().start(cal);
    }
    fn raw(&mut self, raw: &Raw, tables: &Tables) {
        self.lock().raw(raw, tables);
    }
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
    fn finish(&mut self, end: &End<'_>) {
        self.lock().finish(end);
    }
}

impl<C> Shared<C> {
    fn lock(&self) -> std::sync::MutexGuard<'_, C> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn foreign_and_short_files_are_clear_errors() {
        assert!(Recording::parse(b"PK\x03\x04 zip")
            .unwrap_err()
            .0
            .contains("not a trace recording"));
        let mut h = header(&Calibration {
            origin: 5,
            ns_per_tick: 0.5,
        });
        h.truncate(14);
        assert!(Recording::parse(&h)
            .unwrap_err()
            .0
            .contains("header is cut short"));
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for n in [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(n)), n);
            let mut b = Vec::new();
            put_varint(&mut b, zigzag(n));
            let mut it = Items { bytes: &b, at: 0 };
            assert_eq!(it.varint(), Some(zigzag(n)));
        }
    }

    /// A real recording: the `exits` demo, checked in.
    const EXITS: &[u8] = include_bytes!("../../tests/data/exits.trace");

    /// A chunk's framing around `payload`, as the writer frames it.
    fn chunk(payload: &[u8]) -> Vec<u8> {
        let mut c = (payload.len() as u32).to_le_bytes().to_vec();
        c.extend_from_slice(&crc32(payload).to_le_bytes());
        c.extend_from_slice(payload);
        c
    }

    fn head() -> Vec<u8> {
        header(&Calibration {
            origin: 0,
            ns_per_tick: 1.0,
        })
    }

    #[test]
    fn a_real_recording_reads_whole() {
        let rec = Recording::parse(EXITS).unwrap();
        assert_eq!(rec.damage, None);
        assert!(rec.end.is_some());
        assert_eq!(rec.raws.len(), 54);
        assert_eq!(&*rec.tables.sites[0], "exits::main");
        // Tasks moving between four workers.
        let rec = Recording::parse(include_bytes!("../../tests/data/tokio-multi.trace")).unwrap();
        assert_eq!(rec.damage, None);
        assert_eq!(rec.tables.threads.len(), 4);
    }

    #[test]
    fn a_cut_keeps_every_whole_chunk_and_says_what_was_lost() {
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
        assert!(rec.raws.len() <= whole.raws.len());
        assert_eq!(rec.raws[..], whole.raws[..rec.raws.len()]);
        let rec = Recording::parse(&EXITS[..HEADER_LEN + 5]).unwrap();
        assert_eq!(
            rec.damage.as_deref(),
            Some("cut short: 5 bytes after chunk 0 are not a whole chunk and were lost")
        );
        let rec = Recording::parse(&EXITS[..HEADER_LEN]).unwrap();
        assert!(rec.raws.is_empty());
        assert!(rec
            .damage
            .unwrap()
            .contains("the run's end was not recorded"));
    }

    #[test]
    fn a_flipped_byte_stops_reading_at_its_chunk() {
        let mut bytes = EXITS.to_vec();
        let at = HEADER_LEN + 8 + 3;
        bytes[at] ^= 0x40;
        let rec = Recording::parse(&bytes).unwrap();
        assert!(rec.raws.is_empty());
        assert_eq!(
            rec.damage.as_deref(),
            Some(format!("damaged at byte 28: chunk 1 fails its checksum; the rest ({} bytes) was not read", EXITS.len() - HEADER_LEN).as_str())
        );
    }

    #[test]
    fn hand_made_damage_is_described() {
        let cases: [(&[u8], &str); 4] = [
            (&[0x7f], "damaged at byte 28: chunk 1 holds an unknown item (tag 0x7f); the rest was not read"),
            (&[ITEM_SITE, 1, 1, b'a'], "damaged at byte 28: chunk 1 holds site 1 out of order; the rest was not read"),
            (&[ITEM_EVENT, 1, 2, 2, 0, 0], "damaged at byte 28: chunk 1 holds an event of undefined site 0; the rest was not read"),
            (&[ITEM_SITE, 0, 9, b'a'], "damaged at byte 28: chunk 1 holds an unreadable item; the rest was not read"),
        ];
        for (payload, want) in cases {
            let mut bytes = head();
            bytes.extend(chunk(payload));
            let rec = Recording::parse(&bytes).unwrap();
            assert_eq!(rec.damage.as_deref(), Some(want));
        }
        let mut bytes = head();
        bytes.extend_from_slice(&(MAX_CHUNK + 1).to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        let rec = Recording::parse(&bytes).unwrap();
        assert_eq!(
            rec.damage.as_deref(),
            Some("damaged at byte 28: chunk 1 claims 67108865 bytes; the rest (8 bytes) was not read")
        );
    }

    #[test]
    fn a_damaged_header_is_an_error() {
        let mut bytes = head();
        bytes[20..28].copy_from_slice(&f64::NAN.to_bits().to_le_bytes());
        assert_eq!(
            Recording::parse(&bytes).unwrap_err().0,
            "the recording's clock calibration is damaged"
        );
        let mut bytes = head();
        bytes[8] = 3;
        assert_eq!(
            Recording::parse(&bytes).unwrap_err().0,
            "recording format version 3; this build reads versions 1 to 2"
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// However a real recording is damaged, reading it returns (what it could read, or
        /// an error) and never panics; replaying what was read never panics either.
        #[test]
        fn damaged_recordings_never_panic(harms in proptest::collection::vec(harm(), 1..4)) {
            let mut bytes = EXITS.to_vec();
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
                let focus = crate::view::select::Selection {
                    focus: Some("recurse".into()),
                    exclude: vec!["exits::outer".into()],
                    max_depth: Some(3),
                    ..Default::default()
                };
                let trees = crate::view::trees::Trees::new(true, sink());
                views.push(Box::new(crate::view::select::Select::new(trees, focus)));
                views.push(Box::new(crate::view::open::AtEnd::default()));
                rec.replay(&mut views);
                rec.replay_into(crate::view::diff::Side::default()).profile(&rec.tables);
            }
        }
    }
}
