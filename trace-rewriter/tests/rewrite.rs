//! Snapshots of the rewrite of each fixture crate (as the unified diff `--diff` prints), and the
//! exact round trip: `remove` after `instrument` gives back every byte.

mod common;

use common::{fixture, run, stdout, tree};

fn diff_of(name: &str, extra: &[&str]) -> String {
    let dir = fixture(name);
    let path = dir.path().to_str().unwrap().to_string();
    let mut args = vec!["instrument", ".", "--diff", "--runtime-version", "0.1"];
    args.extend_from_slice(extra);
    let out = run(dir.path(), &args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    stdout(&out).replace(&path, "[DIR]")
}

fn round_trip(name: &str, extra: &[&str]) {
    let dir = fixture(name);
    let before = tree(dir.path());
    let mut args = vec!["instrument", "."];
    args.extend_from_slice(extra);
    let out = run(dir.path(), &args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let once = tree(dir.path());
    assert_ne!(once, before, "{name}: instrument changed something");
    assert!(run(dir.path(), &args).status.success());
    assert_eq!(
        tree(dir.path()),
        once,
        "{name}: instrument twice equals once"
    );
    let out = run(dir.path(), &["remove", "."]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        tree(dir.path()),
        before,
        "{name}: remove restores every byte"
    );
}

macro_rules! fixture_tests {
    ($($test:ident: $name:literal $(, $flag:literal)*;)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(diff_of($name, &[$($flag),*]));
            round_trip($name, &[$($flag),*]);
        }
    )*};
}

fixture_tests! {
    nested_mods: "nested-mods";
    path_attr: "path-attr";
    crlf_bom_tabs: "crlf";
    shapes: "shapes";
    shapes_with_tests: "shapes", "--tests";
    edition_2015: "edition2015";
    app: "app";
    allocator: "allocator";
    threads: "threads";
    async_blocks: "async-blocks";
    errors_with_err: "errors", "--err";
}

#[test]
fn crlf_and_bom_survive_byte_for_byte() {
    let dir = fixture("crlf");
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let text = std::fs::read(dir.path().join("src/lib.rs")).unwrap();
    assert!(text.starts_with(b"\xef\xbb\xbf//! BOM"));
    let text = String::from_utf8(text).unwrap();
    assert_eq!(
        text.matches("\r\n").count(),
        text.matches('\n').count(),
        "every line still ends in CRLF"
    );
    assert!(text.contains("\t// a tab-indented comment\r\n\ta * 2\r\n"));
}
