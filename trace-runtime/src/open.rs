//! Frames entered but never exited: tracked while records are rendered (sync frames per ring,
//! task frames here), reported at exit, and checked by [`crate::assert_no_open_frames`].

use std::collections::HashMap;
use std::sync::Mutex;

use crate::__private::Site;
use crate::clock;
use crate::ring::{Rec, DEPTH_MASK, KIND_ENTER, KIND_MASK};

/// Open task frames by (task, enter ticks, depth): an exit carries its enter's ticks, so it
/// finds its frame exactly, whichever thread wrote either.
type TaskFrames = HashMap<(u32, u64, u32), &'static Site>;

static TASKS: Mutex<Option<TaskFrames>> = Mutex::new(None);
/// Every task that recorded a frame, for naming tracks.
static SEEN: Mutex<std::collections::BTreeSet<u32>> = Mutex::new(std::collections::BTreeSet::new());

/// Every task that recorded a frame, in order.
pub(crate) fn tasks_seen() -> Vec<u32> {
    SEEN.lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .copied()
        .collect()
}

fn tasks() -> std::sync::MutexGuard<'static, Option<TaskFrames>> {
    TASKS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Notes a task frame's enter or exit as it is rendered.
pub(crate) fn task_event(rec: &Rec) {
    let depth = rec.meta & DEPTH_MASK;
    let mut map = tasks();
    let map = map.get_or_insert_with(HashMap::new);
    if rec.meta & KIND_MASK == KIND_ENTER {
        if depth == 0 {
            SEEN.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(rec.task);
        }
        map.insert((rec.task, rec.ts, depth), rec.site);
    } else {
        map.remove(&(rec.task, rec.aux, depth));
    }
}

/// The open frames of one tree, outermost first, with the ticks they were entered at.
pub(crate) struct OpenTree {
    pub label: String,
    pub frames: Vec<(&'static str, u64)>,
}

/// Every open frame, grouped by thread or task; `skip_thread` and `skip_task` leave out the
/// caller's own (its stack is open by definition).
pub(crate) fn collect(skip_thread: Option<u32>, skip_task: Option<u32>) -> Vec<OpenTree> {
    let mut trees = Vec::new();
    for ring in crate::thread::rings() {
        if Some(ring.thread) == skip_thread {
            continue;
        }
        let frames = ring
            .with_state(|s| {
                s.open
                    .iter()
                    .map(|o| (o.site.name, o.start))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if !frames.is_empty() {
            let label = match &ring.name {
                Some(n) => format!("[{:02} {n}]", ring.thread),
                None => format!("[{:02}]", ring.thread),
            };
            trees.push(OpenTree { label, frames });
        }
    }
    let mut by_task: HashMap<u32, Vec<(u32, &'static str, u64)>> = HashMap::new();
    if let Some(map) = tasks().as_ref() {
        for (&(task, ts, depth), site) in map {
            if Some(task) != skip_task {
                by_task
                    .entry(task)
                    .or_default()
                    .push((depth, site.name, ts));
            }
        }
    }
    let mut task_ids: Vec<u32> = by_task.keys().copied().collect();
    task_ids.sort_unstable();
    for task in task_ids {
        let mut frames = by_task.remove(&task).unwrap_or_default();
        frames.sort_unstable();
        trees.push(OpenTree {
            label: format!("[task {task}]"),
            frames: frames.into_iter().map(|(_, name, ts)| (name, ts)).collect(),
        });
    }
    trees
}

/// `label a (open 1.2s) -> b (open 1.1s)` per tree.
pub(crate) fn describe(trees: &[OpenTree]) -> String {
    let cal = clock::calibration();
    let now = cal.ns(clock::ticks());
    let mut text = String::new();
    for tree in trees {
        text.push_str("  ");
        text.push_str(&tree.label);
        text.push(' ');
        for (i, (name, start)) in tree.frames.iter().enumerate() {
            if i > 0 {
                text.push_str(" -> ");
            }
            let mut open_for = Vec::new();
            crate::format::duration(&mut open_for, now.saturating_sub(cal.ns(*start)));
            text.push_str(name);
            text.push_str(" (open ");
            text.push_str(&String::from_utf8_lossy(&open_for));
            text.push(')');
        }
        text.push('\n');
    }
    text
}

/// At exit: what never finished (a thread still blocked, a task leaked or stuck).
pub(crate) fn report_at_exit() {
    let trees = collect(None, None);
    if trees.is_empty() {
        return;
    }
    let count: usize = trees.iter().map(|t| t.frames.len()).sum();
    let text = format!(
        "open at exit: {count} traced frames never exited\n{}",
        describe(&trees)
    );
    crate::analysis::write_report(&text);
}
