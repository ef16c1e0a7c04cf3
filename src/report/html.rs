//! `report.html`: one self-contained page for a run's, a sweep's or a comparison's output
//! directory, read from its files only (never from the model).
//!
//! - A run ([`run_report`]): `summary.json` (key figures, requests by outcome, target
//!   groups, every flat metric), `latency.csv` (the latency distribution), `metrics.csv`
//!   (its span), `events.csv` (counts by kind and the first [`EVENT_ROWS`] events),
//!   `scenario.json` (the resolved scenario, pretty-printed).
//! - A sweep ([`sweep_report`]): `sweep.json` (what was varied, the points, the
//!   replications), `sweep_summary.csv` (key metrics per point with their 95 % confidence
//!   intervals, and every row), `sweep.csv` (every run).
//! - A comparison ([`compare_report`]): the sweep's sections and `compare.csv` (paired
//!   differences, the significant ones in bold).
//!
//! Each also shows every `plots/*.svg` of the directory, in file-name order.
//!
//! **Safety.** Every string that comes from a file (a scenario's name, a trace file's name,
//! a target group's name, an event's detail, a CSV cell...) is HTML-escaped by the `maud`
//! templates. Plots are embedded as `<img src="data:image/svg+xml;base64,...">`, not inlined
//! as markup: an SVG shown as an image can run no script and load nothing, whatever text it
//! holds (plotters escapes its text, but `plots/` may hold any file). The page has no
//! script, and a `Content-Security-Policy` that allows none and no outside resource, so it
//! opens without a console error and without a network. Missing optional files leave their
//! section out; the page is written under a temporary name and renamed.

mod page;
mod read;
mod run;
mod sweep;

use std::io::Write;
use std::path::{Path, PathBuf};

/// How many rows of `events.csv` a run's report lists (the counts by kind cover them all).
pub const EVENT_ROWS: usize = 500;

/// How many rows the long tables of a sweep's report (every run, every summary row) list
/// at most; a note says when there were more.
pub const LONG_TABLE_ROWS: usize = 2000;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read (a required file missing, or an I/O error).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `report.html` (or its temporary file) could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file's content is not what its format says (bad JSON, bad CSV).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where known.
        message: String,
    },
}

/// Writes `<dir>/report.html` for the run whose outputs are in `dir` and returns its path.
///
/// # Errors
/// [`ReportError`] naming the file: `summary.json` missing or invalid, another file
/// present but unreadable or malformed, or the report not writable. `metrics.csv`,
/// `events.csv`, `latency.csv`, `scenario.json` and `plots/` are optional.
pub fn run_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let page = run::page(dir)?;
    write_atomic(&dir.join("report.html"), &page)
}

/// Writes `<dir>/report.html` for the sweep whose outputs are in `dir` and returns its path.
///
/// # Errors
/// [`ReportError`] naming the file: `sweep.json` missing or invalid, another file present
/// but malformed, or the report not writable. `sweep_summary.csv`, `sweep.csv` and `plots/`
/// are optional.
pub fn sweep_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let page = sweep::page(dir, false)?;
    write_atomic(&dir.join("report.html"), &page)
}

/// Writes `<dir>/report.html` for the comparison whose outputs are in `dir` and returns its
/// path: the sweep's sections and `compare.csv`.
///
/// # Errors
/// As [`sweep_report`]; `compare.csv` is optional.
pub fn compare_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let page = sweep::page(dir, true)?;
    write_atomic(&dir.join("report.html"), &page)
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, text: &str) -> Result<PathBuf, ReportError> {
    let err = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut b = tempfile::Builder::new();
    b.prefix(".report.html.").suffix(".tmp");
    // Ordinary permissions (tempfile's default is owner-only, meant for secrets).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = b.tempfile_in(dir).map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(path.to_path_buf())
}
