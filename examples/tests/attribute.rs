//! `#[trace]` on test fns, and the chain API seen from inside traced code.

mod quiet;

use trace_runtime::trace;

#[trace]
fn inner() -> trace_runtime::Chain {
    trace_runtime::chain()
}

#[trace]
#[test]
fn a_traced_test_fn_is_on_its_own_chain() {
    let chain = inner();
    assert_eq!(
        chain.names(),
        [
            "attribute::a_traced_test_fn_is_on_its_own_chain",
            "attribute::inner"
        ]
    );
    assert!(chain.passes_through("a_traced_test_fn_is_on_its_own_chain"));
    assert_eq!(chain.innermost(), Some("attribute::inner"));
    // Back outside `inner`, its frame is gone.
    assert_eq!(trace_runtime::chain().len(), 1);
}

#[test]
fn chains_are_per_thread() {
    let here = std::thread::spawn(inner).join().unwrap();
    assert_eq!(here.names(), ["attribute::inner"]);
    assert!(trace_runtime::chain().is_empty());
}
