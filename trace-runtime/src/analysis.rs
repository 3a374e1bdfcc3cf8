//! Answers computed from every exit: the per-fn summary and weighted call graph
//! (`TRACE_SUMMARY`), collapsed stacks (`TRACE_FORMAT=folded`), and the chains that reach one fn
//! (`TRACE_FOCUS`). Each thread accumulates its own; they are merged at exit.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::__private::Site;
use crate::clock;
use crate::config::{self, Config, Format};
use crate::ring::Ring;

#[derive(Default, Clone)]
struct FnStats {
    calls: u64,
    total: u64,
    own: u64,
    max_depth: u32,
}

#[derive(Default, Clone)]
struct EdgeStats {
    calls: u64,
    total: u64,
}

/// One thread's accumulated answers (ticks, keyed by site address).
#[derive(Default)]
pub(crate) struct Stats {
    fns: HashMap<usize, (&'static Site, FnStats)>,
    edges: HashMap<(usize, usize), (&'static Site, &'static Site, EdgeStats)>,
    folded: HashMap<Vec<&'static str>, u64>,
    focus: HashMap<Vec<&'static str>, u64>,
}

static ALL: Mutex<Vec<Arc<Mutex<Stats>>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new thread's stats, registered for the merge at exit.
pub(crate) fn register() -> Arc<Mutex<Stats>> {
    let stats = Arc::new(Mutex::new(Stats::default()));
    lock(&ALL).push(stats.clone());
    stats
}

fn key(site: &'static Site) -> usize {
    site as *const Site as usize
}

/// Accounts one finished call. `chain` gives the call's chain (itself last) with enter ticks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn on_exit(
    stats: &Mutex<Stats>,
    cfg: &Config,
    ring: &Ring,
    site: &'static Site,
    depth: u32,
    task: u64,
    ts: u64,
    elapsed: u64,
    child: u64,
    chain: &dyn Fn() -> Vec<(&'static Site, u64)>,
) {
    let frames = chain();
    let focused = crate::filter::site_state(site, cfg) & crate::filter::FOCUSED != 0;
    let mut stats = lock(stats);
    let own = elapsed.saturating_sub(child);
    if cfg.summary || cfg.summary_json.is_some() {
        let entry = &mut stats
            .fns
            .entry(key(site))
            .or_insert((site, FnStats::default()))
            .1;
        entry.calls += 1;
        entry.total += elapsed;
        entry.own += own;
        entry.max_depth = entry.max_depth.max(depth);
        if frames.len() >= 2 {
            let caller = frames[frames.len() - 2].0;
            let edge = &mut stats
                .edges
                .entry((key(caller), key(site)))
                .or_insert((caller, site, EdgeStats::default()))
                .2;
            edge.calls += 1;
            edge.total += elapsed;
        }
    }
    if cfg.format == Format::Folded {
        let path: Vec<&'static str> = frames.iter().map(|(s, _)| s.name).collect();
        *stats.folded.entry(path).or_default() += own;
    }
    if focused {
        let path: Vec<&'static str> = frames.iter().map(|(s, _)| s.name).collect();
        *stats.focus.entry(path).or_default() += 1;
        drop(stats);
        crate::sink::write(focus_line(ring, task, ts, elapsed, &frames).as_bytes());
    }
}

/// `[01 main] a (+45.6µs) -> b (+40.1µs) -> d 31.4µs`: each caller with the time since it was
/// entered, the focused fn with its elapsed time.
fn focus_line(
    ring: &Ring,
    task: u64,
    ts: u64,
    elapsed: u64,
    frames: &[(&'static Site, u64)],
) -> String {
    let cal = clock::calibration();
    let mut out = format!("[{:02}", ring.thread);
    if let Some(n) = &ring.name {
        out.push(' ');
        out.push_str(n);
    }
    if task != 0 {
        out.push_str(&format!(" task {task}"));
    }
    out.push(']');
    for (i, (site, start)) in frames.iter().enumerate() {
        out.push_str(if i == 0 { " " } else { " -> " });
        out.push_str(site.name);
        let mut d = Vec::new();
        if i + 1 == frames.len() {
            crate::format::duration(&mut d, cal.span_ns(elapsed));
            out.push(' ');
        } else {
            crate::format::duration(&mut d, cal.ns(ts).saturating_sub(cal.ns(*start)));
            out.push_str(" (+");
            d.push(b')');
        }
        out.push_str(&String::from_utf8_lossy(&d));
    }
    out.push('\n');
    out
}

/// Writes a report: into the trace when it is human text, else on stderr so that machine
/// formats stay valid.
pub(crate) fn write_report(text: &str) {
    let cfg = config::get();
    match cfg.format {
        Format::Human | Format::Folded => crate::sink::write(text.as_bytes()),
        Format::Jsonl | Format::Chrome => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

/// Merges every thread's answers and writes them out: at exit.
pub(crate) fn report() {
    let cfg = config::get();
    if !cfg.analyze {
        return;
    }
    let mut all = Stats::default();
    for stats in lock(&ALL).iter() {
        let s = lock(stats);
        for (k, (site, f)) in &s.fns {
            let e = &mut all.fns.entry(*k).or_insert((site, FnStats::default())).1;
            e.calls += f.calls;
            e.total += f.total;
            e.own += f.own;
            e.max_depth = e.max_depth.max(f.max_depth);
        }
        for (k, (a, b, f)) in &s.edges {
            let e = &mut all
                .edges
                .entry(*k)
                .or_insert((a, b, EdgeStats::default()))
                .2;
            e.calls += f.calls;
            e.total += f.total;
        }
        for (k, v) in &s.folded {
            *all.folded.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &s.focus {
            *all.focus.entry(k.clone()).or_default() += v;
        }
    }
    let cal = clock::calibration();
    if cfg.format == Format::Folded {
        let mut lines: Vec<String> = all
            .folded
            .iter()
            .map(|(path, own)| format!("{} {}", path.join(";"), cal.span_ns(*own)))
            .collect();
        lines.sort();
        let mut text = lines.join("\n");
        text.push('\n');
        crate::sink::write(text.as_bytes());
    }
    if let Some(focus) = &cfg.focus {
        let mut chains: Vec<(&Vec<&'static str>, &u64)> = all.focus.iter().collect();
        chains.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let calls: u64 = chains.iter().map(|c| c.1).sum();
        let mut text = format!(
            "focus {focus}: {calls} calls by {} distinct chains\n",
            chains.len()
        );
        for (path, n) in chains {
            text.push_str(&format!("  {n:>6}x {}\n", path.join(" -> ")));
        }
        crate::sink::write(text.as_bytes());
    }
    let mut fns: Vec<&(&'static Site, FnStats)> = all.fns.values().collect();
    fns.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.name.cmp(b.0.name)));
    let mut edges: Vec<&(&'static Site, &'static Site, EdgeStats)> = all.edges.values().collect();
    edges.sort_by(|a, b| b.2.total.cmp(&a.2.total).then(a.1.name.cmp(b.1.name)));
    if cfg.summary {
        let calls: u64 = fns.iter().map(|f| f.1.calls).sum();
        let mut text = format!("trace summary: {} fns, {calls} calls\n", fns.len());
        text.push_str(&format!(
            "{:>10} {:>12} {:>12} {:>9}  fn\n",
            "calls", "total", "self", "max depth"
        ));
        for (site, f) in &fns {
            text.push_str(&format!(
                "{:>10} {:>12} {:>12} {:>9}  {}\n",
                f.calls,
                dur(cal.span_ns(f.total)),
                dur(cal.span_ns(f.own)),
                f.max_depth,
                site.name
            ));
        }
        text.push_str("call graph (caller -> callee: calls, total time), by time:\n");
        for (caller, callee, e) in &edges {
            text.push_str(&format!(
                "  {} -> {}: {} calls, {}\n",
                caller.name,
                callee.name,
                e.calls,
                dur(cal.span_ns(e.total))
            ));
        }
        write_report(&text);
    }
    if let Some(path) = &cfg.summary_json {
        let mut json = Vec::new();
        json.extend_from_slice(b"{\"fns\":[");
        for (i, (site, f)) in fns.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            json.extend_from_slice(b"{\"name\":");
            crate::format::json_string(&mut json, site.name);
            json.extend_from_slice(
                format!(
                    ",\"calls\":{},\"total_ns\":{},\"self_ns\":{},\"max_depth\":{}}}",
                    f.calls,
                    cal.span_ns(f.total),
                    cal.span_ns(f.own),
                    f.max_depth
                )
                .as_bytes(),
            );
        }
        json.extend_from_slice(b"],\"edges\":[");
        for (i, (caller, callee, e)) in edges.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            json.extend_from_slice(b"{\"caller\":");
            crate::format::json_string(&mut json, caller.name);
            json.extend_from_slice(b",\"callee\":");
            crate::format::json_string(&mut json, callee.name);
            json.extend_from_slice(
                format!(
                    ",\"calls\":{},\"total_ns\":{}}}",
                    e.calls,
                    cal.span_ns(e.total)
                )
                .as_bytes(),
            );
        }
        json.extend_from_slice(b"]}\n");
        if let Err(e) = std::fs::write(path, &json) {
            crate::sink::warn(&format!(
                "cannot write TRACE_SUMMARY_JSON={}: {e}",
                path.display()
            ));
        }
    }
}

fn dur(ns: u64) -> String {
    let mut b = Vec::new();
    crate::format::duration(&mut b, ns);
    String::from_utf8_lossy(&b).into_owned()
}
