//! `[[assert]]`: the scenario's service level objectives, each a bound on one flat metric of
//! the run's summary (`latency_p99_ms`, `fraction_5xx`, ...).
//!
//! Checked here: the metric is one a run of this scenario has (the names of
//! [`crate::metrics::metric_names`]: every scenario's, plus `tg.<name>.` with more than one
//! target group and `dep.<name>.` per dependency); at least one of `min` and `max`; both
//! finite; `min ≤ max`. Asserts are not part of the model (they do not go into the
//! [`WorldSpec`](crate::model::WorldSpec)): `lbsim run` and `lbsim check` evaluate them on
//! the summary with [`Assertion::broken_by`].

use std::path::Path;

use super::{Ctx, Issue};
use crate::scenario::file::{AssertSection, ScenarioFile};

/// One resolved `[[assert]]`: `min ≤ metric ≤ max`, either bound optional (not both absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Assertion {
    /// The flat metric's name (`latency_p99_ms`).
    pub metric: String,
    /// The lowest value allowed (inclusive), in the metric's unit.
    pub min: Option<f64>,
    /// The highest value allowed (inclusive), in the metric's unit.
    pub max: Option<f64>,
}

impl Assertion {
    /// The bound as text: `latency_p99_ms ≤ 250`, `0.5 ≤ throughput_rps ≤ 900`.
    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => format!("{lo} ≤ {} ≤ {hi}", self.metric),
            (Some(lo), None) => format!("{} ≥ {lo}", self.metric),
            (None, Some(hi)) => format!("{} ≤ {hi}", self.metric),
            (None, None) => format!("{} (no bound)", self.metric),
        }
    }

    /// `None` when `value` (the run's figure for [`Self::metric`]) meets the bounds;
    /// otherwise what was measured against which bound, e.g. `latency_p99_ms = 278.4,
    /// above its max 250`. A run without the figure (`None`: a latency with no successful
    /// response, a fraction with no response) breaks it: the objective cannot be shown met.
    pub fn broken_by(&self, value: Option<f64>) -> Option<String> {
        let m = &self.metric;
        let Some(v) = value else {
            return Some(format!(
                "{m} has no value in this run (nothing to measure it on), so {} cannot be shown to hold",
                self.describe()
            ));
        };
        if let Some(hi) = self.max
            && v > hi
        {
            return Some(format!("{m} = {v}, above its max {hi}"));
        }
        if let Some(lo) = self.min
            && v < lo
        {
            return Some(format!("{m} = {v}, below its min {lo}"));
        }
        None
    }
}

/// Checks `[[assert]]` and resolves it. Separate from [`super::resolve`] because asserts are
/// not the model; [`crate::scenario::load`] reports its issues with the others.
///
/// # Errors
/// Every [`Issue`] found, at `assert.<i>.metric`, `.min` or `.max`.
pub fn resolve_asserts(file: &ScenarioFile) -> Result<Vec<Assertion>, Vec<Issue>> {
    let mut ctx = Ctx {
        base: Path::new("."),
        issues: Vec::new(),
        warnings: Vec::new(),
    };
    let tgs: Vec<&str> = file.target_groups.iter().map(|t| t.name.as_str()).collect();
    let deps: Vec<&str> = file.dependencies.iter().map(|d| d.name.as_str()).collect();
    let known = crate::metrics::metric_names(&tgs, &deps);
    let out = file
        .asserts
        .iter()
        .enumerate()
        .map(|(i, a)| check(&mut ctx, i, a, &known))
        .collect();
    if ctx.issues.is_empty() {
        Ok(out)
    } else {
        Err(ctx.issues)
    }
}

fn check(ctx: &mut Ctx, i: usize, a: &AssertSection, known: &[String]) -> Assertion {
    let at = |f: &str| format!("assert.{i}.{f}");
    if !known.contains(&a.metric) {
        ctx.bad(
            at("metric"),
            format!(
                "\"{}\" is not a metric of this scenario's runs; known metrics: {}",
                a.metric,
                known.join(", ")
            ),
        );
    }
    let mut finite = true;
    for (f, v) in [("min", a.min), ("max", a.max)] {
        if let Some(v) = v
            && !v.is_finite()
        {
            ctx.bad(at(f), format!("{v}: must be a finite number"));
            finite = false;
        }
    }
    match (a.min, a.max) {
        (None, None) => ctx.bad(
            at("metric"),
            format!(
                "assert on \"{}\" has no bound: give min, max or both",
                a.metric
            ),
        ),
        (Some(lo), Some(hi)) if finite && lo > hi => ctx.bad(
            at("min"),
            format!("min {lo} is above max {hi}: no value could pass"),
        ),
        _ => {}
    }
    Assertion {
        metric: a.metric.clone(),
        min: a.min,
        max: a.max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(min: Option<f64>, max: Option<f64>) -> Assertion {
        Assertion {
            metric: "latency_p99_ms".into(),
            min,
            max,
        }
    }

    #[test]
    fn bounds_are_inclusive_and_a_missing_value_breaks_it() {
        assert_eq!(a(None, Some(250.0)).broken_by(Some(250.0)), None);
        let e = a(None, Some(250.0)).broken_by(Some(250.5)).unwrap();
        assert!(
            e.contains("latency_p99_ms = 250.5, above its max 250"),
            "{e}"
        );
        assert_eq!(a(Some(1.0), Some(2.0)).broken_by(Some(1.0)), None);
        let e = a(Some(1.0), None).broken_by(Some(0.5)).unwrap();
        assert!(e.contains("= 0.5, below its min 1"), "{e}");
        let e = a(None, Some(1.0)).broken_by(None).unwrap();
        assert!(e.contains("has no value"), "{e}");
        assert_eq!(a(Some(1.0), Some(2.0)).describe(), "1 ≤ latency_p99_ms ≤ 2");
    }
}
