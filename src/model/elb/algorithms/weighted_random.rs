//! `weighted_random`: AWS's weighted random algorithm (added November 2023).
//!
//! Each routable target is picked with probability weight / Σ weights. In AWS the weights
//! are set by "Automatic Target Weights" when `load_balancing.algorithm.anomaly_mitigation`
//! is on (see [`crate::model::elb::anomaly`]: an anomalous target's weight is cut, then
//! restored). With it off (the AWS default) every target weighs its service's
//! `target_weight` (1 unless set), so with equal weights `weighted_random` routes like
//! `random` in distribution (each target with probability 1/N), though its individual draws
//! come from `rand_distr`'s sampler and differ from `random`'s.
//! Sources: <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>,
//! <https://aws.amazon.com/about-aws/whats-new/2023/11/application-load-balancer-availability-target-weights/>.
//! Sampling uses `rand_distr`'s `WeightedTreeIndex` over every slot (weight 0 when the
//! target is not routable): O(log n) to draw or to change a weight. Integer weights only, so
//! no float maths reaches a decision.

use rand_distr::weighted::WeightedTreeIndex;

use super::{Candidates, Feedback, RoutingPolicy};
use crate::engine::{SimRng, below};
use crate::model::elb::anomaly::{AnomalyChange, Mitigation};
use crate::model::spec::AnomalyMitigationSpec;

/// Weighted random choice over the routable targets.
#[derive(Clone, Debug, Default)]
pub struct WeightedRandom {
    /// Weight per slot; 0 for slots that are not routable (unused with mitigation on).
    tree: WeightedTreeIndex<u32>,
    /// Anomaly mitigation, when on: it keeps its own sampler over the effective weights.
    mitigation: Option<Box<Mitigation>>,
}

impl WeightedRandom {
    /// `weighted_random` with anomaly mitigation on, with `spec`'s parameters.
    pub fn with_mitigation(spec: AnomalyMitigationSpec) -> Self {
        WeightedRandom {
            tree: WeightedTreeIndex::default(),
            mitigation: Some(Box::new(Mitigation::new(spec))),
        }
    }

    /// Its anomaly mitigation, if on.
    pub fn mitigation(&self) -> Option<&Mitigation> {
        self.mitigation.as_deref()
    }

    /// Runs an anomaly evaluation over `c` (nothing when mitigation is off); pushes the
    /// changes of state to `out`.
    pub fn evaluate(&mut self, c: &Candidates<'_>, out: &mut Vec<AnomalyChange>) {
        if let Some(m) = &mut self.mitigation {
            m.evaluate(c, out);
        }
    }

    fn set(&mut self, slot: u32, weight: u32) {
        let slot = slot as usize;
        while self.tree.len() <= slot {
            let _ = self.tree.push(0);
        }
        let _ = self.tree.update(slot, weight);
    }
}

impl RoutingPolicy for WeightedRandom {
    #[inline]
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        if let Some(m) = &self.mitigation {
            return match m.tree.try_sample(rng) {
                Ok(slot) => slot as u32,
                Err(_) => c.routable[below(rng, c.routable.len() as u32) as usize],
            };
        }
        match self.tree.try_sample(rng) {
            Ok(slot) => slot as u32,
            // Every routable weight is 0: uniform among them.
            Err(_) => c.routable[below(rng, c.routable.len() as u32) as usize],
        }
    }

    fn routable_changed(&mut self, slot: u32, _index: usize, added: bool, c: &Candidates<'_>) {
        if let Some(m) = &mut self.mitigation {
            return m.routable_changed(slot, added, c);
        }
        self.set(slot, if added { c.weights[slot as usize] } else { 0 });
    }

    #[inline]
    fn completed(&mut self, slot: u32, feedback: &Feedback) {
        if let Some(m) = &mut self.mitigation {
            m.completed(slot, feedback.cause);
        }
    }

    fn weight_changed(&mut self, slot: u32, c: &Candidates<'_>) {
        if let Some(m) = &mut self.mitigation {
            return m.weight_changed(slot, c);
        }
        if c.routable.binary_search(&slot).is_ok() {
            self.set(slot, c.weights[slot as usize]);
        }
    }
}
