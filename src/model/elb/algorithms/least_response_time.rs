//! `least_response_time`: the routable target with the lowest peak-EWMA cost (not an AWS
//! setting).
//!
//! Each target keeps a moving average of the latency this node observed from it ([`Feedback`]:
//! routing to the end at the target), "peak" sensitive as in Finagle's `PeakEwma`: a
//! response slower than the average replaces it at once; a faster one is mixed in with
//! weight `1 − e^(−Δt/τ)`, Δt being the time since the average was last updated; and the
//! average decays towards 0 as `e^(−Δt/τ)` whenever it is read, so a target that was slow
//! a while ago is tried again. The cost of sending one more request to a target is
//! `average × (outstanding + 1)`; a target with no observation yet costs 0 when idle and a
//! prohibitive penalty when it has a request in flight (so a new target gets one probe,
//! not a flood). The cheapest routable target is chosen; ties (new, idle targets) are
//! broken uniformly at random with the node's routing stream.
//!
//! Sources: Finagle's `PeakEwma` load metric
//! (`finagle-core/src/main/scala/com/twitter/finagle/loadbalancer/PeakEwma.scala`, and
//! <https://twitter.github.io/finagle/guide/Clients.html#load-balancing>), whose default
//! decay time τ is 10 s (lbsim's `response_time_decay`); NGINX Plus's `least_time`
//! (<https://nginx.org/en/docs/http/ngx_http_upstream_module.html#least_time>), which also
//! picks the server with the least average response time and fewest active connections.
//! Finagle pairs the metric with power of two choices; lbsim, like NGINX, compares every
//! routable target (O(n) per request, one `exp` per target), so the choice is the least
//! cost, not the lesser of two.
//!
//! The decay uses `libm::exp`, as the distributions do, so no platform maths reaches a
//! decision.

use super::{Candidates, Feedback, RoutingPolicy};
use crate::engine::{SimDuration, SimRng, SimTime, below};

/// Cost of a target with no latency observed yet and a request in flight: Finagle's
/// `Long.MaxValue >> 16` (in nanoseconds), plus its outstanding count.
const PENALTY: f64 = (i64::MAX >> 16) as f64;

/// One target's peak EWMA.
#[derive(Clone, Copy, Debug, Default)]
struct Metric {
    /// The average latency, ns (0 before any observation).
    cost: f64,
    /// When `cost` was last updated.
    stamp: SimTime,
}

/// Least peak-EWMA cost over the routable targets.
#[derive(Clone, Debug)]
pub struct LeastResponseTime {
    /// The decay time τ, ns.
    tau: f64,
    /// Per slot.
    metrics: Vec<Metric>,
}

impl Default for LeastResponseTime {
    /// τ = 10 s (Finagle's default).
    fn default() -> Self {
        LeastResponseTime::new(crate::model::spec::DEFAULT_RESPONSE_TIME_DECAY)
    }
}

impl LeastResponseTime {
    /// A policy with decay time `tau` (at least 1 ns).
    pub fn new(tau: SimDuration) -> Self {
        LeastResponseTime {
            tau: tau.0.max(1) as f64,
            metrics: Vec::new(),
        }
    }

    fn metric(&mut self, slot: u32) -> &mut Metric {
        let s = slot as usize;
        if self.metrics.len() <= s {
            self.metrics.resize(s + 1, Metric::default());
        }
        &mut self.metrics[s]
    }

    /// Finagle's `observe`: mixes `rtt` (ns) into `slot`'s average at `now`.
    fn observe(&mut self, slot: u32, now: SimTime, rtt: f64) {
        let tau = self.tau;
        let m = self.metric(slot);
        let dt = now.0.saturating_sub(m.stamp.0) as f64;
        let w = libm::exp(-dt / tau);
        m.cost = if rtt > m.cost {
            rtt
        } else {
            m.cost * w + rtt * (1.0 - w)
        };
        m.stamp = now.max(m.stamp);
    }

    /// The cost of one more request to `slot` at `now` (decaying its average first, as
    /// Finagle's `get` does).
    fn load(&mut self, slot: u32, pending: u32, now: SimTime) -> f64 {
        self.observe(slot, now, 0.0);
        let cost = self.metrics[slot as usize].cost;
        if cost == 0.0 && pending != 0 {
            PENALTY + f64::from(pending)
        } else {
            cost * f64::from(pending + 1)
        }
    }

    /// The average latency of `slot` as last updated, ns (for tests and probes).
    pub fn average_ns(&self, slot: u32) -> f64 {
        self.metrics.get(slot as usize).map_or(0.0, |m| m.cost)
    }
}

impl RoutingPolicy for LeastResponseTime {
    fn choose(&mut self, c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        let mut best = f64::INFINITY;
        let mut ties = 0u32;
        let mut pick = c.routable[0];
        for &slot in c.routable {
            let load = self.load(slot, c.outstanding[slot as usize], c.now);
            if load < best {
                best = load;
                ties = 1;
                pick = slot;
            } else if load == best {
                ties += 1;
            }
        }
        if ties > 1 {
            // The k-th of the tied targets, in slot order.
            let k = below(rng, ties);
            let mut seen = 0;
            for &slot in c.routable {
                if self.load_now(slot, c.outstanding[slot as usize]) == best {
                    if seen == k {
                        return slot;
                    }
                    seen += 1;
                }
            }
        }
        pick
    }

    fn routable_changed(&mut self, slot: u32, _index: usize, added: bool, c: &Candidates<'_>) {
        if added {
            // A target that joins starts afresh (AWS: a new registration; Finagle: a new
            // node).
            *self.metric(slot) = Metric {
                cost: 0.0,
                stamp: c.now,
            };
        }
    }

    fn completed(&mut self, slot: u32, feedback: &Feedback) {
        self.observe(slot, feedback.now, feedback.latency.0 as f64);
    }
}

impl LeastResponseTime {
    /// The cost of `slot` as already decayed to the current time by [`Self::load`].
    fn load_now(&self, slot: u32, pending: u32) -> f64 {
        let cost = self.metrics[slot as usize].cost;
        if cost == 0.0 && pending != 0 {
            PENALTY + f64::from(pending)
        } else {
            cost * f64::from(pending + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    /// A response slower than the average replaces it; a faster one moves it by
    /// `1 − e^(−Δt/τ)`; reading decays it by `e^(−Δt/τ)`.
    #[test]
    fn peak_ewma_follows_finagle() {
        let mut p = LeastResponseTime::new(SimDuration::from_secs(10));
        let t = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        p.observe(0, t(0), 100e6);
        assert_eq!(p.average_ns(0), 100e6);
        p.observe(0, t(10), 0.0); // decay over τ: × 1/e
        assert!((p.average_ns(0) - 100e6 / std::f64::consts::E).abs() < 1.0);
        p.observe(0, t(10), 500e6); // a peak
        assert_eq!(p.average_ns(0), 500e6);
        p.observe(0, t(20), 100e6); // faster: weight 1 − 1/e
        let w = (-1.0f64).exp();
        assert!((p.average_ns(0) - (500e6 * w + 100e6 * (1.0 - w))).abs() < 1.0);
    }

    /// Cost is average × (outstanding + 1); an unmeasured busy target is avoided; ties are
    /// broken at random.
    #[test]
    fn chooses_the_least_cost() {
        let mut p = LeastResponseTime::default();
        let now = SimTime::ZERO;
        p.observe(0, now, 10e6);
        p.observe(1, now, 30e6);
        let routable = [0, 1, 2];
        let mut rng = stream(2, "lrt");
        // Slot 2 is new but busy: penalised. 10 ms × 3 = 30 ms < 30 ms × 2 = 60 ms.
        let c = Candidates {
            routable: &routable,
            outstanding: &[2, 1, 1],
            weights: &[1, 1, 1],
            ramps: &[],
            now,
        };
        assert_eq!(p.choose(&c, &mut rng), 0);
        // 10 ms × 4 = 40 ms > 30 ms × 1.
        let c = Candidates {
            outstanding: &[3, 0, 1],
            ..c
        };
        assert_eq!(p.choose(&c, &mut rng), 1);
        // Three new idle targets tie: each is picked.
        let mut q = LeastResponseTime::default();
        let c = Candidates {
            outstanding: &[0, 0, 0],
            ..c
        };
        let mut seen = [0; 3];
        for _ in 0..300 {
            seen[q.choose(&c, &mut rng) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 60), "{seen:?}");
    }
}
