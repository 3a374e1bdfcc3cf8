//! OpenTelemetry end to end: traced calls go through the `tracing` bridge, tracing-opentelemetry
//! and the OpenTelemetry SDK into its in-memory exporter, one span per call, nested like the
//! calls across a thread spawn, a `tokio::spawn` and a spawned `async` block, with their
//! `depth` and `task` as attributes. And a recording exported as OTLP JSON: a request the OTLP
//! types read, one span per call of the run's jsonl trace, parents following the call tree.

mod common;
mod quiet;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span as OtlpSpan;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt;

use trace_runtime::trace;

#[trace]
fn parse(line: &str) -> usize {
    line.split_whitespace().count()
}

#[trace]
fn load_config() -> usize {
    parse("listen 127.0.0.1:8080")
}

#[trace]
async fn query(id: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    id * 10
}

#[trace]
async fn handle(id: u32) -> u32 {
    let rows = tokio::spawn(query(id)).await.unwrap();
    let words = tokio::spawn(async { parse("GET /users HTTP/1.1") })
        .await
        .unwrap();
    rows + words as u32
}

#[trace]
fn serve(rt: &tokio::runtime::Runtime) -> u32 {
    let settings = trace_runtime::thread::spawn(load_config).join().unwrap();
    rt.block_on(handle(settings as u32))
}

/// An integer attribute of a span.
fn int(span: &SpanData, key: &str) -> i64 {
    match span.attributes.iter().find(|kv| kv.key.as_str() == key) {
        Some(kv) => match kv.value {
            Value::I64(n) => n,
            ref other => panic!("{}: {key} is {other:?}, not an integer", span.name),
        },
        None => panic!("{}: no {key} attribute", span.name),
    }
}

/// The spans under `parent` as an indented tree: name, `depth`, and `task` renumbered in the
/// order tasks appear (task numbers are the process's), children by start time.
fn tree(
    spans: &[SpanData],
    parent: SpanId,
    indent: usize,
    tasks: &mut BTreeMap<i64, usize>,
) -> String {
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == parent)
        .collect();
    children.sort_by_key(|s| s.start_time);
    let mut text = String::new();
    for span in children {
        let task = match int(span, "task") {
            0 => 0,
            n => {
                let next = tasks.len() + 1;
                *tasks.entry(n).or_insert(next)
            }
        };
        text += &format!(
            "{:indent$}{} depth={} task={task}\n",
            "",
            span.name,
            int(span, "depth"),
            indent = indent * 2
        );
        text += &tree(spans, span.span_context.span_id(), indent + 1, tasks);
    }
    text
}

#[test]
fn traced_calls_reach_the_sdk_as_one_trace_across_spawns() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("otel-test"));
    // Global: the spawned thread and tokio's workers report to it too.
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(serve(&rt), 2 * 10 + 3);
    drop(rt);
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();

    // One span per traced call, each under its caller; a spawned thread's, a spawned task's
    // and a spawned block's roots (depth 0 in a tree of their own) under the call that spawned
    // them.
    assert_eq!(
        tree(&spans, SpanId::INVALID, 0, &mut BTreeMap::new()),
        "\
otel::serve depth=0 task=0
  otel::load_config depth=0 task=0
    otel::parse depth=1 task=0
  otel::handle depth=1 task=0
    otel::query depth=0 task=1
    otel::parse depth=0 task=2
"
    );
    let trace = spans[0].span_context.trace_id();
    assert!(spans.iter().all(|s| s.span_context.trace_id() == trace));

    // Durations: every span takes time, and lies within its parent's (every spawn here is
    // joined by the call that made it).
    let by_id: HashMap<SpanId, &SpanData> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    for span in &spans {
        assert!(
            span.end_time > span.start_time,
            "{}: no duration",
            span.name
        );
        if let Some(parent) = by_id.get(&span.parent_span_id) {
            assert!(
                parent.start_time <= span.start_time && span.end_time <= parent.end_time,
                "{} does not lie within {}",
                span.name,
                parent.name
            );
        }
    }
    let query = spans.iter().find(|s| s.name == "otel::query").unwrap();
    let took = query.end_time.duration_since(query.start_time).unwrap();
    assert!(
        took >= Duration::from_millis(1),
        "query slept 1ms: {took:?}"
    );
    provider.shutdown().unwrap();
}

/// Runs a demo to its end with its jsonl trace and a recording, and exports the recording as OTLP: the
/// trace's events, the request as the OTLP types read it, and the wall clock around the run.
fn export(bin: &str, args: &[&str], tag: &str) -> Exported {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let live = dir.join(format!("otlp-{tag}-{}.jsonl", std::process::id()));
    let recording = dir.join(format!("otlp-{tag}-{}.trace", std::process::id()));
    let unix_ns = || {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    };
    let before = unix_ns();
    let run = Command::new(bin)
        .args(args)
        .env("TRACE_FORMAT", "jsonl")
        .env("TRACE_OUT", &live)
        .env("TRACE_RECORD", &recording)
        .output()
        .unwrap();
    let after = unix_ns();
    // A run may end in a panic (`panics`): its trace and recording are whole all the same.
    let events = common::parse(&std::fs::read_to_string(&live).unwrap_or_else(|e| {
        panic!(
            "{bin}: no trace ({e}): {}",
            String::from_utf8_lossy(&run.stderr)
        )
    }));
    let json = common::stdout_of(
        Command::new(common::rewriter())
            .args(["export", "--format", "otlp"])
            .arg(&recording),
    );
    // JSON lines, one request each: as one request, for the checks.
    let mut request = ExportTraceServiceRequest::default();
    let mut per_line = Vec::new();
    for line in json.lines() {
        let part: ExportTraceServiceRequest = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not an OTLP ExportTraceServiceRequest: {e}\n{line}"));
        per_line.push(part.resource_spans[0].scope_spans[0].spans.len());
        if request.resource_spans.is_empty() {
            request = part;
        } else {
            let spans = &mut request.resource_spans[0].scope_spans[0].spans;
            spans.extend(part.resource_spans[0].scope_spans[0].spans.iter().cloned());
        }
    }
    let _ = std::fs::remove_file(live);
    let _ = std::fs::remove_file(recording);
    Exported {
        events,
        request,
        run: (before, after),
        per_line,
    }
}

/// A run and its recording exported as OTLP.
struct Exported {
    /// The run's jsonl events.
    events: Vec<common::Event>,
    /// Every line's request, as one.
    request: ExportTraceServiceRequest,
    /// The wall clock (Unix ns) before the run started and after it ended.
    run: (u64, u64),
    /// Spans per line.
    per_line: Vec<usize>,
}

/// An integer attribute of an OTLP span.
fn otlp_int(span: &OtlpSpan, key: &str) -> Option<i64> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::IntValue(n) => Some(*n),
            _ => None,
        })
}

/// A boolean attribute of an OTLP span.
fn otlp_flag(span: &OtlpSpan, key: &str) -> bool {
    span.attributes.iter().any(|kv| {
        kv.key == key
            && matches!(
                kv.value.as_ref().and_then(|v| v.value.as_ref()),
                Some(any_value::Value::BoolValue(true))
            )
    })
}

fn span_id(id: u64) -> Vec<u8> {
    id.to_be_bytes().to_vec()
}

/// Checks every span against the run's jsonl events: one span per frame, named as its events,
/// its parent the frame the enter names (the caller, or for a spawned root its creator), its
/// times the exit's (or for a frame never exited, its enter to the end, marked `open`), its
/// depth, task and thread; spans hanging from one another share their trace. Returns the
/// spans' anchor: the Unix time of the run's nanosecond 0.
fn check_against_the_run(events: &[common::Event], spans: &[OtlpSpan]) -> u64 {
    let by_id: HashMap<Vec<u8>, &OtlpSpan> = spans.iter().map(|s| (s.span_id.clone(), s)).collect();
    let enters: Vec<&common::Event> = events.iter().filter(|e| e.enter).collect();
    assert_eq!(spans.len(), enters.len(), "one span per frame");
    let exits: HashMap<u64, &common::Event> = events
        .iter()
        .filter(|e| !e.enter)
        .map(|e| (e.id, e))
        .collect();
    let mut anchors = Vec::new();
    for enter in enters {
        let span = by_id[&span_id(enter.id)];
        assert_eq!(span.name, enter.name);
        let parent = enter.parent.map_or(Vec::new(), span_id);
        assert_eq!(span.parent_span_id, parent, "{}: parent", enter.name);
        assert_eq!(otlp_int(span, "depth"), Some(enter.depth as i64));
        assert_eq!(otlp_int(span, "task"), Some(enter.task.unwrap_or(0) as i64));
        assert_eq!(otlp_int(span, "thread.id"), Some(enter.thread as i64));
        anchors.push(span.start_time_unix_nano - enter.ts_ns);
        match exits.get(&enter.id) {
            Some(exit) => {
                assert_eq!(
                    span.end_time_unix_nano - span.start_time_unix_nano,
                    exit.elapsed_ns.unwrap()
                );
                assert_eq!(otlp_int(span, "busy_ns"), exit.busy_ns.map(|b| b as i64));
                assert!(!otlp_flag(span, "open"));
                // A call that ended in a panic has an error status; a future dropped before
                // it finished says so.
                let unwinding = exit.unwinding == Some(true);
                assert_eq!(span.status.as_ref().map(|s| s.code), unwinding.then_some(2));
                assert_eq!(otlp_flag(span, "cancelled"), exit.cancelled == Some(true));
            }
            None => assert!(otlp_flag(span, "open"), "{}: open, not marked", enter.name),
        }
        if let Some(parent) = by_id.get(&span.parent_span_id) {
            assert_eq!(span.trace_id, parent.trace_id, "{}: trace", enter.name);
        }
    }
    anchors.dedup();
    assert_eq!(
        anchors.len(),
        1,
        "every span is anchored to one start: {anchors:?}"
    );
    anchors[0]
}

#[test]
fn a_recording_exports_as_otlp_json_with_parents_across_spawns() {
    // Each scenario and the roots its spawns make: tasks `handle` and `process`; `d` on three
    // threads; in `blocks`, the traced calls made at the top of six spawned `async` blocks
    // and closures (tokio, `JoinSet`, nested, `spawn_blocking`, a thread, rayon), of a
    // `spawn_local`'s block and of an async closure run on a thread.
    for (scenario, spawned) in [("tokio", 2), ("threads", 3), ("blocks", 8)] {
        let Exported {
            events,
            request,
            run,
            ..
        } = export(env!("CARGO_BIN_EXE_spawns"), &[scenario], scenario);
        assert_eq!(request.resource_spans.len(), 1);
        let scopes = &request.resource_spans[0].scope_spans;
        assert_eq!(scopes.len(), 1);
        assert_eq!(scopes[0].scope.as_ref().unwrap().name, "trace-runtime");
        let spans = &scopes[0].spans;
        let anchor = check_against_the_run(&events, spans);
        // Anchored to the run's start as the recording holds it: after the run was started,
        // before every span's end, each before the run was over.
        let last = spans.iter().map(|s| s.end_time_unix_nano).max().unwrap();
        assert!(
            run.0 <= anchor && anchor < last && last <= run.1,
            "{anchor} {last} {run:?}"
        );
        // Roots of other trees (depth 0) hanging from the call that spawned them.
        let crossing = spans
            .iter()
            .filter(|s| otlp_int(s, "depth") == Some(0) && !s.parent_span_id.is_empty())
            .count();
        assert_eq!(crossing, spawned, "{scenario}: spawned roots");
        // One trace per outermost call.
        let roots = spans.iter().filter(|s| s.parent_span_id.is_empty()).count();
        let traces: std::collections::HashSet<&Vec<u8>> =
            spans.iter().map(|s| &s.trace_id).collect();
        assert_eq!(roots, traces.len(), "{scenario}: traces");
    }
}

#[test]
fn panics_and_cancellations_export_as_error_statuses_and_flags() {
    for (bin, args, tag) in [
        (env!("CARGO_BIN_EXE_panics"), &[][..], "panics"),
        (env!("CARGO_BIN_EXE_async_cases"), &["cancel"][..], "cancel"),
    ] {
        let Exported {
            events, request, ..
        } = export(bin, args, tag);
        let spans = &request.resource_spans[0].scope_spans[0].spans;
        check_against_the_run(&events, spans);
        let flagged = events
            .iter()
            .filter(|e| e.unwinding == Some(true) || e.cancelled == Some(true))
            .count();
        assert!(flagged > 0, "{tag}: nothing panicked or was cancelled");
    }
}

#[test]
fn frames_still_open_at_the_end_export_as_open_spans() {
    let Exported {
        events, request, ..
    } = export(env!("CARGO_BIN_EXE_concurrent"), &["stuck", "exit"], "open");
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    check_against_the_run(&events, spans);
    assert!(spans.iter().any(|s| otlp_flag(s, "open")));
}

/// A long run exports as several requests, one per line, each full but the last.
#[test]
fn a_long_run_exports_one_request_per_line_of_at_most_4096_spans() {
    let Exported {
        events,
        request,
        per_line,
        ..
    } = export(env!("CARGO_BIN_EXE_spawns"), &["respawn"], "respawn");
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    check_against_the_run(&events, spans);
    let (last, full) = per_line.split_last().unwrap();
    assert!(!full.is_empty(), "{} spans on one line", spans.len());
    assert!(full.iter().all(|n| *n == 4096), "{per_line:?}");
    assert!((1..=4096).contains(last), "{per_line:?}");
}

/// The demo prints one trace: its calls nested across the thread, the task and the block.
#[test]
fn the_demo_prints_one_trace_across_its_spawns() {
    let out = common::stdout_of(Command::new(env!("CARGO_BIN_EXE_otel")).env("TRACE_OUT", "off"));
    // Durations vary: each span line's second word is one; trace ids are random.
    let lines: Vec<String> = out
        .lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["trace", id] => format!("trace {}", id.len()),
                [name, _took, rest @ ..] if indent > 0 => {
                    format!("{}{name} {}", " ".repeat(indent), rest.join(" "))
                }
                _ => line.to_string(),
            }
        })
        .collect();
    assert_eq!(
        lines.join("\n"),
        "\
answer: 43
trace 32
  otel::serve depth=0 task=0
    otel::load_config depth=0 task=0
      otel::parse depth=1 task=0
    otel::handle depth=1 task=0
      otel::query depth=0 task=1
      otel::parse depth=0 task=2"
    );
}
