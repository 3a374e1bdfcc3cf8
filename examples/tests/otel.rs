//! OpenTelemetry end to end: traced calls go through the `tracing` bridge, tracing-opentelemetry
//! and the OpenTelemetry SDK into its in-memory exporter, one span per call, nested like the
//! calls across a thread spawn, a `tokio::spawn` and a spawned `async` block, with their
//! `depth` and `task` as attributes.

use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry::Value;
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
    let by_id: std::collections::HashMap<SpanId, &SpanData> = spans
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
