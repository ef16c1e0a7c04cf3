//! `sweep.json`: what a sweep runs: its points (one resolved scenario each), replications
//! and seeds, and each run's id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::grid::{Vary, points};
use super::{SweepError, read_json};
use crate::model::WorldSpec;
use crate::scenario::{self, Override, Scenario};

/// Whether the directory holds a sweep or a comparison (a comparison is a sweep whose
/// points are the alternatives, plus `compare.csv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// `lbsim sweep`.
    Sweep,
    /// `lbsim compare`.
    Compare,
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPoint {
    /// Index, from 0.
    pub point: usize,
    /// With one varied path its value; with several `name=value, name=value` (the last part
    /// of each path); for a comparison of files, the file's name.
    pub label: String,
    /// Each varied path's value at this point, as typed.
    pub values: BTreeMap<String, String>,
}

/// One run: a point and a replication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRun {
    /// A hash of the resolved scenario, the seed and the lbsim version (16 hex digits):
    /// the run's file is `runs/<id>.json`, and a finished one is never run again.
    pub id: String,
    /// The point's index.
    pub point: usize,
    /// The replication, from 0.
    pub replication: u32,
    /// The master seed: the base seed plus the replication, the same at every point
    /// (common random numbers, so differences between points are paired).
    pub seed: u64,
}

/// `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPlan {
    /// Sweep or comparison.
    pub kind: PlanKind,
    /// The lbsim version that made the plan (run ids include it).
    pub lbsim_version: String,
    /// The scenario's name (the first alternative's, for a comparison of files).
    pub scenario: String,
    /// The scenario file as given (the first, for a comparison of files).
    pub scenario_file: String,
    /// Replications per point.
    pub replications: u32,
    /// Seed of replication 0; replication r uses `base_seed + r`.
    pub base_seed: u64,
    /// The varied parameters (for a comparison of files, one named `alternative`).
    pub vary: Vec<Vary>,
    /// The grid, first vary outermost.
    pub points: Vec<PlanPoint>,
    /// Every run, by point then replication.
    pub runs: Vec<PlanRun>,
}

/// A plan and what its runs need: each point's model spec.
pub struct Prepared {
    /// `sweep.json`.
    pub plan: SweepPlan,
    /// Per point, the spec to run (its seed is replaced per run).
    pub specs: Vec<WorldSpec>,
}

/// A run's id: the first 16 hex digits of the BLAKE3 hash of the lbsim version and the
/// resolved spec (with the run's seed), in its `Debug` form, which lists every field.
pub fn run_id(spec: &WorldSpec, seed: u64) -> String {
    let mut spec = spec.clone();
    spec.seed = seed;
    let text = format!("lbsim {}\n{spec:?}", crate::VERSION);
    blake3::hash(text.as_bytes()).to_hex()[..16].to_string()
}

/// A point's label: with one `--vary`, its value (`least_outstanding_requests`); with
/// several, `name=value` pairs by the last part of each path (`algorithm=random, desired_count=4`).
fn point_label(vary: &[Vary], idx: &[usize]) -> String {
    if let [v] = vary {
        return v.values[idx[0]].clone();
    }
    vary.iter()
        .zip(idx)
        .map(|(v, &k)| {
            let name = v.path.rsplit('.').next().unwrap_or(&v.path);
            format!("{name}={}", v.values[k])
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn runs_for(specs: &[WorldSpec], replications: u32, base_seed: u64) -> Vec<PlanRun> {
    let mut runs = Vec::with_capacity(specs.len() * replications as usize);
    for (point, spec) in specs.iter().enumerate() {
        for r in 0..replications {
            let seed = base_seed.wrapping_add(u64::from(r));
            runs.push(PlanRun {
                id: run_id(spec, seed),
                point,
                replication: r,
                seed,
            });
        }
    }
    runs
}

fn check_replications(replications: u32) -> Result<(), SweepError> {
    if replications == 0 {
        return Err(SweepError::Usage(
            "--replications must be at least 1".into(),
        ));
    }
    Ok(())
}

fn scenario_error(e: scenario::ScenarioErrors, label: Option<&str>) -> SweepError {
    SweepError::Scenario {
        at: label.map(str::to_string),
        errors: e,
    }
}

/// Builds a sweep's plan: loads `file` with `sets` and, for each point of the grid of
/// `vary`, the point's values as further `--set` overrides.
///
/// `base_seed`: `None` takes the scenario's `simulation.seed` (after `sets`).
///
/// # Errors
/// [`SweepError::Scenario`] naming the point whose scenario is invalid;
/// [`SweepError::Usage`] for a bad override text or no replications.
pub fn sweep_plan(
    file: &Path,
    sets: &[Override],
    vary: &[Vary],
    replications: u32,
    base_seed: Option<u64>,
) -> Result<Prepared, SweepError> {
    check_replications(replications)?;
    let base: Scenario = scenario::load(file, sets).map_err(|e| scenario_error(e, None))?;
    let base_seed = base_seed.unwrap_or(base.spec.seed);
    let mut points_out = Vec::new();
    let mut specs = Vec::new();
    for (i, idx) in points(vary).into_iter().enumerate() {
        let mut all = sets.to_vec();
        let mut values = BTreeMap::new();
        let mut label = Vec::new();
        for (v, &k) in vary.iter().zip(&idx) {
            let text = format!("{}={}", v.path, v.values[k]);
            all.push(scenario::overrides::parse(&text).map_err(SweepError::Usage)?);
            values.insert(v.path.clone(), v.values[k].clone());
            label.push(text);
        }
        let at = label.join(", ");
        let s = scenario::load(file, &all).map_err(|e| scenario_error(e, Some(&at)))?;
        let label = point_label(vary, &idx);
        specs.push(s.spec);
        points_out.push(PlanPoint {
            point: i,
            label,
            values,
        });
    }
    Ok(Prepared {
        plan: SweepPlan {
            kind: PlanKind::Sweep,
            lbsim_version: crate::VERSION.to_string(),
            scenario: base.spec.name.clone(),
            scenario_file: file.display().to_string(),
            replications,
            base_seed,
            vary: vary.to_vec(),
            runs: runs_for(&specs, replications, base_seed),
            points: points_out,
        },
        specs,
    })
}

/// Builds a comparison's plan from several scenario files (each with `sets`): one point per
/// file, labelled by the file's name without extension (the path when two share a name),
/// all with the same seeds: `base_seed`, else the first file's `simulation.seed`.
///
/// # Errors
/// As [`sweep_plan`].
pub fn files_plan(
    files: &[PathBuf],
    sets: &[Override],
    replications: u32,
    base_seed: Option<u64>,
) -> Result<Prepared, SweepError> {
    check_replications(replications)?;
    let stems: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_stem()
                .map_or_else(|| f.display().to_string(), |s| s.to_string_lossy().into())
        })
        .collect();
    let unique = {
        let mut s = stems.clone();
        s.sort();
        s.dedup();
        s.len() == stems.len()
    };
    let labels: Vec<String> = if unique {
        stems
    } else {
        files.iter().map(|f| f.display().to_string()).collect()
    };
    let mut specs = Vec::new();
    let mut points_out = Vec::new();
    for (i, (f, label)) in files.iter().zip(&labels).enumerate() {
        let s = scenario::load(f, sets).map_err(|e| scenario_error(e, Some(label)))?;
        specs.push(s.spec);
        points_out.push(PlanPoint {
            point: i,
            label: label.clone(),
            values: BTreeMap::from([("alternative".to_string(), label.clone())]),
        });
    }
    let base_seed = base_seed.unwrap_or(specs[0].seed);
    Ok(Prepared {
        plan: SweepPlan {
            kind: PlanKind::Compare,
            lbsim_version: crate::VERSION.to_string(),
            scenario: specs[0].name.clone(),
            scenario_file: files[0].display().to_string(),
            replications,
            base_seed,
            vary: vec![Vary {
                path: "alternative".into(),
                values: labels,
            }],
            runs: runs_for(&specs, replications, base_seed),
            points: points_out,
        },
        specs,
    })
}

impl SweepPlan {
    /// Reads `dir/sweep.json`.
    ///
    /// # Errors
    /// [`SweepError::Io`] or [`SweepError::Format`] naming the file.
    pub fn read(dir: &Path) -> Result<SweepPlan, SweepError> {
        read_json(&dir.join("sweep.json"))
    }

    /// The runs shard `k` of `n` executes: those whose index in [`SweepPlan::runs`] is `k`
    /// modulo `n` (so every shard gets a share of every point).
    pub fn shard(&self, k: usize, n: usize) -> impl Iterator<Item = (usize, &PlanRun)> {
        self.runs
            .iter()
            .enumerate()
            .filter(move |(i, _)| i % n == k)
    }
}
