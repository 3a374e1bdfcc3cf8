//! The chain of fns that led to a frame, across spawns, as a key views count by and as the text
//! they show: `main -> serve => process -> d`, `=>` where a spawned task or thread begins.

use crate::collect::event::Tables;
use crate::collect::frames::Frames;

/// Sites outermost first, each with whether a spawn lies just before it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<(u32, bool)>);

impl Path {
    /// The causal chain ending at frame `id`; just `site` when the frame is not known (an exit
    /// whose enter was never seen).
    pub fn of(frames: &Frames, id: u64, site: u32) -> Path {
        let steps: Vec<(u32, bool)> = frames
            .causal_chain(id)
            .into_iter()
            .map(|(_, f, crossed)| (f.site, crossed))
            .collect();
        if steps.is_empty() {
            Path(vec![(site, false)])
        } else {
            Path(steps)
        }
    }

    /// The chain as it reads.
    pub fn text(&self, tables: &Tables) -> String {
        let mut text = String::new();
        let steps = self
            .0
            .iter()
            .map(|&(site, crossed)| (tables.site(site), crossed));
        let _ = crate::units::write_chain(&mut text, steps);
        text
    }
}
