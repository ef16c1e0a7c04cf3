//! The Elastic Load Balancing side: the load balancer and its nodes, listeners, target
//! groups (registrations and target states), routing, and the handlers that receive,
//! route and account for requests.
//!
//! A request reaches the load balancer, waits its processing time (the access log's
//! `request_processing_time`), and is routed by its node: the listener's action names the
//! target group, the node's router for that group picks a routable target. With no routable
//! target the load balancer answers 503 itself.

pub mod algorithms;
pub mod anomaly;
pub mod connections;
pub mod group_stickiness;
pub mod health;
pub mod network;
mod nodes;
pub mod redirect;
mod routing;
pub mod rules;
pub mod source_ip;
pub mod stickiness;
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
/// enabled Availability Zone, each with its own state: one node per zone of
/// `load_balancer.availability_zones`, or a single node by default (see `elb::nodes`).
#[derive(Clone, Debug)]
pub struct LbNode {
    /// This node's id.
    pub id: NodeId,
    /// Its Availability Zone (index into the network's zones).
    zone: u32,
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
    /// Per listener, the one target group all its requests go to when it has no rule and
    /// forwards by default ([`NO_GROUP`] otherwise: its requests go through its rules).
    listener_targets: Vec<TargetGroupId>,
    /// The listeners: rules and actions.
    listeners: Vec<rules::Listener>,
    nodes: Vec<LbNode>,
    /// Per target group, this minute's response statistics, for the groups a CloudWatch
    /// series needs them for (empty when none does).
    responses: Vec<Option<crate::model::cloudwatch::ResponseStats>>,
    /// Key `load_balancer/<name>/dns` of the node each request reaches (`elb::nodes`).
    dns_key: u64,
    /// With `availability_zones`: per target group, cross-zone on (true) or off; empty
    /// without (one node that sees every target).
    zonal: Vec<bool>,
    /// Several nodes, or direct service discovery: requests take the cold path of
    /// [`World::lb_receive`].
    extra: bool,
    /// Direct service discovery (`type = "none"`): the clients' DNS caches.
    pub(in crate::model) direct: Option<Box<crate::model::clients::dns::Dns>>,
    /// Per target group, its sessions' cookies if it is sticky; empty when no group is
    /// (or no client has sessions).
    sticky: Vec<Option<stickiness::StickyTable>>,
    /// The `AWSALBTG` cookie tables of the sticky weighted forwards (indexed by
    /// [`rules::WeightedForward::cookie_table`]); empty when none is sticky or no client has
    /// sessions.
    group_sticky: Vec<group_stickiness::GroupCookies>,
    /// Connections to targets, when a service sets a keep-alive timeout (see
    /// [`connections`]).
    pub(in crate::model) connections: Option<Box<connections::TargetConnections>>,
    /// `type = "network"`: the NLB's connection table (see [`network`]).
    pub(in crate::model) nlb: Option<Box<network::Nlb>>,
}

impl LoadBalancer {
    /// The nodes' bookkeeping when a request routed to a target ends: the node's count and
    /// the feedback to its policy. Returns true if the request was the last one in flight to
    /// a draining target of `groups` (the caller then completes the deregistration).
    /// `PLAIN`: the load balancer is [`LoadBalancer::plain`] (its optional parts are not
    /// looked at).
    #[inline(always)]
    pub(in crate::model) fn request_ended<const PLAIN: bool>(
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
            cause,
        };
        let tg = req.target_group.index();
        if !PLAIN
            && let Some(c) = &mut self.connections
            && let Some(task) = req.task
        {
            c.release(req.node, task, cause, now);
        }
        if !PLAIN && !self.responses.is_empty() {
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

    /// The load balancer of `spec`, with its nodes (`elb::nodes`).
    pub(in crate::model) fn build(spec: &WorldSpec) -> Result<LoadBalancer, ModelError> {
        let seed = spec.seed;
        let ntg = spec.target_groups.len();
        let lb_name = &spec.load_balancer.name;
        let mut listeners = Vec::new();
        for (i, l) in spec.load_balancer.listeners.iter().enumerate() {
            let action = |a: &ActionSpec, rule: &str| {
                compile_action(
                    a,
                    ntg,
                    spec,
                    i,
                    engine::stream_key(
                        seed,
                        &format!("load_balancer/{lb_name}/listener/{}/{rule}/forward", l.port),
                    ),
                )
            };
            let mut rules = Vec::with_capacity(l.rules.len());
            for r in &l.rules {
                rules.push(rules::Rule {
                    priority: r.priority,
                    conditions: r.conditions.clone(),
                    action: action(&r.action, &format!("rule/{}", r.priority))?,
                });
            }
            rules.sort_by_key(|r| r.priority);
            if rules.len() >= usize::from(u8::MAX) {
                return Err(ModelError::Unsupported(format!(
                    "listener {i}: {} rules (at most 254 per listener)",
                    rules.len()
                )));
            }
            listeners.push(rules::Listener {
                port: l.port,
                protocol: l.protocol.clone(),
                rules,
                default: action(&l.default_action, "default")?,
            });
        }
        if listeners.len() > usize::from(u8::MAX) {
            return Err(ModelError::Unsupported("more than 255 listeners".into()));
        }
        let listener_targets: Vec<TargetGroupId> = listeners
            .iter()
            .map(|l| l.static_forward().unwrap_or(NO_GROUP))
            .collect();
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
        let built = nodes::build(spec);
        let node_count = built.nodes.len();
        let direct = spec
            .load_balancer
            .discovery
            .map(|d| Box::new(crate::model::clients::dns::Dns::new(spec, d)));
        let name = spec.load_balancer.name.clone();
        Ok(LoadBalancer {
            processing: Sampler::new(
                &spec.load_balancer.processing_time,
                "load_balancer.processing_time",
            )?,
            processing_key: engine::stream_key(seed, &format!("load_balancer/{name}/processing")),
            name,
            listener_targets,
            listeners,
            extra: built.nodes.len() > 1 || direct.is_some() || spec.load_balancer.network,
            nodes: built.nodes,
            responses: Vec::new(),
            dns_key: built.dns_key,
            zonal: built.zonal,
            direct,
            sticky: Vec::new(),
            group_sticky: Vec::new(),
            // An NLB passes client connections through: no connection of its own to targets.
            connections: if spec.load_balancer.network {
                None
            } else {
                connections::TargetConnections::build(spec, node_count)
            },
            nlb: network::Nlb::build(spec),
        })
    }

    /// Builds the cookie tables of the sticky target groups of `spec` and of the sticky
    /// weighted forwards (listener after listener, rules in priority order, then the
    /// default), for `sessions` sessions over all clients (none when there is no session).
    pub(in crate::model) fn build_stickiness(&mut self, spec: &WorldSpec, sessions: u32) {
        if sessions > 0 {
            for l in &mut self.listeners {
                let actions = l.rules.iter_mut().map(|r| &mut r.action);
                for a in actions.chain(std::iter::once(&mut l.default)) {
                    if let rules::Action::Weighted(w) = a
                        && w.stickiness.is_some()
                    {
                        w.set_cookie_table(self.group_sticky.len() as u32);
                        self.group_sticky
                            .push(group_stickiness::GroupCookies::new(sessions));
                    }
                }
            }
        }
        if sessions > 0 && spec.target_groups.iter().any(|t| t.stickiness.is_some()) {
            self.sticky = spec
                .target_groups
                .iter()
                .map(|t| {
                    t.stickiness
                        .as_ref()
                        .map(|st| stickiness::StickyTable::new(st, sessions))
                })
                .collect();
        }
    }

    /// True if a request's path through the load balancer needs none of its optional
    /// parts: one node and a load balancer (not direct discovery), no sticky group, no
    /// kept-alive target connections, no per-group response statistics (see
    /// [`World::plain`](crate::model::World)).
    pub(in crate::model) fn plain(&self) -> bool {
        !self.extra
            && self.sticky.is_empty()
            && self.connections.is_none()
            && self.responses.is_empty()
    }

    /// Target group `tg`'s cookies, if it is sticky and some client has sessions.
    pub fn stickiness(&self, tg: TargetGroupId) -> Option<&stickiness::StickyTable> {
        self.sticky.get(tg.index()).and_then(Option::as_ref)
    }

    /// The `AWSALBTG` cookies of sticky weighted forward `table`
    /// ([`rules::WeightedForward::cookie_table`]), if some client has sessions.
    pub fn group_stickiness(&self, table: u32) -> Option<&group_stickiness::GroupCookies> {
        self.group_sticky.get(table as usize)
    }

    /// Session `session` starts over: its cookies are gone.
    pub(in crate::model) fn clear_cookies(&mut self, session: u32) {
        for t in self.sticky.iter_mut().flatten() {
            t.clear(session);
        }
        for t in &mut self.group_sticky {
            t.clear(session);
        }
    }

    /// The target group for the request (seed `seed`) of session `session` arriving at
    /// `now` whose listener `listener` ran rule `rule` (its action a weighted forward with
    /// cookie table `table`): see [`group_stickiness`].
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn sticky_forward(
        &mut self,
        listener: usize,
        rule: u8,
        table: u32,
        session: u32,
        seed: u64,
        now: SimTime,
    ) -> TargetGroupId {
        let rules::Action::Weighted(w) = self.listeners[listener].action(rule) else {
            unreachable!("a cookie table belongs to a weighted forward")
        };
        self.group_sticky[table as usize].choose(w, session, seed, now)
    }

    /// The response to `req` (of a session) ends at `now`: if a sticky weighted forward sent
    /// it, its `AWSALBTG` cookie names the request's group from now (see
    /// [`group_stickiness`]). Nothing when no forward is sticky.
    #[inline]
    pub(in crate::model) fn group_cookie_written(&mut self, req: &Request, now: SimTime) {
        if self.group_sticky.is_empty() {
            return;
        }
        if let Some(l) = self.listeners.get(usize::from(req.listener))
            && let rules::Action::Weighted(w) = l.action(req.rule)
            && let Some(t) = self.group_sticky.get_mut(w.cookie_table() as usize)
        {
            t.responded(req.session, req.target_group, now);
        }
    }

    /// The response to a request of `session` routed to `tg`'s `slot` (`task`) ends at
    /// `now` with `cause`: its cookie is written if `tg` is sticky.
    pub(in crate::model) fn cookie_written(
        &mut self,
        tg: TargetGroupId,
        session: u32,
        task: TaskId,
        slot: u32,
        now: SimTime,
        cause: Cause,
    ) {
        if let Some(Some(t)) = self.sticky.get_mut(tg.index()) {
            t.responded(session, task, slot, now, cause);
        }
    }

    /// Number of listeners.
    pub fn listeners(&self) -> usize {
        self.listener_targets.len()
    }

    /// The target group that every request of listener `listener` goes to, or
    /// [`NO_GROUP`] if its requests go through rules (or a non-forward default action).
    #[inline]
    pub fn listener_target(&self, listener: usize) -> TargetGroupId {
        self.listener_targets[listener]
    }

    /// The listeners, with their rules and actions.
    pub fn listener_rules(&self) -> &[rules::Listener] {
        &self.listeners
    }

    /// Sets the weights of the weighted forward of listener `listener`'s rule `rule` (its
    /// index in priority order; `None` for the default action), one per target group in
    /// the action's order, 0–999, not all 0. For blue/green deployments and canaries that
    /// shift traffic at run time.
    ///
    /// # Errors
    /// A message if there is no such listener or rule, its action is not a weighted
    /// forward, or the weights are not valid.
    pub fn set_forward_weights(
        &mut self,
        listener: usize,
        rule: Option<usize>,
        weights: &[u32],
    ) -> Result<(), String> {
        let l = self
            .listeners
            .get_mut(listener)
            .ok_or_else(|| format!("no listener #{listener}"))?;
        let action = match rule {
            None => &mut l.default,
            Some(r) => {
                &mut l
                    .rules
                    .get_mut(r)
                    .ok_or_else(|| format!("listener #{listener} has no rule #{r}"))?
                    .action
            }
        };
        match action {
            rules::Action::Weighted(w) => w.set_weights(weights),
            _ => Err(format!(
                "listener #{listener} rule {rule:?} is not a weighted forward"
            )),
        }
    }

    /// The nodes.
    pub fn nodes(&self) -> &[LbNode] {
        &self.nodes
    }

    /// The NLB's connection table (`type = "network"`), if this is an NLB.
    pub fn network(&self) -> Option<&network::Nlb> {
        self.nlb.as_deref()
    }

    /// The connections to targets, if modelled (a service sets `keep_alive_timeout`).
    pub fn target_connections(&self) -> Option<&connections::TargetConnections> {
        self.connections.as_deref()
    }
}

/// The target group of a request no target group serves (a redirect, a fixed response):
/// such a request is counted by its listener, not by a group.
pub const NO_GROUP: TargetGroupId = TargetGroupId(u32::MAX);

/// Compiles action `a` of listener `listener` (`key`: its weighted draw's key).
fn compile_action(
    a: &ActionSpec,
    ntg: usize,
    spec: &WorldSpec,
    listener: usize,
    key: u64,
) -> Result<rules::Action, ModelError> {
    let group = |tg: usize| {
        if tg >= ntg {
            Err(ModelError::UnknownReference(format!(
                "listener {listener} forwards to target group #{tg}, which does not exist"
            )))
        } else {
            Ok(TargetGroupId(tg as u32))
        }
    };
    Ok(match a {
        ActionSpec::Forward { target_group } => rules::Action::Forward(group(*target_group)?),
        ActionSpec::WeightedForward {
            target_groups,
            stickiness,
        } => {
            let groups = target_groups
                .iter()
                .map(|g| group(g.target_group))
                .collect::<Result<Vec<_>, _>>()?;
            let weights: Vec<u32> = target_groups.iter().map(|g| g.weight).collect();
            if groups.is_empty()
                || weights.iter().all(|&w| w == 0)
                || weights.iter().any(|&w| w > 999)
            {
                return Err(ModelError::Unsupported(format!(
                    "listener {listener}: a weighted forward needs target groups with weights 0–999, not all 0"
                )));
            }
            rules::Action::Weighted(rules::WeightedForward::new(
                groups,
                weights,
                key,
                stickiness.filter(|s| s.enabled).map(|s| s.duration),
            ))
        }
        ActionSpec::Redirect {
            listener: to,
            status_code,
            rewrite,
        } => {
            if *to >= spec.load_balancer.listeners.len() {
                return Err(ModelError::UnknownReference(format!(
                    "listener {listener} redirects to listener #{to}, which does not exist"
                )));
            }
            rules::Action::Redirect {
                listener: *to as u8,
                rewrite: (!rewrite.is_identity()).then(|| Box::new(rewrite.clone())),
                cause: if *status_code == 302 {
                    Cause::Redirect302
                } else {
                    Cause::Redirect301
                },
            }
        }
        ActionSpec::FixedResponse { status_code } => rules::Action::Fixed {
            status: *status_code,
            cause: rules::Action::fixed_cause(*status_code),
        },
    })
}

impl World {
    /// Request `key`, just stored, reaches the load balancer: route it after the
    /// processing time. `PLAIN`: the world is [`World::plain`].
    #[inline]
    pub(in crate::model) fn lb_receive<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        if !PLAIN && self.lb.extra && !self.lb_receive_extra(s, o, key) {
            // Several nodes, or no load balancer at all: out of the common path.
            return;
        }
        if !PLAIN && self.timeouts_on {
            self.arm_client_timeout(s, key);
        }
        let req = self.requests.get(key);
        let delay = draw(&self.lb.processing, self.lb.processing_key, req.seed);
        if delay.is_zero() {
            self.route::<O, PLAIN>(s, o, key);
        } else {
            let serial = req.serial;
            s.schedule_in(delay, Event::Forward { key, serial });
        }
    }

    /// [`World::lb_receive`] for a load balancer with several nodes (the request is given
    /// its node; true) or direct service discovery (the request is handled; false).
    #[cold]
    #[inline(never)]
    fn lb_receive_extra<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) -> bool {
        if self.lb.direct.is_some() {
            self.direct_receive(s, o, key);
            return false;
        }
        if self.lb.nlb.is_some() {
            let req = self.requests.remove(key);
            self.nlb_receive(s, o, req);
            return false;
        }
        let req = self.requests.get_mut(key);
        req.node = self.lb.pick_node(req.seed);
        true
    }

    /// The processing time of request `serial` is over: route it, unless it has ended.
    pub(in crate::model) fn on_forward<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
    ) {
        if self.requests.live(key, serial).is_some() {
            self.route::<O, PLAIN>(s, o, key);
        }
    }

    /// Routes request `key` through its node's router to a task, or answers 503. `PLAIN`:
    /// the world is [`World::plain`] (no stickiness, connections or WebSockets to look at).
    #[inline]
    fn route<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        let now = s.now();
        let req = self.requests.get_mut(key);
        let tg = req.target_group;
        let router = &mut self.lb.nodes[req.node.index()].routers[tg.index()];
        let chosen = if PLAIN || self.lb.sticky.is_empty() {
            router.dispatch(now)
        } else {
            let (node, session) = (req.node, req.session);
            self.sticky_dispatch(now, tg, node, session)
        };
        let Some(slot) = chosen else {
            let req = self.requests.remove(key);
            self.alb_request_ended(now, &req, Cause::Elb503NoTargets);
            self.session_ended(now, &req, Cause::Elb503NoTargets);
            self.clients[req.client.index()].request_ended(now);
            o.request_finished(now, &req, Cause::Elb503NoTargets);
            return;
        };
        self.deliver::<O, PLAIN>(s, o, key, slot, now);
    }

    /// Sends request `key`, routed to its target group's `slot`, to that task (refused at
    /// once if the task does not listen). `PLAIN`: the world is [`World::plain`].
    #[inline]
    pub(in crate::model) fn deliver<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        slot: u32,
        now: SimTime,
    ) {
        let req = self.requests.get_mut(key);
        let tg = req.target_group;
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
        if PLAIN {
            return self.serve(s, o, key);
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

    /// Routing with sticky target groups: the target the session's valid cookie names, if
    /// it is still that task's registration and routable (the algorithm is not asked, as
    /// AWS documents for every algorithm, `least_outstanding_requests` included); else the
    /// algorithm's choice (the cookie is rewritten when the response ends). See
    /// [`stickiness`].
    #[cold]
    #[inline(never)]
    fn sticky_dispatch(
        &mut self,
        now: SimTime,
        tg: TargetGroupId,
        node: NodeId,
        session: u32,
    ) -> Option<u32> {
        let router = &mut self.lb.nodes[node.index()].routers[tg.index()];
        if let Some(Some(table)) = self.lb.sticky.get_mut(tg.index())
            && session != crate::model::clients::users::NO_SESSION
            && let Some((task, slot)) = table.lookup(session, now)
        {
            let targets = self.target_groups[tg.index()].targets();
            if targets.get(slot as usize).is_some_and(|t| t.task == task)
                && router.is_routable(slot)
            {
                table.hits += 1;
                router.dispatch_to(slot);
                return Some(slot);
            }
            table.fallbacks += 1;
        }
        router.dispatch(now)
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

    /// True if no node has a request in flight to `tg`'s `slot` (and, behind an NLB, no
    /// kept-alive connection is bound to it).
    pub(in crate::model) fn idle(&self, tg: TargetGroupId, slot: u32) -> bool {
        self.lb.nodes.iter().all(|n| {
            n.routers[tg.index()]
                .outstanding()
                .get(slot as usize)
                .is_none_or(|&c| c == 0)
        }) && (self.lb.nlb.is_none() || !self.nlb_holds(tg, slot))
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
        if self.lb.zonal() {
            // Nodes per zone: each sees its scope's targets (`elb::nodes`).
            if !changes.routable.is_empty() || !changes.states.is_empty() {
                self.refresh_zonal(tg, now);
            }
        } else {
            let group = &self.target_groups[tg.index()];
            for &(slot, routable) in &changes.routable {
                let weight = group.targets()[slot as usize].weight;
                for node in &mut self.lb.nodes {
                    node.routers[tg.index()].set_routable(slot, routable, weight, now);
                }
            }
        }
        for &(slot, ramp) in &changes.ramps {
            for node in &mut self.lb.nodes {
                node.routers[tg.index()].set_ramp(slot, ramp);
            }
        }
        if self.lb.nlb.is_some() {
            for c in &changes.states {
                if c.to == TargetState::Unused {
                    self.nlb_deregistered(tg, c.task);
                }
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
        let svc = &self.services[t.service.index()];
        let (tg, weight) = (svc.target_group, svc.target_weight);
        let mut changes = Changes::default();
        let group = &mut self.target_groups[tg.index()];
        let slot = group.register_as(task, healthy, now, &mut changes);
        group.set_weight(slot, weight);
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
            if self.lb.nlb.is_some()
                && self.tasks[task.index()].state != super::ecs::TaskState::Deactivating
            {
                // A deregistration alone (no ECS stop): the NLB times its delay itself.
                let delay = group.deregistration_delay;
                if let Some(n) = self.lb.nlb.as_deref_mut() {
                    n.pending.push((task, delay));
                }
                self.deferred = true;
            }
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
