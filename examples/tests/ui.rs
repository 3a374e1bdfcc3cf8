//! Compile errors that only the traced copy of a fn can show (its `trace` feature on): an
//! argument named in `args(..)` or a value `ret` records whose type is not `Debug`, each at the
//! token, saying which and what to write instead. Beside them, every value option compiles and
//! runs traced, `err` on error types with and without `Debug`.

#[cfg(feature = "trace")]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
