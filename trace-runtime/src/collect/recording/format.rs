//! What the writer and the reader of a recording agree on, each in one place: the magic and
//! versions, the header's layout, chunk framing, item tags, the recording's own numbers for
//! event kinds and flags, varints and the CRC. `docs/recording.md` describes the same bytes.
//!
//! An event's tag is built from the recording's own table, not from capture's bit layout: a
//! change to how `capture::record` packs kinds and flags into an id cannot change a file.

use crate::capture::clock::Calibration;
use crate::capture::record;

/// The first bytes of every recording.
pub const MAGIC: &[u8; 8] = b"TRACEREC";
/// The format version this code writes: 3 adds the header's checksum, each chunk's marker and
/// head, and chunks that decode on their own; 4 adds values (`ITEM_VALUE`) and the run's start and
/// command line (`ITEM_RUN`); 5 gives the header's reserved field to flags
/// ([`THREAD_ORDER`]); 6 adds what each collector has written through (`ITEM_THROUGH`).
pub const VERSION: u16 = 6;
/// Header flag (version 5 on): events are in their thread's order only, each collection
/// round's events a thread at a time, as a run that only records writes them; a reader
/// merges the threads by time. Without it, events are in time order.
pub const THREAD_ORDER: u16 = 1;
/// The oldest version this code reads: version 1 differs only in never holding a declaration.
pub const OLDEST: u16 = 1;
#[cfg(feature = "enable")]
/// A chunk is written once its items reach this many bytes (and at every collection round).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Largest chunk a reader accepts: anything bigger is corruption.
pub const MAX_CHUNK: u32 = 64 << 20;
/// The bytes every chunk starts with (version 3), for a reader to find the next chunk after a
/// damaged one.
pub const SYNC: [u8; 4] = [0xF7, b'c', b'h', b'k'];
/// A chunk's framing before its payload: marker (version 3), length, checksum.
pub const FRAME_V3: usize = 4 + 4 + 4;
/// A chunk's framing in versions 1 and 2: length, checksum.
pub const FRAME_V2: usize = 4 + 4;

/// More threads than any run starts: a larger thread number in a recording is damage.
pub const MAX_THREADS: u64 = 1 << 24;
/// More traced fns than any program has: a larger site index after a lost chunk is damage,
/// not a table of lost names to make.
pub const MAX_SITES: u64 = 1 << 20;

/// A site's name: index, then the name.
pub const ITEM_SITE: u8 = 0x01;
/// A thread's name: number, then the name's length plus 1 (0: no name), then the name.
pub const ITEM_THREAD: u8 = 0x02;
/// The run's end: ticks, then calls not traced.
pub const ITEM_END: u8 = 0x03;
/// A fn's calls counted instead of recorded (`TRACE_HOT`), before the end.
pub const ITEM_COUNTED: u8 = 0x04;
/// A frame's values, before the event they go with: thread, frame id, then a byte of flags
/// (`VALUE_RESULT`, `VALUE_ERROR`); a result's text, or the number of arguments then each
/// argument's name and text (strings: length, then UTF-8).
pub const ITEM_VALUE: u8 = 0x05;
/// The run, once, in the first chunk (version 4): the Unix time of the first traced call in
/// nanoseconds, then the command line (the number of arguments, then each one as a string).
pub const ITEM_RUN: u8 = 0x06;
/// In a recording in thread order (version 6): collector `lane` of `lanes` has written every
/// event its threads (those numbered `lane` mod `lanes`) made before `ticks`. A reader of a run
/// whose end was not recorded keeps the events before the earliest of the collectors' latest
/// such points, so that what it shows is the same moment on every thread.
pub const ITEM_THROUGH: u8 = 0x07;
/// Value flag: the values are the frame's result, not its arguments.
pub const VALUE_RESULT: u8 = 1;
/// Value flag: the result is an `Err`.
pub const VALUE_ERROR: u8 = 2;
/// Events: `0x80 | kind | unwinding << 3 | cancelled << 4 | async << 5 | same thread << 6`,
/// the kind by the recording's own numbers (`kind_number`).
pub const ITEM_EVENT: u8 = 0x80;
/// The tag bits that hold an event's kind number.
const KIND_BITS: u8 = 0x07;
/// Each flag a record's id may carry, and the tag bit that holds it: the flags keep their bits
/// whatever the kind (a declaration's `HOLD` is an exit's `UNWINDING` bit, a link's `ADOPT` its
/// `CANCELLED` bit).
const FLAG_BITS: [(u64, u8); 3] = [
    (record::UNWINDING, 1 << 3),
    (record::CANCELLED, 1 << 4),
    (record::ASYNC, 1 << 5),
];
/// The event is on the thread of the event before it in its chunk: no thread number follows.
pub const SAME_THREAD: u8 = 1 << 6;

/// The recording's number for a capture kind (`record::ENTER`, ...), as `docs/recording.md`
/// fixes it; `None` for a kind the format has no number for (a new kind needs one, and a new
/// format version, before it can be recorded).
#[cfg(feature = "enable")]
pub const fn kind_number(kind: u64) -> Option<u8> {
    Some(match kind {
        record::ENTER => 0,
        record::TASK => 1,
        record::EXIT => 2,
        record::DECLARE => 3,
        record::LINK => 4,
        _ => return None,
    })
}

/// The capture kind a recording's kind number stands for: the inverse of `kind_number`;
/// `None` for a number no version of the format has (damage).
pub fn record_kind(number: u8) -> Option<u64> {
    Some(match number {
        0 => record::ENTER,
        1 => record::TASK,
        2 => record::EXIT,
        3 => record::DECLARE,
        4 => record::LINK,
        _ => return None,
    })
}

/// An event's tag from its record's id (kind and flags; the frame id bits are ignored) and
/// whether it is on the thread of the event before it; `None` for a kind without a number.
#[cfg(feature = "enable")]
#[inline]
pub fn event_tag(id: u64, same_thread: bool) -> Option<u8> {
    // Kind and flags are the id's top byte: one lookup per event.
    match TAGS[(id >> 56) as usize] {
        0 => None,
        tag if same_thread => Some(tag | SAME_THREAD),
        tag => Some(tag),
    }
}

/// The tag (without `SAME_THREAD`) for each value of a record id's top byte, made at compile
/// time from `kind_number` and `FLAG_BITS`: 0 where the kind has no number.
#[cfg(feature = "enable")]
const TAGS: [u8; 256] = {
    // The lookup by top byte holds only while kind and flags are exactly that byte.
    assert!(record::KIND_MASK | record::FLAG_MASK == 0xff << 56);
    let mut tags = [0u8; 256];
    let mut top = 0;
    while top < 256 {
        let id = (top as u64) << 56;
        if let Some(kind) = kind_number(id & record::KIND_MASK) {
            let mut tag = ITEM_EVENT | kind;
            let mut f = 0;
            while f < FLAG_BITS.len() {
                if id & FLAG_BITS[f].0 != 0 {
                    tag |= FLAG_BITS[f].1;
                }
                f += 1;
            }
            tags[top] = tag;
        }
        top += 1;
    }
    tags
};

/// The capture kind and flags an event's tag holds, as a record's id spells them (the inverse
/// of `event_tag`, but for `SAME_THREAD`, which the caller reads); `Err` with the kind number
/// when the format has no such kind.
pub fn tag_event(tag: u8) -> Result<(u64, u64), u8> {
    let kind = record_kind(tag & KIND_BITS).ok_or(tag & KIND_BITS)?;
    let mut flags = 0;
    for (flag, bit) in FLAG_BITS {
        if tag & bit != 0 {
            flags |= flag;
        }
    }
    Ok((kind, flags))
}

/// CRC-32 (IEEE), as zlib and PNG compute it. Every chunk is checksummed as it is written and
/// read, so this runs over every byte of a recording twice: `crc32fast` folds sixteen bytes at
/// a time with carry-less multiplication where the processor has it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(bytes);
    h.finalize()
}

#[cfg(feature = "enable")]
/// Writes `n` seven bits at a time, low group first, the high bit set on every byte but the last.
pub fn put_varint(buf: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

#[cfg(feature = "enable")]
/// Room for `N` bytes reserved at the end of a byte vector, filled in order: the hot path
/// writes an event's bytes here, one capacity check per event instead of one per byte.
pub struct Room<'a, const N: usize> {
    bytes: &'a mut [std::mem::MaybeUninit<u8>; N],
    len: usize,
}

#[cfg(feature = "enable")]
impl<const N: usize> Room<'_, N> {
    /// Appends `b`; past `N` bytes it panics (a bound the caller gets wrong), never writes out
    /// of the room.
    #[inline(always)]
    pub fn byte(&mut self, b: u8) {
        self.bytes[self.len].write(b);
        self.len += 1;
    }

    /// Appends `n` as [`put_varint`] does.
    #[inline(always)]
    pub fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.byte((n as u8) | 0x80);
            n >>= 7;
        }
        self.byte(n as u8);
    }
}

#[cfg(feature = "enable")]
/// Appends to `buf` what `fill` writes into a [`Room`] of `N` bytes.
#[inline(always)]
pub fn put_in_room<const N: usize>(buf: &mut Vec<u8>, fill: impl FnOnce(&mut Room<'_, N>)) {
    buf.reserve(N);
    let len = buf.len();
    let bytes = (&mut buf.spare_capacity_mut()[..N])
        .try_into()
        .expect("N bytes were reserved");
    let mut room = Room { bytes, len: 0 };
    fill(&mut room);
    let written = room.len;
    // SAFETY: `Room` writes its bytes in order from the start of the spare capacity and counts
    // them, so the first `written` bytes after `len` are initialised; `written <= N`, which
    // `reserve` made room for.
    unsafe { buf.set_len(len + written) };
}

#[cfg(feature = "enable")]
/// A signed delta as an unsigned varint: small magnitudes, either sign, in few bytes.
pub fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

/// The inverse of `zigzag`.
pub fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

#[cfg(feature = "enable")]
/// A string: its length in bytes, then its bytes.
pub fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Reads varints, strings and bytes from a chunk's items, `None` past their end.
pub struct Items<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Items<'a> {
    /// Reads `bytes` from their start.
    pub fn new(bytes: &'a [u8]) -> Items<'a> {
        Items { bytes, at: 0 }
    }

    pub fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub fn varint(&mut self) -> Option<u64> {
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

    pub fn bytes(&mut self, len: u64) -> Option<&[u8]> {
        let len = usize::try_from(len).ok()?;
        let end = self.at.checked_add(len)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    pub fn string(&mut self, len: u64) -> Option<Box<str>> {
        Some(String::from_utf8_lossy(self.bytes(len)?).into())
    }
}

#[cfg(feature = "enable")]
/// The header: magic, version, flags, the calibration that turns ticks into nanoseconds, and the
/// CRC of those 28 bytes.
pub fn header(cal: &Calibration, flags: u16) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&cal.origin.to_le_bytes());
    h.extend_from_slice(&cal.ns_per_tick.to_bits().to_le_bytes());
    let crc = crc32(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

/// The header of versions 1 and 2: no checksum.
pub const HEADER_V2: usize = 8 + 2 + 2 + 8 + 8;
/// The header of version 3.
pub const HEADER_LEN: usize = HEADER_V2 + 4;

/// Names the header field byte `at` belongs to.
pub fn header_field(at: usize) -> &'static str {
    match at {
        0..=7 => "the magic `TRACEREC`",
        8..=9 => "the format version",
        10..=11 => "the flags",
        12..=19 => "`origin`, the clock's nanosecond 0",
        20..=27 => "`ns_per_tick`, the clock's rate",
        _ => "the header's checksum",
    }
}

/// The calibration a header's bytes hold (at least 28 of them).
pub fn calibration(h: &[u8]) -> Calibration {
    let word = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("8 bytes"));
    Calibration {
        origin: word(12),
        ns_per_tick: f64::from_bits(word(20)),
    }
}

/// Whether `h` starts with a header of version 3 or later whose checksum holds.
pub fn header_holds(h: &[u8]) -> bool {
    h.len() >= HEADER_LEN
        && &h[..8] == MAGIC
        && (3..=VERSION).contains(&u16::from_le_bytes([h[8], h[9]]))
        && crc32(&h[..HEADER_V2]).to_le_bytes() == h[HEADER_V2..HEADER_LEN]
}

// Both directions of each table, and the varints written and read back: both ends.
#[cfg(all(test, feature = "enable", feature = "read"))]
mod tests {
    use super::*;

    #[test]
    fn a_room_writes_the_varints_put_varint_writes_after_what_was_there() {
        let numbers = [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            u64::from(u32::MAX),
            u64::MAX,
        ];
        let mut pushed = vec![9u8];
        let mut roomed = vec![9u8];
        for n in numbers {
            put_varint(&mut pushed, n);
            put_in_room::<10>(&mut roomed, |r| r.varint(n));
        }
        put_in_room::<3>(&mut roomed, |r| (1..=3).for_each(|b| r.byte(b)));
        pushed.extend([1, 2, 3]);
        assert_eq!(roomed, pushed);
    }

    #[test]
    #[should_panic(expected = "index out of bounds")]
    fn a_room_refuses_a_byte_past_its_size() {
        put_in_room::<2>(&mut Vec::new(), |r| r.varint(u64::MAX));
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // Lengths with and without a remainder past the eight-byte words, and none at all.
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"12345678"), 0x9AE0_DAAF);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for n in [0i64, 1, -1, 63, -64, 1 << 40, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(n)), n);
            let mut b = Vec::new();
            put_varint(&mut b, zigzag(n));
            let mut it = Items::new(&b);
            assert_eq!(it.varint(), Some(zigzag(n)));
        }
    }

    /// Every capture kind, with the number `docs/recording.md` gives it.
    const KINDS: [(u64, u8); 5] = [
        (record::ENTER, 0),
        (record::TASK, 1),
        (record::EXIT, 2),
        (record::DECLARE, 3),
        (record::LINK, 4),
    ];

    #[test]
    fn every_kind_has_its_documented_number_both_ways() {
        for (kind, number) in KINDS {
            assert_eq!(kind_number(kind), Some(number));
            assert_eq!(record_kind(number), Some(kind));
        }
        for number in 5..=7 {
            assert_eq!(record_kind(number), None);
        }
        assert_eq!(kind_number(0xf << 56), None);
    }

    #[test]
    fn event_tags_hold_kind_and_flags_in_the_documented_bits() {
        let id = 0x1234 | record::EXIT | record::UNWINDING | record::ASYNC;
        assert_eq!(event_tag(id, false), Some(0x80 | 2 | 1 << 3 | 1 << 5));
        assert_eq!(
            event_tag(id, true),
            Some(0x80 | 2 | 1 << 3 | 1 << 5 | 1 << 6)
        );
        assert_eq!(
            event_tag(record::LINK | record::ADOPT, false),
            Some(0x80 | 4 | 1 << 4)
        );
        assert_eq!(
            event_tag(record::DECLARE | record::HOLD, false),
            Some(0x80 | 3 | 1 << 3)
        );
        assert_eq!(tag_event(0x80 | 7), Err(7));
        let flag_sets = [
            0,
            record::UNWINDING,
            record::CANCELLED,
            record::ASYNC,
            record::UNWINDING | record::CANCELLED | record::ASYNC,
        ];
        for (kind, _) in KINDS {
            for flags in flag_sets {
                for same in [false, true] {
                    let tag = event_tag(kind | flags | 99, same).unwrap();
                    assert_eq!(tag & SAME_THREAD != 0, same);
                    assert_eq!(tag_event(tag), Ok((kind, flags)));
                }
            }
        }
    }
}
