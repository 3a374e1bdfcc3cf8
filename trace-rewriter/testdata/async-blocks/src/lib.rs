//! Work handed to executors and threads from inside fns: the shapes a server's accept loop,
//! its background tasks and its blocking calls take.

pub struct Listener;
pub struct Handler;

impl Handler {
    pub async fn run(&mut self) -> Result<(), String> {
        Ok(())
    }
}

impl Listener {
    /// The canonical accept loop: a task per connection, an async block around the handler.
    pub async fn run(&mut self) {
        loop {
            let mut handler = Handler;
            tokio::spawn(async move {
                if let Err(err) = handler.run().await {
                    eprintln!("connection error: {err}");
                }
            });
        }
    }
}

/// A plain fn starting a background task and a blocking job.
pub fn start(set: &mut tokio::task::JoinSet<()>) {
    set.spawn(async move {
        purge().await;
    });
    tokio::task::spawn_blocking(move || snapshot());
    std::thread::spawn(|| snapshot());
}

/// Nested blocks, and a block awaited where it is made.
pub async fn nested() -> u32 {
    let inner = async { 1 };
    tokio::spawn(async move {
        tokio::spawn(async move { purge().await });
    });
    inner.await
}

/// An `async move` closure, and a borrowing one left as written.
pub fn closures() {
    let n = 1;
    let owned = async move |x: u32| x + n;
    let borrowed = async |x: u32| x + n;
    let _ = (owned, borrowed);
}

pub async fn purge() {}

pub fn snapshot() {}
