//! The fleet in the outputs: `metrics.csv`'s `desired_count`, `tasks_pending`,
//! `tasks_running`, `tasks_stopping`, `tasks_launched`, `tasks_stopped` and `summary.json`'s
//! `tasks` object, checked row by row where the lifecycle's timing is deterministic.
//!
//! **The world.** Request `k` arrives at `k/10` s (deterministic, 10 requests/s) and needs
//! 50 ms of CPU on a 1-vCPU task; 10 s metrics intervals. Lifecycle phases are the defaults:
//! provisioning 15 s, pending 20 s, activating 5 s, app start 10 s, shutdown 2 s,
//! deprovisioning 10 s; deregistration delay 300 s.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::*;
use serde_json::{Value, json};

use crate::support::{ms, read_metrics_csv, secs};

/// The new columns, in file order (right after `tasks`).
const COLUMNS: [&str; 6] = [
    "desired_count",
    "tasks_pending",
    "tasks_running",
    "tasks_stopping",
    "tasks_launched",
    "tasks_stopped",
];

/// The world above, run for `duration` with `tasks` warm tasks and faults `faults`.
fn world(duration: SimDuration, tasks: u32, faults: Vec<FaultSpec>) -> WorldSpec {
    WorldSpec {
        name: "outputs-lifecycle".into(),
        duration,
        metrics_interval: secs(10),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps: 10.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            deregistration_delay: secs(300),
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: tasks,
            cpu_time: DistSpec::Deterministic(ms(50)),
            ..Default::default()
        }],
        faults,
        ..Default::default()
    }
}

/// A fleet operation applied at a time.
type Act<'a> = (SimTime, &'a dyn Fn(&mut Simulation<Recorder>));

/// Runs `spec` with `acts`, writing its files under `out`; returns summary.json and the
/// rows of metrics.csv as (header → value) maps.
fn run(spec: &WorldSpec, out: &Path, acts: &[Act<'_>]) -> (Value, Vec<BTreeMap<String, String>>) {
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(out.to_path_buf()),
    });
    let mut sim = Simulation::new(spec, rec).unwrap();
    for (t, act) in acts {
        sim.run_until(*t);
        act(&mut sim);
    }
    sim.run();
    sim.into_observer().finish().unwrap();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    (summary, read_metrics_csv(&out.join("metrics.csv")))
}

/// One expected row: `time_s`, then `tasks` (serving, the older column), then the values of
/// [`COLUMNS`].
type Want = (&'static str, u32, [u32; 6]);

/// Checks every row's `time_s`, `tasks` and new columns against `want`, and that the
/// fleet's bookkeeping adds up: tasks not STOPPED at a row's end = those at the previous
/// row's end (`initial` before the first) + launched − stopped in the row.
fn check_rows(rows: &[BTreeMap<String, String>], want: &[Want], initial: u32) {
    let got: Vec<(String, String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            (
                r["time_s"].clone(),
                r["tasks"].clone(),
                COLUMNS.iter().map(|c| r[*c].clone()).collect(),
            )
        })
        .collect();
    let want: Vec<(String, String, Vec<String>)> = want
        .iter()
        .map(|(t, tasks, v)| {
            (
                t.to_string(),
                tasks.to_string(),
                v.iter().map(u32::to_string).collect(),
            )
        })
        .collect();
    assert_eq!(
        got, want,
        "(time_s, tasks, [desired_count, tasks_pending, tasks_running, tasks_stopping, tasks_launched, tasks_stopped])"
    );
    let n = |r: &BTreeMap<String, String>, c: &str| r[c].parse::<i64>().unwrap();
    let mut live = i64::from(initial);
    for r in rows {
        live += n(r, "tasks_launched") - n(r, "tasks_stopped");
        let states = n(r, "tasks_pending") + n(r, "tasks_running") + n(r, "tasks_stopping");
        assert_eq!(
            states, live,
            "tasks not STOPPED at the end of row {}",
            r["time_s"]
        );
    }
}

/// The header has the new columns right after `tasks`, in this order.
#[test]
fn the_new_columns_follow_tasks() {
    let h = lbsim::metrics::metrics_header();
    let at = h.iter().position(|c| c == "tasks").unwrap();
    assert_eq!(&h[at + 1..at + 7], COLUMNS);
    assert_eq!(h[at + 7], "targets_initial");
}

/// A crash at 30.02 s: the task is DEPROVISIONING (stopping) from 30.02 and STOPPED at
/// 40.02; its replacement, launched at 30.02, is pending (PROVISIONING, PENDING at 45.02,
/// ACTIVATING at 65.02) until RUNNING at 70.02. The desired count stays 1. `tasks` (serving)
/// is 0 from the crash until the replacement runs.
#[test]
fn a_crash_and_its_replacement_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let crash = FaultSpec {
        start: SimTime(30_020_000_000),
        duration: SimDuration::ZERO,
        kind: FaultKind::TaskCrash {
            service: 0,
            task: 0,
        },
        mean_time_between_failures: None,
    };
    let spec = world(secs(120), 1, vec![crash]);
    let (s, rows) = run(&spec, &dir.path().join("o"), &[]);
    // [desired, pending, running, stopping, launched, stopped]
    let steady = [1, 0, 1, 0, 0, 0];
    let want: [Want; 12] = [
        ("0", 1, steady),
        ("10", 1, steady),
        ("20", 1, steady),
        // Crashed (DEPROVISIONING until 40.02); replacement launched (PROVISIONING).
        ("30", 0, [1, 1, 0, 1, 1, 0]),
        // The crashed task STOPPED at 40.02; the replacement PENDING from 45.02.
        ("40", 0, [1, 1, 0, 0, 0, 1]),
        ("50", 0, [1, 1, 0, 0, 0, 0]),
        // ACTIVATING from 65.02: still pending.
        ("60", 0, [1, 1, 0, 0, 0, 0]),
        // RUNNING from 70.02.
        ("70", 1, steady),
        ("80", 1, steady),
        ("90", 1, steady),
        ("100", 1, steady),
        ("110", 1, steady),
    ];
    check_rows(&rows, &want, 1);
    let totals = json!({"launched": 1, "stopped": 1, "desired_at_end": 1, "launched_spot": 0, "spot_interruptions": 0});
    assert_eq!(s["tasks"], totals);
    assert_eq!(s["target_groups"][0]["tasks"], totals);
}

/// A graceful stop whose target drains across an interval's end: each request needs 15 s
/// of CPU and arrives every 20 s (k/0.05 s), so request 1 is in flight from 20 s to 35 s.
/// Stopped at 25 s, the task is DEACTIVATING (still serving: `tasks` 1, but not RUNNING)
/// until 35 s, STOPPING until 37 s, DEPROVISIONING until STOPPED at 47 s; the replacement,
/// launched at 25 s, is pending until RUNNING at 65 s.
#[test]
fn a_draining_task_is_stopping_but_still_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = world(secs(100), 1, vec![]);
    spec.clients[0].arrivals = ArrivalSpec::Deterministic { rate_rps: 0.05 };
    spec.services[0].cpu_time = DistSpec::Deterministic(secs(15));
    let (s, rows) = run(
        &spec,
        &dir.path().join("o"),
        &[(SimTime(25_000_000_000), &|sim: &mut Simulation<
            Recorder,
        >| {
            sim.stop_task_gracefully(TaskId(0)).unwrap()
        })],
    );
    let steady = [1, 0, 1, 0, 0, 0];
    let want: [Want; 10] = [
        ("0", 1, steady),
        ("10", 1, steady),
        // DEACTIVATING at the row's end (draining request 1); replacement PROVISIONING.
        ("20", 1, [1, 1, 0, 1, 1, 0]),
        // Drained at 35 s: STOPPING, then DEPROVISIONING from 37 s.
        ("30", 0, [1, 1, 0, 1, 0, 0]),
        // STOPPED at 47 s; the replacement PENDING from 40 s.
        ("40", 0, [1, 1, 0, 0, 0, 1]),
        ("50", 0, [1, 1, 0, 0, 0, 0]),
        // ACTIVATING from 60 s, RUNNING from 65 s.
        ("60", 1, steady),
        ("70", 1, steady),
        ("80", 1, steady),
        ("90", 1, steady),
    ];
    check_rows(&rows, &want, 1);
    // Request 1 drained (ok at 35 s); requests at 40 s and 60 s found no healthy target.
    assert_eq!(
        s["requests"]["by_outcome"]["elb_502_deregistration_delay"],
        0
    );
    assert_eq!(s["requests"]["by_outcome"]["elb_503_no_targets"], 2);
    let totals = json!({"launched": 1, "stopped": 1, "desired_at_end": 1, "launched_spot": 0, "spot_interruptions": 0});
    assert_eq!(s["tasks"], totals);
    assert_eq!(s["target_groups"][0]["tasks"], totals);
}

/// A kill lowers the desired count (no replacement) and the task is STOPPED at once; a warm
/// launch raises it and counts as launched (RUNNING at once), unlike the initial tasks.
#[test]
fn a_kill_and_a_warm_launch_move_the_desired_count() {
    let dir = tempfile::tempdir().unwrap();
    let spec = world(secs(60), 2, vec![]);
    let (s, rows) = run(
        &spec,
        &dir.path().join("o"),
        &[
            (SimTime(30_070_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.stop_task(TaskId(1)).unwrap()
            }),
            (SimTime(45_070_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.launch_task(ServiceId(0)).unwrap();
            }),
        ],
    );
    let two = [2, 0, 2, 0, 0, 0];
    let want: [Want; 6] = [
        ("0", 2, two),
        ("10", 2, two),
        ("20", 2, two),
        ("30", 1, [1, 0, 1, 0, 0, 1]),
        ("40", 2, [2, 0, 2, 0, 1, 0]),
        ("50", 2, two),
    ];
    check_rows(&rows, &want, 2);
    let totals = json!({"launched": 1, "stopped": 1, "desired_at_end": 2, "launched_spot": 0, "spot_interruptions": 0});
    assert_eq!(s["tasks"], totals);
    assert_eq!(s["target_groups"][0]["tasks"], totals);
}
