//! Random-number streams.
//!
//! Every component draws from its own stream, named after the component and the purpose
//! (`client/web/arrivals`, `service/api/cpu_time`, `target_group/web/routing`...). A stream's
//! seed is derived from (master seed, stream name) with BLAKE3 in key-derivation mode, so
//! adding a client or a target group never shifts the draws of the others, and the result
//! is the same on every platform and Rust version. The generator is xoshiro256++
//! (Blackman & Vigna, <https://prng.di.unimi.it/>), a named, portable algorithm; `StdRng`,
//! `SmallRng` and `thread_rng` are never used because their algorithm may change.

use rand::SeedableRng;
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

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
    fn streams_differ_by_name_and_seed() {
        let a = stream(42, "a").next_u64();
        let b = stream(42, "b").next_u64();
        let a2 = stream(43, "a").next_u64();
        assert_ne!(a, b);
        assert_ne!(a, a2);
        assert_eq!(a, stream(42, "a").next_u64());
    }
}
