//! `random`: uniform random choice (not an AWS setting; the textbook baseline).
//!
//! With Poisson arrivals, random splitting makes each of `N` identical targets an
//! independent M/M/1 queue at rate λ/N (Poisson splitting; Kleinrock, *Queueing Systems*
//! Vol. 1, 1975, §4.4), which the validation tests check.

//!
//! **Slow start.** While some routable targets are in slow start
//! ([`Candidates::ramps`]), each target is picked with probability weight / Σ weights, a
//! target at full share weighing [`FULL_WEIGHT`] and a ramping one its
//! [`Ramp::weight`]: one draw of an integer in [0, Σ weights), then O(r log n) for r ramping
//! targets among n. With no ramping target the choice is the uniform one above.

#[cfg(doc)]
use super::Ramp;
use super::{Candidates, FULL_WEIGHT, RoutingPolicy};
use crate::engine::{SimRng, below};

/// Picks each routable target with probability 1/N, independently of load (weighted by the
/// slow-start ramp while a target ramps up).
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

impl RoutingPolicy for Random {
    #[inline]
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        if c.ramps.is_empty() {
            c.routable[below(rng, c.routable.len() as u32) as usize]
        } else {
            weighted(c, rng)
        }
    }
}

/// A choice weighted by the slow-start ramps (every ramping slot is routable).
#[cold]
#[inline(never)]
fn weighted(c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
    let full = (c.routable.len() - c.ramps.len()) as u64 * FULL_WEIGHT;
    let ramping: u64 = c.ramps.iter().map(|r| r.weight(c.now)).sum();
    let mut x = rand::RngExt::random_range(rng, 0..full + ramping);
    if x < full {
        // The k-th routable target that is not ramping: skip the ramping ones' positions
        // (ascending, as the ramps are sorted by slot and the routable list is too).
        let mut i = (x / FULL_WEIGHT) as usize;
        for r in c.ramps {
            let p = c.routable.partition_point(|&s| s < r.slot);
            if p <= i {
                i += 1;
            } else {
                break;
            }
        }
        return c.routable[i];
    }
    x -= full;
    for r in c.ramps {
        let w = r.weight(c.now);
        if x < w {
            return r.slot;
        }
        x -= w;
    }
    unreachable!("the draw is below the total weight")
}
