//! `round_robin`: the AWS default.
//!
//! "Routes requests evenly across healthy targets in the target group, in sequential
//! order" — AWS suggests it when requests and targets are similar
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).
//! The position is per load balancer node.
//!
//! **Slow start.** A target in slow start ([`Candidates::ramps`]) is not taken every time
//! the cycle reaches it: each visit adds its [`Ramp::weight`] to its credit, and it is taken
//! (and the credit lowered by [`FULL_WEIGHT`]) only when the credit reaches a full weight;
//! otherwise the cycle moves on to the next target. So per cycle it gets `weight` of the
//! request a target at full share gets, deterministically (smooth weighted round robin,
//! integer credits, no random draw). With no ramping target the cycle is the plain one.

#[cfg(doc)]
use super::Ramp;
use super::{Candidates, FULL_WEIGHT, RoutingPolicy};
use crate::engine::SimRng;

/// Cycles through the routable targets in slot order. Draws no random numbers. When a target
/// joins or leaves the routable list, the position moves with the list so that the cycle
/// goes on from the same target.
#[derive(Clone, Debug, Default)]
pub struct RoundRobin {
    /// Index in the routable list of the next target.
    next: usize,
    /// Slow-start credit per slot, in [`FULL_WEIGHT`] units (reset when a slot joins the
    /// routable list).
    credit: Vec<u64>,
}

impl RoundRobin {
    /// The cycle while some targets ramp up: a ramping target is taken once its credit
    /// reaches a full weight. Ends: each pass adds at least the ramp floor to every ramping
    /// target's credit, and any target not ramping is taken at once.
    #[cold]
    #[inline(never)]
    fn choose_ramping(&mut self, c: &Candidates<'_>) -> u32 {
        let n = c.routable.len();
        loop {
            let i = if self.next < n { self.next } else { 0 };
            self.next = i + 1;
            let slot = c.routable[i];
            let Ok(j) = c.ramps.binary_search_by_key(&slot, |r| r.slot) else {
                return slot;
            };
            let s = slot as usize;
            if self.credit.len() <= s {
                self.credit.resize(s + 1, 0);
            }
            self.credit[s] += c.ramps[j].weight(c.now);
            if self.credit[s] >= FULL_WEIGHT {
                self.credit[s] -= FULL_WEIGHT;
                return slot;
            }
        }
    }
}

impl RoutingPolicy for RoundRobin {
    #[inline]
    fn choose(&mut self, c: &Candidates<'_>, _rng: &mut SimRng) -> u32 {
        if !c.ramps.is_empty() {
            return self.choose_ramping(c);
        }
        let n = c.routable.len();
        let i = if self.next < n { self.next } else { 0 };
        self.next = i + 1;
        c.routable[i]
    }

    #[inline]
    fn routable_changed(&mut self, slot: u32, index: usize, added: bool, _c: &Candidates<'_>) {
        if added && let Some(c) = self.credit.get_mut(slot as usize) {
            *c = 0;
        }
        if index < self.next {
            if added {
                self.next += 1;
            } else {
                self.next -= 1;
            }
        }
    }
}
