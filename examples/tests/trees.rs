//! Runs the demos with tracing on and asserts their exact call trees.

mod common;

use common::{check_nesting, run, tree};

#[test]
fn chains_demo_separates_threads_and_logs_the_chain() {
    let (output, events) = run(env!("CARGO_BIN_EXE_chains"), "chains", &[]);
    assert!(output.status.success());
    check_nesting(&events);
    assert_eq!(
        tree(&events),
        "\
thread 1 main
  -> chains::main
    -> chains::a1
      -> chains::b1
        -> chains::c1
          -> chains::d
          <- chains::d
        <- chains::c1
      <- chains::b1
    <- chains::a1
  <- chains::main
thread 2 worker
  -> chains::a2
    -> chains::b2
      -> chains::c2
        -> chains::d
        <- chains::d
      <- chains::c2
    <- chains::b2
  <- chains::a2
"
    );
    assert!(
        events.iter().all(|e| e.task.is_none()),
        "plain threads have no task"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout,
        "d called from c1: chains::main -> chains::a1 -> chains::b1 -> chains::c1 -> chains::d\n\
         d called from c2: chains::main => chains::a2 -> chains::b2 -> chains::c2 -> chains::d\n"
    );
}

#[test]
fn shapes_demo_names_impls_traits_and_mods() {
    let (output, events) = run(env!("CARGO_BIN_EXE_shapes"), "shapes", &[]);
    assert!(output.status.success());
    check_nesting(&events);
    assert_eq!(
        tree(&events),
        "\
thread 1 main
  -> shapes::main
    -> shapes::zoo::Animal::speak
      -> <shapes::zoo::Cat as Animal>::name
      <- <shapes::zoo::Cat as Animal>::name
      -> <shapes::zoo::Cat as Animal>::sound
      <- <shapes::zoo::Cat as Animal>::sound
    <- shapes::zoo::Animal::speak
    -> shapes::zoo::db::Pool::get
    <- shapes::zoo::db::Pool::get
  <- shapes::main
"
    );
}

#[test]
fn every_exit_path_closes_its_frame() {
    let (output, events) = run(env!("CARGO_BIN_EXE_exits"), "exits", &[]);
    assert!(output.status.success(), "{output:?}");
    check_nesting(&events);
    assert_eq!(
        tree(&events),
        "\
thread 1 main
  -> exits::main
    -> exits::early_return
    <- exits::early_return
    -> exits::early_return
    <- exits::early_return
    -> exits::question_mark
      -> exits::parse
      <- exits::parse
    <- exits::question_mark
    -> exits::question_mark
      -> exits::parse
      <- exits::parse
    <- exits::question_mark
    -> exits::catches
      -> exits::boom
      <- exits::boom unwinding
    <- exits::catches
    -> exits::recurse
      -> exits::recurse
        -> exits::recurse
        <- exits::recurse
      <- exits::recurse
    <- exits::recurse
    -> exits::longest
    <- exits::longest
    -> exits::evens
    <- exits::evens
    -> exits::read
    <- exits::read
    -> exits::outer
      -> exits::outer::inner
      <- exits::outer::inner
    <- exits::outer
    -> exits::Counter::by_mut
    <- exits::Counter::by_mut
    -> exits::Counter::by_ref
    <- exits::Counter::by_ref
    -> exits::Counter::pinned
    <- exits::Counter::pinned
    -> exits::Counter::boxed
    <- exits::Counter::boxed
    -> exits::Counter::by_value
    <- exits::Counter::by_value
    -> exits::fetch_twice
      -> exits::fetch
      <- exits::fetch
      -> exits::fetch
      <- exits::fetch
    <- exits::fetch_twice
  <- exits::main
thread 2 diverges
  -> exits::diverges
  <- exits::diverges unwinding
"
    );
}

#[test]
fn panics_are_flushed_and_marked_unwinding() {
    let (output, events) = run(env!("CARGO_BIN_EXE_panics"), "panics", &[]);
    assert_eq!(output.status.code(), Some(101), "the main thread panicked");
    check_nesting(&events);
    let t = tree(&events);
    assert_eq!(
        t,
        "\
thread 1 main
  -> panics::main
    -> panics::load
      -> panics::parse
      <- panics::parse unwinding
    <- panics::load unwinding
  <- panics::main unwinding
thread 2 loader
  -> panics::load
    -> panics::parse
    <- panics::parse unwinding
  <- panics::load unwinding
"
    );
}
