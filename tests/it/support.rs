//! Helpers for the statistical tests: a world builder for "one listener, one target group,
//! one service", an observer that measures what queueing theory predicts, independent
//! replications and a checker that compares an estimate with theory.
//!
//! Every measured request arrives in the window `[warmup, cut)`; the run goes on to
//! `cut + drain` so that every one of them finishes (the probe counts those that do not and
//! [`Probe::assert_drained`] fails if any is left), which removes the bias of dropping the
//! slowest requests at the end of a run.

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::{
    Algorithm, ArrivalSpec, Cause, ClientSpec, DistSpec, HealthCheckSpec, LoadBalancerSpec,
    Observer, Request, ServiceSpec, Simulation, TargetGroupSpec, TaskSpec, World, WorldSpec,
};
use rayon::prelude::*;

/// Shorthand for a duration in milliseconds.
pub fn ms(x: u64) -> SimDuration {
    SimDuration::from_millis(x)
}

/// Shorthand for a duration in seconds.
pub fn secs(x: u64) -> SimDuration {
    SimDuration::from_secs(x)
}

/// Exponential CPU time with the given mean.
pub fn exp(mean: SimDuration) -> DistSpec {
    DistSpec::Exponential { mean }
}

/// One experiment: Poisson arrivals to a service of identical tasks behind one target group.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Label for messages.
    pub name: String,
    /// Poisson arrival rate, requests/s.
    pub rate_rps: f64,
    /// Routing algorithm of the one target group.
    pub algorithm: Algorithm,
    /// Number of tasks.
    pub tasks: u32,
    /// vCPUs per task.
    pub vcpus: u32,
    /// Concurrency limit per task (0 = none).
    pub max_concurrency: u32,
    /// CPU time per request.
    pub cpu_time: DistSpec,
    /// Load balancer processing time (zero unless a test wants it).
    pub lb_processing: DistSpec,
    /// Excluded initial span.
    pub warmup: SimDuration,
    /// Length of the measurement window (arrivals counted) after the warm-up.
    pub window: SimDuration,
    /// Extra simulated time after the window so that every measured request finishes.
    pub drain: SimDuration,
    /// Metrics interval: the probe samples the world's state at every tick.
    pub sample_every: SimDuration,
    /// Width of a size bin for E[T | x] (usually the mean CPU time).
    pub bin_unit: SimDuration,
}

impl Setup {
    /// Defaults: zero RTT and LB delay, 1 vCPU, 50 s warm-up, 10 s drain, 1 s ticks.
    pub fn new(name: impl Into<String>, rate_rps: f64, cpu_time: DistSpec) -> Setup {
        let bin_unit = cpu_time.mean();
        Setup {
            name: name.into(),
            rate_rps,
            algorithm: Algorithm::RoundRobin,
            tasks: 1,
            vcpus: 1,
            max_concurrency: 0,
            cpu_time,
            lb_processing: DistSpec::Deterministic(SimDuration::ZERO),
            warmup: secs(50),
            window: secs(1000),
            drain: secs(10),
            sample_every: secs(1),
            bin_unit,
        }
    }

    /// The world of this setup with master seed `seed`.
    pub fn spec(&self, seed: u64) -> WorldSpec {
        let cpu = 1024 * self.vcpus;
        WorldSpec {
            name: self.name.clone(),
            seed,
            duration: self.warmup + self.window + self.drain,
            warmup: self.warmup,
            metrics_interval: self.sample_every,
            clients: vec![ClientSpec {
                arrivals: ArrivalSpec::Poisson {
                    rate_rps: self.rate_rps,
                },
                ..Default::default()
            }],
            load_balancer: LoadBalancerSpec {
                processing_time: self.lb_processing.clone(),
                ..Default::default()
            },
            // Queueing theory of the requests alone: no health checks in the queues.
            target_groups: vec![TargetGroupSpec {
                algorithm: self.algorithm,
                health_check: HealthCheckSpec {
                    enabled: false,
                    ..Default::default()
                },
                ..Default::default()
            }],
            services: vec![ServiceSpec {
                desired_count: self.tasks,
                // Fargate pairs: 1 vCPU/2 GiB, 4 vCPU/8 GiB, 16 vCPU/32 GiB.
                task: TaskSpec {
                    cpu,
                    memory: 2 * cpu,
                    max_concurrency: self.max_concurrency,
                },
                cpu_time: self.cpu_time.clone(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// Runs one replication and returns its probe (already checked to be drained).
    pub fn run(&self, seed: u64) -> Probe {
        let spec = self.spec(seed);
        let probe = Probe::new(self);
        let mut sim = Simulation::new(&spec, probe).expect("valid spec");
        sim.run();
        let probe = sim.into_observer();
        probe.assert_drained(&self.name, seed);
        probe
    }

    /// [`check`] with the setup's name in front of `what`.
    pub fn check(&self, what: &str, est: Estimate, theory: f64, rel_tol: f64, max_rel_se: f64) {
        check(
            &format!("[{}] {what}", self.name),
            est,
            theory,
            rel_tol,
            max_rel_se,
        );
    }

    /// Runs `reps` independent replications (seeds `seed0`, `seed0 + 1`...) in parallel;
    /// the result is in seed order, so it does not depend on scheduling.
    pub fn replicate(&self, reps: u64, seed0: u64) -> Vec<Probe> {
        let t0 = std::time::Instant::now();
        let out: Vec<Probe> = (0..reps)
            .into_par_iter()
            .map(|r| self.run(seed0 + r))
            .collect();
        let n: u64 = out.iter().map(|p| p.arrived).sum();
        eprintln!(
            "[{}] {reps} replications, {n} measured requests, {:.2} s wall",
            self.name,
            t0.elapsed().as_secs_f64()
        );
        out
    }
}

/// Number of size bins for E[T | x]: `[0, ¼), [¼, ½), [½, 1), [1, 2), [2, 4), [4, ∞)` in
/// units of `Setup::bin_unit`.
pub const NBINS: usize = 6;
const BIN_EDGES: [f64; NBINS - 1] = [0.25, 0.5, 1.0, 2.0, 4.0];

/// Human-readable bin label.
pub fn bin_label(i: usize) -> String {
    let lo = if i == 0 { 0.0 } else { BIN_EDGES[i - 1] };
    match BIN_EDGES.get(i) {
        Some(hi) => format!("[{lo}, {hi})"),
        None => format!("[{lo}, inf)"),
    }
}

fn s(d: SimDuration) -> f64 {
    d.as_secs_f64()
}

/// An observer that measures one replication.
#[derive(Clone, Debug)]
pub struct Probe {
    warmup: SimTime,
    cut: SimTime,
    bin_unit: f64,
    /// Requests that arrived in the window.
    pub arrived: u64,
    /// Of those, the ones that finished (must equal `arrived`).
    pub finished: u64,
    /// Of those, the ones that did not end with `Cause::Ok`.
    pub failed: u64,
    /// Σ response time (finish − arrival), s.
    pub sum_t: f64,
    /// Σ CPU time needed, s.
    pub sum_work: f64,
    /// Requests of the window that entered service.
    pub started: u64,
    /// Of those, the ones that waited for a concurrency slot (start > arrival).
    pub waited: u64,
    /// Σ wait for a concurrency slot, s.
    pub sum_wait: f64,
    /// Per size bin: Σ T, Σ x, count.
    pub bin_t: [f64; NBINS],
    /// See `bin_t`.
    pub bin_x: [f64; NBINS],
    /// See `bin_t`.
    pub bin_n: [u64; NBINS],
    // --- Little's law, from the event stream, over the window ---
    n_now: u64,
    last: SimTime,
    /// ∫ number in system dt over the window `[warmup, cut)`, request·ns.
    pub area: u128,
    // --- the model's own state, sampled at metrics ticks in the window ---
    /// Ticks sampled.
    pub samples: u64,
    /// Σ `World::in_flight()` over samples.
    pub sum_world_in_flight: u64,
    /// Σ over samples of Σ tasks' in-flight (in service + waiting).
    pub sum_task_in_flight: u64,
    /// CPU integral (CPU-unit·ns, all tasks) at the first tick at or after warm-up, and its
    /// time.
    busy_start: Option<(SimTime, u128)>,
    /// CPU utilisation of the service over [first tick ≥ warm-up, end] (the drain included:
    /// arrivals go on until the end), fraction of its CPUs.
    pub utilisation: f64,
}

impl Probe {
    /// An empty probe for `setup`.
    pub fn new(setup: &Setup) -> Probe {
        let warmup = SimTime::ZERO + setup.warmup;
        Probe {
            warmup,
            cut: warmup + setup.window,
            bin_unit: s(setup.bin_unit),
            arrived: 0,
            finished: 0,
            failed: 0,
            sum_t: 0.0,
            sum_work: 0.0,
            started: 0,
            waited: 0,
            sum_wait: 0.0,
            bin_t: [0.0; NBINS],
            bin_x: [0.0; NBINS],
            bin_n: [0; NBINS],
            n_now: 0,
            last: SimTime::ZERO,
            area: 0,
            samples: 0,
            sum_world_in_flight: 0,
            sum_task_in_flight: 0,
            busy_start: None,
            utilisation: f64::NAN,
        }
    }

    #[inline]
    fn measured(&self, req: &Request) -> bool {
        req.arrived >= self.warmup && req.arrived < self.cut
    }

    /// Adds (number in system) × (time since the last change) to the integral, clipped to
    /// the window.
    #[inline]
    fn integrate(&mut self, now: SimTime) {
        let from = self.last.max(self.warmup);
        let to = now.min(self.cut);
        if to > from {
            self.area += u128::from(self.n_now) * u128::from((to - from).0);
        }
        self.last = now;
    }

    /// Panics unless every request of the window finished, with `Cause::Ok`.
    pub fn assert_drained(&self, name: &str, seed: u64) {
        assert!(self.arrived > 0, "[{name}] seed {seed}: nothing measured");
        assert_eq!(
            self.arrived, self.finished,
            "[{name}] seed {seed}: measured requests still in flight at the end; lengthen drain"
        );
        assert_eq!(self.failed, 0, "[{name}] seed {seed}: failed requests");
    }

    /// Mean response time, s.
    pub fn mean_t(&self) -> f64 {
        self.sum_t / self.finished as f64
    }

    /// Fraction of requests that waited for a concurrency slot.
    pub fn p_wait(&self) -> f64 {
        self.waited as f64 / self.started as f64
    }

    /// Mean wait for a concurrency slot, s.
    pub fn mean_wait(&self) -> f64 {
        self.sum_wait / self.started as f64
    }

    /// Mean CPU time of the measured requests, s.
    pub fn mean_work(&self) -> f64 {
        self.sum_work / self.finished as f64
    }

    /// Measured arrival rate in the window, requests/s.
    pub fn arrival_rate(&self) -> f64 {
        self.arrived as f64 / (self.cut - self.warmup).as_secs_f64()
    }

    /// Time-average number in system over the window, from the event stream.
    pub fn l_integrated(&self) -> f64 {
        self.area as f64 / (self.cut - self.warmup).0 as f64
    }

    /// Average of the model's `World::in_flight()` over ticks.
    pub fn l_sampled_world(&self) -> f64 {
        self.sum_world_in_flight as f64 / self.samples as f64
    }

    /// Average of Σ tasks' in-flight over ticks.
    pub fn l_sampled_tasks(&self) -> f64 {
        self.sum_task_in_flight as f64 / self.samples as f64
    }

    /// E[T]/E[x] in size bin `i` (E[T | x] / x for processor sharing).
    pub fn bin_ratio(&self, i: usize) -> f64 {
        self.bin_t[i] / self.bin_x[i]
    }
}

impl Observer for Probe {
    fn request_arrived(&mut self, now: SimTime, req: &Request) {
        self.integrate(now);
        self.n_now += 1;
        if self.measured(req) {
            self.arrived += 1;
        }
    }

    fn request_started(&mut self, now: SimTime, req: &Request) {
        if self.measured(req) {
            self.started += 1;
            if now > req.arrived {
                self.waited += 1;
                self.sum_wait += s(now - req.arrived);
            }
        }
    }

    fn request_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.integrate(now);
        self.n_now -= 1;
        if self.measured(req) {
            self.finished += 1;
            if cause != Cause::Ok {
                self.failed += 1;
            }
            let t = s(now - req.arrived);
            let x = s(req.work);
            self.sum_t += t;
            self.sum_work += x;
            let u = x / self.bin_unit;
            let b = BIN_EDGES.iter().take_while(|&&e| u >= e).count();
            self.bin_t[b] += t;
            self.bin_x[b] += x;
            self.bin_n[b] += 1;
        }
    }

    fn interval(&mut self, now: SimTime, world: &World) {
        if now < self.warmup || now >= self.cut {
            return;
        }
        let at_tasks: u64 = world.tasks().iter().map(|t| t.in_flight() as u64).sum();
        let outstanding: u64 = world
            .target_groups()
            .iter()
            .flat_map(|tg| {
                let node = &world.load_balancer().nodes()[0];
                node.router(tg.id)
                    .outstanding()
                    .iter()
                    .map(|&o| u64::from(o))
            })
            .sum();
        // Exact invariant: the LB node's outstanding counts are the requests at the tasks.
        assert_eq!(outstanding, at_tasks, "at {now}: outstanding ≠ at tasks");
        assert!(world.in_flight() as u64 >= at_tasks);
        assert_eq!(world.in_flight() as u64, self.n_now, "at {now}: in_flight");
        self.samples += 1;
        self.sum_world_in_flight += world.in_flight() as u64;
        self.sum_task_in_flight += at_tasks;
        if self.busy_start.is_none() {
            let busy = world.tasks().iter().map(|t| t.cpu().busy_unit_ns).sum();
            self.busy_start = Some((now, busy));
        }
    }

    fn finish(&mut self, now: SimTime, world: &World) {
        self.integrate(now);
        if let Some((t0, b0)) = self.busy_start {
            let busy: u128 = world.tasks().iter().map(|t| t.cpu().busy_unit_ns).sum();
            let units: u64 = world.tasks().iter().map(|t| u64::from(t.cpu_units)).sum();
            self.utilisation = (busy - b0) as f64 / (units as f64 * (now - t0).0 as f64);
        }
    }
}

/// Mean of per-replication values and its standard error.
#[derive(Clone, Copy, Debug)]
pub struct Estimate {
    /// Mean of the replication means.
    pub mean: f64,
    /// Standard error of `mean` (sample s.d. / √R).
    pub se: f64,
    /// Replications.
    pub reps: usize,
}

impl Estimate {
    /// From one value per replication.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Estimate {
        let v: Vec<f64> = values.into_iter().collect();
        let n = v.len();
        assert!(n >= 2, "need at least two replications");
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        Estimate {
            mean,
            se: (var / n as f64).sqrt(),
            reps: n,
        }
    }

    /// Relative standard error.
    pub fn rel_se(&self) -> f64 {
        self.se / self.mean.abs()
    }
}

/// Prints and checks `est` against `theory`: `|est − theory| < 4·SE`, `|est − theory| <
/// rel_tol·theory`, and `SE < max_rel_se·est` (so that the 4·SE test has power).
pub fn check(label: &str, est: Estimate, theory: f64, rel_tol: f64, max_rel_se: f64) {
    let err = est.mean - theory;
    let z = err / est.se;
    eprintln!(
        "  {label}: estimate {:.6} ± {:.6} (SE {:.2}%, 95% CI [{:.6}, {:.6}], R = {}), \
         theory {theory:.6}, error {:+.2}% = {z:+.2} SE",
        est.mean,
        est.se,
        100.0 * est.rel_se(),
        est.mean - 1.96 * est.se,
        est.mean + 1.96 * est.se,
        est.reps,
        100.0 * err / theory,
    );
    assert!(
        est.rel_se() < max_rel_se,
        "{label}: relative SE {:.2}% ≥ {:.2}%: not enough data for a meaningful test",
        100.0 * est.rel_se(),
        100.0 * max_rel_se
    );
    assert!(
        z.abs() < 4.0,
        "{label}: estimate {:.6} is {z:+.2} SE from theory {theory:.6}",
        est.mean
    );
    assert!(
        (err / theory).abs() < rel_tol,
        "{label}: estimate {:.6} is {:+.2}% from theory {theory:.6} (tolerance {:.1}%)",
        est.mean,
        100.0 * err / theory,
        100.0 * rel_tol
    );
}

/// Erlang C: probability that an arrival waits in M/M/c with offered load `a = λ/μ` (< c).
/// Stable form via the Erlang B recursion `B₀ = 1, B_k = a·B_{k−1}/(k + a·B_{k−1})`, then
/// `C = B/(1 − ρ(1 − B))` with `ρ = a/c`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < f64::from(c), "unstable: a = {a} ≥ c = {c}");
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// M/M/c FIFO mean response time: `1/μ + C(c, λ/μ)/(cμ − λ)`.
pub fn mmc_response(c: u32, lambda: f64, mu: f64) -> f64 {
    1.0 / mu + erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda)
}

/// The rows of a `metrics.csv` as (column → value) maps, read as a user's script would.
pub fn read_metrics_csv(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            header
                .iter()
                .map(String::from)
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Runs scenario text `text` (named `name`) with `sets` overrides through the recorder,
/// writing its files under `dir`; returns `summary.json`, the rows of `events.csv` (header
/// dropped, each split into its fields) and the rows of `metrics.csv` (column → value).
pub fn run_recorded(
    name: &str,
    text: &str,
    sets: &[&str],
    dir: &std::path::Path,
) -> (
    serde_json::Value,
    Vec<Vec<String>>,
    Vec<std::collections::BTreeMap<String, String>>,
) {
    let spec = load_text(name, text, sets).unwrap();
    let rec = lbsim::metrics::Recorder::new(lbsim::metrics::RecorderOptions {
        out_dir: Some(dir.to_path_buf()),
    });
    let mut sim = lbsim::model::Simulation::new(&spec, rec).unwrap();
    sim.run();
    sim.into_observer().finish().unwrap();
    let summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let mut r = csv::Reader::from_path(dir.join("events.csv")).unwrap();
    let events = r
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (summary, events, read_metrics_csv(&dir.join("metrics.csv")))
}

/// A JSON number of `summary.json`, or a panic naming what was there instead.
pub fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// `got` equals `want` up to 1e-6 relative (1e-6 absolute below 1).
pub fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// Loads scenario `text` as if it were the file `name` (no file is written), with the
/// overrides `sets` (`path=value`), and returns its spec or its errors.
pub fn load_text(
    name: &str,
    text: &str,
    sets: &[&str],
) -> Result<lbsim::model::WorldSpec, lbsim::scenario::ScenarioErrors> {
    let sets: Vec<_> = sets
        .iter()
        .map(|s| lbsim::scenario::overrides::parse(s).unwrap())
        .collect();
    lbsim::scenario::load_str(std::path::Path::new(name), text, &sets).map(|s| s.spec)
}

/// The value of a constant distribution, `None` for any other.
pub fn constant(d: &DistSpec) -> Option<SimDuration> {
    match d {
        DistSpec::Deterministic(v) => Some(*v),
        _ => None,
    }
}
