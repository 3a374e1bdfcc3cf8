//! Reads the environment once: `TRACE_FORMAT`, `TRACE_OUT`, `NO_COLOR`.

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
}

pub(crate) struct Config {
    pub format: Format,
    pub color: bool,
    /// `TRACE_OUT=off`: chains are kept, nothing is written.
    pub silent: bool,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// The process's configuration, read on first use. Also opens the sink and installs the exit
/// hooks, so that everything the first event needs exists before it is written.
pub(crate) fn get() -> &'static Config {
    CONFIG.get_or_init(|| {
        let format = match std::env::var("TRACE_FORMAT").as_deref() {
            Ok("jsonl") | Ok("json") => Format::Jsonl,
            Ok("human") | Ok("") | Err(_) => Format::Human,
            Ok(other) => {
                crate::sink::warn(&format!(
                    "TRACE_FORMAT={other:?} is not a known format (human, jsonl); using human"
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
        crate::exit::install();
        Config {
            format,
            color: format == Format::Human && terminal && !no_color,
            silent: target == Target::Off,
        }
    })
}
