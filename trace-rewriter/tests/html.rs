//! `html` in a real browser: headless Chromium loads the page made from a demo's recording, and
//! the DOM its script built is read back: the per-fn table's rows, the flame graph's frames
//! (zoomed and searched through the page's address), the timeline's tracks, the chains and the
//! frames open at the end, each held to what the CLI's other commands say of the same
//! recording. A screenshot is taken (`TRACE_UPDATE_SCREENSHOT=1` copies it to
//! `docs/report.png`).
//!
//! Without Chromium the tests say they skipped, unless `TRACE_REQUIRE_BROWSER=1` (CI) makes
//! them fail.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{demo, stderr, stdout, BIN};

/// Chromium: `TRACE_BROWSER`, else `chromium` or `chromium-browser` on `PATH`.
fn browser() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRACE_BROWSER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// The browser, or `None` after saying the test is skipped; fails when `TRACE_REQUIRE_BROWSER`
/// asks for one.
fn require_browser(test: &str) -> Option<PathBuf> {
    let found = browser();
    if found.is_none() {
        assert!(
            std::env::var_os("TRACE_REQUIRE_BROWSER").is_none_or(|v| v != "1"),
            "TRACE_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium, or set TRACE_BROWSER)"
        );
        // Past the test harness's capture, so that a skip is seen in a passing run.
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: no chromium on PATH (set TRACE_REQUIRE_BROWSER=1 to fail instead)"
        );
    }
    found
}

/// What Chromium printed.
struct Printed {
    stdout: String,
}

/// Runs headless Chromium on `url` with `args`, in a profile of its own, for at most two
/// minutes. Its output goes to files, which a page of any size cannot fill.
fn chromium(browser: &Path, args: &[&str], url: &str) -> Printed {
    let profile = tempfile::tempdir().expect("a profile directory");
    let out_path = profile.path().join("stdout");
    let err_path = profile.path().join("stderr");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("user").display()
        ))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {url} in two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    assert!(status.success(), "chromium failed: {}", read(&err_path));
    Printed {
        stdout: read(&out_path),
    }
}

/// The DOM after the page's script ran, at `page#hash`.
fn dom(browser: &Path, page: &Path, hash: &str) -> String {
    let url = format!("file://{}{hash}", page.display());
    let dom = chromium(browser, &["--dump-dom"], &url).stdout;
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not finish:\n{dom}"
    );
    dom
}

/// A recording of a demo's run, in `dir`.
fn record(dir: &Path, bin: &str) -> PathBuf {
    let recording = dir.join(format!("{bin}.trace"));
    let out = Command::new(demo(bin))
        .env("TRACE_RECORD", &recording)
        .env("TRACE_OUT", "off")
        .output()
        .expect("run the demo");
    assert!(recording.is_file(), "no recording: {}", stderr(&out));
    recording
}

/// Runs the CLI.
fn cli(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run trace-rewriter");
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out
}

/// The text of an element's markup: tags dropped, entities read.
fn text(markup: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in markup.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The markup between each `start` and the next `end` after it, in order.
fn between<'a>(markup: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = markup;
    while let Some(at) = rest.find(start) {
        let from = &rest[at + start.len()..];
        let stop = from.find(end).expect("a closed element");
        out.push(&from[..stop]);
        rest = &from[stop..];
    }
    out
}

/// The first element's markup between `start` and `end`.
fn one<'a>(markup: &'a str, start: &str, end: &str) -> &'a str {
    between(markup, start, end)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {start} in the page"))
}

/// The per-fn table's rows, each cell's text.
fn table_rows(dom: &str) -> Vec<Vec<String>> {
    let body = one(dom, "<table id=\"fns\">", "</table>");
    let body = one(body, "<tbody>", "</tbody>");
    between(body, "<tr>", "</tr>")
        .into_iter()
        .map(|row| {
            between(row, "<td", "</td>")
                .into_iter()
                .map(|cell| text(&format!("<td{cell}")))
                .collect()
        })
        .collect()
}

/// The flame graph's frames in page order: `(class, fn name)`.
fn frames(dom: &str) -> Vec<(String, String)> {
    between(dom, "<div class=\"frame", "\" title=")
        .into_iter()
        .map(|f| {
            let (class, name) = f.split_once("\" data-name=\"").expect("a frame's name");
            (format!("frame{class}"), text(name))
        })
        .collect()
}

/// `(name, calls)` of every fn, in the report's order by total time, from `report --json`.
fn reported(recording: &Path) -> Vec<(String, u64)> {
    let out = cli(&["report", recording.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    doc["fns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["calls"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Width and height of a PNG, from its header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn a_run_of_requests_in_the_browser() {
    let Some(browser) = require_browser("a_run_of_requests_in_the_browser") else {
        return;
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let recording = record(dir.path(), "requests");
    let page = dir.path().join("report.html");
    let out = cli(&[
        "html",
        recording.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    let bytes = std::fs::metadata(&page).unwrap().len();
    // 62001 calls (the demo's structure), an enter and an exit each.
    assert!(
        stderr(&out).ends_with(&format!(
            "html: wrote {} ({bytes} bytes; 124002 events, 7 fns)\n",
            page.display()
        )),
        "{}",
        stderr(&out)
    );

    let dom = dom(&browser, &page, "");
    // The table: every fn of the run with its calls (the demo's structure), in the report's
    // order, the default sort being total time as there.
    let rows = table_rows(&dom);
    let shown: Vec<(String, u64)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(shown, reported(&recording));
    let mut calls = shown.clone();
    calls.sort();
    assert_eq!(
        calls,
        [
            ("requests::handle", 500),
            ("requests::parse::is_space", 21500),
            ("requests::parse::is_token", 17000),
            ("requests::parse::next_byte", 22000),
            ("requests::parse::request", 500),
            ("requests::serve", 1),
            ("requests::write_frame", 500),
        ]
        .map(|(n, c)| (n.to_string(), c))
    );
    assert!(rows.iter().all(|r| r.len() == 7), "{rows:?}");
    assert!(dom.contains("<th data-key=\"total_ns\" class=\"sorted\">total</th>"));

    // The flame graph, zoomed into `request` and searched for `next_byte` through the
    // address: its callers above it, its callees beside each other below, one match.
    let zoomed = self::dom(
        &browser,
        &page,
        "#zoom=requests::parse::request&search=next_byte",
    );
    let frame = |class: &str, name: &str| (class.to_string(), name.to_string());
    assert_eq!(
        frames(&zoomed),
        [
            frame("frame ancestor", "all"),
            frame("frame ancestor", "requests::serve"),
            frame("frame ancestor", "requests::handle"),
            frame("frame", "requests::parse::request"),
            frame("frame match", "requests::parse::next_byte"),
            frame("frame", "requests::parse::is_token"),
            frame("frame", "requests::parse::is_space"),
        ]
    );
    let matched = text(one(
        &zoomed,
        "<span id=\"matched\" class=\"note\">",
        "</span>",
    ));
    assert!(
        matched.starts_with("1 frame matches \"next_byte\": "),
        "{matched}"
    );
    // Unzoomed, the whole run is the root and the outermost fn its one child.
    let top = frames(&dom);
    assert_eq!(
        top[..2],
        [frame("frame", "all"), frame("frame", "requests::serve")]
    );

    // The timeline: the one task's track, its slices and the merge said in the note.
    let labels: Vec<String> = between(&dom, "<span class=\"name\">", "</span>")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(labels, ["[01 main task 1]"]);
    let note = text(one(&dom, "<p class=\"note\" id=\"timeline-note\">", "</p>"));
    assert!(
        note.starts_with("1 track (threads and tasks) over "),
        "{note}"
    );
    assert!(
        note.contains("merge with their lane's neighbours"),
        "{note}"
    );

    // The chains to the five slowest fns, each as `chains` prints it.
    let chains = one(&dom, "<div id=\"chains\">", "</section>");
    let heads: Vec<String> = between(chains, "<h3><code>", "</code>")
        .into_iter()
        .map(text)
        .collect();
    let slowest: Vec<String> = reported(&recording)
        .into_iter()
        .take(5)
        .map(|f| f.0)
        .collect();
    assert_eq!(heads, slowest);
    let chain_rows: Vec<String> = between(chains, "<td class=\"chain\">", "</td>")
        .into_iter()
        .map(text)
        .collect();
    // Each of these fns is reached by one chain; they come in the order of the fns above,
    // which is by time (`parse::request` and `write_frame` take turns on a busy machine).
    let chain_of = |f: &str| match f {
        "requests::serve" => "requests::serve",
        "requests::handle" => "requests::serve -> requests::handle",
        "requests::parse::request" => {
            "requests::serve -> requests::handle -> requests::parse::request"
        }
        "requests::write_frame" => "requests::serve -> requests::handle -> requests::write_frame",
        other => panic!("{other} among the four slowest fns"),
    };
    let want: Vec<&str> = heads[..4].iter().map(|f| chain_of(f)).collect();
    assert_eq!(chain_rows[..4], want);
    assert!(dom.contains("Nothing was open when the recording ended."));

    // The picture the README shows.
    let shot = dir.path().join("report.png");
    chromium(
        &browser,
        &[&format!("--screenshot={}", shot.display())],
        &format!("file://{}", page.display()),
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(png_size(&png), (1280, 900));
    if std::env::var_os("TRACE_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.png");
        std::fs::write(docs, &png).unwrap();
    }
}

#[test]
fn frames_open_at_the_end_in_the_browser() {
    let Some(browser) = require_browser("frames_open_at_the_end_in_the_browser") else {
        return;
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let recording = record(dir.path(), "leak");
    cli(&["html", recording.to_str().unwrap()]);
    // Without -o, beside the recording.
    let page = dir.path().join("leak.html");
    let dom = dom(&browser, &page, "");

    // As `open` prints it: 400 tasks summed up by where they wait.
    let open = stdout(&cli(&["open", recording.to_str().unwrap()]));
    assert!(open.contains("400 tasks spawned from leak::main -> leak::Service::subscribe"));
    let report = text(one(&dom, "<pre class=\"open-report\">", "</pre>"));
    assert_eq!(report, open);

    let rows: Vec<(String, String)> = table_rows(&dom)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        rows,
        [("leak::main", "1"), ("leak::Service::subscribe", "200")]
            .map(|(n, c)| (n.to_string(), c.to_string()))
    );
    // The open tasks' time is in the flame graph, each where it waits.
    let names: Vec<String> = frames(&dom).into_iter().map(|f| f.1).collect();
    for name in [
        "all",
        "leak::main",
        "leak::heartbeat",
        "leak::pump_messages",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
    // 401 tracks (main and 400 tasks), 200 of them drawn, each open task outlined.
    assert_eq!(
        between(&dom, "<div class=\"track\">", "</canvas>").len(),
        200
    );
    let note = text(one(&dom, "<p class=\"note\" id=\"timeline-note\">", "</p>"));
    assert!(
        note.starts_with("401 tracks (threads and tasks) over "),
        "{note}"
    );
    assert!(
        note.contains(" 201 more tracks are not shown (at most 200, threads first, then tasks, each by number)."),
        "{note}"
    );
}

/// A copy of the checked-in recording of the `exits` demo, named `name`, in a new directory.
fn exits_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../trace-runtime/tests/data/exits-v3.trace"),
        &path,
    )
    .unwrap();
    (dir, path)
}

/// The page's document, read back from its data element.
fn document(page: &str) -> serde_json::Value {
    let element = page.find("<script id=\"data\"").expect("the data element");
    let start = element + page[element..].find('>').unwrap() + 1;
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).expect("the document is JSON")
}

#[test]
fn the_page_goes_beside_the_recording_and_holds_its_fns() {
    let (dir, recording) = exits_copy("run.trace");
    let out = cli(&["html", recording.to_str().unwrap()]);
    let page = dir.path().join("run.html");
    let text = std::fs::read_to_string(&page).expect("run.html beside run.trace");
    assert_eq!(
        stderr(&out),
        format!(
            "html: wrote {} ({} bytes; 54 events, 20 fns)\n",
            page.display(),
            text.len()
        )
    );
    let doc = document(&text);
    let names: Vec<(String, u64)> = doc["fns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, reported(&recording));
    assert_eq!(doc["file"]["path"], recording.to_str().unwrap());
    assert_eq!(
        doc["file"]["bytes"],
        std::fs::metadata(&recording).unwrap().len()
    );
    // Nothing the page needs comes from the network.
    for remote in ["http://", "https://", "//cdn", "<link", "src="] {
        assert!(!text.contains(remote), "{remote} in the page");
    }
}

/// A recording holds how its run began: the page shows the command line (quoted as a shell
/// would take it) and when the first traced call was, and a recording of an older version,
/// which holds neither, leaves both out.
#[test]
fn the_page_says_which_command_made_the_recording_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("run.trace");
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = Command::new(demo("requests"))
        .arg("it's")
        .env("TRACE_RECORD", &recording)
        .env("TRACE_OUT", "off")
        .output()
        .expect("run the demo");
    assert!(recording.is_file(), "no recording: {}", stderr(&out));
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    cli(&["html", recording.to_str().unwrap()]);
    let doc = document(&std::fs::read_to_string(dir.path().join("run.html")).unwrap());
    assert_eq!(
        doc["command"],
        format!("{} 'it'\\''s'", demo("requests").display())
    );
    let started = doc["started_s"].as_u64().expect("a start time");
    assert!(
        (before..=after).contains(&started),
        "{started} not in {before}..={after}"
    );

    let (dir, old) = exits_copy("old.trace");
    cli(&["html", old.to_str().unwrap()]);
    let doc = document(&std::fs::read_to_string(dir.path().join("old.html")).unwrap());
    assert!(
        doc["command"].is_null() && doc["started_s"].is_null(),
        "{doc}"
    );
}

#[test]
fn bad_input_writes_no_page() {
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    // A recording named .html: its page would be itself.
    let (_dir, recording) = exits_copy("run.html");
    let path = recording.to_str().unwrap();
    let out = run(&["html", path]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!("error: {path}: the page would overwrite the recording\n  help: give another path with -o\n")
    );
    assert_eq!(std::fs::read(&recording).unwrap()[..8], *b"TRACEREC");

    let (dir, recording) = exits_copy("run.trace");
    let nowhere = dir.path().join("missing/page.html");
    let out = run(&[
        "html",
        recording.to_str().unwrap(),
        "-o",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: cannot write the page: No such file or directory (os error 2)\n  help: give a writable path with -o\n",
            nowhere.display()
        )
    );

    let not_a_recording = dir.path().join("notes.txt");
    std::fs::write(&not_a_recording, "hello").unwrap();
    let out = run(&["html", not_a_recording.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a trace recording"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("notes.html").exists());
}
