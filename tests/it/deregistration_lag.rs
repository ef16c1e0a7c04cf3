//! The deregistration propagation lag (`deregistration_propagation_lag`, not an AWS
//! setting): a target whose deregistration has started still gets new requests for the lag,
//! then none; its deregistration completes once nothing is in flight after it.
//!
//! **The world.** Two warm tasks behind round robin, health checks off; request `k` arrives
//! at `k/10` s and needs 50 ms of CPU, so round robin sends the odd requests to task 0 and
//! the even ones to task 1, and a request is in flight during the first 50 ms of its tenth
//! of a second. At 20.02 s the service stops task 0 gracefully (deregistration delay 300 s):
//! nothing is in flight at it then (request 199 ended at 19.95 s).

use std::fs;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::*;

use crate::support::{ms, secs};

fn world(lag: SimDuration) -> WorldSpec {
    WorldSpec {
        name: "lag".into(),
        duration: secs(40),
        metrics_interval: secs(10),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps: 10.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            deregistration_propagation_lag: lag,
            health_check: HealthCheckSpec {
                enabled: false,
                ..Default::default()
            },
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            name: "web".into(),
            desired_count: 2,
            cpu_time: DistSpec::Deterministic(ms(50)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

const STOP: SimTime = SimTime(20_020_000_000);

/// Arrival times (ms) of the requests dispatched to task 0 after the stop.
#[derive(Default)]
struct ToTask0(Vec<u64>);

impl Observer for ToTask0 {
    fn request_dispatched(&mut self, now: SimTime, r: &Request) {
        if r.task == Some(TaskId(0)) && now > STOP {
            self.0.push(now.0 / 1_000_000);
        }
    }
}

/// Runs the world with `lag`: the dispatches to task 0 after the stop, and events.csv's
/// (time, kind) rows of task 0's target.
fn run(lag: SimDuration) -> (Vec<u64>, Vec<(String, String)>) {
    let spec = world(lag);
    let mut sim = Simulation::new(&spec, ToTask0::default()).unwrap();
    sim.run_until(STOP);
    sim.stop_task_gracefully(TaskId(0)).unwrap();
    sim.run();
    let dispatched = sim.into_observer().0;

    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(dir.path().to_path_buf()),
    });
    let mut sim = Simulation::new(&spec, rec).unwrap();
    sim.run_until(STOP);
    sim.stop_task_gracefully(TaskId(0)).unwrap();
    sim.run();
    sim.into_observer().finish().unwrap();
    let text = fs::read_to_string(dir.path().join("events.csv")).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|r| r[3] == "web-0" && r[1].starts_with("target_"))
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    (dispatched, rows)
}

fn rows(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Lag 0 (the default, AWS's documented behaviour): nothing new after the deregistration
/// starts, and with nothing in flight it completes at once.
#[test]
fn deregistration_lag_zero_completes_at_once() {
    let (dispatched, events) = run(SimDuration::ZERO);
    assert_eq!(dispatched, Vec::<u64>::new());
    assert_eq!(
        events,
        rows(&[
            ("0", "target_registered"),
            ("0", "target_healthy"),
            ("20.02", "target_draining"),
            ("20.02", "target_deregistered"),
        ])
    );
}

/// Lag 3 s: task 0 still gets its round-robin share, one request every 0.2 s (the odd
/// requests 201, 203, ... 229, arriving at 20.1 ... 22.9 s: 15 of them) until 23.02 s, and
/// nothing after; being idle then, its deregistration completes at 23.02 s.
#[test]
fn deregistration_lag_keeps_routing_until_it_is_over() {
    let (dispatched, events) = run(secs(3));
    let want: Vec<u64> = (0..15).map(|i| 20_100 + 200 * i).collect();
    assert_eq!(dispatched, want);
    assert_eq!(
        events,
        rows(&[
            ("0", "target_registered"),
            ("0", "target_healthy"),
            ("20.02", "target_draining"),
            ("23.02", "target_deregistered"),
        ])
    );
}

/// Lag 2.9 s: the lag ends at 22.92 s while request 229 (arrived 22.9 s) is in flight;
/// the deregistration completes when it ends, at 22.95 s.
#[test]
fn deregistration_lag_ends_with_a_request_in_flight() {
    let (dispatched, events) = run(ms(2900));
    assert_eq!(dispatched.len(), 15);
    assert_eq!(dispatched.last(), Some(&22_900));
    assert_eq!(
        events[3],
        ("22.95".to_string(), "target_deregistered".into())
    );
}

/// The scenario field: parsed, defaulted to 0 and capped at 60 s with a clear error.
#[test]
fn deregistration_lag_field_is_validated() {
    let base = fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rent-a-room.toml"),
    )
    .unwrap();
    let load = |sets: &[&str]| crate::support::load_text("rent-a-room.toml", &base, sets);
    assert_eq!(
        load(&[]).unwrap().target_groups[0].deregistration_propagation_lag,
        SimDuration::ZERO
    );
    assert_eq!(
        load(&["target_groups.web.deregistration_propagation_lag=2.5s"])
            .unwrap()
            .target_groups[0]
            .deregistration_propagation_lag,
        ms(2500)
    );
    let e = load(&["target_groups.web.deregistration_propagation_lag=61s"])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("target_groups.0.deregistration_propagation_lag")
            && e.contains("too long; allowed 0s–60s")
            && e.contains("not an AWS setting"),
        "{e}"
    );
}
