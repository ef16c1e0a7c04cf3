//! The routing algorithms added for issue 12: `weighted_round_robin` gives a mixed fleet
//! shares equal to its weights, `least_response_time` avoids a slow target and beats
//! round robin's tail, and `weighted_random`'s anomaly mitigation cuts a gray-failing
//! target's share and the errors clients see, then gives the share back.

use std::collections::BTreeMap;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::{
    Algorithm, AnomalyMitigationSpec, ArrivalSpec, Cause, ClientSpec, DistSpec, FaultKind,
    FaultSpec, HealthCheckSpec, LifecycleEvent, Observer, Request, ServiceSpec, Simulation,
    TargetGroupSpec, TaskSpec, World, WorldSpec,
};

use crate::cli::{lbsim, text, write};
use crate::support::{ms, secs};

/// What a run saw: per service, requests dispatched (after `from`); latencies; causes;
/// anomaly events.
#[derive(Default)]
struct Seen {
    from: SimTime,
    until: SimTime,
    by_service: BTreeMap<u32, u64>,
    latencies: Vec<u64>,
    causes: BTreeMap<Cause, u64>,
    anomalies: Vec<(SimTime, u32, bool)>,
}

impl Observer for Seen {
    fn request_dispatched(&mut self, now: SimTime, req: &Request) {
        if now >= self.from && now < self.until {
            let task = req.task.unwrap();
            // Tasks are named <service>-<n>: recover the service from the world at the end;
            // here the task id is enough (tasks are launched in service order).
            *self.by_service.entry(task.0).or_default() += 1;
        }
    }
    fn request_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        if req.arrived >= self.from && now < self.until {
            self.latencies.push((now - req.arrived).0);
            *self.causes.entry(cause).or_default() += 1;
        }
    }
    fn lifecycle(&mut self, now: SimTime, e: &LifecycleEvent, _: &World) {
        if let LifecycleEvent::TargetAnomaly {
            task, anomalous, ..
        } = e
        {
            self.anomalies.push((now, task.0, *anomalous));
        }
    }
}

impl Seen {
    fn p99_ms(&mut self) -> f64 {
        self.latencies.sort_unstable();
        let i = (self.latencies.len() as f64 * 0.99) as usize;
        self.latencies[i.min(self.latencies.len() - 1)] as f64 / 1e6
    }
    fn errors(&self) -> u64 {
        self.causes.get(&Cause::Target5xx).copied().unwrap_or(0)
    }
    fn total(&self) -> u64 {
        self.by_service.values().sum()
    }
}

/// A service of `n` tasks of `cpu` units in target group 0 with weight `w`.
fn service(name: &str, n: u32, cpu: u32, w: u32, cpu_time: DistSpec) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        desired_count: n,
        task: TaskSpec {
            cpu,
            memory: (2 * cpu).max(512),
            max_concurrency: 0,
        },
        cpu_time,
        target_weight: w,
        ..Default::default()
    }
}

/// One group of `alg`, the services given, Poisson (or deterministic) arrivals at `rate`.
fn world(alg: Algorithm, services: Vec<ServiceSpec>, rate: f64, duration: u64) -> WorldSpec {
    WorldSpec {
        name: "algorithms".into(),
        seed: 7,
        duration: secs(duration),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Poisson { rate_rps: rate },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            algorithm: alg,
            health_check: HealthCheckSpec {
                enabled: false,
                ..Default::default()
            },
            ..Default::default()
        }],
        services,
        ..Default::default()
    }
}

fn run(spec: &WorldSpec, from: u64) -> Seen {
    let seen = Seen {
        from: SimTime::ZERO + secs(from),
        until: SimTime::ZERO + spec.duration,
        ..Default::default()
    };
    let mut sim = Simulation::new(spec, seen).expect("valid spec");
    sim.run();
    sim.into_observer()
}

/// A mixed fleet in one target group: two 1-vCPU tasks of weight 1 and two 2-vCPU tasks
/// of weight 2. Smooth weighted round robin gives each exactly its weight in every cycle
/// of 6 requests, so each task's count is within 2 of `N × weight ÷ 6`.
#[test]
fn weighted_round_robin_shares_are_the_weights() {
    let cpu = DistSpec::Deterministic(ms(5));
    let spec = world(
        Algorithm::WeightedRoundRobin,
        vec![
            service("small", 2, 1024, 1, cpu.clone()),
            service("big", 2, 2048, 2, cpu),
        ],
        120.0,
        60,
    );
    let seen = run(&spec, 0);
    let n = seen.total() as f64;
    assert!(n > 6000.0, "{n}");
    let want = [1.0, 1.0, 2.0, 2.0];
    for (task, &w) in want.iter().enumerate() {
        let got = seen.by_service[&(task as u32)] as f64;
        assert!(
            (got - n * w / 6.0).abs() <= 2.0,
            "task {task}: {got} of {n}, weight {w}: {:?}",
            seen.by_service
        );
    }
    // The same fleet with round robin ignores the weights: equal shares.
    let mut rr = spec.clone();
    rr.target_groups[0].algorithm = Algorithm::RoundRobin;
    let seen = run(&rr, 0);
    let n = seen.total() as f64;
    for task in 0..4u32 {
        assert!((seen.by_service[&task] as f64 - n / 4.0).abs() <= 1.0);
    }
}

/// One slow target (a quarter of a vCPU) and two fast ones (one vCPU) with the same work:
/// round robin sends the slow one a third of the requests (ρ = 0.8 there), least response
/// time far less, and its p99 is well below round robin's.
#[test]
fn least_response_time_avoids_the_slow_target() {
    let cpu = DistSpec::Exponential { mean: ms(10) };
    let services = vec![
        service("slow", 1, 256, 1, cpu.clone()),
        service("fast", 2, 1024, 1, cpu),
    ];
    let spec = world(Algorithm::LeastResponseTime, services, 60.0, 600);
    let mut lrt = run(&spec, 60);
    let slow_share = lrt.by_service[&0] as f64 / lrt.total() as f64;
    assert!(slow_share < 0.15, "slow target got {slow_share:.3}");
    let mut rr_spec = spec.clone();
    rr_spec.target_groups[0].algorithm = Algorithm::RoundRobin;
    let mut rr = run(&rr_spec, 60);
    let rr_share = rr.by_service[&0] as f64 / rr.total() as f64;
    assert!((rr_share - 1.0 / 3.0).abs() < 0.01, "{rr_share}");
    let (a, b) = (lrt.p99_ms(), rr.p99_ms());
    assert!(
        a < b / 2.0,
        "least_response_time p99 {a:.1} ms vs round_robin {b:.1} ms"
    );
}

/// Three good targets and one whose service answers half its requests with a 500 from
/// 30 s to 330 s (a gray failure: health checks pass). With anomaly mitigation the target
/// is marked anomalous, its share falls below 5 % and the errors clients see fall to under
/// a third of those without; after the failure ends it is normal again and gets its share
/// back.
#[test]
fn anomaly_mitigation_cuts_a_gray_failure_and_restores_it() {
    let cpu = DistSpec::Deterministic(ms(5));
    let mut spec = world(
        Algorithm::WeightedRandom,
        vec![
            service("good", 3, 1024, 1, cpu.clone()),
            service("bad", 1, 1024, 1, cpu),
        ],
        100.0,
        600,
    );
    spec.faults = vec![FaultSpec {
        start: SimTime::ZERO + secs(30),
        duration: secs(300),
        kind: FaultKind::AppErrors {
            service: 1,
            fraction: 0.5,
        },
        mean_time_between_failures: None,
    }];
    let window = |spec: &WorldSpec, from: u64, until: u64| {
        let seen = Seen {
            from: SimTime::ZERO + secs(from),
            until: SimTime::ZERO + secs(until),
            ..Default::default()
        };
        let mut sim = Simulation::new(spec, seen).unwrap();
        sim.run();
        sim.into_observer()
    };
    let off = window(&spec, 30, 330);
    spec.target_groups[0].anomaly_mitigation = Some(AnomalyMitigationSpec::default());
    let on = window(&spec, 30, 330);
    // Off: the bad target keeps a quarter; half its responses fail (≈ 12.5 %).
    let off_share = off.by_service[&3] as f64 / off.total() as f64;
    assert!((off_share - 0.25).abs() < 0.02, "{off_share}");
    assert!(
        on.errors() * 3 < off.errors(),
        "{} vs {}",
        on.errors(),
        off.errors()
    );
    // On, after it has been cut (from 150 s): a negligible share.
    let late = window(&spec, 150, 330);
    let late_share = late.by_service[&3] as f64 / late.total() as f64;
    assert!(late_share < 0.05, "{late_share}");
    // Marked anomalous early, normal again after the failure, and whole again by the end.
    assert_eq!(on.anomalies.len(), 2, "{:?}", on.anomalies);
    let (t0, task, a) = on.anomalies[0];
    assert!(a && task == 3 && t0 <= SimTime::ZERO + secs(60), "{t0:?}");
    let (t1, _, a) = on.anomalies[1];
    assert!(!a && t1 > SimTime::ZERO + secs(330), "{t1:?}");
    let after = window(&spec, 500, 600);
    let after_share = after.by_service[&3] as f64 / after.total() as f64;
    assert!((after_share - 0.25).abs() < 0.03, "{after_share}");
}

/// The scenario file: `target_weight`, `anomaly_mitigation` and `response_time_decay` are
/// checked with clear errors naming the field.
#[test]
fn bad_algorithm_settings_are_rejected_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = crate::cli::BASE;
    let cases = [
        (
            base.replace(
                "desired_count = 2\n",
                "desired_count = 2\ntarget_weight = 1000\n",
            ),
            "services.0.target_weight: 1000: allowed 1–999",
        ),
        (
            base.replace(
                "algorithm = \"round_robin\"",
                "algorithm = \"round_robin\"\nanomaly_mitigation = true",
            ),
            "target_groups.0.anomaly_mitigation: only with algorithm = \"weighted_random\"",
        ),
        (
            base.replace(
                "algorithm = \"round_robin\"",
                "algorithm = \"least_response_time\"\nresponse_time_decay = \"10ms\"",
            ),
            "target_groups.0.response_time_decay: 0.01s: allowed 0.1s–3600s",
        ),
        (
            base.replace(
                "algorithm = \"round_robin\"",
                "algorithm = \"weighted_random\"\nanomaly_mitigation = true\nanomaly_mitigation_parameters = { cut = 1.5 }",
            ),
            "target_groups.0.anomaly_mitigation_parameters.cut: 1.5: allowed above 0 and below 1",
        ),
    ];
    for (i, (toml, want)) in cases.iter().enumerate() {
        let sc = write(&dir, &format!("bad{i}.toml"), toml);
        let o = lbsim(&["validate", sc.to_str().unwrap()]);
        assert!(!o.status.success(), "{toml}");
        assert!(text(&o).contains(want), "want {want:?} in {}", text(&o));
    }
    // And the good ones are accepted.
    let good = base
        .replace(
            "algorithm = \"round_robin\"",
            "algorithm = \"weighted_random\"\nanomaly_mitigation = true\nanomaly_mitigation_parameters = { interval = \"5s\", floor = 0.05 }",
        )
        .replace("desired_count = 2\n", "desired_count = 2\ntarget_weight = 3\n");
    let sc = write(&dir, "good.toml", &good);
    let o = lbsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let _ = SimDuration::ZERO;
}
