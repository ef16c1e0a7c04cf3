//! Slow start (`slow_start.duration_seconds`): a target that turns healthy while another
//! is healthy and out of slow start gets a share of requests that grows linearly over the
//! duration; warm tasks at t = 0 and a replacement into a group with no healthy target do
//! not ramp; zero slow start is today's behaviour; the scenario format rejects what AWS
//! rejects.
//!
//! **The world.** Three warm tasks behind round robin or random, deterministic arrivals,
//! 1 ms of CPU per request (so nothing queues), health checks off (a target is healthy as
//! soon as it is registered). At 100 s a fourth task is launched warm: registered and
//! healthy at once, it enters slow start for `S` = 100 s. A recording observer counts the
//! requests dispatched to each task in each tenth of `S`.

use std::collections::BTreeMap;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::*;

use crate::support::{ms, secs};

/// Requests dispatched per (task, tenth of the slow start), and per task after it.
#[derive(Default)]
struct Shares {
    /// `[tenth][task]`; tenth 10 is the 10 s after the slow start.
    counts: BTreeMap<(u64, u32), u64>,
}

/// When the fourth task is launched, and the slow start's duration.
const T0: u64 = 100;
const S: u64 = 100;

impl Observer for Shares {
    fn request_dispatched(&mut self, now: SimTime, r: &Request) {
        let t = now.0 / 1_000_000_000;
        if (T0..T0 + S + S / 10).contains(&t) {
            let tenth = (t - T0) / (S / 10);
            *self.counts.entry((tenth, r.task.unwrap().0)).or_default() += 1;
        }
    }
}

fn world(algorithm: Algorithm, slow_start: SimDuration, rate_rps: f64) -> WorldSpec {
    WorldSpec {
        name: "slow-start".into(),
        duration: secs(T0 + S + S / 10),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            algorithm,
            slow_start,
            health_check: HealthCheckSpec {
                enabled: false,
                ..Default::default()
            },
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: 3,
            cpu_time: DistSpec::Deterministic(ms(1)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// For each tenth of the slow start (and the tenth after it): the new task's requests ÷
/// the mean of the three old tasks'.
fn ratios(algorithm: Algorithm, slow_start: SimDuration, rate_rps: f64) -> Vec<f64> {
    let spec = world(algorithm, slow_start, rate_rps);
    let mut sim = Simulation::new(&spec, Shares::default()).unwrap();
    sim.run_until(SimTime::ZERO + secs(T0));
    let new = sim.launch_task(ServiceId(0)).unwrap();
    assert_eq!(new, TaskId(3));
    sim.run();
    let shares = sim.into_observer();
    (0..=10)
        .map(|k| {
            let c = |task: u32| shares.counts.get(&(k, task)).copied().unwrap_or(0) as f64;
            c(3) / ((c(0) + c(1) + c(2)) / 3.0)
        })
        .collect()
}

/// Round robin: in the k-th tenth of the slow start the new target gets (k + ½)/10 of an
/// old target's requests (the ramp's mean weight over that tenth), to within 0.01 (the
/// credit scheme is deterministic: only rounding at the tenth's edges remains), and a full
/// share once the slow start is over.
#[test]
fn slow_start_round_robin_share_grows_linearly() {
    let r = ratios(Algorithm::RoundRobin, secs(S), 100.0);
    for (k, &got) in r.iter().enumerate().take(10) {
        let want = (k as f64 + 0.5) / 10.0;
        assert!(
            (got - want).abs() < 0.01,
            "tenth {k}: {got} vs {want}; {r:?}"
        );
    }
    assert!((r[10] - 1.0).abs() < 0.01, "after slow start: {r:?}");
}

/// Random: the same linear growth in distribution. Over a tenth the new target gets about
/// 10 s × 1000/s × w/(3 + w) requests (w the tenth's mean weight); the ratio's standard
/// error is about w/√(that count) (≤ 0.02); the tolerance is 5 of them plus the ramp's
/// second-order bias.
#[test]
fn slow_start_random_share_grows_linearly() {
    let r = ratios(Algorithm::Random, secs(S), 1000.0);
    for (k, &got) in r.iter().enumerate().take(10) {
        let w = (k as f64 + 0.5) / 10.0;
        let n = 10_000.0 * w / (3.0 + w);
        let tol = 5.0 * w / n.sqrt() + 0.005;
        assert!(
            (got - w).abs() < tol,
            "tenth {k}: {got} vs {w} ± {tol}; {r:?}"
        );
    }
    assert!((r[10] - 1.0).abs() < 0.1, "after slow start: {r:?}");
}

/// With slow start off, the new target gets a full share from the first tenth on (round
/// robin: within one request per cycle).
#[test]
fn slow_start_off_gives_a_full_share_at_once() {
    let r = ratios(Algorithm::RoundRobin, SimDuration::ZERO, 100.0);
    for (k, &got) in r.iter().enumerate() {
        assert!((got - 1.0).abs() < 0.01, "tenth {k}: {got}; {r:?}");
    }
}

/// The ramp the router holds: a target entering slow start has one; it leaves slow start
/// when it turns unhealthy (and enters it again, from the start, when healthy), and when it
/// is deregistered; the warm tasks of t = 0 never ramp.
#[test]
fn slow_start_exits_on_unhealthy_and_deregistration_and_reenters() {
    let spec = world(Algorithm::RoundRobin, secs(S), 10.0);
    let mut sim = Simulation::new(&spec, NoObserver).unwrap();
    let ramps = |sim: &Simulation<NoObserver>| -> Vec<(u32, u64, u64)> {
        sim.world().load_balancer().nodes()[0]
            .router(TargetGroupId(0))
            .ramps()
            .iter()
            .map(|r| (r.slot, r.start.0 / 1_000_000_000, r.end.0 / 1_000_000_000))
            .collect()
    };
    assert_eq!(ramps(&sim), vec![], "warm tasks at t = 0 do not ramp");
    sim.run_until(SimTime::ZERO + secs(10));
    let new = sim.launch_task(ServiceId(0)).unwrap();
    assert_eq!(ramps(&sim), vec![(3, 10, 110)]);
    let target = |sim: &Simulation<NoObserver>| sim.world().target_groups()[0].targets()[3];
    assert_eq!(target(&sim).slow_start_end, Some(SimTime::ZERO + secs(110)));
    sim.run_until(SimTime::ZERO + secs(20));
    sim.set_target_health(new, false).unwrap();
    assert_eq!(ramps(&sim), vec![]);
    assert_eq!(target(&sim).slow_start_end, None);
    sim.run_until(SimTime::ZERO + secs(30));
    sim.set_target_health(new, true).unwrap();
    assert_eq!(ramps(&sim), vec![(3, 30, 130)], "re-enters from the start");
    sim.run_until(SimTime::ZERO + secs(40));
    sim.deregister_target(new).unwrap();
    assert_eq!(ramps(&sim), vec![]);
    assert_eq!(target(&sim).slow_start_end, None);
    // The ramp ends when the duration elapses: dropped at the next dispatch after its end.
    // (The new task reuses the freed slot 3.)
    let new = sim.launch_task(ServiceId(0)).unwrap();
    assert_eq!(ramps(&sim), vec![(3, 40, 140)]);
    sim.run_until(SimTime::ZERO + secs(141));
    assert_eq!(ramps(&sim), vec![]);
    assert_eq!(target(&sim).task, new);
    assert_eq!(target(&sim).state, TargetState::Healthy);
}

/// Runs `lbsim run scenarios/<name>.toml <extra>`; returns the bytes of summary.json,
/// metrics.csv and events.csv.
fn run_files(name: &str, extra: &[&str]) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios").join(format!("{name}.toml"));
    let mut args = vec!["run", scenario.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap(), "-q"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ["summary.json", "metrics.csv", "events.csv"]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect()
}

/// rent-a-room's replacement registers into a group with no healthy target, so it does not
/// enter slow start: the run is byte for byte the one without slow start. With a second
/// task, the replacement turns healthy next to a healthy peer and does ramp: it gets fewer
/// requests than without slow start, so the outputs differ.
#[test]
fn slow_start_needs_a_healthy_peer_out_of_slow_start() {
    let plain = run_files("rent-a-room", &[]);
    let slow = run_files(
        "rent-a-room",
        &["--set", "target_groups.web.slow_start=300s"],
    );
    assert!(plain == slow, "a lone replacement must not ramp");
    let two = ["--set", "services.web.desired_count=2"];
    let plain = run_files("rent-a-room", &two);
    let slow = run_files(
        "rent-a-room",
        &[two[0], two[1], "--set", "target_groups.web.slow_start=300s"],
    );
    assert!(plain[1] != slow[1], "the replacement next to a peer ramps");
}

/// Bad `slow_start` values are errors naming the field and the allowed values.
#[test]
fn slow_start_bad_values_are_clear_errors() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/rent-a-room.toml"),
    )
    .unwrap();
    let load = |sets: &[&str]| crate::support::load_text("rent-a-room.toml", &base, sets);
    let ok = load(&["target_groups.web.slow_start=30s"]).unwrap();
    assert_eq!(ok.target_groups[0].slow_start, secs(30));
    assert_eq!(
        load(&["target_groups.web.slow_start=0s"])
            .unwrap()
            .target_groups[0]
            .slow_start,
        SimDuration::ZERO
    );
    assert_eq!(
        load(&[]).unwrap().target_groups[0].slow_start,
        SimDuration::ZERO
    );
    assert!(
        load(&[
            "target_groups.web.slow_start=900s",
            "target_groups.web.algorithm=random"
        ])
        .is_ok()
    );
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["target_groups.web.slow_start=10s"],
            &[
                "target_groups.0.slow_start",
                "too short",
                "allowed 30s–900s",
                "\"0s\"",
            ],
        ),
        (
            &["target_groups.web.slow_start=901s"],
            &["target_groups.0.slow_start", "too long", "allowed 30s–900s"],
        ),
        (
            &["target_groups.web.slow_start=30.5s"],
            &[
                "target_groups.0.slow_start",
                "not a whole number of seconds",
            ],
        ),
        (
            &[
                "target_groups.web.slow_start=60s",
                "target_groups.web.algorithm=least_outstanding_requests",
            ],
            &[
                "target_groups.0.slow_start",
                "does not work with algorithm = \"least_outstanding_requests\"",
            ],
        ),
        (
            &[
                "target_groups.web.slow_start=60s",
                "target_groups.web.algorithm=weighted_random",
            ],
            &["target_groups.0.slow_start", "\"weighted_random\""],
        ),
        (
            &[
                "target_groups.web.slow_start=60s",
                "target_groups.web.algorithm=power_of_two_choices",
            ],
            &["target_groups.0.slow_start", "\"power_of_two_choices\""],
        ),
    ];
    for (sets, wants) in cases {
        let e = load(sets).unwrap_err().to_string();
        for w in *wants {
            assert!(e.contains(w), "{sets:?}: {e:?} lacks {w:?}");
        }
    }
    // The model refuses it too, for specs built in code.
    let mut spec = world(Algorithm::LeastOutstandingRequests, secs(60), 1.0);
    assert!(Simulation::new(&spec, NoObserver).is_err());
    spec.target_groups[0].algorithm = Algorithm::Random;
    assert!(Simulation::new(&spec, NoObserver).is_ok());
}
