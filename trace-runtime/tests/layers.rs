//! The runtime's layers only look down: capture (the hot path) below collection (the collector,
//! the decoder, and the recording, which is the raw stream and no view) below the views, with
//! the plain configuration modules beneath all three and the wiring (set-up, hooks, the facade)
//! above them. Checked over every `crate::` path in the sources, so that no import cycle can
//! creep back in.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module's layer: a module may only name modules of its own layer or below.
fn layer(module: &str) -> Option<u8> {
    Some(match module {
        "config" | "filter" | "name" | "sink" | "report" | "units" | "value" => 0,
        "capture" => 1,
        "collect" => 2,
        "view" => 3,
        "setup" | "hooks" | "chain" | "thread" | "__private" | "lib" => 4,
        _ => return None,
    })
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_crate_path_points_to_the_same_layer_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut upward = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let own = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let own_layer = layer(&own).unwrap_or_else(|| panic!("{} has no layer", rel.display()));
        let text = std::fs::read_to_string(file).unwrap();
        // Grouped paths would hide their targets from this check.
        assert!(
            !text.contains("crate::{"),
            "{}: write one `crate::` path per module",
            rel.display()
        );
        for (at, _) in text.match_indices("crate::") {
            // `$crate::` in macros names the crate from outside: not an internal edge.
            if text[..at].ends_with('$') {
                continue;
            }
            let target: String = text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let Some(target_layer) = layer(&target) else {
                continue;
            };
            *seen.entry(format!("{own} -> {target}")).or_default() += 1;
            if target_layer > own_layer {
                let line = text[..at].lines().count();
                upward.push(format!("{}:{line}: {own} names {target}", rel.display()));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "upward references:\n{}",
        upward.join("\n")
    );
    // The check sees the edges that exist: the layers are really wired to one another.
    for edge in [
        "collect -> capture",
        "view -> collect",
        "setup -> view",
        "capture -> config",
    ] {
        assert!(seen.contains_key(edge), "{edge} not found in {seen:?}");
    }
}
