//! `[[dependencies]]`: names, latencies, capacities, what a full dependency does, and
//! connection pool sizes.

use super::{Ctx, DependencyIndex, MAX_CAPACITY, MAX_DEPENDENCIES};
use crate::model::{DependencySpec, WhenFull};
use crate::scenario::file::{DependencySection, WhenFullSection};

/// Checks `[[dependencies]]`; returns their specs and their indices by name (for the
/// request steps and faults that refer to them).
pub(super) fn resolve(
    ctx: &mut Ctx,
    deps: &[DependencySection],
) -> (Vec<DependencySpec>, DependencyIndex) {
    if deps.len() > MAX_DEPENDENCIES {
        ctx.bad(
            "dependencies",
            format!(
                "{} [[dependencies]]: at most {MAX_DEPENDENCIES} are allowed",
                deps.len()
            ),
        );
    }
    let index = ctx.unique(
        "dependency",
        deps.iter()
            .enumerate()
            .map(|(i, d)| (format!("dependencies.{i}.name"), d.name.as_str())),
    );
    let specs = deps
        .iter()
        .enumerate()
        .map(|(i, d)| dependency(ctx, i, d))
        .collect();
    (specs, index)
}

/// Checks dependency `i`.
fn dependency(ctx: &mut Ctx, i: usize, d: &DependencySection) -> DependencySpec {
    let p = format!("dependencies.{i}");
    ctx.name(&format!("{p}.name"), &d.name, "dependency", 64, true);
    let latency = ctx.required_delay(&format!("{p}.latency"), &d.latency);
    if d.capacity > MAX_CAPACITY {
        ctx.bad(
            format!("{p}.capacity"),
            format!(
                "{}: must be 0 (unlimited) to {MAX_CAPACITY} calls at once",
                d.capacity
            ),
        );
    }
    if d.pool_size > MAX_CAPACITY {
        ctx.bad(
            format!("{p}.pool_size"),
            format!(
                "{}: must be 0 (unlimited) to {MAX_CAPACITY} connections per task",
                d.pool_size
            ),
        );
    }
    if let Some(t) = d.timeout
        && t.0.is_zero()
    {
        ctx.bad(
            format!("{p}.timeout"),
            "must be > 0 (leave it out for no timeout)",
        );
    }
    let when_full = match d.when_full {
        WhenFullSection::Queue => WhenFull::Queue,
        WhenFullSection::Reject => {
            if d.capacity == 0 {
                ctx.bad(
                    format!("{p}.when_full"),
                    "\"reject\" needs a capacity > 0 (with capacity = 0, unlimited, no call is ever rejected)",
                );
            }
            WhenFull::Reject
        }
    };
    DependencySpec {
        name: d.name.clone(),
        latency,
        capacity: d.capacity,
        when_full,
        pool_size: d.pool_size,
        timeout: d.timeout.map(|t| t.0),
    }
}
