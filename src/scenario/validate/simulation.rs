//! `[simulation]`: name, duration, warm-up and metrics interval.

use super::{Ctx, MAX_DURATION};
use crate::engine::SimDuration;
use crate::scenario::file::SimulationSection;

/// Longest `simulation.name`, in characters.
pub const MAX_NAME_LEN: usize = 64;

/// What a `simulation.name` may be made of, for messages.
const NAME_RULE: &str = "1–64 letters (a–z, A–Z), digits, '.', '_' and '-', not starting with '.'";

/// Whether `name` is a safe scenario name: 1–[`MAX_NAME_LEN`] ASCII letters, digits, `.`, `_`
/// and `-`, not starting with `.` (so never `.`, `..`, a hidden name, a path or an absolute
/// path). The name is the default output directory, `out/<name>`.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The name of a scenario without `simulation.name`, from its file's name without extension
/// (`stem`): every character not allowed in a name becomes `_`, leading dots are dropped, and
/// it is cut to [`MAX_NAME_LEN`] characters; "scenario" if nothing is left.
pub fn safe_default_name(stem: &str) -> String {
    let s: String = stem
        .trim_start_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME_LEN)
        .collect();
    if s.is_empty() { "scenario".into() } else { s }
}

/// Checks `[simulation]` and returns the scenario's name (from `default_name`, made safe,
/// when unset).
pub(super) fn check(ctx: &mut Ctx, sim: &SimulationSection, default_name: &str) -> String {
    let name = match &sim.name {
        Some(n) => {
            if !is_safe_name(n) {
                ctx.bad(
                    "simulation.name",
                    format!(
                        "{n:?} is not a valid name: use {NAME_RULE} (it names the output directory, out/<name>)"
                    ),
                );
            }
            n.clone()
        }
        None => safe_default_name(default_name),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_directory_names() {
        for ok in ["tiny", "nasa-jul95", "a.b_c-1", "x"] {
            assert!(is_safe_name(ok), "{ok}");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "", ".", "..", ".hidden", "a/b", "/abs", "a\\b", "a b", "é", &long,
        ] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        assert_eq!(safe_default_name("my scenario"), "my_scenario");
        assert_eq!(safe_default_name("..x"), "x");
        assert_eq!(safe_default_name("..."), "scenario");
        assert!(is_safe_name(&safe_default_name(&"é".repeat(100))));
    }
}
