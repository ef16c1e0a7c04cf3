//! Delays and distributions (`rtt`, `processing_time`, `request.cpu_time`): a constant
//! duration, or a `{ dist = ... }` table with its parameters in range.

use super::Ctx;
use crate::engine::SimDuration;
use crate::model::DistSpec;
use crate::scenario::file::{Delay, DistSection, Dur};
use crate::scenario::trace;

impl Ctx<'_> {
    /// Checks an optional delay at `path`; unset is no delay.
    pub(super) fn delay(&mut self, path: &str, d: &Option<Delay>) -> DistSpec {
        match d {
            None => DistSpec::Deterministic(SimDuration::ZERO),
            Some(d) => self.required_delay(path, d),
        }
    }

    /// Checks a delay at `path`.
    pub(super) fn required_delay(&mut self, path: &str, d: &Delay) -> DistSpec {
        match d {
            Delay::Constant(v) => DistSpec::Deterministic(v.0),
            Delay::Dist(ds) => self.dist(path, ds),
        }
    }

    /// Checks a distribution table at `path`.
    fn dist(&mut self, path: &str, d: &DistSection) -> DistSpec {
        match d {
            DistSection::Deterministic { value } => DistSpec::Deterministic(value.0),
            DistSection::Exponential { mean } => {
                self.mean(path, mean);
                DistSpec::Exponential { mean: mean.0 }
            }
            DistSection::Uniform { min, max } => {
                if max < min {
                    self.bad(
                        format!("{path}.max"),
                        format!("{} is below min = {}: need min ≤ max", max.0, min.0),
                    );
                }
                DistSpec::Uniform {
                    min: min.0,
                    max: max.0,
                }
            }
            DistSection::Lognormal { mean, cv } => {
                self.mean_cv(path, mean, *cv);
                DistSpec::LogNormal {
                    mean: mean.0,
                    cv: *cv,
                }
            }
            DistSection::Gamma { mean, cv } => {
                self.mean_cv(path, mean, *cv);
                DistSpec::Gamma {
                    mean: mean.0,
                    cv: *cv,
                }
            }
            DistSection::Pareto { mean, alpha } => {
                self.mean(path, mean);
                if !(alpha.is_finite() && *alpha > 1.0 && *alpha <= 100.0) {
                    self.bad(
                        format!("{path}.alpha"),
                        format!("{alpha}: must be > 1 (a finite mean) and ≤ 100"),
                    );
                }
                DistSpec::Pareto {
                    mean: mean.0,
                    alpha: *alpha,
                }
            }
            DistSection::Empirical { file } => match trace::read_empirical(&self.base.join(file)) {
                Ok(v) => DistSpec::Empirical(v),
                Err(e) => {
                    self.bad_data(format!("{path}.file"), &e);
                    DistSpec::Deterministic(SimDuration::ZERO)
                }
            },
        }
    }

    /// Checks `{path}.mean` > 0.
    fn mean(&mut self, path: &str, mean: &Dur) {
        if mean.0.is_zero() {
            self.bad(format!("{path}.mean"), "must be > 0 (e.g. \"10ms\")");
        }
    }

    /// Checks `{path}.mean` > 0 and `{path}.cv` in (0, 100].
    fn mean_cv(&mut self, path: &str, mean: &Dur, cv: f64) {
        self.mean(path, mean);
        self.positive_finite(&format!("{path}.cv"), cv, 100.0, "(σ/mean)");
    }
}
