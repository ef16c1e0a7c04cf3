//! Sweeps: a grid of parameter values, several replications each, run in parallel;
//! sharding and merge; paired comparisons.
//!
//! A sweep directory holds (see the README's "Sweeps" section for the columns):
//! - `sweep.json` ([`SweepPlan`]): the grid, the replications, every run's id and seed;
//! - `runs/<id>.json`: each finished run's `summary.json`. A run's id is a hash of its
//!   resolved scenario, seed and the lbsim version, so rerunning a sweep into the same
//!   directory skips the runs already there (resume after an interruption) and a shard's
//!   runs can be merged with any other shard's;
//! - `sweep.csv` (one row per run: point, replication, seed, the varied values, every flat
//!   metric) and `sweep_summary.csv` (per point and metric: n, mean, standard deviation,
//!   Student's t 95 % confidence interval);
//! - for a comparison, `compare.csv`: paired differences against the first alternative.
//!
//! **Common random numbers.** Replication `r` runs with seed `base_seed + r` at every point,
//! so the runs of one replication see the same arrivals and service demands wherever the
//! scenarios agree, and differences between points are paired: their confidence intervals
//! are much narrower than those of independent samples (Law, *Simulation Modeling and
//! Analysis*, §11.2).
//!
//! Runs execute on a `rayon` pool and each writes only its own file, so the directory's
//! contents are the same whatever the number of threads or shards.

pub mod exec;
pub mod grid;
pub mod merge;
pub mod plan;
pub mod results;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::metrics::{MetricsError, Recorder, Summary};
use crate::model::{ModelError, Simulation, WorldSpec};
use crate::scenario::ScenarioErrors;

pub use exec::{Executed, execute};
pub use grid::{Vary, parse_vary};
pub use merge::merge;
pub use plan::{PlanKind, PlanPoint, PlanRun, Prepared, SweepPlan, files_plan, sweep_plan};
pub use results::{Comparison, RunTable, Stats, comparisons, write_compare_csv, write_sweep_csvs};

/// Why a replication failed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The spec could not be built into a world.
    #[error("replication with seed {seed}: {source}")]
    Model {
        /// Seed of the failed replication.
        seed: u64,
        /// The model's error.
        source: ModelError,
    },
    /// The summary could not be produced.
    #[error("replication with seed {seed}: {source}")]
    Metrics {
        /// Seed of the failed replication.
        seed: u64,
        /// The recorder's error.
        source: MetricsError,
    },
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {reason}")]
    Pool {
        /// Threads asked for.
        threads: usize,
        /// Why not.
        reason: String,
    },
    /// A point's scenario is invalid.
    #[error("{}invalid scenario:\n  {}", .at.as_ref().map(|a| format!("at {a}: ")).unwrap_or_default(), .errors.to_string().replace('\n', "\n  "))]
    Scenario {
        /// The point (`path=value, ...`) or alternative, `None` for the base scenario.
        at: Option<String>,
        /// What is wrong.
        errors: ScenarioErrors,
    },
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read, written or created.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file's contents are not what lbsim wrote.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A CSV file could not be written.
    #[error("{0}: {1}")]
    Csv(PathBuf, csv::Error),
    /// Writing a file failed.
    #[error(transparent)]
    Output(#[from] MetricsError),
    /// Two shard directories hold different sweeps.
    #[error(
        "{} and {} hold different sweeps (their sweep.json differ): merge only the shards of one sweep",
        .a.display(), .b.display()
    )]
    Mismatch {
        /// One directory.
        a: PathBuf,
        /// The other.
        b: PathBuf,
    },
    /// Some runs have no file yet.
    #[error(
        "{}: {missing} of {total} runs are not finished (runs {first:?}...); with --shard K/N, run i belongs to shard i mod N: run the missing shards, or rerun the sweep into the same directory to finish them",
        .dir.display()
    )]
    Missing {
        /// The directory read.
        dir: PathBuf,
        /// How many runs are missing.
        missing: usize,
        /// Runs in the plan.
        total: usize,
        /// The first few missing runs' indices in the plan.
        first: Vec<usize>,
    },
}

impl SweepError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SweepError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads a JSON file lbsim wrote.
///
/// # Errors
/// [`SweepError::Io`] or [`SweepError::Format`] naming the file.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| SweepError::Format {
        path: path.to_path_buf(),
        message: format!("not a file lbsim wrote: {e}"),
    })
}

/// Runs `spec` once with `seed` (in memory, no files) and returns its summary. A run that
/// turns unstable stops early (the model's in-flight limit): its summary says
/// `complete: false` and why, in `stop_reason`.
///
/// # Errors
/// [`SweepError`] if the model rejects the spec.
pub fn run_one(spec: &WorldSpec, seed: u64) -> Result<Summary, SweepError> {
    let mut spec = spec.clone();
    spec.seed = seed;
    let mut sim = Simulation::new(&spec, Recorder::in_memory())
        .map_err(|source| SweepError::Model { seed, source })?;
    sim.run();
    let stop = sim.stopped().map(|s| s.to_string());
    let mut recorder = sim.into_observer();
    if let Some(s) = &stop {
        recorder.note_stop(s);
    }
    let (summary, _) = recorder
        .finish()
        .map_err(|source| SweepError::Metrics { seed, source })?;
    Ok(summary)
}

/// Runs one replication of `spec` per seed on `threads` worker threads (0 = as many as
/// cores) and returns the summaries in the order of `seeds`.
///
/// # Errors
/// The first [`SweepError`] in seed order.
pub fn replicate(
    spec: &WorldSpec,
    seeds: &[u64],
    threads: usize,
) -> Result<Vec<Summary>, SweepError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Pool {
            threads,
            reason: e.to_string(),
        })?;
    pool.install(|| seeds.par_iter().map(|&seed| run_one(spec, seed)).collect())
}
