//! `[[faults]]`: the dependency each fault acts on, its window (inside the run) and a slow
//! fault's latency factor.

use super::{Ctx, DependencyIndex, MAX_FAULTS};
use crate::engine::{SimDuration, SimTime};
use crate::model::{FaultKind, FaultSpec};
use crate::scenario::file::{Dur, FaultSection};

/// Largest latency multiplier of a `dependency_slow` fault.
const MAX_FACTOR: f64 = 1000.0;

/// Checks `[[faults]]`; `deps` maps dependency names to indices, `run` is
/// `simulation.duration`.
pub(super) fn resolve(
    ctx: &mut Ctx,
    faults: &[FaultSection],
    deps: &DependencyIndex,
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
        .map(|(i, f)| fault(ctx, i, f, deps, run))
        .collect()
}

/// Checks fault `i`.
fn fault(
    ctx: &mut Ctx,
    i: usize,
    f: &FaultSection,
    deps: &DependencyIndex,
    run: SimDuration,
) -> FaultSpec {
    let p = format!("faults.{i}");
    let (dependency, start, duration) = match f {
        FaultSection::DependencyDown {
            dependency,
            start,
            duration,
        }
        | FaultSection::DependencySlow {
            dependency,
            start,
            duration,
            ..
        } => (dependency, start, duration),
    };
    let dependency = ctx.dependency(&format!("{p}.dependency"), dependency, deps);
    window(ctx, &p, *start, *duration, run);
    let kind = match f {
        FaultSection::DependencyDown { .. } => FaultKind::DependencyDown { dependency },
        FaultSection::DependencySlow { factor, .. } => {
            ctx.positive_finite(
                &format!("{p}.factor"),
                *factor,
                MAX_FACTOR,
                "(a latency multiplier)",
            );
            FaultKind::DependencySlow {
                dependency,
                factor: *factor,
            }
        }
    };
    FaultSpec {
        start: SimTime::ZERO + start.0,
        duration: duration.0,
        kind,
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
