//! Reads the environment once: `TRACE_FORMAT`, `TRACE_OUT`, `TRACE_MODE`, `TRACE_BUFFER`,
//! `TRACE_FILTER`, `TRACE_FOCUS`, `TRACE_SUMMARY`, `TRACE_SUMMARY_JSON`, `TRACE_RECORD`,
//! `TRACE_DUMP_SIGNAL`, `TRACE_SIGNALS`, `TRACE_WATCH`, `TRACE_HOT`, `TRACE_VERBOSE`, `TRACE_VALUES`, `TRACE_VALUE_MAX`, `TRACE_COLLECTORS`, `NO_COLOR`. Reading has no other effect
//! than warnings about values it cannot use.

#[cfg(feature = "enable")]
use std::path::PathBuf;
#[cfg(feature = "enable")]
use std::sync::OnceLock;

#[cfg(feature = "enable")]
use crate::filter::{Filter, FocusRule};

/// How events are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Indented enter/exit lines.
    Human,
    /// One JSON object per event.
    Jsonl,
    /// Collapsed stacks (`a;b;c self_ns`), written at exit, for flame graphs.
    Folded,
    /// Trace Event Format JSON, for Perfetto and chrome://tracing.
    Chrome,
    /// OTLP JSON (an `ExportTraceServiceRequest`), for OpenTelemetry backends that take files:
    /// exported from a recording only (see [`Format::live`]).
    Otlp,
}

impl Format {
    #[cfg(feature = "read")]
    /// Every format by its name, in the order help lists them: the one list `TRACE_FORMAT` and
    /// the CLI's `--format` take ([`Format::parse`] also takes `json` and empty).
    pub const NAMES: &'static [&'static str] = &["human", "jsonl", "chrome", "folded", "otlp"];

    /// The format named `name`, as `TRACE_FORMAT` and the CLI's `--format` spell it.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "human" | "" => Some(Format::Human),
            "jsonl" | "json" => Some(Format::Jsonl),
            "folded" => Some(Format::Folded),
            "chrome" => Some(Format::Chrome),
            "otlp" => Some(Format::Otlp),
            _ => None,
        }
    }

    /// Whether a live run writes the format (`TRACE_FORMAT`). OTLP's timestamps are Unix
    /// times, and a recording holds none (its clock starts at the first traced call): an OTLP
    /// file written live could not be the bytes its recording exports, which every live format
    /// is, so OTLP is exported from a recording alone.
    #[cfg(feature = "enable")]
    pub fn live(self) -> bool {
        self != Format::Otlp
    }
}

#[cfg(feature = "enable")]
/// Where the live trace goes (`TRACE_OUT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Stderr,
    Stdout,
    Off,
    File(PathBuf),
}

#[cfg(feature = "enable")]
pub struct Config {
    pub format: Format,
    pub out: Out,
    /// `NO_COLOR` is set and non-empty.
    pub no_color: bool,
    /// Records per buffer chunk (`TRACE_BUFFER`); a thread holds at most `CHUNKS_PER_THREAD`.
    pub chunk: usize,
    /// Collector threads of a run that only records (`TRACE_COLLECTORS`; at least 1): each
    /// writes the records of its share of the traced threads.
    pub collectors: usize,
    /// `TRACE_FOCUS`: print only the chains that reach this fn (the rule's term).
    pub focus: Option<String>,
    /// `TRACE_FOCUS=NAME:err`: only the calls of the focused fn that returned `Err`.
    pub focus_errors: bool,
    /// `TRACE_SUMMARY`: a per-fn table and the weighted call graph at exit.
    pub summary: bool,
    /// `TRACE_SUMMARY_JSON`: the same as JSON, to this file.
    pub summary_json: Option<PathBuf>,
    /// `TRACE_FILTER`.
    pub filter: Filter,
    /// `TRACE_FILTER` as written, for the line the note on a large trace suggests.
    pub filter_spec: Option<String>,
    /// `depth=` of `TRACE_FILTER`, or no limit.
    pub max_depth: u32,
    /// `TRACE_RECORD`: a binary recording of the run, to this file.
    pub record: Option<PathBuf>,
    /// `TRACE_DUMP_SIGNAL`: the signal that prints every open frame (unix signal number), or
    /// none.
    pub dump_signal: Option<i32>,
    /// `TRACE_SIGNALS`: whether the runtime takes any signal (the fatal ones and the dump
    /// signal); `off` leaves every signal as the program set it.
    pub signals: bool,
    /// `TRACE_WATCH`: report once each frame open longer than this many nanoseconds.
    pub watch_ns: Option<u64>,
    /// `TRACE_VERBOSE`: say at start how the runtime is set up.
    pub verbose: bool,
    /// `TRACE_HOT`: when a fn is counted instead of recorded; `None` (`off`): never.
    pub hot: Option<Hot>,
    /// `TRACE_VALUES`: whether `#[trace(args, ret, err)]` record values (`off`: not).
    pub values: bool,
    /// `TRACE_VALUE_MAX`: the most bytes of one value's text kept.
    pub value_max: usize,
}

/// `TRACE_VALUE_MAX` unless set: a value's text is cut after this many bytes.
#[cfg(feature = "enable")]
pub const VALUE_MAX: usize = 80;

/// `TRACE_HOT`: a fn `calls` of whose calls (calls that call no recorded fn) took under
/// `under_ns` each, nine in ten of them at least, is counted from then on instead of recorded
/// (see `collect::hot`).
///
/// ```ignore
/// assert_eq!(Hot::parse("calls=1000, under=50ns"), Ok(Some(Hot { calls: 1000, under_ns: 50 })));
/// assert_eq!(Hot::parse("off"), Ok(None));
/// ```
#[cfg(feature = "enable")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hot {
    pub calls: u64,
    pub under_ns: u64,
}

#[cfg(feature = "enable")]
impl Hot {
    /// The default: counted after 100,000 calls of under 500ns each.
    pub const DEFAULT: Hot = Hot {
        calls: 100_000,
        under_ns: 500,
    };

    /// `off`, `on` (the default, as `TRACE_VALUES` and `TRACE_SIGNALS` take it), or `calls=N`
    /// and `under=DURATION` (either or both, comma-separated; the other as by default).
    pub fn parse(text: &str) -> Result<Option<Hot>, String> {
        let text = text.trim();
        if text.is_empty() || text == "on" {
            return Ok(Some(Hot::DEFAULT));
        }
        if text == "off" {
            return Ok(None);
        }
        let mut hot = Hot::DEFAULT;
        for part in text.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("calls", n)) => {
                    hot.calls =
                        n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            format!("calls={n} is not a number of calls (1 or more)")
                        })?;
                }
                Some(("under", d)) => {
                    hot.under_ns = crate::filter::parse_duration(d.trim())
                        .ok_or_else(|| format!("under={d} is not a duration like 500ns"))?;
                }
                _ => {
                    return Err(format!(
                        "{part:?} is neither on, off, calls=N nor under=DURATION"
                    ))
                }
            }
        }
        Ok(Some(hot))
    }
}

/// The most collector threads `TRACE_COLLECTORS` starts.
#[cfg(feature = "enable")]
pub const MAX_COLLECTORS: usize = 64;

#[cfg(feature = "enable")]
/// Records per chunk unless `TRACE_BUFFER` says otherwise: 4,096 records, 128 KiB, small enough
/// for the collector to read while it is still in cache.
pub const CHUNK: usize = 4096;
#[cfg(feature = "enable")]
/// Chunks a thread holds at most: four waiting for the collector, the one being filled, two
/// kept for reuse.
pub const CHUNKS_PER_THREAD: usize = 7;
#[cfg(feature = "enable")]
/// How often the collector writes the live trace, in milliseconds: lines are out within twice
/// that even while every traced call is still open.
pub const PRINT_INTERVAL_MS: u64 = 50;

#[cfg(feature = "enable")]
static CONFIG: OnceLock<Config> = OnceLock::new();

/// What starts every line the runtime writes about itself on stderr (warnings, `TRACE_VERBOSE`
/// lines, the watchdog's reports, the note on a large trace).
pub const PREFIX: &str = "trace-runtime: ";

/// One line on stderr: `trace-runtime: warning: MESSAGE`. Errors writing it are ignored: a
/// warning must not fail the program.
pub fn warn(message: &str) {
    say(&format!("warning: {message}"));
}

/// One `TRACE_VERBOSE` line (or another report that is not a warning) on stderr:
/// `trace-runtime: MESSAGE`. Errors writing it are ignored.
///
/// ```ignore
/// config::say("tracing on: clock tsc"); // trace-runtime: tracing on: clock tsc
/// ```
pub fn say(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{PREFIX}{message}");
}

/// Whether `NO_COLOR` asks for no colour (set and non-empty, as no-color.org says): the one
/// reading of it, for the live trace and the CLI's output alike.
///
/// ```ignore
/// std::env::set_var("NO_COLOR", "1");
/// assert!(no_color());
/// ```
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(feature = "enable")]
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(feature = "enable")]
/// `{pid}` in a path becomes the process id, so that every process of a run (each test binary,
/// each doc test) writes a file of its own.
pub fn with_pid(path: &str) -> PathBuf {
    PathBuf::from(path.replace("{pid}", &std::process::id().to_string()))
}

#[cfg(feature = "enable")]
/// The process's configuration, read on first use.
pub fn get() -> &'static Config {
    CONFIG.get_or_init(read)
}

#[cfg(feature = "enable")]
fn read() -> Config {
    let format = match var("TRACE_FORMAT") {
        None => Format::Human,
        Some(v) => match Format::parse(&v) {
            Some(format) if format.live() => format,
            Some(_) => {
                warn(&format!(
                    "TRACE_FORMAT={v:?} is written from a recording: set TRACE_RECORD=FILE, then \
                     run `trace-rewriter export FILE --format {v}`; using human"
                ));
                Format::Human
            }
            None => {
                warn(&format!(
                    "TRACE_FORMAT={v:?} is not a known format (human, jsonl, folded, chrome); using human"
                ));
                Format::Human
            }
        },
    };
    let out = match std::env::var_os("TRACE_OUT") {
        None => Out::Stderr,
        Some(v) => match v.to_str() {
            Some("") | Some("stderr") => Out::Stderr,
            Some("stdout") => Out::Stdout,
            Some("off") => Out::Off,
            Some(p) => Out::File(with_pid(p)),
            None => Out::File(PathBuf::from(v)),
        },
    };
    // One way of collecting remains: a mode that collected only when buffers filled was slower
    // (bigger chunks out of cache, traced threads waiting on a collector that woke late) and
    // gave a user nothing in return but a trace written late.
    match var("TRACE_MODE").as_deref() {
        Some("print") | Some("") | None => {}
        Some(other) => warn(&format!(
            "TRACE_MODE={other:?} is ignored: there is one mode, the trace written as the \
             program runs (TRACE_OUT=off writes nothing live)"
        )),
    }
    let default_buffer = CHUNK;
    let buffer = match var("TRACE_BUFFER") {
        None => default_buffer,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 16 => n,
            _ => {
                warn(&format!(
                    "TRACE_BUFFER={v:?} is not a number of records (16 or more); using {default_buffer}"
                ));
                default_buffer
            }
        },
    };
    // A collector per four cores: each keeps up with about a quarter of a core's worth of
    // tight traced calls, and the cores are the program's.
    let default_collectors =
        std::thread::available_parallelism().map_or(1, |n| (n.get() / 4).max(1));
    let collectors = match var("TRACE_COLLECTORS") {
        None => default_collectors,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_COLLECTORS).contains(&n) => n,
            _ => {
                warn(&format!(
                    "TRACE_COLLECTORS={v:?} is not a number of collector threads (1 to {MAX_COLLECTORS}); using {default_collectors}"
                ));
                default_collectors
            }
        },
    };
    let filter_spec = var("TRACE_FILTER");
    let filter = match filter_spec.clone() {
        Some(spec) => Filter::parse(&spec).unwrap_or_else(|e| {
            warn(&format!("TRACE_FILTER={spec:?}: {e}; tracing everything"));
            Filter::default()
        }),
        None => Filter::default(),
    };
    let dump_signal = match var("TRACE_DUMP_SIGNAL").as_deref() {
        None | Some("") => default_dump_signal(),
        Some("off") => None,
        Some(name) => signal_number(name).or_else(|| {
            warn(&format!(
                "TRACE_DUMP_SIGNAL={name:?} is not a signal this runtime can use (USR1, USR2, or off); using USR1"
            ));
            default_dump_signal()
        }),
    };
    let signals = match var("TRACE_SIGNALS").as_deref() {
        None | Some("") | Some("on") => true,
        Some("off") => false,
        Some(other) => {
            warn(&format!(
                "TRACE_SIGNALS={other:?} is neither on nor off; taking the signals (on)"
            ));
            true
        }
    };
    let watch_ns = var("TRACE_WATCH")
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| {
            let ns = crate::filter::parse_duration(v.trim()).filter(|ns| *ns > 0);
            if ns.is_none() {
                warn(&format!(
                    "TRACE_WATCH={v:?} is not a duration like 5s; not watching"
                ));
            }
            ns
        });
    let hot = match var("TRACE_HOT") {
        None => Some(Hot::DEFAULT),
        Some(v) => Hot::parse(&v).unwrap_or_else(|e| {
            warn(&format!("TRACE_HOT={v:?}: {e}; using the default"));
            Some(Hot::DEFAULT)
        }),
    };
    let values = match var("TRACE_VALUES").as_deref() {
        None | Some("") | Some("on") => true,
        Some("off") => false,
        Some(other) => {
            warn(&format!(
                "TRACE_VALUES={other:?} is neither on nor off; recording values (on)"
            ));
            true
        }
    };
    let value_max = match var("TRACE_VALUE_MAX") {
        None => VALUE_MAX,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=4096).contains(&n) => n,
            _ => {
                warn(&format!(
                    "TRACE_VALUE_MAX={v:?} is not a number of bytes from 1 to 4096; using {VALUE_MAX}"
                ));
                VALUE_MAX
            }
        },
    };
    let focus = var("TRACE_FOCUS")
        .filter(|f| !f.trim().is_empty())
        .map(|f| FocusRule::parse(&f));
    Config {
        values,
        value_max,
        hot,
        watch_ns,
        format,
        out,
        no_color: no_color(),
        chunk: buffer,
        collectors,
        focus: focus.as_ref().map(|f| f.name.clone()),
        focus_errors: focus.is_some_and(|f| f.errors),
        summary: var("TRACE_SUMMARY").is_some_and(|v| !v.is_empty() && v != "0"),
        summary_json: std::env::var_os("TRACE_SUMMARY_JSON")
            .filter(|v| !v.is_empty())
            .map(|v| with_pid(&v.to_string_lossy())),
        max_depth: filter.max_depth.unwrap_or(u32::MAX),
        filter,
        filter_spec,
        record: std::env::var_os("TRACE_RECORD")
            .filter(|v| !v.is_empty())
            .map(|v| with_pid(&v.to_string_lossy())),
        dump_signal,
        signals,
        verbose: var("TRACE_VERBOSE").is_some_and(|v| !v.is_empty() && v != "0"),
    }
}

#[cfg(feature = "enable")]
#[cfg(all(unix, feature = "enable"))]
fn default_dump_signal() -> Option<i32> {
    Some(libc::SIGUSR1)
}

#[cfg(feature = "enable")]
#[cfg(not(all(unix, feature = "enable")))]
fn default_dump_signal() -> Option<i32> {
    None
}

#[cfg(feature = "enable")]
/// `USR1`, `SIGUSR1`, `USR2`, `SIGUSR2` or a number.
#[cfg(all(unix, feature = "enable"))]
fn signal_number(name: &str) -> Option<i32> {
    match name.trim().trim_start_matches("SIG") {
        "USR1" => Some(libc::SIGUSR1),
        "USR2" => Some(libc::SIGUSR2),
        n => n.parse().ok().filter(|n| {
            // The fatal signals the runtime reports on cannot double as the dump signal,
            // SIGKILL/SIGSTOP cannot be caught, and a handler for a fault signal would return
            // into the fault; real-time signals end at 64 on every unix.
            ![
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGINT,
                libc::SIGTERM,
                libc::SIGHUP,
                libc::SIGILL,
                libc::SIGFPE,
                libc::SIGSEGV,
                libc::SIGBUS,
            ]
            .contains(n)
                && (1..=64).contains(n)
        }),
    }
}

#[cfg(feature = "enable")]
#[cfg(not(all(unix, feature = "enable")))]
fn signal_number(_: &str) -> Option<i32> {
    None
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "read")]
    #[test]
    fn every_listed_format_name_parses_to_its_own_format() {
        use super::Format;
        let parsed: Vec<Option<Format>> = Format::NAMES.iter().map(|n| Format::parse(n)).collect();
        assert_eq!(
            parsed,
            [
                Some(Format::Human),
                Some(Format::Jsonl),
                Some(Format::Chrome),
                Some(Format::Folded),
                Some(Format::Otlp)
            ]
        );
    }

    #[cfg(feature = "enable")]
    #[test]
    fn trace_hot_parses_off_and_its_two_settings() {
        use super::Hot;
        assert_eq!(Hot::parse(""), Ok(Some(Hot::DEFAULT)));
        assert_eq!(Hot::parse("off"), Ok(None));
        assert_eq!(
            Hot::parse("calls=1000, under=1.5us"),
            Ok(Some(Hot {
                calls: 1000,
                under_ns: 1500
            }))
        );
        assert_eq!(
            Hot::parse("under=50ns"),
            Ok(Some(Hot {
                calls: 100_000,
                under_ns: 50
            }))
        );
        assert_eq!(
            Hot::parse("calls=0"),
            Err("calls=0 is not a number of calls (1 or more)".into())
        );
        assert_eq!(Hot::parse("on"), Ok(Some(Hot::DEFAULT)));
        assert_eq!(
            Hot::parse("yes"),
            Err("\"yes\" is neither on, off, calls=N nor under=DURATION".into())
        );
    }
}
