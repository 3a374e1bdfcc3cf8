//! Diagnostics on stderr: `path:line:col: message`, coloured on a terminal unless `NO_COLOR`.

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// One problem, located as precisely as it is known, with what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    /// 1-based line and column, when known.
    pub at: Option<(usize, usize)>,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The tool failed, not the input: an I/O failure of its own work (writing the traced
    /// copy, running cargo), which gets its own exit code.
    pub internal: bool,
}

impl Diagnostic {
    pub fn new(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            at: None,
            message: message.into(),
            help: None,
            internal: false,
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.at = Some((line, column));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Marks a failure of the tool's own work rather than of the input.
    pub fn internal(mut self) -> Self {
        self.internal = true;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cwd = std::env::current_dir().unwrap_or_default();
        write!(f, "{}", relative(&self.path, &cwd).display())?;
        if let Some((line, col)) = self.at {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Where diagnostics and reports go.
#[derive(Clone, Copy)]
pub struct Stderr {
    color: bool,
}

impl Stderr {
    pub fn new() -> Self {
        Stderr {
            color: std::io::stderr().is_terminal() && !trace_runtime::read::no_color(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn error(&self, d: &Diagnostic) {
        eprintln!("{} {d}", self.paint("1;31", "error:"));
    }

    pub fn warning(&self, d: &Diagnostic) {
        eprintln!("{} {d}", self.paint("1;33", "warning:"));
    }

    pub fn note(&self, text: &str) {
        eprintln!("{} {text}", self.paint("1;36", "note:"));
    }

    pub fn plain(&self, text: &str) {
        eprintln!("{text}");
    }
}

impl Default for Stderr {
    fn default() -> Self {
        Self::new()
    }
}

/// A path shown relative to `base` when it is inside it; `base` itself is `.`.
pub fn relative(path: &Path, base: &Path) -> PathBuf {
    match path.strip_prefix(base) {
        Ok(p) if p.as_os_str().is_empty() => PathBuf::from("."),
        Ok(p) => p.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}
