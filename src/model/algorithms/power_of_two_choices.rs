//! `power_of_two_choices`: sample two distinct targets, send to the one with fewer
//! outstanding requests (not an AWS setting).
//!
//! Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing", IEEE TPDS 12(10),
//! 2001; Vvedenskaya, Dobrushin & Karpelevich, Problems Inform. Transmission 32(1), 1996.
//! Envoy's `LEAST_REQUEST` and NGINX's `random two least_conn` work this way. O(1) per
//! request whatever the number of targets.

use super::RoutingPolicy;
use crate::engine::{SimRng, below};

/// Two uniform draws without replacement; ties go to the first draw (itself uniform, so a
/// tie is broken at random without a third draw).
#[derive(Clone, Copy, Debug, Default)]
pub struct PowerOfTwoChoices;

impl RoutingPolicy for PowerOfTwoChoices {
    #[inline]
    fn choose(&mut self, outstanding: &[u32], rng: &mut SimRng) -> usize {
        let n = outstanding.len();
        if n == 1 {
            return 0;
        }
        let a = below(rng, n as u32) as usize;
        let mut b = below(rng, n as u32 - 1) as usize;
        if b >= a {
            b += 1;
        }
        if outstanding[b] < outstanding[a] {
            b
        } else {
            a
        }
    }
}
