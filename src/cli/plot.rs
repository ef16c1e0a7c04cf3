//! `lbsim plot OUTDIR`: draws a run's, a sweep's or a comparison's plots from its CSV files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `lbsim plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A run's, sweep's or comparison's output directory.
    pub dir: PathBuf,
}

/// Runs `lbsim plot`.
pub fn plot(args: PlotArgs) -> ExitCode {
    eprintln!("error: lbsim plot {}: not built yet", args.dir.display());
    ExitCode::from(1)
}
