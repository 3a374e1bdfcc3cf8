//! A traced global allocator: every allocation is a traced call, including the ones the
//! runtime makes for itself, which must neither deadlock nor recurse (they are not traced).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use trace_runtime::trace;

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

#[trace]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[trace]
fn build(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

#[trace]
fn work() -> usize {
    let strings = build(3);
    strings.iter().map(String::len).sum()
}

#[trace]
fn main() {
    let worker = std::thread::Builder::new()
        .name("worker".into())
        .spawn(work)
        .expect("spawn");
    let total = work() + worker.join().expect("worker");
    println!(
        "total {total}, allocated {} bytes",
        ALLOCATED.load(Ordering::Relaxed)
    );
}
