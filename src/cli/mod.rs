//! The command line: `lbsim run` and `lbsim validate`.
//!
//! Exit codes: 0 success; 1 a run failed (outputs could not be written, the model refused
//! the scenario) or broke one of its `[[assert]]` SLOs; 2 bad usage or bad input (clap's own errors, scenario errors).

mod artifacts;
mod check;
mod plot;
mod sweep;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::Simulation;
use lbsim::scenario::{self, Override, Scenario, ScenarioErrors};

const EXAMPLES: &str = "\
Examples:
  lbsim run scenarios/nasa-jul95.toml
  lbsim run scenarios/nasa-jul95.toml --set target_groups.0.algorithm=least_outstanding_requests
  lbsim run scenarios/nasa-jul95.toml --seed 7 --duration 2h --out out/short
  lbsim validate scenarios/nasa-jul95.toml

Exit codes: 0 success, 1 runtime failure or a broken [[assert]], 2 bad usage or bad input.";

/// lbsim: a deterministic discrete-event simulator of HTTP load balancing (AWS ALB) in
/// front of ECS/Fargate services.
#[derive(Parser, Debug)]
#[command(name = "lbsim", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario; write summary.json, the CSV files (metrics, events, dependencies,
    /// cloudwatch, alarms, latency), scenario.json, plots/ and report.html; print a summary.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Check a scenario file (and the files it names) without running it.
    #[command(after_help = EXAMPLES)]
    Validate(ScenarioArgs),
    /// Run a grid of parameter values, several replications each, in parallel; write
    /// sweep.csv and sweep_summary.csv.
    Sweep(sweep::SweepArgs),
    /// Combine the shard directories of a sharded sweep into one sweep.
    Merge(sweep::MergeArgs),
    /// Compare scenarios (or the values of one --vary) over paired replications.
    Compare(sweep::CompareArgs),
    /// Draw the plots of a run's, sweep's or comparison's output directory from its CSV files.
    Plot(plot::PlotArgs),
    /// Run scenarios and compare their results with golden files and their [[assert]] SLOs.
    Check(check::CheckArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ScenarioArgs {
    /// Scenario file (.toml, or .json).
    pub(crate) scenario: PathBuf,
    /// Override a field by its dotted path, e.g. --set services.0.desired_count=4 or
    /// --set target_groups.web.algorithm=random. Repeatable; applied in order.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub(crate) sets: Vec<String>,
}

#[derive(Args, Debug)]
struct RunArgs {
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
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Do not write report.html.
    #[arg(long)]
    no_report: bool,
}

/// Parses the arguments, runs the command, returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(a) => run(a),
        Command::Validate(a) => validate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => sweep::merge(a),
        Command::Compare(a) => sweep::compare(a),
        Command::Plot(a) => plot::plot(a),
        Command::Check(a) => check::check(a),
    }
}

/// Prints a line on stdout. A closed pipe (`lbsim run ... | head -1`) is not an error worth
/// a panic: the rest of the output is dropped.
pub(crate) fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

pub(crate) fn bad_input(e: &ScenarioErrors) -> ExitCode {
    let n = e.0.len();
    eprintln!(
        "error: invalid scenario ({n} problem{})",
        if n == 1 { "" } else { "s" }
    );
    for err in &e.0 {
        eprintln!("  {err}");
    }
    ExitCode::from(2)
}

pub(crate) fn load(args: &ScenarioArgs, extra: Vec<String>) -> Result<Scenario, ExitCode> {
    let mut sets = Vec::new();
    for s in args.sets.iter().chain(extra.iter()) {
        match scenario::overrides::parse(s) {
            Ok(o) => sets.push(o),
            Err(m) => {
                eprintln!("error: {m}");
                return Err(ExitCode::from(2));
            }
        }
    }
    scenario::load(&args.scenario, &sets as &[Override]).map_err(|e| bad_input(&e))
}

fn validate(args: ScenarioArgs) -> ExitCode {
    match load(&args, vec![]) {
        Ok(s) => {
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            let spec = &s.spec;
            let tasks: u32 = spec.services.iter().map(|s| s.desired_count).sum();
            let mut extra = String::new();
            if !spec.dependencies.is_empty() || !spec.faults.is_empty() {
                extra = format!(
                    ", {} dependency(ies), {} fault(s)",
                    spec.dependencies.len(),
                    spec.faults.len()
                );
            }
            for svc in &spec.services {
                if let Some(a) = &svc.auto_scaling {
                    extra.push_str(&format!(
                        "; service {} auto scales {}–{} tasks ({} target tracking, {} step, {} scheduled)",
                        svc.name,
                        a.min_capacity,
                        a.max_capacity,
                        a.target_tracking.len(),
                        a.step_scaling.len(),
                        a.scheduled_actions.len()
                    ));
                }
            }
            say(&format!(
                "{}: ok — scenario \"{}\", {} of simulated time, {} client(s), {} target group(s), {} service(s), {} task(s){extra}",
                args.scenario.display(),
                spec.name,
                spec.duration,
                spec.clients.len(),
                spec.target_groups.len(),
                spec.services.len(),
                tasks
            ));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn run(args: RunArgs) -> ExitCode {
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
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(&scenario.spec.name));
    let recorder = Recorder::new(RecorderOptions {
        out_dir: Some(out_dir),
    });
    let started = Instant::now();
    let mut sim = match Simulation::new(&scenario.spec, recorder) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", scenario.path.display());
            return ExitCode::from(1);
        }
    };
    let stats = sim.run();
    let wall = started.elapsed();
    let (summary, outputs) = match sim.into_observer().finish() {
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
    if !args.quiet {
        say(&table::render(&summary, &stats, wall));
        if let Some(o) = outputs {
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
