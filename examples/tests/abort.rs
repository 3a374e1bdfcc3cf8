//! `panic = "abort"` in the user's profile: no unwinding, no exit hook, the process ends right
//! after the panic hook. The hook writes the whole trace and reports every open frame, the
//! panicking thread's own included.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

#[test]
fn a_panic_that_aborts_loses_nothing_and_reports_what_was_open() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/abort");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("abort-target");
    let build = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--features", "trace", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo");
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let out = Command::new(target.join("debug/abort-demo"))
        .env("NO_COLOR", "1")
        .env("TRACE_OUT", "stdout")
        .output()
        .expect("run the demo");
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{:?}", out.status);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (lines, report) = common::events_and_report(&stdout);
    let mut want = [
        "[01 main] -> abort_demo::main",
        "[02 blocked] -> abort_demo::blocked  (spawned from abort_demo::main)",
        "[01 main]   -> abort_demo::work",
        "[01 main]     -> abort_demo::explode",
    ];
    want.sort_unstable();
    assert_eq!(lines, want);
    assert_eq!(
        report,
        "open at exit: 4 traced frames never exited
  [01 main] abort_demo::main (open _) -> abort_demo::work (open _) -> abort_demo::explode (open _)
  [02 blocked] abort_demo::blocked (open _), spawned from abort_demo::main
"
    );
    // The panic message still follows the trace.
    assert!(String::from_utf8_lossy(&out.stderr).contains("boom"));
}
