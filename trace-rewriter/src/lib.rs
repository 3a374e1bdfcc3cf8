//! `trace-rewriter`: the second front end of the shared transform. Instruments a whole crate in
//! place by splicing the guard statement into the original text, undoes it exactly, or traces a
//! copy under `target/` without touching the user's tree. Also reads recordings of traced runs
//! (`TRACE_RECORD`) and shows them many ways, through the runtime's views.

pub mod cli;
pub mod commands;
pub mod copy;
pub mod diag;
pub mod edit;
pub mod follow;
pub mod fsio;
pub mod html;
pub mod inserted;
pub mod lockfile;
pub mod manifest;
pub mod modtree;
pub mod project;
pub mod recordings;
pub mod reflow;
pub mod run;
pub mod source;
pub mod viewer;
