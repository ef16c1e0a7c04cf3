//! Routing algorithms: how a load balancer node picks a target of a target group.
//!
//! Each algorithm is a small type in its own file implementing [`RoutingPolicy`]; the
//! [`Router`] enum dispatches to them without dynamic dispatch. A policy returns a decision
//! (a target slot) and the node's [`TargetGroupRouter`](super::TargetGroupRouter) applies it.
//! Random choices use the node's stream for the target group,
//! `target_group/<name>/routing`.
//!
//! AWS's algorithms: `round_robin`, `least_outstanding_requests`, `weighted_random` (with
//! optional anomaly mitigation, `super::anomaly`). lbsim's extensions: `random`,
//! `power_of_two_choices`, `weighted_round_robin` (NGINX's smooth weighted round robin) and
//! `least_response_time` (Finagle's peak EWMA, as NGINX Plus `least_time`); each file cites
//! its source.
//!
//! A policy sees what AWS's algorithms see: the **routable** targets only (healthy ones, or
//! every unhealthy one when the group fails open; never `initial`, `draining` or `unused`
//! ones), each target's weight, this node's count of its outstanding requests, the time,
//! and feedback on each completed request (its latency at the target and whether it
//! succeeded), which slow start, anomaly mitigation and least-response-time policies need.
//! The state is one load balancer node's view, as in AWS where "the algorithm runs per LB
//! node"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).

mod least_outstanding_requests;
mod least_response_time;
mod power_of_two_choices;
mod random;
mod round_robin;
mod weighted_random;
mod weighted_round_robin;

pub use least_outstanding_requests::LeastOutstandingRequests;
pub use least_response_time::LeastResponseTime;
pub use power_of_two_choices::PowerOfTwoChoices;
pub use random::Random;
pub use round_robin::RoundRobin;
pub use weighted_random::WeightedRandom;
pub use weighted_round_robin::WeightedRoundRobin;

use crate::engine::{SimDuration, SimRng, SimTime};
use crate::model::outcome::Cause;
use crate::model::spec::{Algorithm, TargetGroupSpec};

/// What a policy may look at when it chooses.
#[derive(Clone, Copy, Debug)]
pub struct Candidates<'a> {
    /// The routable targets' slots, ascending (registration order of the slots); never
    /// empty when [`RoutingPolicy::choose`] is called.
    pub routable: &'a [u32],
    /// This node's outstanding requests per slot (every slot, routable or not).
    pub outstanding: &'a [u32],
    /// Weight per slot (every slot; 1 unless something such as slow start changes it).
    pub weights: &'a [u32],
    /// The routable targets in slow start, ascending by slot (empty unless the group has a
    /// `slow_start` and a target is ramping up). Only `round_robin` and `random` read it
    /// (the scenario rejects slow start with the other algorithms, as AWS does).
    pub ramps: &'a [Ramp],
    /// The current simulated time.
    pub now: SimTime,
}

/// The weight of a target at full share under slow start (fixed point: integer weights, so
/// no float maths reaches a decision).
pub const FULL_WEIGHT: u64 = 1 << 20;

/// The smallest weight of a target in slow start: 1 % of a full share, so that a target
/// that has just entered slow start gets a few requests (AWS: "linearly increases the number
/// of requests", from an undocumented start).
pub const RAMP_FLOOR: u64 = FULL_WEIGHT / 100;

/// A target in slow start (`slow_start.duration_seconds`): from `start` to `end` its weight
/// relative to a target at full share grows linearly,
/// `max(1 %, (now − start) / (end − start))`, then it is at full share. AWS documents a
/// linear increase to a full share over the duration but not its starting point
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#slow-start-mode>);
/// the 1 % floor is lbsim's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ramp {
    /// The target's slot.
    pub slot: u32,
    /// When it entered slow start (turned healthy).
    pub start: SimTime,
    /// When slow start ends.
    pub end: SimTime,
}

impl Ramp {
    /// Its weight at `now`, in units where a full share is [`FULL_WEIGHT`]: at least
    /// [`RAMP_FLOOR`], and `FULL_WEIGHT` from `end` on.
    #[inline]
    pub fn weight(&self, now: SimTime) -> u64 {
        if now >= self.end {
            return FULL_WEIGHT;
        }
        let span = u128::from(self.end.0 - self.start.0);
        let done = u128::from(now.0.saturating_sub(self.start.0));
        ((done * u128::from(FULL_WEIGHT) / span) as u64).max(RAMP_FLOOR)
    }
}

/// What the node learns when a request it routed ends at its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feedback {
    /// When the request ended.
    pub now: SimTime,
    /// Time from routing to the end at the target (what CloudWatch's `TargetResponseTime`
    /// measures), ns.
    pub latency: SimDuration,
    /// True for a response from the target (HTTP 200 here); false for an error such as a
    /// connection the target closed.
    pub success: bool,
    /// How the request ended (anomaly mitigation counts 5xx and connection errors).
    pub cause: Cause,
}

/// A routing algorithm's decision logic.
pub trait RoutingPolicy {
    /// Picks a target slot among `c.routable`.
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32;

    /// `outstanding[slot]` changed from `from` to `to` (by ±1), routable or not. The default
    /// ignores it.
    #[inline]
    fn outstanding_changed(&mut self, _slot: u32, _from: u32, _to: u32) {}

    /// `slot` entered (`added`) or left the routable list, at position `index` of the list;
    /// `c` is the list after the change. The default ignores it.
    #[inline]
    fn routable_changed(&mut self, _slot: u32, _index: usize, _added: bool, _c: &Candidates<'_>) {}

    /// `slot`'s weight changed (it is in `c.weights` already). The default ignores it.
    #[inline]
    fn weight_changed(&mut self, _slot: u32, _c: &Candidates<'_>) {}

    /// A request this node sent to `slot` has ended. The default ignores it.
    #[inline]
    fn completed(&mut self, _slot: u32, _feedback: &Feedback) {}
}

/// One of the algorithms, as an enum for static dispatch.
#[derive(Clone, Debug)]
pub enum Router {
    /// See [`RoundRobin`].
    RoundRobin(RoundRobin),
    /// See [`LeastOutstandingRequests`].
    LeastOutstandingRequests(LeastOutstandingRequests),
    /// See [`Random`].
    Random(Random),
    /// See [`WeightedRandom`].
    WeightedRandom(WeightedRandom),
    /// See [`PowerOfTwoChoices`].
    PowerOfTwoChoices(PowerOfTwoChoices),
    /// See [`WeightedRoundRobin`].
    WeightedRoundRobin(WeightedRoundRobin),
    /// See [`LeastResponseTime`].
    LeastResponseTime(LeastResponseTime),
}

impl Router {
    /// The router for `algorithm` with its default parameters, with no routable target
    /// yet.
    pub fn new(algorithm: Algorithm) -> Router {
        match algorithm {
            Algorithm::RoundRobin => Router::RoundRobin(RoundRobin::default()),
            Algorithm::LeastOutstandingRequests => {
                Router::LeastOutstandingRequests(LeastOutstandingRequests::default())
            }
            Algorithm::Random => Router::Random(Random),
            Algorithm::WeightedRandom => Router::WeightedRandom(WeightedRandom::default()),
            Algorithm::PowerOfTwoChoices => Router::PowerOfTwoChoices(PowerOfTwoChoices),
            Algorithm::WeightedRoundRobin => {
                Router::WeightedRoundRobin(WeightedRoundRobin::default())
            }
            Algorithm::LeastResponseTime => Router::LeastResponseTime(LeastResponseTime::default()),
        }
    }

    /// The router of target group `t`: its algorithm with the group's parameters
    /// (`response_time_decay`, `anomaly_mitigation`).
    pub fn for_group(t: &TargetGroupSpec) -> Router {
        match t.algorithm {
            Algorithm::LeastResponseTime => {
                Router::LeastResponseTime(LeastResponseTime::new(t.response_time_decay))
            }
            Algorithm::WeightedRandom => match t.anomaly_mitigation {
                Some(a) => Router::WeightedRandom(WeightedRandom::with_mitigation(a)),
                None => Router::WeightedRandom(WeightedRandom::default()),
            },
            other => Router::new(other),
        }
    }
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            Router::RoundRobin($p) => $e,
            Router::LeastOutstandingRequests($p) => $e,
            Router::Random($p) => $e,
            Router::WeightedRandom($p) => $e,
            Router::PowerOfTwoChoices($p) => $e,
            Router::WeightedRoundRobin($p) => $e,
            Router::LeastResponseTime($p) => $e,
        }
    };
}

impl Router {
    /// True if the algorithm learns from responses (`completed` does something):
    /// `least_response_time` (latency) and `weighted_random` (anomaly mitigation).
    pub fn learns(&self) -> bool {
        matches!(
            self,
            Router::LeastResponseTime(_) | Router::WeightedRandom(_)
        )
    }
}

impl RoutingPolicy for Router {
    #[inline(always)]
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        each!(self, p => p.choose(c, rng))
    }

    #[inline]
    fn outstanding_changed(&mut self, slot: u32, from: u32, to: u32) {
        if let Router::LeastOutstandingRequests(p) = self {
            p.outstanding_changed(slot, from, to);
        }
    }

    #[inline]
    fn routable_changed(&mut self, slot: u32, index: usize, added: bool, c: &Candidates<'_>) {
        each!(self, p => p.routable_changed(slot, index, added, c))
    }

    #[inline]
    fn weight_changed(&mut self, slot: u32, c: &Candidates<'_>) {
        each!(self, p => p.weight_changed(slot, c))
    }

    /// Only the algorithms that learn from responses are told (a match on two variants,
    /// so the others pay one predictable branch per response).
    #[inline(always)]
    fn completed(&mut self, slot: u32, feedback: &Feedback) {
        match self {
            Router::LeastResponseTime(p) => p.completed(slot, feedback),
            Router::WeightedRandom(p) => p.completed(slot, feedback),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    /// A node's view maintained by hand: routable list, outstanding, weights.
    struct View {
        routable: Vec<u32>,
        outstanding: Vec<u32>,
        weights: Vec<u32>,
    }

    impl View {
        fn c(&self) -> Candidates<'_> {
            Candidates {
                routable: &self.routable,
                outstanding: &self.outstanding,
                weights: &self.weights,
                ramps: &[],
                now: SimTime::ZERO,
            }
        }
        fn add(&mut self, r: &mut Router, slot: u32) {
            let i = self.routable.partition_point(|&s| s < slot);
            self.routable.insert(i, slot);
            r.routable_changed(slot, i, true, &self.c());
        }
        fn remove(&mut self, r: &mut Router, slot: u32) {
            let i = self.routable.iter().position(|&s| s == slot).unwrap();
            self.routable.remove(i);
            r.routable_changed(slot, i, false, &self.c());
        }
    }

    /// Drives every router through dispatches, completions and changes of the routable
    /// set, and checks the promise of each algorithm: only routable slots are chosen; LOR
    /// picks a minimum among them; round robin visits them in order; every routable target
    /// gets a fair share.
    #[test]
    fn each_algorithm_keeps_its_promise_while_the_routable_set_changes() {
        let n = 8u32;
        for alg in Algorithm::ALL {
            let mut r = Router::new(alg);
            let mut v = View {
                routable: vec![],
                outstanding: vec![0; n as usize],
                weights: vec![1; n as usize],
            };
            for s in 0..n {
                v.add(&mut r, s);
            }
            let mut rng = stream(3, "routing-test");
            let mut picks = vec![0u32; n as usize];
            let mut last_rr: Option<u32> = None;
            for step in 0..16_000u32 {
                // Every 1000 steps, take a target out (or put it back).
                if step % 1000 == 500 {
                    let s = (step / 1000) % n;
                    if v.routable.contains(&s) && v.routable.len() > 1 {
                        v.remove(&mut r, s);
                    } else if !v.routable.contains(&s) {
                        v.add(&mut r, s);
                    }
                    last_rr = None;
                }
                let s = r.choose(&v.c(), &mut rng);
                assert!(v.routable.contains(&s), "{alg:?} chose unroutable slot {s}");
                if alg == Algorithm::LeastOutstandingRequests {
                    let min = v.routable.iter().map(|&t| v.outstanding[t as usize]).min();
                    assert_eq!(
                        Some(v.outstanding[s as usize]),
                        min,
                        "LOR picked a busier target"
                    );
                }
                if alg == Algorithm::RoundRobin {
                    if let Some(prev) = last_rr {
                        let i = v.routable.iter().position(|&t| t == prev).unwrap();
                        let want = v.routable[(i + 1) % v.routable.len()];
                        assert_eq!(s, want, "round robin skipped a target");
                    }
                    last_rr = Some(s);
                }
                picks[s as usize] += 1;
                v.outstanding[s as usize] += 1;
                let o = v.outstanding[s as usize];
                r.outstanding_changed(s, o - 1, o);
                // Complete one request on a pseudo-random busy target every other step,
                // routable or not (a draining target's requests still end).
                if step % 2 == 1 {
                    let j = ((step / 2 * 3) % n) as usize;
                    if v.outstanding[j] > 0 {
                        v.outstanding[j] -= 1;
                        r.outstanding_changed(j as u32, v.outstanding[j] + 1, v.outstanding[j]);
                    }
                }
            }
            for &p in &picks {
                assert!(p > 16_000 / n / 8, "{alg:?}: {picks:?}");
            }
        }
    }
}
