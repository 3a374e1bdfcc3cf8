//! Compile errors for misuse of `#[trace]`: each points at the offending token, and the item is
//! still emitted so that nothing else in the file breaks. Beside them, every target kind that
//! `#[trace]` goes on compiles and runs, with the features this test run enables.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
