//! `[[target_groups]]`: names (AWS rules), routing algorithms and deregistration delays.

use super::{Ctx, MAX_DEREGISTRATION_DELAY, MAX_TARGET_GROUPS, TargetGroupIndex};
use crate::model::{Algorithm, TargetGroupSpec};
use crate::scenario::file::TargetGroupSection;

/// Checks `[[target_groups]]`; returns their specs and their indices by name (for the
/// listeners and services that refer to them).
pub(super) fn resolve(
    ctx: &mut Ctx,
    groups: &[TargetGroupSection],
) -> (Vec<TargetGroupSpec>, TargetGroupIndex) {
    if groups.is_empty() || groups.len() > MAX_TARGET_GROUPS {
        ctx.bad(
            "target_groups",
            format!("needs 1–{MAX_TARGET_GROUPS} target groups (ALB quota)"),
        );
    }
    let index = ctx.unique(
        "target group",
        groups
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("target_groups.{i}.name"), t.name.as_str())),
    );
    let specs = groups
        .iter()
        .enumerate()
        .map(|(i, t)| target_group(ctx, i, t))
        .collect();
    (specs, index)
}

/// Checks target group `i`.
fn target_group(ctx: &mut Ctx, i: usize, t: &TargetGroupSection) -> TargetGroupSpec {
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
    ctx.whole_seconds(
        &format!("target_groups.{i}.deregistration_delay"),
        t.deregistration_delay.0,
        MAX_DEREGISTRATION_DELAY,
        "AWS deregistration_delay.timeout_seconds",
    );
    TargetGroupSpec {
        name: t.name.clone(),
        algorithm,
        deregistration_delay: t.deregistration_delay.0,
        ..TargetGroupSpec::default()
    }
}
