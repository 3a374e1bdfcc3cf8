//! Compile errors for misuse of `#[trace]`: each points at the offending token, and the item is
//! still emitted so that nothing else in the file breaks.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
