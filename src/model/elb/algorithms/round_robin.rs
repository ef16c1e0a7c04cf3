//! `round_robin`: the AWS default.
//!
//! "Routes requests evenly across healthy targets in the target group, in sequential
//! order" — AWS suggests it when requests and targets are similar
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).
//! The position is per load balancer node.

use super::{Candidates, RoutingPolicy};
use crate::engine::SimRng;

/// Cycles through the routable targets in slot order. Draws no random numbers. When a target
/// joins or leaves the routable list, the position moves with the list so that the cycle
/// goes on from the same target.
#[derive(Clone, Debug, Default)]
pub struct RoundRobin {
    /// Index in the routable list of the next target.
    next: usize,
}

impl RoutingPolicy for RoundRobin {
    #[inline]
    fn choose(&mut self, c: &Candidates<'_>, _rng: &mut SimRng) -> u32 {
        let n = c.routable.len();
        let i = if self.next < n { self.next } else { 0 };
        self.next = i + 1;
        c.routable[i]
    }

    #[inline]
    fn routable_changed(&mut self, _slot: u32, index: usize, added: bool, _c: &Candidates<'_>) {
        if index < self.next {
            if added {
                self.next += 1;
            } else {
                self.next -= 1;
            }
        }
    }
}
