//! A service's `capacity_provider_strategy` (ECS `capacityProviderStrategy`: providers,
//! bases and weights within AWS's ranges) and `spot.interruptions` (instants inside the run,
//! a count, a mean time between interruptions).

use super::{Ctx, MAX_DESIRED_COUNT};
use crate::engine::{SimDuration, SimTime};
use crate::model::{CapacityProvider, CapacityProviderStrategyItemSpec, SpotInterruptionsSpec};
use crate::scenario::file::{CapacityProviderStrategyItemSection, SpotSection};

/// AWS's largest `base` (`CapacityProviderStrategyItem`: 0–100000).
pub const MAX_BASE: i64 = 100_000;
/// AWS's largest `weight` (`CapacityProviderStrategyItem`: 0–1000).
pub const MAX_WEIGHT: i64 = 1000;
/// Where AWS documents the strategy's ranges.
const SOURCE: &str = "ECS CapacityProviderStrategyItem";

/// Checks the `capacity_provider_strategy` list at `p`: 1–2 items, each provider
/// `FARGATE` or `FARGATE_SPOT` at most once, `base` 0–100000 on at most one item, `weight`
/// 0–1000 and above 0 on at least one item.
pub(super) fn strategy(
    ctx: &mut Ctx,
    p: &str,
    list: Option<&[CapacityProviderStrategyItemSection]>,
) -> Vec<CapacityProviderStrategyItemSpec> {
    let Some(list) = list else {
        return Vec::new();
    };
    if list.is_empty() || list.len() > 2 {
        ctx.bad(
            p,
            format!(
                "{} items: allowed 1–2 (FARGATE and FARGATE_SPOT, each at most once); leave the field out to run every task on FARGATE",
                list.len()
            ),
        );
    }
    let mut items: Vec<CapacityProviderStrategyItemSpec> = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let q = format!("{p}.{i}");
        let provider = match item.capacity_provider.as_str() {
            "FARGATE" => CapacityProvider::Fargate,
            "FARGATE_SPOT" => CapacityProvider::FargateSpot,
            other => {
                ctx.bad(
                    format!("{q}.capacity_provider"),
                    format!("\"{other}\": allowed \"FARGATE\" or \"FARGATE_SPOT\" (Fargate's capacity providers)"),
                );
                continue;
            }
        };
        if items.iter().any(|x| x.capacity_provider == provider) {
            ctx.bad(
                format!("{q}.capacity_provider"),
                format!(
                    "\"{}\" is listed twice; each capacity provider may appear once",
                    provider.name()
                ),
            );
            continue;
        }
        let mut int = |name: &str, v: Option<i64>, max: i64| match v {
            None => 0,
            Some(v) if (0..=max).contains(&v) => v as u32,
            Some(v) => {
                ctx.bad(
                    format!("{q}.{name}"),
                    format!("{v}: allowed 0–{max} ({SOURCE} {name})"),
                );
                0
            }
        };
        let base = int("base", item.base, MAX_BASE);
        let weight = int("weight", item.weight, MAX_WEIGHT);
        items.push(CapacityProviderStrategyItemSpec {
            capacity_provider: provider,
            base,
            weight,
        });
    }
    if items.iter().filter(|x| x.base > 0).count() > 1 {
        ctx.bad(
            p,
            format!("more than one item has a base above 0; at most one may ({SOURCE})"),
        );
    }
    if !items.is_empty() && items.iter().all(|x| x.weight == 0) {
        ctx.bad(
            p,
            format!("no item has a weight above 0; at least one must (e.g. weight = 1) ({SOURCE})"),
        );
    }
    items
}

/// Checks the `spot` table at `p` of a service whose strategy is `strategy`: its
/// interruptions need a `FARGATE_SPOT` item, at least one of `at` and `mean_time_between`,
/// instants before the end of the run (`run`), a count of 1–5000, a mean above 0.
pub(super) fn interruptions(
    ctx: &mut Ctx,
    p: &str,
    spot: Option<&SpotSection>,
    strategy: &[CapacityProviderStrategyItemSpec],
    run: SimDuration,
) -> SpotInterruptionsSpec {
    let Some(spot) = spot else {
        return SpotInterruptionsSpec::default();
    };
    let q = format!("{p}.interruptions");
    let i = &spot.interruptions;
    if !strategy
        .iter()
        .any(|x| x.capacity_provider == CapacityProvider::FargateSpot)
    {
        ctx.bad(
            &q,
            "the service runs no task on FARGATE_SPOT: add { capacity_provider = \"FARGATE_SPOT\", weight = 1 } to its capacity_provider_strategy",
        );
    }
    if i.at.is_empty() && i.mean_time_between.is_none() {
        ctx.bad(
            &q,
            "needs at (instants, e.g. at = [\"2h\"]) or mean_time_between (e.g. \"6h\"), or both",
        );
    }
    for (k, at) in i.at.iter().enumerate() {
        if at.0 >= run {
            ctx.bad(
                format!("{q}.at.{k}"),
                format!(
                    "{}: at or after the end of the run (simulation.duration = {run}); it must be before",
                    at.0
                ),
            );
        }
    }
    let count = match i.count {
        None => 1,
        Some(c) if (1..=i64::from(MAX_DESIRED_COUNT)).contains(&c) => c as u32,
        Some(c) => {
            ctx.bad(
                format!("{q}.count"),
                format!("{c}: allowed 1–{MAX_DESIRED_COUNT} (Spot tasks interrupted at each instant of at)"),
            );
            1
        }
    };
    let mean_time_between = i.mean_time_between.map(|m| m.0);
    if mean_time_between.is_some_and(|m| m.is_zero()) {
        ctx.bad(
            format!("{q}.mean_time_between"),
            "0s: must be > 0 (the mean time a Spot task runs before it is interrupted, e.g. \"6h\")",
        );
    }
    SpotInterruptionsSpec {
        at: i.at.iter().map(|d| SimTime::ZERO + d.0).collect(),
        count,
        mean_time_between,
    }
}
