//! A timeline per thread and task, bounded so that a page can draw a run of millions of calls:
//! each call a slice on its tree's track at its depth, from its entry (or first poll) to its
//! exit, frames still open at the end running up to it. Calls narrower than the resolution
//! merge with their lane's previous slice when less than the resolution apart (a slice of
//! `calls` calls); a track keeps at most `cap` slices, its deepest lanes dropped first (the
//! calls dropped counted). The HTML report draws it.

use std::collections::BTreeMap;

use crate::collect::decode::{Consumer, Ctx, End};
use crate::collect::event::{Event, Kind, Tree};

/// One slice of a track: one call, or neighbouring short calls merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    /// When it began, in ns since the first traced call.
    pub start_ns: u64,
    /// When it ended (the recording's end for an open frame).
    pub end_ns: u64,
    /// Its lane: the depth in its tree.
    pub depth: u32,
    /// The fn's site; `None` for merged calls of different fns.
    pub site: Option<u32>,
    /// How many calls the slice stands for (1: one call, as recorded).
    pub calls: u64,
    /// Still open when the recording ended.
    pub open: bool,
}

/// A thread's or a task's slices, in lane (depth) order, each lane in time order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// The thread's or task's tree the track draws.
    pub tree: Tree,
    /// The thread the tree's first event was on (a task's first poll).
    pub thread: u32,
    /// Its slices, lane by lane, each lane in time order.
    pub slices: Vec<Slice>,
    /// Calls left out by the cap, with the lanes they were on.
    pub dropped_calls: u64,
}

/// Builds the tracks from a run's events.
pub struct Timeline {
    resolution_ns: u64,
    cap: usize,
    /// Per tree: its first thread and its lanes by depth.
    lanes: BTreeMap<Tree, (u32, Vec<Vec<Slice>>)>,
    /// The finished tracks, once the run is over.
    pub tracks: Vec<Track>,
}

impl Timeline {
    /// A timeline merging calls shorter than `resolution_ns` (at least 1ns), at most `cap`
    /// slices a track.
    ///
    /// ```ignore
    /// // A run of 2s in 2000 columns, at most 5000 slices a track.
    /// let timeline = recording.replay_into(Timeline::new(2_000_000_000 / 2000, 5000));
    /// for track in &timeline.tracks {
    ///     println!("{:?}: {} slices", track.tree, track.slices.len());
    /// }
    /// ```
    pub fn new(resolution_ns: u64, cap: usize) -> Self {
        Timeline {
            resolution_ns: resolution_ns.max(1),
            cap,
            lanes: BTreeMap::new(),
            tracks: Vec::new(),
        }
    }

    fn lane(&mut self, tree: Tree, thread: u32, depth: u32) -> &mut Vec<Slice> {
        let (_, lanes) = self
            .lanes
            .entry(tree)
            .or_insert_with(|| (thread, Vec::new()));
        let depth = depth as usize;
        if lanes.len() <= depth {
            lanes.resize_with(depth + 1, Vec::new);
        }
        &mut lanes[depth]
    }

    /// Adds one finished call.
    fn call(&mut self, tree: Tree, thread: u32, depth: u32, site: u32, start_ns: u64, end_ns: u64) {
        let resolution = self.resolution_ns;
        let lane = self.lane(tree, thread, depth);
        let short = end_ns - start_ns < resolution;
        if let Some(last) = lane.last_mut() {
            let last_short = last.calls > 1 || last.end_ns - last.start_ns < resolution;
            if short
                && last_short
                && !last.open
                && start_ns.saturating_sub(last.end_ns) < resolution
            {
                last.end_ns = last.end_ns.max(end_ns);
                last.start_ns = last.start_ns.min(start_ns);
                last.calls += 1;
                if last.site != Some(site) {
                    last.site = None;
                }
                return;
            }
        }
        lane.push(Slice {
            start_ns,
            end_ns,
            depth,
            site: Some(site),
            calls: 1,
            open: false,
        });
    }
}

impl Consumer for Timeline {
    fn event(&mut self, e: &Event, _ctx: &Ctx<'_>) {
        match e.kind {
            // The tree's first thread is the one its first event was on.
            Kind::Enter => {
                self.lane(e.tree(), e.thread, e.depth);
            }
            Kind::Exit { elapsed_ns, .. } => {
                let start = e.ts_ns.saturating_sub(elapsed_ns);
                self.call(e.tree(), e.thread, e.depth, e.site, start, e.ts_ns);
            }
        }
    }

    fn finish(&mut self, end: &End<'_>) {
        for (id, f) in end.frames.iter() {
            if !end.frames.is_open(id) {
                continue;
            }
            let slice = Slice {
                start_ns: f.start_ns,
                end_ns: end.ts_ns.max(f.start_ns),
                depth: f.depth,
                site: Some(f.site),
                calls: 1,
                open: true,
            };
            self.lane(f.tree(), f.thread, f.depth).push(slice);
        }
        for (tree, (thread, lanes)) in std::mem::take(&mut self.lanes) {
            let mut slices = Vec::new();
            let mut dropped_calls = 0;
            let mut full = false;
            for mut lane in lanes {
                // Once a lane does not fit, every deeper one is left out too: what is shown
                // is the track's outer part, whole.
                full = full || slices.len() + lane.len() > self.cap;
                if full {
                    dropped_calls += lane.iter().map(|s| s.calls).sum::<u64>();
                    continue;
                }
                lane.sort_by_key(|s| s.start_ns);
                slices.extend(lane);
            }
            self.tracks.push(Track {
                tree,
                thread,
                slices,
                dropped_calls,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::event::Tables;
    use crate::collect::frames::Frames;

    /// The exit of a call of `site` on `thread` (task 0: none) at `depth`, from `start` to `end`.
    fn exit(thread: u32, task: u64, depth: u32, site: u32, start: u64, end: u64) -> Event {
        Event {
            kind: Kind::Exit {
                elapsed_ns: end - start,
                busy_ns: end - start,
                unwinding: false,
                cancelled: false,
            },
            thread,
            task,
            depth,
            site,
            ts_ns: end,
            id: 1,
            parent: 0,
            origin: 0,
            values: 0,
            error: Default::default(),
        }
    }

    /// The tracks after feeding `events` and ending the run at `end_ns` with nothing open.
    fn tracks(mut t: Timeline, events: &[Event], end_ns: u64) -> Vec<Track> {
        let (frames, tables) = (Frames::default(), Tables::default());
        let ctx = Ctx {
            frames: &frames,
            tables: &tables,
        };
        for e in events {
            t.event(e, &ctx);
        }
        t.finish(&End {
            ticks: 0,
            ts_ns: end_ns,
            frames: &frames,
            tables: &tables,
            skipped: 0,
            counted: &[],
            counts: None,
        });
        t.tracks
    }

    fn slice(start_ns: u64, end_ns: u64, depth: u32, site: Option<u32>, calls: u64) -> Slice {
        Slice {
            start_ns,
            end_ns,
            depth,
            site,
            calls,
            open: false,
        }
    }

    #[test]
    fn short_calls_close_together_merge_and_wide_ones_stay_whole() {
        let events = [
            // Three short calls less than the resolution (10ns) apart: one slice.
            exit(1, 0, 1, 5, 0, 2),
            exit(1, 0, 1, 5, 4, 6),
            exit(1, 0, 1, 6, 12, 14),
            // 20ns later: a slice of its own.
            exit(1, 0, 1, 5, 34, 36),
            // A wide call: whole, and nothing short merges into it.
            exit(1, 0, 1, 7, 40, 80),
            exit(1, 0, 1, 5, 81, 82),
            exit(1, 0, 0, 8, 0, 90),
        ];
        let got = tracks(Timeline::new(10, 100), &events, 100);
        assert_eq!(
            got,
            vec![Track {
                tree: Tree::Thread(1),
                thread: 1,
                slices: vec![
                    slice(0, 90, 0, Some(8), 1),
                    slice(0, 14, 1, None, 3),
                    slice(34, 36, 1, Some(5), 1),
                    slice(40, 80, 1, Some(7), 1),
                    slice(81, 82, 1, Some(5), 1),
                ],
                dropped_calls: 0,
            }]
        );
    }

    #[test]
    fn a_full_track_drops_its_deepest_lanes_and_counts_their_calls() {
        let events = [
            exit(1, 0, 2, 3, 0, 50),
            exit(1, 0, 2, 3, 100, 150),
            exit(1, 0, 1, 2, 0, 160),
            exit(1, 0, 0, 1, 0, 200),
            // A task's track is its own, on the thread its first event was on.
            exit(2, 7, 0, 4, 10, 20),
        ];
        let got = tracks(Timeline::new(1, 2), &events, 200);
        assert_eq!(
            got,
            vec![
                Track {
                    tree: Tree::Thread(1),
                    thread: 1,
                    slices: vec![slice(0, 200, 0, Some(1), 1), slice(0, 160, 1, Some(2), 1)],
                    dropped_calls: 2,
                },
                Track {
                    tree: Tree::Task(7),
                    thread: 2,
                    slices: vec![slice(10, 20, 0, Some(4), 1)],
                    dropped_calls: 0,
                },
            ]
        );
    }
}
