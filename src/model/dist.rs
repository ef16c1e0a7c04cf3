//! Sampling durations from a [`DistSpec`].
//!
//! Sampling is one of the two places floats meet engine time: a value is drawn in seconds
//! (or nanoseconds) as `f64` and rounded to the nearest nanosecond. The distributions come
//! from `rand_distr` (ziggurat exponential, Marsaglia–Tsang gamma, Box–Muller-free normal).

use std::sync::Arc;

use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Pareto};

use super::ModelError;
use super::spec::DistSpec;
use crate::engine::{SimDuration, below};

/// A ready-to-sample distribution of durations. Values are in nanoseconds internally.
#[derive(Clone, Debug)]
pub enum Sampler {
    /// A fixed value (draws nothing from the stream).
    Deterministic(SimDuration),
    /// Exponential with mean `mean_ns`.
    Exponential {
        /// Mean, ns.
        mean_ns: f64,
    },
    /// Uniform on `[min_ns, min_ns + width_ns]`.
    Uniform {
        /// Lower bound, ns.
        min_ns: f64,
        /// `max − min`, ns.
        width_ns: f64,
    },
    /// Log-normal, parameterised in ns.
    LogNormal(LogNormal<f64>),
    /// Gamma, parameterised in ns.
    Gamma(Gamma<f64>),
    /// Pareto type I, parameterised in ns.
    Pareto(Pareto<f64>),
    /// Uniform resampling of observed values.
    Empirical(Arc<[SimDuration]>),
}

impl Sampler {
    /// Builds a sampler.
    ///
    /// # Errors
    /// [`ModelError::InvalidDistribution`] when a parameter is outside its domain (a mean
    /// of zero for a log-normal, `alpha ≤ 1` for a Pareto, an empty empirical sample...).
    /// `what` names the distribution's role in the message.
    pub fn new(spec: &DistSpec, what: &str) -> Result<Sampler, ModelError> {
        let bad = |why: String| ModelError::InvalidDistribution {
            what: what.to_string(),
            why,
        };
        let ns = |d: SimDuration| d.as_nanos() as f64;
        Ok(match spec {
            DistSpec::Deterministic(v) => Sampler::Deterministic(*v),
            DistSpec::Exponential { mean } => {
                if mean.is_zero() {
                    return Err(bad("exponential mean must be > 0".into()));
                }
                Sampler::Exponential { mean_ns: ns(*mean) }
            }
            DistSpec::Uniform { min, max } => {
                if max < min {
                    return Err(bad("uniform max must be ≥ min".into()));
                }
                Sampler::Uniform {
                    min_ns: ns(*min),
                    width_ns: ns(*max) - ns(*min),
                }
            }
            DistSpec::LogNormal { mean, cv } => LogNormal::from_mean_cv(ns(*mean), *cv)
                .map(Sampler::LogNormal)
                .map_err(|e| bad(format!("lognormal(mean, cv): {e}")))?,
            DistSpec::Gamma { mean, cv } => {
                if !(cv.is_finite() && *cv > 0.0) || mean.is_zero() {
                    return Err(bad("gamma needs mean > 0 and cv > 0".into()));
                }
                let shape = 1.0 / (cv * cv);
                Gamma::new(shape, ns(*mean) / shape)
                    .map(Sampler::Gamma)
                    .map_err(|e| bad(format!("gamma(mean, cv): {e}")))?
            }
            DistSpec::Pareto { mean, alpha } => {
                if !(alpha.is_finite() && *alpha > 1.0) || mean.is_zero() {
                    return Err(bad("pareto needs mean > 0 and alpha > 1".into()));
                }
                let scale = ns(*mean) * (alpha - 1.0) / alpha;
                Pareto::new(scale, *alpha)
                    .map(Sampler::Pareto)
                    .map_err(|e| bad(format!("pareto(mean, alpha): {e}")))?
            }
            DistSpec::Empirical(v) => {
                if v.is_empty() {
                    return Err(bad("empirical sample is empty".into()));
                }
                Sampler::Empirical(v.clone())
            }
        })
    }

    /// Draws one duration, rounded to the nearest nanosecond (never negative; saturating
    /// at [`SimDuration::MAX`] for extreme heavy-tail draws).
    #[inline(always)]
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            Sampler::Deterministic(v) => *v,
            Sampler::Exponential { mean_ns } => {
                let e: f64 = Exp1.sample(rng);
                ns_to_duration(mean_ns * e)
            }
            _ => self.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ns = match self {
            Sampler::Deterministic(v) => return *v,
            Sampler::Exponential { mean_ns } => {
                let e: f64 = Exp1.sample(rng);
                mean_ns * e
            }
            Sampler::Uniform { min_ns, width_ns } => {
                let u: f64 = rng.random();
                min_ns + width_ns * u
            }
            Sampler::LogNormal(d) => d.sample(rng),
            Sampler::Gamma(d) => d.sample(rng),
            Sampler::Pareto(d) => d.sample(rng),
            Sampler::Empirical(v) => return v[below(rng, v.len() as u32) as usize],
        };
        ns_to_duration(ns)
    }
}

/// Rounds a non-negative number of nanoseconds to the nearest integer (half up). `f64::round`
/// is a library call on baseline x86-64 (no SSE4.1), so this adds ½ and truncates instead;
/// `as` saturates large values and maps NaN and negatives to 0.
#[inline(always)]
pub fn ns_to_duration(ns: f64) -> SimDuration {
    SimDuration((ns + 0.5) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn mean_and_cv(s: &Sampler, n: usize) -> (f64, f64) {
        let mut r = stream(7, "test");
        let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut r).as_secs_f64()).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n as f64 - 1.0);
        (m, v.sqrt() / m)
    }

    #[test]
    fn parameterisations_give_the_requested_mean_and_cv() {
        let ms = SimDuration::from_millis;
        let cases = [
            (DistSpec::Exponential { mean: ms(10) }, 0.010, 1.0),
            (
                DistSpec::LogNormal {
                    mean: ms(20),
                    cv: 0.5,
                },
                0.020,
                0.5,
            ),
            (
                DistSpec::Gamma {
                    mean: ms(20),
                    cv: 2.0,
                },
                0.020,
                2.0,
            ),
            (
                DistSpec::Uniform {
                    min: ms(10),
                    max: ms(30),
                },
                0.020,
                (20.0 / 12f64.sqrt()) / 20.0,
            ),
        ];
        for (spec, mean, cv) in cases {
            let s = Sampler::new(&spec, "test").unwrap();
            let (m, c) = mean_and_cv(&s, 400_000);
            assert!((m - mean).abs() / mean < 0.01, "{spec:?}: mean {m}");
            assert!((c - cv).abs() / cv < 0.03, "{spec:?}: cv {c}");
        }
        // Pareto alpha = 3 has a finite variance (cv = 1/sqrt(alpha(alpha-2)) = 0.577), but
        // a slowly converging sample cv, so check its mean only.
        let p = Sampler::new(
            &DistSpec::Pareto {
                mean: ms(20),
                alpha: 3.0,
            },
            "t",
        )
        .unwrap();
        let (m, _) = mean_and_cv(&p, 400_000);
        assert!((m - 0.020).abs() / 0.020 < 0.01, "pareto mean {m}");
    }

    #[test]
    fn invalid_parameters_are_errors_not_panics() {
        let ms = SimDuration::from_millis;
        for spec in [
            DistSpec::Exponential { mean: ms(0) },
            DistSpec::Pareto {
                mean: ms(10),
                alpha: 1.0,
            },
            DistSpec::Gamma {
                mean: ms(10),
                cv: 0.0,
            },
            DistSpec::LogNormal {
                mean: ms(10),
                cv: -1.0,
            },
            DistSpec::Empirical(Arc::from(vec![])),
            DistSpec::Uniform {
                min: ms(5),
                max: ms(1),
            },
        ] {
            assert!(Sampler::new(&spec, "x").is_err(), "{spec:?}");
        }
    }
}
