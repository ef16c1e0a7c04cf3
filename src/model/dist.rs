//! Sampling durations from a [`DistSpec`], with samplers of our own.
//!
//! Sampling is one of the two places floats meet engine time: a value is drawn in
//! nanoseconds as `f64` and rounded to the nearest nanosecond.
//!
//! # Why not `rand_distr`
//!
//! The project promises byte-identical outputs for the same scenario and seed on every
//! machine. `rand_distr` does its float maths through `num_traits::Float`, which (with
//! num-traits' `std` feature, enabled here by hdrhistogram) calls the platform's libm for
//! `exp`, `ln` and `powf`. Those are not correctly rounded and differ between C libraries and
//! CPUs in the last bit, and one flipped bit in a draw can move an event by a nanosecond and
//! change every output after it. So every float function whose result reaches an output is
//! either taken from the pure-Rust [`libm`] crate (`exp`, `log`, `log1p`, `pow`; the same code
//! on every platform) or is an IEEE-754 correctly rounded basic operation (`+ − × ÷`,
//! `sqrt`, integer ↔ float conversions). Rust never contracts `a*b + c` into a fused
//! multiply-add on its own, so the expressions below evaluate the same way everywhere
//! (on targets with IEEE double arithmetic: not 32-bit x86 without SSE2, where both Rust's
//! `f64` and libm's `exp` go through the x87 unit). Only the generator's `next_u64` (and `next_u32`, in [`below`]) is used: never
//! `rand`'s distributions or `random()`, whose algorithms may change between versions.
//!
//! # Algorithms
//!
//! * [`unit_f64`]: the top 53 bits of one 64-bit draw, times 2⁻⁵³: uniform on `[0, 1)`.
//! * [`standard_exponential`] and [`standard_normal`]: the ziggurat of G. Marsaglia and
//!   W. W. Tsang, "The Ziggurat Method for Generating Random Variables", J. Stat. Software
//!   5(8), 2000, with 256 layers of equal area `v` and base `r` (the paper's constants:
//!   exponential r = 7.69711747013104972, v = 0.0039496598225815571993; normal
//!   r = 3.6541528853610088, v = 0.00492867323399). The tables are computed once, at first
//!   use, from (r, v) by the paper's recursion `x_{i+1} = f⁻¹(f(x_i) + v/x_i)`. Following
//!   J. A. Doornik, "An Improved Ziggurat Method to Generate Normal Random Samples" (2005),
//!   the layer index (low 8 bits) and the uniform (top 53 bits) come from disjoint bits of the
//!   draw, so they are independent; the normal's sign is bit 8. The exponential's tail
//!   beyond `r` is `r − ln U` (memorylessness); the normal's is Marsaglia's
//!   (1964) method as given in the paper: `x = −ln(U₁)/r`, `y = −ln U₂` until `2y ≥ x²`, then
//!   `r + x`. The wedge tests compare with `exp(−x)` and `exp(−x²/2)` from libm.
//! * Gamma: G. Marsaglia and W. W. Tsang, "A Simple Method for Generating Gamma Variables",
//!   ACM TOMS 26(3), 2000 (`d = a − 1/3`, `c = 1/√(9d)`, squeeze `1 − 0.0331x⁴`, then the
//!   log test), and for shape `a < 1` the paper's boost `Gamma(a) = Gamma(a + 1)·U^(1/a)`
//!   (`U` drawn after the `Gamma(a + 1)` draw).
//! * Log-normal by mean and cv: `σ² = ln(1 + cv²)` (as `log1p`), `μ = ln(mean) − σ²/2`,
//!   value `exp(μ + σZ)`.
//! * Pareto type I by mean and `α`: scale `mean·(α − 1)/α`, value `scale·U^(−1/α)` with
//!   `U` on `(0, 1]` (inversion).
//! * Empirical: uniform resampling with [`below`] (Lemire's method, integers only).
//!
//! A `U` that goes into a logarithm or a negative power is drawn on `(0, 1]` (the 53-bit
//! uniform plus 2⁻⁵³), so no draw is infinite. Changing any of this (a constant, the order of draws,
//! which bits are used) changes every scenario's output and needs re-blessed goldens; the
//! tests pin the first draws of each sampler for that reason.

use std::sync::{Arc, LazyLock};

use rand::Rng;

use super::ModelError;
use super::spec::DistSpec;
use crate::engine::{SimDuration, below};

/// 2⁻⁵³, the spacing of the 53-bit uniforms.
const TWO_POW_M53: f64 = 1.0 / (1u64 << 53) as f64;

/// Uniform on `[0, 1)`: the top 53 bits of one `next_u64`, times 2⁻⁵³ (every value is a
/// multiple of 2⁻⁵³, each with probability 2⁻⁵³).
#[inline]
pub fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * TWO_POW_M53
}

/// Uniform on `(0, 1]`: like [`unit_f64`] shifted up by 2⁻⁵³, for logarithms and negative
/// powers (never 0, so never an infinite result).
#[inline]
fn unit_f64_nonzero<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * TWO_POW_M53
}

/// Number of layers of both ziggurats (the layer index is the low 8 bits of a draw).
const LAYERS: usize = 256;

// The ziggurat constants are written with the digits the paper publishes (more than an f64
// holds); the compiler rounds them to the nearest f64.

/// Exponential ziggurat, 256 layers: the base's right edge `r` and the common layer area
/// `v` (Marsaglia & Tsang 2000, for `f(x) = e^(−x)`).
#[allow(clippy::excessive_precision)]
const EXP_R: f64 = 7.697_117_470_131_049_72;
/// See [`EXP_R`].
#[allow(clippy::excessive_precision)]
const EXP_V: f64 = 0.003_949_659_822_581_557_199_3;
/// Normal ziggurat, 256 layers (Marsaglia & Tsang 2000, for `f(x) = e^(−x²/2)`).
#[allow(clippy::excessive_precision)]
const NORM_R: f64 = 3.654_152_885_361_008_8;
/// See [`NORM_R`].
const NORM_V: f64 = 0.004_928_673_233_99;

/// The exponential's unnormalised density, `e^(−x)`.
fn exp_f(x: f64) -> f64 {
    libm::exp(-x)
}

/// Inverse of [`exp_f`].
fn exp_f_inv(y: f64) -> f64 {
    -libm::log(y)
}

/// The half-normal's unnormalised density, `e^(−x²/2)`.
#[inline(always)]
fn norm_f(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

/// Inverse of [`norm_f`].
fn norm_f_inv(y: f64) -> f64 {
    (-2.0 * libm::log(y)).sqrt()
}

/// The tables of one ziggurat.
///
/// Layer 0 is the base: the rectangle `[0, r] × [0, f(r)]` plus the tail beyond `r`, drawn
/// as one rectangle of area `v` and width `x[0] = v/f(r)`. Layer `i ≥ 1` is the rectangle
/// `[0, x[i]] × [f(x[i]), f(x[i+1])]`, with `x[1] = r` and `x[256] = 0` (the top layer,
/// 255, reaches `f(0) = 1`). A point `u·x[i]` left of `x[i+1]` is under the curve in every
/// layer; the rest is the tail (layer 0) or a wedge, decided by comparing with `f`.
struct Ziggurat {
    /// The fast path's view of layer `i`: `(x[i]·2⁻⁵³, x[i+1])`, side by side in one 16-byte
    /// entry. `k·(x[i]·2⁻⁵³)` for a 53-bit integer `k` is bit-identical to `(k·2⁻⁵³)·x[i]`:
    /// scaling by a power of two is exact, so both round the same real product.
    fast: [(f64, f64); LAYERS],
    /// `f[i] = f(x[i])` for `i ≥ 1`, `f[256] = 1`; `f[0]` is unused (0).
    f: [f64; LAYERS + 1],
}

impl Ziggurat {
    /// The tables from the published `(r, v)` by Marsaglia & Tsang's recursion: each layer
    /// has area `v`, so the layer above `x[i]` starts at height `f(x[i]) + v/x[i]`.
    fn new(r: f64, v: f64, f: fn(f64) -> f64, f_inv: fn(f64) -> f64) -> Ziggurat {
        let mut x = [0.0; LAYERS + 1];
        let mut y = [0.0; LAYERS + 1];
        x[0] = v / f(r);
        x[1] = r;
        y[1] = f(r);
        for i in 2..LAYERS {
            x[i] = f_inv(y[i - 1] + v / x[i - 1]);
            y[i] = f(x[i]);
        }
        x[LAYERS] = 0.0;
        y[LAYERS] = 1.0;
        let fast = std::array::from_fn(|i| (x[i] * TWO_POW_M53, x[i + 1]));
        Ziggurat { fast, f: y }
    }

    /// The layer widths `x[0..=256]`, decreasing, `x[256] = 0` (recovered exactly from
    /// `fast`).
    #[cfg(test)]
    fn x(&self) -> [f64; LAYERS + 1] {
        std::array::from_fn(|i| match i {
            0 => self.fast[0].0 / TWO_POW_M53,
            _ => self.fast[i - 1].1,
        })
    }
}

static EXP_ZIGGURAT: LazyLock<Ziggurat> =
    LazyLock::new(|| Ziggurat::new(EXP_R, EXP_V, exp_f, exp_f_inv));
static NORM_ZIGGURAT: LazyLock<Ziggurat> =
    LazyLock::new(|| Ziggurat::new(NORM_R, NORM_V, norm_f, norm_f_inv));

/// A standard exponential (mean 1), by the ziggurat (see the module docs). 97.8 % of draws
/// take the fast path: one `next_u64`, a conversion, one multiplication and a comparison.
#[inline]
pub fn standard_exponential<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let z: &Ziggurat = &EXP_ZIGGURAT;
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        let (width, inner) = z.fast[i];
        let x = (bits >> 11) as f64 * width;
        if x < inner {
            return x;
        }
        if let Some(x) = exponential_edge(z, i, x, rng) {
            return x;
        }
    }
}

/// The rare part of [`standard_exponential`]: the tail (layer 0) or a wedge test.
#[cold]
#[inline(never)]
fn exponential_edge<R: Rng + ?Sized>(z: &Ziggurat, i: usize, x: f64, rng: &mut R) -> Option<f64> {
    if i == 0 {
        return Some(EXP_R - libm::log(unit_f64_nonzero(rng)));
    }
    let y = z.f[i] + unit_f64(rng) * (z.f[i + 1] - z.f[i]);
    (y < exp_f(x)).then_some(x)
}

/// A standard normal (mean 0, variance 1), by the ziggurat (see the module docs): the
/// half-normal from the layers, the sign from bit 8 of the same draw. 98.5 % of draws take
/// the fast path (one `next_u64`).
#[inline]
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let z: &Ziggurat = &NORM_ZIGGURAT;
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        let sign = (bits & 0x100) << 55;
        let (width, inner) = z.fast[i];
        let mut x = (bits >> 11) as f64 * width;
        if x >= inner {
            match normal_edge(z, i, x, rng) {
                Some(e) => x = e,
                None => continue,
            }
        }
        return f64::from_bits(x.to_bits() | sign);
    }
}

/// The rare part of [`standard_normal`]: the tail (layer 0) or a wedge test.
#[cold]
#[inline(never)]
fn normal_edge<R: Rng + ?Sized>(z: &Ziggurat, i: usize, x: f64, rng: &mut R) -> Option<f64> {
    if i == 0 {
        loop {
            let t = -libm::log(unit_f64_nonzero(rng)) / NORM_R;
            let e = -libm::log(unit_f64_nonzero(rng));
            if e + e >= t * t {
                return Some(NORM_R + t);
            }
        }
    }
    let y = z.f[i] + unit_f64(rng) * (z.f[i + 1] - z.f[i]);
    (y < norm_f(x)).then_some(x)
}

/// Gamma with shape `d + 1/3` and scale 1, by Marsaglia & Tsang (2000) (needs shape ≥ 1,
/// i.e. `d ≥ 2/3`; `c = 1/√(9d)`).
fn gamma_mt<R: Rng + ?Sized>(d: f64, c: f64, rng: &mut R) -> f64 {
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = unit_f64_nonzero(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * (x2 * x2) {
            return d * v;
        }
        if libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

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
    /// Log-normal: `exp(mu + sigma·Z)` ns, `Z` standard normal.
    LogNormal {
        /// Mean of the logarithm (of the value in ns).
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Gamma: `scale_ns · G`, `G` a unit-scale gamma drawn by Marsaglia & Tsang with
    /// `d = a − 1/3` and `c = 1/√(9d)`, where `a` is the shape, or the shape + 1 when the
    /// shape is below 1.
    Gamma {
        /// Marsaglia & Tsang's `d`.
        d: f64,
        /// Marsaglia & Tsang's `c`.
        c: f64,
        /// `Some(1/shape)` when the shape is below 1: the draw is multiplied by
        /// `U^(1/shape)`.
        boost: Option<f64>,
        /// Scale, ns.
        scale_ns: f64,
    },
    /// Pareto type I: `scale_ns · U^(neg_inv_alpha)`, `U` on `(0, 1]`.
    Pareto {
        /// Scale (the minimum), ns.
        scale_ns: f64,
        /// `−1/α`.
        neg_inv_alpha: f64,
    },
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
            DistSpec::LogNormal { mean, cv } => {
                // The checks of rand_distr's `LogNormal::from_mean_cv`, in its order and with
                // its messages: cv = 0 is a point mass at the mean (whatever the mean);
                // otherwise the mean must be > 0 and σ² = ln(1 + cv²) finite.
                let (mean, cv) = (ns(*mean), *cv);
                if cv != 0.0 && mean == 0.0 {
                    return Err(bad(
                        "lognormal(mean, cv): mean < 0 or NaN in log-normal distribution".into(),
                    ));
                }
                let sigma2 = libm::log1p(cv * cv);
                if cv.is_nan() || cv < 0.0 || !sigma2.is_finite() {
                    return Err(bad(
                        "lognormal(mean, cv): variation parameter is non-finite \
                                    in (log)normal distribution"
                            .into(),
                    ));
                }
                Sampler::LogNormal {
                    mu: libm::log(mean) - 0.5 * sigma2,
                    sigma: sigma2.sqrt(),
                }
            }
            DistSpec::Gamma { mean, cv } => {
                if !(cv.is_finite() && *cv > 0.0) || mean.is_zero() {
                    return Err(bad("gamma needs mean > 0 and cv > 0".into()));
                }
                let shape = 1.0 / (cv * cv);
                let scale_ns = ns(*mean) / shape;
                if shape.is_nan() || shape <= 0.0 {
                    return Err(bad(
                        "gamma(mean, cv): shape is not positive in gamma distribution".into(),
                    ));
                }
                if scale_ns.is_nan() || scale_ns <= 0.0 {
                    return Err(bad(
                        "gamma(mean, cv): scale is not positive in gamma distribution".into(),
                    ));
                }
                let (a, boost) = if shape < 1.0 {
                    (shape + 1.0, Some(1.0 / shape))
                } else {
                    (shape, None)
                };
                let d = a - 1.0 / 3.0;
                Sampler::Gamma {
                    d,
                    c: 1.0 / (9.0 * d).sqrt(),
                    boost,
                    scale_ns,
                }
            }
            DistSpec::Pareto { mean, alpha } => {
                if !(alpha.is_finite() && *alpha > 1.0) || mean.is_zero() {
                    return Err(bad("pareto needs mean > 0 and alpha > 1".into()));
                }
                let scale_ns = ns(*mean) * (alpha - 1.0) / alpha;
                if scale_ns.is_nan() || scale_ns <= 0.0 {
                    return Err(bad(
                        "pareto(mean, alpha): scale is not positive in Pareto distribution".into(),
                    ));
                }
                Sampler::Pareto {
                    scale_ns,
                    neg_inv_alpha: -1.0 / alpha,
                }
            }
            DistSpec::Empirical(v) => {
                if v.is_empty() {
                    return Err(bad("empirical sample is empty".into()));
                }
                Sampler::Empirical(v.clone())
            }
        })
    }

    /// True when the sampler always gives the same value and draws nothing from its stream.
    pub fn is_deterministic(&self) -> bool {
        matches!(self, Sampler::Deterministic(_))
    }

    /// Draws one duration, rounded to the nearest nanosecond (never negative; saturating
    /// at [`SimDuration::MAX`] for extreme heavy-tail draws).
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            Sampler::Deterministic(v) => *v,
            Sampler::Exponential { mean_ns } => ns_to_duration(mean_ns * standard_exponential(rng)),
            _ => self.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let ns = match self {
            Sampler::Deterministic(v) => return *v,
            Sampler::Exponential { mean_ns } => mean_ns * standard_exponential(rng),
            Sampler::Uniform { min_ns, width_ns } => min_ns + width_ns * unit_f64(rng),
            Sampler::LogNormal { mu, sigma } => libm::exp(mu + sigma * standard_normal(rng)),
            Sampler::Gamma {
                d,
                c,
                boost,
                scale_ns,
            } => {
                let g = gamma_mt(*d, *c, rng);
                let g = match boost {
                    Some(inv_shape) => g * libm::pow(unit_f64_nonzero(rng), *inv_shape),
                    None => g,
                };
                g * scale_ns
            }
            Sampler::Pareto {
                scale_ns,
                neg_inv_alpha,
            } => scale_ns * libm::pow(unit_f64_nonzero(rng), *neg_inv_alpha),
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
    use crate::engine::{SimRng, stream};

    const PINNED_STREAM: &str = "dist/pinned";

    fn pinned_rng() -> SimRng {
        stream(42, PINNED_STREAM)
    }

    /// The first three draws, as bits, of `f` from a fresh pinned stream.
    fn first_bits(f: fn(&mut SimRng) -> f64) -> [u64; 3] {
        let mut r = pinned_rng();
        [(); 3].map(|_| f(&mut r).to_bits())
    }

    /// A digest (first 8 bytes of BLAKE3, little-endian) of the bits of `n` draws: covers
    /// the rare paths (tails, wedges, rejections) that three draws would not reach.
    fn digest(n: usize, mut f: impl FnMut(&mut SimRng) -> u64) -> u64 {
        let mut r = pinned_rng();
        let mut h = blake3::Hasher::new();
        for _ in 0..n {
            h.update(&f(&mut r).to_le_bytes());
        }
        u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().unwrap())
    }

    // A change in any PINNED_* constant below changes every scenario's output: it is a
    // breaking change that needs re-blessed golden outputs, never just an edited constant.

    /// `unit_f64`: first three draws of stream (42, "dist/pinned"), as `f64::to_bits`.
    const PINNED_UNIT: [u64; 3] = [
        0x3fe3e60ab6526ea1, // 0.621831279847772
        0x3fd26c572e2c3756, // 0.2878625822930777
        0x3fe20951994f4bc9, // 0.5636375421839769
    ];
    /// `standard_exponential`: first three draws, as `f64::to_bits`.
    const PINNED_EXPONENTIAL: [u64; 3] = [
        0x3fe83f767c23a02a, // 0.7577469276993771
        0x3fd3aa82bb04b728, // 0.3072821451522594
        0x3fee2089c4646e8d, // 0.9414719424998609
    ];
    /// `standard_normal`: first three draws, as `f64::to_bits`.
    const PINNED_NORMAL: [u64; 3] = [
        0xbfe955a8a21cdd8a, // -0.7917063871636156
        0x3fd5aa5ba9be19e7, // 0.3385228307382974
        0x3febb12a81557750, // 0.8653767133762162
    ];
    /// Digests of 100 000 draws of `standard_exponential` and `standard_normal` (bits).
    const PINNED_EXPONENTIAL_DIGEST: u64 = 0xf17116da2c55d992;
    /// See [`PINNED_EXPONENTIAL_DIGEST`].
    const PINNED_NORMAL_DIGEST: u64 = 0x09a32fb08a53d5e6;
    /// Every `Sampler` variant (see `pinned_specs`): first three draws, ns.
    const PINNED_SAMPLERS: [(&str, [u64; 3]); 9] = [
        ("deterministic", [7_000_000, 7_000_000, 7_000_000]),
        ("exponential", [7_577_469, 3_072_821, 9_414_719]),
        ("uniform", [22_436_626, 15_757_252, 21_272_751]),
        ("lognormal", [12_307_067, 20_990_546, 26_922_107]),
        ("gamma shape 4", [11_749_995, 27_929_486, 7_425_226]),
        ("gamma shape 1/4", [2_813_003, 18_061_525, 113]),
        ("pareto", [9_150_827, 15_291_565, 9_770_320]),
        ("empirical", [5_000_000, 2_000_000, 3_000_000]),
        ("lognormal cv 0", [20_000_000, 20_000_000, 20_000_000]),
    ];
    /// Digests of 100 000 draws (ns) of each `Sampler` variant, in `pinned_specs` order.
    const PINNED_SAMPLER_DIGESTS: [u64; 9] = [
        0x0236ee6c75788bbd,
        0x936ae09ccc414e40,
        0x82e56753baac07f9,
        0x55b2438ebb670a8c,
        0x4529313b72541e09,
        0x902bb16edfd38c48,
        0xf6433633c694a165,
        0x7f560c50e64283be,
        0x96bcb6c2ec06d20d,
    ];

    fn pinned_specs() -> [(&'static str, DistSpec); 9] {
        let ms = SimDuration::from_millis;
        [
            ("deterministic", DistSpec::Deterministic(ms(7))),
            ("exponential", DistSpec::Exponential { mean: ms(10) }),
            (
                "uniform",
                DistSpec::Uniform {
                    min: ms(10),
                    max: ms(30),
                },
            ),
            (
                "lognormal",
                DistSpec::LogNormal {
                    mean: ms(20),
                    cv: 0.5,
                },
            ),
            (
                "gamma shape 4",
                DistSpec::Gamma {
                    mean: ms(20),
                    cv: 0.5,
                },
            ),
            (
                "gamma shape 1/4",
                DistSpec::Gamma {
                    mean: ms(20),
                    cv: 2.0,
                },
            ),
            (
                "pareto",
                DistSpec::Pareto {
                    mean: ms(20),
                    alpha: 1.5,
                },
            ),
            (
                "empirical",
                DistSpec::Empirical(Arc::from(vec![ms(1), ms(2), ms(3), ms(5), ms(8)])),
            ),
            (
                "lognormal cv 0",
                DistSpec::LogNormal {
                    mean: ms(20),
                    cv: 0.0,
                },
            ),
        ]
    }

    #[test]
    fn first_draws_are_pinned() {
        assert_eq!(first_bits(unit_f64), PINNED_UNIT, "unit_f64");
        assert_eq!(
            first_bits(standard_exponential),
            PINNED_EXPONENTIAL,
            "standard_exponential"
        );
        assert_eq!(
            first_bits(standard_normal),
            PINNED_NORMAL,
            "standard_normal"
        );
        assert_eq!(
            digest(100_000, |r| standard_exponential(r).to_bits()),
            PINNED_EXPONENTIAL_DIGEST,
            "standard_exponential digest"
        );
        assert_eq!(
            digest(100_000, |r| standard_normal(r).to_bits()),
            PINNED_NORMAL_DIGEST,
            "standard_normal digest"
        );
        let mut got = Vec::new();
        let mut digests = Vec::new();
        for (name, spec) in pinned_specs() {
            let s = Sampler::new(&spec, name).unwrap();
            let mut r = pinned_rng();
            got.push((name, [(); 3].map(|_| s.sample(&mut r).as_nanos())));
            digests.push(digest(100_000, |r| s.sample(r).as_nanos()));
        }
        assert_eq!(got, PINNED_SAMPLERS);
        assert_eq!(digests, PINNED_SAMPLER_DIGESTS);
    }

    #[test]
    fn ziggurat_tables_agree_with_the_published_constants() {
        // v is determined by r: the base layer is the rectangle r·f(r) plus the tail.
        let exp_v = (EXP_R + 1.0) * libm::exp(-EXP_R);
        let norm_v = NORM_R * norm_f(NORM_R)
            + (std::f64::consts::PI / 2.0).sqrt() * libm::erfc(NORM_R / std::f64::consts::SQRT_2);
        assert!(((exp_v - EXP_V) / EXP_V).abs() < 1e-14, "exp v {exp_v}");
        // The paper gives the normal's v to 12 digits.
        assert!(
            ((norm_v - NORM_V) / NORM_V).abs() < 1e-11,
            "normal v {norm_v}"
        );
        // The recursion closes: the top layer, [0, x[255]] × [f(x[255]), 1], has area v.
        for (name, z, v, f, tol) in [
            ("exp", &*EXP_ZIGGURAT, EXP_V, exp_f as fn(f64) -> f64, 1e-12),
            ("normal", &*NORM_ZIGGURAT, NORM_V, norm_f, 1e-8),
        ] {
            let x = z.x();
            let top = x[LAYERS - 1] * (1.0 - f(x[LAYERS - 1]));
            assert!(
                ((top - v) / v).abs() < tol,
                "{name}: top layer area {top}, v {v}"
            );
            assert!(x.windows(2).all(|w| w[0] > w[1]), "{name}: x decreasing");
            assert!(
                z.f[1..].windows(2).all(|w| w[0] < w[1]),
                "{name}: f increasing"
            );
            assert_eq!(x[1], if name == "exp" { EXP_R } else { NORM_R });
            assert_eq!(x[LAYERS], 0.0);
            assert_eq!(z.f[LAYERS], 1.0);
        }
    }

    /// Kolmogorov–Smirnov statistic of `xs` against `cdf`.
    fn ks_statistic(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        let mut d = 0f64;
        for (k, &x) in xs.iter().enumerate() {
            let f = cdf(x);
            d = d.max(f - k as f64 / n).max((k + 1) as f64 / n - f);
        }
        d
    }

    /// Asymptotic Kolmogorov critical value for a 0.1 % test: `√(ln(2/α)/2)/√n`, α = 0.001.
    fn ks_critical(n: usize) -> f64 {
        1.9495 / (n as f64).sqrt()
    }

    #[test]
    fn ziggurats_pass_kolmogorov_smirnov() {
        let n = 1_000_000;
        let mut r = stream(11, "ks");
        let xs: Vec<f64> = (0..n).map(|_| standard_exponential(&mut r)).collect();
        let d = ks_statistic(xs, |x| -libm::expm1(-x));
        assert!(d < ks_critical(n), "exponential: D = {d}");
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut r)).collect();
        let d = ks_statistic(xs, |x| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2));
        assert!(d < ks_critical(n), "normal: D = {d}");
        let xs: Vec<f64> = (0..n).map(|_| unit_f64(&mut r)).collect();
        let d = ks_statistic(xs, |x| x);
        assert!(d < ks_critical(n), "unit: D = {d}");
    }

    /// Chi-square statistic of `xs` (all ≥ 0) over the columns of a ziggurat: the 255
    /// intervals `[x[i+1], x[i])` below `r` and the tail `[r, ∞)`, with expected
    /// probabilities from the survival function `sf(t) = P(X > t)`. A wedge or tail that is
    /// wrong puts too much or too little mass in its own column, which this sees directly.
    fn chi2_over_columns(xs: &[f64], z: &Ziggurat, sf: impl Fn(f64) -> f64) -> f64 {
        // Ascending bounds 0 = x[256] < x[255] < … < x[1] = r < ∞.
        let mut bounds: Vec<f64> = z.x()[1..].iter().rev().copied().collect();
        bounds.push(f64::INFINITY);
        let mut counts = vec![0u64; LAYERS];
        for &x in xs {
            counts[bounds.partition_point(|&b| b <= x) - 1] += 1;
        }
        let n = xs.len() as f64;
        counts
            .iter()
            .enumerate()
            .map(|(j, &c)| {
                let e = n * (sf(bounds[j]) - sf(bounds[j + 1]));
                (c as f64 - e) * (c as f64 - e) / e
            })
            .sum()
    }

    /// The 0.1 % critical value of chi-square with 255 degrees of freedom (Wilson–Hilferty:
    /// `k·(1 − 2/(9k) + 3.0902·√(2/(9k)))³` = 330.5).
    const CHI2_255_CRITICAL: f64 = 330.5;

    #[test]
    fn ziggurats_pass_chi_square_over_their_columns() {
        // 4·10⁶ draws: enough to see the 0.67 % of mass that the normal's wedges hold.
        let n = 4_000_000;
        let mut r = stream(14, "chi2");
        let xs: Vec<f64> = (0..n).map(|_| standard_exponential(&mut r)).collect();
        let c = chi2_over_columns(&xs, &EXP_ZIGGURAT, |t| libm::exp(-t));
        assert!(c < CHI2_255_CRITICAL, "exponential: chi2 {c}");
        // |Z| against the half-normal.
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut r).abs()).collect();
        let c = chi2_over_columns(&xs, &NORM_ZIGGURAT, |t| {
            libm::erfc(t / std::f64::consts::SQRT_2)
        });
        assert!(c < CHI2_255_CRITICAL, "|normal|: chi2 {c}");
    }

    /// Chi-square over layers 1..=255 of the wedge tests' acceptance counts: `x` uniform on
    /// the layer's wedge column `[x[i+1], x[i])` is accepted with probability
    /// `(A − w·f[i]) / (w·(f[i+1] − f[i]))`, `w` the column's width and `A` the area under
    /// `f` over it (`area(a, b)`).
    fn wedge_chi2(
        z: &Ziggurat,
        area: impl Fn(f64, f64) -> f64,
        edge: impl Fn(usize, f64, &mut SimRng) -> Option<f64>,
    ) -> f64 {
        let trials = 20_000;
        let mut r = stream(16, "wedges");
        let x = z.x();
        (1..LAYERS)
            .map(|i| {
                let (lo, hi) = (x[i + 1], x[i]);
                let w = hi - lo;
                let p = (area(lo, hi) - w * z.f[i]) / (w * (z.f[i + 1] - z.f[i]));
                let accepted = (0..trials)
                    .filter(|_| {
                        let x = lo + unit_f64(&mut r) * w;
                        edge(i, x, &mut r).is_some()
                    })
                    .count();
                let e = f64::from(trials) * p;
                (accepted as f64 - e) * (accepted as f64 - e) / (e * (1.0 - p))
            })
            .sum()
    }

    #[test]
    fn wedge_tests_accept_with_the_right_probability() {
        // 255 layers, 255 degrees of freedom; 20 000 trials each.
        let c = wedge_chi2(
            &EXP_ZIGGURAT,
            |a, b| libm::exp(-a) - libm::exp(-b),
            |i, x, r| exponential_edge(&EXP_ZIGGURAT, i, x, r),
        );
        assert!(c < CHI2_255_CRITICAL, "exponential wedges: chi2 {c}");
        let c = wedge_chi2(
            &NORM_ZIGGURAT,
            |a, b| {
                let s = std::f64::consts::SQRT_2;
                (std::f64::consts::PI / 2.0).sqrt() * (libm::erfc(a / s) - libm::erfc(b / s))
            },
            |i, x, r| normal_edge(&NORM_ZIGGURAT, i, x, r),
        );
        assert!(c < CHI2_255_CRITICAL, "normal wedges: chi2 {c}");
    }

    #[test]
    fn tail_algorithms_pass_kolmogorov_smirnov() {
        // The tail samplers alone (layer 0 past r), 10⁶ draws each: the excess over r is
        // Exp(1) for the exponential, and P(Z − r ≤ t | Z > r) = 1 − Q(r + t)/Q(r) for the
        // normal, Q the normal survival function.
        let n = 1_000_000;
        let mut r = stream(15, "tail ks");
        let xs: Vec<f64> = (0..n)
            .map(|_| exponential_edge(&EXP_ZIGGURAT, 0, 0.0, &mut r).unwrap() - EXP_R)
            .collect();
        let d = ks_statistic(xs, |t| -libm::expm1(-t));
        assert!(d < ks_critical(n), "exponential tail: D = {d}");
        let q = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
        let xs: Vec<f64> = (0..n)
            .map(|_| normal_edge(&NORM_ZIGGURAT, 0, 0.0, &mut r).unwrap() - NORM_R)
            .collect();
        let d = ks_statistic(xs, |t| 1.0 - q(NORM_R + t) / q(NORM_R));
        assert!(d < ks_critical(n), "normal tail: D = {d}");
    }

    /// A generator that always returns 0: the extreme draw for every uniform.
    struct ZeroRng;

    impl rand::TryRng for ZeroRng {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0);
            Ok(())
        }
    }

    #[test]
    fn all_zero_bits_give_finite_draws() {
        // Uniforms that feed a logarithm or a negative power are on (0, 1], so even an
        // all-zero draw gives a finite value: the exponential tail's largest is r + 53·ln 2,
        // the Pareto's scale·2^(53/α). (The rejection loops of the normal tail and of
        // `below` would never end on a constant generator, so they are not run here.)
        assert_eq!(unit_f64(&mut ZeroRng), 0.0);
        assert_eq!(unit_f64_nonzero(&mut ZeroRng), TWO_POW_M53);
        assert_eq!(standard_exponential(&mut ZeroRng), 0.0);
        assert_eq!(standard_normal(&mut ZeroRng), 0.0);
        let tail = exponential_edge(&EXP_ZIGGURAT, 0, 0.0, &mut ZeroRng).unwrap();
        assert_eq!(tail, EXP_R - libm::log(TWO_POW_M53));
        for (name, spec) in pinned_specs() {
            if name != "empirical" {
                let d = Sampler::new(&spec, name).unwrap().sample(&mut ZeroRng);
                assert!(d < SimDuration::MAX, "{name}: {d:?}");
            }
        }
        let p = Sampler::new(
            &DistSpec::Pareto {
                mean: SimDuration::from_millis(20),
                alpha: 3.0,
            },
            "t",
        )
        .unwrap()
        .sample(&mut ZeroRng);
        let want = 20e6 * 2.0 / 3.0 * libm::exp2(53.0 / 3.0);
        assert!((p.as_nanos() as f64 - want).abs() < 1.0, "{p:?} vs {want}");
    }

    /// `count` successes in `n` trials is within `k` standard errors of probability `p`.
    fn within_se(what: &str, count: usize, n: usize, p: f64, k: f64) {
        let expected = n as f64 * p;
        let se = (n as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (count as f64 - expected).abs() < k * se,
            "{what}: {count} of {n}, expected {expected:.1} ± {se:.1}"
        );
    }

    /// Mean of `xs` is within 4 standard errors (from the sample) of `mean`.
    fn mean_within_4_se(what: &str, xs: &[f64], mean: f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        let se = (var / n).sqrt();
        assert!(
            (m - mean).abs() < 4.0 * se,
            "{what}: mean {m}, expected {mean} ± {se}"
        );
    }

    #[test]
    fn tails_beyond_the_ziggurat_base() {
        // 10⁷ draws: about 4541 exponential draws beyond r, and 1290 normal draws beyond each of
        // ±r.
        let n = 10_000_000;
        let mut r = stream(12, "tail");
        let excess: Vec<f64> = (0..n)
            .map(|_| standard_exponential(&mut r) - EXP_R)
            .filter(|&e| e > 0.0)
            .collect();
        within_se(
            "exponential P(X > r)",
            excess.len(),
            n,
            libm::exp(-EXP_R),
            4.0,
        );
        // Memoryless: the excess over r is again Exp(1), mean 1; and P(X > r + 1 | X > r) = e⁻¹.
        mean_within_4_se("exponential excess over r", &excess, 1.0);
        within_se(
            "exponential P(X > r + 1 | X > r)",
            excess.iter().filter(|&&e| e > 1.0).count(),
            excess.len(),
            libm::exp(-1.0),
            4.0,
        );

        let q = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
        let (mut hi, mut lo) = (Vec::new(), 0usize);
        for _ in 0..n {
            let z = standard_normal(&mut r);
            if z > NORM_R {
                hi.push(z - NORM_R);
            } else if z < -NORM_R {
                lo += 1;
            }
        }
        within_se("normal P(Z > r)", hi.len(), n, q(NORM_R), 4.0);
        within_se("normal P(Z < −r)", lo, n, q(NORM_R), 4.0);
        // E[Z − r | Z > r] = φ(r)/Q(r) − r (inverse Mills ratio).
        let phi = libm::exp(-0.5 * NORM_R * NORM_R) / (2.0 * std::f64::consts::PI).sqrt();
        mean_within_4_se("normal excess over r", &hi, phi / q(NORM_R) - NORM_R);
        within_se(
            "normal P(Z > r + 0.3 | Z > r)",
            hi.iter().filter(|&&e| e > 0.3).count(),
            hi.len(),
            q(NORM_R + 0.3) / q(NORM_R),
            4.0,
        );
    }

    #[test]
    fn pareto_tail_probability() {
        // P(X > 2·scale) = 2^(−α), P(X > 10·scale) = 10^(−α).
        let n = 1_000_000;
        for alpha in [1.5, 3.0] {
            let mean = SimDuration::from_millis(20);
            let s = Sampler::new(&DistSpec::Pareto { mean, alpha }, "t").unwrap();
            let scale = mean.as_nanos() as f64 * (alpha - 1.0) / alpha;
            let mut r = stream(13, "pareto");
            let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut r).as_nanos() as f64).collect();
            assert!(
                xs.iter().all(|&x| x >= scale.floor()),
                "alpha {alpha}: below scale"
            );
            for k in [2.0, 10.0] {
                within_se(
                    &format!("pareto alpha {alpha}: P(X > {k}·scale)"),
                    xs.iter().filter(|&&x| x > k * scale).count(),
                    n,
                    libm::pow(k, -alpha),
                    4.0,
                );
            }
        }
    }

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
        let gamma = |cv| DistSpec::Gamma { mean: ms(20), cv };
        let lognormal = |cv| DistSpec::LogNormal { mean: ms(20), cv };
        let cases = [
            (DistSpec::Exponential { mean: ms(10) }, 0.010, 1.0),
            (lognormal(0.5), 0.020, 0.5),
            (lognormal(1.0), 0.020, 1.0),
            (gamma(0.2), 0.020, 0.2),
            (gamma(0.5), 0.020, 0.5),
            (gamma(1.0), 0.020, 1.0),
            (gamma(2.0), 0.020, 2.0),
            (gamma(4.0), 0.020, 4.0),
            (
                DistSpec::Uniform {
                    min: ms(10),
                    max: ms(30),
                },
                0.020,
                (20.0 / 12f64.sqrt()) / 20.0,
            ),
            (
                DistSpec::Empirical(Arc::from(vec![ms(1), ms(2), ms(3), ms(4)])),
                0.0025,
                1.25f64.sqrt() / 2.5,
            ),
        ];
        // 10⁶ draws each: the sample mean within 4 standard errors (cv·mean/√n; 0.4 % at
        // cv = 1, 1.6 % at cv = 4), the sample cv within 3 % (at least 6 standard errors of
        // the sample standard deviation for these kurtoses).
        let n = 1_000_000;
        for (spec, mean, cv) in cases {
            let s = Sampler::new(&spec, "test").unwrap();
            assert!(!s.is_deterministic());
            let (m, c) = mean_and_cv(&s, n);
            let se = cv * mean / (n as f64).sqrt();
            assert!((m - mean).abs() < 4.0 * se, "{spec:?}: mean {m} ± {se}");
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
        let (m, _) = mean_and_cv(&p, n);
        let se = 0.020 / 3f64.sqrt() / (n as f64).sqrt();
        assert!((m - 0.020).abs() < 4.0 * se, "pareto mean {m} ± {se}");
        // Point masses: a deterministic value and a log-normal with cv = 0.
        for spec in [DistSpec::Deterministic(ms(20)), lognormal(0.0)] {
            let s = Sampler::new(&spec, "t").unwrap();
            assert_eq!(
                s.is_deterministic(),
                matches!(spec, DistSpec::Deterministic(_))
            );
            let mut r = stream(7, "test");
            assert!((0..1000).all(|_| s.sample(&mut r) == ms(20)), "{spec:?}");
        }
    }

    #[test]
    fn deterministic_draws_nothing() {
        let s = Sampler::new(&DistSpec::Deterministic(SimDuration::from_millis(3)), "t").unwrap();
        let mut r = stream(1, "t");
        s.sample(&mut r);
        assert_eq!(r, stream(1, "t"));
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
