//! Traced calls sent to OpenTelemetry: the runtime's `tracing` bridge makes every traced call a
//! `tracing` span, `tracing-opentelemetry` turns those into OpenTelemetry spans, and the SDK
//! exports them. A service would export to its collector (`opentelemetry-otlp`); this demo keeps
//! them in memory and prints each trace as a tree: the spans nest like the calls, across a
//! thread spawn, a `tokio::spawn` of a traced async fn and a spawned `async` block.
//!
//! ```text
//! cargo run -p trace-examples --bin otel --features otel
//! ```

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use trace_runtime::trace;

#[trace]
fn parse(line: &str) -> usize {
    line.split_whitespace().count()
}

#[trace]
fn load_config() -> usize {
    parse("listen 127.0.0.1:8080 workers 4")
}

#[trace]
async fn query(id: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(2)).await;
    id * 10
}

#[trace]
async fn handle(id: u32) -> u32 {
    // Its own task: the span's parent is `handle`, where the future was made.
    let rows = tokio::spawn(query(id)).await.unwrap();
    // An `async` block spawned from here: the traced calls inside continue `handle`'s trace.
    let words = tokio::spawn(async { parse("GET /users HTTP/1.1") })
        .await
        .unwrap();
    rows + words as u32
}

#[trace]
fn serve(rt: &tokio::runtime::Runtime) -> u32 {
    // A thread started with the runtime's `thread::spawn`: its calls continue `serve`'s trace.
    let settings = trace_runtime::thread::spawn(load_config).join().unwrap();
    rt.block_on(handle(settings as u32))
}

fn main() {
    // The lines a service needs (docs/opentelemetry.md): a tracer provider with an exporter
    // (a service's is opentelemetry-otlp's, batched), and tracing-opentelemetry's layer over it
    // as the global subscriber.
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("otel-demo").build())
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("otel-demo"));
    tracing_subscriber::registry().with(layer).init();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answer = serve(&rt);
    drop(rt);
    provider.force_flush().expect("the spans are exported");
    println!("answer: {answer}");

    let spans = exporter.get_finished_spans().expect("the exported spans");
    for root in spans.iter().filter(|s| s.parent_span_id == SpanId::INVALID) {
        println!("trace {}", root.span_context.trace_id());
        print_tree(&spans, root, 1);
    }
    provider.shutdown().expect("the provider shuts down");
}

/// A span, its duration and its `depth` and `task` attributes, then its children by start time.
fn print_tree(spans: &[SpanData], span: &SpanData, indent: usize) {
    let attr = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map_or(Value::from("-"), |kv| kv.value.clone())
    };
    let took = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    println!(
        "{:indent$}{} {took:?} depth={} task={}",
        "",
        span.name,
        attr("depth"),
        attr("task"),
        indent = indent * 2
    );
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|c| c.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|c| c.start_time.duration_since(SystemTime::UNIX_EPOCH).ok());
    for child in children {
        print_tree(spans, child, indent + 1);
    }
}
