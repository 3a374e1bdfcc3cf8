//! The `tracing` bridge: each traced call becomes a span named after the fn, nested like the
//! calls, with `depth` and `task` fields; async frames are spans entered on every poll.

mod quiet;

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use trace_runtime::trace;

#[trace]
fn leaf() -> u32 {
    1
}

#[trace]
fn middle() -> u32 {
    leaf() + leaf()
}

#[trace]
async fn fetch() -> u32 {
    middle()
}

/// One captured span: its name, its parent's name, and its fields.
#[derive(Debug, PartialEq, Eq)]
struct Captured {
    name: String,
    parent: Option<String>,
    fields: Vec<(String, String)>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("the span exists");
        let mut fields = Fields(Vec::new());
        attrs.record(&mut fields);
        self.0.lock().unwrap().push(Captured {
            name: span.name().to_string(),
            parent: span.parent().map(|p| p.name().to_string()),
            fields: fields.0,
        });
    }
}

fn captured(capture: &Capture) -> Vec<Captured> {
    std::mem::take(&mut *capture.0.lock().unwrap())
}

fn span(name: &str, parent: Option<&str>, depth: u32, task: u64) -> Captured {
    Captured {
        name: name.to_string(),
        parent: parent.map(str::to_string),
        fields: vec![
            ("depth".into(), depth.to_string()),
            ("task".into(), task.to_string()),
        ],
    }
}

#[test]
fn traced_calls_become_nested_spans() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        middle();
        assert_eq!(
            captured(&capture),
            [
                span("bridge::middle", None, 0, 0),
                span("bridge::leaf", Some("bridge::middle"), 1, 0),
                span("bridge::leaf", Some("bridge::middle"), 1, 0),
            ]
        );

        futures::executor::block_on(fetch());
        let spans = captured(&capture);
        let task = spans[0].fields[1].1.parse::<u64>().expect("a task number");
        assert!(task > 0);
        assert_eq!(
            spans,
            [
                span("bridge::fetch", None, 0, task),
                span("bridge::middle", Some("bridge::fetch"), 1, task),
                span("bridge::leaf", Some("bridge::middle"), 2, task),
                span("bridge::leaf", Some("bridge::middle"), 2, task),
            ]
        );
    });
}
