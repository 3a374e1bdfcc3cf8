//! Per-thread state: the thread's number and name, its stack of open frames, and its output
//! buffer; and the guard that opens and closes a frame.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::__private::Site;
use crate::config::{self, Config};
use crate::format::{self, Event, Record, Who};
use crate::{clock, sink};

/// A thread's buffer is written out when it holds this much.
const FLUSH_AT: usize = 32 * 1024;
/// An outermost call that returns this long after the last write also writes the buffer out, so
/// a slow program shows its trace as it goes.
const FLUSH_EVERY_NS: u64 = 100_000_000;

static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
/// Every live thread's state, so that the exit and panic hooks can write out all buffers.
static REGISTRY: Mutex<Vec<Weak<ThreadState>>> = Mutex::new(Vec::new());
/// Set once the process is exiting: from then on every line is written at once.
static EXITING: AtomicBool = AtomicBool::new(false);

pub(crate) struct ThreadState {
    id: u32,
    name: Option<Box<str>>,
    data: Mutex<Data>,
}

struct Data {
    stack: Vec<&'static Site>,
    buf: Vec<u8>,
    last_flush_ns: u64,
}

/// The thread-local handle; dropping it (thread end) writes the buffer out.
struct Local(Arc<ThreadState>);

impl Drop for Local {
    fn drop(&mut self) {
        self.0.flush();
    }
}

thread_local! {
    static LOCAL: Local = Local::new();
}

impl Local {
    fn new() -> Self {
        let state = Arc::new(ThreadState {
            id: NEXT_THREAD.fetch_add(1, Ordering::Relaxed),
            name: std::thread::current().name().map(Into::into),
            data: Mutex::new(Data {
                stack: Vec::new(),
                buf: Vec::with_capacity(FLUSH_AT + 1024),
                last_flush_ns: 0,
            }),
        });
        let mut registry = lock(&REGISTRY);
        registry.retain(|w| w.strong_count() > 0);
        registry.push(Arc::downgrade(&state));
        Local(state)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ThreadState {
    fn who(&self) -> Who<'_> {
        Who {
            thread: self.id,
            thread_name: self.name.as_deref(),
        }
    }

    fn enter(&self, cfg: &Config, site: &'static Site, now: u64) -> u32 {
        let mut data = lock(&self.data);
        let depth = data.stack.len();
        data.stack.push(site);
        if !cfg.silent {
            let record = Record {
                who: self.who(),
                depth,
                name: site.name,
                ts_ns: now,
                event: Event::Enter,
            };
            format::line(&mut data.buf, cfg.format, cfg.color, &record);
            if data.buf.len() >= FLUSH_AT || EXITING.load(Ordering::Relaxed) {
                Self::write_out(&mut data, now);
            }
        }
        depth as u32
    }

    fn exit(&self, cfg: &Config, guard: &Guard, now: u64, event: Event) {
        let mut data = lock(&self.data);
        // Truncating rather than popping keeps the stack right even if an inner guard was leaked.
        data.stack.truncate(guard.depth as usize);
        if !cfg.silent {
            let depth = guard.depth as usize;
            let record = Record {
                who: self.who(),
                depth,
                name: guard.site.name,
                ts_ns: now,
                event,
            };
            format::line(&mut data.buf, cfg.format, cfg.color, &record);
            let stale = depth == 0 && now.saturating_sub(data.last_flush_ns) >= FLUSH_EVERY_NS;
            if stale || data.buf.len() >= FLUSH_AT || EXITING.load(Ordering::Relaxed) {
                Self::write_out(&mut data, now);
            }
        }
    }

    fn write_out(data: &mut Data, now: u64) {
        sink::write(&data.buf);
        data.buf.clear();
        data.last_flush_ns = now;
    }

    fn flush(&self) {
        let mut data = lock(&self.data);
        sink::write(&data.buf);
        data.buf.clear();
    }
}

/// Writes out every thread's buffer: at process exit and when a panic starts.
pub(crate) fn flush_all() {
    let threads: Vec<Arc<ThreadState>> = lock(&REGISTRY).iter().filter_map(Weak::upgrade).collect();
    for t in threads {
        t.flush();
    }
}

/// From now on lines are written as they happen: the process is exiting and no buffer will be
/// written out later.
pub(crate) fn exiting() {
    EXITING.store(true, Ordering::Relaxed);
    flush_all();
}

/// The current thread's chain of traced fns, outermost first.
pub(crate) fn current_chain() -> Vec<&'static str> {
    LOCAL
        .try_with(|l| lock(&l.0.data).stack.iter().map(|s| s.name).collect())
        .unwrap_or_default()
}

/// An event on a thread whose state is already gone (a traced fn called from another
/// thread-local's destructor): written at once, never dropped.
fn orphan(cfg: &Config, name: &str, now: u64, depth: usize, event: Event) {
    if cfg.silent {
        return;
    }
    let mut buf = Vec::new();
    let record = Record {
        who: Who {
            thread: 0,
            thread_name: None,
        },
        depth,
        name,
        ts_ns: now,
        event,
    };
    format::line(&mut buf, cfg.format, cfg.color, &record);
    sink::write(&buf);
}

/// One traced call: created on entry, writes the exit when dropped, on every path out of the fn.
pub struct Guard {
    site: &'static Site,
    start_ns: u64,
    depth: u32,
}

impl Guard {
    /// Opens a frame. Called by generated code only.
    #[inline]
    pub fn enter(site: &'static Site) -> Guard {
        let cfg = config::get();
        let now = clock::now_ns();
        let depth = LOCAL
            .try_with(|l| l.0.enter(cfg, site, now))
            .unwrap_or_else(|_| {
                orphan(cfg, site.name, now, 0, Event::Enter);
                0
            });
        Guard {
            site,
            start_ns: now,
            depth,
        }
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let cfg = config::get();
        let now = clock::now_ns();
        let event = Event::Exit {
            elapsed_ns: now.saturating_sub(self.start_ns),
            unwinding: std::thread::panicking(),
        };
        if LOCAL.try_with(|l| l.0.exit(cfg, self, now, event)).is_err() {
            orphan(cfg, self.site.name, now, self.depth as usize, event);
        }
    }
}
