//! Streaming metrics and the output files of a run.
//!
//! [`Recorder`] observes a simulation and writes, in an output directory:
//! - `summary.json` ([`Summary`]): totals by outcome, latency percentiles after the
//!   warm-up and where latency goes, throughput, CPU and memory utilisation, workers,
//!   task-seconds, dependencies;
//! - `metrics.csv`: one row per metrics interval per target group (columns in
//!   [`metrics_header`]);
//! - `events.csv`: lifecycle events in ECS service-event style (columns in
//!   [`EVENTS_HEADER`]);
//! - `dependencies.csv`: one row per metrics interval per dependency: calls by outcome,
//!   occupancy and latency (columns in [`dependencies_header`]);
//! - `rules.csv`, only when the run counts requests by listener rule: one row per metrics
//!   interval per rule, requests that ended by cause (columns in [`rules_header`]).
//!
//! Memory is bounded whatever the run's length: per-interval and per-run HDR histograms
//! (`hdrhistogram`, 3 significant digits) and counters, nothing per request. Files are
//! written under temporary names and renamed when the run completes.

mod cloudwatch;
mod events;
mod flat;
mod latency;
mod output;
mod recorder;
pub mod staging;
mod summary;

use std::path::{Path, PathBuf};

pub use events::{EVENTS_HEADER, event_row, format_event_time};
pub use flat::{FlatMetric, KEY_METRICS, flat_metric, flat_metrics, metric_names};
pub use latency::LatencyAcc;
pub use output::{Outputs, write_json_atomic};
pub use recorder::{Recorder, RecorderOptions, dependencies_header, metrics_header, rules_header};
pub use staging::{StagedDir, StagingError};
pub use summary::{
    CostSummary, CpuSummary, DependencySummary, LatencyBreakdown, LatencySummary, ListenerSummary,
    MemorySummary, PricesSummary, RequestTotals, RuleSummary, ScalingSummary, Summary,
    TargetGroupSummary, TaskTotals, WorkerSummary,
};

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A file could not be created, written or renamed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV row could not be written.
    #[error("{0}: {1}")]
    Csv(PathBuf, csv::Error),
    /// `finish` was called before the simulation ran to its end.
    #[error("the run has not finished; no summary yet")]
    NotFinished,
}

impl MetricsError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        MetricsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Rounds to `decimals` decimal places (0–15), so outputs do not carry float noise
/// (`12.300000000000001`). Deterministic on every platform: the power of ten is an exact
/// constant (not `powi`), and multiplication, division and rounding are correctly rounded
/// IEEE operations. `decimals` beyond 15 is treated as 15.
pub fn round_to(x: f64, decimals: u32) -> f64 {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if !x.is_finite() {
        return x;
    }
    let m = POW10[decimals.min(15) as usize];
    (x * m).round() / m
}
