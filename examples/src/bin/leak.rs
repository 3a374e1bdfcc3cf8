//! A leak as it happens in services: every subscriber gets a task that pumps its messages and
//! one that sends heartbeats, and the cancellation that should stop both when the subscriber
//! leaves is never called. The trace names the call that spawned them and where they wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use trace_runtime::trace;

static STARTED: AtomicUsize = AtomicUsize::new(0);

/// What `subscribe` hands back; `cancel` is never called.
#[allow(dead_code)]
struct Subscription(Vec<tokio::task::JoinHandle<()>>);

#[allow(dead_code)]
impl Subscription {
    fn cancel(self) {
        for task in self.0 {
            task.abort();
        }
    }
}

#[trace]
async fn pump_messages(_user: u32) {
    STARTED.fetch_add(1, Ordering::Relaxed);
    // Messages that never come.
    std::future::pending::<()>().await;
}

#[trace]
async fn heartbeat(_user: u32) {
    STARTED.fetch_add(1, Ordering::Relaxed);
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}

struct Service {
    rt: tokio::runtime::Runtime,
}

#[trace]
impl Service {
    fn subscribe(&self, user: u32) -> Subscription {
        Subscription(vec![
            self.rt.spawn(pump_messages(user)),
            self.rt.spawn(heartbeat(user)),
        ])
    }
}

const USERS: u32 = 200;

#[trace]
fn main() {
    let service = Service {
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    };
    let subscriptions: Vec<Subscription> = (0..USERS).map(|u| service.subscribe(u)).collect();
    while STARTED.load(Ordering::Relaxed) < 2 * USERS as usize {
        std::thread::yield_now();
    }
    // A health endpoint would serve this.
    let open = trace_runtime::open_frames();
    println!(
        "open tasks: {}",
        open.trees.iter().filter(|t| t.task.is_some()).count()
    );
    let check = std::panic::catch_unwind(trace_runtime::assert_no_open_frames);
    if let Err(message) = check {
        println!(
            "{}",
            message
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default()
        );
    }
    // The subscriptions are forgotten, never cancelled; the runtime keeps running them.
    std::mem::forget(subscriptions);
    std::mem::forget(service);
}
