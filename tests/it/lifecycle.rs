//! Tasks that come and go, checked where the timing is deterministic, through the files a
//! user reads (`events.csv`, `summary.json`).
//!
//! **The world.** Request `k` arrives at `k/10` s (deterministic, 10 requests/s) and needs
//! 50 ms of CPU on a 1-vCPU task, so a request is in flight during the first 50 ms of each
//! tenth of a second. Lifecycle phases are the defaults (calibrated guesses): provisioning
//! 15 s, pending 20 s, activating 5 s, app start 10 s, shutdown 2 s, deprovisioning 10 s,
//! `stop_timeout` 30 s; the target group's `deregistration_delay` is set per test.

use std::fs;
use std::path::Path;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::*;
use serde_json::Value;

use crate::support::{close, f, ms, secs};

/// The world above, run for `duration`, with `tasks` warm tasks and faults `faults`.
fn world(
    duration: SimDuration,
    tasks: u32,
    delay: SimDuration,
    faults: Vec<FaultSpec>,
) -> WorldSpec {
    WorldSpec {
        name: "lifecycle".into(),
        duration,
        metrics_interval: secs(10),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps: 10.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            deregistration_delay: delay,
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

/// A crash of the service's oldest task at `at`.
fn crash_of_task_0(at: SimTime) -> FaultSpec {
    FaultSpec {
        start: at,
        duration: SimDuration::ZERO,
        kind: FaultKind::TaskCrash {
            service: 0,
            task: 0,
        },
        mean_time_between_failures: None,
    }
}

/// A fleet operation applied at a time.
type Act<'a> = (SimTime, &'a dyn Fn(&mut Simulation<Recorder>));

/// Runs `spec` with `acts`, writing its files under `out`; returns the summary and the
/// rows of `events.csv` (header dropped), each split into its 7 fields.
fn run(spec: &WorldSpec, out: &Path, acts: &[Act<'_>]) -> (Value, Vec<Vec<String>>) {
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
    let mut reader = csv::Reader::from_path(out.join("events.csv")).unwrap();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (summary, rows)
}

/// The (time, kind, task, reason) of each row, for comparing sequences.
fn brief(rows: &[Vec<String>]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[3].clone(), r[5].clone()))
        .collect()
}

fn row(t: &str, kind: &str, task: &str, reason: &str) -> (String, String, String, String) {
    (t.into(), kind.into(), task.into(), reason.into())
}

/// When node 0 first probes task `task` after its registration (its offset in the run's
/// health-check streams), from a simulation of `spec` that is only built.
fn first_probe(spec: &WorldSpec, task: u32) -> SimDuration {
    let sim = Simulation::new(spec, NoObserver).unwrap();
    sim.world().target_groups()[0]
        .health
        .first_probe_offset(TaskId(task), 0)
}

/// Nanoseconds as `events.csv` writes seconds.
fn secs_text(ns: u64) -> String {
    lbsim::metrics::format_event_time(SimTime(ns))
}

/// A crash at 30.02 s (request 300, which arrived at 30.0 s, is in flight): that request
/// gets a 502 (target closed). ECS notices 5 s later (`crash_detection`): until then the
/// dead target is still registered and healthy, so the 50 requests of 30.1–35.0 s get a
/// 502 (connection refused). At 35.02 ECS stops it (its target drains at once: nothing is
/// in flight; no shutdown for a dead process; STOPPED after 10 s of deprovisioning) and
/// launches the replacement, which walks every phase: PENDING at 50.02, ACTIVATING
/// (registered, `initial`) at 70.02, RUNNING at 75.02, listening at 85.02, and `healthy` at
/// node 0's first health check after that (every 30 s from its offset after
/// registration; one failed check before does not make a new target unhealthy). Every
/// request from 35.1 s until then finds no routable target: 503. Task-seconds: 45.02 (the
/// first task, billed from 0 to STOPPED) + 69.98 (the replacement, from PENDING) = 115.
#[test]
fn a_crash_is_replaced_through_every_phase() {
    let dir = tempfile::tempdir().unwrap();
    let crash = crash_of_task_0(SimTime(30_020_000_000));
    let spec = world(secs(120), 1, secs(300), vec![crash]);
    let registered = 70_020_000_000u64;
    let listening = 85_020_000_000u64;
    let off = first_probe(&spec, 1).0;
    let mut healthy = registered + off;
    while healthy < listening {
        healthy += 30_000_000_000;
    }
    let (s, rows) = run(&spec, &dir.path().join("o"), &[]);
    let by = &s["requests"]["by_outcome"];
    assert_eq!(by["elb_502_target_closed"], 1);
    assert_eq!(by["elb_502_connection_refused"], 50);
    let no_targets = (351u64..).take_while(|k| k * 100_000_000 < healthy).count();
    assert_eq!(by["elb_503_no_targets"], no_targets as u64);
    assert_eq!(by["elb_502_deregistration_delay"], 0);
    // 1200 arrivals (k = 1..1200), one in flight at the end (k = 1200 at 120.0 s).
    assert_eq!(s["requests"]["arrived"], 1200);
    assert_eq!(
        by["ok"].as_u64().unwrap(),
        1200 - 1 - 50 - no_targets as u64 - 1
    );
    close("task_seconds", f(&s["task_seconds"]), 45.02 + 69.98);
    let got = brief(&rows[3..]);
    let want = vec![
        row("30.02", "fault_started", "svc-0", ""),
        row("30.02", "task_stopped", "svc-0", "EssentialContainerExited"),
        row("35.02", "task_state", "svc-0", "DEACTIVATING"),
        row("35.02", "task_launched", "svc-1", ""),
        row(
            "35.02",
            "target_draining",
            "svc-0",
            "Target.DeregistrationInProgress",
        ),
        row(
            "35.02",
            "target_deregistered",
            "svc-0",
            "Target.NotRegistered",
        ),
        row("35.02", "task_state", "svc-0", "STOPPING"),
        row("35.02", "task_state", "svc-0", "DEPROVISIONING"),
        row("45.02", "task_state", "svc-0", "STOPPED"),
        row("50.02", "task_state", "svc-1", "PENDING"),
        row("70.02", "task_state", "svc-1", "ACTIVATING"),
        row(
            "70.02",
            "target_registered",
            "svc-1",
            "Elb.RegistrationInProgress",
        ),
        row("75.02", "task_running", "svc-1", ""),
        row(&secs_text(healthy), "target_healthy", "svc-1", ""),
    ];
    assert_eq!(got, want, "events.csv after the warm start:\n{rows:#?}");
    // The warm start: running, registered and healthy at t = 0.
    assert_eq!(
        brief(&rows[..3]),
        vec![
            row("0", "task_running", "svc-0", ""),
            row(
                "0",
                "target_registered",
                "svc-0",
                "Elb.RegistrationInProgress"
            ),
            row("0", "target_healthy", "svc-0", ""),
        ]
    );
}

/// Health checks find a crash ECS has not noticed (`crash_detection` longer than the run):
/// two tasks behind round robin, checks every 10 s, unhealthy after 2 failures. Task 0
/// crashes at 30.02 s; node 0's first two checks after that fail (connection refused), and
/// at the second it is `unhealthy` (`Target.FailedHealthChecks`), exactly; until then every
/// other request reaches the dead task and gets a 502. ECS (grace period 0) starts a
/// replacement at that instant.
#[test]
fn health_checks_mark_a_crashed_target_unhealthy_after_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let crash_at = 30_020_000_000u64;
    let crash = crash_of_task_0(SimTime(crash_at));
    let mut spec = world(secs(90), 2, secs(300), vec![crash]);
    spec.services[0].lifecycle.crash_detection = DistSpec::Deterministic(secs(1000));
    spec.target_groups[0].health_check.interval = secs(10);
    let off = first_probe(&spec, 0).0;
    let mut first_fail = off;
    while first_fail < crash_at {
        first_fail += 10_000_000_000;
    }
    let unhealthy = first_fail + 10_000_000_000;
    let (s, rows) = run(&spec, &dir.path().join("o"), &[]);
    let at = secs_text(unhealthy);
    let later = brief(&rows);
    assert!(
        later.contains(&row(
            &at,
            "target_unhealthy",
            "svc-0",
            "Target.FailedHealthChecks"
        )),
        "unhealthy at {at}: {rows:#?}"
    );
    assert!(
        later.contains(&row(&at, "task_launched", "svc-2", "")),
        "replaced at {at}: {rows:#?}"
    );
    let unhealthy_rows = rows
        .iter()
        .filter(|r| r[1] == "target_unhealthy" && r[3] == "svc-0")
        .count();
    assert_eq!(unhealthy_rows, 1);
    // Round robin sends every other request of (30.02 s, unhealthy) to the dead task.
    let refused = by_u64(&s, "elb_502_connection_refused");
    let between = (301u64..)
        .take_while(|k| k * 100_000_000 < unhealthy)
        .count() as u64;
    assert!(
        refused >= between / 2 && refused <= between / 2 + 1,
        "{refused} refused of {between}"
    );
}

fn by_u64(s: &Value, cause: &str) -> u64 {
    s["requests"]["by_outcome"][cause].as_u64().unwrap()
}

/// A graceful stop at 20.07 s, when nothing is in flight (request 200 ended at 20.05 s):
/// the deregistration completes at once, the task gets SIGTERM at once (STOPPING), shuts
/// down in 2 s (DEPROVISIONING at 22.07) and is STOPPED 10 s later. The service launches
/// the replacement at 20.07 (desired count 2 kept); no request fails meanwhile, because
/// the other task serves them all.
#[test]
fn an_idle_deregistration_completes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let spec = world(secs(40), 2, secs(300), vec![]);
    let stop = SimTime(20_070_000_000);
    let (s, rows) = run(
        &spec,
        &dir.path().join("o"),
        &[(stop, &|sim: &mut Simulation<Recorder>| {
            sim.stop_task_gracefully(TaskId(0)).unwrap()
        })],
    );
    let by = &s["requests"]["by_outcome"];
    assert_eq!(by["elb_502_target_closed"], 0);
    assert_eq!(by["elb_502_deregistration_delay"], 0);
    assert_eq!(by["elb_503_no_targets"], 0);
    let got = brief(&rows[6..]);
    let want = vec![
        row("20.07", "task_state", "svc-0", "DEACTIVATING"),
        row("20.07", "task_launched", "svc-2", ""),
        row(
            "20.07",
            "target_draining",
            "svc-0",
            "Target.DeregistrationInProgress",
        ),
        row(
            "20.07",
            "target_deregistered",
            "svc-0",
            "Target.NotRegistered",
        ),
        row("20.07", "task_stopped", "svc-0", "ServiceStop"),
        row("20.07", "task_state", "svc-0", "STOPPING"),
        row("22.07", "task_state", "svc-0", "DEPROVISIONING"),
        row("32.07", "task_state", "svc-0", "STOPPED"),
        row("35.07", "task_state", "svc-2", "PENDING"),
    ];
    assert_eq!(got, want, "{rows:#?}");
}

/// Requests that outlive the deregistration delay. Each request needs 4 s of CPU
/// (request `k` arrives at `k/10` s on one of 60 tasks, so every task holds a few). A
/// graceful stop at 20.0 s with a 1 s delay: the requests still at the task at 21.0 s end
/// with `elb_502_deregistration_delay`, and the deregistration completes then. With a
/// 5 s delay (longer than any request) none fails: the deregistration completes when the
/// last one ends, before the delay.
#[test]
fn requests_still_in_flight_when_the_delay_expires_get_a_502() {
    let run_with = |delay: SimDuration, name: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = world(secs(40), 60, delay, vec![]);
        spec.services[0].cpu_time = DistSpec::Deterministic(secs(4));
        let (s, rows) = run(
            &spec,
            &dir.path().join(name),
            &[(SimTime(20_000_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.stop_task_gracefully(TaskId(0)).unwrap()
            })],
        );
        let done = rows
            .iter()
            .find(|r| r[1] == "target_deregistered" && r[3] == "svc-0")
            .map(|r| r[0].parse::<f64>().unwrap())
            .expect("svc-0 deregistered");
        (s, done)
    };
    let (short, done_short) = run_with(secs(1), "short");
    let failed = short["requests"]["by_outcome"]["elb_502_deregistration_delay"]
        .as_u64()
        .unwrap();
    assert!(failed > 0, "a 1 s delay cuts requests of 4 s");
    assert_eq!(done_short, 21.0, "deregistered when the delay expires");
    let (long, done_long) = run_with(secs(5), "long");
    assert_eq!(
        long["requests"]["by_outcome"]["elb_502_deregistration_delay"],
        0
    );
    assert!(
        done_long > 20.0 && done_long < 24.0 + 1e-9,
        "deregistered when its last request ends, at {done_long}"
    );
}

/// SIGKILL at `stop_timeout`: an application that takes 60 s to shut down is stopped after
/// the 30 s `stop_timeout` (STOPPING from 20.07 to 50.07).
#[test]
fn stop_timeout_cuts_a_slow_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = world(secs(80), 2, secs(300), vec![]);
    spec.services[0].lifecycle.shutdown = DistSpec::Deterministic(secs(60));
    let (_, rows) = run(
        &spec,
        &dir.path().join("o"),
        &[(SimTime(20_070_000_000), &|sim: &mut Simulation<
            Recorder,
        >| {
            sim.stop_task_gracefully(TaskId(0)).unwrap()
        })],
    );
    let state_at = |state: &str| {
        rows.iter()
            .find(|r| r[1] == "task_state" && r[3] == "svc-0" && r[5] == state)
            .map(|r| r[0].clone())
    };
    assert_eq!(state_at("STOPPING").as_deref(), Some("20.07"));
    assert_eq!(state_at("DEPROVISIONING").as_deref(), Some("50.07"));
    assert_eq!(state_at("STOPPED").as_deref(), Some("60.07"));
}

/// Subnet exhaustion and the service's back-off. One `/28` (11 usable addresses: AWS
/// reserves 5 of 16) and 11 tasks: every address is taken. Task 0 crashes at 30.02 s; ECS
/// notices at 35.02 and launches a replacement, but the crashed task holds its address
/// until it is STOPPED (45.02, after deprovisioning), so the launch fails
/// (`InsufficientFreeAddressesInSubnet`) and the service retries after 10 s. At 45.02 the
/// retry comes just before the address is freed (it was scheduled first) and fails again;
/// the next, 20 s later (65.02), gets the freed address.
#[test]
fn an_exhausted_subnet_fails_launches_and_the_service_backs_off() {
    let dir = tempfile::tempdir().unwrap();
    let crash = crash_of_task_0(SimTime(30_020_000_000));
    let mut spec = world(secs(90), 11, secs(300), vec![crash]);
    spec.subnets = vec![SubnetSpec {
        name: "tiny".into(),
        availability_zone: "us-east-1a".into(),
        cidr: Ipv4Cidr::new(std::net::Ipv4Addr::new(10, 0, 0, 0), 28),
    }];
    let (_, rows) = run(&spec, &dir.path().join("o"), &[]);
    let launches: Vec<(String, String, String, String)> = brief(&rows)
        .into_iter()
        .filter(|r| r.1.starts_with("task_launch") || (r.1 == "task_state" && r.3 == "STOPPED"))
        .collect();
    assert_eq!(
        launches,
        vec![
            row("35.02", "task_launched", "svc-11", ""),
            row("35.02", "task_state", "svc-11", "STOPPED"),
            row(
                "35.02",
                "task_launch_failed",
                "svc-11",
                "InsufficientFreeAddressesInSubnet"
            ),
            row("45.02", "task_launched", "svc-12", ""),
            row("45.02", "task_state", "svc-12", "STOPPED"),
            row(
                "45.02",
                "task_launch_failed",
                "svc-12",
                "InsufficientFreeAddressesInSubnet"
            ),
            row("45.02", "task_state", "svc-0", "STOPPED"),
            row("65.02", "task_launched", "svc-13", ""),
        ],
        "{rows:#?}"
    );
    let started = rows
        .iter()
        .find(|r| r[1] == "task_launched" && r[3] == "svc-13")
        .unwrap();
    assert!(
        started[6].contains("at 10.0.0.4 in us-east-1a"),
        "the freed address: {}",
        started[6]
    );
}

/// The health check grace period. A crash's replacement needs 60 s after RUNNING before its
/// application listens; checks every 10 s, unhealthy after 2 failures. With no grace period
/// (ECS's default) ECS acts on the failures of the starting task and replaces it, and its
/// replacement, in a loop: the run sees many launches. With a grace period of 120 s ECS
/// ignores them, the replacement starts listening, passes a check, and is the only launch.
#[test]
fn a_grace_period_stops_the_replacement_loop_of_a_slow_starting_task() {
    let launches = |grace: SimDuration| {
        let dir = tempfile::tempdir().unwrap();
        let crash = crash_of_task_0(SimTime(30_020_000_000));
        let mut spec = world(secs(600), 1, secs(5), vec![crash]);
        spec.target_groups[0].health_check.interval = secs(10);
        spec.services[0].lifecycle.app_start = DistSpec::Deterministic(secs(60));
        spec.services[0].health_check_grace_period = grace;
        let (s, rows) = run(&spec, &dir.path().join("o"), &[]);
        let launched = rows.iter().filter(|r| r[1] == "task_launched").count();
        let healthy_late = rows
            .iter()
            .any(|r| r[1] == "target_healthy" && r[0].parse::<f64>().unwrap() > 30.0);
        (launched, healthy_late, s)
    };
    let (loop_launches, _, _) = launches(SimDuration::ZERO);
    assert!(
        loop_launches >= 3,
        "{loop_launches} launches with no grace period"
    );
    let (launched, healthy, s) = launches(secs(120));
    assert_eq!(launched, 1, "only the crash's replacement");
    assert!(healthy, "the replacement turns healthy");
    // Served again from its first passing check (about 145 s) to the end.
    assert!(s["requests"]["by_outcome"]["ok"].as_u64().unwrap() > 4000);
}
