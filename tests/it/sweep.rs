//! `lbsim sweep`, `lbsim merge` and `lbsim compare`: the files a user reads (sweep.csv,
//! sweep_summary.csv, compare.csv), byte-identical whatever the thread count, the sharding or
//! an interruption; common random numbers; confidence intervals against queueing theory.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::cli::{BASE, lbsim, text, write};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every file under `dir` (relative path → bytes), except plots and the report.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(d).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if rel.starts_with("plots") || rel.ends_with("report.html") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for (k, v) in &ta {
        assert!(
            v == &tb[k],
            "{} differs between {} and {}",
            k.display(),
            a.display(),
            b.display()
        );
    }
}

/// Rows of a CSV file as maps column → cell.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    super::support::read_metrics_csv(path)
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

fn sweep(args: &[&str]) -> String {
    let o = lbsim(&[&["sweep"], args].concat());
    let t = text(&o);
    assert!(o.status.success(), "lbsim sweep {args:?} failed:\n{t}");
    t
}

const GRID: [&str; 6] = [
    "--vary",
    "services.0.desired_count=1..3",
    "--vary",
    "target_groups.0.algorithm=round_robin,least_outstanding_requests",
    "--replications",
    "3",
];

#[test]
fn outputs_do_not_depend_on_the_number_of_jobs_and_rows_are_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(&dir, "s.toml", BASE);
    let (one, two) = (dir.path().join("j1"), dir.path().join("j2"));
    sweep(&[&[p(&s), "--jobs", "1", "--out", p(&one)], &GRID[..]].concat());
    let out = sweep(&[&[p(&s), "--jobs", "2", "--out", p(&two)], &GRID[..]].concat());
    assert_same_tree(&one, &two);
    assert!(out.contains("18 runs (6 points × 3 replications)"), "{out}");

    let runs = rows(&two.join("sweep.csv"));
    assert_eq!(runs.len(), 18);
    // First vary outermost, replications innermost; seeds base + r (the file's seed is 3).
    assert_eq!(runs[0]["services.0.desired_count"], "1");
    assert_eq!(runs[0]["target_groups.0.algorithm"], "round_robin");
    assert_eq!(
        runs[3]["target_groups.0.algorithm"],
        "least_outstanding_requests"
    );
    assert_eq!(runs[6]["services.0.desired_count"], "2");
    let seeds: Vec<&str> = runs.iter().take(6).map(|r| r["seed"].as_str()).collect();
    assert_eq!(seeds, ["3", "4", "5", "3", "4", "5"]);
    // More tasks, lower CPU utilisation: the varied value reached the model.
    let cpu = |i: usize| num(&runs[i], "cpu_utilization_mean_pct");
    assert!(
        cpu(0) > cpu(6) && cpu(6) > cpu(12),
        "{} {} {}",
        cpu(0),
        cpu(6),
        cpu(12)
    );

    let summary = rows(&two.join("sweep_summary.csv"));
    let p99: Vec<_> = summary
        .iter()
        .filter(|r| r["metric"] == "latency_p99_ms")
        .collect();
    assert_eq!(p99.len(), 6);
    for (point, r) in p99.iter().enumerate() {
        assert_eq!(r["point"], point.to_string());
        assert_eq!(r["n"], "3");
        let xs: Vec<f64> = runs
            .iter()
            .filter(|x| x["point"] == point.to_string())
            .map(|x| num(x, "latency_p99_ms"))
            .collect();
        let mean = xs.iter().sum::<f64>() / 3.0;
        assert!((num(r, "mean") - mean).abs() < 1e-6, "{r:?} vs {xs:?}");
        assert!(num(r, "ci95_low") <= mean && mean <= num(r, "ci95_high"));
    }
}

/// Replication r of a sweep point is `lbsim run --seed base+r` with the point's values:
/// the same seed at every point (common random numbers).
#[test]
fn a_sweep_run_is_the_single_run_with_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(&dir, "s.toml", BASE);
    let sw = dir.path().join("sw");
    sweep(&[
        p(&s),
        "--vary",
        "services.0.desired_count=2,3",
        "-r",
        "2",
        "--out",
        p(&sw),
    ]);
    let run_dir = dir.path().join("run");
    let o = lbsim(&[
        "run",
        p(&s),
        "--seed",
        "4",
        "--set",
        "services.0.desired_count=3",
        "--out",
        p(&run_dir),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let runs = rows(&sw.join("sweep.csv"));
    let row = runs
        .iter()
        .find(|r| r["services.0.desired_count"] == "3" && r["replication"] == "1")
        .unwrap();
    assert_eq!(row["seed"], "4");
    let single = fs::read(run_dir.join("summary.json")).unwrap();
    let in_sweep = fs::read(sw.join("runs").join(format!("{}.json", row["run_id"]))).unwrap();
    assert_eq!(single, in_sweep, "the sweep's run differs from lbsim run");
}

#[test]
fn shards_merge_into_the_same_files_as_one_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(&dir, "s.toml", BASE);
    let whole = dir.path().join("whole");
    sweep(&[&[p(&s), "--out", p(&whole)], &GRID[..]].concat());
    let mut shards = Vec::new();
    for k in 0..4 {
        let d = dir.path().join(format!("shard-{k}"));
        let shard = format!("{k}/4");
        let out = sweep(&[&[p(&s), "--shard", &shard, "--out", p(&d)], &GRID[..]].concat());
        assert!(out.contains("lbsim merge"), "{out}");
        assert!(!d.join("sweep.csv").exists(), "a shard writes no sweep.csv");
        shards.push(d);
    }
    let merged = dir.path().join("merged");
    // A missing shard is named, not silently ignored.
    let o = lbsim(&[
        "merge",
        p(&shards[0]),
        p(&shards[1]),
        p(&shards[2]),
        "--out",
        p(&merged),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("4 of 18 runs are not finished") && text(&o).contains("i mod N"),
        "{}",
        text(&o)
    );
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| p(d)));
    args.extend(["--out", p(&merged)]);
    let o = lbsim(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_tree(&whole, &merged);

    // Shards of another sweep do not mix.
    let other = dir.path().join("other");
    sweep(&[
        p(&s),
        "--vary",
        "services.0.desired_count=5",
        "-r",
        "1",
        "--shard",
        "0/1",
        "--out",
        p(&other),
    ]);
    let o = lbsim(&[
        "merge",
        p(&shards[0]),
        p(&other),
        "--out",
        p(&dir.path().join("x")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("hold different sweeps"), "{}", text(&o));
}

#[test]
fn an_interrupted_sweep_resumes_and_gives_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    // Runs long enough (~0.1 s each) that the kill lands part-way.
    let s = write(
        &dir,
        "s.toml",
        &BASE.replace("duration = \"20s\"", "duration = \"300s\""),
    );
    let args = |out: &Path| -> Vec<String> {
        [
            p(&s),
            "--vary",
            "services.0.desired_count=2..9",
            "-r",
            "4",
            "--jobs",
            "1",
            "-q",
            "--out",
            p(out),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let whole = dir.path().join("whole");
    sweep(&args(&whole).iter().map(String::as_str).collect::<Vec<_>>());

    let resumed = dir.path().join("resumed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .arg("sweep")
        .args(args(&resumed))
        .spawn()
        .unwrap();
    let runs_dir = resumed.join("runs");
    let started = Instant::now();
    let count = || {
        fs::read_dir(&runs_dir)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    };
    while count() < 3 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    child.wait().unwrap();
    let finished = count();
    assert!(
        (3..32).contains(&finished) && !resumed.join("sweep.csv").exists(),
        "the kill should land part-way: {finished} of 32 runs finished"
    );
    let out = sweep(
        &args(&resumed)
            .iter()
            .map(String::as_str)
            .filter(|a| *a != "-q")
            .collect::<Vec<_>>(),
    );
    assert!(
        out.contains(&format!("{} already finished", finished)),
        "the resumed sweep should skip the {finished} finished runs:\n{out}"
    );
    assert_same_tree(&whole, &resumed);
}

/// M/M/1 (one 1-vCPU task, exponential CPU time, no client or network delay): the 95 %
/// confidence interval of the mean response time that `sweep_summary.csv` reports covers
/// 1/(μ − λ), and is narrow enough to mean something.
#[test]
fn sweep_summary_confidence_intervals_cover_mm1_theory() {
    let dir = tempfile::tempdir().unwrap();
    let text_ = BASE
        .replace("duration = \"20s\"", "duration = \"400s\"")
        .replace("warmup = \"2s\"", "warmup = \"20s\"")
        .replace("desired_count = 2", "desired_count = 1")
        .replace("rate_rps = 200.0", "rate_rps = 50.0")
        .replace("mean = \"5ms\"", "mean = \"10ms\"");
    let s = write(&dir, "mm1.toml", &text_);
    let out = dir.path().join("out");
    sweep(&[
        p(&s),
        "--vary",
        "clients.0.arrivals.rate_rps=50.0,80.0",
        "-r",
        "10",
        "--out",
        p(&out),
    ]);
    let summary = rows(&out.join("sweep_summary.csv"));
    for (lambda, point) in [(50.0, "0"), (80.0, "1")] {
        let r = summary
            .iter()
            .find(|r| r["point"] == point && r["metric"] == "latency_mean_ms")
            .unwrap();
        let theory_ms = 1000.0 / (100.0 - lambda);
        let (lo, hi) = (num(r, "ci95_low"), num(r, "ci95_high"));
        assert!(
            lo <= theory_ms && theory_ms <= hi,
            "λ = {lambda}: E[T] = {theory_ms} ms is outside the CI [{lo}, {hi}]"
        );
        assert!(hi - lo < 0.25 * theory_ms, "CI too wide: [{lo}, {hi}]");
    }
}

#[test]
fn compare_pairs_replications_and_flags_significant_differences() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(&dir, "two.toml", BASE);
    let b = write(
        &dir,
        "one.toml",
        &BASE.replace("desired_count = 2", "desired_count = 1"),
    );
    let same = write(&dir, "same.toml", BASE);
    let out = dir.path().join("cmp");
    let o = lbsim(&[
        "compare",
        p(&a),
        p(&b),
        p(&same),
        "-r",
        "5",
        "--out",
        p(&out),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("two (baseline)") && t.contains("one − two"),
        "{t}"
    );
    let rows = rows(&out.join("compare.csv"));
    let find = |alt: &str, m: &str| {
        rows.iter()
            .find(|r| r["alternative"] == alt && r["metric"] == m)
            .unwrap_or_else(|| panic!("no row {alt} {m}"))
            .clone()
    };
    // Half the tasks: latency and CPU utilisation clearly up.
    let cpu = find("one", "cpu_utilization_mean_pct");
    assert_eq!(cpu["significant"], "true", "{cpu:?}");
    assert!(num(&cpu, "diff_ci95_low") > 0.0);
    let cpu_b = num(&cpu, "alternative_mean");
    let cpu_a = num(&cpu, "baseline_mean");
    assert!((num(&cpu, "diff_mean") - (cpu_b - cpu_a)).abs() < 1e-6);
    // The same scenario with the same seeds: every difference is exactly 0 (common random
    // numbers), so nothing is significant.
    for r in rows.iter().filter(|r| r["alternative"] == "same") {
        if !r["diff_mean"].is_empty() {
            assert_eq!(num(r, "diff_mean"), 0.0, "{r:?}");
            assert_eq!(r["significant"], "false", "{r:?}");
        }
    }
    // The sweep files are there too, one point per alternative.
    let sweep_rows = super::support::read_metrics_csv(&out.join("sweep.csv"));
    assert_eq!(sweep_rows.len(), 15);
    assert_eq!(sweep_rows[5]["alternative"], "one");

    // One scenario and --vary.
    let out2 = dir.path().join("cmp2");
    let o = lbsim(&[
        "compare",
        p(&a),
        "--vary",
        "target_groups.0.algorithm=round_robin,random",
        "-r",
        "3",
        "--out",
        p(&out2),
        "--metric",
        "requests_ok",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("requests_ok"), "{}", text(&o));
    assert!(out2.join("compare.csv").is_file());
}

#[test]
fn bad_sweep_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(&dir, "s.toml", BASE);
    let out = dir.path().join("o");
    for (args, want) in [
        (
            vec!["--vary", "services.0.task.cpu=1024,999"],
            "at services.0.task.cpu=999",
        ),
        (
            vec!["--vary", "services.0.desired_count"],
            "expected PATH=V1,V2",
        ),
        (
            vec!["--vary", "simulation.duration=0s..10s"],
            "needs a step",
        ),
        (vec!["--shard", "4/4"], "0 ≤ K < N"),
        (vec!["-r", "0"], "at least 1"),
    ] {
        let o = lbsim(&[&["sweep", p(&s), "--out", p(&out)], &args[..]].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
    }
    let o = lbsim(&["compare", p(&s)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("two or more scenario files"),
        "{}",
        text(&o)
    );
    let o = lbsim(&["merge", p(dir.path()), "--out", p(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("sweep.json"), "{}", text(&o));
}
