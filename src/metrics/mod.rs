//! Streaming metrics and the output files of a run.
//!
//! [`Recorder`] observes a simulation and writes, in an output directory:
//! - `summary.json` ([`Summary`]): totals by outcome, latency percentiles after the
//!   warm-up, throughput, CPU utilisation, task-seconds;
//! - `metrics.csv`: one row per metrics interval per target group (columns in
//!   [`metrics_header`]);
//! - `events.csv`: lifecycle events in ECS service-event style (columns in
//!   [`EVENTS_HEADER`]).
//!
//! Memory is bounded whatever the run's length: per-interval and per-run HDR histograms
//! (`hdrhistogram`, 3 significant digits) and counters, nothing per request. Files are
//! written under temporary names and renamed when the run completes.

mod events;
mod latency;
mod output;
mod recorder;
mod summary;

use std::path::{Path, PathBuf};

pub use events::{EVENTS_HEADER, event_row, format_event_time};
pub use latency::LatencyAcc;
pub use output::{Outputs, write_json_atomic};
pub use recorder::{Recorder, RecorderOptions, metrics_header};
pub use summary::{CpuSummary, LatencySummary, RequestTotals, Summary, TargetGroupSummary};

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

/// Rounds to `decimals` decimal places, so outputs do not carry float noise
/// (`12.300000000000001`). Deterministic: the same input always gives the same output.
pub fn round_to(x: f64, decimals: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let m = 10f64.powi(decimals);
    (x * m).round() / m
}
