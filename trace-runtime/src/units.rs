//! A duration's text, decimal digits and a count with its noun: spelled here once, for the
//! views and for the plain reports alike.

/// `850ns`, `12.3µs`, `4.5ms`, `2.01s`: rounded to the digits shown.
pub fn duration(buf: &mut Vec<u8>, ns: u64) {
    // One arm per unit, so that every divisor and unit is a constant: this runs on every exit
    // line a live run prints.
    match ns {
        0..=999 => {
            push_u64(buf, ns);
            buf.extend_from_slice(b"ns");
        }
        1_000..=999_949 => decimal(buf, (ns + 50) / 100, 10, "µs"),
        999_950..=999_949_999 => decimal(buf, (ns + 50_000) / 100_000, 10, "ms"),
        // Rounded without adding first: `ns` may be near `u64::MAX`.
        _ => decimal(
            buf,
            ns / 10_000_000 + u64::from(ns % 10_000_000 >= 5_000_000),
            100,
            "s",
        ),
    }
}

/// `scaled / div` with its fraction's digits (`div` is 10 or 100), then `unit`.
#[inline(always)]
fn decimal(buf: &mut Vec<u8>, scaled: u64, div: u64, unit: &str) {
    push_u64(buf, scaled / div);
    buf.push(b'.');
    let frac = scaled % div;
    if div == 100 && frac < 10 {
        buf.push(b'0');
    }
    push_u64(buf, frac);
    buf.extend_from_slice(unit.as_bytes());
}

/// A duration as a `String`, for reports.
pub fn duration_string(ns: u64) -> String {
    let mut b = Vec::new();
    duration(&mut b, ns);
    String::from_utf8_lossy(&b).into_owned()
}

/// Decimal digits of `n`, without going through `fmt`.
pub fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    if n < 10 {
        // Most numbers a line holds (a fraction's digit, a depth, a thread) are one digit.
        buf.push(b'0' + n as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// The label of a thread (number, name if any) and task (0: none): thread 2 named `worker` in
/// task 3 reads `[02 worker task 3]`, thread 1 with no name and no task `[01]`.
pub fn label(buf: &mut Vec<u8>, thread: u32, thread_name: Option<&str>, task: u64) {
    buf.push(b'[');
    thread_label(buf, thread, thread_name);
    if task != 0 {
        buf.push(b' ');
        task_label(buf, task);
    }
    buf.push(b']');
}

/// What joins two fns of a chain: ` => ` where the second begins a spawned task or thread
/// (`crossed`), ` -> ` otherwise.
pub fn chain_joint(crossed: bool) -> &'static str {
    if crossed {
        " => "
    } else {
        " -> "
    }
}

/// A chain as it reads, fns outermost first, each with whether a spawn lies just before it:
/// `main -> serve => process -> d`. The one spelling of a chain's text, for `chain()` and the
/// views.
///
/// ```ignore
/// let mut text = String::new();
/// write_chain(&mut text, [("main", false), ("serve", false), ("process", true)]).unwrap();
/// assert_eq!(text, "main -> serve => process");
/// ```
pub fn write_chain<'a>(
    out: &mut impl core::fmt::Write,
    steps: impl IntoIterator<Item = (&'a str, bool)>,
) -> core::fmt::Result {
    for (i, (name, crossed)) in steps.into_iter().enumerate() {
        if i > 0 {
            out.write_str(chain_joint(crossed))?;
        }
        out.write_str(name)?;
    }
    Ok(())
}

/// A thread as labels name it, its number in two digits at least: `02 worker`, `01`.
pub fn thread_label(buf: &mut Vec<u8>, thread: u32, thread_name: Option<&str>) {
    if thread < 10 {
        buf.push(b'0');
    }
    push_u64(buf, u64::from(thread));
    if let Some(n) = thread_name {
        buf.push(b' ');
        buf.extend_from_slice(n.as_bytes());
    }
}

/// A task as labels name it: `task 3`.
pub fn task_label(buf: &mut Vec<u8>, task: u64) {
    buf.extend_from_slice(b"task ");
    push_u64(buf, task);
}

/// A count and its noun, singular for one: `1 call`, `2 calls`, `0 fns`. Every noun the
/// reports count takes an `s`.
///
/// ```
/// # #[cfg(feature = "read")] {
/// use trace_runtime::read::units::count;
/// assert_eq!(count(1, "distinct chain"), "1 distinct chain");
/// assert_eq!(count(3, "fn"), "3 fns");
/// # }
/// ```
#[cfg(any(feature = "enable", feature = "read"))]
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {}", noun_for(n, noun))
}

/// `noun` as it goes after a count of `n`: `call` for 1, `calls` for any other (for a table
/// whose numbers stand in a column of their own).
#[cfg(any(feature = "enable", feature = "read"))]
pub fn noun_for(n: u64, noun: &str) -> std::borrow::Cow<'_, str> {
    if n == 1 {
        noun.into()
    } else {
        format!("{noun}s").into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(any(feature = "enable", feature = "read"))]
    fn a_count_of_one_is_singular() {
        assert_eq!(count(0, "call"), "0 calls");
        assert_eq!(count(1, "traced frame"), "1 traced frame");
        assert_eq!(count(12, "error"), "12 errors");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        let cases = [
            (0, "0ns"),
            (999, "999ns"),
            (1_500, "1.5µs"),
            (12_345, "12.3µs"),
            (999_949, "999.9µs"),
            (999_950, "1.0ms"),
            (2_500_000, "2.5ms"),
            (3_210_000_000, "3.21s"),
            (3_005_000_000, "3.01s"),
            (12_000_000_000, "12.00s"),
            (7, "7ns"),
            (10, "10ns"),
            (1_000, "1.0µs"),
            (999_949_999, "999.9ms"),
            (999_950_000, "1.00s"),
            (u64::MAX, "18446744073.71s"),
        ];
        for (ns, want) in cases {
            assert_eq!(duration_string(ns), want);
        }
    }
}
