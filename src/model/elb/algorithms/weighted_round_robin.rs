//! `weighted_round_robin`: NGINX's smooth weighted round robin (not an AWS setting).
//!
//! Each routable target has a weight ([`Candidates::weights`]: a service's `target_weight`,
//! 1 by default) and a running score, `current`. For every request each routable target's
//! score grows by its weight; the target with the highest score is chosen (the first in
//! slot order on a tie) and its score is lowered by the sum of the weights. Over any
//! `Σ weights` consecutive requests with an unchanged routable set, each target gets
//! exactly its weight of them, interleaved rather than in bursts: weights 5, 1, 1 give
//! `a a b a c a a`, not `a a a a a b c`.
//!
//! Source: NGINX's `ngx_http_upstream_get_peer` in `src/http/ngx_http_upstream_round_robin.c`
//! (the change that introduced it, nginx 1.3.1, 2012, "smooth weighted round-robin
//! balancing"), and the `weight=` parameter of the `server` directive
//! (<https://nginx.org/en/docs/http/ngx_http_upstream_module.html#server>). NGINX also
//! lowers a peer's *effective* weight after failures and raises it back by one per pick;
//! lbsim leaves failures to health checks and uses the configured weight throughout.
//!
//! Draws no random numbers. O(n) per request over the n routable targets (like NGINX).
//! A target that joins the routable list starts with a score of 0.

use super::{Candidates, RoutingPolicy};
use crate::engine::SimRng;

/// Smooth weighted round robin over the routable targets.
#[derive(Clone, Debug, Default)]
pub struct WeightedRoundRobin {
    /// Score per slot (NGINX's `current_weight`); 0 for a slot that has just joined.
    current: Vec<i64>,
}

impl RoutingPolicy for WeightedRoundRobin {
    fn choose(&mut self, c: &Candidates<'_>, _rng: &mut SimRng) -> u32 {
        if let Some(&last) = c.routable.last()
            && self.current.len() <= last as usize
        {
            self.current.resize(last as usize + 1, 0);
        }
        let mut total = 0i64;
        let mut best = c.routable[0];
        let mut best_score = i64::MIN;
        for &slot in c.routable {
            let w = i64::from(c.weights[slot as usize]);
            let cur = &mut self.current[slot as usize];
            *cur += w;
            total += w;
            if *cur > best_score {
                best_score = *cur;
                best = slot;
            }
        }
        self.current[best as usize] -= total;
        best
    }

    fn routable_changed(&mut self, slot: u32, _index: usize, _added: bool, _c: &Candidates<'_>) {
        if let Some(cur) = self.current.get_mut(slot as usize) {
            *cur = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{SimTime, stream};

    fn picks(weights: &[u32], n: usize) -> Vec<u32> {
        let routable: Vec<u32> = (0..weights.len() as u32).collect();
        let outstanding = vec![0; weights.len()];
        let c = Candidates {
            routable: &routable,
            outstanding: &outstanding,
            weights,
            ramps: &[],
            now: SimTime::ZERO,
        };
        let mut p = WeightedRoundRobin::default();
        let mut rng = stream(1, "wrr");
        (0..n).map(|_| p.choose(&c, &mut rng)).collect()
    }

    /// NGINX's own example in the commit message: weights 5, 1, 1 give `a a b a c a a`.
    #[test]
    fn nginx_sequence() {
        assert_eq!(picks(&[5, 1, 1], 7), [0, 0, 1, 0, 2, 0, 0]);
    }

    /// Each window of Σ weights picks has exactly each target's weight of them.
    #[test]
    fn shares_are_exactly_the_weights() {
        let w = [3, 1, 2, 7];
        let total: u32 = w.iter().sum();
        let p = picks(&w, total as usize * 50);
        for window in p.chunks(total as usize) {
            for (slot, &weight) in w.iter().enumerate() {
                let got = window.iter().filter(|&&s| s == slot as u32).count() as u32;
                assert_eq!(got, weight, "slot {slot} in {window:?}");
            }
        }
    }
}
