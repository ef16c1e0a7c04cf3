//! Rolling deployments, checked through the files a user reads (`events.csv`,
//! `summary.json`, `metrics.csv`): ECS's `minimumHealthyPercent` / `maximumPercent`
//! arithmetic, start-before-stop, completion after the old tasks' draining, bad revisions, the
//! circuit breaker and its rollback, and the scenario format's errors.
//!
//! **The world.** 4 warm tasks behind round robin, 40 requests/s of 10 ms of CPU, health
//! checks every 10 s (timeout 5 s, thresholds 2/2, a new target healthy after 1 pass), a
//! 60 s health check grace period (so a new task is not replaced for failing the checks
//! made while its application starts), deregistration delay 5 s; lifecycle phases are the
//! defaults (provisioning 15 s, pending 20 s, activating 5 s, app start 10 s). A deployment
//! to a new revision starts at 300 s.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::{f, load_text};

/// The world above; `config` is the service's `deployment_configuration` table body and
/// `deployment` the `[[services.deployments]]` table's body.
fn scenario(config: &str, deployment: &str) -> String {
    format!(
        r#"
[simulation]
name = "deploy"
duration = "20m"
seed = 3
metrics_interval = "1m"

[[clients]]
name = "c"
arrivals = {{ process = "poisson", rate_rps = 40 }}

[load_balancer]

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "web" }}

[[target_groups]]
name = "web"
deregistration_delay = "5s"
health_check = {{ interval = "10s", timeout = "5s", healthy_threshold = 2, unhealthy_threshold = 2 }}

[[services]]
name = "web"
target_group = "web"
desired_count = 4
request = {{ cpu_time = "10ms" }}
health_check_grace_period = "60s"

[services.deployment_configuration]
{config}

[[services.deployments]]
at = "300s"
{deployment}
"#
    )
}

/// What one run wrote.
struct Out {
    summary: Value,
    /// `events.csv` rows (header dropped), each split into its fields.
    events: Vec<Vec<String>>,
    /// `metrics.csv` rows as column → value.
    metrics: Vec<BTreeMap<String, String>>,
}

/// Runs scenario text `text` with `sets` overrides, writing its files under `dir`.
fn run(text: &str, sets: &[&str], dir: &Path) -> Out {
    let (summary, events, metrics) = crate::support::run_recorded("deploy.toml", text, sets, dir);
    Out {
        summary,
        events,
        metrics,
    }
}

/// The fleet replayed from `events.csv`: after each row at or after `from` s, the tasks
/// PROVISIONING to RUNNING and not being stopped, and the healthy targets. Returns the
/// (time, active, healthy) after each such row.
fn replay(events: &[Vec<String>], from: f64) -> Vec<(f64, u32, u32)> {
    let mut active: BTreeMap<String, bool> = BTreeMap::new();
    let mut healthy: BTreeMap<String, bool> = BTreeMap::new();
    let mut out = Vec::new();
    for r in events {
        let (t, kind, task, reason) = (r[0].parse::<f64>().unwrap(), &r[1], &r[3], &r[5]);
        match kind.as_str() {
            "task_launched" | "task_running" => {
                active.entry(task.clone()).or_insert(true);
            }
            "task_state" if reason != "PENDING" && reason != "ACTIVATING" => {
                active.insert(task.clone(), false);
            }
            "task_stopped" => {
                active.insert(task.clone(), false);
            }
            "target_healthy" => {
                healthy.insert(task.clone(), true);
            }
            "target_unhealthy" | "target_draining" | "target_deregistered" => {
                healthy.insert(task.clone(), false);
            }
            _ => {}
        }
        if t >= from {
            let a = active.values().filter(|&&v| v).count() as u32;
            let h = healthy.values().filter(|&&v| v).count() as u32;
            out.push((t, a, h));
        }
    }
    out
}

/// The rows of `kind`.
fn rows<'a>(events: &'a [Vec<String>], kind: &str) -> Vec<&'a Vec<String>> {
    events.iter().filter(|r| r[1] == kind).collect()
}

fn outcome(s: &Value, cause: &str) -> u64 {
    s["requests"]["by_outcome"][cause].as_u64().unwrap()
}

/// With the defaults (100 % / 200 %) ECS starts 4 new tasks at once, stops an old task
/// each time a new target turns healthy (never fewer than 4 healthy, never more than 8
/// tasks), and the deployment completes when the last old task has STOPPED, after its
/// deregistration delay and shutdown. No client sees an error.
#[test]
fn the_defaults_start_every_new_task_and_stop_an_old_one_per_healthy_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&scenario("", ""), &[], dir.path());
    let launched = rows(&out.events, "task_launched");
    assert_eq!(launched.len(), 4, "{launched:#?}");
    for r in &launched {
        assert_eq!(r[0], "300");
        assert!(r[6].contains("of task definition web:2"), "{r:?}");
    }
    // Each old task (web-0..3) begins draining at the instant a new target turns healthy.
    let new_healthy: Vec<&String> = out
        .events
        .iter()
        .filter(|r| r[1] == "target_healthy" && r[0] != "0")
        .map(|r| &r[0])
        .collect();
    let old_draining: Vec<&String> = out
        .events
        .iter()
        .filter(|r| r[1] == "target_draining")
        .map(|r| &r[0])
        .collect();
    assert_eq!(new_healthy.len(), 4);
    assert_eq!(new_healthy, old_draining, "{:#?}", out.events);
    for (t, active, healthy) in replay(&out.events, 300.0) {
        assert!(active <= 8, "at {t}: {active} tasks > floor(4 × 200 %)");
        assert!(healthy >= 4, "at {t}: {healthy} healthy < ceil(4 × 100 %)");
    }
    let last_stopped = out
        .events
        .iter()
        .filter(|r| r[1] == "task_state" && r[5] == "STOPPED")
        .map(|r| r[0].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    let d = &out.summary["deployments"];
    assert_eq!(d.as_array().unwrap().len(), 1);
    assert_eq!(d[0]["task_definition"], "web:2");
    assert_eq!(d[0]["from_task_definition"], "web:1");
    assert_eq!(d[0]["rollout_state"], "COMPLETED");
    assert_eq!(d[0]["started_s"], 300.0);
    // Completed when the last old task stopped: up to 5 s of draining (none when nothing
    // is in flight), 2 s of shutdown and 10 s of deprovisioning after the last new target
    // turned healthy.
    let done = f(&d[0]["ended_s"]);
    assert_eq!(done, last_stopped);
    let last_healthy: f64 = new_healthy.last().unwrap().parse().unwrap();
    assert!(
        done >= last_healthy + 12.0 && done <= last_healthy + 17.0,
        "{done} {last_healthy}"
    );
    let completed = rows(&out.events, "deployment_completed");
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0][0].parse::<f64>().unwrap(), done);
    assert_eq!(
        outcome(&out.summary, "ok"),
        out.summary["requests"]["arrived"].as_u64().unwrap()
            - out.summary["requests"]["in_flight_at_end"]
                .as_u64()
                .unwrap()
    );
    assert_eq!(out.summary["tasks"]["launched"], 4);
    assert_eq!(out.summary["tasks"]["stopped"], 4);
}

/// With 0 % / 100 % ECS stops every old task at once and only then has room for new ones:
/// clients get 503s (no registered target) until the first new target is healthy. With
/// 50 % / 100 % it replaces two at a time and nobody sees an error.
#[test]
fn the_minimum_healthy_percent_decides_whether_a_deploy_is_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let zero = run(
        &scenario("minimum_healthy_percent = 0\nmaximum_percent = 100", ""),
        &[],
        &dir.path().join("zero"),
    );
    let draining = rows(&zero.events, "target_draining");
    assert_eq!(draining.len(), 4);
    assert!(draining.iter().all(|r| r[0] == "300"), "{draining:#?}");
    assert!(outcome(&zero.summary, "elb_503_no_targets") > 0);
    let first_healthy: f64 = zero
        .events
        .iter()
        .find(|r| r[1] == "target_healthy" && r[0] != "0")
        .unwrap()[0]
        .parse()
        .unwrap();
    // 503s for about the time a new task takes to become healthy (≥ 50 s of start-up).
    let lost = outcome(&zero.summary, "elb_503_no_targets") as f64;
    assert!(
        lost > 40.0 * (first_healthy - 305.0) * 0.8,
        "{lost} 503s until {first_healthy}"
    );
    assert_eq!(zero.summary["deployments"][0]["rollout_state"], "COMPLETED");

    let half = run(
        &scenario("minimum_healthy_percent = 50\nmaximum_percent = 100", ""),
        &[],
        &dir.path().join("half"),
    );
    for (t, active, healthy) in replay(&half.events, 300.0) {
        assert!(active <= 4, "at {t}: {active} tasks > floor(4 × 100 %)");
        assert!(healthy >= 2, "at {t}: {healthy} healthy < ceil(4 × 50 %)");
    }
    let first_batch: Vec<_> = rows(&half.events, "target_draining")
        .into_iter()
        .filter(|r| r[0] == "300")
        .collect();
    assert_eq!(first_batch.len(), 2, "two old tasks stop at once");
    assert_eq!(outcome(&half.summary, "elb_503_no_targets"), 0);
    assert_eq!(half.summary["deployments"][0]["rollout_state"], "COMPLETED");
}

/// A revision whose health check answers 500: its targets never turn healthy (so they
/// never get a client request), ECS stops each after the grace period, and the circuit
/// breaker fails the deployment at its threshold (ceil(0.5 × 4) → 3), then rolls back to
/// `web:1`, which completes once the bad tasks have stopped. The old tasks never stop:
/// no client sees an error.
#[test]
fn a_revision_failing_its_health_checks_trips_the_breaker_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &scenario(
            "deployment_circuit_breaker = { enable = true, rollback = true }",
            "failure = \"fail_health_checks\"",
        ),
        &[],
        dir.path(),
    );
    let d = out.summary["deployments"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0]["rollout_state"], "FAILED");
    assert_eq!(d[0]["failed_tasks"], 3);
    assert_eq!(d[0]["failure_threshold"], 3);
    assert_eq!(d[1]["rollback"], true);
    assert_eq!(d[1]["task_definition"], "web:1");
    assert_eq!(d[1]["from_task_definition"], "web:2");
    assert_eq!(d[1]["started_s"], d[0]["ended_s"]);
    assert_eq!(d[1]["rollout_state"], "COMPLETED");
    // The bad targets fail their checks (refused while the application starts, then
    // HTTP 500) and never turn healthy.
    let unhealthy = rows(&out.events, "target_unhealthy");
    assert!(
        unhealthy
            .iter()
            .any(|r| r[5] == "Target.ResponseCodeMismatch"),
        "{unhealthy:#?}"
    );
    assert!(
        rows(&out.events, "target_healthy")
            .iter()
            .all(|r| r[0] == "0"),
        "a web:2 target turned healthy"
    );
    // Old tasks web-0..3 never drain; every new one (web-4 on) is stopped.
    assert!(
        rows(&out.events, "target_draining")
            .iter()
            .all(|r| !["web-0", "web-1", "web-2", "web-3"].contains(&r[3].as_str()))
    );
    assert_eq!(
        out.summary["tasks"]["launched"],
        out.summary["tasks"]["stopped"]
    );
    assert_eq!(outcome(&out.summary, "target_5xx"), 0);
    assert_eq!(outcome(&out.summary, "elb_503_no_targets"), 0);
    let failed = rows(&out.events, "deployment_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0][5], "FAILED");
    let rollback = rows(&out.events, "deployment_started");
    assert_eq!(rollback.len(), 2);
    assert_eq!(rollback[1][5], "ROLLBACK");
}

/// A revision whose application exits as it starts, with no circuit breaker: the
/// deployment never ends (still `IN_PROGRESS`, ECS relaunching new-revision tasks in a loop)
/// while the old tasks serve everything. With the breaker but no rollback it fails after 3
/// crashes and launches nothing more: the old tasks keep serving.
#[test]
fn a_crashing_revision_loops_without_the_breaker_and_stops_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("", "failure = \"crash_on_start\"");
    let looping = run(&text, &[], &dir.path().join("loop"));
    let d = &looping.summary["deployments"][0];
    assert_eq!(d["rollout_state"], "IN_PROGRESS");
    assert!(d["ended_s"].is_null());
    assert_eq!(d["failure_threshold"], Value::Null);
    assert!(f(&d["failed_tasks"]) >= 20.0, "{d}");
    assert!(
        rows(&looping.events, "task_stopped")
            .iter()
            .any(|r| r[5] == "EssentialContainerExited")
    );
    assert_eq!(outcome(&looping.summary, "elb_503_no_targets"), 0);
    assert!(
        rows(&looping.events, "target_draining")
            .iter()
            .all(|r| { !["web-0", "web-1", "web-2", "web-3"].contains(&r[3].as_str()) })
    );

    let text = scenario(
        "deployment_circuit_breaker = { enable = true }",
        "failure = \"crash_on_start\"",
    );
    let stopped = run(&text, &[], &dir.path().join("breaker"));
    let d = stopped.summary["deployments"].as_array().unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["rollout_state"], "FAILED");
    assert_eq!(d[0]["failed_tasks"], 3);
    let failed_at = f(&d[0]["ended_s"]);
    let last_launch = rows(&stopped.events, "task_launched")
        .iter()
        .map(|r| r[0].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    assert!(last_launch <= failed_at, "{last_launch} > {failed_at}");
    assert_eq!(outcome(&stopped.summary, "elb_503_no_targets"), 0);
}

/// A revision runs its own request profile: after a deployment to a revision with twice
/// the CPU time, the latency of the last intervals is twice that of the first.
#[test]
fn tasks_of_the_new_revision_run_its_request_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &scenario("", "request = { cpu_time = \"20ms\" }"),
        &[],
        dir.path(),
    );
    assert_eq!(out.summary["deployments"][0]["rollout_state"], "COMPLETED");
    let p50 = |row: &BTreeMap<String, String>| row["latency_p50_ms"].parse::<f64>().unwrap();
    let before = p50(&out.metrics[2]);
    let after = p50(out.metrics.last().unwrap());
    // Light load (10 % CPU): the median is close to the CPU time.
    assert!((before - 10.0).abs() < 2.0, "{before}");
    assert!((after - 20.0).abs() < 3.0, "{after}");
}

/// The scenario format's errors name the field and what is allowed.
#[test]
fn bad_deployment_settings_are_refused_with_the_allowed_range() {
    let cases = [
        (
            scenario("minimum_healthy_percent = 101", ""),
            "services.0.deployment_configuration.minimum_healthy_percent",
            "0–100",
        ),
        (
            scenario("maximum_percent = 99", ""),
            "services.0.deployment_configuration.maximum_percent",
            "100–400",
        ),
        (
            scenario(
                "deployment_circuit_breaker = { enable = false, rollback = true }",
                "",
            ),
            "services.0.deployment_configuration.deployment_circuit_breaker.rollback",
            "enable = true",
        ),
        (
            scenario("", "").replace("at = \"300s\"", "at = \"20m\""),
            "services.0.deployments.0.at",
            "end of the run",
        ),
        (
            scenario("", "") + "\n[[services.deployments]]\nat = \"200s\"\n",
            "services.0.deployments.1.at",
            "time order",
        ),
        (
            scenario("", "failure = \"explode\""),
            "failure",
            "crash_on_start",
        ),
    ];
    for (text, field, allowed) in cases {
        let err = load_text("deploy.toml", &text, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(field) && err.contains(allowed),
            "{field}: {err}"
        );
    }
}

/// A deployment that runs out of addresses: 8 tasks in one /28 subnet (11 usable
/// addresses) leave room for 3 new tasks, not 8. Each launch that finds no free address
/// fails (`task_launch_failed`, `InsufficientFreeAddressesInSubnet`) and counts for the
/// circuit breaker (threshold ceil(0.5 × 8) = 4), which fails the deployment and rolls it
/// back; the rollback completes once the new tasks that did start have stopped and 8
/// `web:1` tasks are healthy.
#[test]
fn launches_that_find_no_address_trip_the_breaker_and_the_rollback_completes() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(
        "deployment_circuit_breaker = { enable = true, rollback = true }",
        "",
    )
    .replace("desired_count = 4", "desired_count = 8")
        + r#"
[[subnets]]
name = "tiny"
availability_zone = "us-east-1a"
cidr = "10.0.0.0/28"
"#;
    let out = run(&text, &[], dir.path());
    let d = out.summary["deployments"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0]["rollout_state"], "FAILED");
    assert_eq!(d[0]["failed_tasks"], 4);
    assert_eq!(d[0]["failure_threshold"], 4);
    assert_eq!(d[1]["rollback"], true);
    assert_eq!(d[1]["rollout_state"], "COMPLETED");
    // The fourth failed launch fails the deployment, at that instant.
    let failed = rows(&out.events, "task_launch_failed");
    assert!(
        failed
            .iter()
            .all(|r| r[5] == "InsufficientFreeAddressesInSubnet")
    );
    assert_eq!(failed[3][0].parse::<f64>().unwrap(), f(&d[0]["ended_s"]));
    assert_eq!(
        rows(&out.events, "deployment_failed")[0][0],
        failed[3][0].as_str()
    );
    // The 3 new tasks that started turned healthy and stopped old ones, so the rollback
    // launches web:1 tasks again, through the same back-off.
    assert!(
        rows(&out.events, "task_launched")
            .iter()
            .any(|r| r[6].contains("of task definition web:1"))
    );
    assert_eq!(outcome(&out.summary, "elb_503_no_targets"), 0);
}
