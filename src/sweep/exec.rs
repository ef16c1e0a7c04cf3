//! Running a plan's runs on a `rayon` pool, each run's summary saved as `runs/<id>.json` the
//! moment it finishes, so an interrupted sweep resumes where it stopped.

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::plan::{Prepared, SweepPlan};
use super::{SweepError, run_one};
use crate::metrics::write_json_atomic;

/// What [`execute`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Executed {
    /// Runs in this shard.
    pub in_shard: usize,
    /// Of those, already finished in the directory (skipped).
    pub skipped: usize,
    /// Of those, run now.
    pub ran: usize,
    /// Of the runs run now, those that stopped before their end (unstable: see
    /// `model::RunStop`); their `runs/<id>.json` says `complete: false`.
    pub incomplete: usize,
}

/// The file of run `id` in `dir`.
pub fn run_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("runs").join(format!("{id}.json"))
}

/// Removes temporary files left in `dir/runs` by a killed sweep (hidden `.*.tmp` files).
fn remove_stale_temporaries(runs: &Path) {
    if let Ok(entries) = fs::read_dir(runs) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Writes `dir/sweep.json` and runs, on `jobs` threads (0 = one per core), every run of shard
/// `shard = (k, n)` (`(0, 1)`: all) whose `runs/<id>.json` is not in `dir` yet. `done` is
/// called once per run finished or skipped (for a progress bar; from worker threads).
///
/// Each run's file depends only on its scenario and seed, so the directory's contents are
/// the same whatever `jobs` is, and whatever the order runs finish in.
///
/// # Errors
/// [`SweepError`] for a file that cannot be written, or the first failed run in plan order.
pub fn execute(
    prepared: &Prepared,
    dir: &Path,
    jobs: usize,
    shard: (usize, usize),
    done: &(dyn Fn() + Sync),
) -> Result<Executed, SweepError> {
    let plan: &SweepPlan = &prepared.plan;
    let runs_dir = dir.join("runs");
    fs::create_dir_all(&runs_dir).map_err(|e| SweepError::io(&runs_dir, e))?;
    remove_stale_temporaries(&runs_dir);
    write_json_atomic(&dir.join("sweep.json"), plan)?;
    let mine: Vec<_> = plan.shard(shard.0, shard.1).map(|(_, r)| r).collect();
    let todo: Vec<_> = mine
        .iter()
        .filter(|r| !run_path(dir, &r.id).is_file())
        .collect();
    let skipped = mine.len() - todo.len();
    for _ in 0..skipped {
        done();
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Pool {
            threads: jobs,
            reason: e.to_string(),
        })?;
    let results: Vec<Result<bool, SweepError>> = pool.install(|| {
        todo.par_iter()
            .map(|r| {
                let summary = run_one(&prepared.specs[r.point], r.seed)?;
                write_json_atomic(&run_path(dir, &r.id), &summary)?;
                done();
                Ok(summary.complete)
            })
            .collect()
    });
    let mut incomplete = 0;
    for r in results {
        if !r? {
            incomplete += 1;
        }
    }
    Ok(Executed {
        in_shard: mine.len(),
        skipped,
        ran: todo.len(),
        incomplete,
    })
}
