//! `lbsim check`: runs scenarios and compares them with golden files; SLO assertions.
//!
//! Each scenario runs with its own seed (and the golden's `set` overrides), in parallel;
//! its summary's flat metrics and `metrics.csv`'s figures are compared with the golden
//! (`lbsim::check`), and its `[[assert]]` SLOs are evaluated. Results print in the order
//! the scenarios were given. Exit 0 when everything passes, 1 on any regression or broken
//! assert (or a run that failed), 2 on bad input (a scenario that does not validate, a
//! missing or unreadable golden, a bad `--tolerance`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use rayon::prelude::*;

use lbsim::check::{self, DiffRow, Figures, GOLDEN_FORMAT, Golden, Status, Tolerances};
use lbsim::metrics::{FlatMetric, Recorder, RecorderOptions, Summary, flat_metrics};
use lbsim::model::Simulation;
use lbsim::scenario::{self, Scenario};

const EXAMPLES: &str = "\
Examples:
  lbsim check scenarios/
  lbsim check scenarios/nasa-jul95.toml --tolerance latency_p99_ms=2% --tolerance fraction_5xx=0.001
  lbsim check scenarios/ --bless
  lbsim check my.toml --golden ci/golden --bless --set simulation.duration=2h

Golden files: <GOLDEN DIR>/<scenario file stem>.json (default GOLDEN DIR: the scenario's
directory's golden/). Exit codes: 0 all pass, 1 a regression or a broken [[assert]],
2 bad input (including a missing golden: create it with --bless).";

/// Arguments of `lbsim check`.
#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// Scenario files, or directories of them (their .toml and .json files, not recursive).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Directory of the golden files [default: golden/ beside each scenario].
    #[arg(long, value_name = "DIR")]
    pub golden: Option<PathBuf>,
    /// Write (or rewrite) the golden files from these runs instead of comparing. Keeps a
    /// golden's `set` and `tolerances` unless --set or --tolerance are given, which replace
    /// them.
    #[arg(long)]
    pub bless: bool,
    /// Allowed change of a metric: METRIC=2% (of the golden value) or METRIC=0.001
    /// (absolute, in its unit); `*=1%` for every metric without its own. Repeatable;
    /// replaces the golden's tolerance for that metric. Exact by default.
    #[arg(long = "tolerance", value_name = "METRIC=TOL")]
    pub tolerances: Vec<String>,
    /// Override a field of every scenario, after the golden's own overrides (with --bless:
    /// stored in the golden). Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Show every compared figure, not only those that differ.
    #[arg(long)]
    pub all: bool,
    /// Keep each run's output files in DIR/<scenario file stem>/ [default: a temporary
    /// directory, removed].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// One scenario to check: where it is, its golden file, what was read.
struct Job {
    file: PathBuf,
    stem: String,
    golden_path: PathBuf,
    golden: Option<Golden>,
    sets: Vec<String>,
    scenario: Scenario,
    tolerances: Tolerances,
}

/// What a run gave.
struct Ran {
    summary: Summary,
    series: Vec<FlatMetric>,
    digest: String,
}

/// The scenario files named by `paths`, in order (a directory's sorted by name).
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file()
                        && f.extension()
                            .and_then(|x| x.to_str())
                            .is_some_and(|x| x == "toml" || x == "json")
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!(
                    "{}: no scenario files (.toml, .json) in this directory",
                    p.display()
                ));
            }
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

fn golden_path(args: &CheckArgs, file: &Path, stem: &str) -> PathBuf {
    let dir = match &args.golden {
        Some(d) => d.clone(),
        None => file.parent().unwrap_or(Path::new(".")).join("golden"),
    };
    dir.join(format!("{stem}.json"))
}

fn read_golden(path: &Path) -> Result<Option<Golden>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let g: Golden = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a golden file: {e}", path.display()))?;
    if g.format != GOLDEN_FORMAT {
        return Err(format!(
            "{}: golden format {} is not this lbsim's ({GOLDEN_FORMAT}); re-create it with --bless",
            path.display(),
            g.format
        ));
    }
    Ok(Some(g))
}

/// Reads the scenario and its golden; `Err` is a bad-input message.
fn prepare(args: &CheckArgs, cli_tol: &Tolerances, file: &Path) -> Result<Job, Vec<String>> {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario")
        .to_string();
    let gp = golden_path(args, file, &stem);
    let golden = match read_golden(&gp) {
        Ok(g) => g,
        // --bless replaces a golden it cannot read (an older format, a broken file).
        Err(e) if args.bless => {
            eprintln!("warning: {e}; --bless replaces it");
            None
        }
        Err(e) => return Err(vec![e]),
    };
    if golden.is_none() && !args.bless {
        return Err(vec![format!(
            "{}: no golden file for {}; create it with: lbsim check {} --bless{}",
            gp.display(),
            file.display(),
            file.display(),
            args.golden
                .as_ref()
                .map(|d| format!(" --golden {}", d.display()))
                .unwrap_or_default()
        )]);
    }
    let stored_sets = golden.as_ref().map(|g| g.set.clone()).unwrap_or_default();
    let sets = if args.bless && !args.sets.is_empty() {
        args.sets.clone()
    } else if args.bless {
        stored_sets
    } else {
        stored_sets.into_iter().chain(args.sets.clone()).collect()
    };
    let stored_tol = match &golden {
        Some(g) => Tolerances::from_golden(&g.tolerances)
            .map_err(|e| vec![format!("{}: {e}", gp.display())])?,
        None => Tolerances::default(),
    };
    let tolerances = if args.bless && !cli_tol.is_exact() {
        cli_tol.clone()
    } else {
        stored_tol.overridden_by(cli_tol)
    };
    let mut overrides = Vec::new();
    for s in &sets {
        overrides.push(scenario::overrides::parse(s).map_err(|m| vec![m])?);
    }
    let scenario = scenario::load(file, &overrides)
        .map_err(|e| e.0.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Ok(Job {
        file: file.to_path_buf(),
        stem,
        golden_path: gp,
        golden,
        sets,
        scenario,
        tolerances,
    })
}

/// Runs one scenario, its outputs in `dir`.
fn run_one(s: &Scenario, dir: &Path) -> Result<Ran, String> {
    let recorder = Recorder::new(RecorderOptions {
        out_dir: Some(dir.to_path_buf()),
    });
    let mut sim = Simulation::new(&s.spec, recorder).map_err(|e| e.to_string())?;
    sim.run();
    let (summary, outputs) = sim
        .into_observer()
        .finish()
        .map_err(|e| format!("writing outputs: {e}"))?;
    let path = outputs
        .map(|o| o.metrics)
        .unwrap_or_else(|| dir.join("metrics.csv"));
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (series, digest) = check::series(&bytes)?;
    Ok(Ran {
        summary,
        series,
        digest,
    })
}

fn run_in(job: &Job, out: Option<&Path>) -> Result<Ran, String> {
    match out {
        Some(d) => run_one(&job.scenario, &d.join(&job.stem)),
        None => {
            let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
            run_one(&job.scenario, tmp.path())
        }
    }
}

fn num(v: Option<Option<f64>>) -> String {
    match v {
        None => "—".into(),
        Some(None) => "null".into(),
        Some(Some(x)) => format!("{x}"),
    }
}

/// Decimal places of a figure as shown: a change is shown with as many as its two values,
/// so the difference's float noise (`-42.94100000000002`) is not shown.
fn decimals(v: Option<Option<f64>>) -> usize {
    num(v).split_once('.').map_or(0, |(_, d)| d.len())
}

fn diff_table(rows: &[&DiffRow]) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(vec![
            "metric",
            "golden",
            "actual",
            "change",
            "change %",
            "tolerance",
            "status",
        ]);
    for r in rows {
        t.add_row(vec![
            r.metric.clone(),
            num(r.golden),
            num(r.actual),
            r.change()
                .map(|c| format!("{c:+.*}", decimals(r.golden).max(decimals(r.actual))))
                .unwrap_or_else(|| "—".into()),
            r.change_pct()
                .map(|p| format!("{p:+.3}%"))
                .unwrap_or_else(|| "—".into()),
            r.tolerance
                .map(|t| t.to_string())
                .unwrap_or_else(|| "exact".into()),
            r.status.word().to_string(),
        ]);
    }
    for i in 1..=4 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
}

/// The broken asserts of a run, each as a message.
pub(crate) fn broken_asserts(s: &Scenario, summary: &Summary) -> Vec<String> {
    if s.asserts.is_empty() {
        return vec![];
    }
    let flat: BTreeMap<String, Option<f64>> = flat_metrics(summary).into_iter().collect();
    s.asserts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let v = flat.get(&a.metric).copied().flatten();
            a.broken_by(v)
                .map(|m| format!("[[assert]] {i} ({}): {m}", a.describe()))
        })
        .collect()
}

/// Compares one run with its golden, prints the verdict; true when it passes.
fn report(job: &Job, ran: &Ran, all: bool) -> bool {
    let Some(g) = &job.golden else {
        return false;
    };
    let mut rows = check::compare(&g.metrics.0, &flat_metrics(&ran.summary), &job.tolerances);
    rows.extend(check::compare(&g.series.0, &ran.series, &job.tolerances));
    let digest_same = g.metrics_csv_blake3 == ran.digest;
    let exact = job.tolerances.is_exact();
    let failed = rows.iter().filter(|r| r.status.fails()).count();
    let differ = rows
        .iter()
        .filter(|r| !matches!(r.status, Status::Same))
        .count();
    let digest_fails = exact && !digest_same;
    let broken = broken_asserts(&job.scenario, &ran.summary);
    let ok = failed == 0 && !digest_fails && broken.is_empty();
    let shown: Vec<&DiffRow> = rows
        .iter()
        .filter(|r| all || r.status != Status::Same)
        .collect();
    let csv_note = match (digest_same, exact) {
        (true, _) => "metrics.csv identical".to_string(),
        (false, true) => format!(
            "metrics.csv DIFFERS (blake3 {} in the golden, {} now)",
            &g.metrics_csv_blake3[..g.metrics_csv_blake3.len().min(12)],
            &ran.digest[..12]
        ),
        (false, false) => {
            "metrics.csv differs (not compared byte for byte: tolerances apply)".to_string()
        }
    };
    let mode = if exact { "exact" } else { "with tolerances" };
    let asserts = if job.scenario.asserts.is_empty() {
        String::new()
    } else {
        format!(
            "; {} of {} [[assert]] hold",
            job.scenario.asserts.len() - broken.len(),
            job.scenario.asserts.len()
        )
    };
    let verdict = if ok {
        format!(
            "ok — {} figures match {} ({mode}{}), {csv_note}{asserts}",
            rows.len(),
            job.golden_path.display(),
            if differ > 0 {
                format!(", {differ} within tolerance or new")
            } else {
                String::new()
            }
        )
    } else {
        format!(
            "FAIL — {failed} of {} figures differ from {} ({mode}), {csv_note}{asserts}",
            rows.len(),
            job.golden_path.display()
        )
    };
    super::say(&format!("{}: {verdict}", job.file.display()));
    if !shown.is_empty() {
        super::say(&diff_table(&shown));
    }
    if rows.iter().any(|r| r.status == Status::New) {
        super::say(&format!(
            "  note: figures new since the golden was blessed pass; add them with: lbsim check {} --bless",
            job.file.display()
        ));
    }
    for b in &broken {
        super::say(&format!("  broken {b}"));
    }
    ok
}

/// Writes a golden for one run; prints what it did.
fn bless(job: &Job, ran: &Ran) -> Result<(), String> {
    let g = Golden {
        format: GOLDEN_FORMAT,
        scenario: ran.summary.scenario.clone(),
        scenario_file: job
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        seed: ran.summary.seed,
        lbsim_version: lbsim::VERSION.to_string(),
        set: job.sets.clone(),
        tolerances: job.tolerances.to_golden(),
        metrics: Figures(flat_metrics(&ran.summary)),
        series: Figures(ran.series.clone()),
        metrics_csv_blake3: ran.digest.clone(),
    };
    if job.golden.as_ref() == Some(&g) {
        super::say(&format!(
            "{}: {} unchanged",
            job.file.display(),
            job.golden_path.display()
        ));
        return Ok(());
    }
    if let Some(dir) = job.golden_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    lbsim::metrics::write_json_atomic(&job.golden_path, &g).map_err(|e| e.to_string())?;
    super::say(&format!(
        "{}: wrote {}",
        job.file.display(),
        job.golden_path.display()
    ));
    Ok(())
}

/// Runs `lbsim check`.
pub fn check(args: CheckArgs) -> ExitCode {
    let cli_tol = match Tolerances::parse_pairs(args.tolerances.iter().map(String::as_str)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for s in &args.sets {
        if let Err(m) = scenario::overrides::parse(s) {
            eprintln!("error: {m}");
            return ExitCode::from(2);
        }
    }
    let files = match scenario_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut bad_input = false;
    let mut jobs = Vec::new();
    let mut seen: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for f in &files {
        match prepare(&args, &cli_tol, f) {
            Ok(j) => {
                if let Some(other) = seen.insert(j.golden_path.clone(), f.clone()) {
                    eprintln!(
                        "error: {} and {} would share the golden file {}; check them with different --golden directories",
                        other.display(),
                        f.display(),
                        j.golden_path.display()
                    );
                    bad_input = true;
                } else {
                    jobs.push(j);
                }
            }
            Err(errs) => {
                bad_input = true;
                for e in errs {
                    eprintln!("error: {e}");
                }
            }
        }
    }
    if bad_input {
        eprintln!("lbsim check: bad input; nothing was run");
        return ExitCode::from(2);
    }
    let out = args.out.as_deref();
    let results: Vec<Result<Ran, String>> = jobs.par_iter().map(|j| run_in(j, out)).collect();
    let (mut passed, mut failed) = (0usize, 0usize);
    for (job, res) in jobs.iter().zip(&results) {
        let ok = match res {
            Err(e) => {
                eprintln!("error: {}: the run failed: {e}", job.file.display());
                false
            }
            Ok(ran) if args.bless => match bless(job, ran) {
                Ok(()) => {
                    let broken = broken_asserts(&job.scenario, &ran.summary);
                    for b in &broken {
                        super::say(&format!("  broken {b}"));
                    }
                    broken.is_empty()
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    false
                }
            },
            Ok(ran) => report(job, ran, args.all),
        };
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    let what = if args.bless { "blessed" } else { "passed" };
    super::say(&format!(
        "lbsim check: {} scenario(s), {passed} {what}, {failed} failed",
        jobs.len()
    ));
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
