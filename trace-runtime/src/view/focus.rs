//! Focus: each call of one fn with the whole chain that reached it, and at the end how many
//! times each distinct chain did.

use super::chains::{Chains, Only};
use super::human;
use super::stream::Lines;
use super::text::{count, duration, label};
use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{ErrorExit, Event, Kind};
use crate::filter::FocusRule;
use crate::units::chain_joint;

/// `TRACE_FOCUS=NAME` (or `NAME:err`): a format of lines, written by a `Stream`.
pub struct Focus {
    name: String,
    /// Only the calls that returned `Err` (`NAME:err`).
    errors: bool,
    /// Every distinct chain that reached the fn (when it failed, for `NAME:err`), counted; it
    /// knows which fn that is and which calls count.
    chains: Chains,
}

impl Focus {
    pub fn new(rule: &FocusRule) -> Self {
        let only = if rule.errors { Only::Errors } else { Only::All };
        Focus {
            chains: Chains::reaching(&rule.name).only(only),
            name: rule.name.clone(),
            errors: rule.errors,
        }
    }
}

impl Lines for Focus {
    fn line(&mut self, buf: &mut Vec<u8>, e: &Event, ctx: &Ctx<'_>) {
        let Kind::Exit { elapsed_ns, .. } = e.kind else {
            return;
        };
        if !self.chains.counts(e, ctx.tables) {
            return;
        }
        // Across spawns: a call in a spawned task shows the chain that spawned it first.
        let chain = ctx.frames.causal_chain(e.id);
        self.chains.event(e, ctx);
        // `[01 main] a (+45.6µs) -> b (+40.1µs) -> d 31.4µs`: each caller with the time since
        // it was entered, the focused fn with its elapsed time (and its error, for an error
        // exit: `d 31.4µs ! Err(NotFound) (origin)`).
        label(
            buf,
            false,
            e.thread,
            ctx.tables.thread_name(e.thread),
            e.task,
        );
        for (i, (_, f, crossed)) in chain.iter().enumerate() {
            let joint = if i == 0 { " " } else { chain_joint(*crossed) };
            buf.extend_from_slice(joint.as_bytes());
            buf.extend_from_slice(ctx.tables.site(f.site).as_bytes());
            if i + 1 == chain.len() {
                buf.push(b' ');
                duration(buf, elapsed_ns);
                // An error exit says which error: the question `NAME:err` asks is about it.
                if e.error != ErrorExit::None {
                    human::result(buf, false, e, ctx.tables.values(e));
                }
            } else {
                buf.extend_from_slice(b" (+");
                duration(buf, e.ts_ns.saturating_sub(f.start_ns));
                buf.push(b')');
            }
        }
        buf.push(b'\n');
    }

    fn end(&mut self, buf: &mut Vec<u8>, end: &End<'_>) {
        let mut chains: Vec<(String, u64)> = self
            .chains
            .by_total(end.tables)
            .into_iter()
            .map(|(path, s)| (path, s.calls))
            .collect();
        chains.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let calls: u64 = chains.iter().map(|c| c.1).sum();
        let when = if self.errors { " returning Err" } else { "" };
        let mut text = format!(
            "focus {}{when}: {} by {}\n",
            self.name,
            count(calls, "call"),
            count(chains.len() as u64, "distinct chain")
        );
        if self.errors && calls == 0 {
            text.push_str(super::chains::NO_ERRORS);
        }
        for (path, n) in chains {
            text.push_str(&format!("  {n:>6}x {path}\n"));
        }
        buf.extend_from_slice(text.as_bytes());
    }
}
