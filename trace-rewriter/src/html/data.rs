//! What the report's page receives: one document built from the runtime's views over a
//! recording (the summary's per-fn figures, the stacks, the chains, the timeline, the report
//! on the frames open at the end), bounded for a browser, with every duration's text spelled
//! by the runtime.

use serde::Serialize;
use trace_runtime::read::chains::Chains;
use trace_runtime::read::folded::Stacks;
use trace_runtime::read::noisy::shell_quote;
use trace_runtime::read::open::AtEnd;
use trace_runtime::read::recording::Recording;
use trace_runtime::read::summary::{Sort, Stats};
use trace_runtime::read::timeline::{Timeline, Track};
use trace_runtime::read::units::{duration_string, label, Tree};

/// How many columns of time the timeline resolves: calls narrower than the run's length over
/// this merge with their neighbours.
pub const TIMELINE_COLUMNS: u64 = 2_000;
/// Most slices a track keeps (its deepest lanes go first).
pub const TRACK_CAP: usize = 5_000;
/// Most tracks the timeline shows (threads first, then tasks, each by number).
pub const TRACKS_SHOWN: usize = 200;
/// A flame graph frame smaller than the run over this is left out (its time stays in its
/// caller's).
pub const FLAME_FRACTION: u64 = 1_000_000;
/// How many of the slowest fns (by total time) get their chains.
pub const SLOW_FNS: usize = 5;
/// How many chains each of them shows (the rest are counted).
pub const CHAINS_EACH: usize = 5;

/// The recording as a file: where, how big, when.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub bytes: u64,
    /// Seconds since the Unix epoch the file was last written (the run's end), when known.
    pub modified_s: Option<u64>,
}

/// The page's document.
#[derive(Serialize, Debug)]
pub struct Page {
    pub file: File,
    pub events: usize,
    pub threads: usize,
    pub duration: String,
    pub duration_ns: u64,
    /// The command line that made the recording, quoted for a shell, when the recording holds
    /// it (version 4 on).
    pub command: Option<String>,
    /// Seconds since the Unix epoch of the run's first traced call, when the recording holds it.
    pub started_s: Option<u64>,
    /// What was lost or repaired reading a damaged file.
    pub damage: Option<String>,
    /// Fn names; the flame graph and the timeline refer to fns by index here.
    pub names: Vec<String>,
    pub fns: Vec<FnRow>,
    pub flame: Flame,
    pub timeline: Tracks,
    pub chains: Vec<SlowFn>,
    /// The frames open at the end as `cargo trace open` prints them ("" when none).
    pub open: String,
}

/// A row of the per-fn table: figures to sort by, and their text.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct FnRow {
    pub name: String,
    pub calls: u64,
    /// Calls counted, not timed (`TRACE_HOT`).
    pub counted: u64,
    pub total_ns: u64,
    pub self_ns: u64,
    pub busy_ns: u64,
    pub mean_ns: u64,
    pub max_ns: u64,
    /// `[total, self, busy, mean, max]` as the runtime spells durations.
    pub text: [String; 5],
}

/// The flame graph: frames in depth-first order, children by name, each
/// `[name index, parent's index in this list (-1 for the root), total ns, its text]`; the root
/// (name index -1) is the whole run.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct Flame {
    pub nodes: Vec<(i64, i64, u64, String)>,
    /// Frames under the run over this are left out.
    pub fraction: u64,
    /// Frames left out as too small, and the time they held (still counted in their callers).
    pub pruned: u64,
    pub pruned_text: String,
}

/// The timeline's tracks, as the page draws them.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct Tracks {
    pub resolution: String,
    /// The run over `columns` is the resolution.
    pub columns: u64,
    pub cap: usize,
    pub tracks: Vec<TrackRow>,
    /// Tracks past `TRACKS_SHOWN`, left out.
    pub hidden_tracks: usize,
}

/// One thread's or task's track: its slices as
/// `[start ns, end ns, depth, name index (-1: several fns), calls, open (0/1), duration text]`.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct TrackRow {
    pub label: String,
    pub slices: Vec<(u64, u64, u32, i64, u64, u8, String)>,
    /// Slices standing for more than one call.
    pub merged: usize,
    pub dropped_calls: u64,
}

/// One of the slowest fns and the chains that reached it.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct SlowFn {
    pub name: String,
    pub total: String,
    pub chains: Vec<ChainRow>,
    /// Distinct chains not shown.
    pub more: usize,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ChainRow {
    pub chain: String,
    pub calls: u64,
    pub total: String,
    pub max: String,
}

impl Page {
    /// Builds the document, replaying the recording into the views it reads.
    pub fn build(rec: &Recording, file: File) -> Page {
        let at_end = rec.replay_into(AtEnd::default());
        let stats = rec.replay_into(Stats::default());
        let stacks = rec.replay_into(Stacks::default());
        let chains = rec.replay_into(Chains::default());
        let resolution = at_end.end_ns / TIMELINE_COLUMNS;
        let timeline = rec.replay_into(Timeline::new(resolution, TRACK_CAP));
        let names: Vec<String> = rec.tables.sites.iter().map(|s| s.to_string()).collect();
        Page {
            file,
            events: rec.raws.len(),
            threads: rec.tables.threads.len(),
            duration: duration_string(at_end.end_ns),
            duration_ns: at_end.end_ns,
            command: rec.run.as_ref().map(|r| command_line(&r.args)),
            started_s: rec.run.as_ref().map(|r| r.start_unix_ns / 1_000_000_000),
            damage: rec.damage.clone(),
            fns: fn_rows(&stats, rec),
            flame: flame(&stacks, &names),
            timeline: timeline_rows(timeline.tracks, rec, resolution),
            chains: slow_fns(&stats, &chains, rec),
            open: at_end.text,
            names,
        }
    }
}

/// A command line as a shell would take it: words a shell reads as they are stay bare, the
/// rest quoted.
fn command_line(args: &[String]) -> String {
    let bare = |a: &String| {
        !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-./=:,+@%".contains(&b))
    };
    args.iter()
        .map(|a| if bare(a) { a.clone() } else { shell_quote(a) })
        .collect::<Vec<_>>()
        .join(" ")
}

fn fn_rows(stats: &Stats, rec: &Recording) -> Vec<FnRow> {
    stats
        .fns_sorted(&rec.tables, Sort::Total)
        .into_iter()
        .map(|(name, f)| FnRow {
            name: name.to_string(),
            calls: f.calls,
            counted: f.counted,
            total_ns: f.total,
            self_ns: f.own,
            busy_ns: f.busy,
            mean_ns: f.mean(),
            max_ns: f.max,
            text: [f.total, f.own, f.busy, f.mean(), f.max].map(duration_string),
        })
        .collect()
}

/// The stacks as one tree of frames, each frame's total its own time and its callees'.
pub fn flame(stacks: &Stacks, names: &[String]) -> Flame {
    #[derive(Default)]
    struct Node {
        total: u64,
        children: std::collections::BTreeMap<u32, usize>,
    }
    let mut tree: Vec<Node> = vec![Node::default()];
    let mut sites: Vec<u32> = vec![u32::MAX];
    for (path, own) in &stacks.stacks {
        let mut at = 0;
        tree[0].total += own;
        for &site in path {
            let next = match tree[at].children.get(&site) {
                Some(&n) => n,
                None => {
                    tree.push(Node::default());
                    sites.push(site);
                    let n = tree.len() - 1;
                    tree[at].children.insert(site, n);
                    n
                }
            };
            tree[next].total += own;
            at = next;
        }
    }
    let floor = tree[0].total / FLAME_FRACTION;
    let mut nodes = Vec::new();
    let (mut pruned, mut pruned_ns) = (0u64, 0u64);
    // Depth first without recursion: a deep recursion's stacks are as deep as the recursion.
    let mut todo: Vec<(usize, i64)> = vec![(0, -1)];
    while let Some((n, parent)) = todo.pop() {
        let name = if n == 0 { -1 } else { i64::from(sites[n]) };
        let me = nodes.len() as i64;
        nodes.push((name, parent, tree[n].total, duration_string(tree[n].total)));
        // Callees by name (the stack order of flame graph tools), pushed last first.
        let mut kids: Vec<usize> = tree[n].children.values().copied().collect();
        kids.sort_by(|a, b| site_name(names, sites[*b]).cmp(site_name(names, sites[*a])));
        for kid in kids {
            if tree[kid].total < floor {
                pruned += 1;
                pruned_ns += tree[kid].total;
            } else {
                todo.push((kid, me));
            }
        }
    }
    Flame {
        nodes,
        fraction: FLAME_FRACTION,
        pruned,
        pruned_text: duration_string(pruned_ns),
    }
}

fn site_name(names: &[String], site: u32) -> &str {
    names.get(site as usize).map_or("?", |s| s)
}

fn tree_label(tables_thread: Option<&str>, thread: u32, tree: Tree) -> String {
    let task = match tree {
        Tree::Task(t) => t,
        Tree::Thread(_) => 0,
    };
    let mut buf = Vec::new();
    label(&mut buf, thread, tables_thread, task);
    String::from_utf8_lossy(&buf).into_owned()
}

fn timeline_rows(tracks: Vec<Track>, rec: &Recording, resolution_ns: u64) -> Tracks {
    let hidden_tracks = tracks.len().saturating_sub(TRACKS_SHOWN);
    let tracks = tracks
        .into_iter()
        .take(TRACKS_SHOWN)
        .map(|t| TrackRow {
            label: tree_label(rec.tables.thread_name(t.thread), t.thread, t.tree),
            merged: t.slices.iter().filter(|s| s.calls > 1).count(),
            slices: t
                .slices
                .iter()
                .map(|s| {
                    (
                        s.start_ns,
                        s.end_ns,
                        s.depth,
                        s.site.map_or(-1, i64::from),
                        s.calls,
                        u8::from(s.open),
                        duration_string(s.end_ns - s.start_ns),
                    )
                })
                .collect(),
            dropped_calls: t.dropped_calls,
        })
        .collect();
    Tracks {
        resolution: duration_string(resolution_ns),
        columns: TIMELINE_COLUMNS,
        cap: TRACK_CAP,
        tracks,
        hidden_tracks,
    }
}

fn slow_fns(stats: &Stats, chains: &Chains, rec: &Recording) -> Vec<SlowFn> {
    let by_fn = chains.by_fn(&rec.tables);
    stats
        .fns_sorted(&rec.tables, Sort::Total)
        .into_iter()
        .filter(|(_, f)| f.timed() > 0)
        .take(SLOW_FNS)
        .map(|(name, f)| {
            let rows = by_fn.get(name).map_or(&[][..], |r| &r[..]);
            SlowFn {
                name: name.to_string(),
                total: duration_string(f.total),
                chains: rows
                    .iter()
                    .take(CHAINS_EACH)
                    .map(|(chain, s)| ChainRow {
                        chain: chain.clone(),
                        calls: s.calls,
                        total: duration_string(s.total),
                        max: duration_string(s.max),
                    })
                    .collect(),
                more: rows.len().saturating_sub(CHAINS_EACH),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flame_frames_sum_their_callees_and_list_them_by_name() {
        let mut stacks = Stacks::default();
        // Site 2 is `a`, 1 is `b`, 0 is `c`: children are ordered by name, not by site.
        stacks.stacks.insert(vec![2], 10);
        stacks.stacks.insert(vec![2, 0], 3);
        stacks.stacks.insert(vec![2, 1], 5);
        stacks.stacks.insert(vec![0], 1);
        let flame = flame(&stacks, &names(&["c", "b", "a"]));
        let t = |ns: u64| duration_string(ns);
        assert_eq!(
            flame,
            Flame {
                nodes: vec![
                    (-1, -1, 19, t(19)),
                    (2, 0, 18, t(18)),
                    (1, 1, 5, t(5)),
                    (0, 1, 3, t(3)),
                    (0, 0, 1, t(1)),
                ],
                fraction: FLAME_FRACTION,
                pruned: 0,
                pruned_text: t(0),
            }
        );
    }

    #[test]
    fn flame_leaves_out_frames_under_a_millionth_of_the_run() {
        let mut stacks = Stacks::default();
        stacks.stacks.insert(vec![0], 999_999_000);
        stacks.stacks.insert(vec![0, 1], 999);
        stacks.stacks.insert(vec![0, 1, 0], 1);
        stacks.stacks.insert(vec![1], 1_000);
        let flame = flame(&stacks, &names(&["a", "b"]));
        // The run is 1s: `a -> b` (1000ns with its callee) stays, `a -> b -> a` does not.
        assert_eq!(
            flame.nodes,
            vec![
                (-1, -1, 1_000_001_000, duration_string(1_000_001_000)),
                (0, 0, 1_000_000_000, duration_string(1_000_000_000)),
                (1, 1, 1_000, duration_string(1_000)),
                (1, 0, 1_000, duration_string(1_000)),
            ]
        );
        assert_eq!((flame.pruned, flame.pruned_text.as_str()), (1, "1ns"));
    }

    /// The whole document for a real recording (the `exits` demo, checked in), as the page
    /// receives it.
    #[test]
    fn the_document_of_a_real_recording() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../trace-runtime/tests/data/exits-v3.trace"
        );
        let rec = Recording::parse(&std::fs::read(path).unwrap()).unwrap();
        let file = File {
            path: "exits.trace".into(),
            bytes: 1234,
            modified_s: Some(1_700_000_000),
        };
        let page = Page::build(&rec, file);
        insta::assert_snapshot!(serde_json::to_string_pretty(&page).unwrap());
    }
}
