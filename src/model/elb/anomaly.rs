//! Anomaly detection and mitigation: ALB's "Automatic Target Weights" (ATW) on a
//! `weighted_random` target group with `load_balancing.algorithm.anomaly_mitigation` on.
//!
//! What AWS documents
//! (<https://aws.amazon.com/blogs/networking-and-content-delivery/improving-availability-with-application-load-balancer-automatic-target-weights/>,
//! <https://aws.amazon.com/about-aws/whats-new/2023/11/application-load-balancer-availability-target-weights/>,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>):
//! detection runs on target groups with **at least three healthy targets**; it compares each
//! target's ratio of HTTP 5xx and TCP/TLS connection errors with the other targets' of the
//! group, and a target with a disproportionate ratio is "Anomalous" (else "Normal");
//! mitigation "iteratively" reduces the traffic an anomalous target gets "until the target
//! recovers or the traffic volume is decreased to a negligible level", then "gradually"
//! raises it back to its original level. AWS publishes no window, threshold, step or floor:
//! lbsim's are parameters ([`AnomalyMitigationSpec`], defaults there).
//!
//! lbsim's rule, per load balancer node (each node sees its own responses), every
//! `interval`:
//!
//! 1. Each routable target counts its responses and errors since it was last judged. An
//!    error is a `target_5xx`, or a connection the target refused, closed, let time out or
//!    raced ([`counts_as_error`]).
//! 2. With fewer than 3 routable targets nothing is judged: every target is `Normal` and a
//!    cut weight is restored step by step.
//! 3. A target with at least `min_requests` responses is judged against its peers (the
//!    other routable targets' pooled counts, each since its last judgement plus that
//!    judgement's window): it is an outlier when its error ratio `r` (since its last
//!    judgement) and the peers' `p` satisfy `r − p ≥ margin` and `r ≥ factor × p`. If more than half of the
//!    routable targets would be outliers, the failure is the group's, not a target's: none
//!    is. A judged target's counts restart.
//! 4. An outlier is `Anomalous` and its weight is multiplied by `cut`, down to `floor` of
//!    its own weight; a target judged not an outlier is `Normal` again, and every `Normal`
//!    target whose weight was cut has it multiplied by `restore` at each evaluation until
//!    whole.
//!
//! A target that leaves the routable set forgets its state (it is whole when it returns).
//! Weights are integers (fixed point, [`WHOLE`] = a target's own weight), so no float
//! reaches a routing draw; floats are used only at the evaluation.

use rand_distr::weighted::WeightedTreeIndex;

use super::algorithms::Candidates;
use crate::model::outcome::Cause;
use crate::model::spec::AnomalyMitigationSpec;

/// A whole weight factor (fixed point: 2²⁰).
pub const WHOLE: u64 = 1 << 20;

/// True for what ATW counts against a target: a 5xx from the target, or a connection error
/// (refused, closed, timed out, or the keep-alive race).
pub const fn counts_as_error(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::Target5xx
            | Cause::Elb502TargetClosed
            | Cause::Elb502ConnectionRefused
            | Cause::Elb504IdleTimeout
            | Cause::Elb504ConnectTimeout
            | Cause::Elb502KeepAliveRace
            | Cause::ConnectionFailed
    )
}

/// One target's detection state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    /// Responses since it was last judged.
    responses: u32,
    /// Errors among them.
    errors: u32,
    /// Responses and errors of the window of its last judgement (its peers' evidence
    /// while it is not judged again).
    last: (u32, u32),
    /// Judged an outlier at its last judgement.
    anomalous: bool,
    /// Its weight factor, in [`WHOLE`] units.
    factor: u64,
}

impl Default for State {
    fn default() -> Self {
        State {
            responses: 0,
            errors: 0,
            last: (0, 0),
            anomalous: false,
            factor: WHOLE,
        }
    }
}

/// A target that changed between `Normal` and `Anomalous` at an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnomalyChange {
    /// The target's slot.
    pub slot: u32,
    /// True: now `Anomalous`; false: `Normal` again.
    pub anomalous: bool,
}

/// A node's anomaly detection and mitigation for one target group: the per-target counts
/// and weight factors, and the weighted sampler over the effective weights (own weight ×
/// factor) that `weighted_random` draws from.
#[derive(Clone, Debug)]
pub struct Mitigation {
    spec: AnomalyMitigationSpec,
    /// Per slot.
    states: Vec<State>,
    /// Effective weight per slot; 0 for slots that are not routable.
    pub(super) tree: WeightedTreeIndex<u64>,
}

impl Mitigation {
    /// Mitigation with `spec`'s parameters and no target yet.
    pub fn new(spec: AnomalyMitigationSpec) -> Self {
        Mitigation {
            spec,
            states: Vec::new(),
            tree: WeightedTreeIndex::default(),
        }
    }

    fn ensure(&mut self, slot: u32) {
        let n = slot as usize + 1;
        if self.states.len() < n {
            self.states.resize(n, State::default());
        }
        while self.tree.len() < n {
            let _ = self.tree.push(0);
        }
    }

    /// Sets `slot`'s effective weight from its own `weight` and its factor.
    fn set(&mut self, slot: u32, weight: u32) {
        self.ensure(slot);
        let w = u64::from(weight) * self.states[slot as usize].factor;
        let _ = self.tree.update(slot as usize, w);
    }

    /// `slot` joined (`added`) or left the routable set; `c` is the set after the change.
    pub fn routable_changed(&mut self, slot: u32, added: bool, c: &Candidates<'_>) {
        self.ensure(slot);
        self.states[slot as usize] = State::default();
        let w = if added { c.weights[slot as usize] } else { 0 };
        self.set(slot, w);
    }

    /// `slot`'s own weight changed.
    pub fn weight_changed(&mut self, slot: u32, c: &Candidates<'_>) {
        if c.routable.binary_search(&slot).is_ok() {
            self.set(slot, c.weights[slot as usize]);
        }
    }

    /// A response from `slot` ended with `cause`.
    #[inline]
    pub fn completed(&mut self, slot: u32, cause: Cause) {
        if let Some(s) = self.states.get_mut(slot as usize) {
            s.responses = s.responses.saturating_add(1);
            s.errors = s.errors.saturating_add(u32::from(counts_as_error(cause)));
        }
    }

    /// True if `slot` is `Anomalous`.
    pub fn is_anomalous(&self, slot: u32) -> bool {
        self.states.get(slot as usize).is_some_and(|s| s.anomalous)
    }

    /// `slot`'s weight factor, as a fraction of its own weight.
    pub fn factor(&self, slot: u32) -> f64 {
        self.states
            .get(slot as usize)
            .map_or(1.0, |s| s.factor as f64 / WHOLE as f64)
    }

    /// Judges the routable targets of `c` (see the module's rule) and adjusts their
    /// weights; pushes each change of state to `out`, in slot order.
    pub fn evaluate(&mut self, c: &Candidates<'_>, out: &mut Vec<AnomalyChange>) {
        for &slot in c.routable {
            self.ensure(slot);
        }
        let sp = self.spec;
        let floor = ((sp.floor * WHOLE as f64) as u64).clamp(1, WHOLE);
        let mut verdicts: Vec<(u32, bool)> = Vec::new();
        if c.routable.len() >= 3 {
            // Each target's evidence: its counts since its last judgement plus those of
            // that judgement's window.
            let evidence = |st: &State| (st.responses + st.last.0, st.errors + st.last.1);
            let (tot_n, tot_e) = c.routable.iter().fold((0u64, 0u64), |(n, e), &s| {
                let (sn, se) = evidence(&self.states[s as usize]);
                (n + u64::from(sn), e + u64::from(se))
            });
            for &slot in c.routable {
                let st = self.states[slot as usize];
                if st.responses < sp.min_requests.max(1) {
                    continue;
                }
                let (sn, se) = evidence(&st);
                let peers_n = tot_n - u64::from(sn);
                if peers_n == 0 {
                    continue;
                }
                let r = f64::from(st.errors) / f64::from(st.responses);
                let p = (tot_e - u64::from(se)) as f64 / peers_n as f64;
                verdicts.push((slot, r - p >= sp.margin && r >= sp.factor * p));
            }
            let outliers = verdicts.iter().filter(|v| v.1).count();
            if outliers * 2 > c.routable.len() {
                for v in &mut verdicts {
                    v.1 = false;
                }
            }
        } else {
            verdicts.extend(c.routable.iter().map(|&s| (s, false)));
        }
        for &(slot, outlier) in &verdicts {
            let st = &mut self.states[slot as usize];
            st.last = (st.responses, st.errors);
            st.responses = 0;
            st.errors = 0;
            if st.anomalous != outlier {
                st.anomalous = outlier;
                out.push(AnomalyChange {
                    slot,
                    anomalous: outlier,
                });
            }
            if outlier {
                st.factor = ((st.factor as f64 * sp.cut) as u64).max(floor);
            }
        }
        for &slot in c.routable {
            let st = &mut self.states[slot as usize];
            let before = st.factor;
            if !st.anomalous && st.factor < WHOLE {
                st.factor = ((st.factor as f64 * sp.restore) as u64)
                    .max(st.factor + 1)
                    .min(WHOLE);
            }
            if st.factor != before || verdicts.iter().any(|v| v.0 == slot && v.1) {
                self.set(slot, c.weights[slot as usize]);
            }
        }
    }
}

impl crate::model::World {
    /// Schedules the first anomaly evaluation of every target group with anomaly
    /// mitigation, one `interval` after the start.
    pub(in crate::model) fn schedule_anomaly_evaluations(
        &self,
        s: &mut crate::engine::Scheduler<crate::model::Event>,
    ) {
        for (i, m) in self.anomaly_intervals().into_iter().enumerate() {
            if let Some(interval) = m {
                s.schedule_in(
                    interval,
                    crate::model::Event::AnomalyEvaluation { tg: i as u16 },
                );
            }
        }
    }

    /// Per target group, its evaluation interval when it has anomaly mitigation.
    fn anomaly_intervals(&self) -> Vec<Option<crate::engine::SimDuration>> {
        let node = &self.lb.nodes[0];
        node.routers
            .iter()
            .map(|r| match r.policy() {
                super::algorithms::Router::WeightedRandom(p) => {
                    p.mitigation().map(|m| m.spec.interval)
                }
                _ => None,
            })
            .collect()
    }

    /// Every node judges target group `tg`'s targets; each change of state is reported as
    /// a [`LifecycleEvent::TargetAnomaly`](crate::model::LifecycleEvent::TargetAnomaly).
    /// The next evaluation is scheduled one interval later.
    pub(in crate::model) fn on_anomaly_evaluation<O: crate::model::Observer>(
        &mut self,
        s: &mut crate::engine::Scheduler<crate::model::Event>,
        o: &mut O,
        tg: u16,
    ) {
        let now = s.now();
        let g = usize::from(tg);
        let mut changes = Vec::new();
        for node in &mut self.lb.nodes {
            node.routers[g].evaluate_anomalies(now, &mut changes);
        }
        for c in changes {
            let task = self.target_groups[g].task_at(c.slot);
            o.lifecycle(
                now,
                &crate::model::LifecycleEvent::TargetAnomaly {
                    task,
                    target_group: crate::model::TargetGroupId(u32::from(tg)),
                    anomalous: c.anomalous,
                },
                self,
            );
        }
        if let Some(Some(interval)) = self.anomaly_intervals().get(g).copied() {
            s.schedule_in(interval, crate::model::Event::AnomalyEvaluation { tg });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    fn view<'a>(routable: &'a [u32], weights: &'a [u32]) -> Candidates<'a> {
        Candidates {
            routable,
            outstanding: &[0; 8],
            weights,
            ramps: &[],
            now: SimTime::ZERO,
        }
    }

    fn feed(m: &mut Mitigation, slot: u32, ok: u32, errors: u32) {
        for _ in 0..ok {
            m.completed(slot, Cause::Ok);
        }
        for _ in 0..errors {
            m.completed(slot, Cause::Target5xx);
        }
    }

    /// A target erring far more than its peers is cut by halves to the floor, then restored
    /// by doubling once it recovers; the other targets keep their weight.
    #[test]
    fn an_outlier_is_cut_then_restored() {
        let routable = [0, 1, 2, 3];
        let weights = [1; 4];
        let c = view(&routable, &weights);
        let mut m = Mitigation::new(AnomalyMitigationSpec::default());
        for &s in &routable {
            m.routable_changed(s, true, &c);
        }
        let mut out = Vec::new();
        let mut factors = Vec::new();
        for _ in 0..8 {
            for s in 0..3 {
                feed(&mut m, s, 99, 1);
            }
            feed(&mut m, 3, 50, 50);
            m.evaluate(&c, &mut out);
            factors.push(m.factor(3));
        }
        assert_eq!(
            out,
            [AnomalyChange {
                slot: 3,
                anomalous: true
            }]
        );
        assert_eq!(factors[0], 0.5);
        assert_eq!(factors[1], 0.25);
        assert!((factors[7] - 0.01).abs() < 1e-3, "{factors:?}");
        assert_eq!(m.factor(0), 1.0);
        // Recovery: judged normal, then doubled each evaluation up to whole.
        out.clear();
        let mut back = 0;
        while m.factor(3) < 1.0 {
            for s in 0..4 {
                feed(&mut m, s, 100, 0);
            }
            m.evaluate(&c, &mut out);
            back += 1;
        }
        assert_eq!(
            out,
            [AnomalyChange {
                slot: 3,
                anomalous: false
            }]
        );
        assert_eq!(back, 7, "1 % doubles back to 100 % in 7 steps");
    }

    /// Fewer than 3 targets, too few responses, or a group-wide failure: no anomaly.
    #[test]
    fn no_verdict_without_evidence_or_peers() {
        let mut out = Vec::new();
        let weights = [1; 4];
        let weights5 = [1; 5];
        // Two targets.
        let two = [0, 1];
        let mut m = Mitigation::new(AnomalyMitigationSpec::default());
        for &s in &two {
            m.routable_changed(s, true, &view(&two, &weights));
        }
        feed(&mut m, 0, 100, 0);
        feed(&mut m, 1, 0, 100);
        m.evaluate(&view(&two, &weights), &mut out);
        assert!(out.is_empty());
        // Four targets, one failing but with fewer responses than min_requests.
        let four = [0, 1, 2, 3];
        let mut m = Mitigation::new(AnomalyMitigationSpec::default());
        for &s in &four {
            m.routable_changed(s, true, &view(&four, &weights));
        }
        feed(&mut m, 0, 100, 0);
        feed(&mut m, 1, 100, 0);
        feed(&mut m, 2, 100, 0);
        feed(&mut m, 3, 0, 19);
        m.evaluate(&view(&four, &weights), &mut out);
        assert!(out.is_empty());
        // ... the 20th response makes the verdict (counts carried over).
        feed(&mut m, 3, 0, 1);
        m.evaluate(&view(&four, &weights), &mut out);
        assert_eq!(out.len(), 1);
        // Three of five failing at 50 %: each stands out from its peers (50 % vs 25 %), but
        // a majority failing is the group's failure, not an outlier.
        let five = [0, 1, 2, 3, 4];
        let mut m = Mitigation::new(AnomalyMitigationSpec::default());
        out.clear();
        for &s in &five {
            m.routable_changed(s, true, &view(&five, &weights5));
        }
        feed(&mut m, 0, 100, 0);
        feed(&mut m, 1, 100, 0);
        for s in 2..5 {
            feed(&mut m, s, 50, 50);
        }
        m.evaluate(&view(&five, &weights5), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
