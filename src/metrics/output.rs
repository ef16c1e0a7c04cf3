//! Output files, written under temporary names in the output directory and renamed to
//! their final names only when the run has finished, so an interrupted run never leaves a
//! half-written `metrics.csv` that looks complete.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::MetricsError;
use super::summary::Summary;

/// Where a finished run's files are.
#[derive(Clone, Debug)]
pub struct Outputs {
    /// The output directory.
    pub dir: PathBuf,
    /// `summary.json`.
    pub summary: PathBuf,
    /// `metrics.csv`.
    pub metrics: PathBuf,
    /// `events.csv`.
    pub events: PathBuf,
    /// `dependencies.csv`.
    pub dependencies: PathBuf,
    /// `cloudwatch.csv`.
    pub cloudwatch: PathBuf,
    /// `alarms.csv`.
    pub alarms: PathBuf,
    /// `rules.csv`, written when the run counts requests by listener rule (see
    /// [`rules_header`](super::rules_header)); `None` otherwise.
    pub rules: Option<PathBuf>,
    /// `latency.csv`: the latency distribution of the run's successful responses after the
    /// warm-up, for CDF plots: `latency_ms,count,cumulative_fraction`, one row per
    /// histogram bucket holding any (3 significant digits).
    pub latency: PathBuf,
}

/// The files of a run in progress.
pub(crate) struct OutputFiles {
    dir: PathBuf,
    metrics: csv::Writer<BufWriter<NamedTempFile>>,
    events: csv::Writer<BufWriter<NamedTempFile>>,
    dependencies: csv::Writer<BufWriter<NamedTempFile>>,
    cloudwatch: csv::Writer<BufWriter<NamedTempFile>>,
    alarms: csv::Writer<BufWriter<NamedTempFile>>,
    rules: Option<csv::Writer<BufWriter<NamedTempFile>>>,
}

fn temp_in(dir: &Path, name: &str) -> Result<NamedTempFile, MetricsError> {
    let prefix = format!(".{name}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp");
    // Ordinary permissions (tempfile's default is owner-only, meant for secrets).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    b.tempfile_in(dir).map_err(|e| MetricsError::io(dir, e))
}

fn persist(tmp: NamedTempFile, path: &Path) -> Result<(), MetricsError> {
    tmp.as_file()
        .sync_all()
        .map_err(|e| MetricsError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| MetricsError::io(path, e.error))?;
    Ok(())
}

impl OutputFiles {
    /// Creates `dir` if needed and opens the temporary files, writing their headers.
    pub(crate) fn create(
        dir: &Path,
        metrics_header: &[String],
        events_header: &[&str],
        dependencies_header: &[String],
        rules_header: Option<&[String]>,
    ) -> Result<Self, MetricsError> {
        fs::create_dir_all(dir).map_err(|e| MetricsError::io(dir, e))?;
        let open = |name: &str| -> Result<_, MetricsError> {
            Ok(csv::Writer::from_writer(BufWriter::new(temp_in(
                dir, name,
            )?)))
        };
        let mut files = OutputFiles {
            dir: dir.to_path_buf(),
            metrics: open("metrics.csv")?,
            events: open("events.csv")?,
            dependencies: open("dependencies.csv")?,
            cloudwatch: open("cloudwatch.csv")?,
            alarms: open("alarms.csv")?,
            rules: match rules_header {
                Some(_) => Some(open("rules.csv")?),
                None => None,
            },
        };
        if let Some(h) = rules_header {
            files.rule_row(h)?;
        }
        files.cloudwatch_row(&super::cloudwatch::CLOUDWATCH_HEADER)?;
        files.alarm_row(&super::cloudwatch::ALARMS_HEADER)?;
        files.metrics_row(metrics_header)?;
        files.event_row(events_header)?;
        files.dependency_row(dependencies_header)?;
        Ok(files)
    }

    pub(crate) fn metrics_row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), MetricsError> {
        self.metrics
            .write_record(row)
            .map_err(|e| MetricsError::Csv(self.dir.join("metrics.csv"), e))
    }

    pub(crate) fn event_row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), MetricsError> {
        self.events
            .write_record(row)
            .map_err(|e| MetricsError::Csv(self.dir.join("events.csv"), e))
    }

    pub(crate) fn dependency_row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), MetricsError> {
        self.dependencies
            .write_record(row)
            .map_err(|e| MetricsError::Csv(self.dir.join("dependencies.csv"), e))
    }

    pub(crate) fn cloudwatch_row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), MetricsError> {
        self.cloudwatch
            .write_record(row)
            .map_err(|e| MetricsError::Csv(self.dir.join("cloudwatch.csv"), e))
    }

    pub(crate) fn alarm_row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), MetricsError> {
        self.alarms
            .write_record(row)
            .map_err(|e| MetricsError::Csv(self.dir.join("alarms.csv"), e))
    }

    /// Writes a `rules.csv` row (nothing when the run has no `rules.csv`).
    pub(crate) fn rule_row<S: AsRef<[u8]>>(&mut self, row: &[S]) -> Result<(), MetricsError> {
        match self.rules.as_mut() {
            Some(w) => w
                .write_record(row)
                .map_err(|e| MetricsError::Csv(self.dir.join("rules.csv"), e)),
            None => Ok(()),
        }
    }

    /// Writes `summary.json` and renames every file to its final name.
    pub(crate) fn commit(
        self,
        summary: &Summary,
        latency_cdf: &[(f64, u64, f64)],
    ) -> Result<Outputs, MetricsError> {
        let out = Outputs {
            summary: self.dir.join("summary.json"),
            metrics: self.dir.join("metrics.csv"),
            events: self.dir.join("events.csv"),
            dependencies: self.dir.join("dependencies.csv"),
            cloudwatch: self.dir.join("cloudwatch.csv"),
            alarms: self.dir.join("alarms.csv"),
            latency: self.dir.join("latency.csv"),
            rules: self.rules.is_some().then(|| self.dir.join("rules.csv")),
            dir: self.dir,
        };
        let mut latency =
            csv::Writer::from_writer(BufWriter::new(temp_in(&out.dir, "latency.csv")?));
        let csv_err = |e| MetricsError::Csv(out.latency.clone(), e);
        latency
            .write_record(["latency_ms", "count", "cumulative_fraction"])
            .map_err(csv_err)?;
        for (ms, n, frac) in latency_cdf {
            latency
                .write_record([ms.to_string(), n.to_string(), frac.to_string()])
                .map_err(csv_err)?;
        }
        for (w, path) in [
            (self.metrics, &out.metrics),
            (self.events, &out.events),
            (self.dependencies, &out.dependencies),
            (self.cloudwatch, &out.cloudwatch),
            (self.alarms, &out.alarms),
            (latency, &out.latency),
        ]
        .into_iter()
        .chain(self.rules.zip(out.rules.as_ref()))
        {
            let tmp = w
                .into_inner()
                .map_err(|e| MetricsError::io(path, e.into_error()))?
                .into_inner()
                .map_err(|e| MetricsError::io(path, e.into_error()))?;
            persist(tmp, path)?;
        }
        write_json_atomic(&out.summary, summary)?;
        Ok(out)
    }
}

/// Writes `value` as pretty JSON (with a final newline) to `path` via a temporary file in
/// the same directory and a rename.
///
/// # Errors
/// [`MetricsError::Io`] naming the path.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), MetricsError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let mut tmp = temp_in(dir, name)?;
    {
        let mut w = BufWriter::new(tmp.as_file_mut());
        serde_json::to_writer_pretty(&mut w, value)
            .map_err(|e| MetricsError::io(path, std::io::Error::other(e)))?;
        w.write_all(b"\n").map_err(|e| MetricsError::io(path, e))?;
        w.flush().map_err(|e| MetricsError::io(path, e))?;
    }
    persist(tmp, path)
}
