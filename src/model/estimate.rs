//! What a run will cost before it runs, and how much load the fleet can take while it runs:
//! the work estimate behind `lbsim run`'s budget, and the offered-load and capacity figures
//! of the "unstable" stop.
//!
//! Everything here is an expectation computed from the [`WorldSpec`] alone (mean rates,
//! mean service demands); no random number is drawn. The estimates are meant to be right
//! within a small factor, which is all a budget needs: a run estimated at 3·10¹⁴ requests
//! is refused whether the truth is 2 or 4·10¹⁴.

use super::spec::{ArrivalSpec, RateProfile, ServiceSpec, StepSpec, WorldSpec};
use crate::engine::{SimDuration, SimTime};

/// Engine events per request, measured on the bundled scenarios (2.4–2.6 for an arrival,
/// a forward, CPU steps and the response); rounded up.
pub const EVENTS_PER_REQUEST: f64 = 3.0;

/// Bytes of one `metrics.csv` row per target group (about 170 measured on nasa-jul95 with
/// short numbers; rounded up for long ones).
pub const METRICS_ROW_BYTES: f64 = 250.0;

/// Bytes per simulated minute of `cloudwatch.csv` and `alarms.csv` for a service with
/// auto scaling (about 1 000 measured on autoscaling-cpu70; rounded up).
pub const CLOUDWATCH_BYTES_PER_MINUTE: f64 = 1_500.0;

/// Bytes of the files whose size does not grow with the run: `summary.json`,
/// `latency.csv` (one row per histogram bucket, at most a few thousand), `scenario.json`,
/// the plots and `report.html`.
pub const FIXED_OUTPUT_BYTES: f64 = 2.0e6;

/// The expected size of a run, from its spec.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkEstimate {
    /// Expected requests arriving over the run (Σ clients ∫ rate dt).
    pub requests: f64,
    /// Expected engine events (≈ [`EVENTS_PER_REQUEST`] per request).
    pub events: f64,
    /// Rows of `metrics.csv`: one per metrics interval per target group.
    pub metrics_rows: f64,
    /// Bytes of every output file together (see the constants above).
    pub output_bytes: f64,
    /// The highest offered rate any time in the run, requests/s (Σ over clients).
    pub peak_rate_rps: f64,
}

/// Limits on a run's expected size, refused before it starts unless the user forces it
/// (`lbsim run --force`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Most expected requests: 10⁹ by default (about 3·10⁹ events, 10–20 minutes of one
    /// core).
    pub max_requests: f64,
    /// Most expected output bytes: 1 GB (10⁹ bytes) by default.
    pub max_output_bytes: f64,
}

impl Default for Budget {
    /// 10⁹ requests, 1 GB of output.
    fn default() -> Self {
        Budget {
            max_requests: 1e9,
            max_output_bytes: 1e9,
        }
    }
}

impl WorkEstimate {
    /// What exceeds `budget`, one line each (empty when the run fits).
    pub fn over(&self, budget: &Budget) -> Vec<String> {
        let mut out = Vec::new();
        if self.requests > budget.max_requests {
            out.push(format!(
                "about {} requests ({} events) expected, more than the budget of {} requests",
                sci(self.requests),
                sci(self.events),
                sci(budget.max_requests)
            ));
        }
        if self.output_bytes > budget.max_output_bytes {
            out.push(format!(
                "about {} of output expected ({} rows of metrics.csv), more than the budget of {}",
                bytes(self.output_bytes),
                sci(self.metrics_rows),
                bytes(budget.max_output_bytes)
            ));
        }
        out
    }
}

/// A number in short scientific form: `3.2e14`, or plainly below 10⁶ (`12,345`).
pub fn sci(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.abs() < 1e6 {
        let t = thousands(x.abs().round() as u64);
        return if x <= -0.5 { format!("-{t}") } else { t };
    }
    let s = format!("{x:.1e}");
    s.replace(".0e", "e")
}

/// An integer with thousands separators: `1,000,000`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as kB/MB/GB/TB (powers of 1000).
fn bytes(b: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", units[i])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Expected work of running `spec` for its whole duration.
pub fn estimate(spec: &WorldSpec) -> WorkEstimate {
    let end = SimTime::ZERO + spec.duration;
    let requests: f64 = spec
        .clients
        .iter()
        .map(|c| expected_arrivals(&c.arrivals, end))
        .sum();
    let peak_rate_rps = spec.clients.iter().map(|c| peak_rate(&c.arrivals)).sum();
    let secs = spec.duration.as_secs_f64();
    let intervals = if spec.metrics_interval.is_zero() {
        0.0
    } else {
        (secs / spec.metrics_interval.as_secs_f64()).ceil()
    };
    let metrics_rows = intervals * spec.target_groups.len().max(1) as f64;
    let scaled = spec
        .services
        .iter()
        .filter(|s| s.auto_scaling.is_some())
        .count() as f64;
    let output_bytes = metrics_rows * METRICS_ROW_BYTES
        + scaled * CLOUDWATCH_BYTES_PER_MINUTE * secs / 60.0
        + FIXED_OUTPUT_BYTES;
    WorkEstimate {
        requests,
        events: requests * EVENTS_PER_REQUEST,
        metrics_rows,
        output_bytes,
        peak_rate_rps,
    }
}

/// Expected arrivals of one client from t = 0 to `end`.
pub fn expected_arrivals(arrivals: &ArrivalSpec, end: SimTime) -> f64 {
    let secs = (end - SimTime::ZERO).as_secs_f64();
    match arrivals {
        ArrivalSpec::Poisson { rate_rps } | ArrivalSpec::Deterministic { rate_rps } => {
            rate_rps * secs
        }
        ArrivalSpec::Profile(p) => profile_integral(p, end),
        // An upper bound: N / Z̄ (responses taking no time).
        ArrivalSpec::ClosedLoop(c) => c.max_rate_rps() * secs,
    }
}

/// The client's arrival rate at `t`, requests/s.
pub fn rate_at(arrivals: &ArrivalSpec, t: SimTime) -> f64 {
    match arrivals {
        ArrivalSpec::Poisson { rate_rps } | ArrivalSpec::Deterministic { rate_rps } => *rate_rps,
        ArrivalSpec::Profile(p) => {
            let t = fold(p, t);
            p.segments
                .iter()
                .find(|s| s.start <= t && t < s.end)
                .map_or(0.0, |s| {
                    let len = (s.end - s.start).as_secs_f64();
                    let f = (t - s.start).as_secs_f64() / len;
                    s.rate_start_rps + (s.rate_end_rps - s.rate_start_rps) * f
                })
        }
        ArrivalSpec::ClosedLoop(c) => c.max_rate_rps(),
    }
}

/// The highest rate the client ever offers, requests/s.
pub fn peak_rate(arrivals: &ArrivalSpec) -> f64 {
    match arrivals {
        ArrivalSpec::Poisson { rate_rps } | ArrivalSpec::Deterministic { rate_rps } => *rate_rps,
        ArrivalSpec::Profile(p) => p
            .segments
            .iter()
            .map(|s| s.rate_start_rps.max(s.rate_end_rps))
            .fold(0.0, f64::max),
        ArrivalSpec::ClosedLoop(c) => c.max_rate_rps(),
    }
}

/// `t` within the profile's period (itself when it does not repeat).
fn fold(p: &RateProfile, t: SimTime) -> SimTime {
    match p.period {
        Some(period) if !period.is_zero() => SimTime(t.0 % period.0),
        _ => t,
    }
}

/// ∫₀ᵗ rate: trapezoids over each segment (the rate is linear within one).
fn profile_integral(p: &RateProfile, t: SimTime) -> f64 {
    let once = |upto: SimTime| -> f64 {
        p.segments
            .iter()
            .filter(|s| s.start < upto)
            .map(|s| {
                let len = (s.end - s.start).as_secs_f64();
                let hi = s.end.min(upto);
                let w = (hi - s.start).as_secs_f64();
                let r_hi = s.rate_start_rps + (s.rate_end_rps - s.rate_start_rps) * (w / len);
                (s.rate_start_rps + r_hi) / 2.0 * w
            })
            .sum()
    };
    match p.period {
        Some(period) if !period.is_zero() => {
            let cycles = t.0 / period.0;
            let whole = once(SimTime::ZERO + period);
            cycles as f64 * whole + once(SimTime(t.0 % period.0))
        }
        _ => once(t),
    }
}

/// Mean time a request of `svc` holds a worker, and how much of it is CPU: Σ over its
/// steps of each step's mean (times its probability), dependency calls counted by the
/// dependency's mean latency.
fn demand(spec: &WorldSpec, svc: &ServiceSpec) -> (SimDuration, SimDuration) {
    fn step(spec: &WorldSpec, s: &StepSpec, p: f64, cpu: &mut f64, hold: &mut f64) {
        match s {
            StepSpec::Cpu(d) => {
                let m = d.mean().as_secs_f64() * p;
                *cpu += m;
                *hold += m;
            }
            StepSpec::Wait(d) => *hold += d.mean().as_secs_f64() * p,
            StepSpec::Call { dependency } => {
                if let Some(dep) = spec.dependencies.get(*dependency) {
                    *hold += dep.latency.mean().as_secs_f64() * p;
                }
            }
            StepSpec::Sometimes {
                probability,
                step: inner,
            } => step(spec, inner, p * probability, cpu, hold),
        }
    }
    let (mut cpu, mut hold) = (0.0, 0.0);
    if svc.steps.is_empty() {
        cpu = svc.cpu_time.mean().as_secs_f64();
        hold = cpu;
    } else {
        for s in &svc.steps {
            step(spec, s, 1.0, &mut cpu, &mut hold);
        }
    }
    (
        SimDuration::from_secs_f64(hold),
        SimDuration::from_secs_f64(cpu),
    )
}

/// The most requests/s one task of `svc` can serve: its vCPUs over the mean CPU demand,
/// and, with a concurrency limit `c`, at most `c` over the mean time a request holds a
/// worker (Little's law). Infinite when a request needs neither CPU nor time.
pub fn task_capacity_rps(spec: &WorldSpec, svc: &ServiceSpec) -> f64 {
    let (hold, cpu) = demand(spec, svc);
    let vcpu = f64::from(svc.task.cpu) / 1024.0;
    let by_cpu = if cpu.is_zero() {
        f64::INFINITY
    } else {
        vcpu / cpu.as_secs_f64()
    };
    let by_workers = if svc.task.max_concurrency == 0 || hold.is_zero() {
        f64::INFINITY
    } else {
        f64::from(svc.task.max_concurrency) / hold.as_secs_f64()
    };
    by_cpu.min(by_workers)
}

/// The offered rate at `t` of every client together, requests/s.
pub fn offered_rps(spec: &WorldSpec, t: SimTime) -> f64 {
    spec.clients.iter().map(|c| rate_at(&c.arrivals, t)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::spec::{ClientSpec, RateSegment};
    use std::sync::Arc;

    fn profile(period: Option<u64>) -> ArrivalSpec {
        ArrivalSpec::Profile(RateProfile {
            segments: Arc::from(vec![
                RateSegment {
                    start: SimTime::ZERO,
                    end: SimTime(10 * 1_000_000_000),
                    rate_start_rps: 0.0,
                    rate_end_rps: 10.0,
                },
                RateSegment {
                    start: SimTime(10 * 1_000_000_000),
                    end: SimTime(20 * 1_000_000_000),
                    rate_start_rps: 4.0,
                    rate_end_rps: 4.0,
                },
            ]),
            period: period.map(SimDuration::from_secs),
        })
    }

    #[test]
    fn expected_arrivals_integrate_the_rate() {
        let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        let p = profile(None);
        // Ramp 0→10 over 10 s: 50; then 4/s for 10 s: 40; then 0.
        assert!((expected_arrivals(&p, at(10)) - 50.0).abs() < 1e-9);
        assert!((expected_arrivals(&p, at(5)) - 12.5).abs() < 1e-9);
        assert!((expected_arrivals(&p, at(100)) - 90.0).abs() < 1e-9);
        let r = profile(Some(20));
        assert!((expected_arrivals(&r, at(45)) - (180.0 + 12.5)).abs() < 1e-9);
        assert_eq!(rate_at(&p, at(5)), 5.0);
        assert_eq!(rate_at(&p, at(30)), 0.0);
        assert_eq!(rate_at(&r, at(25)), 5.0);
        assert_eq!(peak_rate(&p), 10.0);
        let poisson = ArrivalSpec::Poisson { rate_rps: 7.0 };
        assert_eq!(expected_arrivals(&poisson, at(3)), 21.0);
    }

    #[test]
    fn the_budget_names_what_is_over() {
        let spec = WorldSpec {
            duration: SimDuration::from_secs(366 * 86_400),
            metrics_interval: SimDuration::from_millis(100),
            clients: vec![ClientSpec {
                arrivals: ArrivalSpec::Poisson { rate_rps: 1e7 },
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = estimate(&spec);
        assert!((e.requests - 1e7 * 366.0 * 86_400.0).abs() / e.requests < 1e-12);
        let over = e.over(&Budget::default());
        assert_eq!(over.len(), 2, "{over:?}");
        assert!(over[0].contains("3.2e14 requests"), "{over:?}");
        assert!(over[1].contains("79.1 GB of output"), "{over:?}");
        let small = WorldSpec::default();
        assert!(estimate(&small).over(&Budget::default()).is_empty());
    }

    #[test]
    fn capacity_is_vcpus_over_cpu_demand_or_workers_over_holding_time() {
        let mut spec = WorldSpec::default();
        let mut svc = ServiceSpec {
            cpu_time: crate::model::DistSpec::Exponential {
                mean: SimDuration::from_millis(5),
            },
            ..Default::default()
        };
        svc.task.cpu = 2048;
        assert!((task_capacity_rps(&spec, &svc) - 400.0).abs() < 1e-6);
        svc.task.max_concurrency = 1;
        assert!((task_capacity_rps(&spec, &svc) - 200.0).abs() < 1e-6);
        spec.services.push(svc);
        assert_eq!(sci(1_234_567.0), "1.2e6");
        assert_eq!(sci(1_000_000.0), "1e6");
        assert_eq!(sci(12_345.0), "12,345");
        assert_eq!(thousands(1_003_049), "1,003,049");
    }
}
