//! `[[services]]`: names, target groups, desired counts, Fargate task sizes (valid CPU and
//! memory pairs), concurrency limits, the request's work (its CPU time, or its profile of
//! steps), the application's memory, the tasks' lifecycle phases, and what ECS and the load
//! balancer's health checks need (the grace period, the steps of a check's request), and
//! rolling deployments (their configuration, their revisions).

use super::dist::mib_to_kib;
use super::{
    Ctx, DependencyIndex, MAX_CONCURRENCY, MAX_DESIRED_COUNT, MAX_HEALTH_CHECK_GRACE_PERIOD,
    MAX_LIFECYCLE_PHASE, MAX_STEPS, MAX_STOP_TIMEOUT, ServiceIndex, TargetGroupIndex,
};
use crate::engine::{SimDuration, SimTime};
use crate::model::{
    CircuitBreakerSpec, CpuArchitecture, DeploymentConfigurationSpec, DeploymentSpec, DistSpec,
    LifecycleSpec, MemorySpec, RevisionFailure, RevisionSpec, RuntimePlatformSpec, ServiceSpec,
    StepSpec, TaskSpec,
};
use crate::scenario::file::{
    Delay, DeploymentConfigurationSection, DeploymentSection, LifecycleSection, MemorySection,
    RequestSection, RevisionFailureName, RuntimePlatformSection, ServiceSection, StepSection,
    TaskSection,
};

/// Most deployments per service.
const MAX_DEPLOYMENTS: usize = 100;

/// The largest `target_weight` (lbsim's; the same bound as a weighted forward's weights).
const MAX_TARGET_WEIGHT: i64 = 999;

/// Valid Fargate (CPU units, memory MiB) pairs, from
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>:
/// for a valid `cpu`, the (min MiB, max MiB, step MiB) of its memory sizes; `None` for
/// any other `cpu`. (256 CPU units allow only 512, 1024 and 2048 MiB: see
/// [`fargate_pair_is_valid`].)
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

/// Checks `[[services]]`; `tg_index` maps target group names to indices, `deps`
/// dependency names to indices. Returns their specs and their indices (and desired counts)
/// by name, for the faults that name them.
pub(super) fn resolve(
    ctx: &mut Ctx,
    services: &[ServiceSection],
    tg_index: &TargetGroupIndex,
    deps: &DependencyIndex,
    run: SimDuration,
) -> (Vec<ServiceSpec>, ServiceIndex) {
    let index = ctx
        .unique(
            "service",
            services
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("services.{i}.name"), s.name.as_str())),
        )
        .into_iter()
        .map(|(name, i)| (name, (i, services[i].desired_count)))
        .collect();
    let specs = services
        .iter()
        .enumerate()
        .map(|(i, s)| service(ctx, i, s, tg_index, deps, run))
        .collect();
    (specs, index)
}

/// Checks service `i`.
fn service(
    ctx: &mut Ctx,
    i: usize,
    s: &ServiceSection,
    tg_index: &TargetGroupIndex,
    deps: &DependencyIndex,
    run: SimDuration,
) -> ServiceSpec {
    let p = format!("services.{i}");
    ctx.name(&format!("{p}.name"), &s.name, "service", 255, true);
    let tg = ctx.target_group(&format!("{p}.target_group"), &s.target_group, tg_index);
    if s.desired_count > MAX_DESIRED_COUNT {
        ctx.bad(
            format!("{p}.desired_count"),
            format!(
                "{}: must be 0–{MAX_DESIRED_COUNT} (ECS tasks-per-service quota)",
                s.desired_count
            ),
        );
    }
    let task = task(ctx, &p, &s.task);
    let (cpu_time, steps) = request(ctx, &format!("{p}.request"), &s.request, deps);
    let memory = memory(ctx, &format!("{p}.memory"), &s.memory, &task);
    let lifecycle = lifecycle(ctx, &format!("{p}.lifecycle"), &s.lifecycle);
    let health_check_grace_period = match s.health_check_grace_period {
        None => SimDuration::ZERO,
        Some(g) => {
            ctx.signed_seconds_in(
                &format!("{p}.health_check_grace_period"),
                g,
                SimDuration::ZERO,
                MAX_HEALTH_CHECK_GRACE_PERIOD,
                "ECS healthCheckGracePeriodSeconds",
            );
            g.magnitude
        }
    };
    let health_check_steps = match &s.health_check_request {
        None => Vec::new(),
        Some(r) => step_list(
            ctx,
            &format!("{p}.health_check_request.steps"),
            &r.steps,
            deps,
            0,
        ),
    };
    let deployment_configuration = deployment_configuration(
        ctx,
        &format!("{p}.deployment_configuration"),
        &s.deployment_configuration,
    );
    let deployments = deployments(ctx, &format!("{p}.deployments"), &s.deployments, deps, run);
    let auto_scaling = s.auto_scaling.as_ref().map(|a| {
        super::autoscaling::auto_scaling(ctx, &format!("{p}.auto_scaling"), a, s.desired_count, run)
    });
    let capacity_provider_strategy = super::spot::strategy(
        ctx,
        &format!("{p}.capacity_provider_strategy"),
        s.capacity_provider_strategy.as_deref(),
    );
    let spot_interruptions = super::spot::interruptions(
        ctx,
        &format!("{p}.spot"),
        s.spot.as_ref(),
        &capacity_provider_strategy,
        run,
    );
    let runtime_platform = runtime_platform(ctx, &p, s.runtime_platform.as_ref());
    if !runtime_platform.cpu_architecture.supports_fargate_spot()
        && capacity_provider_strategy
            .iter()
            .any(|i| i.capacity_provider == crate::model::CapacityProvider::FargateSpot)
    {
        ctx.bad(
            format!("{p}.capacity_provider_strategy"),
            format!(
                "FARGATE_SPOT runs Linux X86_64 tasks only, and this service's \
                 runtime_platform.cpu_architecture is {}: use FARGATE, or X86_64 \
                 (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html)",
                runtime_platform.cpu_architecture.name()
            ),
        );
    }
    let target_weight = match s.target_weight {
        None => 1,
        Some(w) if (1..=MAX_TARGET_WEIGHT).contains(&w) => w as u32,
        Some(w) => {
            ctx.bad(
                format!("{p}.target_weight"),
                format!(
                    "{w}: allowed 1–{MAX_TARGET_WEIGHT} (an lbsim setting: the routing weight of the service's targets, read by weighted_round_robin and weighted_random)"
                ),
            );
            1
        }
    };
    let keep_alive_timeout = s.keep_alive_timeout.map(|d| d.0);
    if let Some(k) = keep_alive_timeout
        && k > MAX_KEEP_ALIVE_TIMEOUT
    {
        ctx.bad(
            format!("{p}.keep_alive_timeout"),
            format!(
                "{}: too long; allowed 0s–1d (the application's keep-alive timeout; Node.js's default is 5s)",
                super::secs(k)
            ),
        );
    }
    ServiceSpec {
        target_weight,
        name: s.name.clone(),
        target_group: tg,
        desired_count: s.desired_count,
        task,
        cpu_time,
        steps,
        memory,
        lifecycle,
        health_check_steps,
        health_check_grace_period,
        deployment_configuration,
        deployments,
        auto_scaling,
        capacity_provider_strategy,
        spot_interruptions,
        runtime_platform,
        keep_alive_timeout: keep_alive_timeout.map(|k| k.min(MAX_KEEP_ALIVE_TIMEOUT)),
    }
}

/// Longest service `keep_alive_timeout` (lbsim's bound: a day, far beyond the load
/// balancer's longest idle timeout, 4000 s).
const MAX_KEEP_ALIVE_TIMEOUT: SimDuration = SimDuration::from_secs(86_400);

/// Checks the `runtime_platform` table of the service at `p`: `cpu_architecture` is
/// `X86_64` or `ARM64`, as ECS spells them.
fn runtime_platform(
    ctx: &mut Ctx,
    p: &str,
    r: Option<&RuntimePlatformSection>,
) -> RuntimePlatformSpec {
    let Some(name) = r.and_then(|r| r.cpu_architecture.as_deref()) else {
        return RuntimePlatformSpec::default();
    };
    match CpuArchitecture::ALL.iter().find(|a| a.name() == name) {
        Some(&cpu_architecture) => RuntimePlatformSpec { cpu_architecture },
        None => {
            let names: Vec<&str> = CpuArchitecture::ALL.iter().map(|a| a.name()).collect();
            ctx.bad(
                format!("{p}.runtime_platform.cpu_architecture"),
                format!(
                    "\"{name}\" is not an ECS cpuArchitecture: use one of {} (Linux on Fargate)",
                    names.join(", ")
                ),
            );
            RuntimePlatformSpec::default()
        }
    }
}

/// Largest `maximum_percent` lbsim accepts (AWS documents no upper bound).
const MAX_MAXIMUM_PERCENT: i64 = 400;

/// Checks the `deployment_configuration` table at `p`.
fn deployment_configuration(
    ctx: &mut Ctx,
    p: &str,
    c: &DeploymentConfigurationSection,
) -> DeploymentConfigurationSpec {
    let d = DeploymentConfigurationSpec::default();
    let mut percent =
        |name: &str, v: Option<i64>, default: u32, lo: i64, hi: i64, what: &str| match v {
            None => default,
            Some(v) if (lo..=hi).contains(&v) => v as u32,
            Some(v) => {
                ctx.bad(
                    format!("{p}.{name}"),
                    format!("{v}: allowed {lo}–{hi} ({what})"),
                );
                default
            }
        };
    let minimum_healthy_percent = percent(
        "minimum_healthy_percent",
        c.minimum_healthy_percent,
        d.minimum_healthy_percent,
        0,
        100,
        "ECS minimumHealthyPercent, % of desired_count",
    );
    let maximum_percent = percent(
        "maximum_percent",
        c.maximum_percent,
        d.maximum_percent,
        100,
        MAX_MAXIMUM_PERCENT,
        "ECS maximumPercent, % of desired_count; AWS sets no upper bound, lbsim 400",
    );
    let circuit_breaker =
        c.deployment_circuit_breaker
            .filter(|b| b.enable)
            .map(|b| CircuitBreakerSpec {
                rollback: b.rollback,
            });
    if let Some(b) = c.deployment_circuit_breaker
        && !b.enable
        && b.rollback
    {
        ctx.bad(
            format!("{p}.deployment_circuit_breaker.rollback"),
            "true needs enable = true (a rollback follows a deployment the circuit breaker failed)",
        );
    }
    DeploymentConfigurationSpec {
        minimum_healthy_percent,
        maximum_percent,
        circuit_breaker,
    }
}

/// Checks the `deployments` list at `p`: each within the run and in time order, its
/// request and start-up valid. `run` is `simulation.duration`.
fn deployments(
    ctx: &mut Ctx,
    p: &str,
    list: &[DeploymentSection],
    deps: &DependencyIndex,
    run: SimDuration,
) -> Vec<DeploymentSpec> {
    if list.len() > MAX_DEPLOYMENTS {
        ctx.bad(
            p,
            format!(
                "{} deployments: at most {MAX_DEPLOYMENTS} are allowed",
                list.len()
            ),
        );
    }
    let mut previous = SimDuration::ZERO;
    list.iter()
        .enumerate()
        .map(|(i, d)| {
            let q = format!("{p}.{i}");
            if d.at.0 >= run {
                ctx.bad(
                    format!("{q}.at"),
                    format!(
                        "{}: at or after the end of the run (simulation.duration = {run}); a deployment must start before",
                        d.at.0
                    ),
                );
            } else if d.at.0 < previous {
                ctx.bad(
                    format!("{q}.at"),
                    format!(
                        "{}: before the previous deployment ({previous}); list deployments in time order",
                        d.at.0
                    ),
                );
            }
            previous = previous.max(d.at.0);
            let (cpu_time, steps) = match &d.request {
                None => (None, None),
                Some(r) => {
                    let (c, st) = request(ctx, &format!("{q}.request"), r, deps);
                    if st.is_empty() { (Some(c), None) } else { (None, Some(st)) }
                }
            };
            let app_start = d.app_start.as_ref().map(|a| {
                ctx.capped_delay(
                    &format!("{q}.app_start"),
                    a,
                    MAX_LIFECYCLE_PHASE,
                    "lbsim caps each lifecycle phase at 1 hour",
                )
            });
            DeploymentSpec {
                at: SimTime::ZERO + d.at.0,
                revision: RevisionSpec {
                    steps,
                    cpu_time,
                    app_start,
                    failure: match d.failure {
                        RevisionFailureName::None => RevisionFailure::None,
                        RevisionFailureName::CrashOnStart => RevisionFailure::CrashOnStart,
                        RevisionFailureName::FailHealthChecks => RevisionFailure::FailHealthChecks,
                    },
                },
            }
        })
        .collect()
}

/// Checks the `request` table at `p`: exactly one of `cpu_time` (the one-step shorthand,
/// resolved as `(cpu_time, no steps)`) and `steps` (resolved as `(0, steps)`).
fn request(
    ctx: &mut Ctx,
    p: &str,
    r: &RequestSection,
    deps: &DependencyIndex,
) -> (DistSpec, Vec<StepSpec>) {
    let zero = DistSpec::Deterministic(SimDuration::ZERO);
    match (&r.cpu_time, &r.steps) {
        (Some(cpu_time), None) => (
            ctx.required_delay(&format!("{p}.cpu_time"), cpu_time),
            Vec::new(),
        ),
        (None, Some(list)) => (zero, step_list(ctx, &format!("{p}.steps"), list, deps, 1)),
        (c, _) => {
            let has = if c.is_some() { "both" } else { "neither" };
            ctx.bad(
                p,
                format!(
                    "needs exactly one of cpu_time (the CPU time of a one-step request) or steps (a profile of cpu, wait and call steps); this one has {has}"
                ),
            );
            (zero, Vec::new())
        }
    }
}

/// Checks the list of steps at `p`: `min`–[`MAX_STEPS`] of them, each a valid step.
fn step_list(
    ctx: &mut Ctx,
    p: &str,
    list: &[StepSection],
    deps: &DependencyIndex,
    min: usize,
) -> Vec<StepSpec> {
    if list.len() < min || list.len() > MAX_STEPS {
        ctx.bad(
            p,
            format!(
                "{} steps: a request needs {min}–{MAX_STEPS} steps, e.g. steps = [{{ cpu = \"5ms\" }}, {{ call = \"db\" }}]",
                list.len()
            ),
        );
    }
    list.iter()
        .enumerate()
        .map(|(i, st)| step(ctx, &format!("{p}.{i}"), st, deps))
        .collect()
}

/// Checks the step at `p`: exactly one of `cpu`, `wait` and `call`.
fn step(ctx: &mut Ctx, p: &str, st: &StepSection, deps: &DependencyIndex) -> StepSpec {
    let kinds: Vec<&str> = [
        st.cpu.as_ref().map(|_| "cpu"),
        st.wait.as_ref().map(|_| "wait"),
        st.call.as_ref().map(|_| "call"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if kinds.len() != 1 {
        let has = if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(" and ")
        };
        ctx.bad(
            p,
            format!(
                "a step is one of {{ cpu = ... }}, {{ wait = ... }}, {{ call = \"DEPENDENCY\" }}; this one has {has}"
            ),
        );
        return StepSpec::Wait(DistSpec::Deterministic(SimDuration::ZERO));
    }
    let step = if let Some(d) = &st.cpu {
        StepSpec::Cpu(ctx.required_delay(&format!("{p}.cpu"), d))
    } else if let Some(d) = &st.wait {
        StepSpec::Wait(ctx.required_delay(&format!("{p}.wait"), d))
    } else {
        let name = st.call.as_deref().unwrap_or_default();
        StepSpec::Call {
            dependency: ctx.dependency(&format!("{p}.call"), name, deps),
        }
    };
    match st.probability {
        None => step,
        Some(probability) if (0.0..=1.0).contains(&probability) => StepSpec::Sometimes {
            probability,
            step: Box::new(step),
        },
        Some(probability) => {
            ctx.bad(
                format!("{p}.probability"),
                format!("{probability}: allowed 0–1 (the fraction of requests that run this step)"),
            );
            step
        }
    }
}

/// Checks the `memory` table at `p` of a service whose task is `task`: the base within
/// the task's memory, the amount per request ≥ 0. Resolved in KiB.
fn memory(ctx: &mut Ctx, p: &str, m: &MemorySection, task: &TaskSpec) -> MemorySpec {
    let base = m.base_mib;
    let base_kib = if !(base.is_finite() && base >= 0.0) {
        ctx.bad(
            format!("{p}.base_mib"),
            format!(
                "{base}: must be ≥ 0 MiB and ≤ task.memory ({} MiB)",
                task.memory
            ),
        );
        0
    } else if base > f64::from(task.memory) {
        ctx.bad(
            format!("{p}.base_mib"),
            format!(
                "{base} MiB: an idle task would use more than task.memory = {} MiB; allowed 0–{} MiB",
                task.memory, task.memory
            ),
        );
        0
    } else {
        mib_to_kib(base)
    };
    let per_request_kib = match &m.per_request_mib {
        None => DistSpec::Deterministic(SimDuration::ZERO),
        Some(a) => ctx.memory_amount(&format!("{p}.per_request_mib"), a),
    };
    MemorySpec {
        base_kib,
        per_request_kib,
        oom_kill: m.oom_kill,
    }
}

/// Checks the `lifecycle` table at `p`: each phase (and `crash_detection`) a delay of at most
/// [`MAX_LIFECYCLE_PHASE`], `stop_timeout` whole seconds up to [`MAX_STOP_TIMEOUT`]. A field
/// left out takes [`LifecycleSpec::default`]'s value.
fn lifecycle(ctx: &mut Ctx, p: &str, l: &LifecycleSection) -> LifecycleSpec {
    let d = LifecycleSpec::default();
    let mut phase = |name: &str, v: &Option<Delay>, default: DistSpec| match v {
        None => default,
        Some(v) => ctx.capped_delay(
            &format!("{p}.{name}"),
            v,
            MAX_LIFECYCLE_PHASE,
            "lbsim caps each lifecycle phase at 1 hour",
        ),
    };
    let provisioning = phase("provisioning", &l.provisioning, d.provisioning);
    let pending = phase("pending", &l.pending, d.pending);
    let activating = phase("activating", &l.activating, d.activating);
    let app_start = phase("app_start", &l.app_start, d.app_start);
    let shutdown = phase("shutdown", &l.shutdown, d.shutdown);
    let deprovisioning = phase("deprovisioning", &l.deprovisioning, d.deprovisioning);
    let crash_detection = phase("crash_detection", &l.crash_detection, d.crash_detection);
    let stop_timeout = match l.stop_timeout {
        None => d.stop_timeout,
        Some(t) => {
            ctx.whole_seconds(
                &format!("{p}.stop_timeout"),
                t.0,
                MAX_STOP_TIMEOUT,
                "AWS stopTimeout: at most 120 s on Fargate",
            );
            t.0
        }
    };
    LifecycleSpec {
        provisioning,
        pending,
        activating,
        app_start,
        shutdown,
        stop_timeout,
        deprovisioning,
        crash_detection,
    }
}

/// Checks the `task` table of the service at `p`: a Fargate CPU and memory pair, and the
/// concurrency limit.
fn task(ctx: &mut Ctx, p: &str, t: &TaskSection) -> TaskSpec {
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
    if t.max_concurrency > MAX_CONCURRENCY {
        ctx.bad(
            format!("{p}.task.max_concurrency"),
            format!(
                "{}: must be 0 (no limit) to {MAX_CONCURRENCY}",
                t.max_concurrency
            ),
        );
    }
    TaskSpec {
        cpu: t.cpu,
        memory: t.memory,
        max_concurrency: t.max_concurrency,
    }
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
}
