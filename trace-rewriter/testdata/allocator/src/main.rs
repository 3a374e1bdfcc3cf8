//! A counting global allocator beside ordinary fns: the allocator's methods must stay
//! untraced (every allocation, the tracer's own included, would be a traced call).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

mod arena {
    /// Path-qualified, and not the global allocator: skipped all the same.
    pub struct Passthrough;

    unsafe impl std::alloc::GlobalAlloc for Passthrough {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            std::alloc::System.alloc(layout)
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            std::alloc::System.dealloc(ptr, layout)
        }
    }

    impl Passthrough {
        pub fn name(&self) -> &'static str {
            "passthrough"
        }
    }
}

// Nightly's allocator API: parsed (and skipped) by the rewriter, compiled by no one.
#[cfg(any())]
mod unstable {
    pub struct Arena;

    unsafe impl core::alloc::Allocator for Arena {
        fn allocate(
            &self,
            layout: core::alloc::Layout,
        ) -> Result<core::ptr::NonNull<[u8]>, core::alloc::AllocError> {
            std::alloc::Global.allocate(layout)
        }

        unsafe fn deallocate(&self, ptr: core::ptr::NonNull<u8>, layout: core::alloc::Layout) {
            std::alloc::Global.deallocate(ptr, layout)
        }
    }
}

fn label(i: usize) -> String {
    format!("item {i}")
}

fn build(n: usize) -> Vec<String> {
    (0..n).map(label).collect()
}

fn main() {
    let items = build(2);
    let name = arena::Passthrough.name();
    let counted = ALLOCATIONS.load(Ordering::Relaxed) > 0;
    println!("{} items, {name}, allocations counted: {counted}", items.len());
}
