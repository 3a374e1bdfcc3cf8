//! `html`: a recording as one self-contained page (no network): the document the page needs
//! (`data.rs`) inserted once, as JSON, into the one template (`report.html`, its markup, style
//! and script), which draws the flame graph, the timeline and the tables in the browser.

pub mod data;

use std::path::{Path, PathBuf};

use crate::cli::Recorded;
use crate::diag::{Diagnostic, Stderr};
use crate::viewer::load;

/// `html FILE [-o OUT.html]`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub recorded: Recorded,

    /// Where to write the page [default: FILE with the extension .html].
    #[arg(short, long, value_name = "OUT.html")]
    pub output: Option<PathBuf>,
}

/// What `html --help` ends with.
pub const EXAMPLES: &str = "\
Examples:
  cargo trace html run.trace                        writes run.html beside it
  cargo trace html -o report.html                   the newest recording of this crate

The page needs no network. However long the run, it holds figures, not events: the flame
graph sums calls by stack and the timeline merges calls too short to see with their
neighbours and caps each track; the page says what it merged and left out (docs/html.md).

FILE is a recording made with TRACE_RECORD=FILE; a recording cut short is shown up to its last
complete chunk, and what was lost is said on stderr and on the page. Exit codes: 0 done, 2 bad
input (not a readable recording, a page that cannot be written or would overwrite the
recording).";

/// The page: markup, style and script, with one place for the document.
pub const TEMPLATE: &str = include_str!("report.html");
/// Where the document goes in the template (once).
pub const SLOT: &str = "/*TRACE_DATA*/";

/// The page for a document: the template with the document in its slot. Every `<` of the JSON
/// (only ever inside its strings) is written `\u003c`, so that no fn name can end the script.
///
/// ```no_run
/// use trace_rewriter::html::{data, render};
/// use trace_runtime::read::recording::Recording;
///
/// let rec = Recording::parse(&std::fs::read("run.trace").unwrap()).unwrap();
/// let file = data::File { path: "run.trace".into(), bytes: 0, modified_s: None };
/// std::fs::write("run.html", render(&data::Page::build(&rec, file))).unwrap();
/// ```
pub fn render(page: &data::Page) -> String {
    let json = serde_json::to_string(page).expect("the document is plain data");
    TEMPLATE.replacen(SLOT, &json.replace('<', "\\u003c"), 1)
}

/// Where the page goes without `-o`: beside the recording, `.html` for its extension.
///
/// ```
/// use std::path::Path;
/// use trace_rewriter::html::default_output;
/// assert_eq!(default_output(Path::new("runs/a.trace")), Path::new("runs/a.html"));
/// ```
pub fn default_output(recording: &Path) -> PathBuf {
    recording.with_extension("html")
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes the page for a recording and says where.
pub fn html(c: &Args, err: &Stderr) -> Result<u8, Diagnostic> {
    let path = &crate::viewer::which(&c.recorded.file, err)?;
    let out = c.output.clone().unwrap_or_else(|| default_output(path));
    if same_file(path, &out) {
        return Err(
            Diagnostic::new(&out, "the page would overwrite the recording")
                .help("give another path with -o"),
        );
    }
    let rec = load(path, err)?;
    let meta = std::fs::metadata(path).ok();
    let file = data::File {
        path: path.display().to_string(),
        bytes: meta.as_ref().map_or(0, |m| m.len()),
        modified_s: meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs()),
    };
    let page = data::Page::build(&rec, file);
    let text = render(&page);
    std::fs::write(&out, &text).map_err(|e| {
        Diagnostic::new(&out, format!("cannot write the page: {e}"))
            .help("give a writable path with -o")
    })?;
    err.plain(&format!(
        "html: wrote {} ({} bytes; {}, {})",
        out.display(),
        text.len(),
        trace_runtime::read::units::count(page.events as u64, "event"),
        trace_runtime::read::units::count(page.fns.len() as u64, "fn")
    ));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_has_one_slot_in_its_data_element() {
        assert_eq!(TEMPLATE.matches(SLOT).count(), 1);
        assert!(TEMPLATE.contains(&format!(
            "<script id=\"data\" type=\"application/json\">{SLOT}</script>"
        )));
    }

    #[test]
    fn no_name_can_end_the_data_element() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../trace-runtime/tests/data/exits-v3.trace"
        );
        let rec = trace_runtime::read::recording::Recording::parse(&std::fs::read(path).unwrap())
            .unwrap();
        let file = data::File {
            path: "</script><script>alert(1)</script>.trace".into(),
            bytes: 0,
            modified_s: None,
        };
        let page = data::Page::build(&rec, file);
        let html = render(&page);
        let element = html.find("<script id=\"data\"").unwrap();
        let start = element + html[element..].find('>').unwrap() + 1;
        let end = start + html[start..].find("</script>").unwrap();
        let json = &html[start..end];
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(json).unwrap()["file"]["path"],
            "</script><script>alert(1)</script>.trace"
        );
        assert!(!html.contains("<script>alert"));
    }
}
