//! Shapes whose inserted code rustfmt re-wraps: long names, an empty body, inner attributes,
//! async fns in impls, a fn nested in a fn, fns handing work to other tasks and threads.

mod io;

pub struct ConnectionPoolWithAVeryLongName;

pub trait RetrievesThingsFromSomewhere {
    fn retrieve_the_thing_from_somewhere(&self, key: u32) -> Option<u32>;
}

impl RetrievesThingsFromSomewhere for ConnectionPoolWithAVeryLongName {
    fn retrieve_the_thing_from_somewhere(&self, key: u32) -> Option<u32> {
        Some(key)
    }
}

impl ConnectionPoolWithAVeryLongName {
    pub async fn fetch_everything_that_is_available_right_now(&self) -> Vec<u32> {
        vec![1, 2, 3]
    }

    pub fn nothing(&self) {}
}

pub fn empty() {}

pub fn with_inner_attribute() -> u32 {
    #![allow(clippy::identity_op)]
    1 + 0
}

pub fn outer() -> u32 {
    fn inner(n: u32) -> u32 {
        n + 1
    }
    // A comment stays where it was.
    inner(1)
}

pub fn one_line(n: u32) -> u32 { n * 2 }

pub fn collect_the_readings_of_sensors() -> usize {
    0
}

/// Its block is linked to its frame: it gets the attribute, as async fns do.
pub fn work_for_another_task_to_run_when_it_gets_around_to_it() -> impl std::future::Future<Output = u32> {
    let n = 2;
    async move { n * 21 }
}

pub fn work_for_another_thread() -> u32 {
    std::thread::spawn(|| 42).join().unwrap_or(0)
}
