//! Application Auto Scaling on CloudWatch datapoints, checked with exact times through the
//! files a user reads (`events.csv`, `cloudwatch.csv`, `alarms.csv`, `metrics.csv`).
//!
//! **The world.** One service of 1-vCPU tasks behind round robin; every request takes 10 ms
//! of CPU, so `r` requests/s are `r %` of one vCPU. Arrivals are Poisson at a scheduled
//! rate, chosen far from every threshold, so the times below do not depend on the draws.
//! Lifecycle phases and health checks are the defaults (a new task is RUNNING 40 s after
//! its launch and listens 10 s later). CloudWatch minute `k` is `[60k s, 60k + 60 s)`; its
//! datapoints are published at `60k + 60 s` plus the ingestion delay (default 60 s).
//!
//! - **Scale-out world:** 1 task, 20 requests/s (20 % CPU) until 600 s, then 400 requests/s:
//!   the task is saturated (100 %) from minute 10. The third breaching datapoint (minute 12)
//!   is published at 780 + 60 = 840 s: the first scale-out, to ceil(1 × 100 ÷ 70) = 2.
//! - **Scale-in world:** 4 tasks, 120 requests/s (30 % each) until 1000 s, then 20
//!   requests/s. Every datapoint is below 0.9 × 70 = 63 %, so the 15th (minute 14) is published
//!   at 900 + 60 = 960 s: the first scale-in, to ceil(4 × 30 ÷ 70) = 2.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::Simulation;

use crate::support::load_text;

/// The scenario: `points` is the arrival schedule's points (TOML), `desired` the initial
/// count, `scaling` the body of `[services.auto_scaling]` and what follows it.
fn scenario(duration: &str, points: &str, desired: u32, scaling: &str, extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "as"
duration = "{duration}"
seed = 7
metrics_interval = "1m"

[[clients]]
name = "c"
arrivals = {{ process = "schedule", points = {points} }}

[load_balancer]

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "web" }}

[[target_groups]]
name = "web"
deregistration_delay = "30s"

[[services]]
name = "web"
target_group = "web"
desired_count = {desired}
request = {{ cpu_time = "10ms" }}
{extra}

[services.auto_scaling]
{scaling}
"#
    )
}

const SCALE_OUT: &str = r#"[["0s", 20], ["600s", 400]]"#;
const SCALE_IN: &str = r#"[["0s", 120], ["1000s", 20]]"#;

const CPU70: &str = r#"
[[services.auto_scaling.target_tracking]]
name = "cpu70"
target_value = 70.0
predefined_metric_type = "ECSServiceAverageCPUUtilization"
"#;

/// What one run wrote, each CSV as rows of column → value.
struct Out {
    events: Vec<BTreeMap<String, String>>,
    cloudwatch: Vec<BTreeMap<String, String>>,
    alarms: Vec<BTreeMap<String, String>>,
    metrics: Vec<BTreeMap<String, String>>,
}

fn read(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|row| {
            header
                .iter()
                .cloned()
                .zip(row.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn run(text: &str, sets: &[&str]) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let spec = load_text("as.toml", text, sets).unwrap();
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(dir.path().to_path_buf()),
    });
    let mut sim = Simulation::new(&spec, rec).unwrap();
    sim.run();
    sim.into_observer().finish().unwrap();
    let _ = fs::read_dir(dir.path()).unwrap();
    Out {
        events: read(&dir.path().join("events.csv")),
        cloudwatch: read(&dir.path().join("cloudwatch.csv")),
        alarms: read(&dir.path().join("alarms.csv")),
        metrics: read(&dir.path().join("metrics.csv")),
    }
}

/// The scaling activities: (time s, from, to, reason), read from `events.csv`'s words.
fn activities(out: &Out) -> Vec<(f64, u32, u32, String)> {
    out.events
        .iter()
        .filter(|e| e["kind"] == "scaling_activity")
        .map(|e| {
            let d = &e["detail"];
            let from_to = d
                .split("changing the desired capacity from ")
                .nth(1)
                .unwrap();
            let mut it = from_to.split(['.', ' ']);
            let from: u32 = it.next().unwrap().parse().unwrap();
            let _to_word = it.next();
            let to: u32 = it.next().unwrap().parse().unwrap();
            assert!(
                d.ends_with(&format!(
                    "Successfully set desired count to {to}. Change successfully fulfilled by ecs."
                )),
                "{d}"
            );
            (e["time_s"].parse().unwrap(), from, to, e["reason"].clone())
        })
        .collect()
}

#[test]
fn scale_out_comes_when_the_third_breaching_datapoint_is_published() {
    let out = run(
        &scenario(
            "20m",
            SCALE_OUT,
            1,
            &format!("min_capacity = 1\nmax_capacity = 10\n{CPU70}"),
            "",
        ),
        &[],
    );
    let acts = activities(&out);
    assert_eq!(acts[0], (840.0, 1, 2, "cpu70".into()), "{acts:?}");
    // The datapoints a user sees: minute 12's (720–780 s) published at 840 s, at 100 %.
    let dp = out
        .cloudwatch
        .iter()
        .find(|r| r["period_start_s"] == "720")
        .unwrap();
    assert_eq!(dp["time_s"], "840");
    assert_eq!(dp["metric_name"], "CPUUtilization");
    assert!(dp["value"].parse::<f64>().unwrap() > 99.9, "{dp:?}");
    // Minute 9 (before the step) is about 20 %.
    let before = out
        .cloudwatch
        .iter()
        .find(|r| r["period_start_s"] == "540")
        .unwrap();
    let v: f64 = before["value"].parse().unwrap();
    assert!((15.0..25.0).contains(&v), "{before:?}");
    // The high alarm turns ALARM at 840 s, not before.
    let high: Vec<_> = out
        .alarms
        .iter()
        .filter(|a| a["alarm_name"] == "TargetTracking-service/default/web-AlarmHigh-cpu70")
        .collect();
    let first_alarm = high.iter().find(|a| a["state"] == "ALARM").unwrap();
    assert_eq!(first_alarm["time_s"], "840");
    assert_eq!(high[0]["time_s"], "120", "minute 0 is published at 120 s");
    // The desired count in metrics.csv follows: 1 in the row ending at 840 s... 2 after.
    let row = |t: &str| out.metrics.iter().find(|r| r["time_s"] == t).unwrap();
    assert_eq!(row("780")["desired_count"], "1");
    assert_eq!(row("840")["desired_count"], "2");
    assert_eq!(row("840")["scaling_activities"], "1");
}

#[test]
fn the_ingestion_delay_moves_the_scale_out() {
    for (delay, want) in [("0s", 780.0), ("150s", 930.0)] {
        let text = scenario(
            "20m",
            SCALE_OUT,
            1,
            &format!("min_capacity = 1\nmax_capacity = 10\n{CPU70}"),
            "",
        ) + &format!("\n[cloudwatch]\ningestion_delay = \"{delay}\"\n");
        let acts = activities(&run(&text, &[]));
        assert_eq!(acts[0].0, want, "ingestion delay {delay}: {acts:?}");
    }
}

#[test]
fn the_breaching_datapoints_needed_are_a_what_if() {
    let text = scenario(
        "20m",
        SCALE_OUT,
        1,
        &format!("min_capacity = 1\nmax_capacity = 10\n{CPU70}"),
        "",
    );
    let acts = activities(&run(
        &text,
        &["services.0.auto_scaling.target_tracking.0.high_alarm_datapoints=1"],
    ));
    // Minute 10's datapoint alone: published at 660 + 60 s.
    assert_eq!(acts[0].0, 720.0, "{acts:?}");
}

#[test]
fn during_the_scale_out_cooldown_only_a_larger_scale_out_happens() {
    let text = scenario(
        "25m",
        SCALE_OUT,
        1,
        &format!("min_capacity = 1\nmax_capacity = 10\n{CPU70}"),
        "",
    );
    // Default cooldown (300 s): the metric describes the one task of before the scale-out,
    // ceil(1 × 100 ÷ 70) = 2 is not larger, so the next scale-out waits for the cooldown's
    // end: the publication at 1140 s, from 2 tasks at 100 %: ceil(2 × 100 ÷ 70) = 3.
    let acts = activities(&run(&text, &[]));
    assert_eq!(acts[0].0, 840.0, "{acts:?}");
    assert_eq!(acts[1], (1140.0, 2, 3, "cpu70".into()), "{acts:?}");
    // No cooldown: the next publication scales out again, from the current desired count.
    let acts = activities(&run(
        &text,
        &["services.0.auto_scaling.target_tracking.0.scale_out_cooldown=\"0s\""],
    ));
    assert_eq!(acts[0].0, 840.0, "{acts:?}");
    assert_eq!(acts[1].0, 900.0, "{acts:?}");
    assert_eq!((acts[1].1, acts[1].2), (2, 3), "{acts:?}");
}

#[test]
fn clamping_to_the_capacity_bounds() {
    let text = scenario(
        "25m",
        SCALE_OUT,
        1,
        &format!("min_capacity = 1\nmax_capacity = 2\n{CPU70}"),
        "",
    );
    let acts = activities(&run(&text, &[]));
    assert_eq!(acts, vec![(840.0, 1, 2, "cpu70".into())]);
    // Scale-in clamped by min_capacity 3 (the formula says 2).
    let text = scenario(
        "20m",
        SCALE_IN,
        4,
        &format!("min_capacity = 3\nmax_capacity = 4\n{CPU70}"),
        "",
    );
    let acts = activities(&run(&text, &[]));
    assert_eq!(acts[0], (960.0, 4, 3, "cpu70".into()), "{acts:?}");
}

#[test]
fn scale_in_after_fifteen_low_datapoints_then_the_scale_in_cooldown() {
    let text = scenario(
        "30m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 4\n{CPU70}"),
        "",
    );
    let out = run(&text, &[]);
    let acts = activities(&out);
    // 15 datapoints below 63 %: minutes 0–14, the last published at 960 s. Then the load
    // drops at 1000 s and the formula wants 1 from the publication at 1140 s, but the
    // scale-in cooldown (300 s) holds it until 1260 s.
    assert_eq!(
        acts,
        vec![
            (960.0, 4, 2, "cpu70".into()),
            (1260.0, 2, 1, "cpu70".into())
        ]
    );
    let low = out
        .alarms
        .iter()
        .filter(|a| a["alarm_name"].ends_with("AlarmLow-cpu70"))
        .find(|a| a["state"] == "ALARM")
        .unwrap();
    assert_eq!(low["time_s"], "960");
    assert_eq!(low["threshold"], "63");
    // The two tasks stopped drain (their target first), then stop.
    let draining: Vec<_> = out
        .events
        .iter()
        .filter(|e| e["kind"] == "target_draining" && e["time_s"] == "960")
        .collect();
    assert_eq!(draining.len(), 2);
    // A longer cooldown.
    let acts = activities(&run(
        &text,
        &["services.0.auto_scaling.target_tracking.0.scale_in_cooldown=\"600s\""],
    ));
    assert_eq!(acts[1].0, 1560.0, "{acts:?}");
    // disable_scale_in: never.
    let acts = activities(&run(
        &text,
        &["services.0.auto_scaling.target_tracking.0.disable_scale_in=true"],
    ));
    assert!(acts.is_empty(), "{acts:?}");
}

#[test]
fn scale_in_stops_tasks_from_the_zone_with_the_most() {
    // 4 tasks over 3 zones, launched in us-east-1a, b, c, a. Scaling in to 2 stops one from
    // us-east-1a (it has the most), then the three zones tie at 1 and the first zone gives
    // one more: b and c keep one task each.
    let text = scenario(
        "17m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 4\n{CPU70}"),
        "",
    );
    let out = run(&text, &[]);
    let zone_of = |task: &str| -> String {
        let launched = out
            .events
            .iter()
            .find(|e| e["task"] == task && e["kind"] == "task_running")
            .unwrap();
        launched["detail"]
            .rsplit(" in ")
            .next()
            .unwrap()
            .trim_end_matches('.')
            .to_string()
    };
    let mut stopped: Vec<String> = out
        .events
        .iter()
        .filter(|e| e["kind"] == "target_draining" && e["time_s"] == "960")
        .map(|e| zone_of(&e["task"]))
        .collect();
    stopped.sort();
    assert_eq!(
        stopped,
        ["us-east-1a", "us-east-1a"],
        "launch order a, b, c, a?"
    );
}

#[test]
fn several_policies_out_if_any_in_only_if_all_and_the_largest_wins() {
    // The scale-in world serves 120 requests/s over 4 targets: 1800 requests per target per
    // minute.
    let rcpt = |target: f64, extra: &str| {
        format!(
            "{CPU70}\n[[services.auto_scaling.target_tracking]]\nname = \"rcpt\"\n\
             target_value = {target}\npredefined_metric_type = \"ALBRequestCountPerTarget\"\n{extra}\n"
        )
    };
    // Target 1500: the request policy wants out (3 of 3 above: minutes 0–2, published at
    // 240 s) while the CPU one holds.
    let text = scenario(
        "5m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 10\n{}", rcpt(1500.0, "")),
        "",
    );
    let acts = activities(&run(&text, &[]));
    assert_eq!(acts[0], (240.0, 4, 5, "rcpt".into()), "{acts:?}");
    // Target 2500 (low threshold 2250): both want in, CPU to 2, requests to
    // ceil(4 × 1800 ÷ 2500) = 3: the largest wins.
    let text = scenario(
        "17m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 10\n{}", rcpt(2500.0, "")),
        "",
    );
    let acts = activities(&run(&text, &[]));
    assert_eq!(acts, vec![(960.0, 4, 3, "rcpt".into())]);
    // Target 1900 (low threshold 1710): the request policy does not want in: no scale-in.
    let text = scenario(
        "17m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 10\n{}", rcpt(1900.0, "")),
        "",
    );
    assert!(activities(&run(&text, &[])).is_empty());
    // ... unless its scale-in is disabled: then the CPU policy alone decides.
    let text = scenario(
        "17m",
        SCALE_IN,
        4,
        &format!(
            "min_capacity = 1\nmax_capacity = 10\n{}",
            rcpt(1900.0, "disable_scale_in = true")
        ),
        "",
    );
    let acts = activities(&run(&text, &[]));
    assert_eq!(acts, vec![(960.0, 4, 2, "cpu70".into())]);
}

#[test]
fn no_data_means_insufficient_data_and_no_scaling() {
    // No task: CPU has no datapoint, every alarm is INSUFFICIENT_DATA, nothing scales even
    // though every request gets a 503.
    let text = scenario(
        "10m",
        SCALE_OUT,
        0,
        &format!("min_capacity = 0\nmax_capacity = 4\n{CPU70}"),
        "",
    );
    let out = run(&text, &[]);
    assert!(activities(&out).is_empty());
    assert!(!out.alarms.is_empty());
    assert!(out.alarms.iter().all(|a| a["state"] == "INSUFFICIENT_DATA"));
    assert!(out.cloudwatch.iter().all(|r| r["value"].is_empty()));
}

#[test]
fn scale_in_is_suspended_while_a_deployment_is_in_progress() {
    // A deployment at 900 s: its old tasks drain for the 30 s deregistration delay, new
    // ones start: scale-in waits for the first publication after it completes.
    let deploy = "[[services.deployments]]\nat = \"900s\"\nrequest = { cpu_time = \"10ms\" }\n";
    let text = scenario(
        "30m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 4\n{CPU70}"),
        deploy,
    );
    let out = run(&text, &[]);
    let done: f64 = out
        .events
        .iter()
        .find(|e| e["kind"] == "deployment_completed")
        .expect("the deployment completes")["time_s"]
        .parse()
        .unwrap();
    assert!(done > 960.0, "completed at {done}");
    let acts = activities(&out);
    let next_publication = (done / 60.0).ceil() * 60.0;
    assert_eq!(acts[0].0, next_publication, "completed at {done}: {acts:?}");
    assert!(acts[0].2 < acts[0].1, "a scale-in: {acts:?}");
}

#[test]
fn a_scheduled_action_clamps_at_once_ignoring_cooldowns() {
    let actions = r#"
[[services.auto_scaling.scheduled_actions]]
name = "morning"
at = "300s"
min_capacity = 3

[[services.auto_scaling.scheduled_actions]]
name = "night"
daily_at = "00:08"
max_capacity = 2
"#;
    let text = scenario(
        "10m",
        SCALE_IN,
        1,
        &format!("min_capacity = 1\nmax_capacity = 5\n{actions}"),
        "",
    );
    let out = run(&text, &[]);
    let acts = activities(&out);
    assert_eq!(
        acts,
        vec![
            (300.0, 1, 3, "morning".into()),
            (480.0, 3, 2, "night".into())
        ]
    );
    let updates: Vec<_> = out
        .events
        .iter()
        .filter(|e| e["kind"] == "scheduled_action")
        .map(|e| e["time_s"].clone())
        .collect();
    assert_eq!(updates, ["300", "480"]);
}

#[test]
fn step_scaling_picks_the_step_of_the_breach() {
    let policy = r#"
[[services.auto_scaling.step_scaling]]
name = "steps"
alarm = { metric_name = "CPUUtilization", statistic = "Average", threshold = 70, comparison_operator = "GreaterThanThreshold", evaluation_periods = 2 }
adjustment_type = "ChangeInCapacity"
step_adjustments = [{ metric_interval_lower_bound = 0, metric_interval_upper_bound = 20, scaling_adjustment = 1 }, { metric_interval_lower_bound = 20, scaling_adjustment = 3 }]
"#;
    let text = scenario(
        "15m",
        SCALE_OUT,
        1,
        &format!("min_capacity = 1\nmax_capacity = 10\n{policy}"),
        "",
    );
    let out = run(&text, &[]);
    let acts = activities(&out);
    // Minutes 10 and 11 at 100 %: published at 780 s, 30 above the threshold: +3.
    assert_eq!(acts[0], (780.0, 1, 4, "steps".into()), "{acts:?}");
    assert!(
        out.alarms
            .iter()
            .any(|a| a["alarm_name"] == "web-steps" && a["state"] == "ALARM")
    );
}

#[test]
fn bad_auto_scaling_settings_name_the_field_and_the_range() {
    let cases: [(&str, &str); 6] = [
        ("services.0.auto_scaling.max_capacity=0", "max_capacity"),
        ("services.0.auto_scaling.min_capacity=2", "desired_count"),
        (
            "services.0.auto_scaling.target_tracking.0.predefined_metric_type=\"CPU\"",
            "ECSServiceAverageCPUUtilization",
        ),
        (
            "services.0.auto_scaling.target_tracking.0.low_alarm_datapoints=0",
            "not configurable in AWS",
        ),
        (
            "services.0.auto_scaling.target_tracking.0.scale_in_cooldown=\"1.5s\"",
            "whole seconds",
        ),
        ("cloudwatch.ingestion_delay=\"1h\"", "0s–600s"),
    ];
    let text = scenario(
        "10m",
        SCALE_OUT,
        1,
        &format!("min_capacity = 1\nmax_capacity = 4\n{CPU70}"),
        "",
    );
    for (set, want) in cases {
        let errs = load_text("as.toml", &text, &[set]).expect_err(set);
        let msg = errs.to_string();
        assert!(msg.contains(want), "{set}: {msg}");
    }
}

#[test]
fn a_customized_metric_tracks_the_p99_response_time() {
    let policy = r#"
[[services.auto_scaling.target_tracking]]
name = "p99"
target_value = 0.1
customized_metric = { metric_name = "TargetResponseTime", namespace = "AWS/ApplicationELB", statistic = "p99" }
"#;
    let text = scenario(
        "20m",
        SCALE_OUT,
        1,
        &format!("min_capacity = 1\nmax_capacity = 10\n{policy}"),
        "",
    );
    let out = run(&text, &[]);
    // Before the step, a request takes its 10 ms of CPU, sharing the vCPU now and then: the
    // minute's p99 is tens of milliseconds, in seconds as CloudWatch writes it.
    let dp = out
        .cloudwatch
        .iter()
        .find(|r| r["period_start_s"] == "300")
        .unwrap();
    assert_eq!(
        (dp["metric_name"].as_str(), dp["statistic"].as_str()),
        ("TargetResponseTime", "p99")
    );
    let v: f64 = dp["value"].parse().unwrap();
    assert!((0.009..0.06).contains(&v), "{dp:?}");
    // After it the queue grows without bound: three breaching minutes, published at 840 s.
    let acts = activities(&out);
    assert_eq!(acts[0].0, 840.0, "{acts:?}");
    assert_eq!(acts[0].3, "p99");
}

#[test]
fn request_count_per_target_is_the_minute_s_requests_over_the_healthy_targets() {
    let policy = r#"
[[services.auto_scaling.target_tracking]]
name = "rcpt"
target_value = 5000
predefined_metric_type = "ALBRequestCountPerTarget"
"#;
    let text = scenario(
        "10m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 4\n{policy}"),
        "",
    );
    let out = run(&text, &[]);
    for m in &out.metrics {
        let t = &m["time_s"];
        let Some(dp) = out.cloudwatch.iter().find(|r| &r["period_start_s"] == t) else {
            continue;
        };
        let arrivals: f64 = m["arrivals"].parse().unwrap();
        let healthy: f64 = m["targets_healthy"].parse().unwrap();
        let v: f64 = dp["value"].parse().unwrap();
        assert!(
            (v - arrivals / healthy).abs() <= 0.5,
            "minute {t}: RequestCountPerTarget {v}, metrics.csv {arrivals} / {healthy}"
        );
    }
}

#[test]
fn a_scale_out_cancels_the_scale_in_cooldown() {
    // Alarms of 3 datapoints both ways (a what-if) and a scale-in cooldown of 30 minutes:
    // 30 % on 4 tasks scales in to 2 at 240 s; 400 requests/s from 300 s saturate them and
    // scale out to 3 at 540 s, which cancels the cooldown. From 600 s only 20 requests/s
    // arrive, but the backlog built while 2 tasks were saturated keeps the 3 busy for a
    // while: the scale-in comes at 1140 s, not at the end of the first scale-in's cooldown
    // (2040 s, after this run).
    let policy = format!(
        "{CPU70}high_alarm_datapoints = 3\nlow_alarm_datapoints = 3\nscale_in_cooldown = \"1800s\"\n"
    );
    let text = scenario(
        "20m",
        r#"[["0s", 120], ["300s", 400], ["600s", 20]]"#,
        4,
        &format!("min_capacity = 1\nmax_capacity = 10\n{policy}"),
        "",
    );
    let acts = activities(&run(&text, &[]));
    assert_eq!(
        acts,
        vec![
            (240.0, 4, 2, "cpu70".into()),
            (540.0, 2, 3, "cpu70".into()),
            (1140.0, 3, 1, "cpu70".into())
        ]
    );
}

#[test]
fn memory_utilization_is_published_from_the_memory_model() {
    // Each task holds 1024 MiB of its 2048 at rest, and 1 MiB per request in flight (about
    // 0.2 on average): about 50 %.
    let policy = r#"
[[services.auto_scaling.target_tracking]]
name = "mem80"
target_value = 80
predefined_metric_type = "ECSServiceAverageMemoryUtilization"
"#;
    let text = scenario(
        "5m",
        SCALE_IN,
        4,
        &format!("min_capacity = 1\nmax_capacity = 10\n{policy}"),
        "memory = { base_mib = 1024, per_request_mib = 1 }",
    );
    let out = run(&text, &[]);
    let values: Vec<f64> = out
        .cloudwatch
        .iter()
        .map(|r| {
            assert_eq!(r["metric_name"], "MemoryUtilization");
            r["value"].parse().unwrap()
        })
        .collect();
    assert_eq!(
        values.len(),
        4,
        "minutes 0-3 published at 120, 180, 240, 300 s"
    );
    assert!(
        values.iter().all(|v| (50.0..50.1).contains(v)),
        "{values:?}"
    );
    assert!(activities(&out).is_empty());
}

#[test]
fn a_percent_step_with_a_minimum_magnitude_and_its_cooldown() {
    let policy = r#"
[[services.auto_scaling.step_scaling]]
name = "pct"
alarm = { metric_name = "CPUUtilization", statistic = "Average", threshold = 70, comparison_operator = "GreaterThanThreshold", evaluation_periods = 2 }
adjustment_type = "PercentChangeInCapacity"
min_adjustment_magnitude = 2
step_adjustments = [{ metric_interval_lower_bound = 0, scaling_adjustment = 50 }]
"#;
    let text = scenario(
        "20m",
        SCALE_OUT,
        2,
        &format!("min_capacity = 1\nmax_capacity = 10\n{policy}"),
        "",
    );
    let acts = activities(&run(&text, &[]));
    // 50 % of 2 is 1, raised to the minimum magnitude 2: 2 -> 4 at 780 s. During the 300 s
    // cooldown the same step from the capacity before (2) is not larger; at 1080 s, from 4:
    // 4 -> 6.
    assert_eq!(acts[0], (780.0, 2, 4, "pct".into()), "{acts:?}");
    assert_eq!(acts[1], (1080.0, 4, 6, "pct".into()), "{acts:?}");
}
