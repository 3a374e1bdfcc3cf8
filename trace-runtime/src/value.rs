//! Values a traced fn records (`#[trace(args, ret, err)]`): what generated code hands over
//! ([`Value`], [`Arg`], chosen at compile time by [`debug_arg`], [`debug_ret`] and [`Probe`]),
//! and the one place a value becomes text: at most `TRACE_VALUE_MAX` bytes cut on a char
//! boundary with an ellipsis, line breaks escaped, a panicking `Debug` caught.

#[cfg(feature = "enable")]
use core::fmt;
use core::fmt::Debug;

/// A value as generated code hands it over: formatted only when the call is recorded.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// Its `Debug` text.
    Debug(&'a dyn Debug),
    /// A value whose type is not `Debug`: its type name (an `err` value), or nothing (a plain
    /// `args` argument, left out).
    Opaque(&'static str),
}

/// One argument: its name and value.
#[derive(Clone, Copy)]
pub struct Arg<'a>(pub &'static str, pub Value<'a>);

/// An argument named in `args(..)`: its type must be `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Debug`, so #[trace] cannot record this argument",
    label = "not `Debug`: leave it out with `skip(..)` (or name only the others in `args(..)`)",
    note = "#[trace(args(..))] records each argument it names with its `Debug` text"
)]
pub trait DebugArg: Debug {}
impl<T: Debug> DebugArg for T {}

/// The value `ret` records: its type must be `Debug`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Debug`, so #[trace(ret)] cannot record it",
    label = "the return value is not `Debug`: remove `ret` (an `err` alone needs no `Debug`)",
    note = "#[trace(ret)] records the return value with its `Debug` text"
)]
pub trait DebugRet: Debug {}
impl<T: Debug> DebugRet for T {}

/// An argument named in `args(..)`.
#[inline(always)]
pub fn debug_arg<T: DebugArg>(value: &T) -> Value<'_> {
    Value::Debug(value)
}

/// A return value `ret` records.
#[inline(always)]
pub fn debug_ret<T: DebugRet>(value: &T) -> Value<'_> {
    Value::Debug(value)
}

/// Autoref specialization: `(&Probe(&v)).__trace_value()` is `v`'s `Debug` text where its type
/// is `Debug` ([`ProbeDebug`], found first), and its type name otherwise ([`ProbeName`], found
/// after one more autoref): never a compile error, even for a generic type without the bound.
///
/// ```
/// use trace_runtime::__private::{Probe, ProbeDebug as _, ProbeName as _, Value};
/// struct Opaque;
/// assert!(matches!((&Probe(&42)).__trace_value(), Value::Debug(_)));
/// assert!(matches!((&Probe(&Opaque)).__trace_value(), Value::Opaque(name) if name.ends_with("Opaque")));
/// ```
pub struct Probe<'a, T>(pub &'a T);

/// The `Debug` side of [`Probe`].
pub trait ProbeDebug<'a> {
    /// The value, to be formatted with its `Debug`.
    fn __trace_value(&self) -> Value<'a>;
}

impl<'a, T: Debug> ProbeDebug<'a> for Probe<'a, T> {
    #[inline(always)]
    fn __trace_value(&self) -> Value<'a> {
        Value::Debug(self.0)
    }
}

/// The fallback side of [`Probe`]: the type's name.
pub trait ProbeName<'a> {
    /// The value's type name, for a type that is not `Debug`.
    fn __trace_value(&self) -> Value<'a>;
}

impl<'a, T> ProbeName<'a> for &Probe<'a, T> {
    #[inline(always)]
    fn __trace_value(&self) -> Value<'a> {
        Value::Opaque(core::any::type_name::<T>())
    }
}

/// What a value's text says when its `Debug` panicked.
#[cfg(feature = "enable")]
pub const PANICKED: &str = "<panicked>";

/// What ends a value cut at its limit.
#[cfg(feature = "enable")]
pub const ELLIPSIS: &str = "…";

/// Appends `value`'s text to `out`: at most `max` bytes of it (then cut on a char boundary and
/// ended with [`ELLIPSIS`]), line breaks and other control characters escaped as `\n`, `\r`,
/// `\t`, `\u{..}`, and [`PANICKED`] if its `Debug` panics. Writes into `out`'s spare capacity: no
/// allocation once `out` has grown to the largest value.
#[cfg(feature = "enable")]
pub fn write(out: &mut Vec<u8>, value: Value<'_>, max: usize) {
    let start = out.len();
    let mut bounded = Bounded {
        out,
        start,
        max,
        cut: false,
    };
    match value {
        Value::Debug(d) => {
            let was = FORMATTING.with(|f| f.replace(true));
            let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = fmt::write(&mut bounded, format_args!("{d:?}"));
            }));
            FORMATTING.with(|f| f.set(was));
            if written.is_err() {
                out.truncate(start);
                out.extend_from_slice(PANICKED.as_bytes());
                return;
            }
        }
        Value::Opaque(name) => {
            let _ = fmt::Write::write_str(&mut bounded, name);
        }
    }
    if bounded.cut {
        drop_open_escape(out, start);
        out.extend_from_slice(ELLIPSIS.as_bytes());
    }
}

/// Takes off the end of a value cut short an escape its `Debug` text had begun (`\`, `\u{1`):
/// `\…` would read as an escaped character.
#[cfg(feature = "enable")]
fn drop_open_escape(out: &mut Vec<u8>, start: usize) {
    let text = &out[start..];
    // The last backslash that starts an escape: one not itself escaped by the one before.
    let Some(at) = (0..text.len()).rev().find(|&i| {
        text[i] == b'\\' && text[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    }) else {
        return;
    };
    let rest = &text[at + 1..];
    if rest.is_empty() || rest[0] == b'u' && !rest.contains(&b'}') {
        out.truncate(start + at);
    }
}

#[cfg(feature = "enable")]
thread_local! {
    /// Set while a value's `Debug` runs: a panic in it is caught and recorded, not the
    /// program's (the panic hook passes over it).
    static FORMATTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is formatting a value: a panic now is caught by [`write`].
#[cfg(feature = "enable")]
pub fn formatting() -> bool {
    FORMATTING.try_with(|f| f.get()).unwrap_or(false)
}

/// Appends `name(value)`: a `Result`'s variant around its value's text (the value cut at
/// `max` bytes).
#[cfg(feature = "enable")]
pub fn write_wrapped(out: &mut Vec<u8>, name: &str, value: Value<'_>, max: usize) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'(');
    write(out, value, max);
    out.push(b')');
}

/// Appends the arguments as `[name length: u8][name][text length: u16 LE][text]` each; an
/// argument whose type is not `Debug` (plain `args`) is left out.
#[cfg(feature = "enable")]
pub fn write_args(out: &mut Vec<u8>, args: &[Arg<'_>], max: usize) {
    for Arg(name, value) in args {
        if matches!(value, Value::Opaque(_)) {
            continue;
        }
        let name = &name.as_bytes()[..name.len().min(255)];
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        let at = out.len();
        out.extend_from_slice(&[0, 0]);
        write(out, *value, max);
        let len = (out.len() - at - 2).min(u16::MAX as usize) as u16;
        out[at..at + 2].copy_from_slice(&len.to_le_bytes());
    }
}

/// The arguments [`write_args`] wrote, as name and text.
#[cfg(any(feature = "enable", feature = "read"))]
pub fn read_args(mut bytes: &[u8]) -> Vec<(Box<str>, Box<str>)> {
    let mut args = Vec::new();
    while let Some((&n, rest)) = bytes.split_first() {
        let Some((name, rest)) = rest.split_at_checked(n as usize) else {
            break;
        };
        let Some((len, rest)) = rest.split_at_checked(2) else {
            break;
        };
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let Some((text, rest)) = rest.split_at_checked(len) else {
            break;
        };
        args.push((
            String::from_utf8_lossy(name).into(),
            String::from_utf8_lossy(text).into(),
        ));
        bytes = rest;
    }
    args
}

/// A writer that escapes control characters and stops at `max` bytes.
#[cfg(feature = "enable")]
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    max: usize,
    cut: bool,
}

#[cfg(feature = "enable")]
impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The common piece (digits, a short name): printable ASCII that fits, copied whole.
        let room = self.max - (self.out.len() - self.start);
        if s.len() <= room && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            self.out.extend_from_slice(s.as_bytes());
            return Ok(());
        }
        for (i, c) in s.char_indices() {
            let mut escaped = [0u8; 12];
            let piece: &[u8] = match c {
                '\n' => b"\\n",
                '\r' => b"\\r",
                '\t' => b"\\t",
                c if c.is_control() => {
                    let mut cursor = &mut escaped[..];
                    let _ = std::io::Write::write_fmt(
                        &mut cursor,
                        format_args!("\\u{{{:x}}}", c as u32),
                    );
                    let len = 12 - cursor.len();
                    &escaped[..len]
                }
                _ => &s.as_bytes()[i..i + c.len_utf8()],
            };
            if self.out.len() - self.start + piece.len() > self.max {
                self.cut = true;
                // Stops the `Debug` impl: nothing after the limit is formatted.
                return Err(fmt::Error);
            }
            self.out.extend_from_slice(piece);
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "enable"))]
mod tests {
    use super::*;

    fn text(value: Value<'_>, max: usize) -> String {
        let mut out = Vec::new();
        write(&mut out, value, max);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn short_values_are_their_debug_text() {
        assert_eq!(text(Value::Debug(&42), 80), "42");
        assert_eq!(text(Value::Debug(&"user:7"), 80), "\"user:7\"");
        assert_eq!(text(Value::Debug(&Some(1.5)), 80), "Some(1.5)");
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary_with_an_ellipsis() {
        assert_eq!(text(Value::Debug(&"abcdefgh"), 5), "\"abcd…");
        // 'é' is two bytes: it does not fit in the fifth and sixth, so the cut is before it.
        assert_eq!(text(Value::Debug(&"abcéé"), 5), "\"abc…");
        assert_eq!(text(Value::Debug(&"abcd"), 6), "\"abcd\"");
    }

    #[test]
    fn a_cut_never_leaves_half_an_escape() {
        // `"a=1\nb=2\` would end in the `\` of the next `\n`.
        assert_eq!(text(Value::Debug(&"a=1\nb=2\nc=3"), 10), "\"a=1\\nb=2…");
        assert_eq!(text(Value::Debug(&"ab\u{1b}c"), 7), "\"ab…");
        // An escaped backslash is whole: kept.
        assert_eq!(text(Value::Debug(&"a\\bcdef"), 4), "\"a\\\\…");
        assert_eq!(text(Value::Debug(&"ab\u{1b}c"), 9), "\"ab\\u{1b}…");
    }

    #[test]
    fn line_breaks_are_escaped() {
        struct Lines;
        impl Debug for Lines {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a\nb\r\tc\u{1b}")
            }
        }
        assert_eq!(text(Value::Debug(&Lines), 80), "a\\nb\\r\\tc\\u{1b}");
    }

    #[test]
    fn a_panicking_debug_is_recorded_as_panicked() {
        struct Bomb;
        impl Debug for Bomb {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("partial")?;
                panic!("Debug of Bomb")
            }
        }
        let mut out = b"id=".to_vec();
        write(&mut out, Value::Debug(&Bomb), 80);
        assert_eq!(out, b"id=<panicked>");
    }

    #[test]
    fn an_opaque_value_is_its_type_name() {
        assert_eq!(text(Value::Opaque("app::Secret"), 80), "app::Secret");
    }
}
