//! `lbsim plot OUTDIR`: draws a run's, sweep's or comparison's plots from its CSV files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use lbsim::report::plot::{self, DirKind, Format, PlotError};

/// The plots' file format.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum PlotFormat {
    /// Scalable vector graphics.
    #[default]
    Svg,
    /// Bitmap (PNG), drawn with the bundled font.
    Png,
}

impl From<PlotFormat> for Format {
    fn from(f: PlotFormat) -> Format {
        match f {
            PlotFormat::Svg => Format::Svg,
            PlotFormat::Png => Format::Png,
        }
    }
}

const EXAMPLES: &str = "\
Examples:
  lbsim plot out/nasa-jul95
  lbsim plot out/sweep-delay --metric latency_p99_ms --metric fraction_5xx
  lbsim plot out/compare --format png

Draws into DIR/plots/: a run's dashboard.svg and latency_cdf.svg (from metrics.csv,
latency.csv, alarms.csv), a sweep's sweep_<metric>.svg and sweep.svg (from
sweep_summary.csv), a comparison's compare.svg (from compare.csv) beside its sweep plots.

Exit codes: 0 success, 1 a plot could not be drawn or written, 2 bad usage or bad input.";

/// Arguments of `lbsim plot`.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct PlotArgs {
    /// A run's (metrics.csv), sweep's (sweep_summary.csv) or comparison's (compare.csv)
    /// output directory.
    pub dir: PathBuf,
    /// File format of the plots.
    #[arg(long, value_enum, default_value_t = PlotFormat::Svg)]
    pub format: PlotFormat,
    /// A sweep's or comparison's metric to plot (repeatable) [default: latency_p99_ms,
    /// fraction_5xx, cost_total_usd, throughput_rps and the other key metrics present].
    #[arg(long = "metric", value_name = "NAME")]
    pub metrics: Vec<String>,
}

/// Runs `lbsim plot`.
pub fn plot(args: PlotArgs) -> ExitCode {
    match plot::plot_dir(&args.dir, args.format.into(), &args.metrics) {
        Ok((kind, files)) => {
            let what = match kind {
                DirKind::Run => "run",
                DirKind::Sweep => "sweep",
                DirKind::Compare => "comparison",
            };
            if files.is_empty() {
                super::say(&format!(
                    "Nothing to draw: the {what} in {} has no rows",
                    args.dir.display()
                ));
            }
            for f in files {
                super::say(&format!("Wrote {}", f.display()));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                PlotError::Write { .. } | PlotError::Draw { .. } => 1,
                _ => 2,
            })
        }
    }
}
