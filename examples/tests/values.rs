//! `#[trace(args, ret, err)]`: the `values` demo's exact human and jsonl lines (arguments,
//! return values, `Err` exits, a value cut at `TRACE_VALUE_MAX`, a panicking `Debug`, a `Debug`
//! calling a traced fn, an async fn's arguments on its enter), and `TRACE_VALUES=off`.

mod common;

use std::process::Command;

/// Runs the demo; its stderr (the human trace, or a warning).
fn human(env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_values"));
    cmd.env("NO_COLOR", "1")
        .env_remove("TRACE_FORMAT")
        .env_remove("TRACE_OUT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the demo");
    assert!(out.status.success());
    masked(&String::from_utf8(out.stderr).unwrap())
}

/// Durations (`850ns`, `12.3µs`, `4.5ms`, `2.01s`, and `(busy 1.2µs)`'s) read `_`; every other
/// byte kept.
fn masked(text: &str) -> String {
    text.lines()
        .map(|l| {
            l.split(' ')
                .map(|w| match w.strip_suffix(')') {
                    _ if common::is_duration(w) => "_",
                    Some(d) if common::is_duration(d) => "_)",
                    _ => w,
                })
                .collect::<Vec<_>>()
                .join(" ")
                + "\n"
        })
        .collect()
}

const NOT_TRACED: &str = "trace-runtime: warning: 1 traced call made while the runtime was \
                          working on their thread (an allocator, a Drop or Debug impl it ran) \
                          was not traced\n";

#[test]
fn arguments_results_and_errors_in_the_human_trace() {
    let long = "x".repeat(79);
    assert_eq!(
        human(&[]),
        format!(
            "\
[01 main] -> values::main
[01 main]   -> values::db::get(id=42, key=\"user:7\")
[01 main]   <- values::db::get _ = Some(User {{ id: 42 }})
[01 main]   -> values::db::get(id=1, key=\"user:1\")
[01 main]   <- values::db::get _ = None
[01 main]   -> values::serve(id=3)
[01 main]     -> values::load(id=3)
[01 main]       -> values::db::read(id=3)
[01 main]       <- values::db::read _
[01 main]     <- values::load _
[01 main]   <- values::serve _ = Ok(7)
[01 main]   -> values::serve(id=7)
[01 main]     -> values::load(id=7)
[01 main]       -> values::db::read(id=7)
[01 main]       <- values::db::read _ ! Err(NotFound) (origin)
[01 main]     <- values::load _ ! Err(NotFound)
[01 main]   <- values::serve _ ! Err(NotFound)
[01 main]   -> values::db::login(user=\"ñññ\")
[01 main]   <- values::db::login _ = true
[01 main]   -> values::db::check
[01 main]   <- values::db::check _ ! Err(values::Refused) (origin)
[01 main]   -> values::show(text=\"{long}…, bomb=<panicked>, described=Described(2))
[01 main]   <- values::show _
[01 main]   -> values::fetch(id=5, key=\"user:5\")
[01 main]   <- values::fetch _ (busy _) = Some(50)
[01 main] <- values::main _
{NOT_TRACED}"
        )
    );
}

#[test]
fn value_max_cuts_on_a_char_boundary() {
    let trace = human(&[("TRACE_VALUE_MAX", "6")]);
    assert!(
        trace.contains("-> values::db::get(id=42, key=\"user:…)\n"),
        "{trace}"
    );
    // `"ññ` is 5 bytes; the next `ñ` would make 7.
    assert!(
        trace.contains("-> values::db::login(user=\"ññ…)\n"),
        "{trace}"
    );
    assert!(
        trace.contains("<- values::db::get _ = Some(U…\n"),
        "{trace}"
    );
}

#[test]
fn values_off_at_run_time_shows_names_times_and_error_exits_only() {
    // Nothing formatted, so no `Debug` ran and nothing was left untraced; an error exit is
    // still one, and still an origin, without its error's text.
    assert_eq!(
        human(&[("TRACE_VALUES", "off")]),
        "\
[01 main] -> values::main
[01 main]   -> values::db::get
[01 main]   <- values::db::get _
[01 main]   -> values::db::get
[01 main]   <- values::db::get _
[01 main]   -> values::serve
[01 main]     -> values::load
[01 main]       -> values::db::read
[01 main]       <- values::db::read _
[01 main]     <- values::load _
[01 main]   <- values::serve _
[01 main]   -> values::serve
[01 main]     -> values::load
[01 main]       -> values::db::read
[01 main]       <- values::db::read _ ! Err (origin)
[01 main]     <- values::load _ ! Err
[01 main]   <- values::serve _ ! Err
[01 main]   -> values::db::login
[01 main]   <- values::db::login _
[01 main]   -> values::db::check
[01 main]   <- values::db::check _ ! Err (origin)
[01 main]   -> values::show
[01 main]   <- values::show _
[01 main]   -> values::fetch
[01 main]   <- values::fetch _ (busy _)
[01 main] <- values::main _
"
    );
}

#[test]
fn jsonl_args_ret_and_error_only_where_recorded() {
    let path = common::out_file("values");
    let out = Command::new(env!("CARGO_BIN_EXE_values"))
        .env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &path)
        .output()
        .expect("run the demo");
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    // Every line keeps the contract.
    let events = common::parse(&text);
    let line = |name: &str, enter: bool, nth: usize| {
        let event = if enter { "enter" } else { "exit" };
        let found: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(&format!("\"event\":\"{event}\",\"name\":\"{name}\"")))
            .collect();
        let l = found[nth];
        // From the first key after the frame's own: what values add.
        l[l.find(",\"id\":").unwrap()..].to_string()
    };
    let id = |name: &str, nth: usize| {
        events
            .iter()
            .filter(|e| e.enter && e.name == name)
            .nth(nth)
            .unwrap()
            .id
    };
    let get = id("values::db::get", 0);
    let main = id("values::main", 0);
    assert_eq!(
        line("values::db::get", true, 0),
        format!(",\"id\":{get},\"parent\":{main},\"args\":{{\"id\":\"42\",\"key\":\"\\\"user:7\\\"\"}}}}")
    );
    let exit = line("values::db::get", false, 0);
    assert!(
        exit.ends_with(",\"unwinding\":false,\"cancelled\":false,\"ret\":\"Some(User { id: 42 })\",\"error\":false}"),
        "{exit}"
    );
    let exit = line("values::db::read", false, 1);
    assert!(
        exit.ends_with(",\"cancelled\":false,\"ret\":\"Err(NotFound)\",\"error\":true}"),
        "{exit}"
    );
    // An async fn's arguments are on its enter, as a sync fn's.
    let fetch = id("values::fetch", 0);
    assert_eq!(
        line("values::fetch", true, 0),
        format!(",\"id\":{fetch},\"parent\":{main},\"args\":{{\"id\":\"5\",\"key\":\"\\\"user:5\\\"\"}}}}")
    );
    let exit = line("values::fetch", false, 0);
    assert!(
        exit.ends_with(",\"cancelled\":false,\"ret\":\"Some(50)\",\"error\":false}"),
        "{exit}"
    );
    // A fn recording nothing has none of the keys.
    assert_eq!(
        line("values::main", true, 0),
        format!(",\"id\":{main},\"parent\":null}}")
    );
    let exit = line("values::db::read", false, 0);
    assert!(exit.ends_with(",\"cancelled\":false}"), "{exit}");
}

#[test]
fn chrome_slices_carry_values_and_error_exits_their_colour() {
    let path = common::out_file("values-chrome");
    let out = Command::new(env!("CARGO_BIN_EXE_values"))
        .env("TRACE_FORMAT", "chrome")
        .env("TRACE_OUT", &path)
        .output()
        .expect("run the demo");
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let trace: serde_json::Value = serde_json::from_str(&text).expect("complete JSON");
    let slices: Vec<&serde_json::Value> = trace
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    let of = |name: &str| -> Vec<String> {
        slices
            .iter()
            .filter(|e| e["name"] == name)
            .map(|e| {
                let mut args = e["args"].clone();
                args.as_object_mut().unwrap().remove("depth");
                args.as_object_mut().unwrap().remove("thread");
                format!(
                    "{} {args}",
                    e.get("cname").map_or("-", |c| c.as_str().unwrap())
                )
            })
            .collect()
    };
    assert_eq!(
        of("values::db::get"),
        [
            r#"- {"ret":"Some(User { id: 42 })","values":{"id":"42","key":"\"user:7\""}}"#,
            r#"- {"ret":"None","values":{"id":"1","key":"\"user:1\""}}"#,
        ]
    );
    assert_eq!(
        of("values::load"),
        [
            r#"- {"values":{"id":"3"}}"#,
            r#"terrible {"error":true,"ret":"Err(NotFound)","values":{"id":"7"}}"#,
        ]
    );
    assert_eq!(
        of("values::fetch"),
        [r#"- {"ret":"Some(50)","values":{"id":"5","key":"\"user:5\""}}"#]
    );
    assert_eq!(of("values::main"), ["- {}"]);
}

/// A long run holds the values of its open frames, not of every call it made: a frame's values
/// are freed once its exit has been written and no view holds events back. 100,000 calls of
/// `db::get(id, key) -> Option<User>` record 200,000 values; `TRACE_VERBOSE` says how many were
/// held at most.
#[test]
fn a_long_run_holds_a_bounded_number_of_values() {
    let held = |env: &[(&str, &str)]| -> (u64, u64) {
        let out = Command::new(env!("CARGO_BIN_EXE_values"))
            .args(["loop", "100000"])
            .env("TRACE_VERBOSE", "1")
            .env("TRACE_HOT", "off")
            .envs(env.iter().copied())
            .output()
            .expect("run the demo");
        assert!(out.status.success());
        let text = String::from_utf8(out.stderr).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("trace-runtime: recorded "))
            .filter(|l| l.contains(" values, at most "))
            .unwrap_or_else(|| panic!("no count of values in\n{text}"));
        let numbers: Vec<u64> = line.split(' ').filter_map(|w| w.parse().ok()).collect();
        (numbers[0], numbers[1])
    };
    // No view holds events back: a call's arguments and result, freed before the next call's
    // are added.
    assert_eq!(held(&[("TRACE_OUT", "off")]), (200_000, 2));
    // `min=` holds a frame's events until it is decided: the values of the calls made meanwhile
    // (those of the first millisecond, while `main` is undecided) are held with them, no more.
    let path = common::out_file("values-min");
    let (recorded, most) = held(&[
        ("TRACE_OUT", path.to_str().unwrap()),
        ("TRACE_FILTER", "min=1ms"),
    ]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(recorded, 200_000);
    assert!(most < 20_000, "{most} values held at once");
}
