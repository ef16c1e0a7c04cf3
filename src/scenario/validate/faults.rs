//! `[[faults]]`: the dependency each window fault acts on, its window (inside the run) and a
//! slow fault's latency factor; the service, task and instant (inside the run) of a crash.

use super::{Ctx, DependencyIndex, MAX_FAULTS, ServiceIndex};
use crate::engine::{SimDuration, SimTime};
use crate::model::{FaultKind, FaultSpec};
use crate::scenario::file::{Dur, FaultSection};

/// Largest latency multiplier of a `dependency_slow` fault.
const MAX_FACTOR: f64 = 1000.0;

/// Checks `[[faults]]`; `deps` maps dependency names to indices, `services` service names to
/// indices and desired counts, `run` is `simulation.duration`.
pub(super) fn resolve(
    ctx: &mut Ctx,
    faults: &[FaultSection],
    deps: &DependencyIndex,
    services: &ServiceIndex,
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
        .map(|(i, f)| fault(ctx, i, f, deps, services, run))
        .collect()
}

/// Checks fault `i`.
fn fault(
    ctx: &mut Ctx,
    i: usize,
    f: &FaultSection,
    deps: &DependencyIndex,
    services: &ServiceIndex,
    run: SimDuration,
) -> FaultSpec {
    let p = format!("faults.{i}");
    // A slow fault's factor; `None` for a down fault.
    let (dependency, start, duration, factor) = match f {
        FaultSection::DependencyDown {
            dependency,
            start,
            duration,
        } => (dependency, start, duration, None),
        FaultSection::DependencySlow {
            dependency,
            start,
            duration,
            factor,
        } => (dependency, start, duration, Some(*factor)),
        FaultSection::TaskCrash { service, task, at } => {
            return crash(ctx, &p, service, *task, *at, services, run);
        }
    };
    let dependency = ctx.dependency(&format!("{p}.dependency"), dependency, deps);
    window(ctx, &p, *start, *duration, run);
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
    }
}

/// Checks the `task_crash` fault at `p`: a defined service, one of its `desired_count`
/// tasks, an instant before the end of the run.
fn crash(
    ctx: &mut Ctx,
    p: &str,
    service: &str,
    task: i64,
    at: Dur,
    services: &ServiceIndex,
    run: SimDuration,
) -> FaultSpec {
    let known = services.contains_key(service);
    let (service, desired) = ctx.service(&format!("{p}.service"), service, services);
    let allowed = if !known {
        "must be ≥ 0 (a position among the service's tasks, 0 = the oldest)".to_string()
    } else if desired == 0 {
        "no such task: the service has desired_count = 0, so no task can crash".to_string()
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
                "{}: the crash is at or after the end of the run (simulation.duration = {run}); it must be before",
                at.0
            ),
        );
    }
    FaultSpec {
        start: SimTime::ZERO + at.0,
        duration: SimDuration::ZERO,
        kind: FaultKind::TaskCrash { service, task },
    }
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
