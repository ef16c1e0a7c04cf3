//! `sweep.csv`, `sweep_summary.csv` and `compare.csv`, from a plan and its runs' files.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::SweepError;
use super::exec::run_path;
use super::plan::SweepPlan;
use crate::metrics::{FlatMetric, Summary, flat_metrics, round_to};

/// Mean, sample standard deviation and Student's t 95 % confidence interval of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    /// Sample size.
    pub n: usize,
    /// Mean; `None` when `n = 0`.
    pub mean: Option<f64>,
    /// Sample standard deviation (divisor `n − 1`); `None` when `n < 2`.
    pub std: Option<f64>,
    /// Half-width of the 95 % confidence interval of the mean,
    /// `t(0.975, n − 1) · std / √n`; `None` when `n < 2`.
    pub ci95_half: Option<f64>,
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`statrs`), rounded to
/// 9 decimals so that every platform gives the same digits.
pub fn t975(df: usize) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    round_to(t, 9)
}

impl Stats {
    /// Of `xs` (summed in order, so the same sample gives the same digits).
    pub fn of(xs: &[f64]) -> Stats {
        let n = xs.len();
        if n == 0 {
            return Stats {
                n,
                mean: None,
                std: None,
                ci95_half: None,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Stats {
                n,
                mean: Some(mean),
                std: None,
                ci95_half: None,
            };
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let std = var.sqrt();
        Stats {
            n,
            mean: Some(mean),
            std: Some(std),
            ci95_half: Some(t975(n - 1) * std / (n as f64).sqrt()),
        }
    }

    /// Lower end of the 95 % interval.
    pub fn low(&self) -> Option<f64> {
        Some(self.mean? - self.ci95_half?)
    }

    /// Upper end of the 95 % interval.
    pub fn high(&self) -> Option<f64> {
        Some(self.mean? + self.ci95_half?)
    }
}

/// A cell: the number rounded to 9 decimals (no float noise), empty for `None`.
fn cell(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => round_to(v, 9).to_string(),
        _ => String::new(),
    }
}

/// Every run's flat metrics, in plan order.
pub struct RunTable {
    /// Metric names: the union over runs, in order of first appearance.
    pub names: Vec<String>,
    /// Per run (plan order), per name, the value.
    pub values: Vec<Vec<Option<f64>>>,
}

impl RunTable {
    /// Reads every run's `runs/<id>.json` in `dir`.
    ///
    /// # Errors
    /// [`SweepError::Missing`] listing the runs not there (with their shards when the sweep
    /// was sharded into `shards`), or a file that cannot be read.
    pub fn read(dir: &Path, plan: &SweepPlan) -> Result<RunTable, SweepError> {
        let missing: Vec<usize> = (0..plan.runs.len())
            .filter(|&i| !run_path(dir, &plan.runs[i].id).is_file())
            .collect();
        if !missing.is_empty() {
            return Err(SweepError::Missing {
                dir: dir.to_path_buf(),
                missing: missing.len(),
                total: plan.runs.len(),
                first: missing.iter().take(5).copied().collect(),
            });
        }
        let mut flats: Vec<Vec<FlatMetric>> = Vec::with_capacity(plan.runs.len());
        for r in &plan.runs {
            let s: Summary = super::read_json(&run_path(dir, &r.id))?;
            flats.push(flat_metrics(&s));
        }
        Ok(Self::from_flats(flats))
    }

    fn from_flats(flats: Vec<Vec<FlatMetric>>) -> RunTable {
        let mut names: Vec<String> = Vec::new();
        let mut index = std::collections::BTreeMap::new();
        for f in &flats {
            for (n, _) in f {
                if !index.contains_key(n) {
                    index.insert(n.clone(), names.len());
                    names.push(n.clone());
                }
            }
        }
        let values = flats
            .into_iter()
            .map(|f| {
                let mut row = vec![None; names.len()];
                for (n, v) in f {
                    row[index[&n]] = v;
                }
                row
            })
            .collect();
        RunTable { names, values }
    }

    /// Column of metric `name`, `None` if no run has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The values of metric column `m` at `point`, by replication (`None` where missing).
    pub fn point_values(&self, plan: &SweepPlan, point: usize, m: usize) -> Vec<Option<f64>> {
        plan.runs
            .iter()
            .zip(&self.values)
            .filter(|(r, _)| r.point == point)
            .map(|(_, row)| row[m])
            .collect()
    }
}

fn csv_writer(path: &Path) -> Result<(csv::Writer<Vec<u8>>, PathBuf), SweepError> {
    Ok((csv::Writer::from_writer(Vec::new()), path.to_path_buf()))
}

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename.
pub(crate) fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".lbsim.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| SweepError::io(dir, e))?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        w.write_all(bytes).map_err(|e| SweepError::io(path, e))?;
        w.flush().map_err(|e| SweepError::io(path, e))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path)
        .map_err(|e| SweepError::io(path, e.error))?;
    Ok(())
}

fn finish_csv((w, path): (csv::Writer<Vec<u8>>, PathBuf)) -> Result<PathBuf, SweepError> {
    let bytes = w
        .into_inner()
        .map_err(|e| SweepError::io(&path, e.into_error()))?;
    write_bytes_atomic(&path, &bytes)?;
    Ok(path)
}

fn csv_row(
    w: &mut (csv::Writer<Vec<u8>>, PathBuf),
    row: impl IntoIterator<Item = String>,
) -> Result<(), SweepError> {
    w.0.write_record(row.into_iter().collect::<Vec<_>>())
        .map_err(|e| SweepError::Csv(w.1.clone(), e))
}

/// Writes `sweep.csv` (one row per run) and `sweep_summary.csv` (one row per point and
/// metric: n, mean, standard deviation, 95 % CI by Student's t) into `dir`; returns their
/// paths.
///
/// # Errors
/// [`SweepError`] naming the file.
pub fn write_sweep_csvs(
    dir: &Path,
    plan: &SweepPlan,
    table: &RunTable,
) -> Result<Vec<PathBuf>, SweepError> {
    let vary_cols: Vec<&str> = plan.vary.iter().map(|v| v.path.as_str()).collect();
    let value_of = |point: usize, path: &str| plan.points[point].values[path].clone();
    let mut w = csv_writer(&dir.join("sweep.csv"))?;
    let header = ["point", "replication", "seed"]
        .iter()
        .map(|s| s.to_string())
        .chain(vary_cols.iter().map(|s| s.to_string()))
        .chain(std::iter::once("run_id".to_string()))
        .chain(table.names.iter().cloned());
    csv_row(&mut w, header)?;
    for (r, row) in plan.runs.iter().zip(&table.values) {
        let cells = [
            r.point.to_string(),
            r.replication.to_string(),
            r.seed.to_string(),
        ]
        .into_iter()
        .chain(vary_cols.iter().map(|p| value_of(r.point, p)))
        .chain(std::iter::once(r.id.clone()))
        .chain(row.iter().map(|v| cell(*v)));
        csv_row(&mut w, cells)?;
    }
    let sweep_csv = finish_csv(w)?;

    let mut w = csv_writer(&dir.join("sweep_summary.csv"))?;
    let header = std::iter::once("point".to_string())
        .chain(vary_cols.iter().map(|s| s.to_string()))
        .chain(
            ["metric", "n", "mean", "std", "ci95_low", "ci95_high"]
                .iter()
                .map(|s| s.to_string()),
        );
    csv_row(&mut w, header)?;
    for p in &plan.points {
        for (m, name) in table.names.iter().enumerate() {
            let xs: Vec<f64> = table
                .point_values(plan, p.point, m)
                .into_iter()
                .flatten()
                .collect();
            let s = Stats::of(&xs);
            let cells = std::iter::once(p.point.to_string())
                .chain(vary_cols.iter().map(|c| value_of(p.point, c)))
                .chain([
                    name.clone(),
                    s.n.to_string(),
                    cell(s.mean),
                    cell(s.std),
                    cell(s.low()),
                    cell(s.high()),
                ]);
            csv_row(&mut w, cells)?;
        }
    }
    let summary_csv = finish_csv(w)?;
    Ok(vec![sweep_csv, summary_csv])
}

/// One row of `compare.csv`: an alternative against the baseline on one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Flat metric name.
    pub metric: String,
    /// The baseline's label (the first alternative).
    pub baseline: String,
    /// This alternative's label.
    pub alternative: String,
    /// The baseline's values over replications.
    pub baseline_stats: Stats,
    /// This alternative's values over replications.
    pub alternative_stats: Stats,
    /// Paired differences alternative − baseline, over the replications where both have a
    /// value (same seed, so common random numbers cancel much of the noise).
    pub diff: Stats,
}

impl Comparison {
    /// The 95 % interval of the difference excludes 0.
    pub fn significant(&self) -> bool {
        match (self.diff.low(), self.diff.high()) {
            (Some(l), Some(h)) => l > 0.0 || h < 0.0,
            _ => false,
        }
    }
}

/// Every metric of every alternative (points 1..) against point 0, paired by replication.
pub fn comparisons(plan: &SweepPlan, table: &RunTable) -> Vec<Comparison> {
    let mut out = Vec::new();
    let Some(base) = plan.points.first() else {
        return out;
    };
    for alt in plan.points.iter().skip(1) {
        for (m, name) in table.names.iter().enumerate() {
            let a = table.point_values(plan, base.point, m);
            let b = table.point_values(plan, alt.point, m);
            let diffs: Vec<f64> = a
                .iter()
                .zip(&b)
                .filter_map(|(x, y)| Some((*y)? - (*x)?))
                .collect();
            out.push(Comparison {
                metric: name.clone(),
                baseline: base.label.clone(),
                alternative: alt.label.clone(),
                baseline_stats: Stats::of(&a.iter().flatten().copied().collect::<Vec<_>>()),
                alternative_stats: Stats::of(&b.iter().flatten().copied().collect::<Vec<_>>()),
                diff: Stats::of(&diffs),
            });
        }
    }
    out
}

/// Writes `compare.csv` into `dir`.
///
/// # Errors
/// [`SweepError`] naming the file.
pub fn write_compare_csv(dir: &Path, rows: &[Comparison]) -> Result<PathBuf, SweepError> {
    let mut w = csv_writer(&dir.join("compare.csv"))?;
    csv_row(
        &mut w,
        [
            "metric",
            "baseline",
            "alternative",
            "n",
            "baseline_mean",
            "alternative_mean",
            "diff_mean",
            "diff_ci95_low",
            "diff_ci95_high",
            "significant",
        ]
        .iter()
        .map(|s| s.to_string()),
    )?;
    for c in rows {
        csv_row(
            &mut w,
            [
                c.metric.clone(),
                c.baseline.clone(),
                c.alternative.clone(),
                c.diff.n.to_string(),
                cell(c.baseline_stats.mean),
                cell(c.alternative_stats.mean),
                cell(c.diff.mean),
                cell(c.diff.low()),
                cell(c.diff.high()),
                c.significant().to_string(),
            ],
        )?;
    }
    finish_csv(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student's t 0.975 quantiles from standard tables.
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (9, 2.262),
            (29, 2.045),
            (1000, 1.962),
        ] {
            assert!((t975(df) - t).abs() < 5e-4, "df {df}: {}", t975(df));
        }
    }

    #[test]
    fn stats_of_a_known_sample() {
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, Some(2.5));
        let sd = (5.0f64 / 3.0).sqrt();
        assert!((s.std.unwrap() - sd).abs() < 1e-12);
        assert!((s.ci95_half.unwrap() - 3.182446305 * sd / 2.0).abs() < 1e-8);
        assert_eq!(Stats::of(&[7.0]).std, None);
        assert_eq!(Stats::of(&[]).mean, None);
    }
}
