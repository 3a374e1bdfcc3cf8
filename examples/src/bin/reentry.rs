//! Traced code that the runtime's own work could run into: a traced `Drop` in a thread-local
//! destructor (after the thread's trace state is gone), a traced `Debug` impl that panics, and
//! a traced `Drop` that flushes the trace and asks for its chain while it runs.

use std::cell::RefCell;
use std::fmt;

use trace_runtime::trace;

/// Names where it is dropped, for a reader of the demo.
struct Noisy(#[allow(dead_code)] &'static str);

#[trace]
impl Drop for Noisy {
    fn drop(&mut self) {
        // Flushing from inside a traced call: the runtime works while this frame is open.
        trace_runtime::flush();
        let _ = trace_runtime::chain().to_string();
    }
}

struct Explosive;

#[trace]
impl fmt::Debug for Explosive {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug exploded")
    }
}

thread_local! {
    static LATE: RefCell<Option<Noisy>> = const { RefCell::new(None) };
}

#[trace]
fn format_it() -> String {
    format!("{:?}", Explosive)
}

#[trace]
fn thread_body() {
    LATE.with(|l| *l.borrow_mut() = Some(Noisy("thread-local")));
    let _dropped_here = Noisy("scope");
}

#[trace]
fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let caught = std::panic::catch_unwind(format_it);
    assert!(caught.is_err());
    std::thread::Builder::new()
        .name("worker".into())
        .spawn(thread_body)
        .expect("spawn")
        .join()
        .expect("worker");
    drop(Noisy("main"));
    println!("done");
}
