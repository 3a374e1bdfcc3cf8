//! The `tracing` bridge's span names are static, so they carry the compile-time name; a site
//! whose true name is composed at run time (a method: its Self type resolved, `super::` and
//! `crate::` in its trait resolved) also carries it as the span's `full_name` field.

mod quiet;

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use trace_runtime::trace;

pub trait Hello {
    fn hi(&self);
}

mod models {
    pub struct User;
}

use models::User;

#[trace]
impl User {
    fn get(&self) {}
}

#[trace]
impl Hello for u8 {
    fn hi(&self) {}
}

#[trace]
impl<T> Hello for Vec<T> {
    fn hi(&self) {}
}

mod c {
    use trace_runtime::trace;

    pub struct B;

    #[trace]
    impl super::Hello for B {
        fn hi(&self) {}
    }
}

#[trace]
fn plain() {}

/// A span's static name, and its `full_name` field when it has one.
type Span = (String, Option<String>);

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Span>>>);

struct FullName(Option<String>);

impl Visit for FullName {
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "full_name" {
            self.0 = Some(value.to_string());
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut full = FullName(None);
        attrs.record(&mut full);
        let name = attrs.metadata().name().to_string();
        self.0.lock().unwrap().push((name, full.0));
    }
}

#[test]
fn methods_carry_their_composed_name_as_a_field() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        User.get();
        7u8.hi();
        vec![1u8].hi();
        c::B.hi();
        plain();
    });
    let spans = std::mem::take(&mut *capture.0.lock().unwrap());
    let full = |s: &str| Some(s.to_string());
    assert_eq!(
        spans,
        [
            (
                "bridge_names::User::get".to_string(),
                full("bridge_names::models::User::get")
            ),
            ("<u8 as Hello>::hi".to_string(), full("<u8 as Hello>::hi")),
            (
                "<bridge_names::Vec as Hello>::hi".to_string(),
                full("<alloc::vec::Vec as Hello>::hi")
            ),
            (
                "<bridge_names::c::B as super::Hello>::hi".to_string(),
                full("<bridge_names::c::B as bridge_names::Hello>::hi")
            ),
            ("bridge_names::plain".to_string(), None),
        ]
    );
}
