//! The world: every entity of one run, the event `enum`, and its one exhaustive `match`.
//!
//! Each subsystem keeps its entities and its handlers in its own module (`clients`, `elb`,
//! `ecs`), as `impl World` blocks; this file holds what they share: the [`World`], the
//! [`Event`]s, the dispatch and the [`Simulation`] that runs it all.

use super::ModelError;
use super::clients::Client;
use super::dependencies::Dependency;
use super::ecs::{Service, Task};
use super::elb::{LoadBalancer, TargetGroup};
use super::faults::Fault;
use super::ids::{ClientId, DependencyId, FaultId, ServiceId, TargetGroupId, TaskId};
use super::observer::Observer;
use super::request::Requests;
use super::spec::WorldSpec;
use crate::engine::{self, Handler, Scheduler, SimDuration, SimTime};

/// Everything that can happen, by subsystem. Small and `Copy` (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Clients: the next request of a client reaches the load balancer.
    Arrival(ClientId),
    /// Load balancer: a request's processing is done and it is routed now, if it is still
    /// request `serial` under store key `key` (stale otherwise: it ended meanwhile).
    Forward {
        /// Key in the request store.
        key: u32,
        /// The request's serial.
        serial: u64,
    },
    /// ECS: a task's earliest request in service finishes, if `generation` is still the
    /// task's (stale otherwise: the task rescheduled or stopped since).
    Completion {
        /// The task.
        task: TaskId,
        /// Generation when scheduled.
        generation: u64,
    },
    /// ECS: a wait step of request `serial` (store key `key`) is over, if the request is
    /// still live (stale otherwise: its task stopped).
    StepDone {
        /// Key in the request store.
        key: u32,
        /// The request's serial.
        serial: u64,
    },
    /// Dependencies: a call of request `serial` (store key `key`) returns from
    /// `dependency`. Always frees the dependency's capacity; the request goes on only if
    /// it is still live.
    CallDone {
        /// Key in the request store.
        key: u32,
        /// The request's serial.
        serial: u64,
        /// The dependency's index (a `u16` keeps the event at 16 bytes; scenarios have at
        /// most 100 dependencies).
        dependency: u16,
    },
    /// Dependencies: the timeout of the call that request `serial` (store key `key`)
    /// began at its profile step `step` expires, if that call is still going on.
    CallTimeout {
        /// Key in the request store.
        key: u32,
        /// The profile step of the call.
        step: u16,
        /// The request's serial.
        serial: u64,
    },
    /// ECS: task `task`'s lifecycle phase `phase` is over, if it is still in it (stale
    /// otherwise: it crashed or was stopped meanwhile). For RUNNING, the end of the
    /// application's start-up.
    TaskPhaseEnd {
        /// The task.
        task: TaskId,
        /// The phase that ends.
        phase: super::ecs::TaskState,
    },
    /// ELB: node `node` checks the health of target group `tg`'s `slot`, if that
    /// registration (`epoch`) is still checked.
    HealthProbe {
        /// The target group (a `u16` keeps the event at 16 bytes).
        tg: u16,
        /// The load balancer node.
        node: u8,
        /// The target's slot.
        slot: u32,
        /// The registration's epoch.
        epoch: u32,
    },
    /// ELB: the timeout of health check `serial` (store key `key`) expires.
    ProbeTimeout {
        /// Key in the request store.
        key: u32,
        /// The probe's serial.
        serial: u64,
    },
    /// ECS: the launch back-off of `service` is over: it launches what it lacks.
    ServiceRetry {
        /// The service.
        service: ServiceId,
    },
    /// ECS: a deployment of `service` to its task definition revision `revision` starts.
    Deploy {
        /// The service.
        service: ServiceId,
        /// The revision (1: the scenario's first deployment).
        revision: u16,
    },
    /// ECS: `task`'s health check grace period is over: if its target is unhealthy now,
    /// ECS replaces it.
    GracePeriodEnd {
        /// The task.
        task: TaskId,
    },
    /// ECS: it notices that `task`'s process exited, and begins stopping it.
    CrashNoticed {
        /// The task.
        task: TaskId,
    },
    /// Clients: WebSocket `serial` (store key `key`) reaches its drawn duration and closes,
    /// if it is still open (stale otherwise: it was cut).
    WebsocketEnd {
        /// Key in the request store.
        key: u32,
        /// The request's serial.
        serial: u64,
    },
    /// ELB: the deregistration delay of `task`'s target expires, if it is still draining.
    DeregistrationTimeout {
        /// The task.
        task: TaskId,
    },
    /// ELB: the propagation lag of `task`'s deregistration is over (its target gets no
    /// more requests), if it is still draining.
    DeregistrationPropagated {
        /// The task.
        task: TaskId,
    },
    /// Clients: user `user` of closed-loop client `client` sends its next request.
    UserArrival {
        /// The client.
        client: ClientId,
        /// The user, from 0.
        user: u32,
    },
    /// Faults: a fault starts.
    FaultStart(FaultId),
    /// Faults: a fault ends.
    FaultEnd(FaultId),
    /// Faults: the window of `fault` on `task` ends (a fault that acts on one task).
    TaskFaultEnd {
        /// The fault.
        fault: FaultId,
        /// The task it struck.
        task: TaskId,
    },
    /// Faults: the load balancer gives up on request `serial` (store key `key`), sent to a
    /// task that will never answer (hung, or in an unreachable zone), if it is still live:
    /// at its connect timeout (`connect`) or its idle timeout (a health check: its timeout).
    Unanswered {
        /// Key in the request store.
        key: u32,
        /// True for the 10 s connect timeout, false for the idle timeout.
        connect: bool,
        /// The request's serial.
        serial: u64,
    },
    /// CloudWatch: the end of a one-minute period: its datapoints are computed.
    CloudWatchMinute,
    /// CloudWatch: minute `minute`'s datapoints are published (after the ingestion delay):
    /// alarms evaluate and scaling policies act.
    CloudWatchPublish {
        /// The minute (0: `[0 s, 60 s)`).
        minute: u32,
    },
    /// Application Auto Scaling: scheduled action `action` of `service` runs.
    ScheduledAction {
        /// The service.
        service: ServiceId,
        /// The action, in its scalable target's `scheduled_actions`.
        action: u16,
    },
    /// ECS: Fargate Spot task `task` gets its two-minute interruption warning (a random
    /// interruption), if it is still RUNNING.
    SpotInterruption {
        /// The task.
        task: TaskId,
    },
    /// ECS: `count` of `service`'s running Fargate Spot tasks get their interruption warning
    /// (a scheduled interruption), the oldest first.
    SpotInterruptions {
        /// The service.
        service: ServiceId,
        /// How many tasks.
        count: u32,
    },
    /// ECS: two minutes after its warning, Spot task `task` is terminated if it has not
    /// finished stopping.
    SpotTermination {
        /// The task.
        task: TaskId,
    },
    /// Clients: a client follows a redirect: its request (the same `seed`, hence the same
    /// mix entry and draws; the host, path and query a redirect rewrote, if one did)
    /// reaches listener `listener`.
    Redirected {
        /// The client.
        client: ClientId,
        /// The listener redirected to.
        listener: u8,
        /// Redirects followed in a row so far, this one included.
        hops: u8,
        /// Key in [`World`]'s `redirects` of the request's seed, session and rewritten host,
        /// path and query.
        key: u32,
    },
    /// ELB: every node judges target group `tg`'s targets for anomalies (a
    /// `weighted_random` group with anomaly mitigation; see `model::elb::anomaly`).
    AnomalyEvaluation {
        /// The target group (a `u16` keeps the event at 16 bytes).
        tg: u16,
    },
    /// CodeDeploy: a step of blue/green deployment `deployment` (its index in the
    /// scenario's `[[blue_green]]`): see `model::ecs::blue_green`.
    BlueGreen {
        /// The deployment.
        deployment: u16,
        /// What is due.
        step: super::ecs::blue_green::BlueGreenStep,
    },
    /// Clients: the `timeout` of request `serial` (store key `key`) expires: its client
    /// gives up on it (460), if it has not ended (stale otherwise). See
    /// `model::clients::timeout`.
    ClientTimeout {
        /// Key in the request store.
        key: u32,
        /// The request's serial.
        serial: u64,
    },
    /// Run: the end of a metrics interval.
    MetricsTick,
    /// Run: the end of the warm-up.
    WarmupEnd,
}

/// All entities of one run. Plain data (`Send`): no shared pointers.
pub struct World {
    pub(in crate::model) name: String,
    pub(in crate::model) seed: u64,
    pub(in crate::model) end: SimTime,
    pub(in crate::model) warmup: SimDuration,
    pub(in crate::model) interval: SimDuration,
    pub(in crate::model) clients: Vec<Client>,
    pub(in crate::model) lb: LoadBalancer,
    pub(in crate::model) target_groups: Vec<TargetGroup>,
    pub(in crate::model) services: Vec<Service>,
    pub(in crate::model) tasks: Vec<Task>,
    pub(in crate::model) requests: Requests,
    pub(in crate::model) next_serial: u64,
    pub(in crate::model) dependencies: Vec<Dependency>,
    pub(in crate::model) faults: Vec<Fault>,
    /// Requests with a worker, ready to run their next step at the current instant.
    pub(in crate::model) ready: std::collections::VecDeque<u32>,
    /// Tasks whose deregistration completed during the current handler, to move on in
    /// their stop sequence once it returns.
    pub(in crate::model) deactivated: Vec<TaskId>,
    /// Targets registered during the current handler, whose health checks start once it
    /// returns.
    pub(in crate::model) new_targets: Vec<(TargetGroupId, u32)>,
    /// Deregistrations started during the current handler with a propagation lag: the task
    /// and the lag, scheduled once it returns.
    pub(in crate::model) propagating: Vec<(TaskId, SimDuration)>,
    /// Health checks sent so far.
    pub(in crate::model) probes: u64,
    /// Health checks in the request store.
    pub(in crate::model) probes_in_flight: usize,
    /// The subnets tasks take their addresses from.
    pub(in crate::model) network: super::ecs::network::Network,
    /// Health checks that ended during the current handler: (group, slot, node, serial,
    /// how it ended), judged once it returns.
    pub(in crate::model) probe_results: Vec<(TargetGroupId, u32, u8, u64, super::Cause)>,
    /// Something waits in `deactivated`, `new_targets`, `probe_results` or `oom_killed`
    /// (one flag for the event loop to test).
    pub(in crate::model) deferred: bool,
    /// Tasks that went above their memory during the current handler, with `oom_kill`: they
    /// are killed once it returns.
    pub(in crate::model) oom_killed: Vec<TaskId>,
    /// Per Availability Zone (by index), the `az_outage` faults in progress.
    pub(in crate::model) az_down: Vec<u32>,
    /// The load balancer's `idle_timeout`.
    pub(in crate::model) idle_timeout: SimDuration,
    /// Some client has sessions (closed-loop users, or open-loop `sessions`): request ends
    /// go through [`World::session_ended`].
    pub(in crate::model) sessions_on: bool,
    /// True if no request can need an optional feature of its path: no sessions or
    /// stickiness, no rules or request mix, no client or target connections, no WebSockets,
    /// one load balancer node (not direct discovery), no per-group response statistics. Set
    /// once at build (these never change during a run); the request path is compiled twice,
    /// with and without these checks, and [`Core::handle`] picks the copy (measured by
    /// `benches/callgrind.py`: the checks cost the reference model about 4 % of its
    /// instructions).
    pub(in crate::model) plain: bool,
    /// Some client has a `timeout`: requests reaching the load balancer get a timer (see
    /// `model::clients::timeout`).
    pub(in crate::model) timeouts_on: bool,
    /// Requests whose client gave up that their tasks still hold (in the store, not in
    /// flight for the client: see `model::clients::timeout`).
    pub(in crate::model) abandoned: usize,
    /// Closed-loop users woken during the current handler: (when, client, user), scheduled
    /// once it returns.
    pub(in crate::model) wakeups: Vec<(SimTime, ClientId, u32)>,
    /// Redirects the clients have yet to follow: request seed, session and rewritten host,
    /// path and query, keyed by the
    /// [`Event::Redirected`] that follows each (a side table keeps the event at 16 bytes).
    pub(in crate::model) redirects: slab::Slab<super::elb::redirect::PendingRedirect>,
    /// CloudWatch: the series the scalers watch, their datapoints and the alarms.
    pub(in crate::model) cloudwatch: super::cloudwatch::CloudWatch,
    /// Per service (by index), its scalable target, if it has `auto_scaling`.
    pub(in crate::model) scaling: Vec<Option<super::autoscaling::ScalableTarget>>,
    /// The prices of [`World::cost`].
    pub(in crate::model) pricing: super::cost::PricingSpec,
    /// Fargate billing and the load balancer's LCU dimensions.
    pub(in crate::model) cost: super::cost::CostMeter,
    /// The blue/green deployments (`[[blue_green]]`), in scenario order.
    pub(in crate::model) blue_green: Vec<super::ecs::blue_green::BlueGreen>,
}

impl World {
    /// Builds the world of `spec` with no task yet ([`Simulation::new`] launches the
    /// services' initial tasks).
    ///
    /// # Errors
    /// [`ModelError`] when the spec refers to an entity that does not exist or a
    /// distribution's parameters are out of its domain (the `scenario` module checks these
    /// first, with better messages).
    pub fn build(spec: &WorldSpec) -> Result<World, ModelError> {
        let network = super::ecs::network::Network::build(&spec.subnets)?;
        // Load balancer nodes probing each target: one per Availability Zone of the network
        // (AWS runs a node per enabled AZ), or per zone of `load_balancer.availability_zones`.
        let zones = network.availability_zones().len().min(usize::from(u8::MAX)) as u8;
        let lb_zones = spec.load_balancer.availability_zones.len();
        if let Some(&z) = spec
            .load_balancer
            .availability_zones
            .iter()
            .find(|&&z| z >= u32::from(zones))
        {
            return Err(ModelError::UnknownReference(format!(
                "load balancer zone #{z}: the network has {zones} Availability Zones"
            )));
        }
        let nodes = if lb_zones == 0 {
            zones
        } else {
            lb_zones.min(usize::from(u8::MAX)) as u8
        };
        let target_groups: Vec<TargetGroup> = spec
            .target_groups
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut g = TargetGroup::new(TargetGroupId(i as u32), t.name.clone(), t.algorithm);
                g.deregistration_delay = t.deregistration_delay;
                g.slow_start = t.slow_start;
                g.propagation_lag = t.deregistration_propagation_lag;
                g.port = t.port;
                g.health = super::elb::health::HealthChecks::new(
                    spec.seed,
                    &t.name,
                    // No load balancer (direct service discovery): no ELB health checks.
                    super::clients::dns::health_check(spec, &t.health_check),
                    nodes,
                );
                g
            })
            .collect();
        let lb = LoadBalancer::build(spec)?;
        let clients = Client::build_all(spec, lb.listeners())?;
        let sessions: u32 = clients.iter().map(Client::session_count).sum();
        let mut lb = lb;
        lb.build_stickiness(spec, sessions);
        let services = Service::build_all(spec)?;
        let dependencies = Dependency::build_all(spec)?;
        let faults = Fault::build_all(spec)?;
        let mut cloudwatch = super::cloudwatch::CloudWatch {
            ingestion_delay: spec.cloudwatch_ingestion_delay,
            usage_at: vec![Default::default(); services.len()],
            routed_at: vec![0; target_groups.len()],
            ..Default::default()
        };
        let names: Vec<_> = services
            .iter()
            .map(|s| (s.name.clone(), s.target_group))
            .collect();
        let specs: Vec<_> = spec
            .services
            .iter()
            .map(|s| s.auto_scaling.clone())
            .collect();
        let scaling = super::autoscaling::build(&specs, &names, &mut cloudwatch);
        let blue_green = super::ecs::blue_green::build(spec, &names, &mut cloudwatch);
        lb.keep_responses(&cloudwatch, target_groups.len());
        let plain = sessions == 0 && lb.plain() && clients.iter().all(|c| c.plain_path(&lb));
        Ok(World {
            plain,
            name: spec.name.clone(),
            seed: spec.seed,
            end: SimTime::ZERO + spec.duration,
            warmup: spec.warmup,
            interval: spec.metrics_interval,
            clients,
            lb,
            target_groups,
            services,
            tasks: Vec::new(),
            requests: Requests::default(),
            next_serial: 0,
            dependencies,
            faults,
            ready: std::collections::VecDeque::new(),
            deactivated: Vec::new(),
            new_targets: Vec::new(),
            propagating: Vec::new(),
            probes: 0,
            probes_in_flight: 0,
            network,
            probe_results: Vec::new(),
            deferred: false,
            oom_killed: Vec::new(),
            az_down: vec![0; zones.into()],
            idle_timeout: spec.load_balancer.idle_timeout,
            sessions_on: sessions > 0,
            timeouts_on: spec.clients.iter().any(|c| c.timeout.is_some()),
            abandoned: 0,
            wakeups: Vec::new(),
            redirects: slab::Slab::new(),
            cloudwatch,
            scaling,
            pricing: spec.pricing,
            cost: super::cost::CostMeter::default(),
            blue_green,
        })
    }

    /// Sets the weights of the weighted forward of listener `listener` (its index in the
    /// scenario) rule `rule` (its index in priority order; `None`: the default action), one
    /// per target group in the action's order, each 0–999, not all 0: requests that arrive
    /// from now on are split by the new weights (AWS `ModifyListener` / `ModifyRule` with new
    /// `ForwardConfig` weights; a blue/green or canary traffic shift).
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] naming the problem: no such listener or rule, not a
    /// weighted forward, or bad weights.
    pub fn set_forward_weights(
        &mut self,
        listener: usize,
        rule: Option<usize>,
        weights: &[u32],
    ) -> Result<(), ModelError> {
        self.lb
            .set_forward_weights(listener, rule, weights)
            .map_err(ModelError::Unsupported)
    }

    /// Scenario name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// When the run ends.
    pub fn end(&self) -> SimTime {
        self.end
    }
    /// Warm-up excluded from statistics.
    pub fn warmup(&self) -> SimDuration {
        self.warmup
    }
    /// Width of a metrics interval.
    pub fn metrics_interval(&self) -> SimDuration {
        self.interval
    }
    /// Clients, by id.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }
    /// The load balancer.
    pub fn load_balancer(&self) -> &LoadBalancer {
        &self.lb
    }
    /// Target groups, by id.
    pub fn target_groups(&self) -> &[TargetGroup] {
        &self.target_groups
    }
    /// Services, by id.
    pub fn services(&self) -> &[Service] {
        &self.services
    }
    /// Every task launched so far (stopped ones included), by id.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }
    /// Client requests that have arrived and not ended (health checks are not counted, nor
    /// requests whose client gave up, see [`World::abandoned`]).
    pub fn in_flight(&self) -> usize {
        self.requests.len() - self.probes_in_flight - self.abandoned
    }
    /// Requests whose client gave up (a 460) that their tasks are still working on (see
    /// `model::clients::timeout`).
    pub fn abandoned(&self) -> usize {
        self.abandoned
    }
    /// Dependencies, by id.
    pub fn dependencies(&self) -> &[Dependency] {
        &self.dependencies
    }
    /// Faults, by id.
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }
    /// The load balancer's `idle_timeout`.
    pub fn idle_timeout(&self) -> SimDuration {
        self.idle_timeout
    }
    /// The subnets tasks take their addresses from.
    pub fn network(&self) -> &super::ecs::network::Network {
        &self.network
    }

    /// CloudWatch: the series the scalers watch (with their datapoints so far) and the
    /// alarms (with their latest states).
    pub fn cloudwatch(&self) -> &super::cloudwatch::CloudWatch {
        &self.cloudwatch
    }
    /// Per service (by index), its scalable target (bounds and policies), if it has
    /// `auto_scaling`.
    pub fn scalable_targets(&self) -> &[Option<super::autoscaling::ScalableTarget>] {
        &self.scaling
    }

    /// Brings every running task's and every dependency's accounting up to `now`.
    pub(in crate::model) fn account_all(&mut self, now: SimTime) {
        for s in &self.services {
            for &t in s.running() {
                self.tasks[t.index()].advance(now);
            }
        }
        for d in &mut self.dependencies {
            d.advance(now);
        }
    }
}

/// The world plus its observer: the [`Handler`] of the event loop.
struct Core<O> {
    world: World,
    observer: O,
}

impl<O: Observer> Handler for Core<O> {
    type Event = Event;

    #[inline(always)]
    fn handle(&mut self, s: &mut Scheduler<Event>, event: Event) {
        let (w, o) = (&mut self.world, &mut self.observer);
        match event {
            // Two copies of the request path: the plain one skips the optional features
            // (`World::plain`) at compile time.
            Event::Arrival(c) if w.plain => w.on_arrival::<O, true>(s, o, c),
            Event::Arrival(c) => w.on_arrival::<O, false>(s, o, c),
            Event::Forward { key, serial } if w.plain => w.on_forward::<O, true>(s, o, key, serial),
            Event::Forward { key, serial } => w.on_forward::<O, false>(s, o, key, serial),
            Event::Completion { task, generation } if w.plain => {
                w.on_completion::<O, true>(s, o, task, generation)
            }
            Event::Completion { task, generation } => {
                w.on_completion::<O, false>(s, o, task, generation)
            }
            Event::StepDone { key, serial } => w.on_step_done(s, o, key, serial),
            Event::CallDone {
                key,
                serial,
                dependency,
            } => w.on_call_done(s, o, key, serial, DependencyId(u32::from(dependency))),
            Event::CallTimeout { key, step, serial } => w.on_call_timeout(s, o, key, step, serial),
            Event::Unanswered {
                key,
                connect,
                serial,
            } => w.on_unanswered(s, o, key, serial, connect),
            // The fleet's, the faults' and the run's events: rare, kept out of the hot loop
            // so that the request path above stays inlined.
            _ => handle_rare(w, o, s, event),
        }
        if w.deferred {
            w.run_deferred(s, o);
        }
    }
}

/// [`Core::handle`] for the events that are not on a request's path: the fleet's, the
/// faults' and the run's.
#[cold]
#[inline(never)]
fn handle_rare<O: Observer>(w: &mut World, o: &mut O, s: &mut Scheduler<Event>, event: Event) {
    match event {
        Event::TaskPhaseEnd { task, phase } => w.on_task_phase_end(s, o, task, phase),
        Event::DeregistrationTimeout { task } => w.on_deregistration_timeout(s, o, task),
        Event::WebsocketEnd { key, serial } => w.on_websocket_end(s, o, key, serial),
        Event::DeregistrationPropagated { task } => w.on_deregistration_propagated(s, o, task),
        Event::HealthProbe {
            tg,
            node,
            slot,
            epoch,
        } => w.on_health_probe(s, o, TargetGroupId(u32::from(tg)), node, slot, epoch),
        Event::ProbeTimeout { key, serial } => w.on_probe_timeout(s, o, key, serial),
        Event::CrashNoticed { task } => w.on_crash_noticed(s, o, task),
        Event::GracePeriodEnd { task } => w.on_grace_period_end(s, o, task),
        Event::ServiceRetry { service } => w.on_service_retry(s, o, service),
        Event::Deploy { service, revision } => w.on_deploy(s, o, service, revision, false),
        Event::CloudWatchMinute => w.on_cloudwatch_minute(s, o),
        Event::CloudWatchPublish { minute } => w.on_cloudwatch_publish(s, o, minute),
        Event::ScheduledAction { service, action } => w.on_scheduled_action(s, o, service, action),
        Event::FaultStart(f) => w.on_fault(s, o, f, true),
        Event::FaultEnd(f) => w.on_fault(s, o, f, false),
        Event::TaskFaultEnd { fault, task } => w.on_task_fault_end(s, o, fault, task),
        Event::SpotInterruption { task } => w.interrupt_spot(s, o, task),
        Event::SpotInterruptions { service, count } => {
            w.on_spot_interruptions(s, o, service, count);
        }
        Event::SpotTermination { task } => w.on_spot_termination(s, o, task),
        Event::Redirected {
            client,
            listener,
            hops,
            key,
        } => {
            let p = w.redirects.remove(key as usize);
            w.arrive_by_rules(
                s,
                o,
                client,
                p.seed,
                usize::from(listener),
                hops,
                p.session,
                p.rewritten,
            );
        }
        Event::UserArrival { client, user } => w.on_user_arrival(s, o, client, user),
        Event::ClientTimeout { key, serial } => w.on_client_timeout(s, o, key, serial),
        Event::AnomalyEvaluation { tg } => w.on_anomaly_evaluation(s, o, tg),
        Event::BlueGreen { deployment, step } => w.on_blue_green(s, o, deployment, step),
        Event::WarmupEnd => {
            let now = s.now();
            w.account_all(now);
            o.warmup_end(now, w);
        }
        Event::MetricsTick => {
            let now = s.now();
            w.account_all(now);
            o.interval(now, w);
            // The last interval is closed by the end of the run, after every event at
            // the end time, not by a tick that would precede some of them.
            let next = now + w.interval;
            if next < w.end {
                s.schedule_at(next, Event::MetricsTick);
            }
        }
        Event::Arrival(_)
        | Event::Forward { .. }
        | Event::Completion { .. }
        | Event::StepDone { .. }
        | Event::CallDone { .. }
        | Event::CallTimeout { .. }
        | Event::Unanswered { .. } => unreachable!("a request's event is handled inline"),
    }
}

/// Counts of one run's work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Engine events handled (stale ones included).
    pub events: u64,
    /// Requests that arrived.
    pub arrived: u64,
    /// Requests still in flight at the end.
    pub in_flight: u64,
}

/// A runnable simulation: the world, its scheduler and its observer.
///
/// Besides running, it offers the fleet operations the model's subsystems are built on,
/// acting at the current time ([`Simulation::now`]): launching and stopping tasks,
/// registering, deregistering and marking targets. Step with [`Simulation::run_until`],
/// act, step again: that is how tests change the fleet mid-run.
pub struct Simulation<O: Observer> {
    core: Core<O>,
    sched: Scheduler<Event>,
    finished: bool,
    /// The spec, for the offered-load and capacity figures of an unstable stop.
    spec: WorldSpec,
    max_in_flight: u64,
    stopped: Option<RunStop>,
}

/// Requests in flight beyond which a run is stopped as unstable (see [`RunStop::Unstable`]),
/// unless [`Simulation::set_max_in_flight`] says otherwise: 1,000,000. A request in flight
/// takes about 110 bytes of the model's memory (the request, its place in a task's queue
/// and its pending events), so the limit holds the run's memory to about 150 MB.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 1_000_000;

/// Events handled between two looks at the run (limits, progress, interruption).
const BATCH_EVENTS: u64 = 4096;

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq)]
pub enum RunStop {
    /// More requests were in flight than the limit: the offered load exceeds what the
    /// fleet can serve and nothing sheds it (an M/M/c queue with ρ ≥ 1 grows without bound).
    /// Checked every few thousand events, so `in_flight` may pass the limit by that much.
    Unstable {
        /// When, simulated.
        at: SimTime,
        /// Requests in flight then.
        in_flight: u64,
        /// The limit it passed.
        limit: u64,
        /// Every client's offered rate then, requests/s.
        offered_rps: f64,
        /// What the running tasks could serve, requests/s: Σ of each task's vCPUs over
        /// its service's mean CPU demand (or workers over holding time).
        capacity_rps: f64,
    },
    /// The caller asked to stop (an interruption: Ctrl-C, SIGTERM).
    Requested {
        /// When, simulated.
        at: SimTime,
    },
}

impl RunStop {
    /// The simulated time the run stopped at.
    pub fn at(&self) -> SimTime {
        match self {
            RunStop::Unstable { at, .. } | RunStop::Requested { at } => *at,
        }
    }
}

impl std::fmt::Display for RunStop {
    /// `unstable: 1,000,000 requests in flight at t = 12.3 s; offered 1e7/s vs capacity
    /// 3,200/s`, or `interrupted at t = 12.3 s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::estimate::{sci, thousands};
        match self {
            RunStop::Unstable {
                at,
                in_flight,
                limit,
                offered_rps,
                capacity_rps,
            } => write!(
                f,
                "unstable: {} requests in flight at t = {:.1} s (limit {}); offered {}/s vs capacity {}/s",
                thousands(*in_flight),
                at.as_secs_f64(),
                thousands(*limit),
                sci(*offered_rps),
                sci(*capacity_rps)
            ),
            RunStop::Requested { at } => {
                write!(f, "interrupted at t = {:.1} s", at.as_secs_f64())
            }
        }
    }
}

impl<O: Observer> Simulation<O> {
    /// Builds the world of `spec`, tells `observer` it starts, launches each service's
    /// `desired_count` tasks at t = 0 (registered and healthy at once), and schedules the
    /// first arrivals and metrics tick.
    ///
    /// # Errors
    /// See [`World::build`].
    pub fn new(spec: &WorldSpec, mut observer: O) -> Result<Self, ModelError> {
        let mut world = World::build(spec)?;
        let mut sched = Scheduler::new();
        observer.start(&world);
        for (i, s) in spec.services.iter().enumerate() {
            for _ in 0..s.desired_count {
                world.launch_task(SimTime::ZERO, &mut observer, ServiceId(i as u32));
            }
        }
        // Scheduled first, so it precedes every other event at the same instant.
        sched.schedule_at(
            SimTime::ZERO + world.warmup.min(world.end - SimTime::ZERO),
            Event::WarmupEnd,
        );
        if !world.interval.is_zero() && SimTime::ZERO + world.interval < world.end {
            sched.schedule_at(SimTime::ZERO + world.interval, Event::MetricsTick);
        }
        world.schedule_first_arrivals(&mut sched);
        world.schedule_faults(&mut sched);
        world.schedule_deployments(&mut sched);
        world.schedule_scaling(&mut sched);
        world.schedule_spot_interruptions(&mut sched);
        world.schedule_anomaly_evaluations(&mut sched);
        world.schedule_blue_green(&mut sched);
        // The initial targets' health checks start now.
        world.run_deferred(&mut sched, &mut observer);
        Ok(Simulation {
            core: Core { world, observer },
            sched,
            finished: false,
            spec: spec.clone(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            stopped: None,
        })
    }

    /// Runs events up to `t` (capped at the end of the run), leaving the clock at `t`.
    pub fn run_until(&mut self, t: SimTime) {
        let t = t.min(self.core.world.end);
        engine::run_until(&mut self.sched, &mut self.core, t);
    }

    /// Runs to the end and tells the observer the run is over. Calling it again does
    /// nothing more. Stops early, at an event boundary, if the run turns unstable (see
    /// [`Simulation::stopped`]).
    pub fn run(&mut self) -> RunStats {
        self.run_with(|_| true)
    }

    /// [`Simulation::run`], calling `keep_going` every few thousand events (at event
    /// boundaries; about every millisecond of wall time) to show progress or to stop: when it
    /// returns false the run ends there as [`RunStop::Requested`], and the observer is told
    /// the run is over at that time (partial outputs, `complete: false`).
    pub fn run_with<F: FnMut(&Self) -> bool>(&mut self, mut keep_going: F) -> RunStats {
        if !self.finished {
            let end = self.core.world.end;
            loop {
                let n = engine::run_batch(&mut self.sched, &mut self.core, end, BATCH_EVENTS);
                if n < BATCH_EVENTS {
                    break;
                }
                // The work the tasks hold, abandoned requests included: timeouts do not
                // shed it.
                let w = &self.core.world;
                let in_flight = (w.in_flight() + w.abandoned()) as u64;
                if in_flight > self.max_in_flight {
                    self.stopped = Some(self.unstable(in_flight));
                    break;
                }
                if !keep_going(self) {
                    self.stopped = Some(RunStop::Requested {
                        at: self.sched.now(),
                    });
                    break;
                }
            }
            let at = if self.stopped.is_some() {
                self.sched.now()
            } else {
                end
            };
            self.core.world.account_all(at);
            self.core.observer.finish(at, &self.core.world);
            self.finished = true;
        }
        self.stats()
    }

    /// The unstable stop now.
    fn unstable(&self, in_flight: u64) -> RunStop {
        use super::estimate;
        let now = self.sched.now();
        let capacity_rps = self
            .core
            .world
            .tasks
            .iter()
            .filter(|t| t.state == super::TaskState::Running)
            .filter_map(|t| self.spec.services.get(t.service.0 as usize))
            .map(|s| estimate::task_capacity_rps(&self.spec, s))
            .sum();
        RunStop::Unstable {
            at: now,
            in_flight,
            limit: self.max_in_flight,
            offered_rps: estimate::offered_rps(&self.spec, now),
            capacity_rps,
        }
    }

    /// Sets the in-flight limit of [`RunStop::Unstable`] (default
    /// [`DEFAULT_MAX_IN_FLIGHT`]); at least 1.
    pub fn set_max_in_flight(&mut self, limit: u64) {
        self.max_in_flight = limit.max(1);
    }

    /// Why the run stopped before its end; `None` if it ran to the end (or has not run).
    pub fn stopped(&self) -> Option<&RunStop> {
        self.stopped.as_ref()
    }

    /// Counts so far.
    pub fn stats(&self) -> RunStats {
        RunStats {
            events: self.sched.events_handled(),
            arrived: self.core.world.next_serial,
            in_flight: self.core.world.in_flight() as u64,
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.sched.now()
    }

    /// The world (read-only).
    pub fn world(&self) -> &World {
        &self.core.world
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.core.observer
    }

    /// Sets, from now on, the weights of a weighted forward: see
    /// [`World::set_forward_weights`].
    ///
    /// # Errors
    /// As [`World::set_forward_weights`].
    pub fn set_forward_weights(
        &mut self,
        listener: usize,
        rule: Option<usize>,
        weights: &[u32],
    ) -> Result<(), ModelError> {
        self.core.world.set_forward_weights(listener, rule, weights)
    }

    /// Consumes the simulation, returning its observer.
    pub fn into_observer(self) -> O {
        self.core.observer
    }

    /// Applies a fleet operation to `task` at the current time.
    fn on_task(
        &mut self,
        task: TaskId,
        op: impl FnOnce(&mut World, SimTime, &mut O, TaskId),
    ) -> Result<(), ModelError> {
        if task.index() >= self.core.world.tasks.len() {
            return Err(ModelError::UnknownReference(format!(
                "task #{} does not exist",
                task.0
            )));
        }
        let now = self.now();
        let Core { world, observer } = &mut self.core;
        op(world, now, observer, task);
        world.run_deferred(&mut self.sched, observer);
        Ok(())
    }

    /// Launches a task of `service` now, warm: RUNNING at once, registered in the
    /// service's target group and healthy (no start-up phases), raising the service's
    /// desired count by one.
    ///
    /// # Errors
    /// [`ModelError::UnknownReference`] if the service does not exist.
    pub fn launch_task(&mut self, service: ServiceId) -> Result<TaskId, ModelError> {
        if service.index() >= self.core.world.services.len() {
            return Err(ModelError::UnknownReference(format!(
                "service #{} does not exist",
                service.0
            )));
        }
        let now = self.now();
        let Core { world, observer } = &mut self.core;
        world.services[service.index()].desired += 1;
        let id = world.launch_task(now, observer, service);
        world.spot_started(&mut self.sched, now, id);
        world.run_deferred(&mut self.sched, observer);
        Ok(id)
    }

    /// Stops `task` now, abruptly and for good (a kill that also lowers its service's
    /// desired count by one, so it is not replaced): the requests it holds end with
    /// [`Cause::Elb502TargetClosed`](super::Cause::Elb502TargetClosed), its target becomes
    /// `unused` (`Target.InvalidState`), it reserves no more CPU and it is STOPPED at once
    /// (no DEPROVISIONING). Stopping a stopped task does nothing. A crash that the service
    /// replaces is a `task_crash` fault; a stop through the lifecycle is
    /// [`Simulation::stop_task_gracefully`].
    ///
    /// # Errors
    /// [`ModelError::UnknownReference`] if the task does not exist.
    pub fn stop_task(&mut self, task: TaskId) -> Result<(), ModelError> {
        self.on_task(task, World::stop_task)
    }

    /// Stops `task` now as its service does (scale-in, a deployment, a replacement): it
    /// walks DEACTIVATING (its target drains, up to the target group's
    /// `deregistration_delay`, after which its requests end with
    /// [`Cause::Elb502DeregistrationDelay`](super::Cause::Elb502DeregistrationDelay)),
    /// STOPPING (shutdown, up to `stop_timeout`), DEPROVISIONING and STOPPED. The service's
    /// desired count is unchanged, so it launches a replacement at once. Does nothing to a
    /// task that is not RUNNING.
    ///
    /// # Errors
    /// [`ModelError::UnknownReference`] if the task does not exist.
    pub fn stop_task_gracefully(&mut self, task: TaskId) -> Result<(), ModelError> {
        if task.index() >= self.core.world.tasks.len() {
            return Err(ModelError::UnknownReference(format!(
                "task #{} does not exist",
                task.0
            )));
        }
        let Core { world, observer } = &mut self.core;
        world.begin_stop(&mut self.sched, observer, task);
        world.run_deferred(&mut self.sched, observer);
        Ok(())
    }

    /// Registers `task` in its service's target group now (`initial`, then `healthy` at
    /// once). Does nothing if it is registered already or stopped.
    ///
    /// # Errors
    /// [`ModelError::UnknownReference`] if the task does not exist.
    pub fn register_target(&mut self, task: TaskId) -> Result<(), ModelError> {
        self.on_task(task, World::register_target)
    }

    /// Starts deregistering `task`'s target now: `draining` (no new requests), `unused`
    /// once its requests in flight have ended. Does nothing if it is not registered.
    ///
    /// # Errors
    /// [`ModelError::UnknownReference`] if the task does not exist.
    pub fn deregister_target(&mut self, task: TaskId) -> Result<(), ModelError> {
        self.on_task(task, World::deregister_target)
    }

    /// Marks `task`'s target `healthy` or `unhealthy` now, as health checks will. Does
    /// nothing to a target that is not registered or is draining.
    ///
    /// # Errors
    /// [`ModelError::UnknownReference`] if the task does not exist.
    pub fn set_target_health(&mut self, task: TaskId, healthy: bool) -> Result<(), ModelError> {
        self.on_task(task, |w, now, o, t| w.set_target_health(now, o, t, healthy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events are copied on every push and pop of the queue's heap: keep them at 16 bytes.
    #[test]
    fn an_event_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Event>(), 16);
    }
    use crate::model::spec::{
        ArrivalSpec, ClientSpec, DistSpec, LoadBalancerSpec, ServiceSpec, TargetGroupSpec,
    };
    use crate::model::{Cause, Request};

    /// Counts, per serial, routings and endings.
    #[derive(Default)]
    struct Ledger {
        dispatched: Vec<u8>,
        ended: Vec<u8>,
        causes: Vec<Option<Cause>>,
    }

    impl Observer for Ledger {
        fn request_arrived(&mut self, _: SimTime, r: &Request) {
            assert_eq!(r.serial as usize, self.ended.len());
            self.dispatched.push(0);
            self.ended.push(0);
            self.causes.push(None);
        }
        fn request_dispatched(&mut self, _: SimTime, r: &Request) {
            self.dispatched[r.serial as usize] += 1;
        }
        fn request_finished(&mut self, _: SimTime, r: &Request, c: Cause) {
            self.ended[r.serial as usize] += 1;
            self.causes[r.serial as usize] = Some(c);
        }
    }

    /// Requests that end while the load balancer is still processing them leave their
    /// `Forward` events behind, and their store keys are reused by new requests at once. A
    /// stale event must be ignored: each new request is routed once, when its own
    /// processing ends, and each request ends exactly once.
    #[test]
    fn an_event_for_a_request_that_ended_is_stale() {
        let spec = WorldSpec {
            duration: SimDuration::from_secs(2),
            clients: vec![ClientSpec {
                arrivals: ArrivalSpec::Deterministic { rate_rps: 1000.0 },
                ..Default::default()
            }],
            load_balancer: LoadBalancerSpec {
                processing_time: DistSpec::Deterministic(SimDuration::from_millis(10)),
                ..Default::default()
            },
            target_groups: vec![TargetGroupSpec::default()],
            services: vec![ServiceSpec {
                desired_count: 2,
                cpu_time: DistSpec::Deterministic(SimDuration::from_micros(100)),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut sim = Simulation::new(&spec, Ledger::default()).unwrap();
        sim.run_until(SimTime(1_000_500_000));
        let now = sim.now();
        let Core { world, observer } = &mut sim.core;
        let keys = world.requests.unrouted();
        assert_eq!(keys.len(), 10, "ten requests are being processed");
        for key in keys {
            let req = world.requests.remove(key);
            observer.request_finished(now, &req, Cause::Elb503NoTargets);
        }
        let stats = sim.run();
        let ledger = sim.into_observer();
        assert_eq!(stats.arrived, 2000);
        assert!(
            ledger.ended.iter().all(|&n| n <= 1),
            "a request ended twice"
        );
        assert!(
            ledger.dispatched.iter().all(|&n| n <= 1),
            "a request was routed twice"
        );
        let early = ledger
            .causes
            .iter()
            .filter(|c| **c == Some(Cause::Elb503NoTargets))
            .count();
        assert_eq!(early, 10);
        // Every other request that arrived at least 10 ms before the end was routed.
        let routed = ledger.dispatched.iter().filter(|&&n| n == 1).count();
        assert_eq!(routed, 2000 - 10 - 10);
    }
}

#[cfg(test)]
mod plain_tests {
    use super::World;

    const BASE: &str = r#"
[simulation]
name = "p"
duration = "10s"
[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 10.0 }
[load_balancer]
type = "application"
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "g" }
[[target_groups]]
name = "g"
[[services]]
name = "s"
target_group = "g"
desired_count = 2
request = { cpu_time = "10ms" }
"#;

    fn plain(extra: &str, replace: Option<(&str, &str)>) -> bool {
        let mut text = format!("{BASE}{extra}");
        if let Some((from, to)) = replace {
            assert!(text.contains(from), "{from}");
            text = text.replace(from, to);
        }
        let sc = crate::scenario::load_str(std::path::Path::new("p.toml"), &text, &[])
            .unwrap_or_else(|e| panic!("{e:?}"));
        World::build(&sc.spec).unwrap().plain
    }

    /// The plain copy of the request path (no optional checks) is taken only when no
    /// request can need an optional feature: each feature turns it off.
    #[test]
    fn plain_only_without_optional_features() {
        assert!(plain("", None));
        let client = "arrivals = { process = \"poisson\", rate_rps = 10.0 }";
        for (what, with) in [
            (
                "keep-alive",
                format!("{client}\nkeep_alive = {{ requests = 100, idle = \"30s\" }}"),
            ),
            (
                "a mix",
                format!("{client}\nrequests = [{{ weight = 1, path = \"/a\" }}]"),
            ),
            (
                "websockets",
                format!("{client}\nwebsocket = {{ duration = \"1s\" }}"),
            ),
            ("sessions", format!("{client}\nsessions = {{ count = 5 }}")),
            ("a timeout", format!("{client}\ntimeout = \"2s\"")),
            (
                "users",
                "arrivals = { process = \"closed_loop\", users = 2, think_time = \"1s\" }"
                    .to_string(),
            ),
        ] {
            assert!(!plain("", Some((client, &with))), "{what}");
        }
        assert!(!plain(
            "",
            Some(("type = \"application\"", "type = \"none\""))
        ));
    }
}
