//! `lbsim run`: budget check, the run (with progress, the in-flight limit and
//! interruption), its outputs, the summary table and the `[[assert]]` verdict.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use lbsim::metrics::{Recorder, RecorderOptions, StagedDir};
use lbsim::model::estimate::{self, Budget};
use lbsim::model::{DEFAULT_MAX_IN_FLIGHT, RunStop, Simulation};
use lbsim::scenario::Scenario;

use super::progress::RunProgress;
use super::signals::Interrupts;
use super::{ScenarioArgs, artifacts, check, load, say, table};

/// Arguments of `lbsim run`.
#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Master seed (same as --set simulation.seed=N).
    #[arg(long)]
    seed: Option<u64>,
    /// Simulated duration, e.g. 30m or 2h (same as --set simulation.duration=D).
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// Output directory [default: out/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace an output directory that holds another scenario's or seed's outputs.
    #[arg(long)]
    overwrite: bool,
    /// Run even if the work estimate is over the budget (10⁹ requests or 1 GB of output).
    #[arg(long)]
    force: bool,
    /// Stop the run as unstable when more requests than this are in flight at once
    /// (bounds memory: about 150 MB per million).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_IN_FLIGHT)]
    max_in_flight: u64,
    /// Print nothing but errors (no progress bar, no table).
    #[arg(long, short)]
    quiet: bool,
    /// Do not write report.html.
    #[arg(long)]
    no_report: bool,
}

/// Refuses (exit 2) a scenario whose work estimate is over the budget, naming the estimate
/// and `--force`; `None` when it may run.
pub(crate) fn over_budget(scenario: &Scenario, what: &str, force: bool) -> Option<ExitCode> {
    let over = estimate::estimate(&scenario.spec).over(&Budget::default());
    if over.is_empty() || force {
        return None;
    }
    eprintln!(
        "error: {}: {what} is over lbsim's budget:",
        scenario.path.display()
    );
    for o in &over {
        eprintln!("  {o}");
    }
    eprintln!(
        "  Shorten simulation.duration, lower the rates or lengthen simulation.metrics_interval; or pass --force to run it anyway."
    );
    Some(ExitCode::from(2))
}

pub(crate) fn run(args: RunArgs) -> ExitCode {
    let mut extra = Vec::new();
    if let Some(seed) = args.seed {
        extra.push(format!("simulation.seed={seed}"));
    }
    if let Some(d) = &args.duration {
        // Quoted so that it is always read as a string and checked as a duration.
        extra.push(format!("simulation.duration=\"{}\"", d.replace('"', "")));
    }
    let scenario = match load(&args.scenario, extra) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(code) = over_budget(&scenario, "this run", args.force) {
        return code;
    }
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| super::default_out(&scenario.spec.name));
    // Written into a hidden sibling, put in place whole at the end (see metrics::staging).
    let staged = match StagedDir::begin(
        &out_dir,
        &scenario.spec.name,
        scenario.spec.seed,
        args.overwrite,
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let recorder = Recorder::new(RecorderOptions {
        out_dir: Some(staged.path().to_path_buf()),
    });
    let started = Instant::now();
    let mut sim = match Simulation::new(&scenario.spec, recorder) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", scenario.path.display());
            return ExitCode::from(1);
        }
    };
    sim.set_max_in_flight(args.max_in_flight);
    let interrupts = Interrupts::install();
    let mut progress = RunProgress::new(scenario.spec.duration.as_secs_f64(), args.quiet);
    let stats = sim.run_with(|s| {
        progress.update(s.now().as_secs_f64(), s.stats().arrived);
        interrupts.received().is_none()
    });
    progress.finish();
    let wall = started.elapsed();
    let stop = sim.stopped().cloned();
    let stop_text = stop.as_ref().map(|s| match (s, interrupts.received()) {
        (RunStop::Requested { at }, Some((sig, _))) => {
            format!("interrupted by {sig} at t = {:.1} s", at.as_secs_f64())
        }
        (s, _) => s.to_string(),
    });
    let mut recorder = sim.into_observer();
    if let Some(t) = &stop_text {
        recorder.note_stop(t);
    }
    let (summary, outputs) = match recorder.finish() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: writing outputs: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(o) = &outputs
        && let Err(e) =
            lbsim::metrics::write_json_atomic(&o.dir.join("scenario.json"), &scenario.document)
    {
        eprintln!("error: writing outputs: {e}");
        return ExitCode::from(1);
    }
    let artifacts = match &outputs {
        Some(o) => match artifacts::after_run(
            &o.dir,
            artifacts::ArtifactOptions {
                report: !args.no_report,
                metrics: &[],
            },
        ) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        },
        None => vec![],
    };
    let target = match staged.commit() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: writing outputs: {e}");
            return ExitCode::from(1);
        }
    };
    // Name the files where they now are.
    let moved = |p: &std::path::Path| match p.file_name() {
        Some(n) => target.join(n),
        None => target.clone(),
    };
    let outputs = outputs.map(|mut o| {
        for f in [
            &mut o.summary,
            &mut o.metrics,
            &mut o.events,
            &mut o.dependencies,
            &mut o.cloudwatch,
            &mut o.alarms,
            &mut o.latency,
        ] {
            *f = moved(f);
        }
        o.dir = target.clone();
        o
    });
    let artifacts: Vec<PathBuf> = artifacts
        .iter()
        .map(|f| match f.parent().and_then(|d| d.file_name()) {
            Some(d) if d == "plots" => target.join("plots").join(f.file_name().unwrap_or_default()),
            _ => moved(f),
        })
        .collect();
    if !args.quiet {
        say(&table::render(&summary, &stats, wall));
        if let Some(o) = &outputs {
            say(&format!(
                "Wrote {}, {}, {}, {}, {}, {}, {} and scenario.json (the scenario with its --set overrides)",
                o.summary.display(),
                o.metrics.display(),
                o.events.display(),
                o.dependencies.display(),
                o.cloudwatch.display(),
                o.alarms.display(),
                o.latency.display()
            ));
            for f in artifacts {
                say(&format!("Wrote {}", f.display()));
            }
        }
    }
    if let Some(text) = &stop_text {
        let dir = outputs
            .as_ref()
            .map_or(String::new(), |o| format!(" in {}", o.dir.display()));
        eprintln!(
            "error: {}: {text}. Partial outputs{dir} (summary.json: \"complete\": false).",
            scenario.path.display()
        );
        if let Some(RunStop::Unstable { .. }) = &stop {
            eprintln!(
                "  The offered load is more than the tasks can serve and nothing sheds it: add tasks or vCPUs, lower the rate, or raise --max-in-flight."
            );
        }
        return match interrupts.received() {
            Some((_, code)) => ExitCode::from(code),
            None => ExitCode::from(1),
        };
    }
    slo_verdict(&scenario, &summary, args.quiet)
}

/// Evaluates the scenario's `[[assert]]` SLOs on the run: 1 naming each broken one (measured
/// value against its bound), else 0.
fn slo_verdict(scenario: &Scenario, summary: &lbsim::metrics::Summary, quiet: bool) -> ExitCode {
    let broken = check::broken_asserts(scenario, summary);
    for b in &broken {
        eprintln!("error: {}: broken {b}", scenario.path.display());
    }
    if !broken.is_empty() {
        return ExitCode::from(1);
    }
    if !quiet && !scenario.asserts.is_empty() {
        say(&format!("All {} [[assert]] hold", scenario.asserts.len()));
    }
    ExitCode::SUCCESS
}
