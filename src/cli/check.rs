//! `lbsim check`: runs scenarios and compares them with golden files; SLO assertions.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `lbsim check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Scenario files, or directories of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Runs `lbsim check`.
pub fn check(args: CheckArgs) -> ExitCode {
    eprintln!("error: lbsim check {:?}: not built yet", args.paths);
    ExitCode::from(1)
}
