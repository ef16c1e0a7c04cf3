//! Delays and distributions (`rtt`, `processing_time`, `request.cpu_time`, steps' `cpu` and
//! `wait`, dependencies' `latency`, services' `lifecycle` phases): a constant duration, or a
//! `{ dist = ... }` table with its parameters in range (and, for a capped delay, at most its
//! cap). Also memory amounts (`memory.per_request_mib`): a number of MiB
//! or a distribution of MiB, resolved into a [`DistSpec`] whose unit is the KiB.

use super::Ctx;
use crate::engine::SimDuration;
use crate::model::DistSpec;
use crate::scenario::file::{ByteAmount, Delay, DistSection, Dur, MemoryAmount, MemoryDistSection};
use crate::scenario::trace;

/// Largest request or response size accepted, bytes (10 GB: lbsim's cap).
pub const MAX_MESSAGE_BYTES: f64 = 1e10;

/// Largest memory amount accepted in a memory distribution, MiB (1 TiB).
pub const MAX_MEMORY_MIB: f64 = 1_048_576.0;

/// `mib` MiB in KiB, rounded to the nearest KiB (`mib` finite, ≥ 0 and ≤ [`MAX_MEMORY_MIB`]
/// or more: the conversion saturates).
pub(super) fn mib_to_kib(mib: f64) -> u64 {
    (mib * 1024.0).round() as u64
}

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

    /// Checks a delay at `path` like [`Self::required_delay`], and that it is at most `max`
    /// (`why` says whose cap it is): a constant, a `deterministic` value, a `uniform` `max`
    /// and an `empirical` sample's largest value are its largest; for the other
    /// distributions, whose tails are unbounded, the cap is on the `mean`.
    pub(super) fn capped_delay(
        &mut self,
        path: &str,
        d: &Delay,
        max: SimDuration,
        why: &str,
    ) -> DistSpec {
        let spec = self.required_delay(path, d);
        let (field, what, v) = match (d, &spec) {
            (Delay::Constant(v), _) => (path.to_string(), None, v.0),
            (Delay::Dist(DistSection::Deterministic { value }), _) => {
                (format!("{path}.value"), None, value.0)
            }
            (Delay::Dist(DistSection::Uniform { max, .. }), _) => {
                (format!("{path}.max"), None, max.0)
            }
            (Delay::Dist(DistSection::Empirical { .. }), DistSpec::Empirical(v)) => (
                format!("{path}.file"),
                Some("the sample's largest value"),
                v.iter().copied().max().unwrap_or(SimDuration::ZERO),
            ),
            // An unreadable sample (already reported) resolves to 0.
            (Delay::Dist(_), _) => (format!("{path}.mean"), Some("the mean"), spec.mean()),
        };
        if v > max {
            let found = match what {
                Some(w) => format!("{w} is {v}"),
                None => v.to_string(),
            };
            self.bad(field, format!("{found}: must be ≥ 0 and ≤ {max} ({why})"));
        }
        spec
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
                self.alpha(path, *alpha);
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
        self.cv(path, cv);
    }

    /// Checks `{path}.cv` in (0, 100].
    pub(super) fn cv(&mut self, path: &str, cv: f64) {
        self.positive_finite(&format!("{path}.cv"), cv, 100.0, "(σ/mean)");
    }

    /// Checks a Pareto's `{path}.alpha` in (1, 100].
    pub(super) fn alpha(&mut self, path: &str, alpha: f64) {
        if !(alpha.is_finite() && alpha > 1.0 && alpha <= 100.0) {
            self.bad(
                format!("{path}.alpha"),
                format!("{alpha}: must be > 1 (a finite mean) and ≤ 100"),
            );
        }
    }

    /// Checks a memory amount at `path` (a number of MiB, or a distribution of MiB) and
    /// resolves it into a distribution of KiB (a [`DistSpec`] whose nanoseconds are KiB).
    pub(super) fn memory_amount(&mut self, path: &str, m: &MemoryAmount) -> DistSpec {
        let kib = |v: u64| SimDuration(v);
        match m {
            MemoryAmount::Constant(v) => DistSpec::Deterministic(kib(self.mib(path, *v))),
            MemoryAmount::Dist(d) => match d {
                MemoryDistSection::Deterministic { value } => {
                    DistSpec::Deterministic(kib(self.mib(&format!("{path}.value"), *value)))
                }
                MemoryDistSection::Exponential { mean } => DistSpec::Exponential {
                    mean: kib(self.mean_mib(path, *mean)),
                },
                MemoryDistSection::Uniform { min, max } => {
                    let lo = self.mib(&format!("{path}.min"), *min);
                    let hi = self.mib(&format!("{path}.max"), *max);
                    if max < min {
                        self.bad(
                            format!("{path}.max"),
                            format!("{max} MiB is below min = {min} MiB: need min ≤ max"),
                        );
                    }
                    DistSpec::Uniform {
                        min: kib(lo),
                        max: kib(hi),
                    }
                }
                MemoryDistSection::Lognormal { mean, cv } => {
                    self.cv(path, *cv);
                    DistSpec::LogNormal {
                        mean: kib(self.mean_mib(path, *mean)),
                        cv: *cv,
                    }
                }
                MemoryDistSection::Gamma { mean, cv } => {
                    self.cv(path, *cv);
                    DistSpec::Gamma {
                        mean: kib(self.mean_mib(path, *mean)),
                        cv: *cv,
                    }
                }
                MemoryDistSection::Pareto { mean, alpha } => {
                    self.alpha(path, *alpha);
                    DistSpec::Pareto {
                        mean: kib(self.mean_mib(path, *mean)),
                        alpha: *alpha,
                    }
                }
            },
        }
    }

    /// Checks a number of bytes at `path` (a number, or a distribution of numbers of
    /// bytes, each finite, ≥ 0 and ≤ [`MAX_MESSAGE_BYTES`]; a distribution's mean > 0) and
    /// resolves it into a distribution of bytes (a [`DistSpec`] whose nanoseconds are
    /// bytes, rounded to the nearest byte).
    pub(super) fn byte_amount(&mut self, path: &str, b: &ByteAmount, default: u64) -> DistSpec {
        let bytes = |ctx: &mut Self, path: &str, v: f64, positive: bool| -> SimDuration {
            let ok = v.is_finite() && v <= MAX_MESSAGE_BYTES && (v > 0.0 || !positive && v == 0.0);
            if !ok {
                let low = if positive { "> 0" } else { "≥ 0" };
                ctx.bad(
                    path,
                    format!("{v}: must be {low} and ≤ {MAX_MESSAGE_BYTES} bytes"),
                );
                return SimDuration(default);
            }
            SimDuration(v.round() as u64)
        };
        match b {
            ByteAmount::Constant(v) => DistSpec::Deterministic(bytes(self, path, *v, false)),
            ByteAmount::Dist(d) => match d {
                MemoryDistSection::Deterministic { value } => {
                    DistSpec::Deterministic(bytes(self, &format!("{path}.value"), *value, false))
                }
                MemoryDistSection::Exponential { mean } => DistSpec::Exponential {
                    mean: bytes(self, &format!("{path}.mean"), *mean, true),
                },
                MemoryDistSection::Uniform { min, max } => {
                    let lo = bytes(self, &format!("{path}.min"), *min, false);
                    let hi = bytes(self, &format!("{path}.max"), *max, false);
                    if max < min {
                        self.bad(
                            format!("{path}.max"),
                            format!("{max} bytes is below min = {min} bytes: need min ≤ max"),
                        );
                    }
                    DistSpec::Uniform { min: lo, max: hi }
                }
                MemoryDistSection::Lognormal { mean, cv } => {
                    self.cv(path, *cv);
                    DistSpec::LogNormal {
                        mean: bytes(self, &format!("{path}.mean"), *mean, true),
                        cv: *cv,
                    }
                }
                MemoryDistSection::Gamma { mean, cv } => {
                    self.cv(path, *cv);
                    DistSpec::Gamma {
                        mean: bytes(self, &format!("{path}.mean"), *mean, true),
                        cv: *cv,
                    }
                }
                MemoryDistSection::Pareto { mean, alpha } => {
                    self.alpha(path, *alpha);
                    DistSpec::Pareto {
                        mean: bytes(self, &format!("{path}.mean"), *mean, true),
                        alpha: *alpha,
                    }
                }
            },
        }
    }

    /// Checks an amount of memory at `path`: finite, ≥ 0 and ≤ [`MAX_MEMORY_MIB`] MiB.
    /// Returns it in KiB (0 if out of range).
    fn mib(&mut self, path: &str, v: f64) -> u64 {
        if !(0.0..=MAX_MEMORY_MIB).contains(&v) {
            self.bad(path, format!("{v}: must be ≥ 0 and ≤ {MAX_MEMORY_MIB} MiB"));
            return 0;
        }
        mib_to_kib(v)
    }

    /// Checks the mean of a memory distribution at `{path}.mean`: finite, at least 1 KiB
    /// once rounded, and ≤ [`MAX_MEMORY_MIB`] MiB. Returns it in KiB.
    fn mean_mib(&mut self, path: &str, v: f64) -> u64 {
        let path = format!("{path}.mean");
        if !(v.is_finite() && v > 0.0 && v <= MAX_MEMORY_MIB) {
            self.bad(path, format!("{v}: must be > 0 and ≤ {MAX_MEMORY_MIB} MiB"));
            return 0;
        }
        let kib = mib_to_kib(v);
        if kib == 0 {
            self.bad(
                path,
                format!(
                    "{v} MiB rounds to 0 KiB: must be ≥ 1 KiB = {} MiB",
                    1.0 / 1024.0
                ),
            );
        }
        kib
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mib_rounds_to_the_nearest_kib() {
        assert_eq!(mib_to_kib(2.5), 2560);
        assert_eq!(mib_to_kib(512.0), 524_288);
        assert_eq!(mib_to_kib(1.0 / 1024.0), 1);
        assert_eq!(mib_to_kib(0.0005), 1, "0.512 KiB");
        assert_eq!(mib_to_kib(0.0004), 0, "0.4096 KiB");
    }
}
