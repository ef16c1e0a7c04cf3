//! What is drawn and written beside a run's, a sweep's or a comparison's CSV files once they
//! are complete: plots (`plots/*.svg`) and `report.html`. Both read the files, never the
//! model, so `lbsim plot` can redo them later.

use std::path::Path;

use lbsim::report::html;

/// Which artifacts to write.
#[derive(Clone, Copy, Debug)]
pub struct ArtifactOptions {
    /// Write `report.html` (`--no-report` turns it off).
    pub report: bool,
}

/// After `lbsim run`: plots and report for the run in `dir`.
///
/// # Errors
/// A message naming the file that could not be read or written.
pub fn after_run(dir: &Path, opts: ArtifactOptions) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files = vec![];
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
pub fn after_sweep(dir: &Path, opts: ArtifactOptions) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files = vec![];
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
pub fn after_compare(dir: &Path, opts: ArtifactOptions) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files = vec![];
    // report.html last: it embeds the plots drawn above.
    if opts.report {
        files.push(html::compare_report(dir).map_err(|e| e.to_string())?);
    }
    Ok(files)
}
