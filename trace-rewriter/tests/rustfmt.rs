//! `cargo fmt` after `instrument`, then `remove`, must give exactly what `cargo fmt` makes of the
//! original. A deterministic generator lays out fns over the body shapes rustfmt treats
//! differently when a statement comes first (empty bodies, comment-only bodies, blank lines
//! after `{`, comments on the brace's line, inner attributes, wrapped signatures, where
//! clauses, long names that push a trailing comment off a line) and checks every one; rustfmt
//! runs once per batch, over one file holding them all.

use std::io::Write;
use std::process::{Command, Stdio};

use trace_rewriter::source::{instrument, remove, SourceOptions};

/// The toolchain's rustfmt over a file's text, as `cargo fmt` would format it.
fn rustfmt(text: &str) -> String {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rustfmt is installed with the toolchain");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "rustfmt: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Bodies, as a person might write them (rustfmt then lays them out).
const BODIES: &[&str] = &[
    "{}",
    "{\n}",
    "{\n\n}",
    "{ /* c */ }",
    "{\n    /* c */\n}",
    "{ // c\n}",
    "{\n    // c\n}",
    "{\n\n    // c\n}",
    "{\n    // c\n\n}",
    "{ /* c */ /* d */ }",
    "{ /* c */\n    /* d */ }",
    "{ // c\n    // d\n}",
    "{ // c\n\n    // d\n}",
    "{\n    // c\n    // d\n}",
    "{\n    // c\n\n    // d\n}",
    "{\n    /* a\n    b */\n}",
    "{ /* a\n     * b\n     */ }",
    "{ /* a\n    b */ }",
    "{\n    /* a\n     * b\n     */\n}",
    "{ /* a longer comment that takes up a good part of the line on its own, and then more */ }",
    "{\n    x();\n}",
    "{\n\n    x();\n}",
    "{\n\n\n    x();\n\n}",
    "{ x(); }",
    "{ // c\n    x();\n}",
    "{ /* c */ x(); }",
    "{ /* c */\n    x();\n}",
    "{\n\n    // c\n    x();\n}",
    "{\n    // c\n\n    x();\n}",
    "{ // c\n\n    x();\n}",
    "{\n    x();\n    // end\n}",
    "{ x(); /* t */ }",
    "{ 1 }",
    "{\n    1\n}",
    "{\n\n    1\n}",
    "{\n    {\n        x();\n    }\n}",
    "{\n    #![allow(unused)]\n    x();\n}",
    "{ #![allow(unused)] }",
    "{\n    #![allow(unused)]\n\n    x();\n}",
    "{\n    #![allow(unused)]\n    // c\n}",
    "{\n    //! An inner doc comment.\n    x();\n}",
    "{\n    /// A doc comment on a statement.\n    let _y = 1;\n}",
    "{\n    #[allow(unused)]\n    let y = 1;\n}",
    "{\n    let y = 1;\n\n    y\n}",
];

/// Signatures. Every case of one signature has the same fn name, so that the guard lines
/// rustfmt makes of two cases are the same width and their texts can be compared.
const SIGNATURES: &[&str] = &[
    "fn f()",
    "pub fn a_fn_with_a_long_name_that_pushes_comments_off()",
    "pub fn a_fn_whose_signature_wraps(first_argument: u32, second_argument: u32, third: u32)",
    "fn g<T>()\nwhere\n    T: Clone",
    "pub(crate) fn h(x: u32) -> u32 where u32: Copy",
];

/// The line that opens case `n` (rustfmt keeps a comment between items where it is).
fn marker(n: usize) -> String {
    format!("// case {n}\n")
}

/// Every signature with every body, at the top level and as methods, in one file; each case
/// opened by its marker. Returns the file and, per case, its signature's and its body's number.
fn generated() -> (String, Vec<(usize, usize)>) {
    let mut top = String::new();
    let mut methods = String::from("pub struct S;\n\nimpl S {\n");
    let mut signature_of = Vec::new();
    for (s, sig) in SIGNATURES.iter().enumerate() {
        for (b, body) in BODIES.iter().enumerate() {
            // A body ending in a value needs a return type, one without needs none.
            let returns = body.contains("1\n") || body.contains("{ 1 }") || body.contains("y\n");
            let mut sig = sig.to_string();
            if returns && !sig.contains("->") {
                sig = sig.replacen(')', ") -> u32", 1);
            } else if !returns && sig.contains("-> u32") {
                sig = sig.replace(" -> u32", "");
            }
            top.push_str(&format!("{}{sig} {body}\n\n", marker(signature_of.len())));
            signature_of.push((s, b));
            let indented = body.replace('\n', "\n    ");
            let sig = sig.replace('\n', "\n    ");
            methods.push_str(&format!(
                "    {}    {sig} {indented}\n\n",
                marker(signature_of.len())
            ));
            signature_of.push((SIGNATURES.len() + s, b));
        }
    }
    methods.push_str("}\n");
    (format!("{top}{methods}"), signature_of)
}

/// A formatted file cut at the case markers: case `n`'s text, after its marker, at `n`.
fn cases(text: &str, count: usize) -> Vec<String> {
    let starts: Vec<usize> = (0..count)
        .map(|n| {
            text.find(&marker(n))
                .unwrap_or_else(|| panic!("case {n} is missing:\n{text}"))
        })
        .collect();
    let mut sorted = starts.clone();
    sorted.push(text.len());
    sorted.sort_unstable();
    starts
        .iter()
        .map(|&start| {
            let end = sorted[sorted.partition_point(|&s| s <= start)];
            // Without its marker, so that cases can be compared.
            let case = &text[start..end];
            case[case.find('\n').unwrap() + 1..].to_string()
        })
        .collect()
}

/// Every place two texts differ, for a readable failure.
fn differences(got: &str, want: &str) -> String {
    similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .context_radius(4)
        .header("rustfmt(src)", "remove(rustfmt(instrument(src)))")
        .to_string()
}

/// `remove(rustfmt(instrument(src)))`, with what rustfmt made of the instrumented text.
fn round_trip(src: &str) -> (String, String) {
    let traced = instrument(src, &SourceOptions::default()).unwrap();
    assert!(traced.instrumented() > 0);
    let formatted = rustfmt(&traced.text);
    assert!(
        formatted.contains("#[cfg(feature = \"trace\")]\n"),
        "rustfmt gave the guards lines of their own"
    );
    let removed = remove(&formatted).unwrap().text;
    assert!(!removed.contains("__trace_guard"), "{removed}");
    (removed, formatted)
}

fn check_round_trip(src: &str) {
    let want = rustfmt(src);
    let (removed, _) = round_trip(src);
    assert!(
        removed == want,
        "remove(rustfmt(instrument(src))) == rustfmt(src):\n{}",
        differences(&removed, &want)
    );
    assert_eq!(rustfmt(&removed), want, "and it is rustfmt's fixed point");
}

#[test]
fn remove_after_rustfmt_equals_rustfmt_of_the_original_for_every_body_shape() {
    let (src, shape_of) = generated();
    let n = shape_of.len();
    let want = rustfmt(&src);
    let (removed, formatted) = round_trip(&src);
    assert_eq!(rustfmt(&removed), removed, "rustfmt's fixed point");
    let (want, got, formatted) = (cases(&want, n), cases(&removed, n), cases(&formatted, n));
    // Two originals rustfmt makes one text of, once instrumented, cannot both be restored:
    // such a case must come back as one of them, and be a body without statements.
    let mut inexact = Vec::new();
    let mut failures = Vec::new();
    for i in 0..n {
        let alike: Vec<&String> = (0..n)
            .filter(|&j| shape_of[j].0 == shape_of[i].0 && formatted[j] == formatted[i])
            .map(|j| &want[j])
            .collect();
        if got[i] == want[i] {
            continue;
        }
        let body = BODIES[shape_of[i].1];
        if alike.contains(&&got[i]) && !["x()", "1", "let "].iter().any(|s| body.contains(s)) {
            inexact.push(body);
        } else {
            failures.push(differences(&got[i], &want[i]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} of {n} cases exact; comment-only bodies rustfmt left alike: {inexact:?}",
        n - inexact.len()
    );
}

#[test]
fn a_blank_line_after_the_brace_and_a_comment_only_body() {
    // The two shapes first reported: rustfmt drops a blank line that opens a body, but keeps
    // one after a first statement; it keeps a comment-only body's comment on the brace's
    // line, but puts it on a line of its own after a statement.
    check_round_trip(
        "pub fn blank() {\n\n    work();\n}\n\npub fn comment_only() { /* c */ }\n\nfn work() {}\n",
    );
}

#[test]
fn the_cli_round_trip_through_rustfmt_on_a_crate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"bodies\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    let lib = dir.path().join("src/lib.rs");
    let original = "pub fn blank() {\n\n    work();\n}\n\npub fn comment_only() { /* c */ }\n\n\
                    pub fn with_doc() {\n    //! Inner doc.\n    work();\n}\n\nfn work() {}\n";
    std::fs::write(&lib, original).unwrap();
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_trace-rewriter"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&["instrument", "."]);
    let formatted = rustfmt(&std::fs::read_to_string(&lib).unwrap());
    assert_eq!(
        formatted.matches("let __trace_guard").count(),
        4,
        "{formatted}"
    );
    std::fs::write(&lib, formatted).unwrap();
    cli(&["remove", "."]);
    let got = std::fs::read_to_string(&lib).unwrap();
    assert!(
        got == rustfmt(original),
        "{}",
        differences(&got, &rustfmt(original))
    );
}
