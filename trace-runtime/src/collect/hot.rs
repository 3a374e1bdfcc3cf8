//! Which fns are hot (`TRACE_HOT`): the collector watches every sync call that called no
//! recorded fn (a leaf in the records: where the tiny fns are), and a fn `calls` of whose leaf
//! calls took under `under` each, nine in ten of its leaf calls at least, is counted from then
//! on instead of recorded (`capture::hot`), said once on stderr. Short calls are counted
//! rather than averaged: a call that happens to hand a full buffer to a collector behind it
//! waits inside the call, and a few such waits would make a mean of nanoseconds look like
//! microseconds. What was recorded stays, and a call open when its fn turns hot still records
//! its exit.
//!
//! The decision costs the traced threads nothing: the collector pairs each leaf's enter and
//! exit, which it reads anyway.

use super::event::Raw;
use crate::capture::clock::Calibration;
use crate::capture::hot;
use crate::capture::record;
use crate::capture::site::Site;
use crate::config::{self, Hot};
use crate::filter;

/// Threads with a number past this are not watched (a program that starts more threads than
/// this keeps recording their calls).
const MAX_THREAD: u32 = 1 << 16;

/// A thread's last record, when it was an enter: the call that may be a leaf.
#[derive(Clone, Copy, Default)]
struct Open {
    /// The frame's id; 0: the last record was not an enter.
    id: u64,
    ts: u64,
    site: u32,
}

/// A fn's leaf calls so far.
#[derive(Clone, Copy, Default)]
struct Leaves {
    calls: u64,
    /// Those that took under the rule's `under`.
    short: u64,
    /// Counted from now on, or never to be (named by `TRACE_FOCUS`, out of slots).
    decided: bool,
}

/// The collector's watch over hot fns.
pub struct Watch {
    rule: Hot,
    /// `TRACE_FOCUS`: the fn the user follows is never counted.
    focus: Option<String>,
    /// Sites by index in the run's table.
    sites: Vec<&'static Site>,
    leaves: Vec<Leaves>,
    /// Per thread number.
    open: Vec<Open>,
}

impl Watch {
    pub fn new(rule: Hot, focus: Option<String>) -> Self {
        Watch {
            rule,
            focus,
            sites: Vec::new(),
            leaves: Vec::new(),
            open: Vec::new(),
        }
    }

    /// The site the run's table gives the next index.
    pub fn site(&mut self, site: &'static Site) {
        self.sites.push(site);
        self.leaves.push(Leaves::default());
    }

    /// One raw record, in time order (`raw.site` indexes the sites given by [`Watch::site`]).
    #[inline]
    pub fn see(&mut self, raw: &Raw, cal: &Calibration) {
        if raw.thread >= MAX_THREAD {
            return;
        }
        let t = raw.thread as usize;
        if t >= self.open.len() {
            self.open.resize(t + 1, Open::default());
        }
        let open = &mut self.open[t];
        let id = raw.id & record::ID_MASK;
        match raw.id & record::KIND_MASK {
            record::ENTER => {
                *open = Open {
                    id,
                    ts: raw.ts,
                    site: raw.site,
                };
            }
            record::EXIT if open.id == id && raw.id & (record::ASYNC | record::UNWINDING) == 0 => {
                let (site, ticks) = (open.site, raw.ts.saturating_sub(open.ts));
                open.id = 0;
                self.leaf(site, ticks, cal);
            }
            _ => open.id = 0,
        }
    }

    fn leaf(&mut self, site: u32, ticks: u64, cal: &Calibration) {
        let Some(leaves) = self.leaves.get_mut(site as usize) else {
            return;
        };
        if leaves.decided {
            return;
        }
        leaves.calls += 1;
        if cal.span_ns(ticks) >= self.rule.under_ns {
            return;
        }
        leaves.short += 1;
        if leaves.short < self.rule.calls || leaves.short * 10 < leaves.calls * 9 {
            return;
        }
        leaves.decided = true;
        let (calls, short, site) = (leaves.calls, leaves.short, self.sites[site as usize]);
        let name = site.name();
        let followed = self
            .focus
            .as_deref()
            .is_some_and(|f| !filter::matching([name], f).is_empty());
        if !followed && hot::mark(site) {
            config::say(&hot_line(name, calls, short, self.rule.under_ns));
        }
    }
}

/// What is said when a fn turns hot.
fn hot_line(name: &str, calls: u64, short: u64, under_ns: u64) -> String {
    format!(
        "{name} is counted from now on, not recorded: {short} of its {calls} calls took under {} each (TRACE_HOT=off records every call)",
        crate::units::duration_string(under_ns)
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn raw(thread: u32, ts: u64, id: u64, kind: u64, site: u32) -> Raw {
        Raw {
            thread,
            ts,
            id: id | kind,
            site,
            aux: 0,
        }
    }

    /// Ticks are nanoseconds here.
    fn cal() -> Calibration {
        Calibration {
            origin: 0,
            ns_per_tick: 1.0,
        }
    }

    fn counted(site: &Site) -> bool {
        hot::is_counted(site)
    }

    /// A leaf fn is counted at its `calls`-th short call, not before; a fn with a callee, an
    /// async fn, a slow fn and a fn too many of whose calls are slow never are.
    #[test]
    fn tiny_leaves_turn_hot_at_the_threshold() {
        static TINY: Site = Site::new("demo::tiny", || {});
        static CALLER: Site = Site::new("demo::caller", || {});
        static SLOW: Site = Site::new("demo::slow", || {});
        static ASYNC: Site = Site::new("demo::wait", || {});
        static MIXED: Site = Site::new("demo::mixed", || {});
        let mut w = Watch::new(
            Hot {
                calls: 10,
                under_ns: 100,
            },
            None,
        );
        for site in [&TINY, &CALLER, &SLOW, &ASYNC, &MIXED] {
            w.site(site);
        }
        let mut ts = 0;
        let mut id = 0;
        let mut call = |w: &mut Watch, site: u32, ns: u64, kind: u64| {
            id += 1;
            ts += 1;
            w.see(&raw(1, ts, id, record::ENTER, site), &cal());
            ts += ns;
            w.see(&raw(1, ts, id, record::EXIT | kind, site), &cal());
        };
        // One call in ten of `tiny` waits for the collector: still hot.
        call(&mut w, 0, 5_000, 0);
        for i in 0..10 {
            assert!(!counted(&TINY), "counted after {i} short calls");
            call(&mut w, 0, 99, 0);
            call(&mut w, 2, 100, 0);
            call(&mut w, 3, 1, record::ASYNC);
            // Two slow calls in ten short ones.
            call(&mut w, 4, 1, 0);
            if i % 5 == 0 {
                call(&mut w, 4, 1_000, 0);
            }
        }
        assert!(counted(&TINY));
        assert!(!counted(&SLOW));
        assert!(!counted(&ASYNC));
        assert!(!counted(&MIXED));
        // A caller whose callee is recorded is no leaf, however short.
        for n in 0..20u64 {
            let outer = 1000 + n * 2;
            w.see(&raw(2, n * 10, outer, record::ENTER, 1), &cal());
            w.see(&raw(2, n * 10 + 1, outer + 1, record::ENTER, 2), &cal());
            w.see(&raw(2, n * 10 + 2, outer + 1, record::EXIT, 2), &cal());
            w.see(&raw(2, n * 10 + 3, outer, record::EXIT, 1), &cal());
        }
        assert!(!counted(&CALLER));
    }

    /// `TRACE_FOCUS` keeps the fn it follows recorded.
    #[test]
    fn the_focused_fn_is_never_counted() {
        static FOLLOWED: Site = Site::new("demo::followed", || {});
        let mut w = Watch::new(
            Hot {
                calls: 2,
                under_ns: 100,
            },
            Some("followed".into()),
        );
        w.site(&FOLLOWED);
        for id in 1..=4 {
            w.see(&raw(1, id * 10, id, record::ENTER, 0), &cal());
            w.see(&raw(1, id * 10 + 1, id, record::EXIT, 0), &cal());
        }
        assert!(!counted(&FOLLOWED));
    }

    #[test]
    fn the_line_says_how_to_keep_recording() {
        assert_eq!(
            hot_line("demo::tiny", 100_012, 100_000, 500),
            "demo::tiny is counted from now on, not recorded: 100000 of its 100012 calls took under 500ns each (TRACE_HOT=off records every call)"
        );
    }
}
