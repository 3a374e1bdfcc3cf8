//! The 32-byte record a traced call writes on its thread: what happened, to which frame, when.
//! Nothing is formatted or looked up here; the collector decodes records later.

#[cfg(feature = "enable")]
/// One event as captured. Layout (all little-endian machine words):
/// - `ts`: raw clock ticks when it happened;
/// - `id`: the frame's id (low 56 bits) with the kind (bits 56..60) and flags (bits 60..64);
/// - `site`: the traced fn's `&'static Site` as an address;
/// - `aux`: by kind: `ENTER` the parent frame's id (0 for none), `TASK` the task number,
///   `EXIT` the ticks spent inside polls (async frames only), `DECLARE` the declared frame's
///   parent, `LINK` the id of the frame that created the root (spawned its task or thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Rec {
    pub ts: u64,
    pub id: u64,
    pub site: usize,
    pub aux: u64,
}

/// A frame entered inside another (or at the top of a thread: parent 0).
pub const ENTER: u64 = 0;
/// A traced future's first poll outside any traced future: the root of a new task.
pub const TASK: u64 = 1 << 56;
/// A frame's end.
pub const EXIT: u64 = 2 << 56;
/// A frame of the chain that spawned a task or thread, which the collector may no longer know
/// (it may have exited since): its site and parent, so chains can cross the spawn.
pub const DECLARE: u64 = 3 << 56;
/// A root frame (a task's, or an adopting thread's) was created inside another frame: `aux` is
/// that frame's id; `ts` is when the future was created (or the origin captured).
pub const LINK: u64 = 4 << 56;
/// Values of a frame (`#[trace(args, ret, err)]`), written on its thread before the frame's
/// enter (its arguments) or exit (its result): `aux` is the length of their bytes, which the
/// `DATA` records after it hold. `site` is not a site.
#[cfg(feature = "enable")]
pub const VALUE: u64 = 5 << 56;
/// Bytes of the `VALUE` record before it: `DATA_BYTES` of them in `aux` then `site` (little
/// endian), the last record's unused ones 0.
#[cfg(feature = "enable")]
pub const DATA: u64 = 6 << 56;
pub const KIND_MASK: u64 = 0xf << 56;

/// Exit flags.
pub const UNWINDING: u64 = 1 << 60;
pub const CANCELLED: u64 = 1 << 61;
/// The frame is a traced future: `aux` holds its busy ticks.
pub const ASYNC: u64 = 1 << 62;
/// Declare flag (the bit exits use for `UNWINDING`): the collector keeps the declared frame,
/// and its chain, for the declaring thread until that thread declares another with it; the
/// thread's later links to the frame come without declarations.
pub const HOLD: u64 = 1 << 60;
/// Link flag (the bit exits use for `CANCELLED`): not a root's link but the thread's adoption
/// of `aux` (0: of none), which the collector applies to every frame the thread enters without
/// a caller from then on.
pub const ADOPT: u64 = 1 << 61;
/// Enter flag (`ENTER` or `TASK`; the bit exits use for `UNWINDING`): a traced future whose
/// arguments (`#[trace(args)]`) follow as the next records of its thread, written at its first
/// poll just after its enter. The decoder gives them to the enter (`collect::decode`).
pub const ARGS_FOLLOW: u64 = 1 << 60;
/// Value flags (no flag: the frame's arguments): its result (`ret`).
pub const RESULT: u64 = 1 << 60;
/// Value flag, with `RESULT`: the result is an `Err`, the exit an error exit.
pub const ERROR: u64 = 1 << 61;
#[cfg(feature = "enable")]
/// Bytes a `DATA` record holds.
pub const DATA_BYTES: usize = 8 + std::mem::size_of::<usize>();
#[cfg(feature = "enable")]
pub const FLAG_MASK: u64 = 0xf << 60;
pub const ID_MASK: u64 = (1 << 56) - 1;

#[cfg(feature = "enable")]
/// Frame ids: the thread's number in the high bits, a per-thread sequence in the low ones, so
/// ids are unique in the process without any shared counter.
pub const SEQ_BITS: u32 = 36;

#[cfg(feature = "enable")]
/// The first id of thread `thread`'s sequence.
#[inline]
pub const fn id_base(thread: u32) -> u64 {
    (thread as u64) << SEQ_BITS
}

#[cfg(all(test, feature = "enable"))]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_32_bytes_and_fields_do_not_overlap() {
        assert_eq!(std::mem::size_of::<Rec>(), 32);
        let r = Rec {
            ts: 1,
            id: (id_base(3) + 7) | EXIT | UNWINDING | ASYNC,
            site: 0,
            aux: 0,
        };
        assert_eq!(r.id & KIND_MASK, EXIT);
        assert_eq!(r.id & ID_MASK, (3 << SEQ_BITS) + 7);
        assert_eq!(r.id & FLAG_MASK, UNWINDING | ASYNC);
        assert_eq!(KIND_MASK & FLAG_MASK, 0);
        assert_eq!(ID_MASK & (KIND_MASK | FLAG_MASK), 0);
    }
}
