//! `power_of_two_choices`: sample two distinct targets, send to the one with fewer
//! outstanding requests (not an AWS setting).
//!
//! Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing", IEEE TPDS 12(10),
//! 2001; Vvedenskaya, Dobrushin & Karpelevich, Problems Inform. Transmission 32(1), 1996.
//! Envoy's `LEAST_REQUEST` and NGINX's `random two least_conn` work this way. O(1) per
//! request whatever the number of targets.

use super::{Candidates, RoutingPolicy};
use crate::engine::{SimRng, below};

/// Two uniform draws without replacement among the routable targets; ties go to the first
/// draw (itself uniform, so a tie is broken at random without a third draw).
#[derive(Clone, Copy, Debug, Default)]
pub struct PowerOfTwoChoices;

impl RoutingPolicy for PowerOfTwoChoices {
    #[inline]
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        let n = c.routable.len();
        if n == 1 {
            return c.routable[0];
        }
        let i = below(rng, n as u32) as usize;
        let mut j = below(rng, n as u32 - 1) as usize;
        if j >= i {
            j += 1;
        }
        let (a, b) = (c.routable[i], c.routable[j]);
        if c.outstanding[b as usize] < c.outstanding[a as usize] {
            b
        } else {
            a
        }
    }
}
