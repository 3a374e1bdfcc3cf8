//! Cargo.toml edits with toml_edit: the `trace-runtime` dependency and the `trace` feature, each
//! marked by a comment that says exactly what was added, so `remove` restores the original
//! bytes and never touches what the user wrote.

use std::path::PathBuf;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

/// Where the rewritten crate gets `trace-runtime` from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// A local checkout's `trace-runtime` directory.
    Path(PathBuf),
    /// A version requirement on the registry.
    Version(String),
}

const DEP: &str = "trace-runtime";
const MARK: &str = "# trace-rewriter:";
const ADDED_DEP: &str = "# trace-rewriter: added this dependency\n";
const ADDED_FEATURE: &str = "# trace-rewriter: added this feature\n";
const ADDED_TABLE: &str = "# trace-rewriter: added this table\n";
const EXTENDED: &str = "# trace-rewriter: extended with ";

/// Adds the optional `trace-runtime` dependency and a `trace` feature that switches it on; an
/// existing `trace` feature is extended, never replaced. Idempotent.
///
/// ```
/// use trace_rewriter::manifest::{instrument, remove, Runtime};
/// let original = "[package]\nname = \"demo\"\n\n[features]\ntrace = [\"log\"] # keep me\n";
/// let traced = instrument(original, &Runtime::Version("0.1".into())).unwrap();
/// assert!(traced.contains("trace = [\"log\", \"dep:trace-runtime\", \"trace-runtime/enable\"] # keep me"));
/// assert_eq!(remove(&traced).unwrap(), original);
/// ```
pub fn instrument(text: &str, runtime: &Runtime) -> Result<String, String> {
    with_line_endings(text, |text| instrument_lf(text, runtime))
}

fn instrument_lf(text: &str, runtime: &Runtime) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    if doc.get("package").is_none() {
        return Err("no [package] table: not a crate manifest".into());
    }
    let mut wanted = vec!["trace-runtime/enable".to_string()];
    let deps = table(&mut doc, "dependencies")?;
    if !deps.contains_key(DEP) {
        let mut spec = InlineTable::new();
        match runtime {
            Runtime::Path(p) => spec.insert("path", Value::from(p.display().to_string())),
            Runtime::Version(v) => spec.insert("version", Value::from(v.as_str())),
        };
        spec.insert("optional", Value::from(true));
        if deps.is_implicit() {
            // Only `[dependencies.name]` tables here: add one more in that style, so that no
            // `[dependencies]` header appears (and none is left behind by `remove`).
            let mut t = spec.into_table();
            t.decor_mut().set_prefix(format!("\n{ADDED_DEP}"));
            deps.insert(DEP, Item::Table(t));
        } else {
            deps.insert(DEP, Item::Value(Value::InlineTable(spec)));
            if let Some(mut key) = deps.key_mut(DEP) {
                key.leaf_decor_mut().set_prefix(ADDED_DEP);
            }
        }
        wanted.insert(0, "dep:trace-runtime".to_string());
    } else if added_dep(deps) {
        wanted.insert(0, "dep:trace-runtime".to_string());
    }
    let features = table(&mut doc, "features")?;
    match features.get_mut("trace") {
        None => {
            let mut values = Array::new();
            values.extend(wanted.iter().map(String::as_str));
            features.insert("trace", Item::Value(Value::Array(values)));
            if let Some(mut key) = features.key_mut("trace") {
                key.leaf_decor_mut().set_prefix(ADDED_FEATURE);
            }
        }
        Some(item) => {
            let values = item
                .as_array_mut()
                .ok_or("the `trace` feature is not an array of strings")?;
            let have: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let missing: Vec<String> = wanted.into_iter().filter(|w| !have.contains(w)).collect();
            if !missing.is_empty() {
                values.extend(missing.iter().map(String::as_str));
                let mut key = features.key_mut("trace").expect("present");
                let prefix = prefix_of(key.leaf_decor());
                let list = missing
                    .iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                key.leaf_decor_mut()
                    .set_prefix(format!("{prefix}{EXTENDED}{list}\n"));
            }
        }
    }
    Ok(doc.to_string())
}

/// Whether a manifest carries what [`instrument`] adds (its marker comments).
///
/// ```
/// use trace_rewriter::manifest::{instrument, is_instrumented, Runtime};
/// let original = "[package]\nname = \"demo\"\n";
/// assert!(!is_instrumented(original));
/// assert!(is_instrumented(&instrument(original, &Runtime::Version("0.1".into())).unwrap()));
/// ```
pub fn is_instrumented(text: &str) -> bool {
    text.contains(MARK)
}

/// Takes out exactly what [`instrument`] added, as its marker comments record.
pub fn remove(text: &str) -> Result<String, String> {
    if !is_instrumented(text) {
        return Ok(text.to_string());
    }
    with_line_endings(text, remove_lf)
}

/// toml_edit writes `\n` line endings; a manifest written with `\r\n` throughout gets them back.
fn with_line_endings(
    text: &str,
    edit: impl FnOnce(&str) -> Result<String, String>,
) -> Result<String, String> {
    let crlf = text.contains("\r\n") && text.matches('\n').count() == text.matches("\r\n").count();
    if !crlf {
        return edit(text);
    }
    Ok(edit(&text.replace("\r\n", "\n"))?.replace('\n', "\r\n"))
}

fn remove_lf(text: &str) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    if let Some(features) = doc.get_mut("features").and_then(Item::as_table_mut) {
        let marker = features.key("trace").map(|k| prefix_of(k.leaf_decor()));
        let added: Option<(String, Vec<String>)> = match marker.as_deref() {
            Some(prefix) if prefix.contains(ADDED_FEATURE) => Some((
                prefix.replace(ADDED_FEATURE, ""),
                OURS.iter().map(|s| s.to_string()).collect(),
            )),
            Some(prefix) if prefix.contains(EXTENDED) => Some(split_extended(prefix)),
            _ => None,
        };
        if let Some((kept_prefix, added)) = added {
            // The user may have added values of their own since: those stay, and with them
            // the feature, under the user's own comments only.
            let left = features
                .get_mut("trace")
                .and_then(Item::as_array_mut)
                .map(|values| drop_values(values, &added))
                .unwrap_or(0);
            let ours_alone = marker.as_deref().is_some_and(|p| p.contains(ADDED_FEATURE));
            if left == 0 && ours_alone {
                features.remove("trace");
            } else if let Some(mut key) = features.key_mut("trace") {
                key.leaf_decor_mut().set_prefix(kept_prefix);
            }
        }
    }
    if let Some(deps) = doc.get_mut("dependencies").and_then(Item::as_table_mut) {
        if added_dep(deps) {
            deps.remove(DEP);
        }
    }
    for name in ["features", "dependencies"] {
        let Some(table) = doc.get_mut(name).and_then(Item::as_table_mut) else {
            continue;
        };
        let prefix = prefix_of(table.decor());
        if !prefix.contains(ADDED_TABLE) {
            continue;
        }
        if table.is_empty() {
            doc.remove(name);
        } else {
            // The user has put something of their own in the table since: it stays, unmarked.
            table
                .decor_mut()
                .set_prefix(prefix.replace(ADDED_TABLE, ""));
        }
    }
    Ok(doc.to_string())
}

/// What `instrument` puts in a `trace` feature it creates.
const OURS: [&str; 2] = ["dep:trace-runtime", "trace-runtime/enable"];

/// Removes `values` from an array, giving the new first value the old first one's layout.
/// Returns how many values are left.
fn drop_values(array: &mut Array, values: &[String]) -> usize {
    let first_prefix = array
        .get(0)
        .and_then(|v| v.decor().prefix())
        .and_then(|p| p.as_str())
        .map(str::to_string);
    let first_dropped = array
        .get(0)
        .is_some_and(|v| v.as_str().is_some_and(|s| values.iter().any(|a| a == s)));
    array.retain(|v| !v.as_str().is_some_and(|s| values.iter().any(|a| a == s)));
    if first_dropped {
        if let (Some(prefix), Some(first)) = (first_prefix, array.get_mut(0)) {
            first.decor_mut().set_prefix(prefix);
        }
    }
    array.len()
}

/// Whether the `trace-runtime` dependency carries the marker `instrument` puts on it.
fn added_dep(deps: &Table) -> bool {
    let on_key = deps
        .key(DEP)
        .is_some_and(|k| prefix_of(k.leaf_decor()).contains(ADDED_DEP));
    let on_table = deps
        .get(DEP)
        .and_then(Item::as_table)
        .is_some_and(|t| prefix_of(t.decor()).contains(ADDED_DEP));
    on_key || on_table
}

/// The named top-level table, created (and marked) when missing.
fn table<'a>(doc: &'a mut DocumentMut, name: &str) -> Result<&'a mut Table, String> {
    if doc.get(name).is_none() {
        let mut t = Table::new();
        t.decor_mut().set_prefix(format!("\n{ADDED_TABLE}"));
        doc.insert(name, Item::Table(t));
    }
    doc.get_mut(name)
        .and_then(Item::as_table_mut)
        .ok_or_else(|| format!("[{name}] is not a table"))
}

fn prefix_of(decor: &toml_edit::Decor) -> String {
    decor
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Splits a key prefix into what the user had and the values the marker line lists.
fn split_extended(prefix: &str) -> (String, Vec<String>) {
    let mut kept = String::new();
    let mut added = Vec::new();
    for line in prefix.split_inclusive('\n') {
        match line.strip_prefix(EXTENDED) {
            Some(list) => added.extend(
                list.trim()
                    .split(", ")
                    .map(|s| s.trim_matches('"').to_string()),
            ),
            None => kept.push_str(line),
        }
    }
    (kept, added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(original: &str) -> String {
        let runtime = Runtime::Path("/opt/trace/trace-runtime".into());
        let traced = instrument(original, &runtime).unwrap();
        assert_eq!(instrument(&traced, &runtime).unwrap(), traced, "idempotent");
        assert_eq!(
            remove(&traced).unwrap(),
            original,
            "remove restores the bytes"
        );
        traced
    }

    #[test]
    fn adds_dependency_and_feature_to_a_bare_manifest() {
        let traced = round_trip("[package]\nname = \"a\"\nversion = \"0.1.0\"\n");
        assert_eq!(
            traced,
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n\n# trace-rewriter: added this table\n\
             [dependencies]\n# trace-rewriter: added this dependency\n\
             trace-runtime = { path = \"/opt/trace/trace-runtime\", optional = true }\n\n\
             # trace-rewriter: added this table\n[features]\n# trace-rewriter: added this feature\n\
             trace = [\"dep:trace-runtime\", \"trace-runtime/enable\"]\n"
        );
    }

    #[test]
    fn keeps_comments_layout_and_crlf() {
        round_trip("# top\r\n[package]\r\nname = \"a\" # inline\r\n\r\n[dependencies]\r\nlog = \"0.4\"\r\n\r\n[features]\r\ndefault = []\r\n");
        round_trip("[package]\nname='a'\n[dependencies.serde]\nversion = \"1\"\n[features]\ntrace = [\n  \"serde\", # why\n]\n");
    }

    #[test]
    fn an_existing_runtime_dependency_is_left_as_is() {
        let traced =
            round_trip("[package]\nname = \"a\"\n[dependencies]\ntrace-runtime = \"0.1\"\n");
        assert!(
            traced.contains("trace = [\"trace-runtime/enable\"]"),
            "{traced}"
        );
        assert!(!traced.contains("dep:"), "{traced}");
    }

    #[test]
    fn dotted_dependency_tables_stay_dotted() {
        let traced =
            round_trip("[package]\nname = \"a\"\n\n[dependencies.log]\nversion = \"0.4\"\n");
        assert!(traced.contains("[dependencies.trace-runtime]"), "{traced}");
        assert!(!traced.contains("[dependencies]\n"), "{traced}");
    }

    #[test]
    fn values_the_user_added_to_our_feature_stay_and_no_marker_is_left() {
        let original = "[package]\nname = \"a\"\n\n[features]\nextra = []\n";
        let traced = instrument(original, &Runtime::Version("0.1".into())).unwrap();
        let extended = traced.replace(
            "\"trace-runtime/enable\"]",
            "\"trace-runtime/enable\", \"extra\"]",
        );
        assert_ne!(extended, traced);
        assert_eq!(
            remove(&extended).unwrap(),
            "[package]\nname = \"a\"\n\n[features]\nextra = []\ntrace = [\"extra\"]\n"
        );
        // Also when the user's value comes first, in a feature `instrument` extended.
        let original = "[package]\nname = \"a\"\n[features]\ntrace = [\"std\"]\nstd = []\n";
        let traced = instrument(original, &Runtime::Version("0.1".into())).unwrap();
        let extended = traced.replace("\"std\", ", "\"std\", \"extra\", ");
        let removed = remove(&extended).unwrap();
        assert!(
            removed.contains("trace = [\"std\", \"extra\"]\n"),
            "{removed}"
        );
        assert!(!removed.contains("trace-rewriter"), "{removed}");
    }

    #[test]
    fn a_workspace_manifest_is_refused() {
        assert!(instrument("[workspace]\nmembers = []\n", &Runtime::Version("1".into())).is_err());
    }
}
