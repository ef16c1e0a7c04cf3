//! Routing algorithms: how a load balancer node picks a target of a target group.
//!
//! Each algorithm is a small type in its own file implementing [`RoutingPolicy`]; the
//! [`Router`] enum dispatches to them without dynamic dispatch. A policy returns a decision
//! (a target slot) and the [`TargetGroup`](super::TargetGroup) applies it. Random choices use
//! the target group's own stream, `target_group/<name>/routing`.
//!
//! The state here is one load balancer node's view (its round-robin position, its count of
//! outstanding requests per target), as in AWS where "the algorithm runs per LB node"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).
//! The model has one node for now.

mod least_outstanding_requests;
mod power_of_two_choices;
mod random;
mod round_robin;
mod weighted_random;

pub use least_outstanding_requests::LeastOutstandingRequests;
pub use power_of_two_choices::PowerOfTwoChoices;
pub use random::Random;
pub use round_robin::RoundRobin;
pub use weighted_random::WeightedRandom;

use super::spec::Algorithm;
use crate::engine::SimRng;

/// A routing algorithm's decision logic.
pub trait RoutingPolicy {
    /// Picks a target slot in `0..outstanding.len()`; `outstanding[i]` is the number of
    /// requests the node has sent to target `i` that have not completed. Called only with
    /// at least one target.
    fn choose(&mut self, outstanding: &[u32], rng: &mut SimRng) -> usize;

    /// Told that `outstanding[slot]` changed from `from` to `to` (by ±1), so that index
    /// structures stay in step. The default ignores it.
    #[inline]
    fn outstanding_changed(&mut self, _slot: usize, _from: u32, _to: u32) {}
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
}

impl Router {
    /// The router for `algorithm` over `targets` registered targets, all with 0 outstanding.
    pub fn new(algorithm: Algorithm, targets: usize) -> Router {
        match algorithm {
            Algorithm::RoundRobin => Router::RoundRobin(RoundRobin::new()),
            Algorithm::LeastOutstandingRequests => {
                Router::LeastOutstandingRequests(LeastOutstandingRequests::new(targets))
            }
            Algorithm::Random => Router::Random(Random),
            Algorithm::WeightedRandom => Router::WeightedRandom(WeightedRandom::new(targets)),
            Algorithm::PowerOfTwoChoices => Router::PowerOfTwoChoices(PowerOfTwoChoices),
        }
    }
}

impl RoutingPolicy for Router {
    #[inline]
    fn choose(&mut self, outstanding: &[u32], rng: &mut SimRng) -> usize {
        match self {
            Router::RoundRobin(p) => p.choose(outstanding, rng),
            Router::LeastOutstandingRequests(p) => p.choose(outstanding, rng),
            Router::Random(p) => p.choose(outstanding, rng),
            Router::WeightedRandom(p) => p.choose(outstanding, rng),
            Router::PowerOfTwoChoices(p) => p.choose(outstanding, rng),
        }
    }

    #[inline]
    fn outstanding_changed(&mut self, slot: usize, from: u32, to: u32) {
        if let Router::LeastOutstandingRequests(p) = self {
            p.outstanding_changed(slot, from, to);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    /// Drives a router with a fixed pattern of dispatches and completions and checks the
    /// property each algorithm promises.
    #[test]
    fn each_algorithm_keeps_its_promise() {
        let n = 8;
        for alg in Algorithm::ALL {
            let mut r = Router::new(alg, n);
            let mut out = vec![0u32; n];
            let mut rng = stream(3, "routing-test");
            let mut picks = vec![0u32; n];
            for step in 0..8000 {
                let s = r.choose(&out, &mut rng);
                assert!(s < n);
                let min = *out.iter().min().unwrap();
                if alg == Algorithm::LeastOutstandingRequests {
                    assert_eq!(out[s], min, "LOR picked a busier target");
                }
                if alg == Algorithm::RoundRobin {
                    assert_eq!(s, step % n, "round robin skipped a target");
                }
                picks[s] += 1;
                out[s] += 1;
                r.outstanding_changed(s, out[s] - 1, out[s]);
                // Complete one request on a pseudo-random busy target every other step.
                if step % 2 == 1 {
                    let j = (step / 2 * 3) % n;
                    if out[j] > 0 {
                        out[j] -= 1;
                        r.outstanding_changed(j, out[j] + 1, out[j]);
                    }
                }
            }
            // Every target gets a fair share, whatever the algorithm.
            for &p in &picks {
                assert!(p > 8000 / n as u32 / 4, "{alg:?}: {picks:?}");
            }
        }
    }
}
