//! Interleaved async tasks on a 4-worker tokio runtime: each task's tree stays clean, whichever
//! worker polls it and however the tasks interleave.
//!
//! ```text
//! cargo run -p trace-examples --bin tasks --features trace
//! ```

use std::time::Duration;

use trace_runtime::trace;

/// A sync fn called from async code nests under the task's chain.
#[trace]
fn checksum(data: &[u8]) -> u32 {
    data.iter().map(|&b| u32::from(b)).sum()
}

#[trace]
async fn fetch(id: u32) -> Vec<u8> {
    tokio::time::sleep(Duration::from_millis(u64::from(id % 3) * 5)).await;
    vec![id as u8; 4]
}

#[trace]
async fn verify(id: u32) -> u32 {
    let data = fetch(id).await;
    tokio::task::yield_now().await;
    let sum = checksum(&data);
    if id == 2 {
        println!("task for {id}: {}", trace_runtime::chain());
    }
    sum
}

#[trace]
async fn handle(id: u32) -> u32 {
    // Two children polled concurrently within one task: each keeps its own place.
    let (a, b) = tokio::join!(verify(id), verify(id + 100));
    a + b
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let total: u32 = runtime.block_on(async {
        let tasks: Vec<_> = (1..=3).map(|id| tokio::spawn(handle(id))).collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("the task finished");
        }
        total
    });
    println!("total {total}");
}
