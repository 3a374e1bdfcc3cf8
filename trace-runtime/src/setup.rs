//! Starts the runtime on the first traced call: reads the configuration, chooses the clock,
//! opens the outputs, builds the views, starts the collector and installs the hooks. The one
//! place where the layers are wired together.

use std::sync::Once;
use std::time::Duration;

use crate::capture::clock;
use crate::collect::collector::{self, Collector};
use crate::collect::decode::Consumer;
use crate::collect::pipeline::Pipeline;
use crate::collect::recording;
use crate::config::{self, Format, Out};
use crate::filter::FocusRule;
use crate::sink::{self, SinkOut, StderrOut, Target};
use crate::view::TextViews;

static START: Once = Once::new();

/// Starts the runtime, once per process. Every traced call's site carries a pointer to this
/// function; the capture layer calls it on each thread's first traced call.
pub fn start() {
    START.call_once(|| crate::capture::thread::runtime_work(run));
}

fn run() {
    let began = std::time::Instant::now();
    let cfg = config::get();
    clock::choose();
    let chose = began.elapsed();
    let origin = clock::origin();
    let mut text = TextViews {
        format: Some(cfg.format),
        color: false,
        quiet: cfg.out == Out::Off,
        focus: cfg.focus.clone().map(|name| FocusRule {
            name,
            errors: cfg.focus_errors,
        }),
        summary: cfg.summary,
        summary_json: cfg.summary_json.clone(),
        min_ns: cfg.filter.min_ns,
        reports_to_stderr: false,
        // OTLP is not a live format (`Format::live`).
        #[cfg(feature = "read")]
        start_unix_ns: 0,
    };
    let target = sink::init(&cfg.out, text.closing());
    text.color = cfg.format == Format::Human && !cfg.no_color && sink::is_terminal(target);
    text.quiet = target == Target::Off;
    text.reports_to_stderr = sink::reports_to_stderr(&cfg.out, target);
    let mut views = text.build(&|| Box::new(SinkOut), &|| Box::new(StderrOut));
    // After everything written to the trace's output: how much a failed output lost.
    views.push(Box::new(OutputLoss));
    // The note on a large trace, on stderr whatever the format: never inside the trace. It
    // counts what the trace holds: event lines (not focus chains or folded stacks) or a
    // recording.
    let lines = cfg.focus.is_none() && cfg.format != Format::Folded && target != Target::Off;
    if lines || cfg.record.is_some() {
        let min_ns = if cfg.record.is_some() {
            0
        } else {
            cfg.filter.min_ns.unwrap_or(0)
        };
        views.push(Box::new(crate::view::noisy::AtExit::new(
            crate::view::noisy::Counts::at_least(min_ns),
            Box::new(StderrOut),
            cfg.filter_spec.clone(),
        )));
    }
    // Which fns were counted instead of recorded (`TRACE_HOT`), on stderr whatever the format.
    views.push(Box::new(crate::view::hot::Counted::new(Box::new(
        StderrOut,
    ))));
    // A run whose trace goes nowhere but the recording, with no view reading events as they
    // come: the collector writes each thread's records as they are, decoding nothing. (A
    // `TRACE_OUT` path that could not be opened still sends the reports to stderr: not this.)
    let records_only = cfg.record.is_some()
        && target == Target::Off
        && !text.reports_to_stderr
        && cfg.focus.is_none()
        && !cfg.summary
        && cfg.summary_json.is_none()
        && cfg.watch_ns.is_none();
    // Values are freed as soon as they are written when only recording: nothing to say.
    if cfg.verbose && !records_only {
        views.push(Box::new(ValuesKept));
    }
    let mut interval = Duration::from_millis(config::PRINT_INTERVAL_MS);
    if let Some(ns) = cfg.watch_ns {
        views.push(Box::new(crate::view::watch::Watch::new(ns)));
        // Looked at a few times per threshold.
        let every = Duration::from_nanos(ns / 4).max(Duration::from_millis(10));
        interval = interval.min(every);
    }
    let mut pipeline = Pipeline::new(views);
    // The raw stream, before any decoding.
    if let Some(path) = &cfg.record {
        match recording::Writer::create(path) {
            Ok(w) => {
                pipeline = pipeline.recording(w);
                if records_only {
                    pipeline = pipeline.records_only();
                }
            }
            Err(e) => config::warn(&format!(
                "cannot write TRACE_RECORD={}: {e}; not recording",
                path.display()
            )),
        }
    }
    let only_records = pipeline.is_records_only();
    crate::hooks::sheltered(cfg, || {
        let lanes = if only_records { cfg.collectors } else { 1 };
        collector::start(Collector::new(origin, pipeline).in_lanes(lanes), interval);
        crate::hooks::install(cfg);
    });
    if cfg.verbose {
        let out = match &cfg.out {
            Out::Stderr => "stderr".to_string(),
            Out::Stdout => "stdout".to_string(),
            Out::Off => "off".to_string(),
            Out::File(p) => p.display().to_string(),
        };
        let collecting = if only_records {
            format!(
                "; recording only: each thread's records written as they come by {}, decoded when read",
                crate::units::count(cfg.collectors as u64, "collector")
            )
        } else {
            String::new()
        };
        config::say(&format!(
            "tracing on: clock {} (chosen in {chose:?}; set up in {:?}); format {:?} to {out}; {} records per chunk{collecting}",
            clock::description(),
            began.elapsed(),
            cfg.format,
            cfg.chunk
        ));
    }
}

/// At the end of the run, after the views writing the trace: if its output failed, one line on
/// stderr saying how much of the trace was lost in all.
struct OutputLoss;

impl Consumer for OutputLoss {
    fn finish(&mut self, _: &crate::collect::decode::End<'_>) {
        sink::report_loss();
    }
}

/// `TRACE_VERBOSE`: at the end of a run that recorded values, how many, and the most the
/// collector held at once (values are freed once no view can read them: the bound).
struct ValuesKept;

impl Consumer for ValuesKept {
    fn finish(&mut self, end: &crate::collect::decode::End<'_>) {
        let values = &end.tables.values;
        if !values.is_empty() {
            config::say(&format!(
                "recorded {} values, at most {} held at once, {} at the end",
                values.len(),
                values.peak(),
                values.held()
            ));
        }
    }
}
