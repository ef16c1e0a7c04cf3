//! Random-number streams.
//!
//! Every component draws from its own stream, named after the component and the purpose
//! (`client/web/arrivals`, `service/api/cpu_time`, `target_group/web/routing`...). A stream's
//! seed is derived from (master seed, stream name) with BLAKE3 in key-derivation mode, so
//! adding a client or a target group never shifts the draws of the others, and the result
//! is the same on every platform and Rust version. The generator is xoshiro256++
//! (Blackman & Vigna, <https://prng.di.unimi.it/>), a named, portable algorithm; `StdRng`,
//! `SmallRng` and `thread_rng` are never used because their algorithm may change.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator behind every stream.
pub type SimRng = Xoshiro256PlusPlus;

/// BLAKE3 key-derivation context. Changing it changes every draw of every scenario, so it
/// is versioned: bump it only together with re-blessed golden outputs.
const DERIVE_CONTEXT: &str = "lbsim 2026-11-22 rng stream v1";

/// Derives the seed of the stream `name` under `master_seed`.
///
/// The key material is the master seed as 8 little-endian bytes followed by the UTF-8 bytes
/// of the name, so distinct names give independent streams.
pub fn stream_seed(master_seed: u64, name: &str) -> [u8; 32] {
    let mut material = Vec::with_capacity(8 + name.len());
    material.extend_from_slice(&master_seed.to_le_bytes());
    material.extend_from_slice(name.as_bytes());
    blake3::derive_key(DERIVE_CONTEXT, &material)
}

/// The generator for stream `name` under `master_seed`.
pub fn stream(master_seed: u64, name: &str) -> SimRng {
    SimRng::from_seed(stream_seed(master_seed, name))
}

/// A uniform integer in `0..n` (`n ≥ 1`), by Lemire's nearly divisionless method
/// (D. Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 29(1), 2019):
/// one 32-bit draw and a multiply, with a division only on the rare rejection path. Exact
/// (no modulo bias). Kept here rather than taken from `rand` so that the routing draws, which
/// shape every output, do not change when a dependency changes its algorithm.
#[inline]
pub fn below<R: Rng + ?Sized>(rng: &mut R, n: u32) -> u32 {
    debug_assert!(n > 0);
    let mut m = u64::from(rng.next_u32()) * u64::from(n);
    if (m as u32) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u32) < threshold {
            m = u64::from(rng.next_u32()) * u64::from(n);
        }
    }
    (m >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_draws_for_seed_42_are_pinned() {
        // If this fails, every scenario output changes: that is a breaking change and needs
        // a new DERIVE_CONTEXT and re-blessed goldens, not an edited constant.
        let mut r = stream(42, "client/web/arrivals");
        let draws: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(draws, PINNED_SEED_42);
    }

    const PINNED_SEED_42: [u64; 3] = [
        2329980063899378684,
        11389418651093697962,
        4357060449135991398,
    ];

    #[test]
    fn below_is_uniform_and_in_range() {
        let mut r = stream(1, "below");
        for n in [1u32, 2, 3, 7, 16, 1000, u32::MAX] {
            for _ in 0..1000 {
                assert!(below(&mut r, n) < n);
            }
        }
        // Chi-square over 10 cells, 100k draws: 9 degrees of freedom, 0.1 % critical value 27.9.
        let mut cells = [0u32; 10];
        for _ in 0..100_000 {
            cells[below(&mut r, 10) as usize] += 1;
        }
        let chi2: f64 = cells
            .iter()
            .map(|&c| (f64::from(c) - 1e4).powi(2) / 1e4)
            .sum();
        assert!(chi2 < 27.9, "{cells:?} chi2 {chi2}");
    }

    #[test]
    fn streams_differ_by_name_and_seed() {
        let a = stream(42, "a").next_u64();
        let b = stream(42, "b").next_u64();
        let a2 = stream(43, "a").next_u64();
        assert_ne!(a, b);
        assert_ne!(a, a2);
        assert_eq!(a, stream(42, "a").next_u64());
    }
}
