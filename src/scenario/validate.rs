//! Validation: every field against its allowed range (AWS's where the field mirrors an AWS
//! setting), and resolution of names and files into a [`WorldSpec`].

use std::collections::BTreeMap;
use std::path::Path;

use super::file::*;
use super::trace;
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::model::{
    ActionSpec, Algorithm, ArrivalSpec, ClientSpec, DistSpec, ListenerSpec, LoadBalancerSpec,
    RateProfile, RateSegment, ServiceSpec, TargetGroupSpec, TaskSpec, WorldSpec,
};

/// One problem found in a scenario: the field's dotted path and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Dotted path of the field, as `--set` spells it (`services.0.task.cpu`).
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// Set when the problem is inside another file (a trace): that file and line.
    pub data_file: Option<(std::path::PathBuf, Option<u64>)>,
}

/// Longest simulated duration accepted.
pub const MAX_DURATION: SimDuration = SimDuration(366 * 86_400 * NANOS_PER_SEC);
/// Highest arrival rate accepted for one client, requests/s.
pub const MAX_RATE_RPS: f64 = 10_000_000.0;
/// Most tasks per service (ECS service quota "Tasks per service": 5,000).
pub const MAX_DESIRED_COUNT: u32 = 5_000;
/// Most listeners per load balancer (ALB quota: 50).
pub const MAX_LISTENERS: usize = 50;
/// Most target groups per load balancer (ALB quota: 100).
pub const MAX_TARGET_GROUPS: usize = 100;

/// Valid Fargate (CPU units, memory MiB) pairs, from
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>.
pub fn fargate_memory_range(cpu: u32) -> Option<(u32, u32, u32)> {
    // (min MiB, max MiB, step MiB)
    match cpu {
        256 => Some((512, 2048, 512)),
        512 => Some((1024, 4096, 1024)),
        1024 => Some((2048, 8192, 1024)),
        2048 => Some((4096, 16384, 1024)),
        4096 => Some((8192, 30720, 1024)),
        8192 => Some((16384, 61440, 4096)),
        16384 => Some((32768, 122880, 8192)),
        _ => None,
    }
}

/// True when `memory` is a valid Fargate memory size for `cpu`.
pub fn fargate_pair_is_valid(cpu: u32, memory: u32) -> bool {
    match fargate_memory_range(cpu) {
        // 256 CPU units allow 512, 1024 and 2048 MiB only.
        Some((lo, hi, _)) if cpu == 256 => [lo, 1024, hi].contains(&memory),
        Some((lo, hi, step)) => memory >= lo && memory <= hi && (memory - lo) % step == 0,
        None => false,
    }
}

struct Ctx<'a> {
    base: &'a Path,
    issues: Vec<Issue>,
}

impl Ctx<'_> {
    fn bad(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            message: message.into(),
            data_file: None,
        });
    }

    fn name(&mut self, path: &str, name: &str, what: &str, max_len: usize, allow_underscore: bool) {
        let ok_char =
            |c: char| c.is_ascii_alphanumeric() || c == '-' || (allow_underscore && c == '_');
        if name.is_empty() || name.len() > max_len || !name.chars().all(ok_char) {
            let allowed = if allow_underscore {
                "letters, digits, hyphens and underscores"
            } else {
                "letters, digits and hyphens"
            };
            self.bad(
                path,
                format!("\"{name}\" is not a valid {what} name: use 1–{max_len} {allowed}"),
            );
        } else if !allow_underscore && (name.starts_with('-') || name.ends_with('-')) {
            self.bad(
                path,
                format!("\"{name}\": a {what} name must not begin or end with a hyphen (AWS rule)"),
            );
        }
    }

    /// The index of the target group called `name`, or an issue at `path` listing the
    /// known names.
    fn target_group(&mut self, path: &str, name: &str, known: &BTreeMap<String, usize>) -> usize {
        if let Some(&t) = known.get(name) {
            return t;
        }
        let names: Vec<&str> = known.keys().map(String::as_str).collect();
        self.bad(
            path,
            format!(
                "no target group is named \"{name}\" (known: {})",
                names.join(", ")
            ),
        );
        0
    }

    fn positive_finite(&mut self, path: &str, v: f64, max: f64, unit: &str) -> bool {
        if !(v.is_finite() && v > 0.0 && v <= max) {
            self.bad(path, format!("{v}: must be > 0 and ≤ {max} {unit}"));
            return false;
        }
        true
    }

    fn delay(&mut self, path: &str, d: &Option<Delay>) -> DistSpec {
        match d {
            None => DistSpec::Deterministic(SimDuration::ZERO),
            Some(Delay::Constant(v)) => DistSpec::Deterministic(v.0),
            Some(Delay::Dist(ds)) => self.dist(path, ds),
        }
    }

    fn dist(&mut self, path: &str, d: &DistSection) -> DistSpec {
        let mean_pos = |ctx: &mut Self, mean: &Dur| {
            if mean.0.is_zero() {
                ctx.bad(format!("{path}.mean"), "must be > 0 (e.g. \"10ms\")");
            }
        };
        match d {
            DistSection::Deterministic { value } => DistSpec::Deterministic(value.0),
            DistSection::Exponential { mean } => {
                mean_pos(self, mean);
                DistSpec::Exponential { mean: mean.0 }
            }
            DistSection::Uniform { min, max } => {
                if max < min {
                    self.bad(
                        format!("{path}.max"),
                        format!("{} is below min = {}: need min ≤ max", max.0, min.0),
                    );
                }
                DistSpec::Uniform {
                    min: min.0,
                    max: max.0,
                }
            }
            DistSection::Lognormal { mean, cv } | DistSection::Gamma { mean, cv } => {
                mean_pos(self, mean);
                self.positive_finite(&format!("{path}.cv"), *cv, 100.0, "(σ/mean)");
                let (mean, cv) = (mean.0, *cv);
                if matches!(d, DistSection::Lognormal { .. }) {
                    DistSpec::LogNormal { mean, cv }
                } else {
                    DistSpec::Gamma { mean, cv }
                }
            }
            DistSection::Pareto { mean, alpha } => {
                mean_pos(self, mean);
                if !(alpha.is_finite() && *alpha > 1.0 && *alpha <= 100.0) {
                    self.bad(
                        format!("{path}.alpha"),
                        format!("{alpha}: must be > 1 (a finite mean) and ≤ 100"),
                    );
                }
                DistSpec::Pareto {
                    mean: mean.0,
                    alpha: *alpha,
                }
            }
            DistSection::Empirical { file } => {
                let p = self.base.join(file);
                match trace::read_empirical(&p) {
                    Ok(v) => DistSpec::Empirical(v),
                    Err(e) => {
                        self.issues.push(Issue {
                            path: format!("{path}.file"),
                            message: e.message.clone(),
                            data_file: Some((e.file.clone(), e.line)),
                        });
                        DistSpec::Deterministic(SimDuration::ZERO)
                    }
                }
            }
        }
    }

    fn arrivals(&mut self, path: &str, a: &ArrivalsSection) -> ArrivalSpec {
        let fallback = ArrivalSpec::Poisson { rate_rps: 1.0 };
        match a {
            ArrivalsSection::Poisson { rate_rps } => {
                self.positive_finite(
                    &format!("{path}.rate_rps"),
                    *rate_rps,
                    MAX_RATE_RPS,
                    "requests/s",
                );
                ArrivalSpec::Poisson {
                    rate_rps: *rate_rps,
                }
            }
            ArrivalsSection::Schedule {
                shape,
                points,
                repeat,
            } => {
                let pp = format!("{path}.points");
                if points.is_empty() {
                    self.bad(
                        pp,
                        "needs at least one [time, rps] point, starting at \"0s\"",
                    );
                    return fallback;
                }
                if !points[0].0.0.is_zero() {
                    self.bad(format!("{pp}.0"), "the first point must be at \"0s\"");
                }
                let mut ok = true;
                for (i, (t, r)) in points.iter().enumerate() {
                    if !(r.is_finite() && *r >= 0.0 && *r <= MAX_RATE_RPS) {
                        self.bad(
                            format!("{pp}.{i}"),
                            format!("rate {r}: must be ≥ 0 and ≤ {MAX_RATE_RPS} requests/s"),
                        );
                        ok = false;
                    }
                    if i > 0 && t.0 <= points[i - 1].0.0 {
                        self.bad(
                            format!("{pp}.{i}"),
                            format!(
                                "time {} is not after the previous point's {}: times must increase",
                                t.0,
                                points[i - 1].0.0
                            ),
                        );
                        ok = false;
                    }
                }
                if *repeat && points.len() < 2 {
                    self.bad(format!("{path}.repeat"), "a repeating schedule needs at least two points (the last one's time is the period)");
                    ok = false;
                }
                if !ok {
                    return fallback;
                }
                ArrivalSpec::Profile(schedule_profile(*shape, points, *repeat))
            }
            ArrivalsSection::Trace {
                file,
                scale,
                start,
                duration,
                looped,
            } => {
                self.positive_finite(&format!("{path}.scale"), *scale, 1e6, "(a multiplier)");
                if let Some(d) = duration
                    && d.0.is_zero()
                {
                    self.bad(
                        format!("{path}.duration"),
                        "must be > 0 (or omitted: to the end of the trace)",
                    );
                    return fallback;
                }
                let p = self.base.join(file);
                let t = match trace::read_trace(&p) {
                    Ok(t) => t,
                    Err(e) => {
                        self.issues.push(Issue {
                            path: format!("{path}.file"),
                            message: e.message.clone(),
                            data_file: Some((e.file.clone(), e.line)),
                        });
                        return fallback;
                    }
                };
                match trace::window(&t, start.0, duration.map(|d| d.0), *scale, *looped) {
                    Ok(p) => ArrivalSpec::Profile(p),
                    Err(m) => {
                        self.bad(format!("{path}.start"), m);
                        fallback
                    }
                }
            }
        }
    }
}

/// The rate profile of a schedule. Step: each rate holds until the next point; the last
/// one holds to the end, or to the last point's time when repeating. Linear: rates are
/// interpolated between points; the last one holds after the last point.
fn schedule_profile(shape: Shape, points: &[(Dur, f64)], repeat: bool) -> RateProfile {
    let mut segs = Vec::new();
    for w in points.windows(2) {
        let ((t0, r0), (t1, r1)) = (w[0], w[1]);
        segs.push(RateSegment {
            start: SimTime::ZERO + t0.0,
            end: SimTime::ZERO + t1.0,
            rate_start_rps: r0,
            rate_end_rps: if shape == Shape::Linear { r1 } else { r0 },
        });
    }
    let (tl, rl) = points[points.len() - 1];
    if !repeat {
        segs.push(RateSegment {
            start: SimTime::ZERO + tl.0,
            end: SimTime::MAX,
            rate_start_rps: rl,
            rate_end_rps: rl,
        });
    }
    RateProfile {
        segments: segs.into(),
        period: repeat.then_some(tl.0),
    }
}

fn unique<'a>(
    ctx: &mut Ctx,
    what: &str,
    items: impl Iterator<Item = (String, &'a str)>,
) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for (i, (path, name)) in items.enumerate() {
        if seen.insert(name.to_string(), i).is_some() {
            ctx.bad(
                path,
                format!("{what} name \"{name}\" is used twice; names must be unique"),
            );
        }
    }
    seen
}

/// Checks `file` and resolves it into a [`WorldSpec`]. `base` is the directory relative
/// paths are read from; `default_name` names the scenario when `simulation.name` is unset.
///
/// # Errors
/// Every [`Issue`] found (not just the first).
pub fn resolve(
    file: &ScenarioFile,
    base: &Path,
    default_name: &str,
) -> Result<WorldSpec, Vec<Issue>> {
    let mut ctx = Ctx {
        base,
        issues: Vec::new(),
    };
    let sim = &file.simulation;
    let name = sim.name.clone().unwrap_or_else(|| default_name.to_string());
    if name.is_empty() || name.len() > 128 {
        ctx.bad("simulation.name", "must be 1–128 characters");
    }
    if sim.duration.0.is_zero() || sim.duration.0 > MAX_DURATION {
        ctx.bad(
            "simulation.duration",
            format!("{}: must be > 0 and ≤ 366d", sim.duration.0),
        );
    }
    if sim.warmup.0 >= sim.duration.0 && !sim.duration.0.is_zero() {
        ctx.bad(
            "simulation.warmup",
            format!(
                "{}: must be shorter than simulation.duration ({})",
                sim.warmup.0, sim.duration.0
            ),
        );
    }
    let mi = sim.metrics_interval.0;
    if mi < SimDuration::from_millis(100) || mi > SimDuration::from_secs(86_400) {
        ctx.bad(
            "simulation.metrics_interval",
            format!("{mi}: must be between 100ms and 1d"),
        );
    }

    // Target groups.
    if file.target_groups.is_empty() || file.target_groups.len() > MAX_TARGET_GROUPS {
        ctx.bad(
            "target_groups",
            format!("needs 1–{MAX_TARGET_GROUPS} target groups (ALB quota)"),
        );
    }
    let tg_index = unique(
        &mut ctx,
        "target group",
        file.target_groups
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("target_groups.{i}.name"), t.name.as_str())),
    );
    let mut target_groups = Vec::new();
    for (i, t) in file.target_groups.iter().enumerate() {
        ctx.name(
            &format!("target_groups.{i}.name"),
            &t.name,
            "target group",
            32,
            false,
        );
        let algorithm = match Algorithm::ALL.iter().find(|a| a.name() == t.algorithm) {
            Some(a) => *a,
            None => {
                let names: Vec<_> = Algorithm::ALL.iter().map(|a| a.name()).collect();
                ctx.bad(
                    format!("target_groups.{i}.algorithm"),
                    format!(
                        "unknown algorithm \"{}\"; allowed: {}",
                        t.algorithm,
                        names.join(", ")
                    ),
                );
                Algorithm::RoundRobin
            }
        };
        target_groups.push(TargetGroupSpec {
            name: t.name.clone(),
            algorithm,
        });
    }

    // Load balancer.
    let lb = &file.load_balancer;
    if lb.kind != "application" {
        ctx.bad(
            "load_balancer.type",
            format!(
                "\"{}\": only \"application\" (an ALB) is supported",
                lb.kind
            ),
        );
    }
    ctx.name("load_balancer.name", &lb.name, "load balancer", 32, false);
    if lb.listeners.is_empty() || lb.listeners.len() > MAX_LISTENERS {
        ctx.bad("load_balancer.listeners", format!("needs 1–{MAX_LISTENERS} listeners (ALB quota), e.g. [[load_balancer.listeners]] port = 80"));
    }
    let mut listeners = Vec::new();
    let mut ports = BTreeMap::new();
    for (i, l) in lb.listeners.iter().enumerate() {
        let p = format!("load_balancer.listeners.{i}");
        if l.port == 0 {
            ctx.bad(format!("{p}.port"), "0: must be 1–65535");
        }
        if ports.insert(l.port, i).is_some() {
            ctx.bad(
                format!("{p}.port"),
                format!("port {} is used by two listeners", l.port),
            );
        }
        if l.protocol != "HTTP" && l.protocol != "HTTPS" {
            ctx.bad(
                format!("{p}.protocol"),
                format!("\"{}\": must be \"HTTP\" or \"HTTPS\"", l.protocol),
            );
        }
        let ActionSection::Forward { target_group } = &l.default_action;
        let tg = ctx.target_group(
            &format!("{p}.default_action.target_group"),
            target_group,
            &tg_index,
        );
        listeners.push(ListenerSpec {
            port: l.port,
            protocol: l.protocol.clone(),
            default_action: ActionSpec::Forward { target_group: tg },
        });
    }
    let processing_time = ctx.delay("load_balancer.processing_time", &lb.processing_time);

    // Clients.
    if file.clients.is_empty() || file.clients.len() > 1000 {
        ctx.bad("clients", "needs 1–1000 [[clients]]");
    }
    unique(
        &mut ctx,
        "client",
        file.clients
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("clients.{i}.name"), c.name.as_str())),
    );
    let mut clients = Vec::new();
    for (i, c) in file.clients.iter().enumerate() {
        let p = format!("clients.{i}");
        ctx.name(&format!("{p}.name"), &c.name, "client", 64, true);
        let listener = match c.port {
            None => 0,
            Some(port) => match ports.get(&port) {
                Some(&l) => l,
                None => {
                    ctx.bad(format!("{p}.port"), format!("no listener on port {port}"));
                    0
                }
            },
        };
        clients.push(ClientSpec {
            name: c.name.clone(),
            arrivals: ctx.arrivals(&format!("{p}.arrivals"), &c.arrivals),
            rtt: ctx.delay(&format!("{p}.rtt"), &c.rtt),
            listener,
        });
    }

    // Services.
    unique(
        &mut ctx,
        "service",
        file.services
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("services.{i}.name"), s.name.as_str())),
    );
    let mut services = Vec::new();
    for (i, s) in file.services.iter().enumerate() {
        let p = format!("services.{i}");
        ctx.name(&format!("{p}.name"), &s.name, "service", 255, true);
        let tg = ctx.target_group(&format!("{p}.target_group"), &s.target_group, &tg_index);
        if s.desired_count > MAX_DESIRED_COUNT {
            ctx.bad(
                format!("{p}.desired_count"),
                format!(
                    "{}: must be 0–{MAX_DESIRED_COUNT} (ECS tasks-per-service quota)",
                    s.desired_count
                ),
            );
        }
        let t = &s.task;
        if fargate_memory_range(t.cpu).is_none() {
            ctx.bad(format!("{p}.task.cpu"), format!("{}: Fargate task CPU must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 CPU units (1024 = 1 vCPU)", t.cpu));
        } else if !fargate_pair_is_valid(t.cpu, t.memory) {
            let (lo, hi, step) = fargate_memory_range(t.cpu).expect("checked");
            let allowed = if t.cpu == 256 {
                "512, 1024 or 2048".to_string()
            } else {
                format!("{lo}–{hi} in steps of {step}")
            };
            ctx.bad(
                format!("{p}.task.memory"),
                format!(
                    "{} MiB is not valid with cpu = {} on Fargate: allowed {allowed} MiB",
                    t.memory, t.cpu
                ),
            );
        }
        if t.max_concurrency > 1_000_000 {
            ctx.bad(
                format!("{p}.task.max_concurrency"),
                format!("{}: must be 0 (no limit) to 1000000", t.max_concurrency),
            );
        }
        let cpu_time = match &s.request.cpu_time {
            Delay::Constant(v) => DistSpec::Deterministic(v.0),
            Delay::Dist(d) => ctx.dist(&format!("{p}.request.cpu_time"), d),
        };
        services.push(ServiceSpec {
            name: s.name.clone(),
            target_group: tg,
            desired_count: s.desired_count,
            task: TaskSpec {
                cpu: t.cpu,
                memory: t.memory,
                max_concurrency: t.max_concurrency,
            },
            cpu_time,
        });
    }

    if !ctx.issues.is_empty() {
        return Err(ctx.issues);
    }
    Ok(WorldSpec {
        name,
        seed: sim.seed,
        duration: sim.duration.0,
        warmup: sim.warmup.0,
        metrics_interval: mi,
        clients,
        load_balancer: LoadBalancerSpec {
            name: lb.name.clone(),
            processing_time,
            listeners,
        },
        target_groups,
        services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_pairs() {
        assert!(fargate_pair_is_valid(256, 512));
        assert!(fargate_pair_is_valid(256, 2048));
        assert!(!fargate_pair_is_valid(256, 1536));
        assert!(fargate_pair_is_valid(1024, 2048));
        assert!(!fargate_pair_is_valid(1024, 1024));
        assert!(fargate_pair_is_valid(4096, 30720));
        assert!(!fargate_pair_is_valid(4096, 31744));
        assert!(fargate_pair_is_valid(8192, 20480));
        assert!(!fargate_pair_is_valid(8192, 17408));
        assert!(fargate_pair_is_valid(16384, 122880));
        assert!(!fargate_pair_is_valid(1000, 2048));
    }

    #[test]
    fn step_schedule_holds_last_rate() {
        let p = schedule_profile(
            Shape::Step,
            &[
                (Dur(SimDuration::ZERO), 5.0),
                (Dur(SimDuration::from_secs(10)), 7.0),
            ],
            false,
        );
        assert_eq!(p.segments.len(), 2);
        assert_eq!(p.segments[0].rate_end_rps, 5.0);
        assert_eq!(p.segments[1].end, SimTime::MAX);
        assert_eq!(p.period, None);
    }
}
