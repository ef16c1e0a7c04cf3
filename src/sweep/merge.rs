//! `lbsim merge`: the shards of a sweep, combined into one sweep directory whose files are
//! byte-identical to those of the same sweep run unsharded.

use std::fs;
use std::path::{Path, PathBuf};

use super::SweepError;
use super::exec::run_path;
use super::plan::SweepPlan;

/// Checks that every directory in `shards` holds the same `sweep.json`, then copies every
/// run's file into `out/runs` (from the first shard that has it) and writes
/// `out/sweep.json`. Returns the plan; the caller writes the CSV files with
/// [`super::results`].
///
/// # Errors
/// [`SweepError::Usage`] with no directory; [`SweepError::Mismatch`] when two shards ran
/// different sweeps; [`SweepError::Missing`] when some run is in no shard; I/O errors naming
/// the file.
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<SweepPlan, SweepError> {
    let Some(first) = shards.first() else {
        return Err(SweepError::Usage(
            "lbsim merge needs at least one shard directory".into(),
        ));
    };
    let plan = SweepPlan::read(first)?;
    for d in &shards[1..] {
        let other = SweepPlan::read(d)?;
        if other != plan {
            return Err(SweepError::Mismatch {
                a: first.clone(),
                b: d.clone(),
            });
        }
    }
    let runs_out = out.join("runs");
    fs::create_dir_all(&runs_out).map_err(|e| SweepError::io(&runs_out, e))?;
    let mut missing = Vec::new();
    for (i, r) in plan.runs.iter().enumerate() {
        let target = run_path(out, &r.id);
        if target.is_file() {
            continue;
        }
        match shards
            .iter()
            .map(|d| run_path(d, &r.id))
            .find(|p| p.is_file())
        {
            Some(src) => {
                let bytes = fs::read(&src).map_err(|e| SweepError::io(&src, e))?;
                super::results::write_bytes_atomic(&target, &bytes)?;
            }
            None => missing.push(i),
        }
    }
    if !missing.is_empty() {
        return Err(SweepError::Missing {
            dir: out.to_path_buf(),
            missing: missing.len(),
            total: plan.runs.len(),
            first: missing.into_iter().take(5).collect(),
        });
    }
    crate::metrics::write_json_atomic(&out.join("sweep.json"), &plan)?;
    Ok(plan)
}
