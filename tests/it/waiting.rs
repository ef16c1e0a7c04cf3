//! Queueing-theory validation of request profiles (`cpu`, `wait` and `call` steps), worker
//! pools and shared dependencies, through the figures a user reads in `summary.json`
//! (the [`Summary`] built by the recorder).
//!
//! Method (as in `queueing.rs`): R independent replications with fixed seeds (so the
//! outcome is deterministic), each with a warm-up excluded; the estimate is the mean of the
//! replication values with its standard error (SE). Unless a test says otherwise a check
//! passes when
//! - |estimate − theory| < 4·SE, and
//! - |estimate − theory| < 5 % of theory (a loose absolute guard), and
//! - SE < 1.5 % of the estimate, so that the 4·SE test has power (windows are sized for
//!   SEs of about 0.1–1 %; the 4·SE test then flags errors of about 0.5–4 %).
//!
//! The summary measures over `[warm-up, end]` with no drain: a request counts in
//! `latency_ms` if it arrived after the warm-up and ended before the end. The few requests
//! cut off at the end bias the means by about (latency ÷ window), below 10⁻³ here.
//! RTT and LB processing time are zero (the default) except where a test says otherwise,
//! so latency is the time at the task. Every summary produced here also has its latency
//! breakdown checked to add up to its mean latency ([`assert_breakdown_adds_up`]).

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, Summary};
use lbsim::model::{
    ArrivalSpec, CallEnd, Cause, ClientSpec, DependencySpec, DistSpec, HealthCheckSpec,
    LifecycleEvent, LoadBalancerSpec, Observer, Request, ServiceSpec, Simulation, StepSpec,
    TargetGroupSpec, TaskSpec, WhenFull, World, WorldSpec,
};
use rayon::prelude::*;

use crate::support::{Estimate, check, erlang_c, exp, mmc_response, ms, secs};

/// Default tolerances: see the module documentation.
const REL_TOL: f64 = 0.05;
const MAX_REL_SE: f64 = 0.015;

/// One world: Poisson arrivals to one service of identical tasks behind one round-robin
/// target group, with the given profile and dependencies.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    rate_rps: f64,
    tasks: u32,
    task: TaskSpec,
    steps: Vec<StepSpec>,
    dependencies: Vec<DependencySpec>,
    lb_processing: DistSpec,
    rtt: DistSpec,
    warmup: SimDuration,
    window: SimDuration,
    metrics_interval: SimDuration,
}

impl Case {
    /// One 1-vCPU task without a worker limit, no dependency, 10 s warm-up, 1 s ticks.
    fn new(name: &str, rate_rps: f64, steps: Vec<StepSpec>) -> Case {
        Case {
            name: name.into(),
            rate_rps,
            tasks: 1,
            task: TaskSpec {
                cpu: 1024,
                memory: 2048,
                max_concurrency: 0,
            },
            steps,
            dependencies: Vec::new(),
            lb_processing: DistSpec::default(),
            rtt: DistSpec::default(),
            warmup: secs(10),
            window: secs(100),
            metrics_interval: secs(1),
        }
    }

    fn spec(&self, seed: u64) -> WorldSpec {
        WorldSpec {
            name: self.name.clone(),
            seed,
            duration: self.warmup + self.window,
            warmup: self.warmup,
            metrics_interval: self.metrics_interval,
            clients: vec![ClientSpec {
                arrivals: ArrivalSpec::Poisson {
                    rate_rps: self.rate_rps,
                },
                rtt: self.rtt.clone(),
                ..Default::default()
            }],
            load_balancer: LoadBalancerSpec {
                processing_time: self.lb_processing.clone(),
                ..Default::default()
            },
            // Queueing theory of the requests alone: no health checks in the queues.
            target_groups: vec![TargetGroupSpec {
                health_check: HealthCheckSpec {
                    enabled: false,
                    ..Default::default()
                },
                ..Default::default()
            }],
            services: vec![ServiceSpec {
                desired_count: self.tasks,
                task: self.task,
                steps: self.steps.clone(),
                ..Default::default()
            }],
            dependencies: self.dependencies.clone(),
            ..Default::default()
        }
    }

    /// Runs one replication with observer `o` (which must hand back the summary).
    fn run_with<O: Observer>(
        &self,
        seed: u64,
        o: O,
        summary: impl FnOnce(O) -> Summary,
    ) -> Summary {
        let mut sim = Simulation::new(&self.spec(seed), o).expect("valid spec");
        sim.run();
        let s = summary(sim.into_observer());
        assert!(s.complete, "[{}] seed {seed}: incomplete run", self.name);
        assert_breakdown_adds_up(&format!("[{}] seed {seed}", self.name), &s);
        s
    }

    /// Runs one replication and returns its summary.
    fn run(&self, seed: u64) -> Summary {
        self.run_with(seed, Recorder::in_memory(), |r| r.finish().unwrap().0)
    }

    /// `reps` replications (seeds `seed0`, `seed0 + 1`...) in parallel, in seed order.
    fn replicate<T: Send>(&self, reps: u64, seed0: u64, f: impl Fn(u64) -> T + Sync) -> Vec<T> {
        let t0 = std::time::Instant::now();
        let out: Vec<T> = (0..reps).into_par_iter().map(|r| f(seed0 + r)).collect();
        eprintln!(
            "[{}] {reps} replications of {} s at {} rps, {:.2} s wall",
            self.name,
            self.window.as_secs_f64(),
            self.rate_rps,
            t0.elapsed().as_secs_f64()
        );
        out
    }

    /// Summaries of `reps` replications.
    fn summaries(&self, reps: u64, seed0: u64) -> Vec<Summary> {
        self.replicate(reps, seed0, |seed| self.run(seed))
    }

    /// [`check`] of `f` over the summaries, with this file's tolerances.
    fn check(&self, runs: &[Summary], what: &str, f: impl Fn(&Summary) -> f64, theory: f64) {
        check_values(
            &format!("[{}] {what}", self.name),
            runs.iter().map(f),
            theory,
        );
    }
}

/// [`check`] of one value per replication with this file's tolerances. Every replication
/// giving the same value (SE 0: a constant where theory expects a random quantity, such
/// as a meter that reads 0) fails with that value rather than with a NaN relative SE.
fn check_values(label: &str, values: impl IntoIterator<Item = f64>, theory: f64) {
    let est = Estimate::of(values);
    assert!(
        est.se > 0.0,
        "{label}: every replication gave {}, theory {theory:.6}",
        est.mean
    );
    check(label, est, theory, REL_TOL, MAX_REL_SE);
}

fn latency_mean(s: &Summary) -> f64 {
    s.latency_ms
        .as_ref()
        .expect("some successful requests")
        .mean
}

fn breakdown(s: &Summary) -> &lbsim::metrics::LatencyBreakdown {
    s.latency_breakdown_ms
        .as_ref()
        .expect("some successful requests")
}

fn dep_latency_mean(s: &Summary) -> f64 {
    s.dependencies[0]
        .latency_ms
        .as_ref()
        .expect("some calls")
        .mean
}

fn dep_queued_mean(s: &Summary) -> f64 {
    s.dependencies[0].queued_ms_mean.expect("some calls")
}

/// The parts of `latency_breakdown_ms` add up to `latency_ms.mean` within 10⁻³ ms: the
/// mean is rounded to 1 µs (±5·10⁻⁴ ms) and each of the 8 parts to 1 ns.
fn assert_breakdown_adds_up(label: &str, s: &Summary) {
    let (Some(l), Some(b)) = (&s.latency_ms, &s.latency_breakdown_ms) else {
        panic!("{label}: no successful request measured");
    };
    let parts = b.parts();
    assert!(
        parts.iter().all(|&x| x >= 0.0),
        "{label}: negative part in {b:?}"
    );
    let sum: f64 = parts.iter().sum();
    assert!(
        (sum - l.mean).abs() < 1e-3,
        "{label}: breakdown parts sum to {sum:.6} ms ≠ latency mean {:.6} ms ({b:?})",
        l.mean
    );
}

/// Standard normal CDF.
fn phi(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// E[(W − τ)⁺] for W log-normal with mean `m` and coefficient of variation `cv`:
/// `m·Φ(d₁) − τ·Φ(d₂)` with `σ² = ln(1 + cv²)`, `d₁ = (ln(m/τ) + σ²/2)/σ`, `d₂ = d₁ − σ`.
fn lognormal_excess(m: f64, cv: f64, tau: f64) -> f64 {
    let s2 = (1.0 + cv * cv).ln();
    let s = s2.sqrt();
    let d1 = ((m / tau).ln() + 0.5 * s2) / s;
    m * phi(d1) - tau * phi(d1 - s)
}

/// The q-quantile of the M/M/c FIFO response time T = W_q + S, s: W_q is 0 with
/// probability 1 − C and Exp(γ), γ = cμ − λ, with probability C, independent of
/// S ~ Exp(μ), so P(T > t) = (1 − C)·e^{−μt} + C·(γe^{−μt} − μe^{−γt})/(γ − μ) (γ ≠ μ)
/// (Gross & Harris, M/M/c waiting-time distribution). Solved by bisection.
fn mmc_response_quantile(c: u32, lambda: f64, mu: f64, q: f64) -> f64 {
    let cw = erlang_c(c, lambda / mu);
    let g = f64::from(c) * mu - lambda;
    assert!((g - mu).abs() > 1e-9 * mu, "γ = μ needs the limit form");
    let tail = |t: f64| {
        (1.0 - cw) * (-mu * t).exp() + cw * (g * (-mu * t).exp() - mu * (-g * t).exp()) / (g - mu)
    };
    let (mut lo, mut hi) = (0.0, 100.0 / mu.min(g));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > 1.0 - q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Checks p50, p90 and p99 of `lat` (a latency summary, ms) against the M/M/c FIFO
/// response-time quantiles. The mean alone cannot tell FIFO from another order of service
/// (LIFO, random) that ignores service times: they all have the same mean wait; the
/// quantiles can. The HDR histogram's quantiles are within 0.1 % (upwards) of the sample's.
fn check_mmc_quantiles(
    case: &Case,
    runs: &[Summary],
    what: &str,
    lat: impl Fn(&Summary) -> &lbsim::metrics::LatencySummary,
    c: u32,
    lambda: f64,
    mu: f64,
) {
    for (q, name) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
        let theory = 1e3 * mmc_response_quantile(c, lambda, mu, q);
        let f = |s: &Summary| {
            let l = lat(s);
            match name {
                "p50" => l.p50,
                "p90" => l.p90,
                _ => l.p99,
            }
        };
        case.check(runs, &format!("{what} {name} (ms)"), f, theory);
    }
}

/// The recorder plus a histogram of `World::in_flight()` sampled at every metrics tick at
/// or after the warm-up (ticks are the observers' only sampling hook).
struct InFlightSampler {
    rec: Recorder,
    from: SimTime,
    /// `counts[k]` = ticks at which k requests were in flight.
    counts: Vec<u64>,
}

impl Observer for InFlightSampler {
    fn start(&mut self, world: &World) {
        self.rec.start(world);
    }
    fn request_arrived(&mut self, now: SimTime, req: &Request) {
        self.rec.request_arrived(now, req);
    }
    fn request_dispatched(&mut self, now: SimTime, req: &Request) {
        self.rec.request_dispatched(now, req);
    }
    fn request_started(&mut self, now: SimTime, req: &Request) {
        self.rec.request_started(now, req);
    }
    fn request_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.rec.request_finished(now, req, cause);
    }
    fn call_finished(&mut self, now: SimTime, call: &CallEnd) {
        self.rec.call_finished(now, call);
    }
    fn lifecycle(&mut self, now: SimTime, event: &LifecycleEvent, world: &World) {
        self.rec.lifecycle(now, event, world);
    }
    fn warmup_end(&mut self, now: SimTime, world: &World) {
        self.rec.warmup_end(now, world);
    }
    fn interval(&mut self, now: SimTime, world: &World) {
        if now >= self.from {
            let n = world.in_flight();
            if self.counts.len() <= n {
                self.counts.resize(n + 1, 0);
            }
            self.counts[n] += 1;
        }
        self.rec.interval(now, world);
    }
    fn finish(&mut self, now: SimTime, world: &World) {
        Observer::finish(&mut self.rec, now, world);
    }
}

/// Per replication of the M/G/∞ test: the sampled number in flight.
struct Samples {
    n: f64,
    mean: f64,
    var: f64,
    /// P(N = k), k < `counts.len()`.
    p: Vec<f64>,
}

impl Samples {
    fn of(counts: &[u64]) -> Samples {
        let n = counts.iter().sum::<u64>() as f64;
        let kc = || {
            counts
                .iter()
                .enumerate()
                .map(|(k, &c)| (k as f64, c as f64))
        };
        let mean = kc().map(|(k, c)| k * c).sum::<f64>() / n;
        let var = kc().map(|(k, c)| (k - mean).powi(2) * c).sum::<f64>() / (n - 1.0);
        Samples {
            n,
            mean,
            var,
            p: counts.iter().map(|&c| c as f64 / n).collect(),
        }
    }

    fn p(&self, k: usize) -> f64 {
        self.p.get(k).copied().unwrap_or(0.0)
    }
}

/// Test 1: M/G/∞. One `wait` step, log-normal with mean E[W] = 50 ms and cv 1.5 (a heavier
/// tail than exponential), no worker limit, no CPU step: every request is served at once,
/// so the number in flight N is that of an M/G/∞ queue, Poisson with mean λ·E[W] whatever
/// the distribution of W: the requests in flight at t are the arrivals of (t − W, t], a
/// thinned Poisson process (the infinite-server Poisson queue: Ross, *Introduction to
/// Probability Models*, ch. 5; Gross & Harris, *Fundamentals of Queueing Theory*, M/G/∞).
///
/// λ = 80/s, so λ·E[W] = 4. Checks:
/// - `workers.busy_mean` and `in_flight_mean` (time averages) = λ·E[W];
/// - `latency_ms.mean` and `latency_breakdown_ms.waits` = E[W] (nothing else adds time);
/// - from `World::in_flight()` sampled at every 1 s tick: the mean = λ·E[W], the dispersion
///   index Var(N)/E[N] = 1 (Poisson; the estimator's SE is about √(2/n) for n independent
///   samples, 0.35 % for the 160 000 samples here), and P(N = k) = e^{−4}·4^k/k! for
///   k = 1..8 (probabilities 0.03–0.20, SEs 0.5–1.4 %; P(N = 0) = 0.018 would need about
///   twice the samples to pass the SE guard).
///
/// Samples 1 s apart are nearly independent: the autocorrelation of N in M/G/∞ at lag τ is
/// E[(W − τ)⁺]/E[W] (the fraction of a request's expected stay left after τ), 0.4 % at
/// τ = 1 s for this W (asserted below), so the sample variance and frequencies are those of
/// nearly independent draws. (The SEs are estimated across replications anyway, so the
/// residual correlation cannot make a check falsely pass; it only costs a little power.)
#[test]
fn mg_infinity_wait_is_poisson() {
    let (lambda, w, cv) = (80.0, 0.050, 1.5);
    let m = lambda * w;
    let lag1 = lognormal_excess(w, cv, 1.0) / w;
    eprintln!("  M/G/inf: autocorrelation of N at 1 s = {lag1:.5}");
    assert!(lag1 < 0.01, "ticks too close for independent samples");
    let mut c = Case::new(
        "M/G/inf lognormal cv 1.5",
        lambda,
        vec![StepSpec::Wait(DistSpec::LogNormal { mean: ms(50), cv })],
    );
    c.window = secs(10000);
    let from = SimTime::ZERO + c.warmup;
    let runs = c.replicate(16, 2000, |seed| {
        let o = InFlightSampler {
            rec: Recorder::in_memory(),
            from,
            counts: Vec::new(),
        };
        let mut counts = Vec::new();
        let s = c.run_with(seed, o, |o| {
            counts = o.counts;
            o.rec.finish().unwrap().0
        });
        (s, Samples::of(&counts))
    });
    let (sums, samples): (Vec<Summary>, Vec<Samples>) = runs.into_iter().unzip();
    c.check(&sums, "workers.busy_mean", |s| s.workers.busy_mean, m);
    c.check(&sums, "in_flight_mean", |s| s.in_flight_mean, m);
    c.check(&sums, "latency_ms.mean", latency_mean, 1e3 * w);
    c.check(&sums, "breakdown.waits", |s| breakdown(s).waits, 1e3 * w);
    assert!(sums.iter().all(|s| s.workers.utilization_pct.is_none()));
    assert!(sums.iter().all(|s| s.workers.on_cpu_mean == 0.0));
    let n: f64 = samples.iter().map(|x| x.n).sum();
    eprintln!("  {n} samples of N");
    let sampled = |what: &str, f: &dyn Fn(&Samples) -> f64, theory: f64| {
        check_values(
            &format!("[{}] {what}", c.name),
            samples.iter().map(f),
            theory,
        );
    };
    sampled("sampled E[N]", &|x| x.mean, m);
    sampled("sampled Var(N)/E[N]", &|x| x.var / x.mean, 1.0);
    let mut poisson = (-m).exp();
    for k in 0..=8 {
        if k >= 1 {
            sampled(&format!("sampled P(N = {k})"), &|x| x.p(k), poisson);
        }
        poisson *= m / (k + 1) as f64;
    }
}

/// Test 2: M/M/c on the worker pool. One task with `max_concurrency = c`, one exponential
/// `wait` step (E[W] = 10 ms, μ = 100/s), no CPU step: the workers are c servers with a
/// FIFO queue, an M/M/c queue (Erlang 1917; Kleinrock, *Queueing Systems* vol. 1, §3.5).
/// With a = λ/μ, ρ = a/c and C(c, a) the Erlang C probability of waiting:
/// - `latency_breakdown_ms.worker_queue` = W_q = C(c, a)/(cμ − λ);
/// - `latency_ms.mean` = E[W] + W_q, and `latency_breakdown_ms.waits` = E[W];
/// - `latency_ms` p50, p90, p99 = the quantiles of W_q + W under FIFO
///   ([`mmc_response_quantile`]): the check that the queue is FIFO;
/// - `workers.waiting_mean` = λ·W_q (Little's law on the queue), `workers.busy_mean` = a,
///   `workers.utilization_pct` = 100·ρ.
///
/// c = 4 at ρ = 0.8 and c = 16 at ρ = 0.9.
#[test]
fn mmc_worker_pool_is_erlang_c() {
    let mu = 100.0;
    for (c, rho, window_s, seed0) in [(4u32, 0.8, 1000, 2100), (16u32, 0.9, 600, 2200)] {
        let cf = f64::from(c);
        let lambda = rho * cf * mu;
        let a = lambda / mu;
        let mut case = Case::new(
            &format!("M/M/{c} workers rho={rho}"),
            lambda,
            vec![StepSpec::Wait(exp(ms(10)))],
        );
        case.task.max_concurrency = c;
        case.window = secs(window_s);
        let runs = case.summaries(12, seed0);
        let wq = erlang_c(c, a) / (cf * mu - lambda);
        eprintln!(
            "  C({c}, {a}) = {:.6}, Wq = {:.6} ms",
            erlang_c(c, a),
            1e3 * wq
        );
        case.check(
            &runs,
            "latency_ms.mean",
            latency_mean,
            1e3 * mmc_response(c, lambda, mu),
        );
        case.check(
            &runs,
            "breakdown.worker_queue (ms)",
            |s| breakdown(s).worker_queue,
            1e3 * wq,
        );
        check_mmc_quantiles(
            &case,
            &runs,
            "latency_ms",
            |s| s.latency_ms.as_ref().unwrap(),
            c,
            lambda,
            mu,
        );
        case.check(
            &runs,
            "breakdown.waits (ms)",
            |s| breakdown(s).waits,
            1e3 / mu,
        );
        case.check(
            &runs,
            "workers.waiting_mean",
            |s| s.workers.waiting_mean,
            lambda * wq,
        );
        case.check(&runs, "workers.busy_mean", |s| s.workers.busy_mean, a);
        case.check(
            &runs,
            "workers.utilization_pct",
            |s| s.workers.utilization_pct.expect("a worker limit"),
            100.0 * rho,
        );
    }
}

/// Test 3: a shared dependency of capacity k is M/M/k. Four tasks without a worker limit
/// (so nothing queues at the tasks), one `call` step to a dependency of capacity k = 4,
/// FIFO queue, exponential latency (mean 10 ms, μ = 100/s), no connection-pool limit: the
/// dependency sees the merged Poisson stream at λ and is an M/M/4 queue (as in test 2):
/// - `dependencies[0].latency_ms.mean` = 1/μ + C(k, a)/(kμ − λ) (queue + service, as the
///   caller sees it), and `queued_ms_mean` = W_q = C(k, a)/(kμ − λ);
/// - its p50, p90, p99 = the M/M/k FIFO response-time quantiles (the queue is FIFO);
/// - `in_service_mean` = a = λ/μ, `utilization_pct` = 100·a/k, `queued_mean` = λ·W_q;
/// - the request's `latency_ms.mean` = the call's (no CPU, no other step), split into
///   `calls_queued` = W_q and `calls` = 1/μ.
///
/// λ = 320/s, ρ = 0.8.
#[test]
fn capacity_limited_dependency_is_mmk() {
    let (k, mu, rho) = (4u32, 100.0, 0.8);
    let kf = f64::from(k);
    let lambda = rho * kf * mu;
    let a = lambda / mu;
    let mut case = Case::new(
        "dependency M/M/4 rho=0.8",
        lambda,
        vec![StepSpec::Call { dependency: 0 }],
    );
    case.tasks = 4;
    case.dependencies = vec![DependencySpec {
        name: "db".into(),
        latency: exp(ms(10)),
        capacity: k,
        when_full: WhenFull::Queue,
        ..Default::default()
    }];
    case.window = secs(1000);
    let runs = case.summaries(12, 2300);
    for s in &runs {
        let d = &s.dependencies[0];
        assert_eq!(d.calls["failed_down"] + d.calls["rejected"], 0, "{d:?}");
    }
    let wq = erlang_c(k, a) / (kf * mu - lambda);
    let t = mmc_response(k, lambda, mu);
    case.check(
        &runs,
        "dependency latency_ms.mean",
        dep_latency_mean,
        1e3 * t,
    );
    check_mmc_quantiles(
        &case,
        &runs,
        "dependency latency_ms",
        |s| s.dependencies[0].latency_ms.as_ref().unwrap(),
        k,
        lambda,
        mu,
    );
    case.check(
        &runs,
        "dependency queued_ms_mean",
        dep_queued_mean,
        1e3 * wq,
    );
    case.check(
        &runs,
        "dependency in_service_mean",
        |s| s.dependencies[0].in_service_mean,
        a,
    );
    case.check(
        &runs,
        "dependency utilization_pct",
        |s| s.dependencies[0].utilization_pct.expect("a capacity"),
        100.0 * rho,
    );
    case.check(
        &runs,
        "dependency queued_mean",
        |s| s.dependencies[0].queued_mean,
        lambda * wq,
    );
    case.check(&runs, "request latency_ms.mean", latency_mean, 1e3 * t);
    case.check(
        &runs,
        "breakdown.calls_queued",
        |s| breakdown(s).calls_queued,
        1e3 * wq,
    );
    case.check(&runs, "breakdown.calls", |s| breakdown(s).calls, 1e3 / mu);
}

/// Test 4: CPU then wait, ample workers. One 1-vCPU task without a worker limit, steps
/// `[cpu exp(10 ms), wait 20 ms]` (deterministic wait). A request in its wait uses no CPU,
/// and every request enters the CPU step on arrival, so the CPU sees the Poisson stream at
/// λ and is an M/M/1 processor-sharing queue (Kleinrock 1967): mean time in the CPU step
/// 1/(μ − λ); then every request waits exactly W = 20 ms. So:
/// - `latency_breakdown_ms.cpu + cpu_wait` = 1/(μ − λ), `cpu` = E[S] = 1/μ;
/// - `waits` = W exactly (in every run), `latency_ms.mean` = 1/(μ − λ) + W;
/// - `workers.on_cpu_mean` = λ/(μ − λ) (Little on the CPU step), `workers.busy_mean` =
///   λ·(1/(μ − λ) + W), `cpu_utilization.mean_pct` = 100·ρ.
///
/// λ = 75/s, ρ = 0.75.
#[test]
fn cpu_then_wait_is_ps_plus_delay() {
    let (mu, lambda, w) = (100.0, 75.0, 0.020);
    let mut case = Case::new(
        "cpu exp(10ms) then wait 20ms, rho=0.75",
        lambda,
        vec![
            StepSpec::Cpu(exp(ms(10))),
            StepSpec::Wait(DistSpec::Deterministic(ms(20))),
        ],
    );
    case.window = secs(2000);
    let runs = case.summaries(12, 2400);
    for s in &runs {
        let waits = breakdown(s).waits;
        assert!((waits - 1e3 * w).abs() < 1e-6, "waits {waits} ms ≠ 20 ms");
    }
    let t_cpu = 1.0 / (mu - lambda);
    case.check(
        &runs,
        "breakdown.cpu + cpu_wait (ms)",
        |s| breakdown(s).cpu + breakdown(s).cpu_wait,
        1e3 * t_cpu,
    );
    case.check(&runs, "breakdown.cpu (ms)", |s| breakdown(s).cpu, 1e3 / mu);
    case.check(&runs, "latency_ms.mean", latency_mean, 1e3 * (t_cpu + w));
    case.check(
        &runs,
        "workers.on_cpu_mean",
        |s| s.workers.on_cpu_mean,
        lambda * t_cpu,
    );
    case.check(
        &runs,
        "workers.busy_mean",
        |s| s.workers.busy_mean,
        lambda * (t_cpu + w),
    );
    case.check(
        &runs,
        "cpu_utilization.mean_pct",
        |s| s.cpu_utilization.mean_pct,
        100.0 * lambda / mu,
    );
}

/// A world with every component at work: 3 tasks of 1 vCPU with 4 workers each behind
/// round robin, LB processing uniform 1–3 ms, a log-normal client RTT, steps
/// `[cpu gamma(5 ms, cv 1), call db, wait lognormal(5 ms, cv 1), cpu exp(3 ms)]`, and `db`
/// of capacity 4 (FIFO queue), exponential 10 ms latency and 2 pooled connections per task.
/// At λ = 225/s: CPU 60 % per task, `db` about 56 % busy, workers about 70 % busy with
/// some queueing at the workers, the pools and `db`.
fn everything(name: &str, cpu_units: u32) -> Case {
    let mut case = Case::new(
        name,
        225.0,
        vec![
            StepSpec::Cpu(DistSpec::Gamma {
                mean: ms(5),
                cv: 1.0,
            }),
            StepSpec::Call { dependency: 0 },
            StepSpec::Wait(DistSpec::LogNormal {
                mean: ms(5),
                cv: 1.0,
            }),
            StepSpec::Cpu(exp(ms(3))),
        ],
    );
    case.tasks = 3;
    case.task = TaskSpec {
        cpu: cpu_units,
        memory: 2048,
        max_concurrency: 4,
    };
    case.dependencies = vec![DependencySpec {
        name: "db".into(),
        latency: exp(ms(10)),
        capacity: 4,
        when_full: WhenFull::Queue,
        pool_size: 2,
        ..Default::default()
    }];
    case.lb_processing = DistSpec::Uniform {
        min: ms(1),
        max: ms(3),
    };
    case.rtt = DistSpec::LogNormal {
        mean: ms(20),
        cv: 0.5,
    };
    case
}

/// Test 5: Little's law, L = λ·W, per component, in the [`everything`] world, which no
/// closed formula covers. On one sample path, over [warm-up, end], the time-average number
/// in a part of the system equals the throughput times the mean time spent in it, up to
/// the requests inside the part at the warm-up and at the end: an error of order
/// W/T ≈ 0.05 s/300 s ≈ 2·10⁻⁴ (Little 1961; Stidham 1974 for the sample-path form). So
/// every run is checked on its own, within 0.1 % (five times that bound; no SE is
/// involved: both sides come from the same run; the observed errors, below 0.01 %, are
/// printed):
/// - `workers.busy_mean` = throughput × (cpu + cpu_wait + waits + calls_queued + calls):
///   a worker is held from admission to response;
/// - `workers.on_cpu_mean` = throughput × (cpu + cpu_wait);
/// - `workers.waiting_mean` = throughput × worker_queue;
/// - `in_flight_mean` = throughput × (latency mean − rtt): a request is in flight from its
///   arrival at the load balancer to its end, and the RTT is added to latency on top;
/// - `dependencies[0].in_service_mean` = calls/s × mean served time, where served = call
///   latency mean − queued mean (all calls succeed here).
///
/// Breakdown means are per request (ms), throughput per second; the product is in
/// requests. Checks that the parts are nonzero ensure each term is exercised.
#[test]
fn littles_law_per_component() {
    let mut case = everything("Little: everything", 1024);
    case.window = secs(300);
    let runs = case.summaries(4, 2500);
    let mut worst = 0f64;
    for (i, s) in runs.iter().enumerate() {
        let b = breakdown(s);
        let x = s.throughput_rps;
        let d = &s.dependencies[0];
        assert_eq!(d.calls["failed_down"] + d.calls["rejected"], 0, "{d:?}");
        let calls = d.calls["ok"] as f64 / (s.duration_s - s.warmup_s);
        let served_ms = dep_latency_mean(s) - dep_queued_mean(s);
        for (what, v) in [
            ("worker_queue", b.worker_queue),
            ("cpu_wait", b.cpu_wait),
            ("calls_queued", b.calls_queued),
            ("load_balancer", b.load_balancer),
            ("rtt", b.rtt),
        ] {
            assert!(v > 0.1, "run {i}: {what} = {v} ms: not exercised");
        }
        let pairs = [
            (
                "workers.busy_mean",
                s.workers.busy_mean,
                x * (b.cpu + b.cpu_wait + b.waits + b.calls_queued + b.calls) / 1e3,
            ),
            (
                "workers.on_cpu_mean",
                s.workers.on_cpu_mean,
                x * (b.cpu + b.cpu_wait) / 1e3,
            ),
            (
                "workers.waiting_mean",
                s.workers.waiting_mean,
                x * b.worker_queue / 1e3,
            ),
            (
                "in_flight_mean",
                s.in_flight_mean,
                x * (latency_mean(s) - b.rtt) / 1e3,
            ),
            (
                "db in_service_mean",
                d.in_service_mean,
                calls * served_ms / 1e3,
            ),
        ];
        for (what, l, lw) in pairs {
            let err = l / lw - 1.0;
            worst = worst.max(err.abs());
            eprintln!(
                "  run {i}: {what} = {l:.6}, throughput × time = {lw:.6}, error {:+.4}%",
                100.0 * err
            );
            assert!(
                err.abs() < 0.001,
                "run {i}: {what} = {l:.6} but throughput × mean time = {lw:.6} ({:+.3}%)",
                100.0 * err
            );
        }
    }
    eprintln!("  largest Little's law error: {:.4}%", 100.0 * worst);
}

/// Test 6: the latency breakdown adds up to the mean latency (within 10⁻³ ms: the mean is
/// rounded to 1 µs) in worlds where all eight parts are nonzero: the [`everything`] world
/// with 1-vCPU tasks and with ½-vCPU tasks (where a request alone on the CPU still waits
/// for it, so `cpu_wait` > `cpu`). Every other test's summaries pass the same check.
#[test]
fn latency_breakdown_adds_up() {
    for (units, seed0) in [(1024, 2600), (512, 2700)] {
        let mut case = everything(&format!("breakdown: everything, cpu {units}"), units);
        if units == 512 {
            case.rate_rps = 120.0;
        }
        case.window = secs(60);
        let runs = case.summaries(4, seed0);
        for s in &runs {
            let b = breakdown(s);
            eprintln!(
                "  cpu {units}: latency mean {:.3} ms = {b:?}",
                latency_mean(s)
            );
            let parts = b.parts();
            assert!(parts.iter().all(|&p| p > 0.0), "a part is zero: {b:?}");
            if units == 512 {
                assert!(b.cpu_wait > b.cpu, "half a vCPU: {b:?}");
            }
            assert_breakdown_adds_up(&case.name, s);
        }
    }
}
