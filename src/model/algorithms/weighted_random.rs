//! `weighted_random`: AWS's weighted random algorithm (added November 2023).
//!
//! Each target is picked with probability weight / Σ weights. In AWS the weights are set by
//! "Automatic Target Weights" when `load_balancing.algorithm.anomaly_mitigation` is on; with
//! it off (the default, and all this model has so far) every target weighs the same, so
//! `weighted_random` routes like `random` in distribution (each target with probability 1/N),
//! though its individual draws come from `rand`'s sampler and differ from `random`'s.
//! Sources: <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>,
//! <https://aws.amazon.com/about-aws/whats-new/2023/11/application-load-balancer-availability-target-weights/>.
//! Sampling uses `rand_distr`'s `WeightedTreeIndex`: O(log n) to draw or to change a
//! weight, ready for anomaly mitigation.

use rand_distr::Distribution;
use rand_distr::weighted::WeightedTreeIndex;

use super::RoutingPolicy;
use crate::engine::SimRng;

/// The weight every target starts with.
pub const DEFAULT_WEIGHT: u32 = 1;

/// Weighted random choice over the registered targets.
#[derive(Clone, Debug)]
pub struct WeightedRandom {
    tree: WeightedTreeIndex<u32>,
}

impl WeightedRandom {
    /// `targets` targets, all of weight 1 (`DEFAULT_WEIGHT`).
    pub fn new(targets: usize) -> Self {
        let tree = WeightedTreeIndex::new(std::iter::repeat_n(DEFAULT_WEIGHT, targets))
            .expect("positive weights are valid");
        WeightedRandom { tree }
    }
}

impl RoutingPolicy for WeightedRandom {
    #[inline]
    fn choose(&mut self, outstanding: &[u32], rng: &mut SimRng) -> usize {
        // Keep the tree in step with the registered targets (fixed fleet: only at start).
        while self.tree.len() < outstanding.len() {
            let _ = self.tree.push(DEFAULT_WEIGHT);
        }
        self.tree.sample(rng).min(outstanding.len() - 1)
    }
}
