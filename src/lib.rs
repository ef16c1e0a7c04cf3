//! # lbsim
//!
//! A deterministic discrete-event simulator of HTTP load balancing and autoscaling: clients,
//! an AWS Application Load Balancer (listeners, target groups, routing algorithms) and ECS
//! services on Fargate whose tasks are multi-core processor-sharing servers.
//!
//! Layers, each using only those below it:
//! - [`engine`]: simulated time (`u64` ns), the event queue, the run loop, RNG streams;
//! - [`model`]: the domain, driven by the engine, reporting to an observer;
//! - [`scenario`]: the scenario file format, validation, `--set` overrides;
//! - [`metrics`]: the streaming recorder and the output files;
//! - [`sweep`]: parameter grids and replications in parallel, sharding and merge, paired
//!   comparisons;
//! - [`report`]: plots and the HTML report, drawn from output files;
//! - [`check`]: golden files and their comparison with a run (`lbsim check`);
//! - `cli` (in the binary): commands, tables and exit codes.
//!
//! Same scenario + same seed = byte-identical outputs, on any machine and thread count.

#![warn(missing_docs)]

pub mod check;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod report;
pub mod scenario;
pub mod sweep;

/// The crate version, written into every `summary.json`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
