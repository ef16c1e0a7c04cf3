//! `lbsim sweep`, `lbsim merge` and `lbsim compare`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use lbsim::metrics::KEY_METRICS;
use lbsim::scenario::{self, Override};
use lbsim::sweep::{
    self, Comparison, PlanKind, Prepared, RunTable, Stats, SweepError, SweepPlan, Vary,
};

use super::artifacts::{self, ArtifactOptions};
use super::{default_out, say};

const SWEEP_EXAMPLES: &str = "\
Examples:
  lbsim sweep scenarios/deploy-502.toml --vary target_groups.0.deregistration_delay=0s..300s:60s --replications 10
  lbsim sweep scenarios/nasa-jul95.toml --duration 2h \\
      --vary target_groups.0.algorithm=round_robin,least_outstanding_requests --vary services.0.desired_count=2..4
  lbsim sweep S.toml --vary ... --shard 0/4 --out sweep/shard-0    (then: lbsim merge sweep/shard-* --out sweep/all)

Replication r runs with seed (scenario seed + r) at every point: common random numbers, so
differences between points are paired. Rerunning into the same --out skips finished runs.";

const COMPARE_EXAMPLES: &str = "\
Examples:
  lbsim compare a.toml b.toml --replications 20
  lbsim compare scenarios/nasa-jul95.toml --duration 2h \\
      --vary target_groups.0.algorithm=round_robin,least_outstanding_requests

The first alternative is the baseline; each other one is compared with it over paired
replications (the same seeds): mean difference and its 95 % confidence interval (Student's t).";

/// What every sweep-like command shares.
#[derive(Args, Debug)]
pub struct RunGridArgs {
    /// Override a field by its dotted path for every run, e.g. --set services.0.desired_count=4.
    /// Repeatable; applied in order, before --vary.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Replications per point (seeds base, base+1, ...).
    #[arg(long, short = 'r', default_value_t = 10, value_name = "R")]
    replications: u32,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, short = 'j', default_value_t = 0, value_name = "J")]
    jobs: usize,
    /// Base seed: replication r uses seed+r [default: the scenario's simulation.seed].
    #[arg(long)]
    seed: Option<u64>,
    /// Simulated duration of every run, e.g. 30m (same as --set simulation.duration=D).
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// Do not write report.html.
    #[arg(long)]
    no_report: bool,
    /// Print nothing but errors (no progress bar, no table).
    #[arg(long, short)]
    quiet: bool,
    /// Run even if a run's work estimate is over the budget (10⁹ requests or 1 GB of
    /// output per run).
    #[arg(long)]
    force: bool,
}

/// Arguments of `lbsim sweep`.
#[derive(Args, Debug)]
#[command(after_help = SWEEP_EXAMPLES)]
pub struct SweepArgs {
    /// Scenario file (.toml or .json).
    pub scenario: PathBuf,
    /// A parameter and its values: PATH=V1,V2,... with ranges such as 0s..300s:30s, 1..8
    /// or 0.1..0.5:0.1. Repeatable: the grid is every combination, the first --vary outermost.
    #[arg(long, value_name = "PATH=VALUES")]
    vary: Vec<String>,
    #[command(flatten)]
    grid: RunGridArgs,
    /// Run only shard K of N (0 ≤ K < N): runs whose index is K modulo N. Combine the shards'
    /// directories with `lbsim merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Output directory [default: out/<scenario name>-sweep].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A metric to show in the table besides the default ones (repeatable; any flat name of
    /// sweep.csv, e.g. requests_elb_502_deregistration_delay).
    #[arg(long, value_name = "NAME")]
    metric: Vec<String>,
}

/// Arguments of `lbsim merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' output directories (each written by `lbsim sweep --shard K/N`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Do not write report.html.
    #[arg(long)]
    no_report: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// Arguments of `lbsim compare`.
#[derive(Args, Debug)]
#[command(after_help = COMPARE_EXAMPLES)]
pub struct CompareArgs {
    /// Scenario files: two or more alternatives, or one with --vary.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// With one scenario: the alternatives, as PATH=V1,V2,... (one --vary only).
    #[arg(long, value_name = "PATH=VALUES")]
    vary: Option<String>,
    #[command(flatten)]
    grid: RunGridArgs,
    /// A metric to show besides the key ones (repeatable; any flat name of sweep.csv).
    #[arg(long, value_name = "NAME")]
    metric: Vec<String>,
    /// Output directory [default: out/compare-<alternatives>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn fail(e: &SweepError) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        SweepError::Scenario { .. } | SweepError::Usage(_) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

fn overrides(grid: &RunGridArgs) -> Result<Vec<Override>, ExitCode> {
    let mut texts = grid.sets.clone();
    if let Some(d) = &grid.duration {
        texts.push(format!("simulation.duration=\"{}\"", d.replace('"', "")));
    }
    texts
        .iter()
        .map(|t| scenario::overrides::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| {
            eprintln!("error: {m}");
            ExitCode::from(2)
        })
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {s}: expected K/N with 0 ≤ K < N, e.g. --shard 0/4");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: usize = k.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

fn progress(total: usize, quiet: bool) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total as u64), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {pos}/{len} runs · {per_sec} · {elapsed} elapsed · ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Runs a prepared plan into `out` (a shard of it with `shard`), with a progress bar.
fn execute(
    prepared: &Prepared,
    out: &Path,
    grid: &RunGridArgs,
    shard: (usize, usize),
) -> Result<sweep::Executed, SweepError> {
    let total = prepared.plan.shard(shard.0, shard.1).count();
    let bar = progress(total, grid.quiet);
    let done = || bar.inc(1);
    let r = sweep::execute(prepared, out, grid.jobs, shard, &done);
    bar.finish_and_clear();
    r
}

/// Writes the CSV files, plots and report of the finished sweep in `out`.
fn finish_sweep(
    out: &Path,
    plan: &SweepPlan,
    report: bool,
    metrics: &[String],
) -> Result<(RunTable, Vec<PathBuf>), ExitCode> {
    let table = RunTable::read(out, plan).map_err(|e| fail(&e))?;
    let mut files = sweep::write_sweep_csvs(out, plan, &table).map_err(|e| fail(&e))?;
    if plan.kind == PlanKind::Compare {
        let rows = sweep::comparisons(plan, &table);
        files.push(sweep::write_compare_csv(out, &rows).map_err(|e| fail(&e))?);
    }
    let opts = ArtifactOptions { report, metrics };
    let extra = match plan.kind {
        PlanKind::Sweep => artifacts::after_sweep(out, opts),
        PlanKind::Compare => artifacts::after_compare(out, opts),
    };
    match extra {
        Ok(f) => files.extend(f),
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(1));
        }
    }
    Ok((table, files))
}

/// `12.3 ± 0.4`, with digits for the size of the number.
fn mean_ci(s: &Stats) -> String {
    match (s.mean, s.ci95_half) {
        (Some(m), Some(h)) => format!("{} ± {}", num(m), num(h)),
        (Some(m), None) => num(m),
        _ => "–".into(),
    }
}

fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.01 {
        format!("{x:.3}")
    } else {
        format!("{x:.2e}")
    }
}

fn sweep_table(plan: &SweepPlan, table: &RunTable, extra: &[String]) -> String {
    let mut metrics = vec![
        "latency_p99_ms",
        "fraction_5xx",
        "throughput_rps",
        "cost_total_usd",
    ];
    metrics.extend(extra.iter().map(String::as_str));
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec!["point".to_string()];
    header.extend(metrics.iter().map(|m| m.to_string()));
    t.set_header(header);
    for p in &plan.points {
        let mut row = vec![p.label.clone()];
        for &m in &metrics {
            let s = table.column(m).map(|c| {
                Stats::of(
                    &table
                        .point_values(plan, p.point, c)
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>(),
                )
            });
            row.push(s.as_ref().map_or("–".into(), mean_ci));
        }
        t.add_row(row);
    }
    for c in 1..1 + metrics.len() {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    format!(
        "Mean ± half-width of the 95 % confidence interval over {} replications (Student's t):\n{t}",
        plan.replications
    )
}

fn compare_table(plan: &SweepPlan, rows: &[Comparison], extra: &[String]) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let base = plan.points.first().map_or("", |p| p.label.as_str());
    let mut header = vec!["metric".to_string(), format!("{base} (baseline)")];
    for p in plan.points.iter().skip(1) {
        header.push(p.label.clone());
        header.push(if plan.points.len() == 2 {
            "difference (95% CI)".to_string()
        } else {
            format!("{} − baseline (95% CI)", p.label)
        });
    }
    t.set_header(header);
    let wanted: Vec<&str> = KEY_METRICS
        .iter()
        .copied()
        .chain(extra.iter().map(String::as_str))
        .collect();
    for m in wanted {
        let mine: Vec<&Comparison> = rows.iter().filter(|c| c.metric == m).collect();
        let Some(first) = mine.first() else {
            continue;
        };
        let mut row = vec![m.to_string(), mean_ci(&first.baseline_stats)];
        for c in &mine {
            row.push(mean_ci(&c.alternative_stats));
            let d = match (c.diff.mean, c.diff.low(), c.diff.high()) {
                (Some(d), Some(l), Some(h)) => format!(
                    "{} [{}, {}]{}",
                    num(d),
                    num(l),
                    num(h),
                    if c.significant() {
                        " significant"
                    } else {
                        " not significant"
                    }
                ),
                (Some(d), _, _) => num(d),
                _ => "–".into(),
            };
            row.push(d);
        }
        t.add_row(row);
    }
    t.to_string()
}

/// Runs `lbsim sweep`.
pub fn sweep(args: SweepArgs) -> ExitCode {
    let sets = match overrides(&args.grid) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let vary: Vec<Vary> = match args.vary.iter().map(|v| sweep::parse_vary(v)).collect() {
        Ok(v) => v,
        Err(m) => {
            eprintln!("error: {m}");
            return ExitCode::from(2);
        }
    };
    let shard = match args.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s.unwrap_or((0, 1)),
        Err(m) => {
            eprintln!("error: {m}");
            return ExitCode::from(2);
        }
    };
    let prepared = match sweep::sweep_plan(
        &args.scenario,
        &sets,
        &vary,
        args.grid.replications,
        args.grid.seed,
    ) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&format!("{}-sweep", prepared.plan.scenario)));
    run_and_finish(&prepared, &out, &args.grid, shard, &args.metric)
}

fn run_and_finish(
    prepared: &Prepared,
    out: &Path,
    grid: &RunGridArgs,
    shard: (usize, usize),
    extra_metrics: &[String],
) -> ExitCode {
    if !grid.force
        && let Some(code) = over_budget(prepared)
    {
        return code;
    }
    let started = Instant::now();
    let done = match execute(prepared, out, grid, shard) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let plan = &prepared.plan;
    let ran = format!(
        "{} runs ({} points × {} replications{}): {} run now in {:.1} s, {} already finished",
        done.in_shard,
        plan.points.len(),
        plan.replications,
        if shard.1 > 1 {
            format!("; shard {}/{}", shard.0, shard.1)
        } else {
            String::new()
        },
        done.ran,
        started.elapsed().as_secs_f64(),
        done.skipped
    );
    if done.incomplete > 0 {
        eprintln!(
            "warning: {} run(s) stopped before their end (unstable: more requests in flight than the model's limit); their runs/<id>.json say \"complete\": false and why, and their figures cover only the time reached",
            done.incomplete
        );
    }
    if shard.1 > 1 {
        if !grid.quiet {
            say(&ran);
            say(&format!(
                "Wrote {} and {}; combine the shards with: lbsim merge <shard dirs> --out DIR",
                out.join("sweep.json").display(),
                out.join("runs").display()
            ));
        }
        return ExitCode::SUCCESS;
    }
    let (table, files) = match finish_sweep(out, plan, !grid.no_report, extra_metrics) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if !grid.quiet {
        say(&ran);
        match plan.kind {
            PlanKind::Sweep => say(&sweep_table(plan, &table, extra_metrics)),
            PlanKind::Compare => say(&compare_table(
                plan,
                &sweep::comparisons(plan, &table),
                extra_metrics,
            )),
        }
        for f in files {
            say(&format!("Wrote {}", f.display()));
        }
    }
    ExitCode::SUCCESS
}

/// Refuses (exit 2) a plan one of whose points is over the work budget, naming the point,
/// the estimate and `--force`.
fn over_budget(prepared: &Prepared) -> Option<ExitCode> {
    use lbsim::model::estimate::{Budget, estimate};
    for (i, spec) in prepared.specs.iter().enumerate() {
        let over = estimate(spec).over(&Budget::default());
        if !over.is_empty() {
            eprintln!(
                "error: {}: a run of point {i} is over lbsim's budget:",
                prepared.plan.scenario_file
            );
            for o in &over {
                eprintln!("  {o}");
            }
            eprintln!(
                "  Shorten simulation.duration, lower the rates or lengthen simulation.metrics_interval; or pass --force to run it anyway."
            );
            return Some(ExitCode::from(2));
        }
    }
    None
}

/// Runs `lbsim merge`.
pub fn merge(args: MergeArgs) -> ExitCode {
    let started = Instant::now();
    let plan = match sweep::merge(&args.dirs, &args.out) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let (table, files) = match finish_sweep(&args.out, &plan, !args.no_report, &[]) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if !args.quiet {
        say(&format!(
            "Merged {} shard directories: {} runs in {:.2} s",
            args.dirs.len(),
            plan.runs.len(),
            started.elapsed().as_secs_f64()
        ));
        if plan.kind == PlanKind::Sweep {
            say(&sweep_table(&plan, &table, &[]));
        }
        for f in files {
            say(&format!("Wrote {}", f.display()));
        }
    }
    ExitCode::SUCCESS
}

/// Runs `lbsim compare`.
pub fn compare(args: CompareArgs) -> ExitCode {
    let sets = match overrides(&args.grid) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let prepared = match (&args.scenarios[..], &args.vary) {
        ([one], Some(v)) => {
            let vary = match sweep::parse_vary(v) {
                Ok(v) => v,
                Err(m) => {
                    eprintln!("error: {m}");
                    return ExitCode::from(2);
                }
            };
            if vary.values.len() < 2 {
                eprintln!("error: --vary {v}: a comparison needs at least two values");
                return ExitCode::from(2);
            }
            sweep::sweep_plan(one, &sets, &[vary], args.grid.replications, args.grid.seed).map(
                |mut p| {
                    p.plan.kind = PlanKind::Compare;
                    p
                },
            )
        }
        ([_], None) => {
            eprintln!(
                "error: lbsim compare needs two or more scenario files, or one with --vary PATH=V1,V2"
            );
            return ExitCode::from(2);
        }
        (_, Some(_)) => {
            eprintln!("error: --vary compares the values of one scenario; give one scenario file");
            return ExitCode::from(2);
        }
        (files, None) => sweep::files_plan(files, &sets, args.grid.replications, args.grid.seed),
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let labels: Vec<String> = prepared
            .plan
            .points
            .iter()
            .map(|p| {
                p.values
                    .values()
                    .next()
                    .cloned()
                    .unwrap_or_default()
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect()
            })
            .collect();
        default_out(&format!("compare-{}", labels.join("-vs-")))
    });
    run_and_finish(&prepared, &out, &args.grid, (0, 1), &args.metric)
}
