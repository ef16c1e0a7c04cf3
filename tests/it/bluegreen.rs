//! Blue/green deployments with CodeDeploy-style traffic shifting (`[[blue_green]]`), checked
//! through the files a user reads: the share of each target group's arrivals per minute in
//! `metrics.csv` follows the deployment configuration (canary, linear, all at once), the blue
//! task set is terminated `termination_wait` after the last shift and not before, an alarm
//! in `ALARM` sends the traffic back to blue, a green that never turns healthy fails the
//! deployment after an hour, the scenario format's errors, and the bundled
//! `blue-green-canary` scenario's headline.
//!
//! **The world.** 100 requests/s (Poisson) of 10 ms of CPU, a blue and a green service of 2
//! tasks each, each in its own target group behind the default action's weighted forward
//! (blue 100, green 0); health checks every 10 s, deregistration delay 5 s.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{f, load_text};

/// The world above with the `[[blue_green]]` table's body `bg` appended (and `extra` TOML
/// before it, e.g. faults).
fn scenario(duration: &str, extra: &str, bg: &str) -> String {
    format!(
        r#"
[simulation]
name = "bg"
duration = "{duration}"
seed = 5
metrics_interval = "1m"

[[clients]]
name = "c"
arrivals = {{ process = "poisson", rate_rps = 100 }}

[load_balancer]

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_groups = [{{ target_group = "blue", weight = 100 }}, {{ target_group = "green", weight = 0 }}] }}

[[target_groups]]
name = "blue"
deregistration_delay = "5s"
health_check = {{ interval = "10s", timeout = "5s", healthy_threshold = 2, unhealthy_threshold = 2 }}

[[target_groups]]
name = "green"
deregistration_delay = "5s"
health_check = {{ interval = "10s", timeout = "5s", healthy_threshold = 2, unhealthy_threshold = 2 }}

[[services]]
name = "blue"
target_group = "blue"
desired_count = 2
request = {{ cpu_time = "10ms" }}

[[services]]
name = "green"
target_group = "green"
desired_count = 2
request = {{ cpu_time = "10ms" }}
health_check_grace_period = "60s"
{extra}
[[blue_green]]
blue_service = "blue"
green_service = "green"
{bg}
"#
    )
}

/// What one run wrote.
struct Out {
    summary: Value,
    /// `events.csv` rows (header dropped), each split into its fields.
    events: Vec<Vec<String>>,
    /// Per minute (by `time_s`), arrivals per target group name.
    arrivals: BTreeMap<u64, BTreeMap<String, f64>>,
}

impl Out {
    /// The blue/green deployment's summary.
    fn bg(&self) -> &Value {
        &self.summary["blue_green"][0]
    }

    /// Green's share of the arrivals of the minute starting at `t` s.
    fn green_share(&self, t: u64) -> f64 {
        let m = &self.arrivals[&t];
        let (b, g) = (m["blue"], m["green"]);
        g / (b + g)
    }

    /// The times of the events of `kind` (for `service`, if given).
    fn times(&self, kind: &str, service: Option<&str>) -> Vec<f64> {
        self.events
            .iter()
            .filter(|r| r[1] == kind && service.is_none_or(|s| r[2] == s))
            .map(|r| r[0].parse().unwrap())
            .collect()
    }
}

/// Runs scenario text `text` with `sets` overrides, writing its files under `dir`.
fn run(text: &str, sets: &[&str], dir: &Path) -> Out {
    let (summary, events, metrics) = crate::support::run_recorded("bg.toml", text, sets, dir);
    let mut arrivals: BTreeMap<u64, BTreeMap<String, f64>> = BTreeMap::new();
    for row in metrics {
        let t: f64 = row["time_s"].parse().unwrap();
        arrivals.entry(t as u64).or_default().insert(
            row["target_group"].clone(),
            row["arrivals"].parse().unwrap(),
        );
    }
    Out {
        summary,
        events,
        arrivals,
    }
}

/// Runs the world with `bg` (and `extra`) for `duration`.
fn run_bg(duration: &str, extra: &str, bg: &str, sets: &[&str]) -> Out {
    let dir = tempfile::tempdir().unwrap();
    run(&scenario(duration, extra, bg), sets, dir.path())
}

/// With 6000 requests a minute a share's standard error is under 0.4 %; 2 % is 5 of them.
const SHARE_TOL: f64 = 0.02;

fn near(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= SHARE_TOL,
        "{what}: green's share {got:.4}, want {want} ± {SHARE_TOL}"
    );
}

#[test]
fn a_canary_sends_its_percentage_to_green_then_the_rest_after_its_interval() {
    // At 0 s green's tasks are the warm initial ones, healthy at once: the shift starts at
    // 0 s, 10 % for 5 minutes, then 100 %.
    let o = run_bg(
        "8m",
        "",
        r#"deployment_config = "CodeDeployDefault.ECSCanary10Percent5Minutes""#,
        &[],
    );
    assert_eq!(o.bg()["status"], "IN_PROGRESS", "{}", o.bg());
    assert_eq!(f(&o.bg()["shift_started_s"]), 0.0);
    assert_eq!(f(&o.bg()["shifted_s"]), 300.0);
    for t in [0, 60, 120, 180, 240] {
        near(&format!("minute at {t} s"), o.green_share(t), 0.10);
    }
    for t in [300, 360, 420] {
        assert_eq!(o.green_share(t), 1.0, "minute at {t} s");
    }
    let shifts: Vec<(f64, u64)> = o.bg()["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (f(&s["time_s"]), s["green_percent"].as_u64().unwrap()))
        .collect();
    assert_eq!(shifts, [(0.0, 10), (300.0, 100)]);
    assert_eq!(o.times("traffic_shifted", None), [0.0, 300.0]);
}

#[test]
fn a_linear_configuration_shifts_in_equal_steps_every_interval() {
    // Custom TimeBasedLinear: 25 % more every 2 minutes.
    let o = run_bg(
        "9m",
        "",
        r#"deployment_config = { type = "linear", percent = 25, interval = "2m" }"#,
        &[],
    );
    assert_eq!(o.bg()["deployment_config"], "Custom");
    for (t, want) in [
        (0, 0.25),
        (60, 0.25),
        (120, 0.5),
        (180, 0.5),
        (240, 0.75),
        (300, 0.75),
    ] {
        near(&format!("minute at {t} s"), o.green_share(t), want);
    }
    assert_eq!(o.green_share(360), 1.0);
    assert_eq!(o.green_share(420), 1.0);
    assert_eq!(f(&o.bg()["shifted_s"]), 360.0);
    // A predefined linear one: +10 % every minute, 100 % at 9 minutes.
    let o = run_bg(
        "11m",
        "",
        r#"deployment_config = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes""#,
        &[],
    );
    for k in 0..9u64 {
        near(
            &format!("minute {k}"),
            o.green_share(60 * k),
            (k + 1) as f64 / 10.0,
        );
    }
    assert_eq!(o.green_share(540), 1.0);
}

#[test]
fn all_at_once_waits_for_green_to_be_healthy_then_shifts_everything() {
    // Green's tasks are launched at 2 minutes and walk the lifecycle: no traffic reaches
    // green before they are all healthy, then every request does.
    let o = run_bg("8m", "", "at = \"2m\"\ntermination_wait = \"0s\"", &[]);
    let bg = o.bg();
    assert_eq!(bg["deployment_config"], "CodeDeployDefault.ECSAllAtOnce");
    assert_eq!(f(&bg["started_s"]), 120.0);
    let shift = f(&bg["shift_started_s"]);
    // Both green targets healthy (the later of the two `target_healthy` rows) is the shift.
    let healthy = o.times("target_healthy", Some("green"));
    assert_eq!(healthy.len(), 2, "{healthy:?}");
    assert_eq!(shift, healthy[1]);
    assert!(
        shift > 150.0,
        "green cannot be healthy before its tasks start: {shift}"
    );
    assert_eq!(f(&bg["shifted_s"]), shift);
    for t in [0, 60, 120] {
        assert_eq!(o.green_share(t), 0.0, "minute at {t} s");
    }
    let first_full = (shift / 60.0).ceil() as u64 * 60;
    for t in (first_full..480).step_by(60) {
        assert_eq!(o.green_share(t), 1.0, "minute at {t} s");
    }
    // termination_wait 0: blue is terminated at the shift; the deployment succeeded.
    assert_eq!(bg["status"], "SUCCEEDED");
    assert_eq!(f(&bg["ended_s"]), shift);
}

#[test]
fn blue_is_terminated_after_the_termination_wait_and_not_before() {
    let o = run_bg("10m", "", r#"termination_wait = "4m""#, &[]);
    let bg = o.bg();
    assert_eq!(f(&bg["shifted_s"]), 0.0);
    assert_eq!(bg["status"], "SUCCEEDED");
    assert_eq!(f(&bg["ended_s"]), 240.0);
    assert_eq!(o.times("task_set_terminated", Some("blue")), [240.0]);
    assert_eq!(o.times("blue_green_succeeded", None), [240.0]);
    // No blue task begins to stop before the wait is over; both do at its end, and drain.
    let stopping: Vec<f64> = o
        .events
        .iter()
        .filter(|r| r[1] == "task_state" && r[2] == "blue" && r[5] == "DEACTIVATING")
        .map(|r| r[0].parse().unwrap())
        .collect();
    assert_eq!(stopping, [240.0, 240.0]);
    assert_eq!(o.times("task_stopped", Some("blue")).len(), 2);
    assert_eq!(o.times("task_stopped", Some("green")).len(), 0);
    // Green's task set keeps serving everything.
    assert_eq!(o.green_share(300), 1.0);
    // The default wait is an hour: blue still runs at the end of a 10-minute run.
    let o = run_bg("10m", "", "", &[]);
    assert_eq!(o.bg()["status"], "IN_PROGRESS");
    assert!(o.times("task_set_terminated", None).is_empty());
}

/// 5 % of green's responses are 500s.
const BAD_GREEN: &str = r#"
[[faults]]
type = "app_errors"
service = "green"
start = "0s"
duration = "1h"
fraction = 0.05
"#;

/// More than 5 green 500s in a minute.
const ALARM: &str = r#"alarm = { metric_name = "HTTPCode_Target_5XX_Count", statistic = "Sum", threshold = 5, comparison_operator = "GreaterThanThreshold", evaluation_periods = 1 }"#;

#[test]
fn an_alarm_rolls_the_traffic_back_to_blue_and_stops_green() {
    let bg =
        format!("deployment_config = \"CodeDeployDefault.ECSCanary10Percent15Minutes\"\n{ALARM}");
    let o = run_bg("12m", BAD_GREEN, &bg, &[]);
    let s = o.bg();
    assert_eq!(s["status"], "ROLLED_BACK", "{s}");
    assert_eq!(s["green_percent_at_end"], 0);
    // Minute 0's datapoint (about 30 green 500s) is published at 120 s (60 s ingestion
    // delay): the alarm is in ALARM then, and the rollback is immediate.
    let end = f(&s["ended_s"]);
    assert_eq!(end, 120.0);
    assert_eq!(o.times("traffic_shifted", None), [0.0, 120.0]);
    let back = o
        .events
        .iter()
        .find(|r| r[1] == "traffic_shifted" && r[0] == "120")
        .unwrap();
    assert_eq!(back[5], "ROLLBACK");
    assert_eq!(o.times("task_set_terminated", Some("green")), [120.0]);
    assert!(o.times("task_set_terminated", Some("blue")).is_empty());
    near("minute 0", o.green_share(0), 0.10);
    for t in (180..720).step_by(60) {
        assert_eq!(
            o.green_share(t),
            0.0,
            "minute at {t} s: traffic is back on blue"
        );
    }
    assert_eq!(o.times("task_stopped", Some("green")).len(), 2);
    // The same bad green without the alarm: the canary goes on to 100 % at 15 minutes.
    let o = run_bg(
        "12m",
        BAD_GREEN,
        "deployment_config = \"CodeDeployDefault.ECSCanary10Percent15Minutes\"",
        &[],
    );
    assert_eq!(o.bg()["status"], "IN_PROGRESS");
    near("minute 10", o.green_share(600), 0.10);
}

#[test]
fn a_green_that_never_turns_healthy_fails_the_deployment_after_an_hour() {
    // Green's health checks expect a 404 its application never answers.
    let o = run_bg(
        "70m",
        "",
        "at = \"1m\"",
        &[
            "target_groups.green.health_check.matcher=\"404\"",
            "clients.c.arrivals.rate_rps=5",
        ],
    );
    let s = o.bg();
    assert_eq!(s["status"], "FAILED", "{s}");
    assert_eq!(f(&s["ended_s"]), 60.0 + 3600.0);
    assert!(s["shift_started_s"].is_null());
    assert!(s["shifts"].as_array().unwrap().is_empty());
    assert_eq!(o.times("blue_green_failed", None), [3660.0]);
    assert_eq!(o.times("task_set_terminated", Some("green")), [3660.0]);
    let green: f64 = o.arrivals.values().map(|m| m["green"]).sum();
    assert_eq!(green, 0.0);
}

/// The problems of loading the world with `bg` and `sets`.
fn problems(bg: &str, sets: &[&str]) -> String {
    match load_text("bg.toml", &scenario("10m", "", bg), sets) {
        Ok(_) => panic!("accepted: {bg} {sets:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_blue_green_tables_are_refused_naming_the_field_and_the_range() {
    let cases: [(&str, &[&str], &[&str]); 8] = [
        (
            r#"termination_wait = "3d""#,
            &[],
            &["blue_green.0.termination_wait", "allowed 0–2880 min"],
        ),
        (
            r#"termination_wait = "90s""#,
            &[],
            &[
                "blue_green.0.termination_wait",
                "not a whole number of minutes",
            ],
        ),
        (
            r#"deployment_config = "CodeDeployDefault.ECSCanary50Percent""#,
            &[],
            &[
                "blue_green.0.deployment_config",
                "CodeDeployDefault.ECSAllAtOnce",
            ],
        ),
        (
            r#"deployment_config = { type = "canary", percent = 100, interval = "5m" }"#,
            &[],
            &["blue_green.0.deployment_config.percent", "allowed 1–99"],
        ),
        (
            r#"deployment_config = { type = "linear", percent = 10, interval = "30s" }"#,
            &[],
            &[
                "blue_green.0.deployment_config.interval",
                "allowed 1–2880 min",
            ],
        ),
        (
            "",
            &[
                "load_balancer.listeners.0.default_action={type=\"forward\",target_groups=[{target_group=\"blue\",weight=90},{target_group=\"green\",weight=10}]}",
            ],
            &["blue_green.0.listener", "weight 10; give it 0"],
        ),
        (
            "",
            &["load_balancer.listeners.0.default_action={type=\"forward\",target_group=\"blue\"}"],
            &["blue_green.0.listener", "must be a weighted forward"],
        ),
        (
            "rule = 7",
            &[],
            &["blue_green.0.rule", "no rule with priority 7"],
        ),
    ];
    for (bg, sets, want) in cases {
        let p = problems(bg, sets);
        for w in want {
            assert!(p.contains(w), "{bg} {sets:?}: {p:?} lacks {w:?}");
        }
    }
    let p = problems("", &["blue_green.0.green_service=\"blue\""]);
    assert!(p.contains("the blue and green services must differ"), "{p}");
    let p = problems(
        r#"alarm = { metric_name = "Latency", statistic = "Sum", threshold = 1, comparison_operator = "GreaterThanThreshold", evaluation_periods = 1 }"#,
        &[],
    );
    assert!(p.contains("blue_green.0.alarm.metric_name"), "{p}");
}

#[test]
fn blue_green_canary_scenario_bounds_a_bad_release_to_the_canary() {
    // The headline: with a canary, a small fraction of the run's requests reach the bad
    // green before the alarm rolls back; all at once, with the same detection delay, many
    // times more do.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(root.join("scenarios/blue-green-canary.toml")).unwrap();
    let green_fraction = |sets: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let o = run(&text, sets, dir.path());
        assert_eq!(o.bg()["status"], "ROLLED_BACK", "{}", o.bg());
        let groups = o.summary["target_groups"].as_array().unwrap().clone();
        let arrived = |name: &str| {
            let g = groups.iter().find(|g| g["name"] == name).unwrap();
            f(&g["requests"]["arrived"])
        };
        let green = arrived("green");
        (green / (green + arrived("blue")), o)
    };
    let (canary, o) = green_fraction(&[]);
    assert!(
        canary > 0.0 && canary < 0.01,
        "the canary's 10 % reached green for a few minutes: {canary}"
    );
    assert!(f(&o.summary["requests"]["by_outcome"]["target_5xx"]) > 0.0);
    let (all, _) =
        green_fraction(&["blue_green.0.deployment_config=\"CodeDeployDefault.ECSAllAtOnce\""]);
    assert!(
        all > 5.0 * canary,
        "all at once: {all} of the requests reached the bad green, canary {canary}"
    );
}
