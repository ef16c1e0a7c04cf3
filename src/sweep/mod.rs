//! Independent replications, run in parallel.
//!
//! A replication is the same [`WorldSpec`] with another master seed. Replications run on a
//! `rayon` pool of the requested size and are collected **by index**, so the result is the
//! same, in the same order, whatever the number of threads (each run is deterministic and
//! shares nothing with the others: a [`World`](crate::model::World) is plain `Send` data).
//! The future `lbsim sweep` command stands on this.

use rayon::prelude::*;

use crate::metrics::{MetricsError, Recorder, Summary};
use crate::model::{ModelError, Simulation, WorldSpec};

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
}

/// Runs `spec` once with `seed` (in memory, no files) and returns its summary.
///
/// # Errors
/// [`SweepError`] if the model rejects the spec.
pub fn run_one(spec: &WorldSpec, seed: u64) -> Result<Summary, SweepError> {
    let mut spec = spec.clone();
    spec.seed = seed;
    let mut sim = Simulation::new(&spec, Recorder::in_memory())
        .map_err(|source| SweepError::Model { seed, source })?;
    sim.run();
    let (summary, _) = sim
        .into_observer()
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
