//! `random`: uniform random choice (not an AWS setting; the textbook baseline).
//!
//! With Poisson arrivals, random splitting makes each of `N` identical targets an
//! independent M/M/1 queue at rate λ/N (Poisson splitting; Kleinrock, *Queueing Systems*
//! Vol. 1, 1975, §4.4), which the validation tests check.

use super::{Candidates, RoutingPolicy};
use crate::engine::{SimRng, below};

/// Picks each routable target with probability 1/N, independently of load.
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

impl RoutingPolicy for Random {
    #[inline]
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        c.routable[below(rng, c.routable.len() as u32) as usize]
    }
}
