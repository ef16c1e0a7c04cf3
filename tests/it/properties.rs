//! Property tests: invariants that must hold for every valid world, checked on random ones
//! (proptest shrinks a failure to a small counter-example).

use std::sync::Arc;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::Recorder;
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
    let group = (
        0usize..Algorithm::ALL.len(),
        0u32..7,
        prop::sample::select(vec![256u32, 512, 1024, 2048, 4096]),
        0u32..4,
        dist,
        1.0f64..1500.0,
        small_delay.clone(),
    );
    (
        prop::collection::vec(group, 1..3),
        small_delay,
        1u64..15,
        0u64..3,
        any::<u64>(),
    )
        .prop_map(|(groups, lb_delay, secs, warm, seed)| {
            let mut spec = WorldSpec {
                name: "prop".into(),
                seed,
                duration: SimDuration::from_secs(secs),
                warmup: SimDuration::from_secs(warm.min(secs - 1)),
                metrics_interval: SimDuration::from_millis(700),
                clients: vec![],
                load_balancer: LoadBalancerSpec {
                    name: "lb".into(),
                    processing_time: lb_delay,
                    listeners: vec![],
                },
                target_groups: vec![],
                services: vec![],
            };
            for (i, (alg, tasks, cpu, conc, cpu_time, rate, rtt)) in groups.into_iter().enumerate()
            {
                spec.target_groups.push(TargetGroupSpec {
                    name: format!("tg{i}"),
                    algorithm: Algorithm::ALL[alg],
                });
                spec.load_balancer.listeners.push(ListenerSpec {
                    port: 80 + i as u16,
                    protocol: "HTTP".into(),
                    default_action: ActionSpec::Forward { target_group: i },
                });
                spec.clients.push(ClientSpec {
                    name: format!("c{i}"),
                    arrivals: ArrivalSpec::Poisson { rate_rps: rate },
                    rtt,
                    listener: i,
                });
                spec.services.push(ServiceSpec {
                    name: format!("s{i}"),
                    target_group: i,
                    desired_count: tasks,
                    task: TaskSpec {
                        cpu,
                        memory: 2 * cpu,
                        max_concurrency: conc,
                    },
                    cpu_time,
                });
            }
            spec
        })
}

/// Checks every request's life and the load balancer's bookkeeping as the run goes.
#[derive(Default)]
struct Checker {
    ended: Vec<u8>,
    started: Vec<u8>,
    arrived_at: Vec<SimTime>,
    last_now: SimTime,
    violations: Vec<String>,
}

impl Checker {
    fn clock(&mut self, now: SimTime) {
        if now < self.last_now {
            self.violations
                .push(format!("time went back from {} to {now}", self.last_now));
        }
        self.last_now = now;
    }
}

impl Observer for Checker {
    fn request_arrived(&mut self, now: SimTime, r: &Request) {
        self.clock(now);
        self.ended.push(0);
        self.started.push(0);
        self.arrived_at.push(now);
        if r.serial as usize + 1 != self.ended.len() {
            self.violations.push("serials are not dense".into());
        }
    }
    fn request_started(&mut self, now: SimTime, r: &Request) {
        self.clock(now);
        self.started[r.serial as usize] += 1;
        if r.task.is_none() {
            self.violations
                .push(format!("request {} started without a task", r.serial));
        }
    }
    fn request_finished(&mut self, now: SimTime, r: &Request, cause: Cause) {
        self.clock(now);
        let i = r.serial as usize;
        self.ended[i] += 1;
        if now < self.arrived_at[i] {
            self.violations
                .push(format!("request {i} ended before it arrived"));
        }
        if cause == Cause::Ok && self.started[i] != 1 {
            self.violations
                .push(format!("request {i} completed without starting once"));
        }
        if cause == Cause::Ok && now - r.arrived < r.work {
            // A request uses at most one vCPU: it cannot finish faster than its work.
            self.violations
                .push(format!("request {i} finished faster than its CPU time"));
        }
    }
    fn interval(&mut self, now: SimTime, w: &World) {
        self.clock(now);
        // The load balancer's outstanding count of each target equals what the task holds.
        for tg in w.target_groups() {
            for (slot, &task) in tg.targets().iter().enumerate() {
                let at_task = w.tasks()[task.index()].in_flight() as u32;
                if tg.outstanding()[slot] != at_task {
                    self.violations.push(format!(
                        "{}: slot {slot} outstanding {} but task holds {at_task}",
                        tg.name,
                        tg.outstanding()[slot]
                    ));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_request_ends_once_and_the_books_balance(spec in world()) {
        let mut sim = Simulation::new(&spec, Checker::default()).unwrap();
        let stats = sim.run();
        let c = sim.into_observer();
        prop_assert!(c.violations.is_empty(), "{:?}", &c.violations[..c.violations.len().min(5)]);
        prop_assert!(c.ended.iter().all(|&n| n <= 1), "a request ended twice");
        prop_assert!(c.started.iter().all(|&n| n <= 1), "a request started twice");
        let in_flight = c.ended.iter().filter(|&&n| n == 0).count() as u64;
        prop_assert_eq!(stats.in_flight, in_flight);
        prop_assert_eq!(stats.arrived, c.ended.len() as u64);
    }

    #[test]
    fn same_seed_same_summary(spec in world()) {
        let run = || {
            let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
            sim.run();
            sim.into_observer().finish().unwrap().0
        };
        let (a, b) = (run(), run());
        prop_assert_eq!(&a, &b);
        let ended: u64 = a.requests.by_outcome.values().sum();
        prop_assert_eq!(a.requests.arrived, ended + a.requests.in_flight_at_end);
        prop_assert!(a.cpu_utilization.mean_pct <= 100.0 + 1e-9);
        prop_assert!(a.cpu_utilization.max_pct <= 100.0 + 1e-9);
    }
}
