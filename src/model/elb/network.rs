//! `type = "network"`: a Network Load Balancer (NLB) in place of the ALB (issue 12, "other
//! front doors").
//!
//! **Flows, not requests.** An NLB works at the connection level: "for TCP traffic, the load
//! balancer selects a target using a flow hash algorithm based on the protocol, source IP
//! address, source port, destination IP address, destination port, and TCP sequence
//! number", and "each individual TCP connection is routed to a single target for the life
//! of the connection"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/how-elastic-load-balancing-works.html>,
//! `aws-behaviour.md` §3.4). lbsim binds each client connection to a node and a target when
//! it opens: the hash is a keyed draw (key `load_balancer/<name>/flow`) from the client and
//! the connection's number (standing for its ephemeral source port and initial sequence
//! number), and picks uniformly among the node's eligible targets (healthy ones in its
//! scope, or all of them when none is: fail open). Every request on the connection then
//! goes to that target, with no algorithm and no processing time (an NLB does not parse
//! requests). So the balance is per connection: with keep-alive clients (`keep_alive`),
//! a few long connections load a few targets; without keep-alive each request is its own
//! connection and the hash spreads them like `random`.
//!
//! **No HTTP.** An NLB sends no HTTP error: a request that cannot be served (no target, a
//! target that refuses or resets the connection, a task that stops, the deregistration
//! delay) ends with `connection_failed` (status 0) where an ALB would answer 502, 503 or
//! 504; lbsim maps every ELB-generated outcome to it. A connection whose target has become
//! unhealthy is reset ("the load balancer sends a TCP RST for packets received on the
//! client connections associated with the target", unless the group failed open:
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html>):
//! its next request fails, and the client opens a new connection for the one after.
//!
//! **Deregistration.** A draining target gets no new connection; the connections bound to
//! it keep flowing. When its deregistration completes, `connection_termination = true`
//! (`deregistration_delay.connection_termination.enabled`) closes them (the client's next
//! request opens a new one, hashed anew; a request in flight on one completes); false (the
//! AWS default) leaves them flowing to the task while it accepts connections: "if a
//! deregistered target stays healthy and an existing connection is not idle, the load
//! balancer can continue to send traffic to the target"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay>).
//! With ECS the task stops right after, and its connections are then reset. lbsim
//! completes a deregistration when no request is in flight, as for the ALB; AWS also waits
//! for the target's connections to close (not modelled).
//!
//! **Health checks** are TCP by default (`elb::health`): a check passes when the task
//! accepts the connection, so a hung application stays healthy.

use std::collections::BTreeMap;

use crate::engine::{self, Scheduler, SimTime};
use crate::model::ids::{ClientId, NodeId, TargetGroupId, TaskId};
use crate::model::observer::Observer;
use crate::model::outcome::Cause;
use crate::model::request::Request;
use crate::model::spec::WorldSpec;
use crate::model::world::{Event, World};

use super::TargetState;

/// A client connection's binding: its node and target.
#[derive(Clone, Copy, Debug)]
struct Flow {
    node: NodeId,
    tg: TargetGroupId,
    slot: u32,
    task: TaskId,
}

/// The NLB's connection table.
#[derive(Clone, Debug)]
pub struct Nlb {
    /// Key `load_balancer/<name>/flow` of the flow hash.
    flow_key: u64,
    /// Open kept-alive connections by (client, connection number).
    flows: BTreeMap<(u32, u64), Flow>,
    /// The connection each request in flight on a kept-alive connection uses, by serial.
    on: BTreeMap<u64, (u32, u64)>,
    /// Per target group, `connection_termination`.
    termination: Vec<bool>,
    /// Connections bound so far.
    bound: u64,
    /// Connections reset so far (their target became unhealthy or went away).
    resets: u64,
    /// Requests sent to each task so far, by task.
    by_task: BTreeMap<TaskId, u64>,
    /// Open kept-alive connections per task: a draining target with any waits for them
    /// (or its delay).
    open: BTreeMap<TaskId, u32>,
    /// Manual deregistrations (not an ECS stop) whose delay must be timed: task and delay.
    pub(in crate::model) pending: Vec<(TaskId, crate::engine::SimDuration)>,
}

impl Nlb {
    /// The NLB of `spec`, or `None` for another type of load balancer.
    pub(in crate::model) fn build(spec: &WorldSpec) -> Option<Box<Nlb>> {
        spec.load_balancer.network.then(|| {
            Box::new(Nlb {
                flow_key: engine::stream_key(
                    spec.seed,
                    &format!("load_balancer/{}/flow", spec.load_balancer.name),
                ),
                flows: BTreeMap::new(),
                on: BTreeMap::new(),
                termination: spec
                    .target_groups
                    .iter()
                    .map(|t| t.connection_termination)
                    .collect(),
                bound: 0,
                resets: 0,
                by_task: BTreeMap::new(),
                open: BTreeMap::new(),
                pending: Vec::new(),
            })
        })
    }

    /// Connections bound to a target so far (kept-alive or not).
    pub fn connections_bound(&self) -> u64 {
        self.bound
    }

    /// Connections reset so far (their target became unhealthy or went away).
    pub fn connections_reset(&self) -> u64 {
        self.resets
    }

    /// Requests sent to each task so far (in task order): the per-connection balance.
    pub fn requests_by_task(&self) -> impl Iterator<Item = (TaskId, u64)> + '_ {
        self.by_task.iter().map(|(&t, &n)| (t, n))
    }

    /// Forgets connection `key`'s flow (it closed); returns it.
    fn remove_flow(&mut self, key: (u32, u64)) -> Option<Flow> {
        let f = self.flows.remove(&key)?;
        if let Some(n) = self.open.get_mut(&f.task) {
            *n -= 1;
            if *n == 0 {
                self.open.remove(&f.task);
            }
        }
        Some(f)
    }

    /// True if a kept-alive connection is still bound to `task`.
    pub(in crate::model) fn holds(&self, task: TaskId) -> bool {
        self.open.contains_key(&task)
    }

    /// The flow hash of connection `conn` of `client` (a kept-alive one), or of the
    /// one-request connection of the request whose seed is `seed`.
    fn hash(&self, client: ClientId, conn: Option<u64>, seed: u64) -> u64 {
        let item = match conn {
            Some(c) => (u64::from(client.0) << 40) ^ c ^ 0x9e37_79b9_7f4a_7c15,
            None => seed,
        };
        rand::Rng::next_u64(&mut engine::keyed(self.flow_key, item))
    }
}

/// The outcome a request ends with behind an NLB: every ELB-generated answer becomes
/// `connection_failed` (an NLB sends no HTTP response of its own).
pub(in crate::model) fn nlb_cause(cause: Cause) -> Cause {
    if cause.name().starts_with("elb_") {
        Cause::ConnectionFailed
    } else {
        cause
    }
}

impl World {
    /// A request reaches the NLB: find its connection's flow (or bind a new one) and send it
    /// to the flow's target at once, or end it with `connection_failed`.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn nlb_receive<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        mut req: Request,
    ) {
        let now = s.now();
        let tg = req.target_group;
        let client = req.client;
        let conn = self.clients[client.index()]
            .connections
            .as_ref()
            .and_then(|c| c.kept_alive());
        if self.lb.nlb.is_none() {
            return;
        }
        // The client's idle connections that it found closed (idle too long) are gone.
        let closed = self.clients[client.index()]
            .connections
            .as_mut()
            .map(|c| c.take_closed())
            .unwrap_or_default();
        for c in closed {
            let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
            if let Some(f) = nlb.remove_flow((client.0, c)) {
                self.flow_closed(now, o, f);
            }
        }
        let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
        let existing = conn.and_then(|c| nlb.flows.get(&(client.0, c)).copied());
        let flow = match existing {
            Some(f) if self.flow_usable(&f) => Some(f),
            Some(_) => {
                // Its target went away or turned unhealthy: the connection is reset.
                let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
                nlb.resets += 1;
                let gone = conn.and_then(|c| nlb.remove_flow((client.0, c)));
                if let Some(f) = gone {
                    self.flow_closed(now, o, f);
                }
                None
            }
            None => self.bind(client, conn, tg, req.seed),
        };
        let Some(flow) = flow else {
            // No target to bind to, or a reset: no response at all.
            match (conn, self.clients[client.index()].connections.as_mut()) {
                (Some(c), Some(cc)) => {
                    cc.release_conn(now, c, false);
                }
                _ => self.clients[client.index()].request_ended(now),
            }
            req.task = None;
            self.alb_request_ended(now, &req, Cause::ConnectionFailed);
            self.session_ended(now, &req, Cause::ConnectionFailed);
            o.request_finished(now, &req, Cause::ConnectionFailed);
            return;
        };
        let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
        *nlb.by_task.entry(flow.task).or_default() += 1;
        if let Some(c) = conn {
            nlb.on.insert(req.serial, (client.0, c));
        }
        req.node = flow.node;
        self.lb.nodes[flow.node.index()].routers[tg.index()].count(flow.slot);
        let key = self.requests.insert(req);
        self.deliver::<O, false>(s, o, key, flow.slot, now);
    }

    /// Connection `f` closed outside a request's end: its target's deregistration completes
    /// if it was the last thing the target was draining.
    fn flow_closed<O: Observer>(&mut self, now: SimTime, o: &mut O, f: Flow) {
        let group = &self.target_groups[f.tg.index()];
        if group
            .targets()
            .get(f.slot as usize)
            .is_some_and(|t| t.task == f.task && t.state == TargetState::Draining && !t.propagating)
            && self.idle(f.tg, f.slot)
        {
            self.complete_drain(now, o, f.tg, f.slot);
        }
    }

    /// True if a kept-alive connection is bound to `tg`'s `slot` (its draining waits).
    pub(in crate::model) fn nlb_holds(&self, tg: TargetGroupId, slot: u32) -> bool {
        let task = self.target_groups[tg.index()].task_at(slot);
        self.lb.nlb.as_deref().is_some_and(|n| n.holds(task))
    }

    /// `id`'s deregistration delay expired (an ECS stop, or a deregistration alone): with
    /// `connection_termination` (or when ECS stops the task) its requests in flight end
    /// with `connection_failed`; its deregistration completes even if connections are still
    /// bound to it; an ECS stop goes on.
    pub(in crate::model) fn nlb_deregistration_timeout<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let ecs = self.tasks[id.index()].state == crate::model::ecs::TaskState::Deactivating;
        let Some((tg, slot)) = self.tasks[id.index()].target else {
            if ecs {
                self.run_deactivated(s, o);
            }
            return;
        };
        if self.target_groups[tg.index()].targets()[slot as usize].state != TargetState::Draining {
            return; // registered again meanwhile
        }
        let terminate = self
            .lb
            .nlb
            .as_deref()
            .is_some_and(|n| n.termination[tg.index()]);
        if ecs || terminate {
            self.end_requests_at(now, o, id, Cause::ConnectionFailed);
        }
        if self.tasks[id.index()].target == Some((tg, slot))
            && self.target_groups[tg.index()].targets()[slot as usize].state
                == TargetState::Draining
        {
            self.complete_drain(now, o, tg, slot);
        }
        self.run_deactivated(s, o);
    }

    /// Schedules the delays of the deregistrations started without an ECS stop.
    pub(in crate::model) fn schedule_nlb_timeouts(&mut self, s: &mut Scheduler<Event>) {
        if let Some(n) = self.lb.nlb.as_deref_mut() {
            for (task, delay) in n.pending.drain(..) {
                s.schedule_in(delay, Event::DeregistrationTimeout { task });
            }
        }
    }

    /// True if connection `f` may still carry a request to its target: the slot still holds
    /// its task, and the target is healthy, initial or draining, unhealthy while its node
    /// fails open, or deregistered without `connection_termination` while the task accepts
    /// connections.
    fn flow_usable(&self, f: &Flow) -> bool {
        let group = &self.target_groups[f.tg.index()];
        let Some(t) = group.targets().get(f.slot as usize) else {
            return false;
        };
        if t.task != f.task {
            return false;
        }
        match t.state {
            TargetState::Healthy | TargetState::Initial | TargetState::Draining => true,
            TargetState::Unhealthy => {
                self.lb.nodes[f.node.index()].routers[f.tg.index()].is_routable(f.slot)
            }
            TargetState::Unused => {
                let nlb = self.lb.nlb.as_deref().expect("an NLB");
                !nlb.termination[f.tg.index()] && self.tasks[f.task.index()].accepts()
            }
        }
    }

    /// Binds a new connection (`conn` of `client`, or the one-request connection of the
    /// request with seed `seed`) to a node and one of its eligible targets of `tg` by the
    /// flow hash; `None` if the node has none.
    fn bind(
        &mut self,
        client: ClientId,
        conn: Option<u64>,
        tg: TargetGroupId,
        seed: u64,
    ) -> Option<Flow> {
        let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
        let h = nlb.hash(client, conn, seed);
        let nodes = self.lb.nodes.len() as u64;
        let node = NodeId(((h & 0xffff_ffff) % nodes) as u8);
        let router = &self.lb.nodes[node.index()].routers[tg.index()];
        let mut eligible: Vec<u32> = router.routable().to_vec();
        if eligible.is_empty() {
            return None;
        }
        eligible.sort_unstable();
        let slot = eligible[((h >> 32) % eligible.len() as u64) as usize];
        let flow = Flow {
            node,
            tg,
            slot,
            task: self.target_groups[tg.index()].task_at(slot),
        };
        nlb.bound += 1;
        if let Some(c) = conn {
            nlb.flows.insert((client.0, c), flow);
            *nlb.open.entry(flow.task).or_default() += 1;
        }
        Some(flow)
    }

    /// A request behind the NLB ends with `cause`: returns the outcome the client sees,
    /// and frees its own connection (closed if it was reset).
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn nlb_request_ended(
        &mut self,
        now: SimTime,
        req: &Request,
        cause: Cause,
    ) -> Cause {
        let cause = nlb_cause(cause);
        let on = self
            .lb
            .nlb
            .as_deref_mut()
            .and_then(|n| n.on.remove(&req.serial));
        let Some((client, conn)) = on else {
            // A one-request connection.
            self.clients[req.client.index()].request_ended(now);
            return cause;
        };
        let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
        let keep = cause != Cause::ConnectionFailed && nlb.flows.contains_key(&(client, conn));
        let open = self.clients[client as usize]
            .connections
            .as_mut()
            .is_some_and(|c| c.release_conn(now, conn, keep));
        if !open {
            let nlb = self.lb.nlb.as_deref_mut().expect("an NLB");
            nlb.remove_flow((client, conn));
        }
        cause
    }

    /// `tg`'s target at `slot` (task `task`) finished deregistering: with
    /// `connection_termination`, the connections bound to it are closed.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn nlb_deregistered(&mut self, tg: TargetGroupId, task: TaskId) {
        let Some(nlb) = self.lb.nlb.as_deref_mut() else {
            return;
        };
        if !nlb.termination[tg.index()] {
            return;
        }
        let closed: Vec<(u32, u64)> = nlb
            .flows
            .iter()
            .filter(|(_, f)| f.tg == tg && f.task == task)
            .map(|(&k, _)| k)
            .collect();
        for (client, conn) in closed {
            nlb.remove_flow((client, conn));
            if let Some(c) = self.clients[client as usize].connections.as_mut() {
                c.close(conn);
            }
        }
    }
}
