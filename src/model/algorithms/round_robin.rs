//! `round_robin`: the AWS default.
//!
//! "Routes requests evenly across healthy targets in the target group, in sequential
//! order" — AWS suggests it when requests and targets are similar
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).
//! The position is per load balancer node; this model has one node.

use super::RoutingPolicy;
use crate::engine::SimRng;

/// Cycles through the targets in registration order. Draws no random numbers.
#[derive(Clone, Debug, Default)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    /// Starts at the first registered target.
    pub fn new() -> Self {
        RoundRobin { next: 0 }
    }
}

impl RoutingPolicy for RoundRobin {
    #[inline]
    fn choose(&mut self, outstanding: &[u32], _rng: &mut SimRng) -> usize {
        let n = outstanding.len();
        let s = if self.next < n { self.next } else { 0 };
        self.next = if s + 1 < n { s + 1 } else { 0 };
        s
    }
}
