//! The Elastic Load Balancing side: the load balancer and its nodes, listeners, target
//! groups (registrations and target states), routing, and the handlers that receive,
//! route and account for requests.
//!
//! A request reaches the load balancer, waits its processing time (the access log's
//! `request_processing_time`), and is routed by its node: the listener's action names the
//! target group, the node's router for that group picks a routable target. With no routable
//! target the load balancer answers 503 itself.

pub mod algorithms;
pub mod connections;
pub mod health;
mod routing;
mod target_group;

pub use routing::TargetGroupRouter;
pub use target_group::{Changes, StateChange, Target, TargetGroup, TargetReason, TargetState};

use super::ModelError;
use super::dist::Sampler;
use super::ids::{NodeId, TargetGroupId, TaskId};
use super::observer::{LifecycleEvent, Observer};
use super::outcome::Cause;
use super::request::{Request, draw};
use super::spec::{ActionSpec, WorldSpec};
use super::world::{Event, World};
use crate::engine::{self, Scheduler, SimTime};
use algorithms::Feedback;

/// A load balancer node: its routing state for every target group. AWS runs one node per
/// enabled Availability Zone, each with its own state; the model has one node for now.
#[derive(Clone, Debug)]
pub struct LbNode {
    /// This node's id.
    pub id: NodeId,
    routers: Vec<TargetGroupRouter>,
}

impl LbNode {
    /// This node's router for target group `tg`.
    pub fn router(&self, tg: TargetGroupId) -> &TargetGroupRouter {
        &self.routers[tg.index()]
    }
}

/// The load balancer: its processing delay, its listeners' actions and its nodes.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    /// Name from the scenario.
    pub name: String,
    processing: Sampler,
    /// Key `load_balancer/<name>/processing` of the processing time's keyed draws.
    processing_key: u64,
    /// Target group of each listener's default forward action.
    listener_targets: Vec<TargetGroupId>,
    nodes: Vec<LbNode>,
    /// Per target group, this minute's response statistics, for the groups a CloudWatch
    /// series needs them for (empty when none does).
    responses: Vec<Option<crate::model::cloudwatch::ResponseStats>>,
    /// Connections to targets, when a service sets a keep-alive timeout (see
    /// [`connections`]).
    pub(in crate::model) connections: Option<Box<connections::TargetConnections>>,
}

impl LoadBalancer {
    /// The nodes' bookkeeping when a request routed to a target ends: the node's count and
    /// the feedback to its policy. Returns true if the request was the last one in flight to
    /// a draining target of `groups` (the caller then completes the deregistration).
    #[inline(always)]
    pub(in crate::model) fn request_ended(
        &mut self,
        groups: &[TargetGroup],
        now: SimTime,
        req: &Request,
        cause: Cause,
    ) -> bool {
        let feedback = Feedback {
            now,
            latency: now - req.dispatched,
            success: cause.is_success(),
        };
        let tg = req.target_group.index();
        if let Some(c) = &mut self.connections
            && let Some(task) = req.task
        {
            c.release(req.node, task, cause, now);
        }
        if !self.responses.is_empty() {
            self.record_response(tg, feedback.latency, cause);
        }
        let routable = self.nodes[req.node.index()].routers[tg].ended(req.slot, &feedback);
        !routable
            && groups[tg].targets()[req.slot as usize].state == TargetState::Draining
            && self
                .nodes
                .iter()
                .all(|n| n.routers[tg].outstanding()[req.slot as usize] == 0)
    }

    /// Records a response of target group `tg` in its minute's statistics, if it keeps them.
    #[cold]
    #[inline(never)]
    fn record_response(&mut self, tg: usize, latency: crate::engine::SimDuration, cause: Cause) {
        if let Some(r) = &mut self.responses[tg] {
            r.record(latency.as_nanos(), cause == Cause::Target5xx);
        }
    }

    /// Keeps the response statistics of the target groups that a series of `cw` needs
    /// (`TargetResponseTime`, `HTTPCode_Target_5XX_Count`), among `groups` target groups.
    pub(in crate::model) fn keep_responses(
        &mut self,
        cw: &crate::model::cloudwatch::CloudWatch,
        groups: usize,
    ) {
        use crate::model::cloudwatch::{MetricName, ResponseStats};
        let needs: Vec<usize> = cw
            .series
            .iter()
            .filter(|s| {
                matches!(
                    s.spec.metric,
                    MetricName::TargetResponseTime | MetricName::HttpCodeTarget5xxCount
                )
            })
            .map(|s| s.target_group.index())
            .collect();
        if !needs.is_empty() {
            self.responses = (0..groups)
                .map(|g| needs.contains(&g).then(ResponseStats::new))
                .collect();
        }
    }

    /// Target group `tg`'s response statistics this minute, if kept.
    pub(in crate::model) fn responses(
        &self,
        tg: TargetGroupId,
    ) -> Option<&crate::model::cloudwatch::ResponseStats> {
        self.responses.get(tg.index()).and_then(Option::as_ref)
    }

    /// Starts a new minute of response statistics.
    pub(in crate::model) fn reset_responses(&mut self) {
        for r in self.responses.iter_mut().flatten() {
            *r = crate::model::cloudwatch::ResponseStats::new();
        }
    }

    /// Requests routed to a target of `tg` so far, by every node (CloudWatch's
    /// `RequestCount`).
    pub fn routed(&self, tg: TargetGroupId) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.routers[tg.index()].dispatched())
            .sum()
    }

    /// The load balancer of `spec`, with one node.
    pub(in crate::model) fn build(spec: &WorldSpec) -> Result<LoadBalancer, ModelError> {
        let seed = spec.seed;
        let ntg = spec.target_groups.len();
        let mut listener_targets = Vec::new();
        for (i, l) in spec.load_balancer.listeners.iter().enumerate() {
            let ActionSpec::Forward { target_group } = l.default_action;
            if target_group >= ntg {
                return Err(ModelError::UnknownReference(format!(
                    "listener {i} forwards to target group #{target_group}, which does not exist"
                )));
            }
            listener_targets.push(TargetGroupId(target_group as u32));
        }
        if listener_targets.is_empty() {
            return Err(ModelError::UnknownReference(
                "the load balancer has no listener".into(),
            ));
        }
        for t in &spec.target_groups {
            if !t.slow_start.is_zero()
                && !matches!(
                    t.algorithm,
                    crate::model::spec::Algorithm::RoundRobin
                        | crate::model::spec::Algorithm::Random
                )
            {
                return Err(ModelError::Unsupported(format!(
                    "target group {}: slow start works with round_robin and random only, not {}",
                    t.name,
                    t.algorithm.name()
                )));
            }
        }
        let node = LbNode {
            id: NodeId(0),
            routers: spec
                .target_groups
                .iter()
                .map(|t| {
                    TargetGroupRouter::new(
                        t.algorithm,
                        engine::stream(seed, &format!("target_group/{}/routing", t.name)),
                    )
                })
                .collect(),
        };
        let name = spec.load_balancer.name.clone();
        Ok(LoadBalancer {
            processing: Sampler::new(
                &spec.load_balancer.processing_time,
                "load_balancer.processing_time",
            )?,
            processing_key: engine::stream_key(seed, &format!("load_balancer/{name}/processing")),
            name,
            listener_targets,
            nodes: vec![node],
            responses: Vec::new(),
            connections: connections::TargetConnections::build(spec, 1),
        })
    }

    /// Number of listeners.
    pub fn listeners(&self) -> usize {
        self.listener_targets.len()
    }

    /// The target group that listener `listener`'s default action forwards to.
    #[inline]
    pub fn listener_target(&self, listener: usize) -> TargetGroupId {
        self.listener_targets[listener]
    }

    /// The nodes.
    pub fn nodes(&self) -> &[LbNode] {
        &self.nodes
    }

    /// The connections to targets, if modelled (a service sets `keep_alive_timeout`).
    pub fn target_connections(&self) -> Option<&connections::TargetConnections> {
        self.connections.as_deref()
    }
}

impl World {
    /// A request reaches the load balancer: route it after the processing time.
    #[inline]
    pub(in crate::model) fn lb_receive<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        req: Request,
    ) {
        let delay = draw(&self.lb.processing, self.lb.processing_key, req.seed);
        let serial = req.serial;
        let key = self.requests.insert(req);
        if delay.is_zero() {
            self.route(s, o, key);
        } else {
            s.schedule_in(delay, Event::Forward { key, serial });
        }
    }

    /// The processing time of request `serial` is over: route it, unless it has ended.
    pub(in crate::model) fn on_forward<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
    ) {
        if self.requests.live(key, serial).is_some() {
            self.route(s, o, key);
        }
    }

    /// Routes request `key` through its node's router to a task, or answers 503.
    #[inline]
    fn route<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, key: u32) {
        let now = s.now();
        let req = self.requests.get_mut(key);
        let tg = req.target_group;
        let router = &mut self.lb.nodes[req.node.index()].routers[tg.index()];
        let Some(slot) = router.dispatch(now) else {
            let req = self.requests.remove(key);
            self.alb_request_ended(now, &req, Cause::Elb503NoTargets);
            self.clients[req.client.index()].request_ended(now);
            o.request_finished(now, &req, Cause::Elb503NoTargets);
            return;
        };
        let task = self.target_groups[tg.index()].task_at(slot);
        req.task = Some(task);
        req.slot = slot;
        req.dispatched = now;
        if !self.tasks[task.index()].accepts() && !self.tasks[task.index()].unreachable {
            // Connection refused: it was sent to the target, and ends at once.
            o.request_dispatched(now, req);
            let req = self.requests.remove(key);
            let drained = self.request_over(now, o, &req, Cause::Elb502ConnectionRefused);
            if drained {
                self.complete_drain(now, o, tg, slot);
            }
            return;
        }
        if self.lb.connections.is_some() && self.keep_alive_race(now, o, key, task) {
            return;
        }
        let req = self.requests.get(key);
        if self.clients[req.client.index()].websocket.is_some()
            && !self.tasks[task.index()].impaired()
        {
            self.open_websocket(s, o, key);
            return;
        }
        self.serve(s, o, key);
    }

    /// Request `key`, routed to `task`, takes a kept-alive connection; true if it met the
    /// keep-alive race and ended (502).
    #[inline(never)]
    fn keep_alive_race<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        key: u32,
        task: TaskId,
    ) -> bool {
        let service = self.tasks[task.index()].service.index();
        let req = self.requests.get(key);
        let Some(conns) = &mut self.lb.connections else {
            return false;
        };
        if conns.acquire(req.node, task, service, now) != connections::Acquired::Race {
            return false;
        }
        o.request_dispatched(now, req);
        let req = self.requests.remove(key);
        if self.request_over(now, o, &req, Cause::Elb502KeepAliveRace) {
            self.complete_drain(now, o, req.target_group, req.slot);
        }
        true
    }

    /// Completes the deregistration of `tg`'s draining `slot`, whose last request has just
    /// ended.
    pub(in crate::model) fn complete_drain<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        tg: TargetGroupId,
        slot: u32,
    ) {
        let mut changes = Changes::default();
        self.target_groups[tg.index()].drained(slot, now, &mut changes);
        let task = self.target_groups[tg.index()].task_at(slot);
        let done = changes.states.iter().any(|c| c.to == TargetState::Unused);
        self.apply_target_changes(now, o, tg, changes);
        if done && self.tasks[task.index()].state == super::ecs::TaskState::Deactivating {
            self.deactivated.push(task);
            self.deferred = true;
        }
    }

    /// The target group's `deregistration_delay`.
    pub(in crate::model) fn target_group_delay(
        &self,
        tg: TargetGroupId,
    ) -> crate::engine::SimDuration {
        self.target_groups[tg.index()].deregistration_delay
    }

    /// Removes `task`'s target at once (its task stopped: `Target.InvalidState`). Its
    /// requests must have ended.
    pub(in crate::model) fn remove_target<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task: TaskId,
    ) {
        if let Some((tg, slot)) = self.tasks[task.index()].target {
            let mut changes = Changes::default();
            self.target_groups[tg.index()].remove(slot, now, &mut changes);
            self.apply_target_changes(now, o, tg, changes);
        }
    }

    /// True if no node has a request in flight to `tg`'s `slot`.
    fn idle(&self, tg: TargetGroupId, slot: u32) -> bool {
        self.lb.nodes.iter().all(|n| {
            n.routers[tg.index()]
                .outstanding()
                .get(slot as usize)
                .is_none_or(|&c| c == 0)
        })
    }

    /// Tells every node about routability flips, keeps tasks' registrations in step, and
    /// reports the state changes.
    pub(in crate::model) fn apply_target_changes<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        tg: TargetGroupId,
        changes: Changes,
    ) {
        let group = &self.target_groups[tg.index()];
        for &(slot, routable) in &changes.routable {
            let weight = group.targets()[slot as usize].weight;
            for node in &mut self.lb.nodes {
                node.routers[tg.index()].set_routable(slot, routable, weight, now);
            }
        }
        for &(slot, ramp) in &changes.ramps {
            for node in &mut self.lb.nodes {
                node.routers[tg.index()].set_ramp(slot, ramp);
            }
        }
        for c in &changes.states {
            let task = &mut self.tasks[c.task.index()];
            task.target = (c.to != TargetState::Unused).then_some((tg, c.slot));
            if c.from == TargetState::Unused && c.to == TargetState::Initial {
                self.new_targets.push((tg, c.slot));
                self.deferred = true;
            }
            o.lifecycle(
                now,
                &LifecycleEvent::TargetStateChanged {
                    task: c.task,
                    target_group: tg,
                    from: c.from,
                    to: c.to,
                    reason: c.reason,
                },
                self,
            );
        }
    }

    /// Registers a RUNNING, unregistered `task` in its service's target group (healthy at
    /// once).
    pub(in crate::model) fn register_target<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task: TaskId,
    ) {
        if self.tasks[task.index()].state == super::ecs::TaskState::Running {
            self.register_target_as(now, o, task, true);
        }
    }

    /// Registers an unregistered `task` that is not stopped in its service's target group:
    /// `initial`, then `healthy` at once if `healthy`.
    pub(in crate::model) fn register_target_as<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task: TaskId,
        healthy: bool,
    ) {
        let t = &self.tasks[task.index()];
        if t.target.is_some() || t.stopped.is_some() || t.state > super::ecs::TaskState::Running {
            return;
        }
        let tg = self.services[t.service.index()].target_group;
        let mut changes = Changes::default();
        self.target_groups[tg.index()].register_as(task, healthy, now, &mut changes);
        self.apply_target_changes(now, o, tg, changes);
    }

    /// Starts deregistering `task`'s target.
    pub(in crate::model) fn deregister_target<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task: TaskId,
    ) {
        if let Some((tg, slot)) = self.tasks[task.index()].target {
            let idle = self.idle(tg, slot);
            let mut changes = Changes::default();
            let group = &mut self.target_groups[tg.index()];
            if group.deregister(slot, idle, now, &mut changes) {
                // Routable until the lag is over, or the deregistration delay expires.
                let lag = group.propagation_lag.min(group.deregistration_delay);
                self.propagating.push((task, lag));
                self.deferred = true;
            }
            self.apply_target_changes(now, o, tg, changes);
        }
    }

    /// Schedules the ends of the propagation lags of the deregistrations started during the
    /// current handler.
    pub(in crate::model) fn schedule_propagations(&mut self, s: &mut Scheduler<Event>) {
        for (task, lag) in self.propagating.drain(..) {
            s.schedule_in(lag, Event::DeregistrationPropagated { task });
        }
    }

    /// The propagation lag of `task`'s deregistration is over: the load balancer sends it
    /// no more requests, and its deregistration completes if nothing is in flight.
    pub(in crate::model) fn on_deregistration_propagated<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        task: TaskId,
    ) {
        let Some((tg, slot)) = self.tasks[task.index()].target else {
            return; // deregistered (or stopped) meanwhile
        };
        let now = s.now();
        let idle = self.idle(tg, slot);
        let mut changes = Changes::default();
        self.target_groups[tg.index()].propagated(slot, false, now, &mut changes);
        self.apply_target_changes(now, o, tg, changes);
        if idle {
            self.complete_drain(now, o, tg, slot);
        }
    }

    /// Marks `task`'s target healthy or unhealthy (only a RUNNING task's).
    pub(in crate::model) fn set_target_health<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task: TaskId,
        healthy: bool,
    ) {
        if self.tasks[task.index()].state != super::ecs::TaskState::Running {
            return; // not serving: only a RUNNING task's application answers
        }
        if let Some((tg, slot)) = self.tasks[task.index()].target {
            let mut changes = Changes::default();
            self.target_groups[tg.index()].set_health(slot, healthy, now, &mut changes);
            self.apply_target_changes(now, o, tg, changes);
        }
    }
}
