//! The note on fns counted instead of recorded (`TRACE_HOT`): at the end of a run, live on
//! stderr and from a recording in every viewer command, which fns turned hot, how many of
//! their calls were only counted, and the setting that records every call.

#[cfg(feature = "enable")]
use std::io::Write;

#[cfg(feature = "enable")]
use super::stream::Out;
#[cfg(feature = "enable")]
use crate::collect::decode::{Consumer, End};
use crate::collect::event::Tables;

/// The note's lines, without the runtime's prefix; none when nothing was counted.
///
/// ```ignore
/// let note = hot::note(&[(0, 2_900_000)], &tables).unwrap();
/// assert_eq!(note[1], "  2900000 calls of demo::tiny");
/// ```
pub fn note(counted: &[(u32, u64)], tables: &Tables) -> Option<Vec<String>> {
    if counted.is_empty() {
        return None;
    }
    let fns = if counted.len() == 1 { "fn" } else { "fns" };
    let mut lines = vec![format!(
        "{} {fns} turned hot (many calls, each tiny): their later calls were counted, not recorded (TRACE_HOT=off records every call):",
        counted.len()
    )];
    lines.extend(counted.iter().map(|&(site, calls)| {
        format!(
            "  {} of {}",
            super::text::count(calls, "call"),
            tables.site(site)
        )
    }));
    Some(lines)
}

/// The note, live, at the end of the run.
#[cfg(feature = "enable")]
pub struct Counted {
    out: Out,
}

#[cfg(feature = "enable")]
impl Counted {
    pub fn new(out: Out) -> Self {
        Counted { out }
    }
}

#[cfg(feature = "enable")]
impl Consumer for Counted {
    fn finish(&mut self, end: &End<'_>) {
        if let Some(lines) = note(end.counted, end.tables) {
            let mut text = String::new();
            for line in lines {
                text.push_str(crate::config::PREFIX);
                text.push_str(&line);
                text.push('\n');
            }
            let _ = self.out.write_all(text.as_bytes());
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_each_counted_fn_with_its_calls() {
        let tables = Tables {
            sites: vec!["demo::main".into(), "demo::tiny".into(), "demo::add".into()],
            ..Tables::default()
        };
        assert_eq!(note(&[], &tables), None);
        assert_eq!(
            note(&[(1, 2_900_000), (2, 7)], &tables).unwrap(),
            [
                "2 fns turned hot (many calls, each tiny): their later calls were counted, not recorded (TRACE_HOT=off records every call):",
                "  2900000 calls of demo::tiny",
                "  7 calls of demo::add",
            ]
        );
    }
}
