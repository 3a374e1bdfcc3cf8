//! Reads the environment once: `TRACE_FORMAT`, `TRACE_OUT`, `TRACE_MODE`, `TRACE_BUFFER`,
//! `NO_COLOR`.

use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::sink::Target;

/// How events are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Indented enter/exit lines.
    Human,
    /// One JSON object per event.
    Jsonl,
    /// Collapsed stacks (`a;b;c self_ns`), written at exit, for flame graphs.
    Folded,
    /// Trace Event Format JSON, for Perfetto and chrome://tracing.
    Chrome,
}

/// When records become text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// As the program runs: when a thread's buffer fills, and when an outermost call returns
    /// 100 ms or more after the last write.
    Print,
    /// Only when a thread's (larger) buffer fills, when the thread ends, at exit and on panic.
    Record,
}

pub(crate) struct Config {
    pub format: Format,
    pub color: bool,
    pub mode: Mode,
    /// Records per thread buffer (`TRACE_BUFFER`).
    pub capacity: usize,
    /// Print mode: an outermost exit this long after the last write renders the buffer.
    pub flush_every_ticks: u64,
    /// `TRACE_FOCUS`: print only the chains that reach this fn.
    pub focus: Option<String>,
    /// `TRACE_SUMMARY`: a per-fn table and the weighted call graph at exit.
    pub summary: bool,
    /// `TRACE_SUMMARY_JSON`: the same as JSON, to this file.
    pub summary_json: Option<std::path::PathBuf>,
    /// `TRACE_FILTER`.
    pub filter: crate::filter::Filter,
    /// `depth=` of `TRACE_FILTER`, or no limit.
    pub max_depth: u32,
    /// Per-call analysis is needed on exits (summary, folded stacks, focus).
    pub analyze: bool,
    /// Records are taken but no event line is written (`TRACE_OUT=off`, focus, folded).
    pub quiet_events: bool,
}

/// Records per thread in print mode: 4,096 records, 128 KiB.
pub(crate) const PRINT_CAPACITY: usize = 4096;
/// Records per thread in record mode unless `TRACE_BUFFER` says otherwise: 65,536 records,
/// 2 MiB.
pub(crate) const RECORD_CAPACITY: usize = 65_536;

static CONFIG: OnceLock<Config> = OnceLock::new();

/// The process's configuration, read on first use. Also opens the sink and installs the exit
/// hooks, so that everything the first event needs exists before it is written.
pub(crate) fn get() -> &'static Config {
    CONFIG.get_or_init(|| {
        let format = match std::env::var("TRACE_FORMAT").as_deref() {
            Ok("jsonl") | Ok("json") => Format::Jsonl,
            Ok("folded") => Format::Folded,
            Ok("chrome") => Format::Chrome,
            Ok("human") | Ok("") | Err(_) => Format::Human,
            Ok(other) => {
                crate::sink::warn(&format!(
                    "TRACE_FORMAT={other:?} is not a known format (human, jsonl, folded, chrome); using human"
                ));
                Format::Human
            }
        };
        let target = crate::sink::init(std::env::var_os("TRACE_OUT"));
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let terminal = match target {
            Target::Stderr => std::io::stderr().is_terminal(),
            Target::Stdout => std::io::stdout().is_terminal(),
            _ => false,
        };
        let mode = match std::env::var("TRACE_MODE").as_deref() {
            Ok("record") => Mode::Record,
            Ok("print") | Ok("") | Err(_) => Mode::Print,
            Ok(other) => {
                crate::sink::warn(&format!("TRACE_MODE={other:?} is not a known mode (print, record); using print"));
                Mode::Print
            }
        };
        let default_capacity = match mode {
            Mode::Print => PRINT_CAPACITY,
            Mode::Record => RECORD_CAPACITY,
        };
        let capacity = match std::env::var("TRACE_BUFFER") {
            Err(_) => default_capacity,
            Ok(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 16 => n,
                _ => {
                    crate::sink::warn(&format!(
                        "TRACE_BUFFER={v:?} is not a number of records (16 or more); using {default_capacity}"
                    ));
                    default_capacity
                }
            },
        };
        let focus = std::env::var("TRACE_FOCUS").ok().filter(|f| !f.trim().is_empty());
        let summary = std::env::var("TRACE_SUMMARY").is_ok_and(|v| !v.is_empty() && v != "0");
        let summary_json = std::env::var_os("TRACE_SUMMARY_JSON").filter(|v| !v.is_empty()).map(Into::into);
        let filter = match std::env::var("TRACE_FILTER") {
            Ok(spec) => crate::filter::Filter::parse(&spec).unwrap_or_else(|e| {
                crate::sink::warn(&format!("TRACE_FILTER={spec:?}: {e}; tracing everything"));
                crate::filter::Filter::default()
            }),
            Err(_) => crate::filter::Filter::default(),
        };
        crate::sink::begin(format);
        crate::exit::install();
        let cal = crate::clock::calibration();
        let silent = target == Target::Off;
        Config {
            format,
            color: format == Format::Human && terminal && !no_color,
            mode,
            capacity,
            flush_every_ticks: cal.ticks_for(100_000_000),
            analyze: summary || summary_json.is_some() || format == Format::Folded || focus.is_some(),
            quiet_events: silent || focus.is_some() || format == Format::Folded,
            focus,
            summary,
            summary_json,
            max_depth: filter.max_depth.unwrap_or(u32::MAX),
            filter,
        }
    })
}
