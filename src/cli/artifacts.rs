//! What is drawn and written beside a run's, a sweep's or a comparison's CSV files once they
//! are complete: plots (`plots/*.svg`) and `report.html`. Both read the files, never the
//! model, so `lbsim plot` can redo them later.

use std::path::{Path, PathBuf};

use lbsim::report::html;
use lbsim::report::plot::{self, Format};

/// The plots written beside the CSV files are SVG (what report.html shows); PNG copies are
/// drawn on request by `lbsim plot DIR --format png`.
const PLOT_FORMAT: Format = Format::Svg;

/// Which artifacts to write.
#[derive(Clone, Copy, Debug)]
pub struct ArtifactOptions<'a> {
    /// Write `report.html` (`--no-report` turns it off).
    pub report: bool,
    /// Metrics the user asked for (`--metric`): a sweep's and a comparison's plots show the
    /// headline ones (p99, 5xx fraction, cost, throughput) and these.
    pub metrics: &'a [String],
}

/// The metrics to plot for a sweep or comparison: empty (the plot module's defaults) unless
/// the user chose some, then the headline ones and theirs.
fn chosen_metrics(opts: &ArtifactOptions) -> Vec<String> {
    if opts.metrics.is_empty() {
        return vec![];
    }
    let mut out: Vec<String> = [
        "latency_p99_ms",
        "fraction_5xx",
        "cost_total_usd",
        "throughput_rps",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for m in opts.metrics {
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    out
}

/// After `lbsim run`: plots and report for the run in `dir`.
///
/// # Errors
/// A message naming the file that could not be read or written.
pub fn after_run(dir: &Path, opts: ArtifactOptions) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    // Plots (plots/dashboard.svg, plots/latency_cdf.svg).
    files.extend(plot::run_plots(dir, PLOT_FORMAT).map_err(|e| e.to_string())?);
    // report.html last: it embeds the plots drawn above.
    if opts.report {
        files.push(html::run_report(dir).map_err(|e| e.to_string())?);
    }
    Ok(files)
}

/// After `lbsim sweep` or `lbsim merge`: plots and report for the sweep in `dir`.
///
/// # Errors
/// As [`after_run`].
pub fn after_sweep(dir: &Path, opts: ArtifactOptions) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    // Plots (plots/sweep_<metric>.svg, plots/sweep.svg), the default metrics.
    files.extend(
        plot::sweep_plots(dir, PLOT_FORMAT, &chosen_metrics(&opts)).map_err(|e| e.to_string())?,
    );
    // report.html last: it embeds the plots drawn above.
    if opts.report {
        files.push(html::sweep_report(dir).map_err(|e| e.to_string())?);
    }
    Ok(files)
}

/// After `lbsim compare`: plots and report for the comparison in `dir`.
///
/// # Errors
/// As [`after_run`].
pub fn after_compare(dir: &Path, opts: ArtifactOptions) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    // Plots (the sweep's plots, then plots/compare.svg), the default metrics.
    files.extend(
        plot::plot_dir(dir, PLOT_FORMAT, &chosen_metrics(&opts))
            .map_err(|e| e.to_string())?
            .1,
    );
    // report.html last: it embeds the plots drawn above.
    if opts.report {
        files.push(html::compare_report(dir).map_err(|e| e.to_string())?);
    }
    Ok(files)
}
