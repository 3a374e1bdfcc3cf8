//! Cargo.lock across `instrument`, builds with the feature on and off, and `remove`: the
//! lockfile comes back byte for byte (pins below the runtime's floors, an older format), a
//! user's change in between is kept and the message says how to put the pins back, and a crate
//! that had no lockfile is left with none.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture, run, stderr, tree};

/// The fixtures' shared target directory (outside the crate, as with `CARGO_TARGET_DIR`).
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-builds")
}

/// Runs cargo in `dir` (checked successful).
fn cargo(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo {args:?}: {}", stderr(&out));
}

/// Runs the CLI (checked successful) and gives its stderr.
fn rewriter(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stderr(&out)
}

fn read(path: PathBuf) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}

/// The version a lockfile pins for `name` (its first entry).
fn pinned(lock: &str, name: &str) -> String {
    let entry = format!("name = \"{name}\"\nversion = \"");
    let at = lock
        .find(&entry)
        .unwrap_or_else(|| panic!("{name} in\n{lock}"))
        + entry.len();
    lock[at..].split('"').next().unwrap().to_string()
}

const PINS: [(&str, &str); 3] = [
    ("proc-macro2", "1.0.27"),
    ("quote", "1.0.9"),
    ("libc", "0.2.98"),
];

// Regression: on a crate pinning proc-macro2 1.0.27, quote 1.0.9 and libc 0.2.98 in a format 3
// lockfile (as mini-redis does), building with the feature moved them to the runtime's versions
// and rewrote the file as format 4, and neither `remove` nor the next build put them back.
#[test]
fn pins_below_the_runtimes_floors_and_the_old_format_come_back_byte_for_byte() {
    let dir = fixture("old-pins");
    let lock = dir.path().join("Cargo.lock");
    let before = read(lock.clone());
    assert!(before.contains("\nversion = 3\n"), "{before}");
    for (name, version) in PINS {
        assert_eq!(pinned(&before, name), version);
    }

    rewriter(dir.path(), &["instrument", "."]);
    cargo(dir.path(), &["build", "--quiet", "--features", "trace"]);
    let traced = read(lock.clone());
    // The feature really moved them, and the format: there is something to put back.
    for (name, version) in PINS {
        assert_ne!(pinned(&traced, name), version, "{name} moved");
    }
    assert!(traced.contains("\nversion = 4\n"), "{traced}");
    cargo(dir.path(), &["build", "--quiet"]);

    let err = rewriter(dir.path(), &["remove", "."]);
    assert_eq!(err, "remove: 3 files changed; 3 insertions removed\n");
    assert_eq!(read(lock.clone()), before, "put back by remove");
    assert!(!dir.path().join(".trace-rewriter").exists(), "copy deleted");
    cargo(dir.path(), &["build", "--quiet"]);
    assert_eq!(read(lock.clone()), before, "and the next build keeps it");

    // Twice: nothing left to do, nothing said.
    let err = rewriter(dir.path(), &["remove", "."]);
    assert_eq!(err, "remove: 0 files changed; 0 insertions removed\n");
    assert_eq!(read(lock), before);
}

#[test]
fn a_dependency_changed_in_between_is_kept_and_the_message_puts_the_pins_back() {
    let dir = fixture("old-pins");
    let lock = dir.path().join("Cargo.lock");
    let before = read(lock.clone());
    rewriter(dir.path(), &["instrument", "."]);
    cargo(dir.path(), &["build", "--quiet", "--features", "trace"]);
    // The user adds a dependency while the crate is instrumented.
    let manifest = dir.path().join("Cargo.toml");
    let text = read(manifest.clone()).replace("libc = \"0.2\"\n", "itoa = \"1\"\nlibc = \"0.2\"\n");
    std::fs::write(&manifest, text).unwrap();
    cargo(dir.path(), &["build", "--quiet"]);
    let changed = read(lock.clone());
    let itoa = pinned(&changed, "itoa");

    let err = rewriter(dir.path(), &["remove", "."]);
    assert_eq!(
        err,
        format!(
            "warning: Cargo.lock: left as it is: dependencies changed since `instrument` that \
             tracing does not explain: added itoa {itoa}, old-pins now depends on itoa\n  \
             help: the next build without the feature takes the trace crates out, but the pins \
             they moved stay moved (libc 0.2.98 -> {libc}, quote 1.0.9 -> {quote}, proc-macro2 \
             1.0.27 -> {pm2}). To put them back, run in this order:\n    \
             cargo update -p libc@{libc} --precise 0.2.98\n    \
             cargo update -p quote@{quote} --precise 1.0.9\n    \
             cargo update -p proc-macro2@{pm2} --precise 1.0.27\n  \
             cargo also rewrote it from format version 3 to 4; cargo reads both: if an older \
             cargo must read it, set `version = 3` back at its top after those commands\n\
             remove: 2 files changed; 3 insertions removed\n",
            libc = pinned(&changed, "libc"),
            quote = pinned(&changed, "quote"),
            pm2 = pinned(&changed, "proc-macro2"),
        )
    );
    assert_eq!(read(lock.clone()), changed, "the user's lockfile stays");
    assert!(!dir.path().join(".trace-rewriter").exists());

    // Doing what it says gives the lockfile from before plus the user's change, nothing else.
    for line in err
        .lines()
        .filter_map(|l| l.trim().strip_prefix("cargo update "))
    {
        let mut args: Vec<&str> = vec!["update"];
        args.extend(line.split(' '));
        args.push("--quiet");
        cargo(dir.path(), &args);
    }
    let now = read(lock.clone()).replace("\nversion = 4\n", "\nversion = 3\n");
    std::fs::write(&lock, &now).unwrap();
    cargo(dir.path(), &["build", "--quiet"]);
    assert_eq!(read(lock.clone()), now, "cargo keeps format 3");
    let entry = now
        .split("[[package]]\n")
        .find(|p| p.starts_with("name = \"itoa\""))
        .unwrap();
    assert_eq!(
        now.replace(&format!("[[package]]\n{entry}"), "")
            .replace(" \"itoa\",\n", ""),
        before
    );
}

/// A crate of its own with no dependencies: what cargo writes is only the trace crates.
fn bare_crate(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "pub fn f() -> u32 {\n    1\n}\n").unwrap();
}

#[test]
fn a_crate_without_a_lockfile_is_left_without_one_and_git_never_sees_the_copy() {
    let dir = tempfile::tempdir().unwrap();
    bare_crate(dir.path(), "nolock");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        read(dir.path().join("Cargo.toml")) + "\n[workspace]\n",
    )
    .unwrap();
    let before = tree(dir.path());
    rewriter(dir.path(), &["instrument", "."]);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["init", "--quiet"]);
    assert!(dir.path().join(".trace-rewriter").is_dir());
    assert_eq!(
        git(&["status", "--porcelain", "--untracked-files=all"]),
        "?? Cargo.toml\n?? src/lib.rs\n",
        "the copy is ignored"
    );
    std::fs::remove_dir_all(dir.path().join(".git")).unwrap();
    cargo(dir.path(), &["build", "--quiet"]);
    assert!(dir.path().join("Cargo.lock").exists());
    let err = rewriter(dir.path(), &["remove", "."]);
    assert_eq!(err, "remove: 3 files changed; 1 insertion removed\n");
    assert_eq!(tree(dir.path()), before, "no Cargo.lock, no copy");
}

#[test]
fn a_workspace_gets_its_lockfile_back_when_its_last_instrumented_member_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    bare_crate(&dir.path().join("a"), "a");
    bare_crate(&dir.path().join("b"), "b");
    cargo(dir.path(), &["generate-lockfile", "--quiet"]);
    let before = tree(dir.path());
    rewriter(&dir.path().join("a"), &["instrument", "."]);
    cargo(dir.path(), &["build", "--quiet"]);
    rewriter(&dir.path().join("b"), &["instrument", "."]);
    cargo(dir.path(), &["build", "--quiet"]);
    let traced = read(dir.path().join("Cargo.lock"));
    assert!(traced.contains("name = \"trace-runtime\""), "{traced}");

    let err = rewriter(&dir.path().join("a"), &["remove", "."]);
    let root = format!("{}/", dir.path().canonicalize().unwrap().display());
    assert_eq!(
        err.replace(&root, ""),
        "warning: Cargo.lock: left for now: other members are still instrumented \
         (b/Cargo.toml); removing the last of them puts it back\n\
         remove: 2 files changed; 1 insertion removed\n"
    );
    assert_eq!(read(dir.path().join("Cargo.lock")), traced);
    let err = rewriter(&dir.path().join("b"), &["remove", "."]);
    assert_eq!(err, "remove: 3 files changed; 1 insertion removed\n");
    cargo(dir.path(), &["build", "--quiet"]);
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn without_a_copy_remove_leaves_the_lockfile_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    bare_crate(dir.path(), "older");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        read(dir.path().join("Cargo.toml")) + "\n[workspace]\n",
    )
    .unwrap();
    cargo(dir.path(), &["generate-lockfile", "--quiet"]);
    rewriter(dir.path(), &["instrument", "."]);
    // As an older trace-rewriter left it: no copy.
    std::fs::remove_dir_all(dir.path().join(".trace-rewriter")).unwrap();
    cargo(dir.path(), &["build", "--quiet"]);
    let traced = read(dir.path().join("Cargo.lock"));
    let err = rewriter(dir.path(), &["remove", "."]);
    assert_eq!(
        err,
        "warning: Cargo.lock: left as it is: there is no copy of it from before `instrument` \
         (an older trace-rewriter instrumented this crate, or .trace-rewriter/ was deleted)\n  \
         help: the next build without the feature takes the trace crates out of it, but \
         versions they moved stay moved: compare it with your version control (git diff \
         Cargo.lock) and take back what you want (git checkout Cargo.lock, or cargo update -p \
         NAME@NEW --precise OLD)\n\
         remove: 2 files changed; 1 insertion removed\n"
    );
    assert_eq!(read(dir.path().join("Cargo.lock")), traced);
}

#[test]
fn a_lockfile_deleted_while_instrumented_comes_back_readable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    bare_crate(dir.path(), "deleted");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        read(dir.path().join("Cargo.toml")) + "\n[workspace]\n",
    )
    .unwrap();
    cargo(dir.path(), &["generate-lockfile", "--quiet"]);
    let before = tree(dir.path());
    rewriter(dir.path(), &["instrument", "."]);
    cargo(dir.path(), &["build", "--quiet"]);
    std::fs::remove_file(dir.path().join("Cargo.lock")).unwrap();
    let err = rewriter(dir.path(), &["remove", "."]);
    assert_eq!(err, "remove: 3 files changed; 1 insertion removed\n");
    assert_eq!(tree(dir.path()), before);
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
    };
    assert_eq!(mode("Cargo.lock"), mode("Cargo.toml"));
}

#[test]
fn a_copy_left_by_a_killed_remove_is_replaced_by_the_next_instrument() {
    let dir = tempfile::tempdir().unwrap();
    bare_crate(dir.path(), "stale");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        read(dir.path().join("Cargo.toml")) + "\n[workspace]\n",
    )
    .unwrap();
    cargo(dir.path(), &["generate-lockfile", "--quiet"]);
    let before = tree(dir.path());
    // A `remove` killed after it put the manifest back, before it deleted the copy.
    let store = dir.path().join(".trace-rewriter");
    std::fs::create_dir(&store).unwrap();
    std::fs::write(store.join("Cargo.lock.before"), "version = 3\n").unwrap();
    rewriter(dir.path(), &["instrument", "."]);
    assert_eq!(
        read(store.join("Cargo.lock.before")),
        read(dir.path().join("Cargo.lock"))
    );
    cargo(dir.path(), &["build", "--quiet"]);
    rewriter(dir.path(), &["remove", "."]);
    assert_eq!(tree(dir.path()), before);
}
