//! The bundled autoscaling scenarios (`scenarios/autoscaling-cpu70.toml`,
//! `scenarios/worldcup98-match-day.toml`, `scenarios/nasa-week-autoscaling.toml`) teach with
//! figures quoted in their comment blocks; each test runs the scenario (and the variants
//! the comments suggest) with the built binary and checks those figures from the files a
//! user reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{f, read_metrics_csv};

/// summary.json, the rows of metrics.csv, and events.csv's rows.
struct Run {
    summary: Value,
    metrics: Vec<BTreeMap<String, String>>,
    events: Vec<BTreeMap<String, String>>,
}

fn run(name: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("o");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"));
    let (scenario, out_dir) = (scenario.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec!["run", scenario];
    args.extend_from_slice(extra);
    args.extend(["--out", out_dir, "-q"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Run {
        summary: serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
            .unwrap(),
        metrics: read_metrics_csv(&out.join("metrics.csv")),
        events: read_metrics_csv(&out.join("events.csv")),
    }
}

impl Run {
    /// (time s, from, to) of each scaling activity, read from `events.csv`'s words.
    fn activities(&self) -> Vec<(f64, u32, u32)> {
        self.events
            .iter()
            .filter(|e| e["kind"] == "scaling_activity")
            .map(|e| {
                let d = &e["detail"];
                let tail = d.split("from ").last().unwrap();
                let mut w = tail.split([' ', '.']);
                let from = w.next().unwrap().parse().unwrap();
                w.next();
                let to = w.next().unwrap().parse().unwrap();
                (e["time_s"].parse().unwrap(), from, to)
            })
            .collect()
    }

    /// The first `target_healthy` after `t` s, and its time.
    fn first_healthy_after(&self, t: f64) -> f64 {
        self.events
            .iter()
            .filter(|e| e["kind"] == "target_healthy")
            .map(|e| e["time_s"].parse::<f64>().unwrap())
            .find(|&x| x > t)
            .unwrap()
    }

    /// The metrics.csv row starting at `t` s.
    fn row(&self, t: u64) -> &BTreeMap<String, String> {
        self.metrics
            .iter()
            .find(|r| r["time_s"] == t.to_string())
            .unwrap()
    }

    fn p99(&self) -> f64 {
        f(&self.summary["latency_ms"]["p99"])
    }

    fn task_seconds(&self) -> f64 {
        f(&self.summary["task_seconds"])
    }

    /// The metrics.csv row with the highest `latency_p99_ms`.
    fn worst_minute(&self) -> (u64, f64) {
        self.metrics
            .iter()
            .map(|r| {
                (
                    r["time_s"].parse::<u64>().unwrap(),
                    r["latency_p99_ms"].parse::<f64>().unwrap_or(0.0),
                )
            })
            .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a })
    }
}

fn near(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, the comment says {want} (±{tol})"
    );
}

#[test]
fn autoscaling_cpu70_reacts_in_about_five_minutes() {
    let r = run("autoscaling-cpu70", &[]);
    let acts = r.activities();
    assert_eq!(
        acts,
        vec![
            (1800.0, 1, 2),
            (2580.0, 2, 3),
            (5040.0, 3, 5),
            (6420.0, 5, 4),
            (6660.0, 4, 5),
            (7560.0, 5, 1)
        ]
    );
    // The step at 4800 s: the first new target healthy at 5098.4 s, 298 s later.
    let healthy = r.first_healthy_after(4800.0);
    near("first new healthy target", healthy, 5098.4, 0.05);
    near("reaction time", healthy - 4800.0, 298.0, 0.5);
    for t in [1740, 1800] {
        assert!(f64_of(r.row(t), "latency_p99_ms") > 3000.0, "{t}");
    }
    near(
        "p99 of the minute from 4920 s",
        f64_of(r.row(4920), "latency_p99_ms"),
        13_237.0,
        1.0,
    );
    near("overall p99", r.p99(), 2766.0, 1.0);
    near("task-seconds", r.task_seconds(), 26_325.0, 1.0);

    let r = run(
        "autoscaling-cpu70",
        &["--set", "cloudwatch.ingestion_delay=0s"],
    );
    near(
        "healthy, no delay",
        r.first_healthy_after(4800.0),
        5038.4,
        0.05,
    );
    near("p99, no delay", r.p99(), 2073.0, 1.0);
    let r = run(
        "autoscaling-cpu70",
        &[
            "--set",
            "services.web.auto_scaling.target_tracking.cpu70.high_alarm_datapoints=1",
        ],
    );
    assert!(r.activities().contains(&(4920.0, 3, 5)));
    near("p99, one datapoint", r.p99(), 1909.0, 1.0);
    let r = run(
        "autoscaling-cpu70",
        &[
            "--set",
            "services.web.auto_scaling.target_tracking.cpu70.target_value=50",
        ],
    );
    near("p99, target 50", r.p99(), 814.0, 1.0);
    near("task-seconds, target 50", r.task_seconds(), 30_825.0, 1.0);
}

fn cost(r: &Run) -> f64 {
    f(&r.summary["cost"]["total_usd"])
}

fn f64_of(row: &BTreeMap<String, String>, c: &str) -> f64 {
    row[c].parse().unwrap()
}

#[test]
fn worldcup98_match_day_capacity_lags_the_flash_crowd() {
    let r = run("worldcup98-match-day", &[]);
    let (t, p99) = r.worst_minute();
    assert_eq!(t, 68280);
    near("worst minute p99", p99, 925.0, 1.0);
    let worst = r.row(68280);
    near(
        "its CPU",
        f64_of(worst, "cpu_utilization_mean_pct"),
        83.2,
        0.05,
    );
    assert_eq!(worst["desired_count"], "2");
    let acts = r.activities();
    assert_eq!(acts[0], (68340.0, 2, 3));
    assert!(acts.contains(&(78060.0, 13, 14)), "{acts:?}");
    assert!(acts.contains(&(79200.0, 14, 6)), "{acts:?}");
    assert_eq!(*acts.last().unwrap(), (82380.0, 3, 2));
    assert_eq!(acts.iter().map(|a| a.2).max(), Some(14));
    near("overall p99", r.p99(), 262.0, 1.0);
    near("task-seconds", r.task_seconds(), 253_221.0, 1.0);

    let r = run(
        "worldcup98-match-day",
        &[
            "--set",
            "services.web.auto_scaling.target_tracking.cpu70.target_value=50",
        ],
    );
    near("worst minute, target 50", r.worst_minute().1, 394.0, 1.0);
    near("task-seconds, target 50", r.task_seconds(), 296_763.0, 1.0);
    let r = run(
        "worldcup98-match-day",
        &[
            "--set",
            "services.web.desired_count=14",
            "--set",
            "services.web.auto_scaling.min_capacity=14",
        ],
    );
    near("p99, fixed 14", r.p99(), 214.0, 1.0);
    near("task-seconds, fixed 14", r.task_seconds(), 1_209_600.0, 0.5);
    let r = run(
        "worldcup98-match-day",
        &["--set", "clients.fans.arrivals.scale=0.2"],
    );
    assert_eq!(r.activities().len(), 36);
}

#[test]
fn nasa_week_autoscaling_against_a_fleet_sized_for_the_peak() {
    let r = run("nasa-week-autoscaling", &[]);
    assert_eq!(f(&r.summary["requests"]["arrived"]), 10_896_283.0);
    assert_eq!(r.activities().len(), 18);
    assert_eq!(r.activities().iter().map(|a| a.2).max(), Some(4));
    near("p99", r.p99(), 265.0, 1.0);
    near("task-seconds", r.task_seconds(), 1_227_513.0, 1.0);
    near("cost", cost(&r), 21.58, 0.005);
    near(
        "ALB cost",
        f(&r.summary["cost"]["alb_hours_usd"]) + f(&r.summary["cost"]["alb_lcu_usd"]),
        4.75,
        0.005,
    );
    let fixed = run(
        "nasa-week-autoscaling",
        &[
            "--set",
            "services.web.desired_count=5",
            "--set",
            "services.web.auto_scaling.min_capacity=5",
        ],
    );
    assert!(fixed.activities().is_empty());
    near("p99, fixed 5", fixed.p99(), 205.0, 1.0);
    near(
        "task-seconds, fixed 5",
        fixed.task_seconds(),
        3_024_000.0,
        0.5,
    );
    let one = run(
        "nasa-week-autoscaling",
        &[
            "--set",
            "services.web.desired_count=1",
            "--set",
            "services.web.auto_scaling.min_capacity=1",
        ],
    );
    near("p99, min 1", one.p99(), 2779.0, 1.0);
    near("task-seconds, min 1", one.task_seconds(), 734_636.0, 1.0);
    near("cost, min 1", cost(&one), 14.82, 0.005);
    let (t, p99) = one.worst_minute();
    assert_eq!(t, 397_500);
    near("worst minute, min 1", p99 / 1000.0, 311.0, 0.5);
}

#[test]
fn validate_says_what_auto_scales() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/autoscaling-cpu70.toml");
    let o = crate::cli::lbsim(&["validate", scenario.to_str().unwrap()]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("service web auto scales 1–5 tasks (1 target tracking, 0 step, 0 scheduled)"),
        "{out}"
    );
}
