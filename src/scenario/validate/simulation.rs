//! `[simulation]`: name, duration, warm-up and metrics interval.

use super::{Ctx, MAX_DURATION};
use crate::engine::SimDuration;
use crate::scenario::file::SimulationSection;

/// Checks `[simulation]` and returns the scenario's name (`default_name` when unset).
pub(super) fn check(ctx: &mut Ctx, sim: &SimulationSection, default_name: &str) -> String {
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
    name
}
