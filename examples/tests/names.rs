//! The table of names: each shape of Self type and trait in the `names` demo, as written in the
//! source, beside the name its traced call carries in the jsonl trace.

mod common;

use common::{check_nesting, run};

#[test]
fn every_shape_of_self_type_and_trait_is_named_as_a_reader_would_write_it() {
    let (output, events) = run(env!("CARGO_BIN_EXE_names"), "names", &[]);
    assert!(output.status.success(), "{output:?}");
    check_nesting(&events);
    // The demo prints each call's source form, then makes it: one outermost call per form.
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    let mut forms = stdout.lines();
    let mut table = String::new();
    for e in events.iter().filter(|e| e.enter) {
        if e.depth == 0 {
            let form = forms.next().expect("a source form per outermost call");
            table.push_str(&format!("{form}\n    -> {}\n", e.name));
        } else {
            let indent = "  ".repeat(e.depth as usize);
            table.push_str(&format!("    {indent}-> {}\n", e.name));
        }
    }
    assert_eq!(forms.next(), None, "every form made a traced call");
    insta::assert_snapshot!(table);
}
