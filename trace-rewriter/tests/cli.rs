//! Every command and every error case of the CLI, run as a user runs it.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{fixture, mask, run, stderr, stdout, tree};

#[test]
fn help_lists_commands_and_examples_and_version_prints() {
    let out = run(std::path::Path::new("."), &["--help"]);
    let help = stdout(&out);
    for word in [
        "instrument",
        "remove",
        "run",
        "preview",
        "Examples:",
        "Exit codes:",
    ] {
        assert!(help.contains(word), "{word} in {help}");
    }
    let out = run(std::path::Path::new("."), &["--version"]);
    assert_eq!(
        stdout(&out).trim(),
        format!("trace-rewriter {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn the_old_name_says_it_is_an_alias_and_takes_the_same_verbs() {
    let here = std::path::Path::new(".");
    let help = stdout(&run(here, &["--help"]));
    assert!(
        help.starts_with(
            "trace-rewriter is now `cargo trace` (cargo install cargo-trace). This name takes the same verbs\nand options for one more release"
        ),
        "{help}"
    );
    assert!(help.contains("Usage: trace-rewriter <COMMAND>"), "{help}");
    let out = run(here, &["report", "--help"]);
    assert!(
        stdout(&out).contains("Usage: trace-rewriter report [OPTIONS] [FILE]"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn summary_counts_files_and_fns() {
    let dir = fixture("nested-mods");
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("instrument: 6 files changed; 6 fns instrumented, 0 skipped"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verbose_names_each_skipped_fn_and_why() {
    let dir = fixture("shapes");
    let out = run(dir.path(), &["instrument", ".", "-v"]);
    let err = stderr(&out);
    assert!(
        err.contains("src/lib.rs: 8 instrumented, 3 skipped"),
        "{err}"
    );
    assert!(
        err.contains("src/lib.rs:18: crate::Stack::limit skipped: const fn"),
        "{err}"
    );
    assert!(
        err.contains("src/lib.rs:69: crate::opted_out skipped: opted out with #[trace(skip)]"),
        "{err}"
    );
    assert!(
        err.contains("src/lib.rs:74: crate::tests::t skipped: test code (include it with --tests)"),
        "{err}"
    );
}

#[test]
fn check_lists_files_that_would_change_and_writes_nothing() {
    let dir = fixture("path-attr");
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", ".", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let listed = stdout(&out);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    assert!(listed.contains("src/platform/helper.rs"));
    assert_eq!(tree(dir.path()), before);
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let out = run(dir.path(), &["instrument", ".", "--check"]);
    assert_eq!(out.status.code(), Some(0), "nothing left to do");
}

#[test]
fn diff_prints_insertions_only_and_writes_nothing() {
    let dir = fixture("nested-mods");
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", ".", "--diff"]);
    assert!(out.status.success());
    let diff = stdout(&out);
    let removed = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .count();
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .count();
    assert!(added > 0);
    // Each added line is a removed line plus the guard: insertions only.
    let gone: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .map(|l| &l[1..])
        .collect();
    let rust_lines = diff
        .split("--- a/")
        .filter(|hunk| hunk.starts_with("src/"))
        .flat_map(str::lines);
    for line in rust_lines.filter(|l| l.starts_with('+') && !l.starts_with("+++")) {
        let start = line.find(" #[cfg(feature = \"trace\")]").expect("a guard");
        let end = start + line[start..].find(");").expect("the guard ends") + 2;
        let without = format!("{}{}", &line[1..start], &line[end..]);
        assert!(gone.contains(&without.as_str()), "{line}");
    }
    assert!(removed <= added);
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn a_parse_error_names_file_line_column_and_writes_nothing() {
    let dir = fixture("parse-error");
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("src/good.rs:5:14: "), "{err}");
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(tree(dir.path()), before, "all or nothing");
}

#[test]
fn keep_going_skips_the_broken_file_and_says_so() {
    let dir = fixture("parse-error");
    let out = run(dir.path(), &["instrument", ".", "--keep-going"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: ") && err.contains("src/good.rs:5:14: skipped: "),
        "{err}"
    );
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(lib.contains("__trace_guard"));
    let good = std::fs::read_to_string(dir.path().join("src/good.rs")).unwrap();
    assert!(!good.contains("__trace_guard"));
}

#[test]
fn a_missing_module_file_is_an_error_at_its_declaration() {
    let dir = fixture("missing-mod");
    let out = run(dir.path(), &["instrument", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("src/lib.rs:3:5: file not found for module `nowhere`"),
        "{err}"
    );
    assert!(!std::fs::read_to_string(dir.path().join("src/lib.rs"))
        .unwrap()
        .contains("__trace_guard"));
}

#[test]
fn non_utf8_source_is_refused_with_its_position() {
    let dir = fixture("app");
    std::fs::write(
        dir.path().join("src/main.rs"),
        b"fn main() {}\n// caf\xe9\n",
    )
    .unwrap();
    let out = run(dir.path(), &["instrument", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("src/main.rs:2:7: not valid UTF-8"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_read_only_file_is_refused_before_anything_is_written() {
    let dir = fixture("nested-mods");
    let flat = dir.path().join("src/flat.rs");
    std::fs::set_permissions(&flat, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("src/flat.rs: the file is read-only"),
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn permissions_are_kept() {
    let dir = fixture("app");
    let main = dir.path().join("src/main.rs");
    std::fs::set_permissions(&main, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let mode = std::fs::metadata(&main).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("trace-rewriter"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
}

#[test]
fn a_symlink_leading_outside_the_crate_is_refused() {
    let dir = fixture("nested-mods");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("child.rs"),
        "pub fn leaf() -> u32 { 1 }\n",
    )
    .unwrap();
    let link = dir.path().join("src/flat/child.rs");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(outside.path().join("child.rs"), &link).unwrap();
    let out = run(dir.path(), &["instrument", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("leads outside the crate"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("child.rs")).unwrap(),
        "pub fn leaf() -> u32 { 1 }\n"
    );
}

#[test]
fn a_path_that_is_not_a_crate_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["instrument", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("not a crate: there is no Cargo.toml here"),
        "{err}"
    );
    assert!(err.contains("help: give a crate directory"), "{err}");
    let out = run(dir.path(), &["instrument", "missing"]);
    assert!(stderr(&out).contains("missing: no such file or directory"));
}

#[test]
fn a_single_file_is_instrumented_alone() {
    let dir = fixture("nested-mods");
    let out = run(dir.path(), &["instrument", "src/flat.rs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 file changed; 1 fn instrumented"),
        "{}",
        stderr(&out)
    );
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("trace-runtime"),
        "a single file leaves the manifest alone"
    );
}

/// `#[inline(always)]` fns are left out unless asked for, said in the summary; `remove`
/// takes the guards out of either.
#[test]
fn inline_always_fns_are_left_out_unless_asked_for() {
    let dir = fixture("nested-mods");
    let flat = dir.path().join("src/flat.rs");
    let original = std::fs::read_to_string(&flat).unwrap();
    let hot = format!("{original}\n#[inline(always)]\npub fn splat(b: u8) -> u64 {{\n    u64::from(b) * 0x0101_0101_0101_0101\n}}\n");
    std::fs::write(&flat, &hot).unwrap();
    let out = run(dir.path(), &["instrument", "src/flat.rs", "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("  flat.rs:8: crate::splat skipped: #[inline(always)]: made to vanish into its callers, and called too often to record (include it with --inline-always)"),
        "{err}"
    );
    assert!(
        err.contains("left out 1 #[inline(always)] fn (called in the innermost loops, too often to record; --inline-always instruments them too)\ninstrument: 1 file changed; 1 fn instrumented, 1 skipped"),
        "{err}"
    );
    let text = std::fs::read_to_string(&flat).unwrap();
    assert!(!text[text.find("splat").unwrap()..].contains("__trace_guard"));
    assert!(run(dir.path(), &["remove", "src/flat.rs"]).status.success());
    assert_eq!(std::fs::read_to_string(&flat).unwrap(), hot);

    let out = run(
        dir.path(),
        &["instrument", "src/flat.rs", "--inline-always"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 file changed; 2 fns instrumented"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&flat).unwrap();
    assert!(text[text.find("splat").unwrap()..].contains("__trace_guard"));
    assert!(run(dir.path(), &["remove", "src/flat.rs"]).status.success());
    assert_eq!(std::fs::read_to_string(&flat).unwrap(), hot);
}

#[test]
fn exclude_leaves_matching_files_alone() {
    let dir = fixture("nested-mods");
    let out = run(dir.path(), &["instrument", ".", "--exclude", "src/flat*"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let flat = std::fs::read_to_string(dir.path().join("src/flat.rs")).unwrap();
    assert!(!flat.contains("__trace_guard"));
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(lib.contains("__trace_guard"));
}

#[test]
fn remove_leaves_hand_written_code_alone() {
    let dir = fixture("app");
    let main = dir.path().join("src/main.rs");
    let hand = "fn main() {\n    let __trace_guard = 1;\n    #[cfg(feature = \"trace\")]\n    let _g = 2;\n}\n";
    std::fs::write(&main, hand).unwrap();
    assert!(run(dir.path(), &["remove", "."]).status.success());
    assert_eq!(std::fs::read_to_string(&main).unwrap(), hand);
}

#[test]
fn an_existing_trace_feature_is_extended_and_restored() {
    let dir = fixture("app");
    let manifest = dir.path().join("Cargo.toml");
    let original = format!(
        "{}\n[features]\n# ours\ntrace = [\"std\"] # comment kept\nstd = []\n",
        std::fs::read_to_string(&manifest).unwrap()
    );
    std::fs::write(&manifest, &original).unwrap();
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let traced = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        traced.contains(
            "trace = [\"std\", \"dep:trace-runtime\", \"trace-runtime/enable\"] # comment kept"
        ),
        "{traced}"
    );
    assert!(run(dir.path(), &["remove", "."]).status.success());
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), original);
}

#[test]
fn preview_prints_the_file_as_it_will_compile() {
    let dir = fixture("app");
    let out = run(dir.path(), &["preview", "src/main.rs"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {\n    #[cfg(feature = \"trace\")]\n    let __trace_guard = ::trace_runtime::__private::enter!(module \"::parse\");"), "{text}");
    let unchanged = std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap();
    assert!(
        !unchanged.contains("__trace_guard"),
        "preview writes nothing"
    );
}

#[test]
fn run_traces_a_copy_and_leaves_the_tree_untouched() {
    let dir = fixture("app");
    let before = tree(dir.path());
    let trace = dir.path().join("target/trace.jsonl");
    let out = std::process::Command::new(common::BIN)
        .args(["run", ".", "--", "run", "--quiet"])
        .current_dir(dir.path())
        .env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "answer 42\n");
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["event"].as_str().unwrap(), e["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("enter", "app::main"),
            ("enter", "app::parse"),
            ("exit", "app::parse"),
            ("exit", "app::main")
        ]
    );
    let after = tree(dir.path());
    let new_outside_target: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert!(
        new_outside_target.is_empty(),
        "new files outside target/: {new_outside_target:?}"
    );
    assert_eq!(after, before, "the user's tree is byte-identical");
    // A second run reuses the copy: no source file in it is rewritten.
    let copy_main = dir
        .path()
        .join("target/trace-rewriter/workspace/src/main.rs");
    let stamp = std::fs::metadata(&copy_main).unwrap().modified().unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["run", ".", "--", "build", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::metadata(&copy_main).unwrap().modified().unwrap(),
        stamp
    );
}

#[test]
fn a_workspace_instruments_every_member_and_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\", \"lib\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    for (member, from) in [("app", "app"), ("lib", "nested-mods")] {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(from);
        common::copy_dir(&src, &dir.path().join(member));
        // Members of this workspace, not workspaces of their own.
        let manifest = dir.path().join(member).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)
            .unwrap()
            .replace("[workspace]\n", "");
        std::fs::write(&manifest, text).unwrap();
    }
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("instrument: 8 files changed; 8 fns instrumented"),
        "{}",
        stderr(&out)
    );
    for manifest in ["app/Cargo.toml", "lib/Cargo.toml"] {
        let text = std::fs::read_to_string(dir.path().join(manifest)).unwrap();
        assert!(
            text.contains("trace = [\"dep:trace-runtime\", \"trace-runtime/enable\"]"),
            "{manifest}: {text}"
        );
    }
    assert!(run(dir.path(), &["remove", "."]).status.success());
    assert_eq!(tree(dir.path()), before);
}

/// `run` says, per package, which targets the traced copy traces and which it leaves out.
#[test]
fn run_says_which_targets_it_instruments() {
    let dir = fixture("app");
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("tests/smoke.rs"),
        "#[test]\nfn smoke() {}\n",
    )
    .unwrap();
    let lines = |args: &[&str]| {
        let out = run(dir.path(), args);
        assert!(out.status.success(), "{}", stderr(&out));
        stderr(&out)
            .lines()
            .filter(|l| l.starts_with("run: "))
            .map(|l| {
                // The copy's place is the temporary directory's.
                l.split(" in /").next().unwrap().to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&["run", ".", "--", "build", "--quiet"]),
        [
            "run: instruments app: bin app; leaves out test smoke (tests, examples and benches need --all-targets)",
            "run: traced copy",
            "run: nothing recorded: no traced fn ran",
        ]
    );
    assert_eq!(
        lines(&["run", ".", "--all-targets", "--tests", "--", "build", "--quiet"]),
        [
            "run: instruments app: bin app, test smoke (with their #[test] fns and #[cfg(test)] modules)",
            "run: traced copy",
            "run: nothing recorded: no traced fn ran",
        ]
    );
}

/// Runs `trace-rewriter run` with `args` from `cwd`, with extra environment.
fn run_with_env(
    cwd: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = std::process::Command::new(common::BIN);
    cmd.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

// Regression: `run` failed on `heck` 0.5.0 with "target/trace-rewriter/workspace/LICENSE-APACHE:
// cannot write: No such file or directory" when a file beside Cargo.toml was copied first.
#[test]
fn run_copies_a_published_crate_with_files_beside_its_manifest() {
    let dir = fixture("published");
    let before = tree(dir.path());
    let out = run(dir.path(), &["run", ".", "--", "test", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("test result: ok. 1 passed"),
        "{}",
        stdout(&out)
    );
    let copy = dir.path().join("target/trace-rewriter/workspace");
    for name in [
        "README.md",
        "LICENSE-APACHE",
        "LICENSE-MIT",
        "CHANGELOG.md",
        ".gitignore",
    ] {
        assert_eq!(
            std::fs::read(copy.join(name)).unwrap(),
            before[std::path::Path::new(name)],
            "{name} copied as is"
        );
    }
    assert!(std::fs::read_to_string(copy.join("src/lib.rs"))
        .unwrap()
        .contains("__trace_guard"));
    assert_eq!(tree(dir.path()), before, "the user's tree is untouched");
}

#[test]
fn the_copy_leaves_out_ignored_files_vcs_dirs_build_output_and_symlink_cycles() {
    let dir = fixture("published");
    let root = dir.path();
    for (path, text) in [
        ("scratch/big.bin", "ignored by .gitignore"),
        ("notes.log", "ignored by a glob"),
        (".hg/store/data", "a VCS directory"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("examples-data/input.txt", "copied"),
    ] {
        std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
        std::fs::write(root.join(path), text).unwrap();
    }
    // A link to an ancestor: walked naively, the copy would never end.
    std::os::unix::fs::symlink("..", root.join("src/cycle")).unwrap();
    std::os::unix::fs::symlink("README.md", root.join("README-link.md")).unwrap();
    let out = run(root, &["run", ".", "--", "build", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copy = root.join("target/trace-rewriter/workspace");
    let mut copied: Vec<String> = tree(&copy)
        .keys()
        .map(|p| p.display().to_string())
        .collect();
    copied.sort();
    assert_eq!(
        copied,
        [
            ".gitignore",
            "CHANGELOG.md",
            // Written by the build in the copy.
            "Cargo.lock",
            "Cargo.toml",
            "LICENSE-APACHE",
            "LICENSE-MIT",
            "README-link.md",
            "README.md",
            "examples-data/input.txt",
            "src/lib.rs",
        ]
    );
    assert!(
        !copy.join("README-link.md").is_symlink(),
        "a link's file is copied"
    );
}

#[test]
fn run_puts_the_copy_under_cargo_target_dir() {
    let dir = fixture("app");
    // Output of an earlier plain `cargo build`: neither copied nor added to.
    std::fs::create_dir_all(dir.path().join("target/debug")).unwrap();
    std::fs::write(dir.path().join("target/debug/app"), "an old binary").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().to_str().unwrap();
    let out = run_with_env(
        dir.path(),
        &["run", ".", "--", "run", "--quiet"],
        &[("CARGO_TARGET_DIR", target)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "answer 42\n");
    let copy_main = elsewhere
        .path()
        .join("trace-rewriter/workspace/src/main.rs");
    assert!(std::fs::read_to_string(copy_main)
        .unwrap()
        .contains("__trace_guard"));
    assert!(
        !elsewhere
            .path()
            .join("trace-rewriter/workspace/target")
            .exists(),
        "the crate's own target/ is not copied"
    );
    let own_target: Vec<_> = std::fs::read_dir(dir.path().join("target"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        own_target,
        ["debug"],
        "nothing is built or copied under the crate's own target/"
    );
    // A relative CARGO_TARGET_DIR inside the crate is left out of the copy it holds.
    let out = run_with_env(
        dir.path(),
        &["run", ".", "--", "build", "--quiet"],
        &[("CARGO_TARGET_DIR", "out")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let copy = dir.path().join("out/trace-rewriter/workspace");
    assert!(copy.join("src/main.rs").is_file());
    assert!(!copy.join("out").exists(), "the copy does not hold itself");
}

#[test]
fn an_internal_failure_has_its_own_exit_code() {
    let dir = fixture("app");
    // The copy's place is taken by a file: creating the copy fails, through no fault of the input.
    std::fs::create_dir_all(dir.path().join("target/trace-rewriter")).unwrap();
    std::fs::write(
        dir.path().join("target/trace-rewriter/workspace"),
        "in the way",
    )
    .unwrap();
    let out = run(dir.path(), &["run", ".", "--", "build"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("target/trace-rewriter/workspace: cannot create: "),
        "{err}"
    );
    let help = stdout(&run(dir.path(), &["--help"]));
    assert!(help.contains("3 internal error"), "{help}");
}

#[test]
fn stale_temporary_files_of_a_killed_run_are_deleted() {
    let dir = fixture("nested-mods");
    // No process has an id above the kernel's pid_max (at most 2^22): these writers are gone.
    let dead = [
        "src/.flat.rs.trace-rewriter.4194999.tmp",
        "src/.trace-rewriter-4194999-Xy12Zq.tmp",
        ".Cargo.toml.trace-rewriter.4194998.tmp",
    ];
    let alive = format!("src/.trace-rewriter-{}-AbCdEf.tmp", std::process::id());
    for name in dead.iter().copied().chain([alive.as_str()]) {
        std::fs::write(dir.path().join(name), "half a file").unwrap();
    }
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in dead {
        assert!(!dir.path().join(name).exists(), "{name} deleted");
        assert!(
            stderr(&out).contains(&format!(
                "{name}: deleted a temporary file left by an interrupted run"
            )),
            "{}",
            stderr(&out)
        );
    }
    assert!(
        dir.path().join(&alive).exists(),
        "a running writer's file is kept"
    );
    std::fs::remove_file(dir.path().join(&alive)).unwrap();
    std::fs::write(dir.path().join(dead[1]), "half a file").unwrap();
    assert!(run(dir.path(), &["remove", "."]).status.success());
    assert!(
        !dir.path().join(dead[1]).exists(),
        "remove deletes them too"
    );
    let leftovers: Vec<_> = tree(dir.path())
        .into_keys()
        .filter(|p| p.to_string_lossy().contains("trace-rewriter"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Runs the toolchain's rustfmt on a crate's root file (and the modules it declares).
fn rustfmt(root_file: &std::path::Path) {
    let out = std::process::Command::new("rustfmt")
        .args(["--edition", "2021"])
        .arg(root_file)
        .output()
        .expect("rustfmt is installed with the toolchain");
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn remove_after_rustfmt_gives_what_rustfmt_makes_of_the_original() {
    let expected = fixture("formatted");
    rustfmt(&expected.path().join("src/lib.rs"));
    let dir = fixture("formatted");
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    rustfmt(&dir.path().join("src/lib.rs"));
    let formatted = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    // The shapes under test: rustfmt put each insertion on lines of its own, some wrapped.
    assert!(
        formatted.contains("#[cfg(feature = \"trace\")]\n    let __trace_guard =\n"),
        "{formatted}"
    );
    // rustfmt leaves the async fns' attribute on one line (it cannot read `__site(..)` as a
    // meta list); wrap one by hand, as another formatter or a person might.
    let io = dir.path().join("src/io.rs");
    let text = std::fs::read_to_string(&io).unwrap();
    let one_line = text
        .lines()
        .find(|l| l.contains("__site(") && l.contains("read_all_the_bytes_there_are"))
        .unwrap_or_else(|| panic!("{text}"))
        .to_string();
    let site = one_line
        .trim()
        .strip_prefix("#[cfg_attr(feature = \"trace\", ")
        .and_then(|r| r.strip_suffix(")]"))
        .unwrap_or_else(|| panic!("{one_line}"));
    let wrapped = format!("    #[cfg_attr(\n        feature = \"trace\",\n        {site}\n    )]");
    std::fs::write(&io, text.replace(&one_line, &wrapped)).unwrap();
    let out = run(dir.path(), &["remove", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    for file in ["src/lib.rs", "src/io.rs"] {
        let got = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let want = std::fs::read_to_string(expected.path().join(file)).unwrap();
        assert_eq!(
            got, want,
            "{file}: byte for byte what rustfmt makes of the original"
        );
        assert!(!got.contains("trace"), "{file}: {got}");
    }
}

#[test]
fn a_renamed_fn_gets_its_guard_renamed_and_check_reports_it() {
    let dir = fixture("formatted");
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let lib = dir.path().join("src/lib.rs");
    let io = dir.path().join("src/io.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, text.replace("fn outer()", "fn outermost()")).unwrap();
    let text = std::fs::read_to_string(&io).unwrap();
    std::fs::write(
        &io,
        text.replace("async fn wait()", "async fn wait_longer()"),
    )
    .unwrap();
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", ".", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "src/lib.rs\nsrc/io.rs\n");
    let err = stderr(&out);
    for line in [
        "src/lib.rs:33: the inserted guard's name is stale: `crate::outer` is now `crate::outermost`",
        "src/lib.rs:34: the inserted guard's name is stale: `crate::outer::inner` is now `crate::outermost::inner`",
        "src/io.rs:5: the inserted guard's name is stale: `crate::io::wait` is now `crate::io::wait_longer`",
    ] {
        assert!(err.contains(line), "{line}\n{err}");
    }
    assert_eq!(tree(dir.path()), before, "--check writes nothing");
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "instrument: 2 files changed; 0 fns instrumented, 14 skipped, 3 stale names updated"
        ),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&lib).unwrap();
    assert!(text.contains("fn outermost() -> u32 { #[cfg(feature = \"trace\")] let __trace_guard = ::trace_runtime::__private::enter!(module \"::outermost\");"), "{text}");
    assert!(
        text.contains("enter!(module \"::outermost::inner\")"),
        "{text}"
    );
    assert!(!text.contains("\"::outer\""), "{text}");
    let io_text = std::fs::read_to_string(&io).unwrap();
    assert!(
        io_text.contains(
            "trace(__site(module \"::wait_longer\")))] pub(crate) async fn wait_longer()"
        ),
        "{io_text}"
    );
    assert_eq!(
        run(dir.path(), &["instrument", ".", "--check"])
            .status
            .code(),
        Some(0)
    );
    // Everything else stays insert-only: remove still gives back the edited sources.
    assert!(run(dir.path(), &["remove", "."]).status.success());
    assert!(std::fs::read_to_string(&lib)
        .unwrap()
        .contains("pub fn outermost() -> u32 {\n    fn inner"));
}

#[test]
fn remove_keeps_what_the_user_added_to_the_inserted_feature() {
    let dir = fixture("app");
    let manifest = dir.path().join("Cargo.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let traced = std::fs::read_to_string(&manifest).unwrap();
    let ours = "trace = [\"dep:trace-runtime\", \"trace-runtime/enable\"]\n";
    assert!(traced.contains(ours), "{traced}");
    std::fs::write(
        &manifest,
        traced.replace(
            ours,
            "trace = [\"dep:trace-runtime\", \"trace-runtime/enable\", \"extra\"]\nextra = []\n",
        ),
    )
    .unwrap();
    let out = run(dir.path(), &["remove", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        format!("{original}\n[features]\ntrace = [\"extra\"]\nextra = []\n")
    );
}

/// Where the fixture crates built by these tests share their dependencies' builds.
fn shared_target() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-builds")
}

/// `cargo run --features trace` in a fixture, its jsonl trace written to `trace.jsonl` beside
/// it: the run's output (checked successful) and the trace's path.
fn cargo_run_traced(dir: &std::path::Path) -> (std::process::Output, std::path::PathBuf) {
    let trace = dir.join("trace.jsonl");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--features", "trace"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    (out, trace)
}

#[test]
fn allocator_impls_are_skipped_said_so_and_the_traced_program_runs() {
    let dir = fixture("allocator");
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("skipped 3 allocator impls (every allocation would be traced; put #[trace] on one to trace it): src/main.rs:11 src/main.rs:29 src/main.rs:51"),
        "{err}"
    );
    assert!(
        err.contains("instrument: 2 files changed; 4 fns instrumented, 6 skipped"),
        "{err}"
    );
    let out = run(dir.path(), &["instrument", ".", "-v", "--check"]);
    assert!(
        stderr(&out).contains("src/main.rs:12: <crate::Counting as GlobalAlloc>::alloc skipped: allocator impl: every allocation would be traced"),
        "{}",
        stderr(&out)
    );
    let (out, trace) = cargo_run_traced(dir.path());
    assert_eq!(
        stdout(&out),
        "2 items, passthrough, allocations counted: true\n"
    );
    let events: Vec<(String, String, u64)> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                e["event"].as_str().unwrap().to_string(),
                e["name"].as_str().unwrap().to_string(),
                e["depth"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, u64)> = [
        ("enter", "allocator::main", 0),
        ("enter", "allocator::build", 1),
        ("enter", "allocator::label", 2),
        ("exit", "allocator::label", 2),
        ("enter", "allocator::label", 2),
        ("exit", "allocator::label", 2),
        ("exit", "allocator::build", 1),
        ("enter", "allocator::arena::Passthrough::name", 1),
        ("exit", "allocator::arena::Passthrough::name", 1),
        ("exit", "allocator::main", 0),
    ]
    .into_iter()
    .map(|(e, n, d)| (e.to_string(), n.to_string(), d))
    .collect();
    assert_eq!(events, expected);
}

/// Runs cargo in `dir`, building into the fixtures' shared target directory.
fn cargo(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo {args:?}: {}", stderr(&out));
    out
}

// Regression: the transform required the newest proc-macro2/quote (1.0.107, 1.0.47), so
// instrumenting bumped a user's locked versions and `remove` left them bumped. Pins at the
// floors stay put even while instrumented; pins below them move and come back
// (`tests/lockfile.rs`).
#[test]
fn instrument_and_remove_leave_the_users_cargo_lock_as_it_was() {
    let dir = fixture("locked");
    cargo(dir.path(), &["generate-lockfile", "--quiet"]);
    // The oldest releases trace-transform accepts (its Cargo.toml says why).
    for (name, version) in [
        ("syn", "2.0.0"),
        ("quote", "1.0.25"),
        ("proc-macro2", "1.0.52"),
    ] {
        cargo(
            dir.path(),
            &["update", "--quiet", "-p", name, "--precise", version],
        );
    }
    let lock = dir.path().join("Cargo.lock");
    let before = std::fs::read(&lock).unwrap();
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, trace) = cargo_run_traced(dir.path());
    assert_eq!(stdout(&out), "answer\n");
    let traced = std::fs::read_to_string(&lock).unwrap();
    for pinned in [
        "name = \"syn\"\nversion = \"2.0.0\"\n",
        "name = \"quote\"\nversion = \"1.0.25\"\n",
        "name = \"proc-macro2\"\nversion = \"1.0.52\"\n",
    ] {
        assert!(traced.contains(pinned), "still locked: {pinned}\n{traced}");
    }
    assert!(std::fs::read_to_string(&trace)
        .unwrap()
        .contains("\"name\":\"locked::tokens\""));
    let out = run(dir.path(), &["remove", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    cargo(dir.path(), &["build", "--quiet"]);
    assert_eq!(
        String::from_utf8(std::fs::read(&lock).unwrap()).unwrap(),
        String::from_utf8(before).unwrap(),
        "Cargo.lock byte-identical"
    );
}

// Regression: `run` asked for `--features NAME/trace`, which under resolver 1 (editions 2015
// and 2018, as strsim 0.11.1 and smallvec 1.16.6 publish) names a dependency's feature:
// "package `strsim` does not have a dependency named `strsim`".
#[test]
fn run_works_under_resolver_1() {
    let dir = fixture("edition2015");
    let out = run(dir.path(), &["run", ".", "--", "test", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("test result: ok."),
        "{}",
        stdout(&out)
    );
}

#[test]
fn spawned_threads_continue_the_chain_and_remove_restores_every_byte() {
    let dir = fixture("threads");
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "instrument: 3 files changed; 3 fns instrumented, 0 skipped; 0 async blocks and 4 thread spawns continue their fn's chain"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["instrument", ".", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no double wrap: {}",
        stderr(&out)
    );

    let (out, trace) = cargo_run_traced(dir.path());
    assert_eq!(stdout(&out), "Ok(15)\n");
    let enters: Vec<serde_json::Value> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "enter")
        .collect();
    let fan_out = enters
        .iter()
        .find(|e| e["name"] == "threads::pool::fan_out")
        .expect("fan_out traced");
    let spawned: Vec<&serde_json::Value> = enters
        .iter()
        .filter(|e| e["name"] == "threads::pool::d")
        .collect();
    assert_eq!(spawned.len(), 4, "{enters:?}");
    for d in &spawned {
        assert_eq!(d["depth"], 0, "a thread's root: {d}");
        assert_ne!(d["thread"], fan_out["thread"], "{d}");
        assert_eq!(d["parent"], fan_out["id"], "spawned from fan_out: {d}");
    }
    assert!(
        spawned.iter().any(|d| d["thread_name"] == "w"),
        "the Builder's thread"
    );

    // With the feature off the crate compiles without trace-runtime and runs as before.
    let out = cargo(dir.path(), &["run", "--quiet"]);
    assert_eq!(stdout(&out), "Ok(15)\n");

    let out = run(dir.path(), &["remove", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_file(&trace).unwrap();
    // The fixture has no Cargo.lock: the one cargo wrote is gone with the rest.
    assert_eq!(tree(dir.path()), before, "remove restores every byte");
}

#[test]
fn thread_spawns_in_a_2015_root_with_an_inner_doc_comment_build_both_ways_and_undo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"old\"\nversion = \"0.1.0\"\nedition = \"2015\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        "//! Docs.\nuse std::thread;\npub fn go() -> u32 {\n    thread::spawn(|| 2).join().unwrap()\n}\n",
    )
    .unwrap();
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", ".", "--follow-threads"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: --follow-threads is no longer needed"),
        "{}",
        stderr(&out)
    );
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    assert!(
        lib.starts_with("//! Docs.\n#[cfg(feature = \"trace\")] extern crate trace_runtime; use std::thread;\n#[cfg_attr(feature = \"trace\", ::trace_runtime::trace(__site(module \"::go\")))] pub fn go()"),
        "{lib}"
    );
    cargo(dir.path(), &["build", "--quiet", "--features", "trace"]);
    cargo(dir.path(), &["build", "--quiet"]);
    assert!(run(dir.path(), &["remove", "."]).status.success());
    assert_eq!(tree(dir.path()), before, "no Cargo.lock left either");
}

/// The exit codes as every help that runs a command gives them, word for word.
const EXIT_CODES: &str = "\
Exit codes: 0 done, 1 --check found files to change, 2 bad input (nothing written),
3 internal error (the tool's own work failed: writing a file or the traced copy, running
cargo; the message names the path), `run` otherwise exits with the status of the cargo
command it ran.
";

#[test]
fn run_help_gives_the_exit_codes_as_the_top_level_help_does() {
    let here = std::path::Path::new(".");
    let top = stdout(&run(here, &["--help"]));
    assert!(top.ends_with(&format!("\n\n{EXIT_CODES}")), "{top}");
    for command in ["run", "instrument", "remove"] {
        let out = run(here, &[command, "--help"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let help = stdout(&out);
        assert!(
            help.ends_with(&format!("\n\n{EXIT_CODES}")),
            "{command} --help:\n{help}"
        );
    }
}

#[test]
fn diff_of_stale_names_says_they_are_to_update_and_writes_nothing() {
    let dir = fixture("formatted");
    assert!(run(dir.path(), &["instrument", "."]).status.success());
    let lib = dir.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, text.replace("fn outer()", "fn outermost()")).unwrap();
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", ".", "--diff"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "\
src/lib.rs:33: the inserted guard's name is stale: `crate::outer` is now `crate::outermost`
src/lib.rs:34: the inserted guard's name is stale: `crate::outer::inner` is now `crate::outermost::inner`
instrument --diff: 1 file would change; 0 fns instrumented, 14 skipped, 2 stale names to update
"
    );
    assert!(
        stdout(&out).contains("\n+pub fn outermost() -> u32 { #[cfg(feature = \"trace\")] let __trace_guard = ::trace_runtime::__private::enter!(module \"::outermost\");\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(tree(dir.path()), before, "--diff writes nothing");
}

#[test]
fn masking_replaces_durations_only() {
    assert_eq!(
        mask("[01 main] <- a::b2 12.3µs (busy 850ns) x1s 3 calls 2.01s"),
        "[01 main] <- a::b2 <t> (busy <t>) x1s 3 calls <t>"
    );
}

/// `instrument --err` on a crate of every shape of fn (`testdata/errors`): each fn returning
/// `Result<..>` marks its `Err` exits, the innermost of a `?` chain as the origin; an error type
/// without `Debug` is recorded by its type name; `fmt::Result`, `impl Iterator`, an
/// `unsafe fn` and a `#[track_caller]` fn keep a plain guard. The crate builds and runs with the feature on and off, and
/// `remove` gives back every byte.
#[test]
fn instrument_err_marks_err_returns_in_the_traced_run() {
    let dir = fixture("errors");
    let before = tree(dir.path());
    let out = run(dir.path(), &["instrument", ".", "--err"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "instrument: 3 files changed; 14 fns instrumented (7 record their errors), 0 skipped\n"
    );
    let traced = std::process::Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--features", "trace"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", shared_target())
        .env("NO_COLOR", "1")
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_OUT")
        .env_remove("TRACE_RECORD")
        .output()
        .unwrap();
    assert!(traced.status.success(), "{}", stderr(&traced));
    assert_eq!(
        mask(&stderr(&traced)),
        "\
[01 main] -> errors::main
[01 main]   -> errors::total
[01 main]     -> errors::parse
[01 main]     <- errors::parse <t>
[01 main]     -> errors::parse
[01 main]     <- errors::parse <t>
[01 main]   <- errors::total <t>
[01 main]   -> errors::total
[01 main]     -> errors::parse
[01 main]     <- errors::parse <t>
[01 main]     -> errors::parse
[01 main]     <- errors::parse <t> ! Err(ParseIntError { kind: InvalidDigit }) (origin)
[01 main]   <- errors::total <t> ! Err(errors::Error)
[01 main]   -> errors::read
[01 main]   <- errors::read <t> ! Err(Os { code: 2, kind: NotFound, message: \"No such file or directory\" }) (origin)
[01 main]   -> errors::first
[01 main]   <- errors::first <t> ! Err(Error) (origin)
[01 main]   -> errors::store::Shelf::slot
[01 main]   <- errors::store::Shelf::slot <t> ! Err(Missing(3)) (origin)
[01 main]   -> errors::store::Check::check
[01 main]     -> <errors::store::Shelf as Check>::len
[01 main]     <- <errors::store::Shelf as Check>::len <t>
[01 main]   <- errors::store::Check::check <t> ! Err(Missing(0)) (origin)
[01 main]   -> errors::store::must
[01 main]   <- errors::store::must <t>
[01 main]   -> errors::evens
[01 main]   <- errors::evens <t>
[01 main]   -> errors::raw
[01 main]   <- errors::raw <t>
[01 main]   -> errors::fetch
[01 main]     -> errors::store::lookup
[01 main]     <- errors::store::lookup <t>
[01 main]   <- errors::fetch <t> (busy <t>) ! Err(\"no a\") (origin)
[01 main] <- errors::main <t>
"
    );
    // Off, the attributes are nothing: the crate builds as written, without a warning.
    let off = cargo(dir.path(), &["build", "--quiet"]);
    assert_eq!(stderr(&off), "");
    let out = run(dir.path(), &["remove", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(tree(dir.path()), before, "remove restores every byte");
}
