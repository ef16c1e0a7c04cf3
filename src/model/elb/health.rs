//! ALB health checks: every load balancer node probes every registered target of a group
//! on its own schedule, and consecutive results move the target between `initial`,
//! `healthy` and `unhealthy`
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>,
//! `../shared/spec/aws-behaviour.md` §1).
//!
//! **TCP checks** (`protocol = "TCP"`, the NLB default): a check passes when the task
//! accepts the connection (its application listens), at once and at no CPU cost; an
//! unreachable task fails it (`Target.Timeout`, reported at the probe rather than a timeout
//! later); a hung application still passes (its kernel accepts the connection)
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html>).
//!
//! **Probes are requests.** A probe reaches the task like a client request: it takes a
//! worker (or waits for one), runs the service's `health_check_steps` (CPU, waits, calls: a
//! call to a dependency makes it a *deep* check) and answers 200, or 500 if a call failed.
//! It passes if it answers within the `timeout` with a status the `matcher` accepts. So an
//! overloaded task fails its checks by timeout, and a deep check fails when its dependency
//! is down. A task that does not listen (its application is starting, or it crashed) fails
//! at once (`Target.FailedHealthChecks`: the connection is refused). Probes never count as
//! client requests in the outputs.
//!
//! **Schedule.** Node `n` first probes a new registration at a uniformly drawn offset in
//! [0, interval) (stream `target_group/<name>/health/<n>`, keyed by the task), then every
//! `interval` after: "the result lasts for the entire interval", and how long the target
//! takes to answer does not shift the next check. Draining and unused targets are not
//! checked.
//!
//! **Verdicts.** Each node keeps its own count of consecutive passes and failures per
//! target. A new target turns `healthy` after `initial_passes` passes; a healthy one turns
//! `unhealthy` after `unhealthy_threshold` failures (reason `Target.Timeout`,
//! `Target.ResponseCodeMismatch` or `Target.FailedHealthChecks`, from the last failure); an
//! unhealthy one `healthy` again after `healthy_threshold` passes; a new one that fails
//! `unhealthy_threshold` times turns `unhealthy`. The model routes through one node, so a
//! target's state in the group, which routing reads, is node 0's view; the other nodes'
//! probes load the targets as AWS's do.

use crate::engine::Scheduler;
use crate::engine::{SimDuration, keyed, stream_key};
use crate::model::ids::{NodeId, TargetGroupId, TaskId};
use crate::model::observer::Observer;
use crate::model::outcome::Cause;
use crate::model::request::Request;
use crate::model::spec::HealthCheckSpec;
use crate::model::world::{Event, World};

use super::target_group::{TargetReason, TargetState};

/// The top bit of a probe's serial: probes are numbered apart from client requests, whose
/// serials count arrivals.
pub const PROBE_SERIAL: u64 = 1 << 63;

/// True if `serial` is a health check's.
#[inline(always)]
pub fn is_probe(serial: u64) -> bool {
    serial & PROBE_SERIAL != 0
}

/// A verdict so far of one node on one target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Verdict {
    #[default]
    Initial,
    Healthy,
    Unhealthy,
}

/// One node's view of one target.
#[derive(Clone, Copy, Debug, Default)]
struct View {
    verdict: Verdict,
    passes: u32,
    failures: u32,
    /// The probe in flight: (store key, serial).
    probe: Option<(u32, u64)>,
}

/// One target group's health checks: settings and every node's view of every slot.
#[derive(Clone, Debug)]
pub struct HealthChecks {
    /// The settings.
    pub spec: HealthCheckSpec,
    /// Number of nodes probing.
    nodes: u8,
    /// `[slot][node]`.
    views: Vec<Vec<View>>,
    /// Per slot: bumped at each registration, so events of an earlier one are stale.
    epochs: Vec<u32>,
    /// Stream keys of each node's schedule offsets.
    offset_keys: Vec<u64>,
}

impl HealthChecks {
    /// Health checks of group `name` with `spec`, probed by `nodes` nodes.
    pub(in crate::model) fn new(seed: u64, name: &str, spec: HealthCheckSpec, nodes: u8) -> Self {
        HealthChecks {
            offset_keys: (0..nodes)
                .map(|n| stream_key(seed, &format!("target_group/{name}/health/{n}")))
                .collect(),
            spec,
            nodes,
            views: Vec::new(),
            epochs: Vec::new(),
        }
    }

    /// Number of nodes probing.
    pub fn nodes(&self) -> u8 {
        self.nodes
    }

    /// When node `node` first probes `task` after its registration: a uniform draw in
    /// [0, interval) from the node's stream, keyed by the task (probes follow every
    /// `interval` after).
    pub fn first_probe_offset(&self, task: TaskId, node: u8) -> SimDuration {
        let mut rng = keyed(self.offset_keys[usize::from(node)], u64::from(task.0));
        SimDuration(rand::RngExt::random_range(
            &mut rng,
            0..self.spec.interval.0.max(1),
        ))
    }

    /// A new registration at `slot`: fresh views, a new epoch.
    fn registered(&mut self, slot: u32) -> u32 {
        let s = slot as usize;
        if s >= self.views.len() {
            self.views.resize(s + 1, Vec::new());
            self.epochs.resize(s + 1, 0);
        }
        self.views[s] = vec![View::default(); usize::from(self.nodes)];
        self.epochs[s] = self.epochs[s].wrapping_add(1);
        self.epochs[s]
    }

    /// True if `status` passes the matcher.
    fn matches(&self, status: u16) -> bool {
        self.spec
            .matcher
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&status))
    }

    /// Records a result of `node` on `slot`; returns the node's new verdict if it changed.
    fn record(&mut self, slot: u32, node: u8, pass: bool) -> Option<Verdict> {
        let spec = &self.spec;
        let v = &mut self.views[slot as usize][usize::from(node)];
        if pass {
            v.passes += 1;
            v.failures = 0;
        } else {
            v.failures += 1;
            v.passes = 0;
        }
        let next = match v.verdict {
            Verdict::Initial if pass && v.passes >= spec.initial_passes => Verdict::Healthy,
            Verdict::Unhealthy if pass && v.passes >= spec.healthy_threshold => Verdict::Healthy,
            Verdict::Initial | Verdict::Healthy
                if !pass && v.failures >= spec.unhealthy_threshold =>
            {
                Verdict::Unhealthy
            }
            same => same,
        };
        (next != v.verdict).then(|| {
            v.verdict = next;
            next
        })
    }
}

impl World {
    /// Starts the health checks of a target just registered in `tg` at `slot`: each node's
    /// first probe at its offset.
    pub(in crate::model) fn start_health_checks(
        &mut self,
        s: &mut Scheduler<Event>,
        tg: TargetGroupId,
        slot: u32,
    ) {
        let task = self.target_groups[tg.index()].task_at(slot);
        let hc = &mut self.target_groups[tg.index()].health;
        if !hc.spec.enabled {
            return;
        }
        let epoch = hc.registered(slot);
        for node in 0..hc.nodes {
            let offset = hc.first_probe_offset(task, node);
            s.schedule_in(
                offset,
                Event::HealthProbe {
                    tg: tg.0 as u16,
                    node,
                    slot,
                    epoch,
                },
            );
        }
    }

    /// Node `node` probes `tg`'s `slot`, if that registration (`epoch`) is still checked.
    pub(in crate::model) fn on_health_probe<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        tg: TargetGroupId,
        node: u8,
        slot: u32,
        epoch: u32,
    ) {
        let now = s.now();
        let group = &self.target_groups[tg.index()];
        let hc = &group.health;
        if hc.epochs.get(slot as usize) != Some(&epoch) {
            return;
        }
        let state = group.targets()[slot as usize].state;
        if matches!(state, TargetState::Draining | TargetState::Unused) {
            return; // no more checks for this registration
        }
        // Every probe of the group is one interval after the previous one: a FIFO lane.
        s.schedule_lane(
            2 * tg.index(),
            hc.spec.interval,
            Event::HealthProbe {
                tg: tg.0 as u16,
                node,
                slot,
                epoch,
            },
        );
        let task_id = group.task_at(slot);
        o.health_probe(now, tg, node, task_id);
        let task = &self.tasks[task_id.index()];
        if !task.accepts() && !task.unreachable {
            // Connection refused: the application does not listen (an unreachable task's
            // probe times out instead: `model::faults`).
            self.health_result(
                s,
                o,
                tg,
                slot,
                node,
                false,
                TargetReason::FailedHealthChecks,
            );
            return;
        }
        if self.target_groups[tg.index()].health.spec.tcp {
            // A TCP check: the connection is accepted (pass), or never answered.
            let reachable = !self.tasks[task_id.index()].unreachable;
            self.probes += 1;
            self.health_result(s, o, tg, slot, node, reachable, TargetReason::Timeout);
            return;
        }
        self.probes += 1;
        self.probes_in_flight += 1;
        self.tasks[task_id.index()].probes_held += 1;
        let serial = PROBE_SERIAL | self.probes;
        let mut req = Request::new(
            serial,
            crate::model::ids::ClientId(0),
            serial,
            now,
            SimDuration::ZERO,
            tg,
        );
        req.node = NodeId(node);
        req.task = Some(task_id);
        req.slot = slot;
        let timeout = self.target_groups[tg.index()].health.spec.timeout;
        let key = self.requests.insert(req);
        self.target_groups[tg.index()].health.views[slot as usize][usize::from(node)].probe =
            Some((key, serial));
        s.schedule_lane(
            2 * tg.index() + 1,
            timeout,
            Event::ProbeTimeout { key, serial },
        );
        self.serve(s, o, key);
        self.settle(s, o, task_id);
    }

    /// A probe's timeout: if it has not answered, it fails (`Target.Timeout`); the task
    /// still serves it, and its late answer is ignored.
    pub(in crate::model) fn on_probe_timeout<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
    ) {
        let Some(req) = self.requests.live(key, serial) else {
            return;
        };
        let (tg, slot, node) = (req.target_group, req.slot, req.node.0);
        let view =
            &mut self.target_groups[tg.index()].health.views[slot as usize][usize::from(node)];
        if view.probe != Some((key, serial)) {
            return;
        }
        view.probe = None;
        self.health_result(s, o, tg, slot, node, false, TargetReason::Timeout);
    }

    /// Health check `serial` of `node` on `tg`'s `slot` ended with `cause` (the task
    /// answered, or stopped): it passes if its status matches.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::model) fn probe_ended<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        tg: TargetGroupId,
        slot: u32,
        node: u8,
        serial: u64,
        cause: Cause,
    ) {
        let hc = &mut self.target_groups[tg.index()].health;
        let Some(view) = hc
            .views
            .get_mut(slot as usize)
            .and_then(|v| v.get_mut(usize::from(node)))
        else {
            return;
        };
        if view.probe.map(|p| p.1) != Some(serial) {
            return; // timed out already, or an earlier registration's
        }
        view.probe = None;
        let pass = hc.matches(cause.status());
        let reason = if cause == Cause::Elb502TargetClosed {
            TargetReason::FailedHealthChecks
        } else if cause.status() == 504 {
            // Never answered (a hung task, an unreachable zone): `model::faults`.
            TargetReason::Timeout
        } else {
            TargetReason::ResponseCodeMismatch
        };
        self.health_result(s, o, tg, slot, node, pass, reason);
    }

    /// Applies one result; node 0's verdicts set the target's state in its group.
    #[allow(clippy::too_many_arguments)]
    fn health_result<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        tg: TargetGroupId,
        slot: u32,
        node: u8,
        pass: bool,
        reason: TargetReason,
    ) {
        let now = s.now();
        let Some(verdict) = self.target_groups[tg.index()]
            .health
            .record(slot, node, pass)
        else {
            return;
        };
        if node != 0 {
            return;
        }
        let mut changes = super::Changes::default();
        let healthy = verdict == Verdict::Healthy;
        self.target_groups[tg.index()].set_health_for(slot, healthy, reason, now, &mut changes);
        let task = self.target_groups[tg.index()].task_at(slot);
        self.apply_target_changes(now, o, tg, changes);
        if !healthy {
            self.target_unhealthy(s, o, task);
        } else {
            self.target_healthy(s, o, task);
        }
    }

    /// Health checks sent so far (probes), all groups and nodes.
    pub fn probes_sent(&self) -> u64 {
        self.probes
    }
}
