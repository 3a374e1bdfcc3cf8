//! Self time: a call's time minus its traced callees'. Shared by the views that need it.

use crate::collect::event::{Event, Kind};
use crate::collect::frames::IdMap;

/// Tracks the time each open frame's finished callees took.
#[derive(Default)]
pub struct SelfTime {
    children: IdMap<u64>,
}

impl SelfTime {
    /// On an exit: the frame's self time (elapsed minus its callees'); charges the parent.
    pub fn on_exit(&mut self, e: &Event) -> Option<u64> {
        let Kind::Exit { elapsed_ns, .. } = e.kind else {
            return None;
        };
        let child = self.children.remove(&e.id).unwrap_or(0);
        if e.parent != 0 {
            *self.children.entry(e.parent).or_default() += elapsed_ns;
        }
        Some(elapsed_ns.saturating_sub(child))
    }

    /// The time frame `id`'s finished callees took so far (a frame still open at the end).
    pub fn callees_ns(&self, id: u64) -> u64 {
        self.children.get(&id).copied().unwrap_or(0)
    }
}
