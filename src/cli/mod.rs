//! The command line: `lbsim run` and `lbsim validate`.
//!
//! Exit codes: 0 success; 1 a run failed (outputs could not be written, the model refused
//! the scenario) or broke one of its `[[assert]]` SLOs; 2 bad usage or bad input (clap's own errors, scenario errors).

mod artifacts;
mod check;
mod plot;
mod progress;
mod run;
mod signals;
mod sweep;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    Run(run::RunArgs),
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

/// Parses the arguments, runs the command, returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => sweep::merge(a),
        Command::Compare(a) => sweep::compare(a),
        Command::Plot(a) => plot::plot(a),
        Command::Check(a) => check::check(a),
    }
}

/// The default output directory of a scenario named `name`: `out/<name>`, with any
/// character but ASCII letters, digits, `.`, `_` and `-` replaced by `_` and a leading `.`
/// too, so that it is always one plain directory under `out/` (validation already refuses
/// other names in `simulation.name`; this is the second line of defence).
pub(crate) fn default_out(name: &str) -> PathBuf {
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert(0, '_');
    }
    PathBuf::from("out").join(safe)
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
            let est = lbsim::model::estimate::estimate(spec);
            extra.push_str(&format!(
                "; about {} requests, {} rows of metrics.csv",
                lbsim::model::estimate::sci(est.requests),
                lbsim::model::estimate::sci(est.metrics_rows)
            ));
            let over = est.over(&lbsim::model::estimate::Budget::default());
            for o in &over {
                eprintln!(
                    "warning: {}: {o}: `lbsim run` will refuse it without --force",
                    args.scenario.display()
                );
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

#[cfg(test)]
mod tests {
    use super::default_out;
    use std::path::{Component, PathBuf};

    #[test]
    fn default_output_directories_are_one_plain_directory_under_out() {
        for (name, want) in [
            ("nasa-jul95", "out/nasa-jul95"),
            ("/some/dir", "out/_some_dir"),
            ("..", "out/_.."),
            ("../../etc", "out/_.._.._etc"),
            ("a\\b", "out/a_b"),
            ("", "out/_"),
            (".hidden", "out/_.hidden"),
            ("café", "out/caf_"),
        ] {
            let p = default_out(name);
            assert_eq!(p, PathBuf::from(want), "{name:?}");
            assert_eq!(p.components().count(), 2, "{name:?}");
            assert!(
                p.components().all(|c| matches!(c, Component::Normal(_))),
                "{name:?}"
            );
        }
    }
}
