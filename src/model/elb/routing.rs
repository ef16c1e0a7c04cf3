//! One load balancer node's routing state for one target group: its count of outstanding
//! requests per target, the routable targets as this node sees them, their weights, the
//! algorithm's own state and the node's random stream for the group.
//!
//! It is separate from the group's registrations ([`TargetGroup`](super::TargetGroup)), which
//! all nodes share: the group decides which slots are routable and the world tells every
//! node's router.

use super::algorithms::{Candidates, Feedback, Ramp, Router, RoutingPolicy};
use crate::engine::{SimRng, SimTime};
use crate::model::spec::Algorithm;

/// Position of a slot that is not routable.
const NONE: u32 = u32::MAX;

/// A node's routing state for one target group.
#[derive(Clone, Debug)]
pub struct TargetGroupRouter {
    /// Routable slots, ascending.
    routable: Vec<u32>,
    /// Position of each slot in `routable`, or `NONE`.
    pos: Vec<u32>,
    /// Outstanding requests from this node, per slot.
    outstanding: Vec<u32>,
    /// Weight per slot.
    weights: Vec<u32>,
    /// Routable slots in slow start, ascending by slot; pruned as their ramps end.
    ramps: Vec<Ramp>,
    policy: Router,
    /// Whether the policy learns from responses ([`Router::learns`]): one flag on the
    /// response path instead of a match.
    learns: bool,
    rng: SimRng,
    /// Requests routed to a target so far (CloudWatch's `RequestCount`).
    dispatched: u64,
}

impl TargetGroupRouter {
    /// A router with no routable target; `rng` is the node's stream for the group.
    pub fn new(algorithm: Algorithm, rng: SimRng) -> Self {
        Self::with_policy(Router::new(algorithm), rng)
    }

    /// The router of target group `t` (its algorithm and the algorithm's parameters), with
    /// no routable target; `rng` is the node's stream for the group.
    pub fn for_group(t: &crate::model::spec::TargetGroupSpec, rng: SimRng) -> Self {
        Self::with_policy(Router::for_group(t), rng)
    }

    fn with_policy(policy: Router, rng: SimRng) -> Self {
        TargetGroupRouter {
            learns: policy.learns(),
            routable: Vec::new(),
            pos: Vec::new(),
            outstanding: Vec::new(),
            weights: Vec::new(),
            ramps: Vec::new(),
            policy,
            rng,
            dispatched: 0,
        }
    }

    /// The routing policy (its state, for probes and tests).
    pub fn policy(&self) -> &Router {
        &self.policy
    }

    /// Runs an anomaly evaluation (`weighted_random` with anomaly mitigation; nothing
    /// otherwise) and pushes the targets that changed state to `out`.
    pub fn evaluate_anomalies(
        &mut self,
        now: SimTime,
        out: &mut Vec<super::anomaly::AnomalyChange>,
    ) {
        if let Router::WeightedRandom(p) = &mut self.policy {
            let c = Candidates {
                routable: &self.routable,
                outstanding: &self.outstanding,
                weights: &self.weights,
                ramps: &self.ramps,
                now,
            };
            p.evaluate(&c, out);
        }
    }

    /// Requests this node routed to a target of the group so far.
    pub fn dispatched(&self) -> u64 {
        self.dispatched
    }

    /// Routable slots, ascending.
    pub fn routable(&self) -> &[u32] {
        &self.routable
    }

    /// This node's outstanding requests per slot.
    pub fn outstanding(&self) -> &[u32] {
        &self.outstanding
    }

    fn ensure(&mut self, slot: u32) {
        let n = slot as usize + 1;
        if self.pos.len() < n {
            self.pos.resize(n, NONE);
            self.outstanding.resize(n, 0);
            self.weights.resize(n, 1);
        }
    }

    /// `slot` enters or leaves the routable set (with `weight` when it enters).
    pub fn set_routable(&mut self, slot: u32, routable: bool, weight: u32, now: SimTime) {
        self.ensure(slot);
        let s = slot as usize;
        if (self.pos[s] != NONE) == routable {
            return;
        }
        let index = if routable {
            self.weights[s] = weight;
            let i = self.routable.partition_point(|&x| x < slot);
            self.routable.insert(i, slot);
            i
        } else {
            self.ramps.retain(|r| r.slot != slot);
            let i = self.pos[s] as usize;
            self.routable.remove(i);
            self.pos[s] = NONE;
            i
        };
        for (j, &x) in self.routable.iter().enumerate().skip(index) {
            self.pos[x as usize] = j as u32;
        }
        let c = Candidates {
            routable: &self.routable,
            outstanding: &self.outstanding,
            weights: &self.weights,
            ramps: &self.ramps,
            now,
        };
        self.policy.routable_changed(slot, index, routable, &c);
    }

    /// Sets `slot`'s weight.
    pub fn set_weight(&mut self, slot: u32, weight: u32, now: SimTime) {
        self.ensure(slot);
        self.weights[slot as usize] = weight;
        let c = Candidates {
            routable: &self.routable,
            outstanding: &self.outstanding,
            weights: &self.weights,
            ramps: &self.ramps,
            now,
        };
        self.policy.weight_changed(slot, &c);
    }

    /// `slot` enters slow start from `start` to `end` (`Some`), or leaves it (`None`). A
    /// slot that is not routable does not ramp (it leaves slow start when it leaves the
    /// routable list).
    pub fn set_ramp(&mut self, slot: u32, ramp: Option<(SimTime, SimTime)>) {
        self.ramps.retain(|r| r.slot != slot);
        if let Some((start, end)) = ramp
            && self.pos.get(slot as usize).is_some_and(|&p| p != NONE)
        {
            let i = self.ramps.partition_point(|r| r.slot < slot);
            self.ramps.insert(i, Ramp { slot, start, end });
        }
    }

    /// The routable slots in slow start, ascending by slot (those whose ramp has ended are
    /// dropped at the next dispatch).
    pub fn ramps(&self) -> &[Ramp] {
        &self.ramps
    }

    /// Chooses a routable target for one request and counts it as outstanding; `None` when
    /// no target is routable.
    #[inline(always)]
    pub fn dispatch(&mut self, now: SimTime) -> Option<u32> {
        if self.routable.is_empty() {
            return None;
        }
        let slot = if self.ramps.is_empty() {
            // No target in slow start: the policies' ramp branches fold away here.
            let c = Candidates {
                routable: &self.routable,
                outstanding: &self.outstanding,
                weights: &self.weights,
                ramps: &[],
                now,
            };
            self.policy.choose(&c, &mut self.rng)
        } else {
            self.choose_ramping(now)
        };
        debug_assert!(self.pos[slot as usize] != NONE, "chose an unroutable slot");
        self.dispatched += 1;
        let o = &mut self.outstanding[slot as usize];
        *o += 1;
        self.policy.outstanding_changed(slot, *o - 1, *o);
        Some(slot)
    }

    /// Counts one request sent to `slot` without choosing it (direct service discovery: the
    /// client chose the task), so that its end and the target's draining are accounted as
    /// for a routed one.
    pub fn count(&mut self, slot: u32) {
        self.ensure(slot);
        self.dispatched += 1;
        let o = &mut self.outstanding[slot as usize];
        *o += 1;
        self.policy.outstanding_changed(slot, *o - 1, *o);
    }

    /// Sends one request to `slot` (routable) without asking the policy (a sticky session)
    /// and counts it as outstanding.
    #[inline]
    pub fn dispatch_to(&mut self, slot: u32) {
        debug_assert!(self.is_routable(slot), "sent to an unroutable slot");
        self.dispatched += 1;
        let o = &mut self.outstanding[slot as usize];
        *o += 1;
        self.policy.outstanding_changed(slot, *o - 1, *o);
    }

    /// True when this node may send new requests to `slot`.
    #[inline]
    pub fn is_routable(&self, slot: u32) -> bool {
        self.pos.get(slot as usize).is_some_and(|&p| p != NONE)
    }

    /// The choice while some targets are in slow start: drops the ramps that have ended,
    /// then lets the policy weigh the others.
    #[cold]
    #[inline(never)]
    fn choose_ramping(&mut self, now: SimTime) -> u32 {
        self.ramps.retain(|r| r.end > now);
        let c = Candidates {
            routable: &self.routable,
            outstanding: &self.outstanding,
            weights: &self.weights,
            ramps: &self.ramps,
            now,
        };
        self.policy.choose(&c, &mut self.rng)
    }

    /// A request this node sent to `slot` ended. Returns true if the slot is routable (so
    /// no deregistration can be waiting for this request).
    #[inline(always)]
    pub fn ended(&mut self, slot: u32, feedback: &Feedback) -> bool {
        let o = &mut self.outstanding[slot as usize];
        debug_assert!(*o > 0);
        *o -= 1;
        self.policy.outstanding_changed(slot, *o + 1, *o);
        if self.learns {
            self.policy.completed(slot, feedback);
        }
        self.pos[slot as usize] != NONE
    }

    /// The candidates as the policy sees them now (for tests and probes).
    pub fn view(&self, now: SimTime) -> Candidates<'_> {
        Candidates {
            routable: &self.routable,
            outstanding: &self.outstanding,
            weights: &self.weights,
            ramps: &self.ramps,
            now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    /// Weights reach the policy: with `weighted_random`, a target of weight 3 gets about
    /// three times the requests of one of weight 1, and a slot that leaves the routable set
    /// gets none.
    #[test]
    fn weights_and_routability_reach_the_policy() {
        let now = SimTime::ZERO;
        let mut r = TargetGroupRouter::new(Algorithm::WeightedRandom, stream(5, "w"));
        for slot in 0..3 {
            r.set_routable(slot, true, 1, now);
        }
        r.set_weight(0, 3, now);
        r.set_routable(2, false, 1, now);
        assert_eq!(r.routable(), &[0, 1]);
        assert_eq!(r.view(now).weights[..2], [3, 1]);
        let mut picks = [0u32; 3];
        for _ in 0..40_000 {
            let s = r.dispatch(now).unwrap();
            picks[s as usize] += 1;
        }
        assert_eq!(picks[2], 0);
        // Binomial(40000, 3/4): sd ≈ 87; 5 sd.
        assert!((f64::from(picks[0]) - 30_000.0).abs() < 435.0, "{picks:?}");
        assert_eq!(r.outstanding()[..2], [picks[0], picks[1]]);
    }
}
