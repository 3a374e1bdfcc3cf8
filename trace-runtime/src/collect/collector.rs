//! The collector: a background thread that takes every thread's published records, merges
//! them by time and feeds the pipeline (`pipeline.rs`) to the recording and the views. At
//! exit, on panic and on the fatal signals the same collection runs to the end on the calling
//! thread.
//!
//! A run that only records merges nothing, so its collection scales: with `TRACE_COLLECTORS=N`
//! it runs in N lanes, each a collector thread of its own for the threads numbered `lane` mod
//! N, writing into the one recording. The lanes share the run's table of sites (a site has one
//! index) and hand each other the exits of frames another lane's thread entered (a task
//! moves between workers), which that lane's tally pairs with their enters.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use super::event::{Raw, Tables, Values};
use super::frames::{FastMap, Frames, IdHasher};
use super::hot;
use super::pipeline::Pipeline;
use super::tally::Exited;
use crate::capture::buffer::{Cursor, SharedRef};
use crate::capture::clock::{self, Calibration};
use crate::capture::record::{self, Rec};
use crate::capture::registry;
use crate::capture::site::Site;
use crate::capture::thread;
use crate::config;
use crate::filter;

/// One thread's records on their way to the views.
struct Input {
    shared: SharedRef,
    cursor: Cursor,
    /// Read and not yet handed on (newer than the watermark): `staged[next..]`.
    staged: Vec<Rec>,
    next: usize,
    ended: bool,
}

/// Everything collection owns.
pub struct Collector {
    inputs: BTreeMap<u32, Input>,
    /// Records of threads whose state was gone.
    orphans: VecDeque<Rec>,
    /// Site addresses to their index in the run's table, as this lane has met them.
    sites: HashMap<usize, u32, BuildHasherDefault<IdHasher>>,
    /// Which lane this collector is, of how many (1: the one collector), what the lanes share,
    /// and (lane 0) the other lanes, with or without a thread of their own.
    lane: usize,
    lanes: usize,
    shared: Arc<Shared>,
    others: Vec<Lane>,
    /// Sites looked up lately and their indexes, by a slot their address picks (0 is no
    /// site's address): a program's records mostly cycle through a few sites, which this
    /// finds without hashing.
    recent_sites: Box<[(usize, u32); RECENT_SITES]>,
    tables: Tables,
    /// Ticks and instant of the first traced call; the pipeline starts once calibrated.
    origin: (u64, Instant),
    pipeline: Pipeline,
    /// Ticks read at the start of the previous round: every record older than this has been
    /// published by then, so records are handed on in time order up to it.
    watermark: u64,
    scratch: Vec<Rec>,
    finished: bool,
    /// Records handed on so far.
    fed: u64,
    /// Which fns turn hot (`TRACE_HOT`), unless it is off.
    hot: Option<hot::Watch>,
    /// Per thread, the values whose `DATA` records are still being read.
    values: FastMap<u32, PendingValues>,
    /// A run that only records: one thread's records on their way to the pipeline together.
    run: Vec<Raw>,
}

/// What the lanes of a run share: the run's table of sites, and per lane the exits of its
/// frames that other lanes read.
#[derive(Default)]
struct Shared {
    sites: Mutex<SiteTable>,
    inboxes: Vec<Mutex<Vec<Exited>>>,
    /// The run's calibration, measured by the lane that starts first: every lane's durations
    /// and the recording's header agree.
    calibration: std::sync::OnceLock<Calibration>,
}

/// Every site met so far, in the order indexed.
#[derive(Default)]
struct SiteTable {
    index: HashMap<usize, u32, BuildHasherDefault<IdHasher>>,
    sites: Vec<&'static Site>,
}

/// Another lane: its collector, and whether a thread of its own runs its rounds (else lane 0's
/// thread runs them).
struct Lane {
    collector: Arc<Mutex<Collector>>,
    attended: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A `VALUE` record's bytes, gathered from the `DATA` records after it.
struct PendingValues {
    id: u64,
    flags: u64,
    len: usize,
    bytes: Vec<u8>,
}

static STATE: Mutex<Option<Collector>> = Mutex::new(None);
/// Set once the final collection has run: later records are discarded.
static FINISHED: AtomicBool = AtomicBool::new(false);

/// Records the collector has handed on, published every 4,096: whoever waits for the
/// collector's lock (the exit hook) waits as long as a collection is still making progress.
static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// The longest anyone waits for the collector's lock, progress or not: a program whose
/// threads go on tracing after `main` returned must still end.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Slots of the collector's cache of recently seen sites (a power of two: the slot is a mask).
const RECENT_SITES: usize = 256;

impl Collector {
    pub fn new(origin: (u64, Instant), pipeline: Pipeline) -> Self {
        Collector {
            inputs: BTreeMap::new(),
            orphans: VecDeque::new(),
            sites: HashMap::default(),
            lane: 0,
            lanes: 1,
            shared: Arc::new(Shared {
                inboxes: vec![Mutex::new(Vec::new())],
                ..Shared::default()
            }),
            others: Vec::new(),
            recent_sites: Box::new([(0, 0); RECENT_SITES]),
            tables: Tables::default(),
            origin,
            pipeline,
            watermark: 0,
            fed: 0,
            scratch: Vec::new(),
            values: HashMap::default(),
            run: Vec::new(),
            finished: false,
            hot: config::get()
                .hot
                .map(|rule| hot::Watch::new(rule, config::get().focus.clone())),
        }
    }

    /// The same collector in `lanes` lanes, for a run that only records: this one is lane 0,
    /// and makes the others, each with its pipeline into the same recording.
    pub fn in_lanes(mut self, lanes: usize) -> Self {
        if lanes < 2 {
            return self;
        }
        let shared = Arc::new(Shared {
            inboxes: (0..lanes).map(|_| Mutex::new(Vec::new())).collect(),
            ..Shared::default()
        });
        let mut others = Vec::new();
        for lane in 1..lanes {
            let Some(pipeline) = self.pipeline.lane(lane, lanes) else {
                return self;
            };
            let mut c = Collector::new(self.origin, pipeline);
            c.lane = lane;
            c.lanes = lanes;
            c.shared = shared.clone();
            others.push(Lane {
                collector: Arc::new(Mutex::new(c)),
                attended: false,
            });
        }
        self.lanes = lanes;
        self.shared = shared;
        self.others = others;
        self.pipeline.set_lane(0, lanes);
        self
    }

    /// Calibrates and starts the pipeline, on first use.
    fn start_pipeline(&mut self) {
        if self.pipeline.decoder().is_none() {
            let origin = self.origin;
            let cal = *self
                .shared
                .calibration
                .get_or_init(|| Calibration::since(origin));
            self.pipeline.start(cal);
        }
    }

    /// `f` on the frames open as of the last record handed on, the tables they point into and
    /// the time now. A run that only records decodes no frame as it goes: it reads its
    /// recording back when a frame is open (`Err`: why it could not).
    pub fn with_frames<R>(
        &mut self,
        f: impl FnOnce(&Frames, &Tables, u64) -> R,
    ) -> Result<R, String> {
        let now = self.now_ns();
        let elsewhere = self
            .others
            .iter()
            .any(|o| lock_lane(o).is_none_or(|c| c.pipeline.needs_reading()));
        match self.pipeline.read_back(elsewhere)? {
            None => Ok(f(self.pipeline.frames(), &self.tables, now)),
            Some(rec) => Ok(f(&rec.frames_at_end(), &rec.tables, now)),
        }
    }

    /// Frames open, in every lane, that a thread other than `thread` entered (`None`: any), as
    /// a run that only records tallies them: what it can say when its recording cannot be read
    /// back.
    pub fn open_off(&self, thread: Option<u32>) -> usize {
        self.pipeline.open_off(thread)
            + self
                .others
                .iter()
                .map(|o| lock_lane(o).map_or(0, |c| c.pipeline.open_off(thread)))
                .sum::<usize>()
    }

    /// Nanoseconds since the first traced call, now.
    pub fn now_ns(&self) -> u64 {
        self.pipeline
            .decoder()
            .map_or(0, |d| d.end_ns(clock::ticks()))
    }

    /// One collection round. `all`: hand on everything read, not only what is older than the
    /// watermark (a flush, the end of the run).
    pub fn round(&mut self, all: bool) {
        if self.finished {
            return;
        }
        let started = clock::ticks();
        let (lane, lanes) = (self.lane as u64, self.lanes as u64);
        let mine = |s: &SharedRef| super::lane_of(u64::from(s.thread), lanes) == lane;
        for shared in registry::buffers().into_iter().filter(mine) {
            let input = self.inputs.entry(shared.thread).or_insert_with(|| {
                self.tables
                    .threads
                    .insert(shared.thread, shared.name.clone());
                Input {
                    shared: shared.clone(),
                    cursor: Cursor::default(),
                    staged: Vec::new(),
                    next: 0,
                    ended: false,
                }
            });
            // Read straight into the staging vector, after what is still held back.
            input.staged.drain(..input.next);
            input.next = 0;
            input.ended = input.shared.drain(&mut input.cursor, &mut input.staged);
        }
        if self.lane == 0 {
            registry::take_orphans(&mut self.scratch);
            self.orphans.extend(self.scratch.drain(..));
        }
        if self.pipeline.is_records_only() {
            self.receive();
            self.hand_on_by_thread();
            self.send_away();
            // Every record made before the last round began was published before this one
            // read: the time merge's watermark and its assumption (a thread paused between
            // reading the clock and publishing for longer than a round breaks both), said in
            // the recording for a reader of a run cut short (the end item makes it moot).
            if !all && self.watermark != 0 {
                let through = self.watermark;
                self.pipeline
                    .written_through(self.lane, self.lanes, through);
            }
            self.watermark = started;
        } else {
            let limit = if all { u64::MAX } else { self.watermark };
            self.watermark = started;
            self.merge(limit);
            self.pipeline.tick(&self.tables, clock::ticks());
        }
        self.pipeline.flush();
        let done: Vec<SharedRef> = self
            .inputs
            .values()
            .filter(|i| i.ended && i.next == i.staged.len())
            .map(|i| i.shared.clone())
            .collect();
        if !done.is_empty() {
            registry::forget_buffers(&done);
            let ended = |i: &Input| i.ended && i.next == i.staged.len();
            for (&n, _) in self.inputs.iter().filter(|(_, i)| ended(i)) {
                self.pipeline.thread_ended(n);
            }
            self.inputs.retain(|_, i| !ended(i));
        }
    }

    /// Hands on staged records older than `limit`, oldest first across threads: in runs, each
    /// the oldest thread's records up to the next thread's oldest, so a lone busy thread's
    /// records go through without comparisons.
    fn merge(&mut self, limit: u64) {
        self.start_pipeline();
        loop {
            // The thread whose next record is the oldest (orphans count as thread 0), and the
            // oldest next record of any other.
            let mut best: Option<(u64, u32)> = self
                .orphans
                .front()
                .filter(|r| r.ts < limit)
                .map(|r| (r.ts, 0));
            let mut bound = limit;
            for (&n, input) in &self.inputs {
                let Some(r) = input.staged.get(input.next) else {
                    continue;
                };
                match best {
                    Some((ts, _)) if r.ts >= ts => bound = bound.min(r.ts.saturating_add(1)),
                    _ if r.ts < limit => {
                        if let Some((ts, _)) = best {
                            bound = bound.min(ts.saturating_add(1));
                        }
                        best = Some((r.ts, n));
                    }
                    _ => {}
                }
            }
            let Some((_, n)) = best else { break };
            if n == 0 {
                let Some(rec) = self.orphans.pop_front() else {
                    break;
                };
                let raw = self.raw(0, &rec);
                self.feed(&raw);
                continue;
            }
            let Some(mut input) = self.inputs.remove(&n) else {
                break;
            };
            while let Some(rec) = input.staged.get(input.next) {
                if rec.ts >= bound {
                    break;
                }
                let rec = *rec;
                input.next += 1;
                self.hand_on(n, &rec);
            }
            self.inputs.insert(n, input);
        }
    }

    /// Hands on everything read, a thread at a time and each thread's records in order, with
    /// no merge by time: for a run that only records, whose reader merges.
    fn hand_on_by_thread(&mut self) {
        self.start_pipeline();
        while let Some(rec) = self.orphans.pop_front() {
            let raw = self.raw(0, &rec);
            self.feed(&raw);
        }
        let threads: Vec<u32> = self.inputs.keys().copied().collect();
        let mut run = std::mem::take(&mut self.run);
        for n in threads {
            let Some(mut input) = self.inputs.remove(&n) else {
                continue;
            };
            // Runs of records between values, each written in one go.
            let mut rest = &input.staged[input.next..];
            while !rest.is_empty() {
                let is_value =
                    |rec: &Rec| matches!(rec.id & record::KIND_MASK, record::VALUE | record::DATA);
                let plain = rest.iter().position(is_value).unwrap_or(rest.len());
                run.extend(rest[..plain].iter().map(|rec| self.raw(n, rec)));
                self.feed_thread_run(&mut run);
                let values = rest[plain..]
                    .iter()
                    .position(|rec| !is_value(rec))
                    .unwrap_or(rest.len() - plain);
                for rec in &rest[plain..plain + values] {
                    self.value(n, rec);
                }
                rest = &rest[plain + values..];
            }
            input.next = input.staged.len();
            self.inputs.insert(n, input);
        }
        self.run = run;
    }

    /// A run of one thread's records (emptied) to the pipeline, and to the hot watch.
    fn feed_thread_run(&mut self, run: &mut Vec<Raw>) {
        if run.is_empty() {
            return;
        }
        self.pipeline.feed_thread_run(run, &self.tables);
        if let Some(hot) = &mut self.hot {
            let decoder = self.pipeline.decoder().expect("started before handing on");
            for raw in run.iter() {
                hot.see(raw, &decoder.cal);
            }
        }
        self.fed += run.len() as u64;
        PROGRESS.store(self.fed, Ordering::Relaxed);
        run.clear();
    }

    /// One record of thread `n`, read in its thread's order: a value's bytes, or a record for
    /// the pipeline.
    #[inline]
    fn hand_on(&mut self, n: u32, rec: &Rec) {
        match rec.id & record::KIND_MASK {
            record::VALUE | record::DATA => self.value(n, rec),
            _ => {
                let raw = self.raw(n, rec);
                self.feed(&raw);
            }
        }
    }

    fn feed(&mut self, raw: &Raw) {
        self.pipeline.feed(raw, &self.tables);
        if let Some(hot) = &mut self.hot {
            let decoder = self.pipeline.decoder().expect("started before merging");
            hot.see(raw, &decoder.cal);
        }
        self.fed += 1;
        if self.fed & 4095 == 0 {
            PROGRESS.store(self.fed, Ordering::Relaxed);
        }
    }

    /// A `VALUE` record or one of its `DATA` records: once its bytes are whole, the values go
    /// to the tables and the pipeline.
    fn value(&mut self, thread: u32, rec: &Rec) {
        let id = rec.id & record::ID_MASK;
        if rec.id & record::KIND_MASK == record::VALUE {
            let len = rec.aux as usize;
            self.values.insert(
                thread,
                PendingValues {
                    id,
                    flags: rec.id & record::FLAG_MASK,
                    len,
                    bytes: Vec::with_capacity(len),
                },
            );
        } else if let Some(p) = self.values.get_mut(&thread).filter(|p| p.id == id) {
            let mut bytes = [0u8; record::DATA_BYTES];
            bytes[..8].copy_from_slice(&rec.aux.to_le_bytes());
            bytes[8..].copy_from_slice(&rec.site.to_le_bytes());
            let take = (p.len - p.bytes.len()).min(record::DATA_BYTES);
            p.bytes.extend_from_slice(&bytes[..take]);
        }
        if self
            .values
            .get(&thread)
            .is_some_and(|p| p.bytes.len() == p.len)
        {
            let p = self.values.remove(&thread).expect("checked");
            self.start_pipeline();
            self.pipeline.free_values(&mut self.tables);
            let values = self.tables.add_values(Values::decode(p.flags, &p.bytes));
            self.pipeline.value(thread, p.id, values, &self.tables);
        }
    }

    // Once per record, in the loop that hands a thread's records on: always inlined there
    // (left to itself, the compiler has put it out of line: 28 instructions more per event).
    #[inline(always)]
    fn raw(&mut self, thread: u32, rec: &Rec) -> Raw {
        // SAFETY: `rec.site` was made from a `&'static Site` by the capture layer.
        let site = self.site_index(unsafe { &*(rec.site as *const Site) });
        Raw {
            thread,
            ts: rec.ts,
            id: rec.id,
            site,
            aux: rec.aux,
        }
    }

    /// The index of `site` in the run's table, given on its first record.
    #[inline(always)]
    fn site_index(&mut self, site: &'static Site) -> u32 {
        let key = site as *const Site as usize;
        // Sites are statics (8-aligned) of one size, mostly laid out side by side: neighbours
        // get distinct slots.
        let slot = (key >> 3) % RECENT_SITES;
        if self.recent_sites[slot].0 == key {
            return self.recent_sites[slot].1;
        }
        let index = self.site_index_slow(site);
        self.recent_sites[slot] = (key, index);
        index
    }

    #[cold]
    #[inline(never)]
    fn site_index_slow(&mut self, site: &'static Site) -> u32 {
        let key = site as *const Site as usize;
        if let Some(&index) = self.sites.get(&key) {
            return index;
        }
        let index = {
            let mut table = lock(&self.shared.sites);
            match table.index.get(&key) {
                Some(&index) => index,
                None => {
                    let index = table.sites.len() as u32;
                    table.sites.push(site);
                    table.index.insert(key, index);
                    index
                }
            }
        };
        self.sync_sites();
        self.sites.insert(key, index);
        index
    }

    /// Names, in this lane's tables and hot watch, every site the run's table has: in index
    /// order, so a site has the same index in every lane.
    fn sync_sites(&mut self) {
        let table = lock(&self.shared.sites);
        for &site in &table.sites[self.tables.sites.len().min(table.sites.len())..] {
            self.tables.sites.push(site.name().into());
            if let Some(hot) = &mut self.hot {
                hot.site(site);
            }
        }
    }

    /// Exits of this lane's frames that other lanes read, to the tally.
    fn receive(&mut self) {
        if self.lanes < 2 {
            return;
        }
        let exits = std::mem::take(&mut *lock(&self.shared.inboxes[self.lane]));
        if !exits.is_empty() {
            self.start_pipeline();
            self.pipeline.arrive(&exits);
        }
    }

    /// Exits read here of frames other lanes' threads entered, to those lanes.
    fn send_away(&mut self) {
        if self.lanes < 2 {
            return;
        }
        let mut away = self.pipeline.take_away();
        if away.is_empty() {
            return;
        }
        let lanes = self.lanes as u64;
        let lane_of = |x: &Exited| super::lane_of(x.id >> record::SEQ_BITS, lanes) as usize;
        away.sort_by_key(lane_of);
        for batch in away.chunk_by(|a, b| lane_of(a) == lane_of(b)) {
            lock(&self.shared.inboxes[lane_of(&batch[0])]).extend_from_slice(batch);
        }
    }

    /// A round of every lane, handing on everything read (a flush, the end of the run), and
    /// then the exits that crossed lanes in it to their lanes.
    fn round_everywhere(&mut self) {
        self.round(true);
        for other in &self.others {
            if let Some(mut c) = lock_lane(other) {
                c.round(true);
            }
        }
        self.receive();
        for other in &self.others {
            if let Some(mut c) = lock_lane(other) {
                c.receive();
            }
        }
    }

    /// The rounds of the lanes with no thread of their own, on lane 0's.
    fn round_unattended(&mut self) {
        for other in self.others.iter().filter(|o| !o.attended) {
            if let Some(mut c) = lock_lane(other) {
                c.round(false);
            }
        }
    }

    /// The end of the run: everything handed on, then every consumer's final report.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.round(true);
        // Each other lane's last round, after which it takes no more: its tally joins this
        // one's, with the exits still on their way between lanes.
        let mut lanes = Vec::new();
        for other in std::mem::take(&mut self.others) {
            if let Some(mut c) = lock_lane(&other) {
                c.round(true);
                c.finished = true;
                lanes.push(std::mem::replace(
                    &mut c.pipeline,
                    Pipeline::new(Vec::new()),
                ));
            }
        }
        self.finished = true;
        FINISHED.store(true, Ordering::Release);
        registry::close();
        if self.lanes > 1 {
            let pending: Vec<Exited> = self
                .shared
                .inboxes
                .iter()
                .flat_map(|inbox| std::mem::take(&mut *lock(inbox)))
                .collect();
            self.start_pipeline();
            self.pipeline.absorb(lanes, pending);
            self.sync_sites();
        }
        let counted: Vec<(u32, u64)> = crate::capture::hot::counted()
            .into_iter()
            .map(|(site, calls)| (self.site_index(site), calls))
            .collect();
        let ticks = clock::ticks();
        self.start_pipeline();
        // In order, each one written out before the next reports: the trace, then reports.
        self.pipeline
            .finish(&self.tables, ticks, thread::skipped(), &counted);
        for warning in unmatched_terms(config::get(), &self.tables) {
            config::warn(&warning);
        }
    }
}

/// What the user named and no traced fn matched, by the end of the run: `TRACE_FILTER` terms
/// (judged as each fn was first called) and `TRACE_FOCUS` (against every fn recorded), each
/// once, with how a term is written after the last; and a filter that left every call out (the
/// run printed nothing, not even an open-frames report, as no frame was recorded).
fn unmatched_terms(cfg: &config::Config, tables: &Tables) -> Vec<String> {
    let mut out = cfg.filter.unmatched();
    if let Some(focus) = &cfg.focus {
        if filter::matching(tables.sites.iter().map(|s| &**s), focus).is_empty() {
            out.push(format!("TRACE_FOCUS term \"{focus}\" matched no traced fn"));
        }
    }
    if let Some(last) = out.last_mut() {
        last.push_str(
            " (a term is a fn's full name, or whole `::` segments at its end or start: `get`, `db::get`, `demo::db`)",
        );
    }
    let filtered = !cfg.filter.include.is_empty() || !cfg.filter.exclude.is_empty();
    if filtered && tables.sites.is_empty() {
        out.push("TRACE_FILTER left out every traced call: nothing was recorded".to_string());
    }
    out
}

fn lock_state() -> MutexGuard<'static, Option<Collector>> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes the collector's lock, giving up once the collection holding it has made no progress
/// for `patience` (from a panic hook or an exit hook the lock may be held by a collection that
/// can no longer finish), or after [`LONGEST_WAIT`]. A long collection that is getting on (a
/// backlog of millions of records at exit) is waited for.
fn try_lock_state(patience: Duration) -> Option<MutexGuard<'static, Option<Collector>>> {
    try_lock_patiently(&STATE, patience)
}

/// `m`'s lock, given up once whoever holds it has made no collection progress for `patience`,
/// or after [`LONGEST_WAIT`].
fn try_lock_patiently<T>(m: &Mutex<T>, patience: Duration) -> Option<MutexGuard<'_, T>> {
    let start = Instant::now();
    let mut deadline = start + patience;
    let mut seen = PROGRESS.load(Ordering::Relaxed);
    loop {
        match m.try_lock() {
            Ok(g) => return Some(g),
            Err(TryLockError::Poisoned(p)) => return Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => {
                let now = Instant::now();
                let progress = PROGRESS.load(Ordering::Relaxed);
                if progress != seen {
                    seen = progress;
                    deadline = now + patience;
                }
                if now > deadline || now - start > LONGEST_WAIT {
                    return None;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
}

/// Another lane's collector, unless its lock is held by a round that makes no progress (a
/// lane thread that panicked in its round and whose panic hook is asking): then its share is
/// left out, said once.
fn lock_lane(lane: &Lane) -> Option<MutexGuard<'_, Collector>> {
    let got = try_lock_patiently(&lane.collector, Duration::from_millis(500));
    if got.is_none() && !LANE_STUCK.swap(true, Ordering::Relaxed) {
        config::warn("a trace collector thread is stuck; the records of its threads are cut short");
    }
    got
}

/// Whether a stuck lane was said.
static LANE_STUCK: AtomicBool = AtomicBool::new(false);

/// Installs the collector and starts its thread, which runs a round every `interval` (and
/// whenever a thread hands over a full chunk).
pub fn start(mut collector: Collector, interval: Duration) {
    // The other lanes' threads first: one that cannot start leaves its lane to lane 0's.
    let mut lanes = Vec::new();
    for (i, other) in collector.others.iter_mut().enumerate() {
        let lane = other.collector.clone();
        let name = format!("{}collector-{}", thread::RUNTIME_THREAD_PREFIX, i + 1);
        match spawn_rounds(name, interval, move || lock(&lane).round(false)) {
            Ok(t) => {
                other.attended = true;
                lanes.push(Some(t));
            }
            Err(e) => {
                config::warn(&format!(
                    "cannot start trace collector thread {} ({e}); another collects its share",
                    i + 1
                ));
                lanes.push(None);
            }
        }
    }
    *lock_state() = Some(collector);
    let name = format!("{}collector", thread::RUNTIME_THREAD_PREFIX);
    let first = spawn_rounds(name, interval, || {
        if let Some(c) = lock_state().as_mut() {
            c.round(false);
            c.round_unattended();
        }
    });
    match first {
        Ok(first) => {
            // A lane without a thread is woken through lane 0's.
            let woken = lanes
                .into_iter()
                .map(|t| t.unwrap_or_else(|| first.clone()));
            registry::set_collectors(std::iter::once(first.clone()).chain(woken).collect());
        }
        Err(e) => config::warn(&format!(
            "cannot start the trace collector thread ({e}); the trace is written at exit"
        )),
    }
}

/// A collector thread named `name`: `round` every `interval`, or sooner when woken (a chunk
/// handed over), until the final collection has run.
fn spawn_rounds(
    name: String,
    interval: Duration,
    mut round: impl FnMut() + Send + 'static,
) -> std::io::Result<std::thread::Thread> {
    let handle = std::thread::Builder::new().name(name).spawn(move || {
        thread::runtime_thread();
        loop {
            std::thread::park_timeout(interval);
            if FINISHED.load(Ordering::Acquire) {
                return;
            }
            round();
        }
    })?;
    Ok(handle.thread().clone())
}

/// Runs `f` on the collector after handing on everything captured so far.
pub fn with_flushed<R>(patience: Duration, f: impl FnOnce(&mut Collector) -> R) -> Option<R> {
    let mut state = try_lock_state(patience)?;
    let c = state.as_mut()?;
    c.round_everywhere();
    Some(f(c))
}

/// The end of the run, once: from the exit hook, a panic hook under `panic = "abort"`, a
/// fatal signal.
pub fn finish(patience: Duration) {
    match try_lock_state(patience) {
        Some(mut state) => {
            if let Some(c) = state.as_mut() {
                c.finish();
            }
        }
        None => {
            config::warn(
                "the trace collector is stuck (no progress at the end of the run); the trace is cut short",
            );
            crate::sink::seal();
        }
    }
}

/// Whether the final collection has run.
pub fn finished() -> bool {
    FINISHED.load(Ordering::Acquire)
}
