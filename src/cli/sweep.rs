//! `lbsim sweep`, `lbsim merge` and `lbsim compare`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `lbsim sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario file.
    pub scenario: PathBuf,
}

/// Arguments of `lbsim merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard directories.
    pub dirs: Vec<PathBuf>,
}

/// Arguments of `lbsim compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario files.
    pub scenarios: Vec<PathBuf>,
}

/// Runs `lbsim sweep`.
pub fn sweep(_args: SweepArgs) -> ExitCode {
    ExitCode::from(1)
}

/// Runs `lbsim merge`.
pub fn merge(_args: MergeArgs) -> ExitCode {
    ExitCode::from(1)
}

/// Runs `lbsim compare`.
pub fn compare(_args: CompareArgs) -> ExitCode {
    ExitCode::from(1)
}
