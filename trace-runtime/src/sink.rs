//! The live trace's destination (`TRACE_OUT`), and writing to it without ever failing the
//! program: whole writes under one lock; a failed write (a full disk, a closed pipe) cuts a file
//! back to its last whole line (closing a Chrome array where there is room), warns once with
//! what was lost, and drops the rest.

use std::fs::File;
use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::sync::{Mutex, MutexGuard};

use crate::config::{say, warn, Out};

/// The destination chosen by `TRACE_OUT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Stderr,
    Stdout,
    File,
    Off,
}

/// Where the bytes go.
enum Dest {
    Off,
    Stderr,
    Stdout,
    /// `regular`: a regular file, which can be cut back (a FIFO or `/dev/full` cannot).
    File {
        file: File,
        regular: bool,
    },
    /// A disk of a fixed size, for the tests.
    #[cfg(test)]
    Disk(tests::Disk),
}

impl Dest {
    /// Writes what the destination takes: how many bytes it took before an error, if any.
    /// A write may be short (a disk filling up): the loop goes on until the error that follows.
    fn put(&mut self, bytes: &[u8]) -> (usize, Option<io::Error>) {
        fn all(w: &mut dyn Write, bytes: &[u8]) -> (usize, Option<io::Error>) {
            let mut done = 0;
            while done < bytes.len() {
                match w.write(&bytes[done..]) {
                    Ok(0) => return (done, Some(io::ErrorKind::WriteZero.into())),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (done, Some(e)),
                }
            }
            (done, None)
        }
        // The standard streams buffer: what they took is known only once flushed, so a
        // failure counts the whole write as lost.
        fn stream(w: &mut dyn Write, bytes: &[u8]) -> (usize, Option<io::Error>) {
            match w.write_all(bytes).and_then(|_| w.flush()) {
                Ok(()) => (bytes.len(), None),
                Err(e) => (0, Some(e)),
            }
        }
        match self {
            Dest::Off => (bytes.len(), None),
            Dest::Stderr => stream(&mut io::stderr().lock(), bytes),
            Dest::Stdout => stream(&mut io::stdout().lock(), bytes),
            Dest::File { file, .. } => all(file, bytes),
            #[cfg(test)]
            Dest::Disk(disk) => all(disk, bytes),
        }
    }

    /// Whether what was written can be cut back.
    fn can_cut(&self) -> bool {
        match self {
            Dest::File { regular, .. } => *regular,
            #[cfg(test)]
            Dest::Disk(disk) => disk.regular,
            _ => false,
        }
    }

    /// Cuts the file back to `len` bytes and writes on from there.
    fn cut(&mut self, len: u64) -> io::Result<()> {
        match self {
            Dest::File { file, .. } => {
                file.set_len(len)?;
                file.seek(SeekFrom::Start(len)).map(|_| ())
            }
            #[cfg(test)]
            Dest::Disk(disk) => {
                disk.data.truncate(len as usize);
                Ok(())
            }
            _ => Err(io::ErrorKind::Unsupported.into()),
        }
    }
}

/// A line boundary in what was written: the bytes before it and the lines they hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cut {
    at: u64,
    lines: u64,
}

/// Bytes and lines.
#[derive(Clone, Copy, Debug, Default)]
struct Amount {
    bytes: u64,
    lines: u64,
}

struct Sink {
    target: Target,
    dest: Dest,
    /// How the destination is named in a warning: `stdout`, the file's path.
    name: String,
    /// What the output must end with to be complete (the Chrome array's closing), written
    /// after a failure where there is room; empty for the line formats.
    closing: &'static [u8],
    /// Everything handed to the sink.
    offered: Amount,
    /// What the destination took.
    written: Amount,
    /// The last line boundary written.
    whole: Cut,
    /// The last line boundary with room for `closing` before `whole`: where to cut back to
    /// when the closing does not fit after `whole`.
    room: Cut,
    /// Set by a failed write: the destination is gone (closed pipe, full disk), so further
    /// output is dropped (and counted) instead of failing again on every write.
    failed: Option<Cut>,
}

impl Sink {
    const fn new(target: Target, dest: Dest, name: String, closing: &'static [u8]) -> Sink {
        Sink {
            target,
            dest,
            name,
            closing,
            offered: Amount { bytes: 0, lines: 0 },
            written: Amount { bytes: 0, lines: 0 },
            whole: Cut { at: 0, lines: 0 },
            room: Cut { at: 0, lines: 0 },
            failed: None,
        }
    }

    /// Writes bytes whole; on the first failure returns the warning that says what was lost.
    fn write(&mut self, bytes: &[u8]) -> Option<String> {
        let lines = count_lines(bytes);
        self.offered.bytes += bytes.len() as u64;
        self.offered.lines += lines;
        if self.failed.is_some() {
            return None;
        }
        let (took, error) = self.dest.put(bytes);
        let start = self.written.bytes;
        let taken = &bytes[..took];
        self.written.bytes += took as u64;
        self.written.lines += if took == bytes.len() {
            lines
        } else {
            count_lines(taken)
        };
        self.whole = self.last_cut(start, taken, self.written.bytes);
        // The destination took the bytes up to `written`: a closing cut in before them fits.
        let room_limit = self.written.bytes.saturating_sub(self.closing.len() as u64);
        self.room = self.last_cut(start, taken, room_limit);
        let error = error?;
        Some(self.fail(error, start, taken))
    }

    /// The last line boundary at or before `limit`: in `taken` (just written from `start`),
    /// else the ones known before it.
    fn last_cut(&self, start: u64, taken: &[u8], limit: u64) -> Cut {
        let mut lines = self.written.lines;
        for (i, _) in taken.iter().enumerate().rev().filter(|(_, &b)| b == b'\n') {
            let at = start + i as u64 + 1;
            if at <= limit {
                return Cut { at, lines };
            }
            lines -= 1;
        }
        if self.whole.at <= limit {
            self.whole
        } else if self.room.at <= limit {
            self.room
        } else {
            Cut::default()
        }
    }

    /// After a failed write: cuts a file back to its last whole line, closes what needs
    /// closing where there is room, and says what was lost.
    fn fail(&mut self, error: io::Error, start: u64, taken: &[u8]) -> String {
        // Whether the file was cut back to a whole line, and what else to say.
        let mut cut = false;
        let mut notes = Vec::new();
        let all_taken = Cut {
            at: self.written.bytes,
            lines: self.written.lines,
        };
        let kept = if !self.dest.can_cut() {
            notes.push(format!(
                "{} is not a regular file, so it cannot be cut back to a whole line: it may end in part of one",
                self.name
            ));
            if !self.closing.is_empty() {
                notes.push("the JSON array is not closed".to_string());
            }
            all_taken
        } else if let Err(e) = self.dest.cut(self.whole.at) {
            notes.push(format!(
                "it could not be cut back to its last whole line ({e}): it may end in part of one"
            ));
            all_taken
        } else if self.closing.is_empty() {
            cut = true;
            self.whole
        } else {
            cut = true;
            let (kept, closed) = self.close(start, taken);
            notes.push(closed);
            kept
        };
        self.failed = Some(kept);
        let cut = match (cut, self.closing.is_empty()) {
            (false, _) => "",
            (true, true) => " the file is cut back to its last whole line:",
            (true, false) => " the file is cut back to its last whole event:",
        };
        let mut message = format!(
            "writing the trace to {} failed: {error};{cut} {} kept, {} lost so far, and the rest of the trace is dropped",
            self.name,
            amount(kept.lines, kept.at),
            amount(self.offered.lines - kept.lines, self.offered.bytes - kept.at)
        );
        for note in notes {
            message.push_str("; ");
            message.push_str(&note);
        }
        message
    }

    /// Writes the closing after the last whole line, or, where it does not fit, after the last
    /// line with room for it. Where the trace was cut, and a note saying whether it is closed.
    fn close(&mut self, start: u64, taken: &[u8]) -> (Cut, String) {
        // A failure inside the final write may have kept the closing's first lines already.
        let kept_here = match self.whole.at.checked_sub(start) {
            Some(n) => &taken[..n as usize],
            None => &[][..],
        };
        let rest = closing_rest(self.closing, kept_here);
        let closed = "the JSON array is closed (without its tracks' names)".to_string();
        let Some(error) = self.dest.put(rest).1 else {
            return (self.whole, closed);
        };
        let not_closed = |e: &io::Error| {
            format!(
                "the JSON array could not be closed ({e}): the file ends at its last whole event"
            )
        };
        // Cut back further, to where the disk took room for the closing; never to before the
        // array's opening.
        if self.room.at == 0 || self.dest.cut(self.room.at).is_err() {
            let _ = self.dest.cut(self.whole.at);
            return (self.whole, not_closed(&error));
        }
        match self.dest.put(self.closing).1 {
            None => (self.room, closed),
            Some(e) => {
                let _ = self.dest.cut(self.room.at);
                (self.room, not_closed(&e))
            }
        }
    }

    /// At the end of a run whose output failed: how much of the trace was lost in all.
    fn loss(&self) -> Option<String> {
        let kept = self.failed?;
        (self.target != Target::Stderr).then(|| {
            format!(
                "the trace written to {} is incomplete: {} kept, {} lost",
                self.name,
                amount(kept.lines, kept.at),
                amount(
                    self.offered.lines - kept.lines,
                    self.offered.bytes - kept.at
                )
            )
        })
    }
}

/// `3 lines (120 bytes)`.
fn amount(lines: u64, bytes: u64) -> String {
    let s = |n: u64| if n == 1 { "" } else { "s" };
    format!("{lines} line{} ({bytes} byte{})", s(lines), s(bytes))
}

/// What of `closing` is still to write after `kept`: all of it, or the lines after those of
/// its first lines `kept` already ends with.
fn closing_rest<'a>(closing: &'a [u8], kept: &[u8]) -> &'a [u8] {
    let mut rest = closing;
    for (i, _) in closing.iter().enumerate().filter(|(_, &b)| b == b'\n') {
        if i + 1 < closing.len() && kept.ends_with(&closing[..=i]) {
            rest = &closing[i + 1..];
        }
    }
    rest
}

/// The newlines in `bytes`, counted on every write: summed as 0s and 1s over fixed-size
/// blocks, a form the compiler turns into vector instructions (a filter and count goes byte by
/// byte, at several instructions a byte).
fn count_lines(bytes: &[u8]) -> u64 {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let mut n = 0u64;
    for block in blocks {
        n += u64::from(block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>());
    }
    n + rest.iter().filter(|&&b| b == b'\n').count() as u64
}

static SINK: Mutex<Sink> = Mutex::new(Sink::new(Target::Stderr, Dest::Stderr, String::new(), b""));

fn lock() -> MutexGuard<'static, Sink> {
    SINK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens the destination. `closing` is what the output must end with to be complete (the
/// Chrome array's closing), written after a failed write where there is room.
///
/// An unusable path warns once and writes no trace, as `TRACE_OUT=off`: the trace was meant to
/// stay off stderr, which is often the program's log. Reports still go to stderr
/// ([`reports_to_stderr`]).
pub fn init(out: &Out, closing: &'static [u8]) -> Target {
    let (target, dest, name) = match out {
        Out::Stderr => (Target::Stderr, Dest::Stderr, "stderr".to_string()),
        Out::Stdout => (Target::Stdout, Dest::Stdout, "stdout".to_string()),
        Out::Off => (Target::Off, Dest::Off, "off".to_string()),
        Out::File(path) => match File::create(path) {
            Ok(file) => {
                let regular = file.metadata().is_ok_and(|m| m.is_file());
                let dest = Dest::File { file, regular };
                (Target::File, dest, path.display().to_string())
            }
            Err(e) => {
                warn(&format!(
                    "cannot write TRACE_OUT={}: {e}; the trace is not written (as with TRACE_OUT=off), reports of frames never exited and the summary come on stderr",
                    path.display()
                ));
                (Target::Off, Dest::Off, "off".to_string())
            }
        },
    };
    *lock() = Sink::new(target, dest, name, closing);
    target
}

/// Whether reports (the summary, what never finished) go to stderr though the format would put
/// them in the trace: `TRACE_OUT` named a path that could not be opened.
pub fn reports_to_stderr(out: &Out, target: Target) -> bool {
    matches!(out, Out::File(_)) && target == Target::Off
}

/// Whether the destination is a terminal (for colour).
pub fn is_terminal(target: Target) -> bool {
    match target {
        Target::Stderr => std::io::stderr().is_terminal(),
        Target::Stdout => std::io::stdout().is_terminal(),
        _ => false,
    }
}

/// Writes bytes in one call under one lock. The first failure warns once (on stderr, unless
/// stderr is what failed) and drops the rest.
pub fn write(bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let mut sink = lock();
    let warning = sink.write(bytes);
    let target = sink.target;
    drop(sink);
    if let Some(warning) = warning {
        if target != Target::Stderr {
            warn(&warning);
        }
    }
}

/// When the end of the run gives up on a collection still under way: waits for the write in
/// progress to end and lets no other begin, so the process, about to exit, cannot cut a
/// write (and a line) in two. The output then ends after the last whole write.
pub fn seal() {
    std::mem::forget(lock());
}

/// At the end of the run: if the output failed, one line saying how much was lost in all.
pub fn report_loss() {
    let loss = lock().loss();
    if let Some(loss) = loss {
        say(&loss);
    }
}

/// The live destination as a `Write` for the views.
pub struct SinkOut;

impl Write for SinkOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Standard error as a `Write` for reports that must keep machine formats valid.
pub struct StderrOut;

impl Write for StderrOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A disk that takes `size` bytes: a write reaching past it is short, the next fails with
    /// "no space", as a file system does.
    pub struct Disk {
        pub data: Vec<u8>,
        pub size: usize,
        pub regular: bool,
    }

    impl Write for Disk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.size - self.data.len().min(self.size));
            if n == 0 && !buf.is_empty() {
                return Err(io::Error::from_raw_os_error(28));
            }
            self.data.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn sink(size: usize, regular: bool, closing: &'static [u8]) -> Sink {
        let disk = Disk {
            data: Vec::new(),
            size,
            regular,
        };
        Sink::new(Target::File, Dest::Disk(disk), "t.jsonl".into(), closing)
    }

    fn data(sink: &Sink) -> &str {
        match &sink.dest {
            Dest::Disk(d) => std::str::from_utf8(&d.data).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_short_write_is_cut_back_to_the_last_whole_line() {
        let mut s = sink(20, true, b"");
        assert_eq!(s.write(b"{\"a\":1}\n{\"b\":2}\n"), None);
        // 16 bytes written; 4 more fit: half a line, then no space.
        let warning = s.write(b"{\"c\":3}\n{\"d\":4}\n").unwrap();
        assert_eq!(data(&s), "{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(
            warning,
            "writing the trace to t.jsonl failed: No space left on device (os error 28); \
             the file is cut back to its last whole line: 2 lines (16 bytes) kept, 2 lines \
             (16 bytes) lost so far, and the rest of the trace is dropped"
        );
        // The rest is dropped, never warned about again, and counted.
        assert_eq!(s.write(b"{\"e\":5}\n"), None);
        assert_eq!(data(&s), "{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(
            s.loss().unwrap(),
            "the trace written to t.jsonl is incomplete: 2 lines (16 bytes) kept, 3 lines (24 bytes) lost"
        );
    }

    #[test]
    fn newlines_are_counted_in_blocks_and_the_rest() {
        // Lengths around the block size, newlines at every third byte and at both ends.
        for len in [0, 1, 63, 64, 65, 127, 128, 200] {
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    if i % 3 == 0 || i + 1 == len {
                        b'\n'
                    } else {
                        b'x'
                    }
                })
                .collect();
            let expected = (0..len).filter(|&i| i % 3 == 0 || i + 1 == len).count() as u64;
            assert_eq!(count_lines(&bytes), expected, "{len} bytes");
        }
        // 255 newlines in one block would still fit its u8 sum: a block holds 64 at most.
        assert_eq!(count_lines(&[b'\n'; 64 * 3 + 5]), 64 * 3 + 5);
    }

    #[test]
    fn whole_lines_of_a_short_write_are_kept() {
        let mut s = sink(12, true, b"");
        let warning = s.write(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        assert_eq!(data(&s), "{\"a\":1}\n");
        assert!(
            warning.contains(": 1 line (8 bytes) kept, 1 line (8 bytes) lost so far"),
            "{warning}"
        );
    }

    #[test]
    fn a_line_split_over_two_writes_is_not_kept_half() {
        let mut s = sink(14, true, b"");
        assert_eq!(s.write(b"{\"a\":1}\n{\"b\""), None);
        s.write(b":2}\n").unwrap();
        assert_eq!(data(&s), "{\"a\":1}\n");
    }

    const CLOSING: &[u8] = b"{\"end\":1}\n]\n";

    #[test]
    fn a_chrome_array_is_closed_after_the_last_whole_event() {
        let mut s = sink(36, true, CLOSING);
        assert_eq!(s.write(b"[\n{\"a\":1},\n"), None);
        // The disk takes 16 bytes of the long event: room for the closing after `b`.
        let warning = s
            .write(b"{\"b\":2},\n{\"long\":\"abcdefghijklmnop\"},\n")
            .unwrap();
        assert_eq!(data(&s), "[\n{\"a\":1},\n{\"b\":2},\n{\"end\":1}\n]\n");
        assert_eq!(
            warning,
            "writing the trace to t.jsonl failed: No space left on device (os error 28); \
             the file is cut back to its last whole event: 3 lines (20 bytes) kept, 1 line \
             (29 bytes) lost so far, and the rest of the trace is dropped; the JSON array is \
             closed (without its tracks' names)"
        );
    }

    #[test]
    fn a_chrome_array_drops_an_event_to_make_room_for_its_closing() {
        // The last whole event ends 7 bytes before the disk is full: too close for the closing.
        let mut s = sink(27, true, CLOSING);
        let warning = s.write(b"[\n{\"a\":1},\n{\"b\":2},\n{\"c\":3},\n").unwrap();
        assert_eq!(data(&s), "[\n{\"a\":1},\n{\"end\":1}\n]\n");
        assert!(
            warning.contains(": 2 lines (11 bytes) kept, 2 lines (18 bytes) lost so far")
                && warning.ends_with("; the JSON array is closed (without its tracks' names)"),
            "{warning}"
        );
    }

    #[test]
    fn a_chrome_array_without_room_ends_at_its_last_whole_event() {
        let mut s = sink(8, true, CLOSING);
        let warning = s.write(b"[\n{\"a\":1},\n").unwrap();
        assert_eq!(data(&s), "[\n");
        assert!(
            warning.ends_with(
                "; the JSON array could not be closed (No space left on device (os error 28)): \
                 the file ends at its last whole event"
            ),
            "{warning}"
        );
    }

    #[test]
    fn a_closing_already_begun_is_finished_not_repeated() {
        assert_eq!(closing_rest(CLOSING, b"[\n{\"a\":1},\n"), CLOSING);
        assert_eq!(
            closing_rest(CLOSING, b"[\n{\"a\":1},\n{\"end\":1}\n"),
            b"]\n"
        );
        assert_eq!(closing_rest(b"", b"x\n"), b"");
    }

    #[test]
    fn a_pipe_cannot_be_cut_back_and_says_so() {
        let mut s = sink(12, false, CLOSING);
        let warning = s.write(b"[\n{\"a\":1},\n{\"b\":2},\n").unwrap();
        assert_eq!(data(&s), "[\n{\"a\":1},\n{");
        assert_eq!(
            warning,
            "writing the trace to t.jsonl failed: No space left on device (os error 28); \
             2 lines (12 bytes) kept, 1 line (8 bytes) lost so far, and the rest of the trace \
             is dropped; t.jsonl is not a regular file, so it cannot be cut back to a whole line: \
             it may end in part of one; the JSON array is not closed"
        );
    }
}
