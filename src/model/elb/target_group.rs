//! A target group's registrations: which targets are registered, and the state of each
//! (AWS's target health states), independent of any load balancer node.
//!
//! States and reason codes follow `DescribeTargetHealth`
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html>):
//!
//! - `register` → `initial` (`Elb.RegistrationInProgress`). Until health checks are
//!   modelled, registration completes at once and the target turns `healthy`.
//! - health checks (or a caller) move a target between `healthy` and `unhealthy`.
//! - `deregister` → `draining` (`Target.DeregistrationInProgress`): no new requests; the
//!   requests in flight may finish. When none is left (the nodes count them; the world tells
//!   the group) the deregistration completes and the
//!   target is `unused` (`Target.NotRegistered`): "If the draining target has no in-flight
//!   requests and no active connections, deregistration completes at once"
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay>).
//!   The deregistration delay that bounds the wait comes with the task lifecycle.
//! - a target whose task stops is `unused` at once (`Target.InvalidState`).
//!
//! **Routable targets.** A node routes only to `healthy` targets. If none is healthy but
//! some are `unhealthy`, the group **fails open** and routes to every unhealthy one: "If a
//! target group contains only unhealthy registered targets, the load balancer routes
//! requests to all those targets, regardless of their health status"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>).
//! `initial`, `draining` and `unused` targets never get new requests; with no routable
//! target the load balancer answers 503.
//!
//! **Slow start** (`slow_start.duration_seconds`, off when zero): a target that turns
//! `healthy` (from `initial`, or from `unhealthy` again) enters slow start for the duration
//! if another target of the group is healthy, was healthy before this instant and is not in
//! slow start itself; so targets registered into a group with no such target (the initial
//! tasks, healthy together at t = 0, or the first ones of an empty group) do not, as AWS
//! says: "new targets enter slow start only if at least one healthy target is not in slow
//! start"; targets that turn healthy at the same instant count as one registration call. It
//! leaves slow start when the duration elapses, when it turns unhealthy, or when it is
//! deregistered
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#slow-start-mode>).
//! The nodes' routers ramp its share (see [`Ramp`](super::algorithms::Ramp)).
//!
//! **Deregistration propagation lag** (`deregistration_propagation_lag`, zero by default;
//! not an AWS setting): users report that the ALB "may still send a few requests to a
//! target for several seconds after deregistration starts"
//! (<https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/1064>). With a
//! lag, a target that was routable when its deregistration starts is `draining` but stays
//! routable until the lag is over (or its deregistration delay expires first); then it gets
//! no new request, and its deregistration completes once nothing is in flight. A target
//! deregistered while in slow start leaves it at once, so during the lag it gets a full
//! share.
//!
//! **Slots.** A registration has a slot: its index in the group (and in every node's
//! routing state). A slot is reused only once its target is `unused` and has no request in
//! flight, so a request's slot always names the target it was sent to. Reuse takes the
//! lowest free slot.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::Serialize;

use crate::engine::SimTime;
use crate::model::ids::{TargetGroupId, TaskId};
use crate::model::spec::Algorithm;

/// A target's health state (AWS `TargetHealth.State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Registration in progress, or initial health checks running.
    Initial,
    /// Passing health checks: gets traffic.
    Healthy,
    /// Failing health checks: gets traffic only when the group fails open.
    Unhealthy,
    /// Deregistering: no new requests, in-flight ones may finish.
    Draining,
    /// Not registered.
    Unused,
}

impl TargetState {
    /// Every state, in output column order.
    pub const ALL: [TargetState; 5] = [
        TargetState::Initial,
        TargetState::Healthy,
        TargetState::Unhealthy,
        TargetState::Draining,
        TargetState::Unused,
    ];

    /// AWS's spelling (`initial`, `healthy`...).
    pub const fn name(self) -> &'static str {
        match self {
            TargetState::Initial => "initial",
            TargetState::Healthy => "healthy",
            TargetState::Unhealthy => "unhealthy",
            TargetState::Draining => "draining",
            TargetState::Unused => "unused",
        }
    }

    /// Position in [`TargetState::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Why a target is in its state (AWS `TargetHealth.Reason`); `healthy` has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetReason {
    /// `Elb.RegistrationInProgress`.
    RegistrationInProgress,
    /// `Target.FailedHealthChecks`: a check failed to connect (or the response was
    /// malformed).
    FailedHealthChecks,
    /// `Target.Timeout`: a check got no answer within the timeout.
    Timeout,
    /// `Target.ResponseCodeMismatch`: a check's status was not one the matcher accepts.
    ResponseCodeMismatch,
    /// `Target.DeregistrationInProgress`.
    DeregistrationInProgress,
    /// `Target.NotRegistered`: deregistration completed.
    NotRegistered,
    /// `Target.InvalidState`: the target (task) is stopped.
    InvalidState,
}

impl TargetReason {
    /// AWS's reason code.
    pub const fn code(self) -> &'static str {
        match self {
            TargetReason::RegistrationInProgress => "Elb.RegistrationInProgress",
            TargetReason::FailedHealthChecks => "Target.FailedHealthChecks",
            TargetReason::Timeout => "Target.Timeout",
            TargetReason::ResponseCodeMismatch => "Target.ResponseCodeMismatch",
            TargetReason::DeregistrationInProgress => "Target.DeregistrationInProgress",
            TargetReason::NotRegistered => "Target.NotRegistered",
            TargetReason::InvalidState => "Target.InvalidState",
        }
    }
}

/// One registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The task registered (target type `ip`: the task's address and port).
    pub task: TaskId,
    /// Its state.
    pub state: TargetState,
    /// Routing weight (1; slow start and anomaly mitigation will change it).
    pub weight: u32,
    /// When it entered its state.
    pub since: SimTime,
    /// When its slow start ends (or ended) if it entered slow start when it last turned
    /// healthy; `None` if it did not, and once it leaves `healthy`. It is in slow start
    /// while this is after the current time.
    pub slow_start_end: Option<SimTime>,
    /// Draining but still routable: its deregistration has not propagated to the load
    /// balancer's nodes yet (`deregistration_propagation_lag`).
    pub propagating: bool,
}

/// A change of state, for the lifecycle log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The slot.
    pub slot: u32,
    /// The task.
    pub task: TaskId,
    /// State before (`Unused` for a new registration).
    pub from: TargetState,
    /// State after.
    pub to: TargetState,
    /// AWS reason code of the new state.
    pub reason: Option<TargetReason>,
}

/// What a change did: the state changes (for the log) and the slots that entered or left
/// the routable set (for every node's router), in slot order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// State changes, in the order they happened.
    pub states: Vec<StateChange>,
    /// `(slot, routable)`: slots whose routability flipped.
    pub routable: Vec<(u32, bool)>,
    /// `(slot, Some((start, end)))`: a slot entered slow start; `(slot, None)`: it left
    /// slow start before its end (it turned unhealthy or was deregistered).
    pub ramps: Vec<(u32, Option<(SimTime, SimTime)>)>,
}

/// An ALB target group of target type `ip` (what Fargate tasks register as).
#[derive(Clone, Debug)]
pub struct TargetGroup {
    /// This group's id.
    pub id: TargetGroupId,
    /// Name from the scenario.
    pub name: String,
    /// The routing algorithm (`load_balancing.algorithm.type`).
    pub algorithm: Algorithm,
    /// `deregistration_delay.timeout_seconds`.
    pub deregistration_delay: crate::engine::SimDuration,
    /// Its health checks.
    pub health: super::health::HealthChecks,
    /// `slow_start.duration_seconds` (zero: off).
    pub slow_start: crate::engine::SimDuration,
    /// How long a deregistering target stays routable (zero: none; not an AWS setting).
    pub propagation_lag: crate::engine::SimDuration,
    /// The port its targets are registered on (a target is the task's IP and this port).
    pub port: u16,
    targets: Vec<Target>,
    free: BinaryHeap<Reverse<u32>>,
    counts: [u32; 5],
}

impl TargetGroup {
    /// An empty target group.
    pub fn new(id: TargetGroupId, name: String, algorithm: Algorithm) -> Self {
        TargetGroup {
            id,
            name,
            algorithm,
            deregistration_delay: crate::model::spec::DEFAULT_DEREGISTRATION_DELAY,
            health: super::health::HealthChecks::new(
                0,
                "",
                crate::model::spec::HealthCheckSpec {
                    enabled: false,
                    ..Default::default()
                },
                1,
            ),
            slow_start: crate::engine::SimDuration::ZERO,
            propagation_lag: crate::engine::SimDuration::ZERO,
            port: crate::model::spec::DEFAULT_TARGET_PORT,
            targets: Vec::new(),
            free: BinaryHeap::new(),
            counts: [0; 5],
        }
    }

    /// Every slot's target (`unused` ones included, until their slot is reused).
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Registered targets (any state but `unused`).
    pub fn registered(&self) -> u32 {
        self.targets.len() as u32 - self.counts[TargetState::Unused.index()]
    }

    /// Targets in `state` (slots awaiting reuse count as `unused`).
    pub fn count(&self, state: TargetState) -> u32 {
        self.counts[state.index()]
    }

    /// True when a node may send new requests to the target in `state`: healthy, or
    /// unhealthy while no target is healthy (fail open).
    #[inline]
    pub fn routable_state(&self, state: TargetState) -> bool {
        match state {
            TargetState::Healthy => true,
            TargetState::Unhealthy => self.counts[TargetState::Healthy.index()] == 0,
            _ => false,
        }
    }

    /// True when a node may send new requests to `slot` (a draining target while its
    /// deregistration propagates included).
    #[inline]
    pub fn is_routable(&self, slot: u32) -> bool {
        let t = &self.targets[slot as usize];
        t.propagating || self.routable_state(t.state)
    }

    /// Sets `slot`'s state, recording the change and every flip of routability (a change
    /// of the healthy count between 0 and 1 flips every unhealthy target: fail open).
    fn set_state(
        &mut self,
        slot: u32,
        to: TargetState,
        reason: Option<TargetReason>,
        now: SimTime,
        out: &mut Changes,
    ) {
        let t = self.targets[slot as usize];
        if t.state == to {
            return;
        }
        let healthy_before = self.counts[TargetState::Healthy.index()];
        let was = t.propagating || self.routable_state(t.state);
        self.counts[t.state.index()] -= 1;
        self.counts[to.index()] += 1;
        let target = &mut self.targets[slot as usize];
        target.state = to;
        target.since = now;
        target.propagating &= to == TargetState::Draining;
        let propagating = target.propagating;
        if let Some(end) = target.slow_start_end.take()
            && end > now
        {
            out.ramps.push((slot, None)); // leaves healthy: slow start is over
        }
        if to == TargetState::Healthy && !self.slow_start.is_zero() && self.warm_peer(slot, now) {
            let end = now + self.slow_start;
            self.targets[slot as usize].slow_start_end = Some(end);
            out.ramps.push((slot, Some((now, end))));
        }
        out.states.push(StateChange {
            slot,
            task: t.task,
            from: t.state,
            to,
            reason,
        });
        let healthy_after = self.counts[TargetState::Healthy.index()];
        if (healthy_before == 0) != (healthy_after == 0) {
            // Fail-open flips: every unhealthy target (other than this one) changes too.
            let open = healthy_after == 0;
            for (s, other) in self.targets.iter().enumerate() {
                if s as u32 != slot && other.state == TargetState::Unhealthy {
                    out.routable.push((s as u32, open));
                }
            }
        }
        let is = propagating || self.routable_state(to);
        if was != is {
            out.routable.push((slot, is));
        }
        out.routable.sort_unstable();
    }

    /// True if a target other than `slot` is healthy since before `now` and not in slow
    /// start: a target turning healthy now then enters slow start.
    fn warm_peer(&self, slot: u32, now: SimTime) -> bool {
        self.targets.iter().enumerate().any(|(s, t)| {
            s as u32 != slot
                && t.state == TargetState::Healthy
                && t.since < now
                && t.slow_start_end.is_none_or(|end| end <= now)
        })
    }

    /// Registers `task` (state `initial`, weight 1) and returns its slot. Until health
    /// checks are modelled the registration completes at once: the target turns `healthy`.
    pub fn register(&mut self, task: TaskId, now: SimTime, out: &mut Changes) -> u32 {
        self.register_as(task, true, now, out)
    }

    /// Registers `task`: `initial`, then `healthy` at once if `healthy` (else it stays
    /// `initial` until [`TargetGroup::set_health`]). Returns its slot.
    pub fn register_as(
        &mut self,
        task: TaskId,
        healthy: bool,
        now: SimTime,
        out: &mut Changes,
    ) -> u32 {
        let fresh = Target {
            task,
            state: TargetState::Unused,
            weight: 1,
            since: now,
            slow_start_end: None,
            propagating: false,
        };
        let slot = match self.free.pop() {
            Some(Reverse(s)) => {
                self.targets[s as usize] = fresh;
                s
            }
            None => {
                self.targets.push(fresh);
                self.counts[TargetState::Unused.index()] += 1;
                (self.targets.len() - 1) as u32
            }
        };
        self.set_state(
            slot,
            TargetState::Initial,
            Some(TargetReason::RegistrationInProgress),
            now,
            out,
        );
        if healthy {
            self.set_state(slot, TargetState::Healthy, None, now, out);
        }
        slot
    }

    /// Sets `slot`'s routing weight (its service's `target_weight`); the caller tells the
    /// nodes (a registration's routability flip carries it).
    pub fn set_weight(&mut self, slot: u32, weight: u32) {
        self.targets[slot as usize].weight = weight;
    }

    /// Marks a registered target healthy or unhealthy (`Target.FailedHealthChecks`). A
    /// draining or unused target is left alone.
    pub fn set_health(&mut self, slot: u32, healthy: bool, now: SimTime, out: &mut Changes) {
        self.set_health_for(slot, healthy, TargetReason::FailedHealthChecks, now, out);
    }

    /// [`TargetGroup::set_health`] with the reason an unhealthy verdict gives.
    pub fn set_health_for(
        &mut self,
        slot: u32,
        healthy: bool,
        reason: TargetReason,
        now: SimTime,
        out: &mut Changes,
    ) {
        match self.targets[slot as usize].state {
            TargetState::Draining | TargetState::Unused => {}
            _ if healthy => self.set_state(slot, TargetState::Healthy, None, now, out),
            _ => self.set_state(slot, TargetState::Unhealthy, Some(reason), now, out),
        }
    }

    /// Starts deregistering `slot`: `draining`, and `unused` at once if `idle` (no node has
    /// a request in flight to it). With a propagation lag, a routable target stays routable
    /// (and is not deregistered at once): the caller ends the lag with
    /// [`TargetGroup::propagated`]. Returns true if it did so.
    pub fn deregister(&mut self, slot: u32, idle: bool, now: SimTime, out: &mut Changes) -> bool {
        if matches!(
            self.targets[slot as usize].state,
            TargetState::Draining | TargetState::Unused
        ) {
            return false;
        }
        if !self.propagation_lag.is_zero() && self.is_routable(slot) {
            self.targets[slot as usize].propagating = true;
            self.set_state(
                slot,
                TargetState::Draining,
                Some(TargetReason::DeregistrationInProgress),
                now,
                out,
            );
            return true;
        }
        self.set_state(
            slot,
            TargetState::Draining,
            Some(TargetReason::DeregistrationInProgress),
            now,
            out,
        );
        if idle {
            self.drained(slot, now, out);
        }
        false
    }

    /// The propagation lag of `slot`'s deregistration is over: it is no longer routable,
    /// and its deregistration completes at once if `idle`. Does nothing if it is not
    /// propagating (its deregistration completed, or the slot was reused).
    pub fn propagated(&mut self, slot: u32, idle: bool, now: SimTime, out: &mut Changes) {
        let t = &mut self.targets[slot as usize];
        if !t.propagating {
            return;
        }
        t.propagating = false;
        out.routable.push((slot, false));
        out.routable.sort_unstable();
        if idle {
            self.drained(slot, now, out);
        }
    }

    /// Removes `slot` at once because its task stopped (`unused`, `Target.InvalidState`).
    /// Its requests must have been ended already.
    pub fn remove(&mut self, slot: u32, now: SimTime, out: &mut Changes) {
        if self.targets[slot as usize].state != TargetState::Unused {
            self.set_state(
                slot,
                TargetState::Unused,
                Some(TargetReason::InvalidState),
                now,
                out,
            );
            self.free.push(Reverse(slot));
        }
    }

    /// Completes the deregistration of `slot` if it is draining: the caller has seen that no
    /// node has a request in flight to it.
    pub fn drained(&mut self, slot: u32, now: SimTime, out: &mut Changes) {
        if self.targets[slot as usize].state == TargetState::Draining {
            self.set_state(
                slot,
                TargetState::Unused,
                Some(TargetReason::NotRegistered),
                now,
                out,
            );
            self.free.push(Reverse(slot));
        }
    }

    /// The task registered at `slot`.
    #[inline]
    pub fn task_at(&self, slot: u32) -> TaskId {
        self.targets[slot as usize].task
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tg() -> TargetGroup {
        TargetGroup::new(TargetGroupId(0), "tg".into(), Algorithm::RoundRobin)
    }

    fn states(g: &TargetGroup) -> Vec<TargetState> {
        g.targets().iter().map(|t| t.state).collect()
    }

    #[test]
    fn registration_health_fail_open_and_draining() {
        use TargetState::*;
        let mut g = tg();
        let now = SimTime::ZERO;
        let mut c = Changes::default();
        let a = g.register(TaskId(0), now, &mut c);
        let b = g.register(TaskId(1), now, &mut c);
        assert_eq!((a, b), (0, 1));
        assert_eq!(c.routable, vec![(0, true), (1, true)]);
        assert_eq!(
            c.states[0].reason,
            Some(TargetReason::RegistrationInProgress)
        );
        assert_eq!((c.states[0].from, c.states[0].to), (Unused, Initial));
        assert_eq!((c.states[1].from, c.states[1].to), (Initial, Healthy));

        // One unhealthy: it leaves the routable set.
        let mut c = Changes::default();
        g.set_health(a, false, now, &mut c);
        assert_eq!(c.routable, vec![(0, false)]);
        // Both unhealthy: the group fails open, both become routable.
        let mut c = Changes::default();
        g.set_health(b, false, now, &mut c);
        assert_eq!(c.routable, vec![(0, true)]);
        assert!(g.is_routable(a) && g.is_routable(b));
        // One recovers: fail open ends, the other unhealthy one leaves.
        let mut c = Changes::default();
        g.set_health(a, true, now, &mut c);
        assert_eq!(c.routable, vec![(1, false)]);
        assert_eq!(states(&g), vec![Healthy, Unhealthy]);

        // Draining with a request in flight: not routable, unused when it ends.
        assert_eq!(g.task_at(a), TaskId(0));
        let mut c = Changes::default();
        g.deregister(a, false, now, &mut c);
        assert_eq!(states(&g), vec![Draining, Unhealthy]);
        // No healthy target left: the unhealthy one is routable again (fail open).
        assert_eq!(c.routable, vec![(0, false), (1, true)]);
        let mut c = Changes::default();
        g.drained(a, now, &mut c);
        assert_eq!(states(&g), vec![Unused, Unhealthy]);
        assert_eq!(c.states[0].reason, Some(TargetReason::NotRegistered));
        assert_eq!(g.registered(), 1);
        // The freed slot is reused by the next registration.
        let mut c = Changes::default();
        assert_eq!(g.register(TaskId(2), now, &mut c), 0);
        assert_eq!(g.task_at(0), TaskId(2));
        assert_eq!(g.targets()[0].state, Healthy);
        // A healthy target again: the unhealthy one leaves the routable set.
        assert_eq!(c.routable, vec![(0, true), (1, false)]);
    }

    /// Slow start needs a peer healthy since an earlier instant and out of slow start:
    /// targets healthy together at t = 0 do not ramp, a later one does (and leaves slow
    /// start when unhealthy), and one that turns healthy with no other healthy target does
    /// not.
    #[test]
    fn slow_start_entry_needs_a_warm_peer() {
        let mut g = tg();
        g.slow_start = crate::engine::SimDuration::from_secs(60);
        let mut c = Changes::default();
        g.register(TaskId(0), SimTime::ZERO, &mut c);
        g.register(TaskId(1), SimTime::ZERO, &mut c);
        assert!(c.ramps.is_empty());
        let t = SimTime(10);
        let mut c = Changes::default();
        let s = g.register(TaskId(2), t, &mut c);
        assert_eq!(c.ramps, vec![(s, Some((t, t + g.slow_start)))]);
        // Unhealthy: it leaves slow start.
        let mut c = Changes::default();
        g.set_health(s, false, SimTime(20), &mut c);
        assert_eq!(c.ramps, vec![(s, None)]);
        // Both warm peers unhealthy: turning healthy again, it has no warm peer.
        let mut c = Changes::default();
        g.set_health(0, false, SimTime(30), &mut c);
        g.set_health(1, false, SimTime(30), &mut c);
        g.set_health(s, true, SimTime(40), &mut c);
        assert!(c.ramps.is_empty(), "{c:?}");
    }

    /// With a propagation lag, a deregistered target stays routable until `propagated`.
    #[test]
    fn propagation_lag_keeps_a_draining_target_routable() {
        let mut g = tg();
        g.propagation_lag = crate::engine::SimDuration::from_secs(3);
        let mut c = Changes::default();
        let s = g.register(TaskId(0), SimTime::ZERO, &mut c);
        let mut c = Changes::default();
        assert!(g.deregister(s, true, SimTime(5), &mut c));
        assert_eq!(g.targets()[s as usize].state, TargetState::Draining);
        assert!(g.is_routable(s) && c.routable.is_empty());
        let mut c = Changes::default();
        g.propagated(s, true, SimTime(7), &mut c);
        assert_eq!(c.routable, vec![(s, false)]);
        assert_eq!(g.targets()[s as usize].state, TargetState::Unused);
    }

    #[test]
    fn idle_deregistration_completes_at_once() {
        let mut g = tg();
        let mut c = Changes::default();
        let s = g.register(TaskId(0), SimTime::ZERO, &mut c);
        let mut c = Changes::default();
        g.deregister(s, true, SimTime(5), &mut c);
        let to: Vec<_> = c.states.iter().map(|x| x.to).collect();
        assert_eq!(to, vec![TargetState::Draining, TargetState::Unused]);
        assert_eq!(g.registered(), 0);
        assert_eq!(g.targets()[0].since, SimTime(5));
    }
}
