//! Property tests: invariants that must hold for every valid world, checked on random ones
//! (proptest shrinks a failure to a small counter-example), while the fleet changes under
//! the load: targets deregister, re-register, turn unhealthy and healthy again, tasks are
//! launched and stopped mid-run, for every routing algorithm.
//!
//! The checker follows the fleet from the model's lifecycle events and recomputes, on its
//! own, what the load balancer may do: which targets are routable (healthy ones, or every
//! unhealthy one when none is healthy), and each target's outstanding requests. It then
//! checks every decision against that.

// Spec literals end with `..Default::default()` even when every field is named today, so
// that a new field does not break them.
#![allow(clippy::needless_update)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::*;
use proptest::prelude::*;

/// A random world: 1–2 target groups (each behind its own listener and client), services
/// of 0–6 tasks of any Fargate CPU size and concurrency, any algorithm, any distribution,
/// with or without load balancer and network delays.
fn world() -> impl Strategy<Value = WorldSpec> {
    let dist = prop_oneof![
        (1u64..50).prop_map(|m| DistSpec::Exponential {
            mean: SimDuration::from_millis(m)
        }),
        (0u64..20).prop_map(|m| DistSpec::Deterministic(SimDuration::from_millis(m))),
        (1u64..30, 1u64..30).prop_map(|(a, b)| DistSpec::Uniform {
            min: SimDuration::from_millis(a.min(b)),
            max: SimDuration::from_millis(a.max(b)),
        }),
        (1u64..40, 0.1f64..3.0).prop_map(|(m, cv)| DistSpec::LogNormal {
            mean: SimDuration::from_millis(m),
            cv
        }),
        (1u64..40, 0.2f64..3.0).prop_map(|(m, cv)| DistSpec::Gamma {
            mean: SimDuration::from_millis(m),
            cv
        }),
        (1u64..40, 1.1f64..4.0).prop_map(|(m, alpha)| DistSpec::Pareto {
            mean: SimDuration::from_millis(m),
            alpha
        }),
        prop::collection::vec(0u64..30, 1..5).prop_map(|v| DistSpec::Empirical(Arc::from(
            v.into_iter()
                .map(SimDuration::from_millis)
                .collect::<Vec<_>>()
        ))),
    ];
    let small_delay = prop_oneof![
        Just(DistSpec::Deterministic(SimDuration::ZERO)),
        (0u64..5).prop_map(|m| DistSpec::Deterministic(SimDuration::from_millis(m))),
        (1u64..5).prop_map(|m| DistSpec::Exponential {
            mean: SimDuration::from_millis(m)
        }),
    ];
    // A request profile: empty (the `cpu_time` shorthand) or up to 4 steps of CPU, waits
    // and calls to one of two dependencies.
    let step = prop_oneof![
        dist.clone().prop_map(StepSpec::Cpu),
        small_delay.clone().prop_map(StepSpec::Wait),
        (0usize..2).prop_map(|d| StepSpec::Call { dependency: d }),
    ];
    let profile = prop_oneof![Just(vec![]), prop::collection::vec(step, 1..5)];
    let memory = prop_oneof![
        Just(MemorySpec::default()),
        (0u64..3000, 0u64..400, any::<bool>()).prop_map(|(base_mib, per, oom_kill)| {
            MemorySpec {
                base_kib: base_mib * 1024,
                per_request_kib: DistSpec::Exponential {
                    mean: SimDuration(per * 1024 + 1),
                },
                oom_kill,
            }
        }),
    ];
    let dependency = (
        small_delay.clone(),
        0u32..4,
        any::<bool>(),
        0u32..3,
        prop::option::of(1u64..30),
    )
        .prop_map(
            |(latency, capacity, reject, pool_size, timeout)| DependencySpec {
                latency,
                capacity,
                when_full: if reject && capacity > 0 {
                    WhenFull::Reject
                } else {
                    WhenFull::Queue
                },
                pool_size,
                timeout: timeout.map(SimDuration::from_millis),
                ..Default::default()
            },
        );
    // (start, duration, dependency, service or zone, slow factor or nothing, kind: 0–2 a
    // dependency fault, 3 a task crash, 4 a hang, 5 a CPU slowdown, 6 application errors,
    // 7 a zone outage)
    let fault = (
        0.0f64..1.0,
        0.0f64..0.5,
        0usize..2,
        prop::option::of(0.2f64..8.0),
        0u8..8,
    );
    // Short lifecycles (0–400 ms a phase) and deregistration delays (0–2 s), so tasks
    // start, drain and stop within a run.
    let phase = (0u64..400).prop_map(|m| DistSpec::Deterministic(SimDuration::from_millis(m)));
    let lifecycle = (
        phase.clone(),
        phase.clone(),
        phase.clone(),
        phase.clone(),
        phase.clone(),
        0u64..500,
        phase.clone(),
        phase,
    )
        .prop_map(
            |(
                provisioning,
                pending,
                activating,
                app_start,
                shutdown,
                stop,
                deprovisioning,
                crash_detection,
            )| {
                LifecycleSpec {
                    provisioning,
                    pending,
                    activating,
                    app_start,
                    shutdown,
                    stop_timeout: SimDuration::from_millis(stop),
                    deprovisioning,
                    crash_detection,
                }
            },
        );
    // Health checks every 50–1000 ms (a timeout below it), any thresholds, shallow or deep
    // (a call to a dependency), free or costing CPU.
    let health = (
        50u64..1000,
        0.1f64..0.95,
        1u32..4,
        1u32..4,
        1u32..3,
        0usize..3,
        any::<bool>(),
    );
    let group = (
        0usize..Algorithm::ALL.len(),
        0u32..7,
        prop::sample::select(vec![256u32, 512, 1024, 2048, 4096]),
        0u32..4,
        dist,
        1.0f64..1500.0,
        small_delay.clone(),
        profile,
        memory,
        lifecycle,
        0u64..2000,
        health,
    );
    (
        prop::collection::vec(group, 1..3),
        small_delay,
        1u64..15,
        0u64..3,
        any::<u64>(),
        prop::collection::vec(dependency, 2),
        (
            prop::collection::vec(fault, 0..3),
            // Rolling deployments: (start as a fraction of the run, service, how the
            // revision fails, minimum healthy %, maximum %, circuit breaker, rollback,
            // slower profile).
            prop::collection::vec(
                (
                    0.0f64..1.0,
                    0usize..3,
                    0u8..3,
                    0u32..101,
                    100u32..301,
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                ),
                0..3,
            ),
        ),
        any::<bool>(),
    )
        .prop_map(
            |(groups, lb_delay, secs, warm, seed, deps, (faults, deploys), tiny)| {
                let mut spec = WorldSpec {
                    name: "prop".into(),
                    seed,
                    duration: SimDuration::from_secs(secs),
                    warmup: SimDuration::from_secs(warm.min(secs - 1)),
                    metrics_interval: SimDuration::from_millis(700),
                    load_balancer: LoadBalancerSpec {
                        name: "lb".into(),
                        processing_time: lb_delay,
                        listeners: vec![],
                        // Short (0.2–3 s, from the seed), so requests at hung or unreachable
                        // tasks end within a run.
                        idle_timeout: SimDuration::from_millis(200 + seed % 2800),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                for (i, d) in deps.into_iter().enumerate() {
                    spec.dependencies.push(DependencySpec {
                        name: format!("d{i}"),
                        ..d
                    });
                }
                let run = spec.duration.0 as f64;
                let nservices = groups.len();
                if tiny {
                    // One /28 (11 addresses) in each of two zones: launches can run out of
                    // addresses and wait out the service's back-off.
                    spec.subnets = (0..2u8)
                        .map(|i| SubnetSpec {
                            name: format!("tiny-{i}"),
                            availability_zone: format!("us-east-1{}", ['a', 'b'][usize::from(i)]),
                            cidr: Ipv4Cidr::new(std::net::Ipv4Addr::new(10, 0, i, 0), 28),
                        })
                        .collect();
                }
                for (start, len, dependency, factor, kind_no) in faults {
                    let kind = kind_no;
                    let window = SimDuration(((run * len) as u64).max(1));
                    let (service, task) = (dependency % nservices, (len * 10.0) as u32);
                    let (duration, kind) = match factor {
                        _ if kind == 3 => {
                            (SimDuration::ZERO, FaultKind::TaskCrash { service, task })
                        }
                        // Half the hangs last to the end of the run.
                        _ if kind == 4 => (
                            if factor.is_some() {
                                window
                            } else {
                                SimDuration::MAX
                            },
                            FaultKind::TaskHang { service, task },
                        ),
                        _ if kind == 5 => (
                            window,
                            FaultKind::TaskSlow {
                                service,
                                task,
                                factor: factor.unwrap_or(1.0).max(1.0),
                            },
                        ),
                        _ if kind == 6 => (
                            window,
                            FaultKind::AppErrors {
                                service,
                                fraction: (len * 2.0).min(1.0),
                            },
                        ),
                        // Zones 0 and 1 exist in both networks (the default's three, the tiny two).
                        _ if kind == 7 => (
                            window,
                            FaultKind::AzOutage {
                                availability_zone: dependency as u32,
                            },
                        ),
                        None => (
                            SimDuration(((run * len) as u64).max(1)),
                            FaultKind::DependencyDown { dependency },
                        ),
                        Some(factor) => (
                            SimDuration(((run * len) as u64).max(1)),
                            FaultKind::DependencySlow { dependency, factor },
                        ),
                    };
                    // A fault that starts late in the run is random instead: a task's strikes
                    // at intervals of mean ≥ 1 ms from its start, or windows that come again
                    // and again with such gaps between them.
                    let random = start > 0.6;
                    spec.faults.push(FaultSpec {
                        start: SimTime((run * start) as u64),
                        duration,
                        kind,
                        mean_time_between_failures: random
                            .then(|| SimDuration(((run * (start - 0.6)) as u64).max(1_000_000))),
                    });
                }
                for (
                    i,
                    (
                        alg,
                        tasks,
                        cpu,
                        conc,
                        cpu_time,
                        rate,
                        rtt,
                        steps,
                        memory,
                        lifecycle,
                        delay_ms,
                        (interval, timeout, healthy, unhealthy, initial, probe, enabled),
                    ),
                ) in groups.into_iter().enumerate()
                {
                    // Slow start (shorter than AWS allows, so ramps end within a run) on two
                    // groups in three of those whose algorithm can ramp.
                    let ramps = matches!(
                        Algorithm::ALL[alg],
                        Algorithm::RoundRobin | Algorithm::Random
                    );
                    let slow_start = if ramps && delay_ms % 3 != 0 {
                        SimDuration::from_millis(500 + 2 * delay_ms)
                    } else {
                        SimDuration::ZERO
                    };
                    spec.target_groups.push(TargetGroupSpec {
                        name: format!("tg{i}"),
                        algorithm: Algorithm::ALL[alg],
                        slow_start,
                        deregistration_delay: SimDuration::from_millis(delay_ms),
                        health_check: HealthCheckSpec {
                            enabled,
                            interval: SimDuration::from_millis(interval),
                            timeout: SimDuration::from_millis(((interval as f64) * timeout) as u64),
                            healthy_threshold: healthy,
                            unhealthy_threshold: unhealthy,
                            initial_passes: initial,
                            ..Default::default()
                        },
                        ..Default::default()
                    });
                    let health_check_steps = match probe {
                        0 => vec![],
                        1 => vec![StepSpec::Cpu(DistSpec::Deterministic(
                            SimDuration::from_millis(2),
                        ))],
                        _ => vec![
                            StepSpec::Cpu(DistSpec::Deterministic(SimDuration::from_millis(1))),
                            StepSpec::Call { dependency: 0 },
                        ],
                    };
                    spec.load_balancer.listeners.push(ListenerSpec {
                        port: 80 + i as u16,
                        default_action: ActionSpec::Forward { target_group: i },
                        ..Default::default()
                    });
                    // A client in three gives up after 5–404 ms (from the seed): requests
                    // end with a 460 while their targets keep working on them.
                    let timeout = ((seed >> (8 + i)) % 3 == 0)
                        .then(|| SimDuration::from_millis(5 + (seed >> 16) % 400));
                    spec.clients.push(ClientSpec {
                        name: format!("c{i}"),
                        arrivals: ArrivalSpec::Poisson { rate_rps: rate },
                        rtt,
                        listener: i,
                        timeout,
                        ..Default::default()
                    });
                    spec.services.push(ServiceSpec {
                        name: format!("s{i}"),
                        target_group: i,
                        desired_count: tasks,
                        task: TaskSpec {
                            cpu,
                            memory: 2 * cpu,
                            max_concurrency: conc,
                            ..Default::default()
                        },
                        cpu_time,
                        steps,
                        memory,
                        lifecycle,
                        health_check_steps,
                        ..Default::default()
                    });
                    // Fargate Spot, from the seed's bits (nothing else is drawn for it): about
                    // half the services mix FARGATE and FARGATE_SPOT, with random and
                    // scheduled interruptions.
                    if (seed >> (20 + i)) & 1 == 1 {
                        let svc = spec.services.last_mut().expect("just pushed");
                        let bits = |shift: u32, n: u64| ((seed >> shift) % n) as u32;
                        svc.capacity_provider_strategy = vec![
                            CapacityProviderStrategyItemSpec {
                                capacity_provider: CapacityProvider::Fargate,
                                base: bits(24, 2),
                                weight: bits(26, 2),
                            },
                            CapacityProviderStrategyItemSpec {
                                capacity_provider: CapacityProvider::FargateSpot,
                                base: 0,
                                weight: 1 + bits(28, 3),
                            },
                        ];
                        svc.spot_interruptions = SpotInterruptionsSpec {
                            at: vec![SimTime((run / 3.0) as u64)],
                            count: 1 + bits(30, 2),
                            mean_time_between: Some(SimDuration((run / 2.0) as u64 + 1)),
                        };
                    }
                }
                let mut deploys = deploys;
                deploys.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (at, svc, failure, min, max, breaker, rollback, slower) in deploys {
                    let svc = &mut spec.services[svc % nservices];
                    svc.deployment_configuration = DeploymentConfigurationSpec {
                        minimum_healthy_percent: min,
                        maximum_percent: max,
                        circuit_breaker: breaker.then_some(CircuitBreakerSpec { rollback }),
                    };
                    svc.deployments.push(DeploymentSpec {
                        at: SimTime((run * at) as u64),
                        revision: RevisionSpec {
                            cpu_time: slower.then(|| DistSpec::Exponential {
                                mean: SimDuration::from_millis(3),
                            }),
                            failure: [
                                RevisionFailure::None,
                                RevisionFailure::CrashOnStart,
                                RevisionFailure::FailHealthChecks,
                            ][usize::from(failure)],
                            ..Default::default()
                        },
                    });
                }
                spec
            },
        )
}

/// A change of the fleet, applied at a time (a fraction of the run) to a task picked by
/// index among those launched so far (or to a service, for `Launch`).
#[derive(Clone, Copy, Debug)]
enum Op {
    Deregister(usize),
    Register(usize),
    Unhealthy(usize),
    Healthy(usize),
    Launch(usize),
    Stop(usize),
    StopGracefully(usize),
}

fn ops() -> impl Strategy<Value = Vec<(f64, Op)>> {
    let op = prop_oneof![
        (0usize..16).prop_map(Op::Deregister),
        (0usize..16).prop_map(Op::Register),
        (0usize..16).prop_map(Op::Unhealthy),
        (0usize..16).prop_map(Op::Healthy),
        (0usize..2).prop_map(Op::Launch),
        (0usize..16).prop_map(Op::Stop),
        (0usize..16).prop_map(Op::StopGracefully),
    ];
    prop::collection::vec((0.0f64..1.0, op), 0..14).prop_map(|mut v| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    })
}

/// Runs `spec` with `ops` applied mid-run; returns the observer and the run's counts.
fn run_with_ops<O: Observer>(spec: &WorldSpec, ops: &[(f64, Op)], o: O) -> (O, RunStats) {
    let mut sim = Simulation::new(spec, o).unwrap();
    let end = sim.world().end();
    for &(at, op) in ops {
        sim.run_until(SimTime((end.0 as f64 * at) as u64));
        let n = sim.world().tasks().len();
        let task = |i: usize| TaskId((i % n.max(1)) as u32);
        let services = sim.world().services().len();
        let r = match op {
            Op::Launch(s) => sim
                .launch_task(ServiceId((s % services) as u32))
                .map(|_| ()),
            _ if n == 0 => Ok(()),
            Op::Deregister(i) => sim.deregister_target(task(i)),
            Op::Register(i) => sim.register_target(task(i)),
            Op::Unhealthy(i) => sim.set_target_health(task(i), false),
            Op::Healthy(i) => sim.set_target_health(task(i), true),
            Op::Stop(i) => sim.stop_task(task(i)),
            Op::StopGracefully(i) => sim.stop_task_gracefully(task(i)),
        };
        r.unwrap();
    }
    let stats = sim.run();
    (sim.into_observer(), stats)
}

/// One target as the checker sees it.
#[derive(Clone, Copy, Debug)]
struct Seen {
    state: TargetState,
    /// Outstanding requests, counted from dispatches and ends.
    outstanding: u32,
}

/// Checks every request's life and every routing decision as the run goes.
#[derive(Default)]
struct Checker {
    ended: Vec<u8>,
    started: Vec<u8>,
    arrived_at: Vec<SimTime>,
    last_now: SimTime,
    /// Per target group: task → what the checker knows of its target.
    targets: Vec<BTreeMap<TaskId, Seen>>,
    algorithms: Vec<Algorithm>,
    stopped: Vec<bool>,
    /// Each task's lifecycle state, from the events.
    state: Vec<Option<TaskState>>,
    /// When each task that began DEACTIVATING began it.
    deactivating_since: BTreeMap<TaskId, SimTime>,
    /// Private IPs held now, by the task holding them.
    ips: BTreeMap<u32, TaskId>,
    dispatches: u64,
    fleet_changes: u64,
    /// Scaling activities seen, and tasks cancelled before RUNNING (a scale-in that took a
    /// task still starting).
    scalings: u64,
    cancelled: u64,
    /// Calls that ended.
    calls: u64,
    /// Per registered (group, task) whose group checks health and that is not draining:
    /// when each node last probed it (its registration time until its first probe).
    last_probe: BTreeMap<(usize, TaskId), Vec<SimTime>>,
    /// Health checks seen.
    probes: u64,
    /// Active down faults per dependency.
    down: Vec<u32>,
    /// Tasks a hang struck, and when.
    impaired: BTreeMap<TaskId, Vec<SimTime>>,
    /// Zones an outage struck, and when.
    zones_down: Vec<(u32, SimTime)>,
    /// Each task's zone.
    zone_of: BTreeMap<TaskId, u32>,
    /// The load balancer's idle timeout.
    idle_timeout: SimDuration,
    /// Each client's `timeout`.
    timeouts: Vec<Option<SimDuration>>,
    /// Targets (group, task) whose drain ended (DRAINING → unused) and that were not
    /// registered again: no request may reach them.
    drained: BTreeSet<(usize, TaskId)>,
    violations: Vec<String>,
}

/// True if dependency `d` has an active down fault.
fn w_down(down: &[u32], d: usize) -> bool {
    down.get(d).is_some_and(|&n| n > 0)
}

impl Checker {
    fn clock(&mut self, now: SimTime) {
        if now < self.last_now {
            self.violations
                .push(format!("time went back from {} to {now}", self.last_now));
        }
        self.last_now = now;
    }

    /// The tasks a node may route to in group `g`, by the documented rule.
    fn routable(&self, g: usize) -> Vec<TaskId> {
        let t = &self.targets[g];
        let healthy: Vec<TaskId> = t
            .iter()
            .filter(|(_, s)| s.state == TargetState::Healthy)
            .map(|(&k, _)| k)
            .collect();
        if !healthy.is_empty() {
            return healthy;
        }
        t.iter()
            .filter(|(_, s)| s.state == TargetState::Unhealthy)
            .map(|(&k, _)| k)
            .collect()
    }
}

impl Checker {
    /// Liveness of the stop sequence: no task stays DEACTIVATING past its target group's
    /// deregistration delay, nor STOPPING past its `stop_timeout` (the phases after are
    /// timed draws and need no check).
    fn every_stop_moves_on(&mut self, now: SimTime, w: &World) {
        for (id, since) in &self.deactivating_since {
            let t = &w.tasks()[id.index()];
            let tg = w.services()[t.service.index()].target_group;
            let delay = w.target_groups()[tg.index()].deregistration_delay;
            if t.state == TaskState::Deactivating && now > *since + delay {
                self.violations.push(format!(
                    "at {now}: {} is still DEACTIVATING since {since}, past its delay {delay:?}",
                    t.name
                ));
            }
        }
    }
}

impl Checker {
    /// Liveness of health checks: every registered target that is not draining is probed
    /// by every load balancer node at least every `interval` (the first probe comes at an
    /// offset in [0, interval) after its registration, then one every interval), so no gap
    /// since the last probe (or the registration) exceeds the interval.
    fn every_target_is_probed(&mut self, now: SimTime, w: &World) {
        for (&(g, task), last) in &self.last_probe {
            let interval = w.target_groups()[g].health.spec.interval;
            for (node, &at) in last.iter().enumerate() {
                if now - at > interval {
                    self.violations.push(format!(
                        "at {now}: node {node} last probed {task:?} in group {g} at {at}, more than {interval:?} ago"
                    ));
                }
            }
        }
    }
}

impl Observer for Checker {
    fn health_probe(&mut self, now: SimTime, tg: TargetGroupId, node: u8, task: TaskId) {
        self.clock(now);
        self.probes += 1;
        match self.last_probe.get_mut(&(tg.index(), task)) {
            Some(last) => last[usize::from(node)] = now,
            None => self.violations.push(format!(
                "at {now}: node {node} probed {task:?}, which is not registered (or draining) in group {}",
                tg.index()
            )),
        }
    }
    fn start(&mut self, w: &World) {
        self.targets = vec![BTreeMap::new(); w.target_groups().len()];
        self.algorithms = w.target_groups().iter().map(|g| g.algorithm).collect();
        self.idle_timeout = w.idle_timeout();
        self.timeouts = w.clients().iter().map(|c| c.timeout()).collect();
    }
    fn request_arrived(&mut self, now: SimTime, r: &Request) {
        self.clock(now);
        self.ended.push(0);
        self.started.push(0);
        self.arrived_at.push(now);
        if r.serial as usize + 1 != self.ended.len() {
            self.violations.push("serials are not dense".into());
        }
    }
    fn request_dispatched(&mut self, now: SimTime, r: &Request) {
        self.clock(now);
        self.dispatches += 1;
        let g = r.target_group.index();
        let Some(task) = r.task else {
            self.violations
                .push(format!("request {} dispatched without a task", r.serial));
            return;
        };
        let routable = self.routable(g);
        if !routable.contains(&task) {
            self.violations.push(format!(
                "at {now}: request {} went to {task:?} in state {:?}; routable: {routable:?}",
                r.serial,
                self.targets[g].get(&task).map(|s| s.state)
            ));
        }
        if self.algorithms[g] == Algorithm::LeastOutstandingRequests {
            let min = routable
                .iter()
                .map(|t| self.targets[g][t].outstanding)
                .min();
            let got = self.targets[g].get(&task).map(|s| s.outstanding);
            if got != min {
                self.violations.push(format!(
                    "at {now}: LOR chose a target with {got:?} outstanding; the minimum was {min:?}"
                ));
            }
        }
        if self.drained.contains(&(g, task)) {
            self.violations.push(format!(
                "at {now}: request {} reached {task:?} after its drain ended",
                r.serial
            ));
        }
        if r.dispatched != now || r.dispatched < r.arrived {
            self.violations.push(format!(
                "at {now}: request {} dispatched at {} (arrived {})",
                r.serial, r.dispatched, r.arrived
            ));
        }
        if let Some(s) = self.targets[g].get_mut(&task) {
            s.outstanding += 1;
        }
    }
    fn request_started(&mut self, now: SimTime, r: &Request) {
        self.clock(now);
        self.started[r.serial as usize] += 1;
        if self.ended[r.serial as usize] != 0 {
            // Its client gave up (460): its task may work on, the observers hear no more.
            self.violations.push(format!(
                "at {now}: request {} started after it ended",
                r.serial
            ));
        }
        // Only a serving task starts requests (a draining one finishes those it queued).
        let state = r
            .task
            .and_then(|t| self.state.get(t.index()).copied().flatten());
        if !matches!(state, Some(TaskState::Running | TaskState::Deactivating))
            || r.task.is_some_and(|t| self.stopped[t.index()])
        {
            self.violations.push(format!(
                "at {now}: request {} started at {:?}, which is {state:?}",
                r.serial, r.task
            ));
        }
        if r.task.is_none() {
            self.violations
                .push(format!("request {} started without a task", r.serial));
        }
        if r.task
            .is_some_and(|t| self.drained.contains(&(r.target_group.index(), t)))
        {
            self.violations.push(format!(
                "at {now}: request {} started at {:?} after its drain ended",
                r.serial, r.task
            ));
        }
        if r.admitted < r.dispatched {
            self.violations.push(format!(
                "request {} got a worker at {} before its dispatch at {}",
                r.serial, r.admitted, r.dispatched
            ));
        }
    }
    fn request_finished(&mut self, now: SimTime, r: &Request, cause: Cause) {
        self.clock(now);
        let i = r.serial as usize;
        self.ended[i] += 1;
        if now < self.arrived_at[i] || r.arrived != self.arrived_at[i] {
            self.violations
                .push(format!("request {i} ended before it arrived"));
        }
        // Its latency is not negative, and the parts of its life (CPU steps, waits, calls
        // queued and served) fit in the time it held a worker.
        let held = if self.started[i] == 1 {
            now - r.admitted
        } else {
            SimDuration::ZERO
        };
        let parts = r.cpu_wall + r.waits + r.calls_queued + r.calls;
        if r.latency_at(now) < r.rtt || parts > held || (self.started[i] == 1 && now < r.admitted) {
            self.violations.push(format!(
                "at {now}: request {i} ({cause:?}) spent {parts:?} in its steps but held a worker {held:?}"
            ));
        }
        // A client with a timeout never waits longer; its 460 comes exactly at it (at its
        // round trip if that is longer).
        let timeout = self.timeouts[r.client.index()];
        if let Some(t) = timeout
            && r.latency_at(now) > t.max(r.rtt)
        {
            self.violations.push(format!(
                "at {now}: request {i} ({cause:?}) took {:?}, its client's timeout is {t:?}",
                r.latency_at(now)
            ));
        }
        let g = r.target_group.index();
        match cause {
            Cause::Elb460ClientClosed => {
                if timeout.is_none_or(|t| r.latency_at(now) != t.max(r.rtt)) {
                    self.violations.push(format!(
                        "at {now}: request {i} got a 460 after {:?}; its client's timeout is {timeout:?}",
                        r.latency_at(now)
                    ));
                }
            }
            Cause::Ok => {
                if self.started[i] != 1 {
                    self.violations
                        .push(format!("request {i} completed without starting once"));
                }
                if now - r.arrived < r.work || r.cpu_wall < r.work {
                    // A request uses at most one vCPU: it cannot finish faster than its work,
                    // nor spend less time in its CPU steps.
                    self.violations.push(format!(
                        "request {i} finished faster than its CPU time {:?} (latency {:?}, in CPU steps {:?})",
                        r.work,
                        now - r.arrived,
                        r.cpu_wall
                    ));
                }
            }
            Cause::Elb503NoTargets => {
                if r.task.is_some() || !self.routable(g).is_empty() {
                    self.violations.push(format!(
                        "at {now}: request {i} got a 503 with routable targets {:?}",
                        self.routable(g)
                    ));
                }
            }
            Cause::Elb502TargetClosed => {
                let stopped = r.task.is_some_and(|t| self.stopped[t.index()]);
                if !stopped {
                    self.violations
                        .push(format!("request {i} got a 502 but its task did not stop"));
                }
            }
            Cause::Elb502DeregistrationDelay => {
                let draining = r
                    .task
                    .is_some_and(|t| self.state[t.index()] == Some(TaskState::Deactivating));
                if !draining {
                    self.violations.push(format!(
                        "request {i} got a deregistration-delay 502 but its task was not deactivating"
                    ));
                }
            }
            Cause::Elb502ConnectionRefused => {
                let t = r.task.map(|t| t.index());
                // Refused by a task that crashed, or whose application does not listen yet
                // (routed to by fail-open, or before ECS noticed a crash).
                let ok = t.is_some_and(|t| {
                    self.stopped[t] || self.state[t].is_some_and(|st| st <= TaskState::Running)
                });
                if !ok {
                    self.violations.push(format!(
                        "request {i} got a connection-refused 502 from a task that is neither crashed nor starting"
                    ));
                }
            }
            Cause::Elb504IdleTimeout | Cause::Elb504ConnectTimeout => {
                // Only a task that a hang or a zone outage struck leaves a request
                // unanswered; the load balancer gives up exactly at the connect timeout, and
                // at the idle timeout at the latest, or at once when the fault struck (a
                // request in flight longer than the idle timeout).
                let strikes: Vec<SimTime> = r
                    .task
                    .map(|t| {
                        let zone = self.zone_of.get(&t).copied();
                        let mut v = self.impaired.get(&t).cloned().unwrap_or_default();
                        v.extend(
                            self.zones_down
                                .iter()
                                .filter(|(z, _)| Some(*z) == zone)
                                .map(|(_, at)| *at),
                        );
                        v
                    })
                    .unwrap_or_default();
                let struck = !strikes.is_empty();
                let waited = now - r.dispatched;
                let timed = if cause == Cause::Elb504ConnectTimeout {
                    waited == SimDuration::from_secs(10)
                } else {
                    waited <= self.idle_timeout || strikes.contains(&now)
                };
                if !struck || !timed {
                    self.violations.push(format!(
                        "at {now}: request {i} got {cause:?} after {waited:?} from {:?} (struck: {struck})",
                        r.task
                    ));
                }
            }
            Cause::Target5xx => {
                if r.task.is_none() || self.started[i] != 1 {
                    self.violations.push(format!(
                        "request {i} got a target 5xx without holding a worker at a task"
                    ));
                }
            }
            // Rules, connections, WebSockets and front doors other than an ALB are not in
            // the generated scenarios: these outcomes cannot happen there.
            other => self.violations.push(format!(
                "at {now}: request {i} ended with {other:?}, which the generated scenarios cannot produce"
            )),
        }
        if let Some(task) = r.task
            && let Some(s) = self.targets[g].get_mut(&task)
        {
            s.outstanding -= 1;
        }
    }
    fn lifecycle(&mut self, now: SimTime, e: &LifecycleEvent, _w: &World) {
        self.clock(now);
        self.fleet_changes += 1;
        // Live IPs are unique: a task holds its address from launch to STOPPED.
        match *e {
            LifecycleEvent::TaskLaunched { task, .. }
            | LifecycleEvent::TaskStarted { task, .. } => {
                if let Some(l) = _w.tasks()[task.index()].lease {
                    self.zone_of.insert(task, l.az);
                    match self.ips.insert(l.ip, task) {
                        Some(other) if other != task => self.violations.push(format!(
                            "at {now}: {task:?} got IP {} held by {other:?}",
                            l.ip
                        )),
                        _ => {}
                    }
                }
            }
            LifecycleEvent::TaskStateChanged {
                task,
                to: TaskState::Stopped,
                ..
            } => self.ips.retain(|_, t| *t != task),
            _ => {}
        }
        match *e {
            LifecycleEvent::TaskStarted { task, .. }
            | LifecycleEvent::TaskLaunched { task, .. } => {
                if self.stopped.len() <= task.index() {
                    self.stopped.resize(task.index() + 1, false);
                    self.state.resize(task.index() + 1, None);
                }
                let state = match *e {
                    LifecycleEvent::TaskStarted { .. } => TaskState::Running,
                    _ => TaskState::Provisioning,
                };
                let before = self.state[task.index()];
                if state == TaskState::Running && before.is_some_and(|b| b != TaskState::Running) {
                    self.violations.push(format!(
                        "at {now}: {task:?} started from {before:?}, not through the lifecycle"
                    ));
                }
                self.state[task.index()] = Some(state);
            }
            LifecycleEvent::TaskStateChanged { task, from, to, .. } => {
                if from < TaskState::Running && to == TaskState::Deprovisioning {
                    self.cancelled += 1;
                }
                let before = self.state[task.index()];
                if before != Some(from) || to <= from {
                    self.violations.push(format!(
                        "at {now}: {task:?} went {from:?} → {to:?} but was {before:?}"
                    ));
                }
                self.state[task.index()] = Some(to);
                if to == TaskState::Deactivating {
                    self.deactivating_since.insert(task, now);
                }
            }
            LifecycleEvent::TaskStopped { task, .. } => {
                // The task stops first; its requests then end with 502s.
                self.stopped[task.index()] = true;
            }
            LifecycleEvent::TargetStateChanged {
                task,
                target_group,
                from,
                to,
                ..
            } => {
                let g = target_group.index();
                if from == TargetState::Draining && to == TargetState::Unused {
                    self.drained.insert((g, task));
                } else if from == TargetState::Unused {
                    self.drained.remove(&(g, task));
                }
                let health = &_w.target_groups()[g].health;
                if matches!(to, TargetState::Draining | TargetState::Unused) {
                    self.last_probe.remove(&(g, task));
                } else if from == TargetState::Unused && health.spec.enabled {
                    self.last_probe
                        .insert((g, task), vec![now; usize::from(health.nodes())]);
                }
                let t = &mut self.targets[target_group.index()];
                let before = t.get(&task).map(|s| s.state).unwrap_or(TargetState::Unused);
                if before != from {
                    self.violations.push(format!(
                        "at {now}: {task:?} changed from {from:?} but was {before:?}"
                    ));
                }
                if to == TargetState::Unused {
                    let left = t.remove(&task).map(|s| s.outstanding).unwrap_or(0);
                    if left != 0 {
                        self.violations.push(format!(
                            "at {now}: {task:?} left its group with {left} requests outstanding"
                        ));
                    }
                } else {
                    t.entry(task)
                        .or_insert(Seen {
                            state: to,
                            outstanding: 0,
                        })
                        .state = to;
                }
            }
            LifecycleEvent::ScalingActivity { .. } => self.scalings += 1,
            LifecycleEvent::TaskLaunchFailed { .. }
            | LifecycleEvent::TargetAnomaly { .. }
            | LifecycleEvent::ScalableTargetUpdated { .. } => {}
            LifecycleEvent::FaultStarted { fault, task }
            | LifecycleEvent::FaultEnded { fault, task } => {
                let f = &_w.faults()[fault.index()];
                if let (LifecycleEvent::FaultStarted { .. }, FaultKind::TaskHang { .. }, Some(t)) =
                    (*e, f.kind, task)
                {
                    self.impaired.entry(t).or_default().push(now);
                }
                if let FaultKind::AzOutage { availability_zone } = f.kind
                    && matches!(*e, LifecycleEvent::FaultStarted { .. })
                {
                    self.zones_down.push((availability_zone, now));
                }
                if let FaultKind::DependencyDown { .. } = f.kind {
                    let d = f.dependency().expect("a dependency fault").index();
                    if self.down.len() <= d {
                        self.down.resize(d + 1, 0);
                    }
                    if matches!(*e, LifecycleEvent::FaultStarted { .. }) {
                        self.down[d] += 1;
                    } else {
                        self.down[d] -= 1;
                    }
                }
            }
            LifecycleEvent::SpotInterrupted { task, .. } => {
                // Only a RUNNING task on Fargate Spot is interrupted.
                let t = &_w.tasks()[task.index()];
                if t.capacity_provider != CapacityProvider::FargateSpot
                    || self.state[task.index()] != Some(TaskState::Running)
                {
                    self.violations.push(format!(
                        "at {now}: {task:?} on {:?} interrupted in {:?}",
                        t.capacity_provider,
                        self.state[task.index()]
                    ));
                }
            }
            LifecycleEvent::MemoryExceeded { .. }
            | LifecycleEvent::MemoryRecovered { .. }
            | LifecycleEvent::DeploymentStarted { .. }
            | LifecycleEvent::DeploymentCompleted { .. }
            | LifecycleEvent::DeploymentFailed { .. }
            | LifecycleEvent::BlueGreen { .. } => {}
        }
    }
    fn call_finished(&mut self, now: SimTime, call: &CallEnd) {
        self.clock(now);
        self.calls += 1;
        if call.outcome == CallOutcome::Ok && w_down(&self.down, call.dependency.index()) {
            self.violations.push(format!(
                "at {now}: a call to dependency {} succeeded while it was down",
                call.dependency.0
            ));
        }
    }
    fn finish(&mut self, now: SimTime, w: &World) {
        self.clock(now);
        self.every_stop_moves_on(now, w);
        self.every_target_is_probed(now, w);
    }
    fn interval(&mut self, now: SimTime, w: &World) {
        self.clock(now);
        self.every_stop_moves_on(now, w);
        self.every_target_is_probed(now, w);
        // Workers and capacities are never exceeded.
        for t in w.tasks() {
            if t.max_concurrency > 0 && t.workers_busy() > t.max_concurrency {
                self.violations.push(format!(
                    "at {now}: {} holds {} workers of {}",
                    t.name,
                    t.workers_busy(),
                    t.max_concurrency
                ));
            }
            if t.on_cpu() > t.workers_busy() as usize {
                self.violations.push(format!(
                    "at {now}: {} has more requests on CPU than workers",
                    t.name
                ));
            }
        }
        for d in w.dependencies() {
            if d.capacity > 0 && d.in_service() > d.capacity {
                self.violations.push(format!(
                    "at {now}: {} serves {} calls, capacity {}",
                    d.name,
                    d.in_service(),
                    d.capacity
                ));
            }
        }
        // The node's outstanding count of each slot equals what its task holds (but the
        // requests whose client gave up: the load balancer let go of them).
        let node = &w.load_balancer().nodes()[0];
        for tg in w.target_groups() {
            let out = node.router(tg.id).outstanding();
            for (slot, t) in tg.targets().iter().enumerate() {
                let node_count = out.get(slot).copied().unwrap_or(0);
                let at_task = if t.state == TargetState::Unused {
                    0
                } else {
                    let task = &w.tasks()[t.task.index()];
                    task.in_flight() as u32 - task.abandoned()
                };
                if node_count != at_task {
                    self.violations.push(format!(
                        "{}: slot {slot} node count {node_count}, task holds {at_task}",
                        tg.name
                    ));
                }
            }
            // The node's routable list is the documented set.
            let mut want: Vec<u32> = self
                .routable(tg.id.index())
                .iter()
                .filter_map(|&task| {
                    tg.targets()
                        .iter()
                        .position(|t| t.task == task && t.state != TargetState::Unused)
                        .map(|s| s as u32)
                })
                .collect();
            want.sort_unstable();
            if node.router(tg.id).routable() != want.as_slice() {
                self.violations.push(format!(
                    "{}: node routes to slots {:?}, the rule says {want:?}",
                    tg.name,
                    node.router(tg.id).routable()
                ));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_request_ends_once_and_routing_obeys_the_fleet(spec in world(), ops in ops()) {
        let (c, stats) = run_with_ops(&spec, &ops, Checker::default());
        prop_assert!(c.violations.is_empty(), "{:?}", &c.violations[..c.violations.len().min(5)]);
        prop_assert!(c.ended.iter().all(|&n| n <= 1), "a request ended twice");
        prop_assert!(c.started.iter().all(|&n| n <= 1), "a request started twice");
        let in_flight = c.ended.iter().filter(|&&n| n == 0).count() as u64;
        prop_assert_eq!(stats.in_flight, in_flight);
        prop_assert_eq!(stats.arrived, c.ended.len() as u64);
    }

    #[test]
    fn same_seed_same_summary(spec in world(), ops in ops()) {
        let run = || run_with_ops(&spec, &ops, Recorder::in_memory()).0.finish().unwrap().0;
        let (a, b) = (run(), run());
        prop_assert_eq!(&a, &b);
        let ended: u64 = a.requests.by_outcome.values().sum();
        prop_assert_eq!(a.requests.arrived, ended + a.requests.in_flight_at_end);
        prop_assert!(a.cpu_utilization.mean_pct <= 100.0 + 1e-9);
        prop_assert!(a.cpu_utilization.max_pct <= 100.0 + 1e-9);
    }
}

/// Every file a run writes, by name.
fn output_files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The rows of CSV `bytes` whose column `time_s` goes back in time (none when it has no
/// such column).
fn rows_out_of_time_order(bytes: &[u8]) -> Vec<String> {
    let mut rdr = csv::Reader::from_reader(bytes);
    let Some(col) = rdr.headers().unwrap().iter().position(|h| h == "time_s") else {
        return vec![];
    };
    let mut last = f64::NEG_INFINITY;
    let mut back = vec![];
    for row in rdr.records() {
        let row = row.unwrap();
        let t: f64 = row[col].parse().unwrap();
        if t < last {
            back.push(format!("{row:?} after time {last}"));
        }
        last = t;
    }
    back
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// The same seed gives byte-identical output files (every file the recorder writes:
    /// summary.json, the CSVs), and their rows are in time order.
    #[test]
    fn same_seed_same_output_bytes(spec in world(), ops in ops()) {
        let root = tempfile::tempdir().unwrap();
        let run = |name: &str| {
            let dir = root.path().join(name);
            let rec = Recorder::new(RecorderOptions { out_dir: Some(dir.clone()) });
            run_with_ops(&spec, &ops, rec).0.finish().unwrap();
            output_files(&dir)
        };
        let (a, b) = (run("a"), run("b"));
        prop_assert!(a.contains_key("summary.json") && a.contains_key("events.csv"), "{:?}", a.keys());
        prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (name, bytes) in &a {
            prop_assert!(bytes == &b[name], "{} differs between two runs of the same seed", name);
            if name.ends_with(".csv") {
                let back = rows_out_of_time_order(bytes);
                prop_assert!(back.is_empty(), "{}: {:?}", name, &back[..back.len().min(3)]);
            }
        }
    }
}

/// The checker is not vacuous: on a fixed busy world with every kind of fleet change, for
/// every algorithm, it sees dispatches and lifecycle events and finds nothing wrong; and it
/// reports a violation when the model's rule is broken (here, by feeding it a dispatch to a
/// draining target by hand).
#[test]
fn the_checker_sees_work_and_catches_a_violation() {
    let mut spec = WorldSpec {
        duration: SimDuration::from_secs(10),
        metrics_interval: SimDuration::from_millis(500),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Poisson { rate_rps: 400.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            algorithm: Algorithm::LeastOutstandingRequests,
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: 4,
            ..Default::default()
        }],
        ..Default::default()
    };
    let ops = [
        (0.1, Op::Unhealthy(0)),
        (0.2, Op::Deregister(1)),
        (0.3, Op::Stop(2)),
        (0.4, Op::Launch(0)),
        (0.5, Op::Unhealthy(3)),
        (0.55, Op::Unhealthy(4)),
        (0.6, Op::Healthy(0)),
        (0.7, Op::Register(1)),
    ];
    for alg in Algorithm::ALL {
        spec.target_groups[0].algorithm = alg;
        // The launched task and the one healthy again ramp up where the algorithm can.
        spec.target_groups[0].slow_start =
            if matches!(alg, Algorithm::RoundRobin | Algorithm::Random) {
                SimDuration::from_secs(3)
            } else {
                SimDuration::ZERO
            };
        let (c, stats) = run_with_ops(&spec, &ops, Checker::default());
        assert!(c.violations.is_empty(), "{alg:?}: {:?}", c.violations);
        assert!(c.probes > 0, "{alg:?}: no health check seen");
        assert!(
            c.dispatches > 3000 && c.fleet_changes > 20,
            "{alg:?}: {} {}",
            c.dispatches,
            c.fleet_changes
        );
        assert!(stats.arrived > 3000);
    }

    // The same with requests that wait: a worker limit, CPU, a wait, calls to a small
    // dependency with a pool and a timeout, a down and a slow fault, and memory.
    spec.target_groups[0].algorithm = Algorithm::RoundRobin;
    spec.target_groups[0].slow_start = SimDuration::ZERO;
    spec.services[0].task.max_concurrency = 3;
    spec.services[0].steps = vec![
        StepSpec::Cpu(DistSpec::Exponential {
            mean: SimDuration::from_millis(2),
        }),
        StepSpec::Call { dependency: 0 },
        StepSpec::Wait(DistSpec::Deterministic(SimDuration::from_millis(1))),
    ];
    spec.services[0].memory = MemorySpec {
        base_kib: 1900 * 1024,
        per_request_kib: DistSpec::Deterministic(SimDuration(40 * 1024)),
        oom_kill: false,
    };
    spec.dependencies = vec![DependencySpec {
        latency: DistSpec::Exponential {
            mean: SimDuration::from_millis(8),
        },
        capacity: 4,
        pool_size: 2,
        timeout: Some(SimDuration::from_millis(30)),
        ..Default::default()
    }];
    spec.faults = vec![
        FaultSpec {
            start: SimTime::ZERO + SimDuration::from_secs(2),
            duration: SimDuration::from_secs(1),
            kind: FaultKind::DependencyDown { dependency: 0 },
            mean_time_between_failures: None,
        },
        FaultSpec {
            start: SimTime::ZERO + SimDuration::from_secs(6),
            duration: SimDuration::from_secs(2),
            kind: FaultKind::DependencySlow {
                dependency: 0,
                factor: 4.0,
            },
            mean_time_between_failures: None,
        },
    ];
    let (c, _) = run_with_ops(&spec, &ops, Checker::default());
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert!(c.calls > 2000, "{} calls", c.calls);
    let summary = run_with_ops(&spec, &ops, Recorder::in_memory())
        .0
        .finish()
        .unwrap()
        .0;
    let calls = &summary.dependencies[0].calls;
    for outcome in ["ok", "failed_down", "timed_out"] {
        assert!(calls[outcome] > 0, "no {outcome} call: {calls:?}");
    }
    assert!(summary.requests.by_outcome["target_5xx"] > 0);
    assert!(summary.memory_utilization.exceeded > 0);

    // A call that succeeds while its dependency is down is caught.
    let mut c = Checker::default();
    let sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    c.start(sim.world());
    c.lifecycle(
        SimTime(1),
        &LifecycleEvent::FaultStarted {
            fault: FaultId(0),
            task: None,
        },
        sim.world(),
    );
    c.call_finished(
        SimTime(2),
        &CallEnd {
            dependency: DependencyId(0),
            task: TaskId(0),
            serial: 0,
            outcome: CallOutcome::Ok,
            queued: SimDuration::ZERO,
            served: SimDuration::ZERO,
        },
    );
    assert!(
        c.violations.iter().any(|v| v.contains("while it was down")),
        "{:?}",
        c.violations
    );

    let mut c = Checker::default();
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run_until(SimTime(1_000_000_000));
    c.start(sim.world());
    let draining = TaskId(0);
    c.lifecycle(
        SimTime(1),
        &LifecycleEvent::TargetStateChanged {
            task: draining,
            target_group: TargetGroupId(0),
            from: TargetState::Unused,
            to: TargetState::Draining,
            reason: None,
        },
        sim.world(),
    );
    let mut req = Request::new(
        0,
        ClientId(0),
        0,
        SimTime(2),
        SimDuration::ZERO,
        TargetGroupId(0),
    );
    req.task = Some(draining);
    c.request_arrived(SimTime(2), &req);
    c.request_dispatched(SimTime(2), &req);
    assert!(
        c.violations.iter().any(|v| v.contains("went to")),
        "{:?}",
        c.violations
    );

    // A request that reaches a target whose drain ended, and one that completes faster
    // than its CPU time, are caught.
    let mut c = Checker::default();
    c.start(sim.world());
    for (from, to) in [
        (TargetState::Unused, TargetState::Healthy),
        (TargetState::Healthy, TargetState::Draining),
        (TargetState::Draining, TargetState::Unused),
    ] {
        c.lifecycle(
            SimTime(1),
            &LifecycleEvent::TargetStateChanged {
                task: TaskId(1),
                target_group: TargetGroupId(0),
                from,
                to,
                reason: None,
            },
            sim.world(),
        );
    }
    let mut req = Request::new(
        0,
        ClientId(0),
        0,
        SimTime(2),
        SimDuration::ZERO,
        TargetGroupId(0),
    );
    req.task = Some(TaskId(1));
    c.request_arrived(SimTime(2), &req);
    c.request_dispatched(SimTime(2), &req);
    assert!(
        c.violations
            .iter()
            .any(|v| v.contains("after its drain ended")),
        "{:?}",
        c.violations
    );
    req.work = SimDuration::from_millis(5);
    req.cpu_wall = SimDuration::from_millis(5);
    c.request_finished(SimTime(2) + SimDuration::from_millis(4), &req, Cause::Ok);
    assert!(
        c.violations
            .iter()
            .any(|v| v.contains("faster than its CPU time")),
        "{:?}",
        c.violations
    );

    // A registered target that no node probes for longer than the interval is caught.
    let mut c = Checker::default();
    c.start(sim.world());
    c.lifecycle(
        SimTime(1),
        &LifecycleEvent::TargetStateChanged {
            task: TaskId(0),
            target_group: TargetGroupId(0),
            from: TargetState::Unused,
            to: TargetState::Initial,
            reason: None,
        },
        sim.world(),
    );
    let interval = spec.target_groups[0].health_check.interval;
    c.every_target_is_probed(SimTime(1) + interval, sim.world());
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    c.every_target_is_probed(SimTime(2) + interval, sim.world());
    assert!(
        c.violations.iter().any(|v| v.contains("last probed")),
        "{:?}",
        c.violations
    );
}

/// The checker over a world with rolling deployments (a good revision, then a bad one that
/// the circuit breaker fails and rolls back) and short lifecycles: the invariants hold
/// while tasks of two revisions come and go, and the deployments really ran.
#[test]
fn the_invariants_hold_through_deployments_and_rollbacks() {
    let phase = DistSpec::Deterministic(SimDuration::from_millis(200));
    let deploy = |at_ms: u64, failure| DeploymentSpec {
        at: SimTime::ZERO + SimDuration::from_millis(at_ms),
        revision: RevisionSpec {
            failure,
            ..Default::default()
        },
    };
    let spec = WorldSpec {
        duration: SimDuration::from_secs(20),
        metrics_interval: SimDuration::from_millis(500),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Poisson { rate_rps: 400.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            deregistration_delay: SimDuration::from_millis(300),
            health_check: HealthCheckSpec {
                interval: SimDuration::from_millis(100),
                timeout: SimDuration::from_millis(50),
                healthy_threshold: 2,
                unhealthy_threshold: 2,
                ..Default::default()
            },
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: 4,
            cpu_time: DistSpec::Exponential {
                mean: SimDuration::from_millis(5),
            },
            lifecycle: LifecycleSpec {
                provisioning: phase.clone(),
                pending: phase.clone(),
                activating: phase.clone(),
                app_start: phase.clone(),
                shutdown: phase.clone(),
                stop_timeout: SimDuration::from_secs(1),
                deprovisioning: phase.clone(),
                crash_detection: phase,
            },
            deployment_configuration: DeploymentConfigurationSpec {
                circuit_breaker: Some(CircuitBreakerSpec { rollback: true }),
                ..Default::default()
            },
            // Checks fail while an application starts: without a grace period ECS would
            // replace every new task in a loop.
            health_check_grace_period: SimDuration::from_secs(1),
            deployments: vec![
                deploy(2_000, RevisionFailure::None),
                deploy(8_000, RevisionFailure::FailHealthChecks),
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let (c, _) = run_with_ops(&spec, &[], Checker::default());
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert!(c.fleet_changes > 20, "{} fleet changes", c.fleet_changes);
    let summary = run_with_ops(&spec, &[], Recorder::in_memory())
        .0
        .finish()
        .unwrap()
        .0;
    let states: Vec<(&str, &str)> = summary
        .deployments
        .iter()
        .map(|d| (d.task_definition.as_str(), d.rollout_state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("svc:2", "COMPLETED"),
            ("svc:3", "FAILED"),
            ("svc:2", "COMPLETED")
        ]
    );
}

/// Auto scaling on top of a random world: every service gets a scalable target (its
/// desired count within the bounds), a target tracking policy on CPU or on requests per
/// target with any target and cooldowns, alarms of 1–3 datapoints (more decisions than
/// AWS's 3 and 15 in a short run), any ingestion delay, and scheduled actions that move the
/// bounds: tasks are launched, cancelled while starting and stopped while serving, by the
/// scaler as well as by the faults, deployments and fleet changes of the world.
fn autoscaled_world() -> impl Strategy<Value = WorldSpec> {
    let policy = (
        any::<bool>(),
        10.0f64..95.0,
        1u32..4,
        1u32..4,
        0u64..120,
        0u64..120,
        any::<bool>(),
    );
    let action = (
        0.0f64..1.0,
        prop::option::of(0u32..4),
        prop::option::of(1u32..8),
    );
    (
        world(),
        prop::collection::vec(
            (
                0u32..3,
                2u32..9,
                policy,
                prop::collection::vec(action, 0..2),
            ),
            2,
        ),
        0u64..90,
    )
        .prop_map(|(mut spec, scaling, delay)| {
            use lbsim::model::autoscaling::{
                AutoScalingSpec, Schedule, ScheduledActionSpec, TargetTrackingSpec,
            };
            use lbsim::model::cloudwatch::{MetricName, MetricSpec, Statistic};
            // Sixteen CloudWatch minutes, at a lighter load that swings (up to 200 requests/s
            // a client for 240 s, a tenth of it for 240 s, again and again), so the policies
            // scale out and in.
            spec.duration = SimDuration::from_secs(960);
            for c in &mut spec.clients {
                if let ArrivalSpec::Poisson { rate_rps } = c.arrivals {
                    let high = rate_rps.min(200.0);
                    let seg = |from: u64, to: u64, r: f64| RateSegment {
                        start: SimTime::ZERO + SimDuration::from_secs(from),
                        end: SimTime::ZERO + SimDuration::from_secs(to),
                        rate_start_rps: r,
                        rate_end_rps: r,
                    };
                    c.arrivals = ArrivalSpec::Profile(RateProfile {
                        segments: Arc::from(vec![seg(0, 240, high), seg(240, 480, high / 10.0)]),
                        period: Some(SimDuration::from_secs(480)),
                    });
                }
            }
            spec.cloudwatch_ingestion_delay = SimDuration::from_secs(delay);
            let run = spec.duration.0 as f64;
            for (svc, (min, max, policy, actions)) in spec.services.iter_mut().zip(scaling) {
                let (cpu, target, high, low, out_cd, in_cd, disable_in) = policy;
                let max = max.max(min);
                svc.desired_count = svc.desired_count.clamp(min, max);
                let metric = if cpu {
                    MetricSpec {
                        metric: MetricName::CpuUtilization,
                        statistic: Statistic::Average,
                    }
                } else {
                    MetricSpec {
                        metric: MetricName::RequestCountPerTarget,
                        statistic: Statistic::Sum,
                    }
                };
                let mut tt = TargetTrackingSpec::new(
                    "tt",
                    metric,
                    if cpu { target } else { target * 100.0 },
                );
                tt.high_alarm_datapoints = high;
                tt.low_alarm_datapoints = low;
                tt.scale_out_cooldown = SimDuration::from_secs(out_cd);
                tt.scale_in_cooldown = SimDuration::from_secs(in_cd);
                tt.disable_scale_in = disable_in;
                svc.auto_scaling = Some(AutoScalingSpec {
                    min_capacity: min,
                    max_capacity: max,
                    target_tracking: vec![tt],
                    step_scaling: vec![],
                    // Each action is followed, 0.5 s later, by one that shuts the service
                    // down (max 0): the tasks the first launched are cancelled while they
                    // start.
                    scheduled_actions: actions
                        .into_iter()
                        .enumerate()
                        .flat_map(|(i, (at, lo, hi))| {
                            let (lo, hi) = match (lo, hi) {
                                (Some(l), Some(h)) => (Some(l.min(h)), Some(l.max(h))),
                                other => other,
                            };
                            let at = SimTime((run * at) as u64);
                            [
                                ScheduledActionSpec {
                                    name: format!("a{i}"),
                                    schedule: Schedule::At(at),
                                    min_capacity: lo,
                                    max_capacity: hi,
                                },
                                ScheduledActionSpec {
                                    name: format!("a{i}-off"),
                                    schedule: Schedule::At(at + SimDuration::from_millis(500)),
                                    min_capacity: None,
                                    max_capacity: Some(0),
                                },
                            ]
                        })
                        .collect(),
                });
            }
            spec
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn autoscaling_keeps_the_invariants(spec in autoscaled_world()) {
        let (c, stats) = run_with_ops(&spec, &[], Checker::default());
        prop_assert!(c.violations.is_empty(), "{:?}", &c.violations[..c.violations.len().min(5)]);
        prop_assert!(c.ended.iter().all(|&n| n <= 1), "a request ended twice");
        let in_flight = c.ended.iter().filter(|&&n| n == 0).count() as u64;
        prop_assert_eq!(stats.in_flight, in_flight);
        prop_assert_eq!(stats.arrived, c.ended.len() as u64);
        // The desired counts stay within the bounds the policies and actions set.
        let mut sim = Simulation::new(&spec, NoObserver).unwrap();
        sim.run();
        for (s, t) in sim.world().services().iter().zip(sim.world().scalable_targets()) {
            let t = t.as_ref().unwrap();
            prop_assert!(t.min <= s.desired() && s.desired() <= t.max, "{} not in {}–{}", s.desired(), t.min, t.max);
        }
    }
}

/// The autoscaled worlds are not vacuous: over a few of them (drawn deterministically), the
/// scaler acts many times and cancels tasks that were still starting.
#[test]
fn autoscaled_worlds_scale_and_cancel_launches() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut scalings, mut cancelled) = (0, 0);
    for _ in 0..20 {
        let spec = autoscaled_world().new_tree(&mut runner).unwrap().current();
        let (c, _) = run_with_ops(&spec, &[], Checker::default());
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        scalings += c.scalings;
        cancelled += c.cancelled;
    }
    assert!(scalings >= 8, "{scalings} scaling activities");
    assert!(cancelled > 0, "no launch was cancelled");
}

/// A task that hangs while its zone is cut off (and the reverse) holds each unanswered
/// request once: the load balancer's count of requests outstanding to it matches what the
/// task holds, and each request ends once, at its first deadline. (Found by the autoscaled
/// worlds above: the second freeze counted its requests again, and then forgot them.)
#[test]
fn a_hang_and_a_zone_outage_together_count_each_request_once() {
    for (hang_at, outage_at) in [(2u64, 4u64), (4, 2)] {
        let spec = WorldSpec {
            duration: SimDuration::from_secs(30),
            metrics_interval: SimDuration::from_millis(500),
            load_balancer: LoadBalancerSpec {
                idle_timeout: SimDuration::from_secs(5),
                ..Default::default()
            },
            clients: vec![ClientSpec {
                arrivals: ArrivalSpec::Poisson { rate_rps: 50.0 },
                ..Default::default()
            }],
            target_groups: vec![TargetGroupSpec {
                health_check: HealthCheckSpec {
                    enabled: false,
                    ..Default::default()
                },
                ..Default::default()
            }],
            services: vec![ServiceSpec {
                desired_count: 1,
                cpu_time: DistSpec::Exponential {
                    mean: SimDuration::from_millis(5),
                },
                ..Default::default()
            }],
            faults: vec![
                FaultSpec {
                    start: SimTime::ZERO + SimDuration::from_secs(hang_at),
                    duration: SimDuration::from_secs(4),
                    kind: FaultKind::TaskHang {
                        service: 0,
                        task: 0,
                    },
                    mean_time_between_failures: None,
                },
                FaultSpec {
                    start: SimTime::ZERO + SimDuration::from_secs(outage_at),
                    duration: SimDuration::from_secs(4),
                    kind: FaultKind::AzOutage {
                        availability_zone: 0,
                    },
                    mean_time_between_failures: None,
                },
            ],
            ..Default::default()
        };
        let (c, stats) = run_with_ops(&spec, &[], Checker::default());
        assert!(
            c.violations.is_empty(),
            "{:?}",
            &c.violations[..c.violations.len().min(5)]
        );
        assert!(c.ended.iter().all(|&n| n <= 1), "a request ended twice");
        assert_eq!(stats.arrived, c.ended.len() as u64);
    }
}

/// A deep health check whose call to one dependency times out, at a task whose requests
/// call another (found by `same_seed_same_summary`): the timeout gives the connection back
/// to the dependency the health check called, not to the one the request's profile names
/// at the same step (that underflowed its pool's count).
#[test]
fn a_health_check_call_that_times_out_gives_back_its_own_connection() {
    let ms = SimDuration::from_millis;
    let spec = WorldSpec {
        duration: SimDuration::from_secs(1),
        metrics_interval: ms(700),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Poisson { rate_rps: 1.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            health_check: HealthCheckSpec {
                interval: ms(50),
                timeout: ms(5),
                healthy_threshold: 1,
                unhealthy_threshold: 1,
                initial_passes: 1,
                ..Default::default()
            },
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: 1,
            steps: vec![
                StepSpec::Cpu(DistSpec::Deterministic(ms(1))),
                StepSpec::Call { dependency: 1 },
            ],
            health_check_steps: vec![
                StepSpec::Cpu(DistSpec::Deterministic(ms(1))),
                StepSpec::Call { dependency: 0 },
            ],
            ..Default::default()
        }],
        dependencies: vec![
            DependencySpec {
                name: "d0".into(),
                latency: DistSpec::Deterministic(ms(4)),
                timeout: Some(ms(1)),
                ..Default::default()
            },
            DependencySpec {
                name: "d1".into(),
                latency: DistSpec::Deterministic(SimDuration::ZERO),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let (c, _) = run_with_ops(&spec, &[], Checker::default());
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    assert!(c.probes > 10, "{} health checks", c.probes);
}
