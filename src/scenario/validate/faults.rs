//! `[[faults]]`: the dependency each window fault acts on, its window (inside the run) and a
//! slow fault's latency factor; the service, task and instant (inside the run) of a crash, a
//! hang and a CPU slowdown, a slowdown's factor; an `app_errors` fault's service, window and
//! fraction; an `az_outage`'s zone (one of the network's) and window.

use super::{Ctx, DependencyIndex, MAX_FAULTS, ServiceIndex};
use crate::engine::{SimDuration, SimTime};
use crate::model::{FaultKind, FaultSpec};
use crate::scenario::file::{Dur, FaultSection, SubnetSection};

/// Largest latency multiplier of a `dependency_slow` fault, and CPU slowdown of a
/// `task_slow` fault.
const MAX_FACTOR: f64 = 1000.0;

/// The Availability Zones of the network, in the order they first appear in `subnets` (the
/// default network's when absent): the zones an `az_outage` may name.
pub(super) fn zones(subnets: Option<&[SubnetSection]>) -> Vec<String> {
    let names: Vec<String> = match subnets {
        Some(s) => s.iter().map(|s| s.availability_zone.clone()).collect(),
        None => crate::model::SubnetSpec::default_network()
            .into_iter()
            .map(|s| s.availability_zone)
            .collect(),
    };
    let mut zones: Vec<String> = Vec::new();
    for n in names {
        if !zones.contains(&n) {
            zones.push(n);
        }
    }
    zones
}

/// Checks `[[faults]]`; `deps` maps dependency names to indices, `services` service names to
/// indices and desired counts, `zones` lists the network's Availability Zones, `run` is
/// `simulation.duration`.
pub(super) fn resolve(
    ctx: &mut Ctx,
    faults: &[FaultSection],
    deps: &DependencyIndex,
    services: &ServiceIndex,
    zones: &[String],
    run: SimDuration,
) -> Vec<FaultSpec> {
    if faults.len() > MAX_FAULTS {
        ctx.bad(
            "faults",
            format!(
                "{} [[faults]]: at most {MAX_FAULTS} are allowed",
                faults.len()
            ),
        );
    }
    faults
        .iter()
        .enumerate()
        .map(|(i, f)| fault(ctx, i, f, deps, services, zones, run))
        .collect()
}

/// Checks fault `i`.
fn fault(
    ctx: &mut Ctx,
    i: usize,
    f: &FaultSection,
    deps: &DependencyIndex,
    services: &ServiceIndex,
    zones: &[String],
    run: SimDuration,
) -> FaultSpec {
    let p = format!("faults.{i}");
    // A slow fault's factor; `None` for a down fault.
    let (dependency, start, duration, factor, mtbf) = match f {
        FaultSection::DependencyDown {
            dependency,
            start,
            duration,
            mean_time_between_failures,
        } => (
            dependency,
            start,
            duration,
            None,
            mean_time_between_failures,
        ),
        FaultSection::DependencySlow {
            dependency,
            start,
            duration,
            factor,
            mean_time_between_failures,
        } => (
            dependency,
            start,
            duration,
            Some(*factor),
            mean_time_between_failures,
        ),
        FaultSection::TaskCrash {
            service,
            task,
            at,
            mean_time_between_failures,
        } => {
            let (service, task, start, mtbf) = task_at(
                ctx,
                &p,
                (service, *task, *at, *mean_time_between_failures),
                services,
                run,
                ("crash", "crash"),
            );
            return FaultSpec {
                start,
                duration: SimDuration::ZERO,
                kind: FaultKind::TaskCrash { service, task },
                mean_time_between_failures: mtbf,
            };
        }
        FaultSection::TaskHang {
            service,
            task,
            at,
            mean_time_between_failures,
            duration,
        } => {
            let (service, task, start, mtbf) = task_at(
                ctx,
                &p,
                (service, *task, *at, *mean_time_between_failures),
                services,
                run,
                ("hang", "hang"),
            );
            if duration.is_some_and(|d| d.0.is_zero()) {
                ctx.bad(
                    format!("{p}.duration"),
                    "must be > 0 (e.g. \"10m\"), or left out: hung to the end of the run",
                );
            }
            return FaultSpec {
                start,
                duration: duration.map_or(SimDuration::MAX, |d| d.0),
                kind: FaultKind::TaskHang { service, task },
                mean_time_between_failures: mtbf,
            };
        }
        FaultSection::TaskSlow {
            service,
            task,
            at,
            mean_time_between_failures,
            duration,
            factor,
        } => {
            let (service, task, start, mtbf) = task_at(
                ctx,
                &p,
                (service, *task, *at, *mean_time_between_failures),
                services,
                run,
                ("slowdown", "slow down"),
            );
            if duration.0.is_zero() {
                ctx.bad(format!("{p}.duration"), "must be > 0 (e.g. \"10m\")");
            }
            if !(factor.is_finite() && (1.0..=MAX_FACTOR).contains(factor)) {
                ctx.bad(
                    format!("{p}.factor"),
                    format!("{factor}: must be 1–{MAX_FACTOR} (how many times longer the task's CPU steps take; 1 = no effect)"),
                );
            }
            return FaultSpec {
                start,
                duration: duration.0,
                kind: FaultKind::TaskSlow {
                    service,
                    task,
                    factor: *factor,
                },
                mean_time_between_failures: mtbf,
            };
        }
        FaultSection::AppErrors {
            service,
            start,
            duration,
            fraction,
            mean_time_between_failures,
        } => {
            let (service, _) = ctx.service(&format!("{p}.service"), service, services);
            window(ctx, &p, *start, *duration, run);
            let mtbf = renewal(ctx, &p, *mean_time_between_failures);
            if !(0.0..=1.0).contains(fraction) {
                ctx.bad(
                    format!("{p}.fraction"),
                    format!("{fraction}: must be 0–1 (the probability that a response is a 500)"),
                );
            }
            return FaultSpec {
                start: SimTime::ZERO + start.0,
                duration: duration.0,
                kind: FaultKind::AppErrors {
                    service,
                    fraction: *fraction,
                },
                mean_time_between_failures: mtbf,
            };
        }
        FaultSection::AzOutage {
            availability_zone,
            start,
            duration,
            mean_time_between_failures,
        } => {
            let az = zones.iter().position(|z| z == availability_zone);
            if az.is_none() {
                ctx.bad(
                    format!("{p}.availability_zone"),
                    format!(
                        "\"{availability_zone}\" is not a zone of the network (its [[subnets]]'s zones: {})",
                        zones.join(", ")
                    ),
                );
            }
            window(ctx, &p, *start, *duration, run);
            let mtbf = renewal(ctx, &p, *mean_time_between_failures);
            return FaultSpec {
                start: SimTime::ZERO + start.0,
                duration: duration.0,
                kind: FaultKind::AzOutage {
                    availability_zone: az.unwrap_or(0) as u32,
                },
                mean_time_between_failures: mtbf,
            };
        }
    };
    let dependency = ctx.dependency(&format!("{p}.dependency"), dependency, deps);
    window(ctx, &p, *start, *duration, run);
    let mtbf = renewal(ctx, &p, *mtbf);
    let kind = match factor {
        None => FaultKind::DependencyDown { dependency },
        Some(factor) => {
            ctx.positive_finite(
                &format!("{p}.factor"),
                factor,
                MAX_FACTOR,
                "(a latency multiplier)",
            );
            FaultKind::DependencySlow { dependency, factor }
        }
    };
    FaultSpec {
        start: SimTime::ZERO + start.0,
        duration: duration.0,
        kind,
        mean_time_between_failures: mtbf,
    }
}

/// Checks the `mean_time_between_failures` of the window fault at `p` (> 0), if it has one.
fn renewal(ctx: &mut Ctx, p: &str, mtbf: Option<Dur>) -> Option<SimDuration> {
    let mean = mtbf?;
    if mean.0.is_zero() {
        ctx.bad(
            format!("{p}.mean_time_between_failures"),
            "must be > 0 (e.g. \"30m\": the mean time from the end of one window to the start of the next)",
        );
    }
    Some(mean.0)
}

/// Checks the fault at `p` that strikes one task (`task_crash`, `task_hang`, `task_slow`): a
/// defined service, and either one of its `desired_count` tasks at an instant before the end
/// of the run, or a mean time between failures (> 0, with no `task`). Returns the service's
/// index, the task's position, the instant (0 for a random fault) and the mean time between
/// failures. `noun` and `verb` name the fault in messages ("crash", "crash").
fn task_at(
    ctx: &mut Ctx,
    p: &str,
    (service, task, at, mtbf): (&str, Option<i64>, Option<Dur>, Option<Dur>),
    services: &ServiceIndex,
    run: SimDuration,
    (noun, verb): (&str, &str),
) -> (usize, u32, SimTime, Option<SimDuration>) {
    let at = match (at, mtbf) {
        (Some(at), None) => at,
        (None, Some(mean)) => {
            ctx.service(&format!("{p}.service"), service, services);
            if mean.0.is_zero() {
                ctx.bad(
                    format!("{p}.mean_time_between_failures"),
                    "must be > 0 (e.g. \"30m\": the mean time between two strikes)",
                );
            }
            if let Some(task) = task {
                ctx.bad(
                    format!("{p}.task"),
                    format!("{task}: not with mean_time_between_failures (each strike picks a task at random); remove it"),
                );
            }
            let (service, _) = services.get(service).copied().unwrap_or((0, 0));
            return (service, 0, SimTime::ZERO, Some(mean.0));
        }
        (Some(_), Some(_)) => {
            ctx.bad(
                format!("{p}.mean_time_between_failures"),
                format!("give `at` (one {noun} at that time) or `mean_time_between_failures` (random ones), not both"),
            );
            Dur(SimDuration::ZERO)
        }
        (None, None) => {
            ctx.bad(
                p.to_string(),
                format!("missing field `at` (when the {noun} happens) or `mean_time_between_failures` (random ones)"),
            );
            Dur(SimDuration::ZERO)
        }
    };
    let task = task.unwrap_or(0);
    let known = services.contains_key(service);
    let (service, desired) = ctx.service(&format!("{p}.service"), service, services);
    let allowed = if !known {
        "must be ≥ 0 (a position among the service's tasks, 0 = the oldest)".to_string()
    } else if desired == 0 {
        format!("no such task: the service has desired_count = 0, so no task can {verb}")
    } else {
        format!(
            "no such task; allowed 0–{} (the service has desired_count = {desired} tasks, 0 = the oldest)",
            desired - 1
        )
    };
    let task = match u32::try_from(task) {
        Ok(t) if !known || t < desired => t,
        _ => {
            ctx.bad(format!("{p}.task"), format!("{task}: {allowed}"));
            0
        }
    };
    if at.0 >= run {
        ctx.bad(
            format!("{p}.at"),
            format!(
                "{}: the {noun} is at or after the end of the run (simulation.duration = {run}); it must be before",
                at.0
            ),
        );
    }
    (service, task, SimTime::ZERO + at.0, None)
}

/// Checks the window of the fault at `p`: it lasts, and starts before the run ends.
fn window(ctx: &mut Ctx, p: &str, start: Dur, duration: Dur, run: SimDuration) {
    if duration.0.is_zero() {
        ctx.bad(format!("{p}.duration"), "must be > 0 (e.g. \"10m\")");
    }
    if start.0 >= run {
        ctx.bad(
            format!("{p}.start"),
            format!(
                "{}: the fault starts at or after the end of the run (simulation.duration = {run}); it must start before",
                start.0
            ),
        );
    }
}
