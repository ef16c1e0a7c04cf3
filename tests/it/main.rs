//! The integration tests: one binary, a module per concern.

mod bundled;
mod cli;
mod cost;
mod dependencies;
mod deployments;
mod deregistration_lag;
mod distributions;
mod faults;
mod invariants;
mod lifecycle;
mod outputs_lifecycle;
mod properties;
mod queueing;
mod readme;
mod recorder;
mod scenario_docs;
mod scenario_faults;
mod scenario_health;
mod scenario_lifecycle;
mod scenario_network;
mod scenario_waits;
mod slow_start;
mod support;
mod target_outputs;
mod waiting;
