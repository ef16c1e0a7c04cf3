//! The bundled teaching scenarios (`scenarios/db-bound-api.toml`,
//! `scenarios/slow-database.toml`, `scenarios/rent-a-room.toml`, and the deployments
//! `scenarios/deploy-502.toml`, `scenarios/bad-deploy-circuit-breaker.toml`,
//! `scenarios/grace-period-kill-loop.toml`, `scenarios/subnet-exhaustion.toml`, and
//! `scenarios/deep-health-check-outage.toml`, `scenarios/az-outage.toml`, and
//! `scenarios/spot-interruptions.toml`) teach with
//! figures quoted in their comment blocks; each
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

/// slow-database: during the slow-down every task's pool fills, the queued requests push
/// each task over its memory and ECS kills it (OutOfMemoryError), again and again as the
/// replacements take the backlog, so the service is down (503s, 502s) until the database
/// recovers; CPU drops; the variants the comments list give their figures, among them the
/// what-if with no kill (client timeouts, health checks that time out behind the queue).
#[test]
fn slow_database_fills_the_pools_and_ecs_kills_the_tasks() {
    let (s, m, d, events) = run("slow-database", &[]);
    let before = |c: &str| mean(&col(&m, 120, 900, c));
    let during = |c: &str| mean(&col(&m, 900, 1500, c));
    let by = |s: &Value, c: &str| s["requests"]["by_outcome"][c].as_u64().unwrap();
    for c in ["responses_target_5xx", "responses_elb_503_no_targets"] {
        assert_eq!(col(&m, 120, 900, c).iter().sum::<f64>(), 0.0, "{c}");
    }
    // Down for the whole slow-down: every minute of it mostly 503s, few successes.
    assert!(
        col(&m, 960, 1500, "responses_elb_503_no_targets")
            .iter()
            .all(|&x| x > 8000.0)
    );
    assert!(
        col(&m, 960, 1500, "responses_ok")
            .iter()
            .all(|&x| x < 400.0)
    );
    assert!(during("cpu_utilization_mean_pct") < before("cpu_utilization_mean_pct") - 10.0);
    // Each kill follows its task's first excursion over its memory, at the same instant,
    // all within the slow-down; each killed task is replaced.
    let kills: Vec<f64> = events
        .lines()
        .filter(|l| l.contains(",task_stopped,") && l.contains("OutOfMemoryError"))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(kills.len(), 36);
    assert!(kills.iter().all(|&t| (900.0..1560.0).contains(&t)));
    assert!(
        (905.0..926.0).contains(&kills[3]),
        "the 4 first tasks die by 926 s"
    );
    assert_eq!(events.matches(",task_memory_exceeded,").count(), 36);
    assert_eq!(s["tasks"]["launched"], 36);
    assert!(f(&s["memory_utilization"]["max_pct"]) < 100.0);
    let last = m.last().unwrap();
    assert_eq!(
        last["targets_healthy"], "4",
        "the fleet is whole again at the end"
    );
    assert_eq!(
        col(&m, 1620, 2400, "responses_elb_503_no_targets")
            .iter()
            .sum::<f64>(),
        0.0
    );
    assert!(events.contains(",fault_started,") && events.contains(",fault_ended,"));
    assert_eq!(by(&s, "elb_503_no_targets"), 134_069);
    assert_eq!(by(&s, "elb_502_connection_refused"), 54_275);
    assert_eq!(by(&s, "elb_502_target_closed"), 6_552);
    assert_eq!(by(&s, "target_5xx"), 362);
    assert!(
        col(&d, 900, 1500, "queued_mean_ms")
            .iter()
            .any(|&x| x > 100.0)
    );

    let fives = |extra: &[&str]| {
        let (s, ..) = run("slow-database", extra);
        (
            s["requests"]["by_outcome"]["target_5xx"].as_u64().unwrap(),
            p99(&s),
            s["tasks"]["launched"].as_u64().unwrap(),
        )
    };
    let (n, p, killed) = fives(&["--set", "dependencies.db.pool_size=16"]);
    assert!(
        n == 2685 && (450.0..550.0).contains(&p) && killed == 0,
        "{n} {p}"
    );
    let (n, p, killed) = fives(&["--set", "services.api.desired_count=8"]);
    assert!(
        n == 3630 && (380.0..480.0).contains(&p) && killed == 0,
        "{n} {p}"
    );
    let (n, p, _) = fives(&["--set", "faults.0.factor=2"]);
    assert!(n == 6 && p < 250.0, "{n} {p}");

    // No kill: the old picture of unbounded memory, client timeouts and health checks that
    // time out behind the queue.
    let (s, _, _, events) = run(
        "slow-database",
        &["--set", "services.api.memory.oom_kill=false"],
    );
    assert_eq!(by(&s, "target_5xx"), 24_584);
    assert!((140_000.0..150_000.0).contains(&p99(&s)), "{}", p99(&s));
    assert!(f(&s["memory_utilization"]["max_pct"]) > 4000.0);
    assert_eq!(s["memory_utilization"]["exceeded"], 40);
    let unhealthy = events
        .lines()
        .filter(|l| l.contains(",target_unhealthy,") && l.contains("Target.Timeout"))
        .count();
    assert_eq!(unhealthy, 20);
    assert!(!events.contains("OutOfMemoryError,"));
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

fn outcome(s: &Value, cause: &str) -> u64 {
    s["requests"]["by_outcome"][cause].as_u64().unwrap()
}

/// No request ended with an error: every one that ended was `ok`.
fn no_errors(s: &Value) -> bool {
    let r = &s["requests"];
    outcome(s, "ok") == r["arrived"].as_u64().unwrap() - r["in_flight_at_end"].as_u64().unwrap()
}

/// How long deployment `i` took (`ended_s - started_s`), s; `None` while in progress.
fn took(s: &Value, i: usize) -> Option<f64> {
    let d = &s["deployments"][i];
    d["ended_s"].as_f64().map(|e| e - f(&d["started_s"]))
}

fn launched(s: &Value) -> u64 {
    s["tasks"]["launched"].as_u64().unwrap()
}

/// The rows of `events.csv` of `kind`.
fn count(events: &str, kind: &str) -> usize {
    events.matches(&format!(",{kind},")).count()
}

/// deploy-502: a rolling deployment with requests of up to 20 s and a 5 s deregistration
/// delay cuts the requests an old task still holds when its delay expires (502); a delay
/// longer than the longest request cuts none, for a slower deployment; with no grace
/// period the new tasks are killed while they start.
#[test]
fn deploy_502_a_short_deregistration_delay_cuts_long_requests() {
    const DELAY: &str = "target_groups.reports.deregistration_delay";
    let (s, m, _, events) = run("deploy-502", &[]);
    assert_eq!(outcome(&s, "elb_502_deregistration_delay"), 52);
    for cause in ["elb_503_no_targets", "elb_502_target_closed", "target_5xx"] {
        assert_eq!(outcome(&s, cause), 0, "{cause}");
    }
    let d = &s["deployments"][0];
    assert_eq!(d["rollout_state"], "COMPLETED");
    assert_eq!(d["started_s"], 180.0);
    assert!((266.0..267.0).contains(&f(&d["ended_s"])), "{d}");
    assert_eq!(launched(&s), 4);
    let waited = f(&s["error_latency_ms"]["elb_502_deregistration_delay"]["mean"]);
    assert!((10_650.0..10_750.0).contains(&waited), "{waited}");
    // The 502s come during the deployment (metrics.csv rows 180 and 240), and only then.
    let cut = |from, to| {
        col(&m, from, to, "responses_elb_502_deregistration_delay")
            .iter()
            .sum::<f64>()
    };
    assert_eq!(cut(180, 300), 52.0);
    assert_eq!(cut(0, 180) + cut(300, 600), 0.0);
    // Each old target is deregistered 5 s after it began draining.
    let times = |kind: &str| -> Vec<f64> {
        events
            .lines()
            .filter(|l| l.contains(&format!(",{kind},")))
            .map(|l| l.split(',').next().unwrap().parse().unwrap())
            .collect()
    };
    let (drained, gone) = (times("target_draining"), times("target_deregistered"));
    assert_eq!(drained.len(), 4);
    assert_eq!(gone.len(), 4);
    for (a, b) in drained.iter().zip(&gone) {
        assert!((b - a - 5.0).abs() < 1e-6, "{drained:?} {gone:?}");
    }
    let base = took(&s, 0).unwrap();
    assert!((86.0..88.0).contains(&base), "{base}");

    let with_delay = |d: &str| {
        let (s, ..) = run("deploy-502", &["--set", &format!("{DELAY}={d}")]);
        (
            outcome(&s, "elb_502_deregistration_delay"),
            took(&s, 0).unwrap(),
        )
    };
    let (n, t) = with_delay("10s");
    assert!(n == 20 && (91.5..92.5).contains(&t), "{n} {t}");
    let (n, t) = with_delay("15s");
    assert!(n == 4 && (96.5..97.5).contains(&t), "{n} {t}");
    let (n, fixed) = with_delay("30s");
    assert!(n == 0 && (97.5..98.5).contains(&fixed), "{n} {fixed}");
    assert!(
        fixed > base + 10.0,
        "the fix slows the deployment: {base} → {fixed}"
    );
    let (n, t) = with_delay("300s");
    assert!(n == 0 && t == fixed, "{n} {t}");

    let (s, ..) = run(
        "deploy-502",
        &["--set", "services.reports.health_check_grace_period=0s"],
    );
    assert_eq!(launched(&s), 8);
    let t = took(&s, 0).unwrap();
    assert!((213.0..214.0).contains(&t), "{t}");
}

/// bad-deploy-circuit-breaker: a revision failing its health checks never takes traffic
/// (minimum healthy 100 %); ECS stops its tasks when the grace period ends, the breaker
/// fails the deployment at 3 failed tasks and rolls back. Without the breaker ECS keeps
/// launching bad tasks; with minimum healthy 50 % half the good tasks are stopped for it.
#[test]
fn bad_deploy_circuit_breaker_fails_and_rolls_back_unnoticed() {
    const CFG: &str = "services.shop.deployment_configuration";
    let no_breaker = format!("{CFG}.deployment_circuit_breaker={{enable=false}}");
    let half = format!("{CFG}.minimum_healthy_percent=50");
    let (s, _, _, events) = run("bad-deploy-circuit-breaker", &[]);
    let d = &s["deployments"];
    assert_eq!(d.as_array().unwrap().len(), 2, "{d}");
    assert_eq!(d[0]["task_definition"], "shop:2");
    assert_eq!(d[0]["rollout_state"], "FAILED");
    assert_eq!(d[0]["started_s"], 300.0);
    assert_eq!(d[0]["ended_s"], 400.0);
    assert_eq!(d[0]["failed_tasks"], 3);
    assert_eq!(d[0]["failure_threshold"], 3);
    assert_eq!(d[1]["task_definition"], "shop:1");
    assert_eq!(d[1]["rollback"], true);
    assert_eq!(d[1]["rollout_state"], "COMPLETED");
    assert_eq!(d[1]["ended_s"], 452.0);
    assert_eq!(launched(&s), 6);
    assert!(no_errors(&s));
    assert_eq!(outcome(&s, "ok"), 72_695);
    assert_eq!(f(&s["task_seconds"]), 7662.0);
    assert_eq!(count(&events, "deployment_failed"), 1);
    // The bad targets never turn healthy: the only target_healthy rows after t = 0 are
    // none (the old tasks never stopped).
    assert_eq!(count(&events, "target_healthy"), 4);
    let (calm, ..) = run(
        "bad-deploy-circuit-breaker",
        &["--set", "services.shop.deployments=[]"],
    );
    assert_eq!(p99(&s), p99(&calm));
    assert_eq!(p99(&s), 313.0);
    assert_eq!(f(&calm["task_seconds"]), 7200.0);

    let (s, ..) = run("bad-deploy-circuit-breaker", &["--set", &no_breaker]);
    let d = &s["deployments"];
    assert_eq!(d.as_array().unwrap().len(), 1);
    assert_eq!(d[0]["rollout_state"], "IN_PROGRESS");
    assert!(d[0]["ended_s"].is_null());
    assert_eq!(d[0]["failed_tasks"], 60);
    assert_eq!(launched(&s), 64);
    assert_eq!(f(&s["task_seconds"]), 12_972.0);
    assert!(no_errors(&s));

    let (s, m, _, events) = run("bad-deploy-circuit-breaker", &["--set", &half]);
    assert_eq!(
        events.matches("300,target_draining,").count(),
        2,
        "two good tasks stop at once"
    );
    assert!(no_errors(&s));
    assert_eq!(s["deployments"][0]["rollout_state"], "FAILED");
    assert_eq!(s["deployments"][1]["rollout_state"], "COMPLETED");
    assert_eq!(launched(&s), 8);
    let healthy_again = events
        .lines()
        .filter(|l| l.contains(",target_healthy,"))
        .map(|l| l.split(',').next().unwrap().parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    assert!((469.0..470.0).contains(&healthy_again), "{healthy_again}");
    let slow = col(&m, 300, 480, "latency_p99_ms");
    assert!(
        slow.iter().all(|&p| (950.0..1800.0).contains(&p)),
        "{slow:?}"
    );
    assert_eq!(col(&m, 300, 360, "cpu_utilization_max_pct"), [100.0]);
    assert!((475.0..477.0).contains(&p99(&s)), "{}", p99(&s));

    let (s, ..) = run(
        "bad-deploy-circuit-breaker",
        &["--set", &half, "--set", &no_breaker],
    );
    assert!((1098.0..1100.0).contains(&p99(&s)), "{}", p99(&s));
}

/// grace-period-kill-loop: with no grace period ECS kills each new task of a slow-starting
/// application as soon as its target is unhealthy, before it listens, and launches
/// another: the deployment never completes. A grace period covering the start-up and the
/// checks that make the target healthy fixes it; the start-up alone does not.
#[test]
fn grace_period_kill_loop_never_completes_until_the_grace_covers_the_start() {
    const GRACE: &str = "services.app.health_check_grace_period";
    let (s, _, _, events) = run("grace-period-kill-loop", &[]);
    let d = &s["deployments"][0];
    assert_eq!(d["rollout_state"], "IN_PROGRESS");
    assert!(d["ended_s"].is_null());
    assert_eq!(launched(&s), 91);
    assert_eq!(s["tasks"]["stopped"], 88);
    assert_eq!(d["failed_tasks"], 88);
    assert_eq!(f(&s["task_seconds"]), 9591.0);
    assert!(no_errors(&s));
    // Every new target turned unhealthy, none healthy.
    assert_eq!(count(&events, "target_unhealthy"), 88);
    assert_eq!(count(&events, "target_healthy"), 3);
    assert!(events.contains("348.320031108,task_state,app,app-3,,DEACTIVATING"));

    let (s, _, _, events) = run(
        "grace-period-kill-loop",
        &["--set", &format!("{GRACE}=120s")],
    );
    let d = &s["deployments"][0];
    assert_eq!(d["rollout_state"], "COMPLETED");
    assert!((460.0..461.0).contains(&f(&d["ended_s"])), "{d}");
    assert_eq!(launched(&s), 3, "only desired_count new tasks");
    assert!((5822.0..5823.0).contains(&f(&s["task_seconds"])));
    let healthy: Vec<f64> = events
        .lines()
        .filter(|l| l.contains(",target_healthy,") && !l.starts_with("0,"))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(healthy.len(), 3);
    assert!(
        healthy.iter().all(|t| (440.0..449.0).contains(t)),
        "{healthy:?}"
    );

    let (s, ..) = run(
        "grace-period-kill-loop",
        &["--set", &format!("{GRACE}=90s")],
    );
    assert_eq!(s["deployments"][0]["rollout_state"], "IN_PROGRESS");
    assert_eq!(launched(&s), 36);

    let aws_checks = |grace: &str| {
        run(
            "grace-period-kill-loop",
            &[
                "--set",
                "target_groups.app.health_check.interval=30s",
                "--set",
                "target_groups.app.health_check.healthy_threshold=5",
                "--set",
                &format!("{GRACE}={grace}"),
            ],
        )
        .0
    };
    let s = aws_checks("120s");
    assert_eq!(s["deployments"][0]["rollout_state"], "IN_PROGRESS");
    assert_eq!(launched(&s), 30);
    let s = aws_checks("240s");
    assert_eq!(s["deployments"][0]["rollout_state"], "COMPLETED");
    assert!((578.0..579.0).contains(&f(&s["deployments"][0]["ended_s"])));

    let (s, ..) = run(
        "grace-period-kill-loop",
        &[
            "--set",
            "services.app.deployment_configuration.deployment_circuit_breaker={enable=true,rollback=true}",
        ],
    );
    let d = &s["deployments"];
    assert_eq!(d[0]["rollout_state"], "FAILED");
    assert_eq!(d[0]["failed_tasks"], 3);
    assert!((352.0..353.0).contains(&f(&d[0]["ended_s"])), "{d}");
    assert_eq!(d[1]["task_definition"], "app:1");
    assert_eq!(d[1]["rollout_state"], "COMPLETED");
    assert!((402.0..403.0).contains(&f(&d[1]["ended_s"])), "{d}");
}

/// subnet-exhaustion: two /28 subnets hold the 20 tasks but not a deployment's 40: launches
/// fail with InsufficientFreeAddressesInSubnet, the service backs off, and the deployment
/// takes ten times as long as with room; a lower maximum does not help, a lower minimum
/// does at the price of capacity, and the circuit breaker rolls a sound revision back.
#[test]
fn subnet_exhaustion_slows_a_deployment_with_failed_launches() {
    const CFG: &str = "services.api.deployment_configuration";
    let failed = |events: &str| {
        events
            .lines()
            .filter(|l| {
                l.contains(",task_launch_failed,api,")
                    && l.contains("InsufficientFreeAddressesInSubnet")
            })
            .count()
    };
    let (s, _, _, events) = run("subnet-exhaustion", &[]);
    assert_eq!(failed(&events), 29);
    assert_eq!(s["deployments"][0]["rollout_state"], "COMPLETED");
    assert_eq!(s["deployments"][0]["failed_tasks"], 29);
    let slow = took(&s, 0).unwrap();
    assert!((856.0..857.0).contains(&slow), "{slow}");
    assert!(no_errors(&s));
    assert_eq!(launched(&s), 49, "20 new tasks and 29 failed launches");
    let base_p99 = p99(&s);
    // The back-off doubles from 10 s.
    assert!(events.contains("the service retries in 10 s."));
    assert!(events.contains("the service retries in 80 s."));

    let (s, _, _, events) = run(
        "subnet-exhaustion",
        &[
            "--set",
            "subnets.0.cidr=10.0.0.0/27",
            "--set",
            "subnets.1.cidr=10.0.0.32/27",
        ],
    );
    assert_eq!(failed(&events), 0);
    let roomy = took(&s, 0).unwrap();
    assert!((81.5..82.5).contains(&roomy), "{roomy}");
    assert!(slow > 10.0 * roomy);

    let (s, _, _, events) = run(
        "subnet-exhaustion",
        &["--set", &format!("{CFG}.maximum_percent=150")],
    );
    assert_eq!(failed(&events), 29);
    assert_eq!(took(&s, 0).unwrap(), slow);

    let (s, _, _, events) = run(
        "subnet-exhaustion",
        &["--set", &format!("{CFG}.minimum_healthy_percent=50")],
    );
    assert_eq!(failed(&events), 6);
    assert!((179.0..180.0).contains(&took(&s, 0).unwrap()));
    assert_eq!(f(&s["cpu_utilization"]["max_pct"]), 100.0);
    assert!((657.5..658.5).contains(&p99(&s)), "{}", p99(&s));
    assert!((548.5..549.5).contains(&base_p99), "{base_p99}");

    let (s, _, _, events) = run(
        "subnet-exhaustion",
        &[
            "--set",
            &format!("{CFG}.deployment_circuit_breaker={{enable=true,rollback=true}}"),
        ],
    );
    let d = &s["deployments"];
    assert_eq!(d[0]["rollout_state"], "FAILED");
    assert_eq!(d[0]["ended_s"], 510.0);
    assert_eq!(d[0]["failed_tasks"], 10);
    assert_eq!(d[0]["failure_threshold"], 10);
    assert_eq!(d[1]["task_definition"], "api:1");
    assert_eq!(d[1]["rollout_state"], "COMPLETED");
    assert_eq!(d[1]["failed_tasks"], 6);
    assert!((795.0..796.0).contains(&f(&d[1]["ended_s"])), "{d}");
    assert_eq!(failed(&events), 16);
}

/// deep-health-check-outage: the database is down 600–900 s. With the deep check every task
/// is replaced in a loop and paths that never call the database fail too (503s, 502s); with
/// a shallow one only the ~30 % of requests that call it fail, with 500s; with room to start
/// replacements first (maximumPercent 200) the old tasks keep serving.
#[test]
fn deep_health_check_outage_takes_down_paths_that_never_call_the_database() {
    let by = |s: &Value, c: &str| s["requests"]["by_outcome"][c].as_u64().unwrap();
    let (deep, m, _, events) = run("deep-health-check-outage", &[]);
    assert_eq!(by(&deep, "elb_503_no_targets"), 6019);
    assert_eq!(by(&deep, "elb_502_connection_refused"), 592);
    assert_eq!(by(&deep, "target_5xx"), 2645);
    assert_eq!(deep["tasks"]["launched"], 14);
    assert!(events.contains(",target_unhealthy,shop,shop-0,shop,Target.ResponseCodeMismatch,"));
    // Every 503 falls in the outage's window (and the minute after it, while the last
    // replacements start).
    let outside: f64 = col(&m, 0, 600, "responses_elb_503_no_targets")
        .iter()
        .chain(&col(&m, 960, 1800, "responses_elb_503_no_targets"))
        .sum();
    assert_eq!(outside, 0.0);

    let (shallow, ..) = run(
        "deep-health-check-outage",
        &["--set", "services.shop.health_check_request.steps=[]"],
    );
    assert_eq!(by(&shallow, "target_5xx"), 4611);
    assert_eq!(by(&shallow, "elb_503_no_targets"), 0);
    assert_eq!(by(&shallow, "elb_502_connection_refused"), 0);
    assert_eq!(shallow["tasks"]["launched"], 0);
    // Only the database paths fail: 30 % of the ~15,000 requests of the 300 s outage.
    let window = 50.0 * 300.0 * 0.3;
    let failed = by(&shallow, "target_5xx") as f64;
    assert!(
        (failed - window).abs() < 0.05 * window,
        "{failed} vs {window}"
    );

    let (headroom, ..) = run(
        "deep-health-check-outage",
        &[
            "--set",
            "services.shop.deployment_configuration.maximum_percent=200",
        ],
    );
    assert_eq!(by(&headroom, "elb_503_no_targets"), 0);
    assert_eq!(by(&headroom, "elb_502_connection_refused"), 142);
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

/// The times from each `task_spot_interrupted` row of `events` to its task's STOPPED row,
/// sorted, s.
fn warning_to_stopped(events: &str) -> Vec<f64> {
    let rows: Vec<Vec<&str>> = events
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let mut gaps: Vec<f64> = rows
        .iter()
        .filter(|r| r[1] == "task_spot_interrupted")
        .map(|w| {
            let stopped = rows
                .iter()
                .find(|r| r[1] == "task_state" && r[3] == w[3] && r[5] == "STOPPED")
                .unwrap_or_else(|| panic!("{} never STOPPED", w[3]));
            let (a, b): (f64, f64) = (w[0].parse().unwrap(), stopped[0].parse().unwrap());
            ((b - a) * 1000.0).round() / 1000.0
        })
        .collect();
    gaps.sort_by(f64::total_cmp);
    gaps
}

/// spot-interruptions: 6 of 8 tasks on Fargate Spot, interrupted at random (mean 2 h per
/// task): each interruption is replaced on Spot; with the default 300 s deregistration delay
/// the exports still at a task 120 s after its warning end with a 502 (target closed) and
/// the task is STOPPED 130 s after it; a 30 s (90 s) delay cuts more exports by the delay
/// instead and the task stops cleanly 42 s (102 s) after the warning; interruptions every
/// 30 min per task give the figures the comments list.
#[test]
fn spot_interruptions_cut_exports_two_minutes_after_the_warning() {
    const DELAY: &str = "target_groups.api.deregistration_delay";
    let (s, m, _, events) = run("spot-interruptions", &[]);
    let tasks = &s["tasks"];
    assert_eq!(tasks["spot_interruptions"], 7);
    assert_eq!(tasks["launched"], 7);
    assert_eq!(tasks["launched_spot"], 7);
    assert_eq!(count(&events, "task_spot_interrupted"), 7);
    assert_eq!(outcome(&s, "elb_502_target_closed"), 13);
    assert_eq!(outcome(&s, "elb_502_deregistration_delay"), 0);
    let waited = f(&s["error_latency_ms"]["elb_502_target_closed"]["mean"]);
    assert!((190_450.0..190_650.0).contains(&waited), "{waited}");
    let gaps = warning_to_stopped(&events);
    assert_eq!(gaps.len(), 7);
    assert_eq!(gaps.iter().filter(|&&g| g == 130.0).count(), 6, "{gaps:?}");
    assert!((109.0..109.5).contains(&gaps[0]), "{gaps:?}");
    // What the mix costs: the 6 Spot tasks at 30 % of the on-demand price.
    let cost = &s["cost"];
    assert!((f(&cost["total_usd"]) - 0.8693).abs() < 5e-5, "{cost}");
    assert!((f(&cost["fargate_usd"]) - 0.3950).abs() < 5e-5, "{cost}");
    assert!(
        (f(&cost["fargate_spot_usd"]) - 0.3587).abs() < 5e-5,
        "{cost}"
    );
    let (all, _, _, _) = run(
        "spot-interruptions",
        &["--set", "services.api.capacity_provider_strategy.0.base=8"],
    );
    assert!(
        (f(&all["cost"]["total_usd"]) - 1.6954).abs() < 5e-5,
        "{}",
        all["cost"]
    );
    assert_eq!(f(&all["cost"]["fargate_spot_usd"]), 0.0);
    assert_eq!(outcome(&all, "elb_502_target_closed"), 0);
    assert_eq!(all["tasks"]["spot_interruptions"], 0);
    // 2 tasks on FARGATE and 6 on Spot, in every row but the one catching a replacement.
    let spot = col(&m, 0, 14_400, "tasks_running_spot");
    assert_eq!(spot.len(), 48);
    assert!(spot.iter().all(|&n| n == 6.0 || n == 5.0), "{spot:?}");
    assert!(spot.iter().filter(|&&n| n == 6.0).count() >= 45, "{spot:?}");
    // The replacement is launched at the warning, on Spot.
    let warned = events
        .lines()
        .find(|l| l.contains(",task_spot_interrupted,"))
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    assert!(
        events
            .lines()
            .any(|l| l.starts_with(&format!("{warned},task_launched,"))
                && l.contains("on FARGATE_SPOT")),
        "no Spot replacement at {warned}"
    );

    let with_delay = |d: &str| {
        let (s, _, _, events) = run("spot-interruptions", &["--set", &format!("{DELAY}={d}")]);
        (
            outcome(&s, "elb_502_deregistration_delay"),
            outcome(&s, "elb_502_target_closed"),
            warning_to_stopped(&events),
        )
    };
    let (delay, closed, gaps) = with_delay("30s");
    assert!(delay == 41 && closed == 0, "{delay} {closed}");
    assert!(gaps.iter().all(|&g| g == 42.0), "{gaps:?}");
    let (delay, closed, gaps) = with_delay("90s");
    assert!(delay == 21 && closed == 0, "{delay} {closed}");
    assert!(gaps.iter().all(|&g| g == 102.0), "{gaps:?}");

    let (s, ..) = run(
        "spot-interruptions",
        &[
            "--set",
            "services.api.spot.interruptions.mean_time_between=30m",
        ],
    );
    assert_eq!(s["tasks"]["spot_interruptions"], 48);
    assert_eq!(outcome(&s, "elb_502_target_closed"), 119);
}
