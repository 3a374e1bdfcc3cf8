//! A key-value server over TCP in the canonical tokio shape: an accept loop spawning a task per
//! connection (`tokio::spawn(async move { handler.run().await })`), a background purge task, a
//! blocking snapshot (`spawn_blocking`), a shutdown broadcast that every connection `select!`s
//! on, and graceful shutdown on Ctrl-C. One command per line: `SET key value`, `GET key`,
//! `SAVE`; `GET` also answers with the chain of calls that reached the lookup.
//!
//! ```text
//! cargo run -p trace-examples --bin server --features trace
//! printf 'SET a 1\nGET a\n' | nc 127.0.0.1 PORT
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, Notify};
use trace_runtime::trace;

/// The shared map, and the purge task's wake-up.
#[derive(Clone)]
struct Db {
    shared: Arc<Shared>,
}

struct Shared {
    entries: Mutex<HashMap<String, String>>,
    purge: Notify,
    closed: Mutex<bool>,
}

#[trace]
impl Db {
    /// Makes the map and starts its background task.
    fn new() -> Db {
        let shared = Arc::new(Shared {
            entries: Mutex::new(HashMap::new()),
            purge: Notify::new(),
            closed: Mutex::new(false),
        });
        tokio::spawn(purge_task(shared.clone()));
        Db { shared }
    }

    fn get(&self, key: &str) -> Option<String> {
        println!("chain: {}", trace_runtime::chain());
        self.shared.entries.lock().unwrap().get(key).cloned()
    }

    fn set(&self, key: String, value: String) {
        self.shared.entries.lock().unwrap().insert(key, value);
        self.shared.purge.notify_one();
    }

    fn entries(&self) -> Vec<(String, String)> {
        let map = self.shared.entries.lock().unwrap();
        let mut entries: Vec<_> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries.sort();
        entries
    }

    /// Stops the purge task.
    fn close(&self) {
        *self.shared.closed.lock().unwrap() = true;
        self.shared.purge.notify_one();
    }
}

/// Wakes on every write (or a timer) until the database closes.
#[trace]
async fn purge_task(shared: Arc<Shared>) {
    while !*shared.closed.lock().unwrap() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shared.purge.notified() => {}
        }
    }
}

/// A snapshot written on a blocking thread: its size in bytes.
#[trace]
fn snapshot(entries: Vec<(String, String)>) -> usize {
    entries.iter().map(|(k, v)| k.len() + v.len() + 2).sum()
}

/// A command parsed from one line.
enum Command {
    Get(String),
    Set(String, String),
    Save,
}

#[trace]
impl Command {
    fn parse(line: &str) -> Result<Command, String> {
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("GET"), Some(key), None) => Ok(Command::Get(key.into())),
            (Some("SET"), Some(key), Some(value)) => Ok(Command::Set(key.into(), value.into())),
            (Some("SAVE"), None, None) => Ok(Command::Save),
            _ => Err(format!("unknown command: {line}")),
        }
    }

    async fn apply(self, db: &Db, connection: &mut Connection) -> std::io::Result<()> {
        let reply = match self {
            Command::Get(key) => db.get(&key).unwrap_or_else(|| "(nil)".into()),
            Command::Set(key, value) => {
                db.set(key, value);
                "OK".into()
            }
            Command::Save => {
                let entries = db.entries();
                let bytes = tokio::task::spawn_blocking(move || snapshot(entries))
                    .await
                    .unwrap_or(0);
                format!("SAVED {bytes}")
            }
        };
        connection.write_line(&reply).await
    }
}

/// A client's socket, read line by line.
struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

#[trace]
impl Connection {
    fn new(socket: TcpStream) -> Connection {
        let (read, writer) = socket.into_split();
        Connection {
            reader: BufReader::new(read),
            writer,
        }
    }

    /// The next line; `None` when the client closed the connection.
    async fn read_line(&mut self) -> std::io::Result<Option<String>> {
        let mut line = String::new();
        match self.reader.read_line(&mut line).await? {
            0 => Ok(None),
            _ => Ok(Some(line.trim_end().to_string())),
        }
    }

    async fn write_line(&mut self, text: &str) -> std::io::Result<()> {
        self.writer.write_all(format!("{text}\n").as_bytes()).await
    }
}

/// Hears the server's shutdown broadcast.
struct Shutdown {
    done: bool,
    notify: broadcast::Receiver<()>,
}

#[trace]
impl Shutdown {
    async fn recv(&mut self) {
        if !self.done {
            let _ = self.notify.recv().await;
            self.done = true;
        }
    }
}

/// One connection's task.
struct Handler {
    db: Db,
    connection: Connection,
    shutdown: Shutdown,
    /// Dropped when the handler ends: the server waits for every sender to go.
    _done: mpsc::Sender<()>,
}

#[trace]
impl Handler {
    async fn run(&mut self) -> std::io::Result<()> {
        while !self.shutdown.done {
            let line = tokio::select! {
                line = self.connection.read_line() => line?,
                _ = self.shutdown.recv() => return Ok(()),
            };
            let Some(line) = line else { return Ok(()) };
            match Command::parse(&line) {
                Ok(command) => command.apply(&self.db, &mut self.connection).await?,
                Err(e) => self.connection.write_line(&e).await?,
            }
        }
        Ok(())
    }
}

struct Listener {
    listener: TcpListener,
    db: Db,
    notify_shutdown: broadcast::Sender<()>,
    done: mpsc::Sender<()>,
}

#[trace]
impl Listener {
    /// Accepts connections forever, a task for each.
    async fn run(&mut self) -> std::io::Result<()> {
        loop {
            let socket = self.accept().await?;
            let mut handler = Handler {
                db: self.db.clone(),
                connection: Connection::new(socket),
                shutdown: Shutdown {
                    done: false,
                    notify: self.notify_shutdown.subscribe(),
                },
                _done: self.done.clone(),
            };
            tokio::spawn(async move {
                if let Err(err) = handler.run().await {
                    eprintln!("connection error: {err}");
                }
            });
        }
    }

    async fn accept(&mut self) -> std::io::Result<TcpStream> {
        let (socket, _) = self.listener.accept().await?;
        Ok(socket)
    }
}

/// Serves until `shutdown` completes, then waits for every connection to finish.
#[trace]
async fn run(listener: TcpListener, shutdown: impl Future) {
    let (notify_shutdown, _) = broadcast::channel(1);
    let (done, mut all_done) = mpsc::channel(1);
    let db = Db::new();
    let mut server = Listener {
        listener,
        db: db.clone(),
        notify_shutdown,
        done,
    };
    tokio::select! {
        res = server.run() => {
            if let Err(err) = res {
                eprintln!("accept error: {err}");
            }
        }
        _ = shutdown => {
            println!("shutting down");
        }
    }
    let Listener {
        notify_shutdown,
        done,
        ..
    } = server;
    drop(notify_shutdown);
    drop(done);
    let _ = all_done.recv().await;
    db.close();
}

#[tokio::main]
#[trace]
async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    println!("listening on {}", listener.local_addr().expect("address"));
    run(listener, tokio::signal::ctrl_c()).await;
    println!("shut down");
}
