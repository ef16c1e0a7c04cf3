//! The bundled teaching scenarios (`scenarios/db-bound-api.toml`,
//! `scenarios/slow-database.toml`, `scenarios/rent-a-room.toml`, `scenarios/az-outage.toml`)
//! teach with figures quoted
//! in their comment blocks; each
//! test runs the scenario (and the variants the comments suggest) with the built binary and
//! checks those figures from the files a user reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{f, read_metrics_csv};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// summary.json, the rows of metrics.csv and dependencies.csv, and events.csv's text.
type RunFiles = (
    Value,
    Vec<BTreeMap<String, String>>,
    Vec<BTreeMap<String, String>>,
    String,
);

/// Runs `lbsim run scenarios/<name>.toml <extra>` into a temporary directory; returns
/// summary.json, the rows of metrics.csv and dependencies.csv, and events.csv's text.
fn run(name: &str, extra: &[&str]) -> RunFiles {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("o");
    let scenario = root().join("scenarios").join(format!("{name}.toml"));
    let (scenario, out_dir) = (scenario.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec!["run", scenario];
    args.extend_from_slice(extra);
    args.extend(["--out", out_dir, "-q"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    (
        summary,
        read_metrics_csv(&out.join("metrics.csv")),
        read_metrics_csv(&out.join("dependencies.csv")),
        std::fs::read_to_string(out.join("events.csv")).unwrap(),
    )
}

fn col(rows: &[BTreeMap<String, String>], from_s: u64, to_s: u64, c: &str) -> Vec<f64> {
    rows.iter()
        .filter(|r| {
            let t: u64 = r["time_s"].parse().unwrap();
            t >= from_s && t < to_s
        })
        .map(|r| r[c].parse::<f64>().unwrap_or(0.0))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn p99(s: &Value) -> f64 {
    f(&s["latency_ms"]["p99"])
}

/// db-bound-api: in the last phase CPU stays near 55 % while the worker pool is ~95 % busy
/// and requests queue for a worker; the worker queue is the largest part of latency at the
/// service after the database call; more workers or more tasks fix p99, a bigger database does not, a
/// faster one does.
#[test]
fn db_bound_api_is_bound_by_its_workers_not_its_cpu() {
    let (s, m, d, _) = run("db-bound-api", &[]);
    let cpu = mean(&col(&m, 1200, 1800, "cpu_utilization_mean_pct"));
    let workers = mean(&col(&m, 1200, 1800, "worker_utilization_pct"));
    let early_p99 = mean(&col(&m, 60, 600, "latency_p99_ms"));
    let late_p99 = col(&m, 1200, 1800, "latency_p99_ms")
        .into_iter()
        .fold(0.0, f64::max);
    assert!((50.0..60.0).contains(&cpu), "last-phase CPU {cpu}");
    assert!(workers > 90.0, "last-phase worker utilisation {workers}");
    assert!(
        early_p99 < 200.0 && late_p99 > 340.0,
        "p99 {early_p99} → {late_p99}"
    );
    let over_run = f(&s["cpu_utilization"]["mean_pct"]);
    assert!(
        (43.0..45.0).contains(&over_run),
        "CPU over the run {over_run}"
    );
    let b = &s["latency_breakdown_ms"];
    assert!((13.0..16.0).contains(&f(&b["worker_queue"])), "{b}");
    assert!((59.0..61.0).contains(&f(&b["calls"])), "{b}");
    for part in ["load_balancer", "cpu", "cpu_wait", "waits", "calls_queued"] {
        assert!(f(&b[part]) < f(&b["worker_queue"]), "{part}: {b}");
    }
    let db = mean(&col(&d, 1200, 1800, "utilization_pct"));
    assert!((80.0..86.0).contains(&db), "database utilisation {db}");
    assert!((261.0..263.0).contains(&p99(&s)), "p99 {}", p99(&s));
    assert_eq!(f(&s["task_seconds"]), 7200.0);

    let (more_workers, ..) = run(
        "db-bound-api",
        &["--set", "services.api.task.max_concurrency=16"],
    );
    let (more_tasks, ..) = run("db-bound-api", &["--set", "services.api.desired_count=5"]);
    let (bigger_db, ..) = run("db-bound-api", &["--set", "dependencies.db.capacity=64"]);
    let (faster_db, ..) = run(
        "db-bound-api",
        &[
            "--set",
            r#"dependencies.db.latency={ dist = "lognormal", mean = "30ms", cv = 0.5 }"#,
        ],
    );
    assert!(
        (192.0..194.0).contains(&p99(&more_workers)),
        "{}",
        p99(&more_workers)
    );
    assert!(
        (191.0..193.0).contains(&p99(&more_tasks)),
        "{}",
        p99(&more_tasks)
    );
    assert_eq!(f(&more_tasks["task_seconds"]), 9000.0);
    assert_eq!(p99(&bigger_db), p99(&s), "a bigger database buys nothing");
    assert!(
        (111.0..113.0).contains(&p99(&faster_db)),
        "{}",
        p99(&faster_db)
    );
}

/// slow-database: during the slow-down every task's pool fills, 5xx follow (client
/// timeouts), the queued requests push tasks over their memory, CPU drops, and the health
/// checks, which wait for a worker like any request, time out: ECS replaces the tasks, again
/// and again, until the database recovers; the variants the comments list give their
/// figures.
#[test]
fn slow_database_fills_the_pools_and_errors_follow() {
    let (s, m, d, events) = run("slow-database", &[]);
    let before = |c: &str| mean(&col(&m, 120, 900, c));
    let during = |c: &str| mean(&col(&m, 900, 1500, c));
    assert_eq!(
        col(&m, 120, 900, "responses_target_5xx")
            .iter()
            .sum::<f64>(),
        0.0
    );
    assert!(
        col(&m, 900, 1500, "responses_target_5xx")
            .iter()
            .all(|&x| x > 1000.0)
    );
    assert!(during("worker_utilization_pct") > 85.0);
    assert!(during("cpu_utilization_mean_pct") < before("cpu_utilization_mean_pct") - 10.0);
    assert!(during("memory_utilization_max_pct") > 100.0);
    // Health checks time out only during the slow-down, and each unhealthy task is replaced.
    let unhealthy: Vec<f64> = events
        .lines()
        .filter(|l| l.contains(",target_unhealthy,") && l.contains("Target.Timeout"))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(unhealthy.len(), 20);
    assert!(unhealthy.iter().all(|&t| (900.0..1560.0).contains(&t)));
    assert_eq!(events.matches(",task_launched,").count(), 20);
    let last = m.last().unwrap();
    assert_eq!(
        last["targets_healthy"], "4",
        "the fleet is whole again at the end"
    );
    assert!(
        col(&d, 900, 1500, "calls_timed_out")
            .iter()
            .all(|&x| x > 1000.0)
    );
    assert!(events.contains(",fault_started,") && events.contains(",fault_ended,"));
    assert_eq!(s["requests"]["by_outcome"]["target_5xx"], 24584);
    assert_eq!(s["memory_utilization"]["exceeded"], 40);
    assert!((140_000.0..150_000.0).contains(&p99(&s)), "{}", p99(&s));

    let fives = |extra: &[&str]| {
        let (s, ..) = run("slow-database", extra);
        (
            s["requests"]["by_outcome"]["target_5xx"].as_u64().unwrap(),
            p99(&s),
            s["memory_utilization"]["exceeded"].as_u64().unwrap(),
        )
    };
    let (n, p, _) = fives(&["--set", "dependencies.db.pool_size=16"]);
    assert!(n == 2685 && (450.0..550.0).contains(&p), "{n} {p}");
    let (n, p, _) = fives(&["--set", "services.api.desired_count=8"]);
    assert!(n == 3630 && (380.0..480.0).contains(&p), "{n} {p}");
    let (n, p, _) = fives(&["--set", "faults.0.factor=2"]);
    assert!(n == 6 && p < 250.0, "{n} {p}");
    let (n, p, oom) = fives(&["--set", "dependencies.db.timeout=5s"]);
    assert!(n == 0 && p > 130_000.0 && oom > 0, "{n} {p} {oom}");
}

/// rent-a-room: one task crashes at 600 s. For the 5 s until ECS notices, requests reach the
/// dead target (502, connection refused); then no target is registered (503) until the
/// replacement, a new task with a new IP, passes a health check; the variants the comments
/// list give their figures.
#[test]
fn rent_a_room_crash_is_an_outage_until_the_replacement_is_healthy() {
    let healthy_again = |events: &str| -> f64 {
        events
            .lines()
            .filter(|l| l.contains(",target_healthy,"))
            .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap())
            .find(|&t| t > 600.0)
            .expect("the replacement turns healthy")
    };
    let (s, m, _, events) = run("rent-a-room", &[]);
    let by = &s["requests"]["by_outcome"];
    assert_eq!(by["elb_502_connection_refused"], 29);
    assert_eq!(by["elb_503_no_targets"], 264);
    assert!(events.contains("600,task_stopped,web,web-0,,EssentialContainerExited"));
    assert!(events.contains("605,task_launched,web,web-1,"));
    // A new task, with a new address.
    assert!(
        events.contains("(task web-0) with 256 CPU units and 512 MiB, at 10.0.0.4 in us-east-1a.")
    );
    assert!(
        events.contains("(task web-1) with 256 CPU units and 512 MiB, at 10.0.0.5 in us-east-1a.")
    );
    let t = healthy_again(&events);
    assert!((665.0..666.0).contains(&t), "{t}");
    // The 503s all come between ECS noticing (605 s) and the replacement turning healthy.
    let outage: f64 = m
        .iter()
        .filter(|r| r["time_s"] == "600" || r["time_s"] == "660")
        .map(|r| r["responses_elb_503_no_targets"].parse::<f64>().unwrap())
        .sum();
    assert_eq!(outage, 264.0);

    let (s, ..) = run("rent-a-room", &["--set", "services.web.desired_count=2"]);
    let by = &s["requests"]["by_outcome"];
    assert_eq!(by["elb_502_connection_refused"], 14);
    assert_eq!(by["elb_503_no_targets"], 0);
    let (s, _, _, events) = run(
        "rent-a-room",
        &["--set", "target_groups.web.health_check.interval=10s"],
    );
    assert_eq!(s["requests"]["by_outcome"]["elb_503_no_targets"], 232);
    assert!((658.0..659.0).contains(&healthy_again(&events)));
    let (s, _, _, events) = run(
        "rent-a-room",
        &["--set", "services.web.lifecycle.pending=5s"],
    );
    assert_eq!(s["requests"]["by_outcome"]["elb_503_no_targets"], 193);
    assert!((650.0..651.0).contains(&healthy_again(&events)));
}

/// az-outage: us-east-1a is cut off from 300 s to 600 s. Until two health checks of its task
/// time out, a third of the requests go there and wait the 10 s connect timeout for a 504;
/// the replacement lands in the dead zone (fewest tasks per zone), the next one in
/// us-east-1b; the variants the comments list give their figures.
#[test]
fn az_outage_504s_until_health_checks_notice_and_the_replacement_lands_in_the_dead_zone() {
    let (s, m, _, events) = run("az-outage", &[]);
    let by = &s["requests"]["by_outcome"];
    assert_eq!(by["elb_504_connect_timeout"], 350);
    assert_eq!(by["elb_504_idle_timeout"], 0);
    let wait = f(&s["error_latency_ms"]["elb_504_connect_timeout"]["mean"]);
    assert!((10_030.0..10_032.0).contains(&wait), "{wait}");
    // Every 504 is in the minute of the outage's start.
    let in_300: f64 = col(&m, 300, 360, "responses_elb_504_connect_timeout")
        .iter()
        .sum();
    assert_eq!(in_300, 350.0);
    assert!(events.contains(
        "\n300,fault_started,,,,,fault 0: Availability Zone us-east-1a is unreachable.\n"
    ));
    assert!(events.contains("\n334.443721678,target_unhealthy,shop,shop-0,shop,Target.Timeout,"));
    assert!(
        events
            .contains("(task shop-3) with 512 CPU units and 1024 MiB, at 10.0.0.5 in us-east-1a.")
    );
    assert!(events.contains("\n399.693686625,target_unhealthy,shop,shop-3,shop,Target.Timeout,"));
    assert!(
        events
            .contains("(task shop-4) with 512 CPU units and 1024 MiB, at 10.0.1.5 in us-east-1b.")
    );
    assert!(events.contains("\n453.032033346,task_stopped,shop,shop-0,,ServiceStop,"));
    assert!(events.contains("\n600,fault_ended,"));

    let variant = |set: &str| {
        let (s, _, _, events) = run("az-outage", &["--set", set]);
        let first = events
            .lines()
            .find(|l| l.contains(",target_unhealthy,"))
            .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap())
            .unwrap();
        (
            s["requests"]["by_outcome"]["elb_504_connect_timeout"]
                .as_u64()
                .unwrap(),
            first,
        )
    };
    let (n, t) = variant("target_groups.shop.health_check.unhealthy_threshold=3");
    assert!(n == 515 && (349.4..349.5).contains(&t), "{n} {t}");
    let (n, t) = variant("target_groups.shop.health_check.timeout=2s");
    assert!(n == 320 && (331.4..331.5).contains(&t), "{n} {t}");
    let (n, _) = variant("load_balancer.idle_timeout=4000s");
    assert_eq!(n, 350);
}
