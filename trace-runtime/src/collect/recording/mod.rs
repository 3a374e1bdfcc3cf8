//! The binary recording (`TRACE_RECORD`), at the collection layer: the raw stream of records,
//! before any decoding, written by `write::Writer` (with `enable`) and read back by the CLI into
//! the same stream by `read::Recording` (with `read`), so every view gives the same output from
//! either. It is no view: it keeps nothing decoded, and views read what it gives back. The
//! format (`format`) is documented in `docs/recording.md`.
//!
//! A file is a checksummed header and then marked, length-prefixed, checksummed chunks of
//! items. Each chunk (version 3) decodes on its own, so a reader skips a damaged one, finds the
//! next by its marker and says what the skipped bytes held; a file cut short is readable up to
//! its last whole event.

pub mod format;
pub mod read;
#[cfg(feature = "enable")]
pub mod write;

#[cfg(feature = "enable")]
pub use read::read_back;
#[cfg(feature = "read")]
pub use read::ReadError;
pub use read::Recording;
#[cfg(feature = "enable")]
pub use write::Writer;

/// What both ends keep to delta-encode events.
#[derive(Default)]
struct Deltas {
    /// Reading version 3, whose chunks repeat the definitions of the chunk before.
    v3: bool,
    ts: u64,
    thread: u32,
    /// The last frame id per thread, by thread number.
    ids: Vec<u64>,
}

/// The last id written on `thread`, growing the table as threads appear.
fn last_id(ids: &mut Vec<u64>, thread: u32) -> &mut u64 {
    let at = thread as usize;
    if at >= ids.len() {
        ids.resize(at + 1, 0);
    }
    &mut ids[at]
}

/// Recordings for the tests of both ends: written by the writer, read by the reader.
#[cfg(all(test, feature = "enable", feature = "read"))]
pub(crate) mod fixtures {
    use std::io::Write;
    use std::path::Path;

    use super::format::{crc32, header, FRAME_V3, HEADER_LEN, SYNC};
    use super::{Recording, Writer};
    use crate::capture::clock::Calibration;
    use crate::collect::decode::{Decoder, End};
    use crate::collect::event::Tables;

    /// A real recording: the `exits` demo, checked in (version 2).
    pub(crate) const EXITS: &[u8] = include_bytes!("../../../tests/data/exits.trace");

    /// A version 3 chunk's framing around `payload`, as the writer frames it.
    pub(crate) fn chunk(payload: &[u8]) -> Vec<u8> {
        let mut c = SYNC.to_vec();
        c.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        c.extend_from_slice(&crc32(payload).to_le_bytes());
        c.extend_from_slice(payload);
        c
    }

    pub(crate) fn head() -> Vec<u8> {
        header(
            &Calibration {
                origin: 0,
                ns_per_tick: 1.0,
            },
            0,
        )
    }

    /// A buffer the writer writes into and the test reads.
    #[derive(Clone, Default)]
    pub(crate) struct Buf(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// `rec` written again by the writer, with a collection round every `per` events and the
    /// tables growing as in the live run (a site or thread is defined before its first event).
    pub(crate) fn rewrite(rec: &Recording, per: usize) -> Vec<u8> {
        let buf = Buf::default();
        let mut w = Writer::to(Box::new(buf.clone()), Path::new("test.trace"));
        w.start(&rec.cal);
        let mut grown = Tables::default();
        for (i, raw) in rec.raws.iter().enumerate() {
            while grown.sites.len() <= raw.site as usize {
                grown
                    .sites
                    .push(rec.tables.sites[grown.sites.len()].clone());
            }
            if let Some(name) = rec.tables.threads.get(&raw.thread) {
                grown.threads.entry(raw.thread).or_insert(name.clone());
            }
            w.raw(raw, &grown);
            if (i + 1) % per == 0 {
                w.flush();
            }
        }
        let frames = Decoder::new(rec.cal).frames;
        let (ticks, skipped) = rec.end.expect("a finished run");
        w.finish(&End {
            ticks,
            ts_ns: 0,
            frames: &frames,
            tables: &rec.tables,
            skipped,
            counted: &rec.counted,
            counts: None,
        });
        let bytes = buf.0.lock().unwrap().clone();
        bytes
    }

    /// Where each chunk of a version 3 recording starts, walking the lengths, and the end.
    pub(crate) fn starts(bytes: &[u8]) -> Vec<usize> {
        let mut at = HEADER_LEN;
        let mut starts = vec![];
        while at < bytes.len() {
            starts.push(at);
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
            at += FRAME_V3 + len as usize;
        }
        starts.push(at);
        starts
    }

    /// EXITS (54 events) written by the writer in chunks of 8 events: 7 chunks.
    pub(crate) fn exits_v3() -> (Recording, Vec<u8>) {
        let whole = Recording::parse(EXITS).unwrap();
        let bytes = rewrite(&whole, 8);
        (whole, bytes)
    }

    /// The time of event `i` as the damage report says it.
    pub(crate) fn time(rec: &Recording, i: usize) -> String {
        crate::units::duration_string(rec.cal.ns(rec.raws[i].ts))
    }
}
