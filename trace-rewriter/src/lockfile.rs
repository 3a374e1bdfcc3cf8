//! Cargo.lock across `instrument` and `remove`: the lockfile as it was is kept aside when a
//! workspace is instrumented, and put back by `remove` when everything that changed in it since
//! is explained by the trace crates (their packages, the versions they moved, the format cargo
//! rewrote it in); otherwise the user's lockfile stays and they are told how to put the pins back.
//!
//! Building with the feature on has to move pins below the runtime's own floors (proc-macro2,
//! quote, libc), and cargo rewrites an older lockfile format when it changes the file; neither is
//! undone by the next build without the feature, so `remove` undoes them from the copy.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use crate::diag::Diagnostic;
use crate::fsio;

/// The directory in the workspace root that holds the copy while the workspace is instrumented.
///
/// Not under the target directory: `cargo clean` (or another `CARGO_TARGET_DIR`) between
/// `instrument` and `remove` would lose it. In the workspace root it survives both, and the
/// `.gitignore` inside it (`*`) keeps git from ever adding it; `remove` deletes it.
pub const STORE: &str = ".trace-rewriter";
/// The lockfile's bytes from before `instrument`.
const SAVED: &str = "Cargo.lock.before";
/// Present instead of [`SAVED`] when there was no lockfile before `instrument`.
const ABSENT: &str = "no-Cargo.lock.before";
const IGNORE: &str =
    "# Written by `trace-rewriter instrument`: the Cargo.lock from before, put back by\n\
# `trace-rewriter remove`, which deletes this directory. Git ignores all of it.\n*\n";

/// The packages tracing adds to a lockfile: what they depend on may move.
pub const TRACE_CRATES: [&str; 4] = [
    "trace-runtime",
    "trace-runtime-macros",
    "trace-transform",
    "trace-eager",
];

/// What the workspace's lockfile was before `instrument`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    Lockfile(String),
    /// There was none: `remove` leaves none.
    Absent,
}

/// The workspace's `Cargo.lock`.
pub fn lock_path(root: &Path) -> PathBuf {
    root.join("Cargo.lock")
}

/// Where the copy is kept (see [`STORE`]).
pub fn store_dir(root: &Path) -> PathBuf {
    root.join(STORE)
}

/// The workspace's lockfile now, if it has one.
pub fn current(root: &Path) -> Result<Option<String>, Diagnostic> {
    let path = lock_path(root);
    if !path.exists() {
        return Ok(None);
    }
    fsio::read_text(&path).map(Some)
}

/// The copy `instrument` kept, if there is one.
pub fn read_saved(root: &Path) -> Result<Option<Saved>, Diagnostic> {
    let dir = store_dir(root);
    if dir.join(SAVED).is_file() {
        return fsio::read_text(&dir.join(SAVED)).map(|t| Some(Saved::Lockfile(t)));
    }
    Ok(dir.join(ABSENT).is_file().then_some(Saved::Absent))
}

/// Keeps `saved` in the store, replacing what was there.
pub fn save(root: &Path, saved: &Saved) -> Result<(), Diagnostic> {
    let dir = store_dir(root);
    fs::create_dir_all(&dir).map_err(|e| {
        Diagnostic::new(&dir, format!("cannot create the directory: {e}"))
            .help("check the workspace root's permissions; nothing was changed")
            .internal()
    })?;
    fsio::write_atomic(&dir.join(".gitignore"), IGNORE)?;
    let (keep, drop) = match saved {
        Saved::Lockfile(text) => ((SAVED, text.as_str()), ABSENT),
        Saved::Absent => ((ABSENT, ""), SAVED),
    };
    fsio::write_atomic(&dir.join(keep.0), keep.1)?;
    remove_if_present(&dir.join(drop))
}

/// Deletes the store: its files, then the directory unless something else was put in it.
pub fn discard(root: &Path) -> Result<(), Diagnostic> {
    let dir = store_dir(root);
    for name in [SAVED, ABSENT, ".gitignore"] {
        remove_if_present(&dir.join(name))?;
    }
    // Not empty: someone put a file of their own there; it stays, with the directory.
    let _ = fs::remove_dir(&dir);
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), Diagnostic> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Diagnostic::new(path, format!("cannot delete: {e}"))
                .help("check the directory's permissions, then delete it by hand")
                .internal())
        }
        _ => Ok(()),
    }
}

/// What to do with the lockfile and its copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Nothing,
    /// Keep this copy, before anything else is written (`instrument`).
    Save(Saved),
    /// Write the lockfile from before over `now` (`None`: there is none now), then delete the
    /// copy.
    Restore {
        now: Option<String>,
        before: String,
    },
    /// Delete the lockfile, `now`, since there was none before; then the copy.
    Delete {
        now: String,
    },
    /// Only delete the copy.
    Discard,
}

/// A [`Step`] and what the user must be told about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub step: Step,
    pub warning: Option<Diagnostic>,
}

impl Decision {
    fn quiet(step: Step) -> Self {
        Decision {
            step,
            warning: None,
        }
    }
}

/// `instrument` of the crates whose manifests are `in_scope` (`instrumented`: one of them
/// already is): keeps the lockfile as it is now, unless a copy is kept already for a workspace
/// still instrumented (a re-run, another member), or the crates were instrumented by a version
/// that kept none (what the lockfile is now may already have moved).
pub fn plan_instrument(
    root: &Path,
    in_scope: &[PathBuf],
    instrumented: bool,
) -> Result<Decision, Diagnostic> {
    match read_saved(root)? {
        // A copy with nothing instrumented was left by a `remove` killed before it deleted it.
        Some(_) if instrumented || !others_instrumented(root, in_scope)?.is_empty() => {
            return Ok(Decision::quiet(Step::Nothing))
        }
        None if instrumented => return Ok(Decision::quiet(Step::Nothing)),
        _ => {}
    }
    let now = current(root)?;
    Ok(Decision::quiet(Step::Save(
        now.map_or(Saved::Absent, Saved::Lockfile),
    )))
}

/// `remove` of the crates whose manifests are `in_scope` (`instrumented`: some were): puts the
/// lockfile from before back when the trace crates explain every difference, deletes one that
/// did not exist, and otherwise leaves it, saying what changed and how to put the pins back.
pub fn plan_remove(
    root: &Path,
    in_scope: &[PathBuf],
    instrumented: bool,
) -> Result<Decision, Diagnostic> {
    let lock = lock_path(root);
    let Some(saved) = read_saved(root)? else {
        if !instrumented {
            return Ok(Decision::quiet(Step::Nothing));
        }
        return Ok(Decision {
            step: Step::Nothing,
            warning: Some(
                Diagnostic::new(
                    &lock,
                    format!(
                        "left as it is: there is no copy of it from before `instrument` (an older \
                         trace-rewriter instrumented this crate, or {STORE}/ was deleted)"
                    ),
                )
                .help(
                    "the next build without the feature takes the trace crates out of it, but \
                     versions they moved stay moved: compare it with your version control \
                     (git diff Cargo.lock) and take back what you want (git checkout Cargo.lock, \
                     or cargo update -p NAME@NEW --precise OLD)",
                ),
            ),
        });
    };
    let others = others_instrumented(root, in_scope)?;
    if !others.is_empty() {
        let names: Vec<String> = others
            .iter()
            .map(|p| crate::diag::relative(p, root).display().to_string())
            .collect();
        return Ok(Decision {
            step: Step::Nothing,
            warning: Some(Diagnostic::new(
                &lock,
                format!(
                    "left for now: other members are still instrumented ({}); removing the last \
                     of them puts it back",
                    names.join(", ")
                ),
            )),
        });
    }
    let now = current(root)?;
    let (before, now) = match (saved, now) {
        (Saved::Absent, None) => return Ok(Decision::quiet(Step::Discard)),
        (Saved::Absent, Some(now)) => return Ok(Decision::quiet(Step::Delete { now })),
        (Saved::Lockfile(before), None) => {
            return Ok(Decision::quiet(Step::Restore { now: None, before }))
        }
        (Saved::Lockfile(before), Some(now)) if before == now => {
            return Ok(Decision::quiet(Step::Discard))
        }
        (Saved::Lockfile(before), Some(now)) => (before, now),
    };
    let copy = Path::new(STORE).join(SAVED);
    match compare(&before, &now) {
        Err(e) => Ok(Decision {
            step: Step::Nothing,
            warning: Some(
                Diagnostic::new(&lock, format!("left as it is: cannot read it: {e}")).help(
                    format!(
                        "its copy from before `instrument` stays in {}: fix Cargo.lock and run \
                         `remove` again to put it back, or delete {STORE}/",
                        copy.display()
                    ),
                ),
            ),
        }),
        Ok(c) if c.explained() => Ok(Decision::quiet(Step::Restore {
            now: Some(now),
            before,
        })),
        Ok(c) => Ok(Decision {
            step: Step::Discard,
            warning: Some(
                Diagnostic::new(
                    &lock,
                    format!(
                        "left as it is: dependencies changed since `instrument` that tracing \
                         does not explain: {}",
                        c.unexplained.join(", ")
                    ),
                )
                .help(keep_help(&c)),
            ),
        }),
    }
}

/// What stays moved in a lockfile left as it is, and the commands that take it back.
fn keep_help(c: &Comparison) -> String {
    let mut help = String::from("the next build without the feature takes the trace crates out");
    if c.moved.is_empty() {
        help.push_str("; they moved no pin of yours");
    } else {
        let pins: Vec<String> = c
            .moved
            .iter()
            .map(|m| format!("{} {} -> {}", m.name, m.from, m.to))
            .collect();
        help.push_str(&format!(
            ", but the pins they moved stay moved ({}). To put them back, run in this order:",
            pins.join(", ")
        ));
        for m in &c.moved {
            help.push_str(&format!("\n    {}", m.command()));
        }
    }
    if let Some((before, now)) = c.format {
        help.push_str(&format!(
            "\n  cargo also rewrote it from format version {before} to {now}; cargo reads both: \
             if an older cargo must read it, set `version = {before}` back at its top{}",
            if c.moved.is_empty() {
                ""
            } else {
                " after those commands"
            }
        ));
    }
    help
}

/// Manifests of workspace members outside `in_scope` that are instrumented.
fn others_instrumented(root: &Path, in_scope: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let scope: BTreeSet<PathBuf> = in_scope.iter().map(|p| canonical(p)).collect();
    Ok(crate::project::member_manifests(root)?
        .into_iter()
        .filter(|m| !scope.contains(&canonical(m)))
        .filter(|m| fsio::read_text(m).is_ok_and(|t| crate::manifest::is_instrumented(&t)))
        .collect())
}

/// A version of a package the trace crates moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    pub name: String,
    pub from: String,
    pub to: String,
}

impl Moved {
    /// The cargo command that puts the pin back.
    pub fn command(&self) -> String {
        format!(
            "cargo update -p {}@{} --precise {}",
            self.name, self.to, self.from
        )
    }
}

/// How a lockfile differs from the one before `instrument`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Changes the trace crates do not explain (the user's), as `added serde 1.0.219`,
    /// `itoa 1.0.1 -> 1.0.15`, `app now depends on serde`.
    pub unexplained: Vec<String>,
    /// Pins the trace crates moved, dependents first (the order `cargo update --precise` can
    /// take them back in).
    pub moved: Vec<Moved>,
    /// The format version before and now, when cargo rewrote it.
    pub format: Option<(i64, i64)>,
}

impl Comparison {
    /// Whether the lockfile from before can be put back without losing a change of the user's.
    pub fn explained(&self) -> bool {
        self.unexplained.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Id {
    name: String,
    version: String,
    source: Option<String>,
}

#[derive(Debug)]
struct Lock {
    format: Option<i64>,
    packages: Vec<(Id, Vec<String>)>,
    /// Everything else (`[metadata]`, `[[patch.unused]]`), as text.
    rest: String,
}

impl Lock {
    fn parse(text: &str) -> Result<Lock, String> {
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| e.to_string())?;
        let mut packages = Vec::new();
        if let Some(item) = doc.get("package") {
            let tables = item
                .as_array_of_tables()
                .ok_or("`package` is not an array of [[package]] tables")?;
            for t in tables.iter() {
                let field = |k: &str| t.get(k).and_then(Item::as_str).map(str::to_string);
                let id = Id {
                    name: field("name").ok_or("a [[package]] without a name")?,
                    version: field("version").ok_or("a [[package]] without a version")?,
                    source: field("source"),
                };
                let deps = t
                    .get("dependencies")
                    .and_then(Item::as_array)
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)))
                    .into_iter()
                    .flatten()
                    .collect();
                packages.push((id, deps));
            }
        }
        let rest = doc
            .iter()
            .filter(|(k, _)| *k != "version" && *k != "package")
            .map(|(k, v)| format!("{k} = {}", v.to_string().trim()))
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Lock {
            format: doc.get("version").and_then(Item::as_integer),
            packages,
            rest,
        })
    }

    /// Each package's dependencies, resolved to packages (`name`, `name version` or
    /// `name version (source)` in the file).
    fn edges(&self) -> BTreeMap<&Id, Vec<&Id>> {
        let mut by_name: HashMap<&str, Vec<&Id>> = HashMap::new();
        for (id, _) in &self.packages {
            by_name.entry(id.name.as_str()).or_default().push(id);
        }
        let resolve = |dep: &str| -> Option<&Id> {
            let mut parts = dep.splitn(3, ' ');
            let name = parts.next()?;
            let version = parts.next();
            let source = parts
                .next()
                .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
            by_name.get(name)?.iter().copied().find(|id| {
                version.is_none_or(|v| id.version == v)
                    && source.is_none_or(|s| id.source.as_deref() == Some(s))
            })
        };
        self.packages
            .iter()
            .map(|(id, deps)| (id, deps.iter().filter_map(|d| resolve(d)).collect()))
            .collect()
    }
}

/// A version's numeric parts, for ordering (`1.0.107` after `1.0.52`).
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map_while(|p| p.parse().ok())
        .collect()
}

fn dep_names(deps: &[String]) -> BTreeSet<&str> {
    deps.iter()
        .filter_map(|d| d.split(' ').next())
        .filter(|n| !TRACE_CRATES.contains(n))
        .collect()
}

/// Every package reachable from `from` (included) along `edges`.
fn reachable<'a>(edges: &BTreeMap<&'a Id, Vec<&'a Id>>, from: &[&'a Id]) -> BTreeSet<&'a Id> {
    let mut seen: BTreeSet<&Id> = BTreeSet::new();
    let mut stack = from.to_vec();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(edges.get(id).into_iter().flatten().copied());
        }
    }
    seen
}

/// Packages of `changed` whose presence is explained: those in `start`, then (to a fixed point)
/// those that only explained packages depend on (a dependency of an old proc-macro2 that went
/// with it, or of a new one that came with it).
fn explain<'a>(
    changed: &BTreeSet<&'a Id>,
    start: BTreeSet<&'a Id>,
    edges: &BTreeMap<&'a Id, Vec<&'a Id>>,
) -> BTreeSet<&'a Id> {
    let mut explained = start;
    loop {
        let more: Vec<&Id> = changed
            .iter()
            .copied()
            .filter(|id| !explained.contains(id))
            .filter(|id| {
                let mut dependents = edges
                    .iter()
                    .filter(|(_, deps)| deps.contains(id))
                    .map(|(d, _)| *d)
                    .peekable();
                dependents.peek().is_some() && dependents.all(|d| explained.contains(d))
            })
            .collect();
        if more.is_empty() {
            return explained;
        }
        explained.extend(more);
    }
}

/// Compares the lockfile from before `instrument` with the one now: what the trace crates
/// explain (their packages and everything they reach, the old versions those replaced and what
/// only those needed, a format bump) and what they do not.
///
/// ```
/// use trace_rewriter::lockfile::compare;
/// let before = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"libc\"]\n\n\
///               [[package]]\nname = \"libc\"\nversion = \"0.2.98\"\n";
/// let traced = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"libc\", \"trace-runtime\"]\n\n\
///               [[package]]\nname = \"libc\"\nversion = \"0.2.191\"\n\n\
///               [[package]]\nname = \"trace-runtime\"\nversion = \"0.1.0\"\ndependencies = [\"libc\"]\n";
/// let c = compare(before, traced).unwrap();
/// assert!(c.explained());
/// assert_eq!(c.moved[0].command(), "cargo update -p libc@0.2.191 --precise 0.2.98");
/// assert_eq!(c.format, Some((3, 4)));
/// ```
pub fn compare(before: &str, now: &str) -> Result<Comparison, String> {
    let old = Lock::parse(before).map_err(|e| format!("the copy from before: {e}"))?;
    let new = Lock::parse(now)?;
    let old_edges = old.edges();
    let new_edges = new.edges();
    let old_ids: BTreeSet<&Id> = old_edges.keys().copied().collect();
    let new_ids: BTreeSet<&Id> = new_edges.keys().copied().collect();
    let roots: Vec<&Id> = new_ids
        .iter()
        .copied()
        .filter(|id| TRACE_CRATES.contains(&id.name.as_str()))
        .collect();
    let traced = reachable(&new_edges, &roots);
    let traced_names: BTreeSet<&str> = traced.iter().map(|id| id.name.as_str()).collect();

    let added: BTreeSet<&Id> = new_ids.difference(&old_ids).copied().collect();
    let removed: BTreeSet<&Id> = old_ids.difference(&new_ids).copied().collect();
    let added_ok = explain(
        &added,
        added.intersection(&traced).copied().collect(),
        &new_edges,
    );
    let removed_ok = explain(
        &removed,
        removed
            .iter()
            .copied()
            .filter(|id| traced_names.contains(id.name.as_str()))
            .collect(),
        &old_edges,
    );

    let mut c = Comparison {
        format: (old.format != new.format)
            .then(|| (old.format.unwrap_or(1), new.format.unwrap_or(1))),
        ..Comparison::default()
    };
    // The user's own changes, a version change of one name read as one change.
    let mut changed_names: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for id in removed.iter().filter(|id| !removed_ok.contains(*id)) {
        changed_names
            .entry(&id.name)
            .or_default()
            .0
            .push(&id.version);
    }
    for id in added.iter().filter(|id| !added_ok.contains(*id)) {
        changed_names
            .entry(&id.name)
            .or_default()
            .1
            .push(&id.version);
    }
    for (name, (gone, came)) in changed_names {
        c.unexplained
            .push(match (gone.is_empty(), came.is_empty()) {
                (false, false) => format!("{name} {} -> {}", gone.join(", "), came.join(", ")),
                (false, true) => format!("removed {name} {}", gone.join(", ")),
                _ => format!("added {name} {}", came.join(", ")),
            });
    }
    let old_deps: HashMap<&Id, &Vec<String>> = old.packages.iter().map(|(i, d)| (i, d)).collect();
    for (id, deps) in &new.packages {
        let Some(before) = old_deps.get(id) else {
            continue;
        };
        let (was, is) = (dep_names(before), dep_names(deps));
        for name in is.difference(&was) {
            c.unexplained
                .push(format!("{} now depends on {name}", id.name));
        }
        for name in was.difference(&is) {
            c.unexplained
                .push(format!("{} no longer depends on {name}", id.name));
        }
    }
    if old.rest != new.rest {
        c.unexplained
            .push("the lockfile's other tables (metadata, unused patches) changed".into());
    }

    // Pins the trace crates moved: an old version explained by a traced package of its name.
    let mut moved: Vec<(Moved, &Id)> = Vec::new();
    for gone in removed.iter().filter(|id| removed_ok.contains(*id)) {
        let now = added
            .iter()
            .filter(|id| id.name == gone.name && id.source == gone.source && traced.contains(*id))
            .max_by_key(|id| version_key(&id.version));
        if let Some(now) = now {
            moved.push((
                Moved {
                    name: gone.name.clone(),
                    from: gone.version.clone(),
                    to: now.version.clone(),
                },
                now,
            ));
        }
    }
    // Dependents first: `--precise` cannot take a pin below what a remaining dependent needs.
    while !moved.is_empty() {
        let next = (0..moved.len())
            .find(|&i| {
                !moved.iter().enumerate().any(|(j, (_, other))| {
                    j != i && reachable(&new_edges, &[*other]).contains(moved[i].1)
                })
            })
            .unwrap_or(0);
        c.moved.push(moved.remove(next).0);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(version: i64, packages: &[(&str, &str, &[&str])]) -> String {
        let mut out = format!("version = {version}\n");
        for (name, v, deps) in packages {
            out.push_str(&format!(
                "\n[[package]]\nname = \"{name}\"\nversion = \"{v}\"\n"
            ));
            if !deps.is_empty() {
                let list: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
                out.push_str(&format!("dependencies = [{}]\n", list.join(", ")));
            }
        }
        out
    }

    const BEFORE: &[(&str, &str, &[&str])] = &[
        ("app", "0.1.0", &["libc", "proc-macro2", "quote"]),
        ("libc", "0.2.98", &[]),
        ("proc-macro2", "1.0.27", &["unicode-xid"]),
        ("quote", "1.0.9", &["proc-macro2"]),
        ("unicode-xid", "0.2.6", &[]),
    ];

    fn traced(extra: &[(&str, &str, &[&str])], app: &[&str]) -> String {
        let mut packages: Vec<(&str, &str, &[&str])> = vec![
            ("app", "0.1.0", app),
            ("libc", "0.2.191", &[]),
            ("proc-macro2", "1.0.107", &["unicode-ident"]),
            ("quote", "1.0.47", &["proc-macro2"]),
            ("syn", "2.0.117", &["proc-macro2", "quote", "unicode-ident"]),
            ("trace-runtime-macros", "0.1.0", &["trace-transform"]),
            ("trace-runtime", "0.1.0", &["libc", "trace-runtime-macros"]),
            ("trace-transform", "0.1.0", &["proc-macro2", "quote", "syn"]),
            ("unicode-ident", "1.0.27", &[]),
        ];
        packages.extend_from_slice(extra);
        lock(4, &packages)
    }

    const APP_TRACED: &[&str] = &["libc", "proc-macro2", "quote", "trace-runtime"];

    #[test]
    fn what_the_trace_crates_moved_is_explained_dependents_first() {
        let c = compare(&lock(3, BEFORE), &traced(&[], APP_TRACED)).unwrap();
        assert_eq!(c.unexplained, Vec::<String>::new());
        let commands: Vec<String> = c.moved.iter().map(Moved::command).collect();
        assert_eq!(
            commands,
            [
                "cargo update -p libc@0.2.191 --precise 0.2.98",
                "cargo update -p quote@1.0.47 --precise 1.0.9",
                "cargo update -p proc-macro2@1.0.107 --precise 1.0.27",
            ]
        );
        assert_eq!(c.format, Some((3, 4)));
    }

    #[test]
    fn a_dependency_the_user_added_is_not() {
        let c = compare(
            &lock(3, BEFORE),
            &traced(
                &[("cfg-if", "1.0.4", &[])],
                &["cfg-if", "libc", "proc-macro2", "quote", "trace-runtime"],
            ),
        )
        .unwrap();
        assert_eq!(
            c.unexplained,
            ["added cfg-if 1.0.4", "app now depends on cfg-if"]
        );
        assert_eq!(c.moved.len(), 3);
    }

    #[test]
    fn an_update_of_a_package_tracing_does_not_use_is_not() {
        let mut before = BEFORE.to_vec();
        before.push(("itoa", "1.0.1", &[]));
        before[0].2 = &["itoa", "libc", "proc-macro2", "quote"];
        let c = compare(
            &lock(3, &before),
            &traced(
                &[("itoa", "1.0.15", &[])],
                &["itoa", "libc", "proc-macro2", "quote", "trace-runtime"],
            ),
        )
        .unwrap();
        assert_eq!(c.unexplained, ["itoa 1.0.1 -> 1.0.15"]);
    }

    #[test]
    fn a_removed_dependency_is_not_even_when_tracing_uses_its_name() {
        let mut before = BEFORE.to_vec();
        before[0].2 = &["libc", "proc-macro2", "quote"];
        let c = compare(
            &lock(3, &before),
            &traced(&[], &["proc-macro2", "quote", "trace-runtime"]),
        )
        .unwrap();
        assert_eq!(c.unexplained, ["app no longer depends on libc"]);
    }

    #[test]
    fn unchanged_packages_in_another_format_are_explained() {
        let c = compare(&lock(3, BEFORE), &lock(4, BEFORE)).unwrap();
        assert!(c.explained());
        assert!(c.moved.is_empty());
        assert_eq!(c.format, Some((3, 4)));
    }

    #[test]
    fn a_lockfile_that_does_not_parse_is_an_error() {
        let err = compare(&lock(3, BEFORE), "<<<<<<< HEAD\nversion = 3\n").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }
}
