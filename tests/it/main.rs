//! The integration tests: one binary, a module per concern.

mod cli;
mod distributions;
mod invariants;
mod properties;
mod queueing;
mod readme;
mod recorder;
mod scenario_docs;
mod scenario_waits;
mod support;
mod waiting;
