//! Planning a rewrite of every file in scope (in parallel, all in memory), then checking,
//! diffing or writing it: nothing is written unless every file succeeded.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use trace_transform::{Options, SkipReason};

use crate::diag::{relative, Diagnostic, Stderr};
use crate::lockfile::{self, Saved, Step};
use crate::manifest::{self, Runtime};
use crate::modtree::{self, ModFile};
use crate::project::{Crate, Scope};
use crate::source::{self, FileEdits, SourceOptions};
use crate::{cli, fsio};

/// Instrument or remove.
#[derive(Clone, Debug)]
pub enum Mode {
    Instrument(Runtime, cli::Extras),
    Remove,
}

/// One file's old and new text.
#[derive(Debug)]
pub struct Change {
    pub path: PathBuf,
    pub old: String,
    pub new: String,
    /// The crate directory it belongs to, for display.
    pub base: PathBuf,
    pub edits: Option<FileEdits>,
    /// The file goes (`new` is empty): a Cargo.lock that did not exist before `instrument`.
    pub delete: bool,
}

impl Change {
    pub fn changed(&self) -> bool {
        self.old != self.new || self.delete
    }
}

/// Everything a run would do.
#[derive(Debug, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    pub notes: Vec<String>,
    /// The workspace's Cargo.lock copy to keep or delete around the writes; putting the
    /// lockfile back (or deleting it) is one of `changes`.
    pub lockfile: LockCopy,
}

/// What [`Plan::write`] does with the copy of Cargo.lock (see [`lockfile`]).
#[derive(Debug, Default)]
pub struct LockCopy {
    /// The workspace root it belongs to.
    pub root: PathBuf,
    /// Kept before any file is written, so that no instrumented manifest exists without it.
    pub save: Option<Saved>,
    /// Deleted after every file is written, so that a killed `remove` can still use it.
    pub discard: bool,
}

struct Ctx<'a> {
    mode: &'a Mode,
    transform: Options,
    exclude: GlobSet,
    keep_going: bool,
    /// Follow `mod name;` to files (not for a single file given alone).
    follow_mods: bool,
}

/// Builds the plan for a scope.
pub fn plan(scope: &Scope, select: &cli::Select, mode: &Mode) -> Result<Plan, Diagnostic> {
    let mut builder = GlobSetBuilder::new();
    for g in &select.exclude {
        let glob =
            Glob::new(g).map_err(|e| Diagnostic::new(g, format!("bad --exclude glob: {e}")))?;
        builder.add(glob);
    }
    let exclude = builder
        .build()
        .map_err(|e| Diagnostic::new("--exclude", e.to_string()))?;
    let removing = matches!(mode, Mode::Remove);
    let ctx = Ctx {
        mode,
        // `remove` looks everywhere: it undoes whatever an earlier `instrument` selected.
        transform: Options {
            include_tests: select.tests || removing,
            consume_nested_attrs: false,
            include_inline_always: select.inline_always || removing,
            add_err: matches!(mode, Mode::Instrument(_, extras) if extras.err),
        },
        exclude,
        keep_going: select.keep_going,
        follow_mods: matches!(scope, Scope::Crates { .. }),
    };
    let mut plan = Plan::default();
    match scope {
        Scope::File(path) => {
            let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            let root = ModFile {
                path: path.clone(),
                module: "crate".into(),
                owns_dir: true,
            };
            let out = process(&ctx, &root, &base, false);
            merge(&mut plan, out, &ctx);
        }
        Scope::Crates {
            crates,
            workspace_root,
            ..
        } => {
            for krate in crates {
                plan_crate(&ctx, krate, &mut plan);
            }
            plan_lockfile(workspace_root, crates, mode, &mut plan);
        }
    }
    // A file about to be created (a Cargo.lock put back) has nothing to check yet.
    let existing = plan
        .changes
        .iter()
        .filter(|c| c.changed() && c.path.exists());
    for change in existing {
        if let Err(d) = fsio::check_writable(&change.path) {
            plan.errors.push(d);
        }
    }
    Ok(plan)
}

fn plan_crate(ctx: &Ctx<'_>, krate: &Crate, plan: &mut Plan) {
    for (target, why) in &krate.left_out {
        plan.notes
            .push(format!("{}: target `{target}` left out: {why}", krate.name));
    }
    let crate_dir = krate
        .dir
        .canonicalize()
        .unwrap_or_else(|_| krate.dir.clone());
    let seen = Mutex::new(HashSet::new());
    let mut frontier: Vec<ModFile> = krate
        .roots
        .iter()
        .map(|r| ModFile {
            path: r.clone(),
            module: "crate".into(),
            owns_dir: true,
        })
        .collect();
    let roots: HashSet<PathBuf> = krate.roots.iter().cloned().collect();
    while !frontier.is_empty() {
        frontier.retain(|f| {
            let key = f.path.canonicalize().unwrap_or_else(|_| f.path.clone());
            seen.lock().expect("not poisoned").insert(key)
        });
        let outs: Vec<FileOutcome> = frontier
            .par_iter()
            .map(|f| {
                let root = roots.contains(&f.path);
                process(ctx, f, &krate.dir, krate.edition_2015 && root)
            })
            .collect();
        let mut next = Vec::new();
        for out in outs {
            for child in &out.children {
                let canonical = child
                    .path
                    .canonicalize()
                    .unwrap_or_else(|_| child.path.clone());
                if !canonical.starts_with(&crate_dir) {
                    plan.errors.push(
                        Diagnostic::new(&child.path, format!("module `{}` leads outside the crate", child.module))
                            .help("a symlink or #[path] points outside the crate directory; exclude the parent file or fix the link"),
                    );
                    continue;
                }
                next.push(child.clone());
            }
            merge(plan, out, ctx);
        }
        frontier = next;
    }
    match fsio::read_text(&krate.manifest) {
        Err(d) => plan.errors.push(d),
        Ok(old) => {
            let new = match ctx.mode {
                Mode::Instrument(runtime, _) => manifest::instrument(&old, runtime),
                Mode::Remove => manifest::remove(&old),
            };
            match new {
                Ok(new) => plan.changes.push(Change {
                    path: krate.manifest.clone(),
                    old,
                    new,
                    base: krate.dir.clone(),
                    edits: None,
                    delete: false,
                }),
                Err(message) => plan.errors.push(
                    Diagnostic::new(&krate.manifest, message)
                        .help("fix the manifest, then run again"),
                ),
            }
        }
    }
}

/// The workspace's one Cargo.lock: kept aside by `instrument`, put back by `remove` (see
/// [`lockfile`]).
fn plan_lockfile(root: &Path, crates: &[Crate], mode: &Mode, plan: &mut Plan) {
    let manifests: Vec<PathBuf> = crates.iter().map(|c| c.manifest.clone()).collect();
    let instrumented = plan
        .changes
        .iter()
        .any(|c| manifests.contains(&c.path) && manifest::is_instrumented(&c.old));
    let decision = match mode {
        Mode::Instrument(..) => lockfile::plan_instrument(root, &manifests, instrumented),
        Mode::Remove => lockfile::plan_remove(root, &manifests, instrumented),
    };
    let decision = match decision {
        Ok(d) => d,
        Err(d) => return plan.errors.push(d),
    };
    plan.warnings.extend(decision.warning);
    plan.lockfile.root = root.to_path_buf();
    let change = |old: String, new: String, delete: bool| Change {
        path: lockfile::lock_path(root),
        old,
        new,
        base: root.to_path_buf(),
        edits: None,
        delete,
    };
    match decision.step {
        Step::Nothing => {}
        Step::Save(saved) => plan.lockfile.save = Some(saved),
        Step::Discard => plan.lockfile.discard = true,
        Step::Restore { now, before } => {
            plan.changes
                .push(change(now.unwrap_or_default(), before, false));
            plan.lockfile.discard = true;
        }
        Step::Delete { now } => {
            plan.changes.push(change(now, String::new(), true));
            plan.lockfile.discard = true;
        }
    }
}

struct FileOutcome {
    change: Option<Change>,
    children: Vec<ModFile>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

fn process(ctx: &Ctx<'_>, file: &ModFile, base: &Path, extern_crate: bool) -> FileOutcome {
    let mut out = FileOutcome {
        change: None,
        children: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let rel = relative(&file.path, base);
    if ctx.exclude.is_match(&rel) {
        return out;
    }
    let old = match fsio::read_text(&file.path) {
        Ok(t) => t,
        Err(d) => {
            out.errors.push(d);
            return out;
        }
    };
    let result = match ctx.mode {
        Mode::Instrument(..) => source::instrument(
            &old,
            &SourceOptions {
                transform: ctx.transform,
                extern_crate,
                module: file.module.clone(),
            },
        ),
        Mode::Remove => source::remove(&old),
    };
    let edits = match result {
        Ok(e) => e,
        Err(e) => {
            out.errors.push(
                Diagnostic::new(&file.path, e.message)
                    .at(e.line, e.column)
                    .help("fix the syntax error, or pass --keep-going to skip this file"),
            );
            return out;
        }
    };
    for (line, col, message) in &edits.warnings {
        out.warnings
            .push(Diagnostic::new(&file.path, message.clone()).at(*line, *col));
    }
    for decl in edits.mods.iter().filter(|_| ctx.follow_mods) {
        if decl.test_only && !ctx.transform.include_tests {
            continue;
        }
        match modtree::resolve(file, decl) {
            Ok(child) => out.children.push(child),
            Err(message) => {
                let d = Diagnostic::new(&file.path, message).at(decl.line, decl.column);
                if decl.conditional {
                    out.warnings
                        .push(d.help("it is behind a #[cfg]; left alone"));
                } else {
                    out.errors.push(
                        d.help("create the file or fix the declaration; rustc would fail here too"),
                    );
                }
            }
        }
    }
    out.change = Some(Change {
        path: file.path.clone(),
        new: edits.text.clone(),
        old,
        base: base.to_path_buf(),
        edits: Some(edits),
        delete: false,
    });
    out
}

fn merge(plan: &mut Plan, out: FileOutcome, ctx: &Ctx<'_>) {
    if ctx.keep_going {
        for e in out.errors {
            plan.warnings.push(Diagnostic {
                message: format!("skipped: {}", e.message),
                ..e
            });
        }
    } else {
        plan.errors.extend(out.errors);
    }
    plan.warnings.extend(out.warnings);
    plan.changes.extend(out.change);
}

/// Counts for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub files_changed: usize,
    pub instrumented: usize,
    /// Instrumented fns that record their `Err` returns (`--err`).
    pub err: usize,
    pub skipped: usize,
    pub removed: usize,
    /// Inserted guards whose name was stale, updated.
    pub renamed: usize,
    /// `async` blocks in traced fns, which continue their fn's chain when spawned.
    pub blocks: usize,
    /// Thread spawns in traced fns, whose threads continue their fn's chain.
    pub spawns: usize,
}

impl Plan {
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for c in &self.changes {
            if c.changed() {
                t.files_changed += 1;
            }
            if let Some(e) = &c.edits {
                t.instrumented += e.instrumented();
                t.err += e.with_err();
                t.skipped += e.skipped();
                t.removed += e.removed;
                t.renamed += e.renamed.len();
                t.blocks += e.links.blocks;
                t.spawns += e.links.spawns;
            }
        }
        t
    }

    /// Names every stale guard (`path:line`, old and new name): updated, or for a dry run
    /// (`--check`, `--diff`) stale.
    pub fn report_renamed(&self, err: &Stderr, dry_run: bool) {
        let cwd = std::env::current_dir().unwrap_or_default();
        for c in &self.changes {
            let Some(e) = &c.edits else { continue };
            for r in &e.renamed {
                let what = if dry_run { "is stale" } else { "updated" };
                err.plain(&format!(
                    "{}:{}: the inserted guard's name {what}: `{}` is now `{}`",
                    relative(&c.path, &cwd).display(),
                    r.line,
                    r.old,
                    r.new
                ));
            }
        }
    }

    /// `path:line` of every allocator impl left out, for the summary.
    pub fn allocator_impls(&self) -> Vec<String> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut out = Vec::new();
        for c in &self.changes {
            let Some(e) = &c.edits else { continue };
            for line in &e.allocator_impls {
                out.push(format!("{}:{line}", relative(&c.path, &cwd).display()));
            }
        }
        out
    }

    /// How many `#[inline(always)]` fns were left out.
    pub fn inline_always_skipped(&self) -> usize {
        self.changes
            .iter()
            .filter_map(|c| c.edits.as_ref())
            .flat_map(|e| &e.fns)
            .filter(|f| f.skipped == Some(SkipReason::InlineAlways))
            .count()
    }

    /// Says how many `#[inline(always)]` fns were left out, and how to have them.
    pub fn report_inline_always(&self, err: &Stderr) {
        let n = self.inline_always_skipped();
        if n > 0 {
            err.plain(&format!(
                "left out {} (called in the innermost loops, too often to record; --inline-always instruments them too)",
                trace_runtime::read::units::count(n as u64, "#[inline(always)] fn")
            ));
        }
    }

    /// Says which allocator impls were left out, and why.
    pub fn report_allocator_impls(&self, err: &Stderr) {
        let impls = self.allocator_impls();
        if !impls.is_empty() {
            err.plain(&format!(
                "skipped {} allocator impls (every allocation would be traced; put #[trace] on one to trace it): {}",
                impls.len(),
                impls.join(" ")
            ));
        }
    }

    /// Prints per-file counts and skipped fns (`-v`).
    pub fn report_verbose(&self, err: &Stderr) {
        for note in &self.notes {
            err.note(note);
        }
        for c in &self.changes {
            let Some(e) = &c.edits else { continue };
            let rel = relative(&c.path, &c.base);
            if e.removed > 0 {
                err.plain(&format!("{}: {} removed", rel.display(), e.removed));
                continue;
            }
            if e.fns.is_empty() {
                continue;
            }
            err.plain(&format!(
                "{}: {} instrumented, {} skipped",
                rel.display(),
                e.instrumented(),
                e.skipped()
            ));
            for f in &e.fns {
                if let Some(reason) = &f.skipped {
                    err.plain(&format!(
                        "  {}:{}: {} skipped: {reason}",
                        rel.display(),
                        f.line,
                        f.name
                    ));
                }
            }
        }
    }

    /// A unified diff of every change.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        for c in self.changes.iter().filter(|c| c.changed()) {
            let name = relative(&c.path, &cwd).display().to_string();
            let diff = similar::TextDiff::from_lines(&c.old, &c.new);
            out.push_str(
                &diff
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
        out
    }

    /// Deletes the temporary files a killed run left beside any file in scope (see
    /// [`fsio::remove_stale_temps`]), and says so.
    pub fn remove_stale_temps(&self, err: &Stderr) {
        let dirs: std::collections::BTreeSet<&Path> = self
            .changes
            .iter()
            .filter_map(|c| c.path.parent())
            .collect();
        for dir in dirs {
            for path in fsio::remove_stale_temps(dir) {
                err.note(&format!(
                    "{}: deleted a temporary file left by an interrupted run",
                    path.display()
                ));
            }
        }
    }

    /// Writes every changed file atomically (deletes a lockfile that goes), keeping the copy
    /// of Cargo.lock first and deleting it last.
    pub fn write(&self) -> Result<(), Diagnostic> {
        if let Some(saved) = &self.lockfile.save {
            lockfile::save(&self.lockfile.root, saved)?;
        }
        for c in self.changes.iter().filter(|c| c.changed()) {
            if c.delete {
                std::fs::remove_file(&c.path).map_err(|e| {
                    Diagnostic::new(&c.path, format!("cannot delete: {e}"))
                        .help("check the directory's permissions, then delete it by hand")
                        .internal()
                })?;
            } else if c.path.exists() {
                fsio::write_atomic(&c.path, &c.new)?;
            } else {
                // A Cargo.lock put back after it was deleted: readable as its manifest is, not
                // private as a fresh temporary file.
                fsio::write_atomic(&c.path, &c.new)?;
                if let Ok(meta) = std::fs::metadata(c.base.join("Cargo.toml")) {
                    let _ = std::fs::set_permissions(&c.path, meta.permissions());
                }
            }
        }
        if self.lockfile.discard {
            lockfile::discard(&self.lockfile.root)?;
        }
        Ok(())
    }
}
