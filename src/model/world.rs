//! The world: every entity of one run, the event `enum`, and its one exhaustive `match`.

use slab::Slab;

use super::ModelError;
use super::arrivals::ArrivalProcess;
use super::dist::Sampler;
use super::ids::{ClientId, ServiceId, TargetGroupId, TaskId};
use super::observer::{LifecycleEvent, Observer, Request};
use super::outcome::Cause;
use super::spec::{ActionSpec, WorldSpec};
use super::target_group::TargetGroup;
use super::task::Task;
use crate::engine::{self, Handler, Scheduler, SimDuration, SimRng, SimTime};

/// Everything that can happen. Small and `Copy`: 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The next request of a client reaches the load balancer.
    Arrival(ClientId),
    /// A request (by request slot) has been processed by the load balancer and is routed now.
    Forward(u32),
    /// A task's earliest request in service finishes, if `generation` is still current.
    Completion {
        /// The task.
        task: TaskId,
        /// Generation when scheduled; stale if the task rescheduled since.
        generation: u32,
    },
    /// The end of a metrics interval.
    MetricsTick,
    /// The end of the warm-up.
    WarmupEnd,
}

/// A client: its arrival process and its random streams.
#[derive(Clone, Debug)]
pub struct Client {
    /// This client's id.
    pub id: ClientId,
    /// Name from the scenario.
    pub name: String,
    process: ArrivalProcess,
    /// Stream `client/<name>/arrivals`.
    arrivals_rng: SimRng,
    rtt: Sampler,
    /// Stream `client/<name>/rtt`.
    rtt_rng: SimRng,
    listener: usize,
}

/// The load balancer: its processing delay and its listeners' actions.
#[derive(Clone, Debug)]
pub struct LoadBalancer {
    /// Name from the scenario.
    pub name: String,
    processing: Sampler,
    /// Stream `load_balancer/<name>/processing`.
    rng: SimRng,
    /// Target group of each listener's default forward action.
    listener_targets: Vec<TargetGroupId>,
}

/// An ECS service: its request CPU-time distribution and its tasks.
#[derive(Clone, Debug)]
pub struct Service {
    /// This service's id.
    pub id: ServiceId,
    /// Name from the scenario.
    pub name: String,
    /// The target group its tasks register in.
    pub target_group: TargetGroupId,
    cpu_time: Sampler,
    /// Stream `service/<name>/cpu_time`.
    rng: SimRng,
    /// Its tasks.
    pub tasks: Vec<TaskId>,
}

/// All entities of one run. Plain data (`Send`): no shared pointers.
pub struct World {
    name: String,
    seed: u64,
    end: SimTime,
    warmup: SimDuration,
    interval: SimDuration,
    clients: Vec<Client>,
    lb: LoadBalancer,
    target_groups: Vec<TargetGroup>,
    services: Vec<Service>,
    tasks: Vec<Task>,
    requests: Slab<Request>,
    next_serial: u64,
}

impl World {
    /// Builds the world of `spec`: every task running and registered at t = 0.
    ///
    /// # Errors
    /// [`ModelError`] when the spec refers to an entity that does not exist or a
    /// distribution's parameters are out of its domain (the `scenario` module checks these
    /// first, with better messages).
    pub fn build(spec: &WorldSpec) -> Result<World, ModelError> {
        let seed = spec.seed;
        let ntg = spec.target_groups.len();
        let mut target_groups: Vec<TargetGroup> = spec
            .target_groups
            .iter()
            .enumerate()
            .map(|(i, t)| {
                TargetGroup::new(
                    TargetGroupId(i as u32),
                    t.name.clone(),
                    t.algorithm,
                    engine::stream(seed, &format!("target_group/{}/routing", t.name)),
                )
            })
            .collect();
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
        let lb = LoadBalancer {
            name: spec.load_balancer.name.clone(),
            processing: Sampler::new(
                &spec.load_balancer.processing_time,
                "load_balancer.processing_time",
            )?,
            rng: engine::stream(
                seed,
                &format!("load_balancer/{}/processing", spec.load_balancer.name),
            ),
            listener_targets,
        };
        let mut clients = Vec::with_capacity(spec.clients.len());
        for (i, c) in spec.clients.iter().enumerate() {
            if c.listener >= lb.listener_targets.len() {
                return Err(ModelError::UnknownReference(format!(
                    "client {} sends to listener #{}, which does not exist",
                    c.name, c.listener
                )));
            }
            clients.push(Client {
                id: ClientId(i as u32),
                name: c.name.clone(),
                process: ArrivalProcess::new(&c.arrivals),
                arrivals_rng: engine::stream(seed, &format!("client/{}/arrivals", c.name)),
                rtt: Sampler::new(&c.rtt, &format!("clients.{}.rtt", c.name))?,
                rtt_rng: engine::stream(seed, &format!("client/{}/rtt", c.name)),
                listener: c.listener,
            });
        }
        let mut services = Vec::with_capacity(spec.services.len());
        let mut tasks = Vec::new();
        for (i, s) in spec.services.iter().enumerate() {
            if s.target_group >= ntg {
                return Err(ModelError::UnknownReference(format!(
                    "service {} registers in target group #{}, which does not exist",
                    s.name, s.target_group
                )));
            }
            let sid = ServiceId(i as u32);
            let tg = TargetGroupId(s.target_group as u32);
            let mut svc = Service {
                id: sid,
                name: s.name.clone(),
                target_group: tg,
                cpu_time: Sampler::new(&s.cpu_time, &format!("services.{}.cpu_time", s.name))?,
                rng: engine::stream(seed, &format!("service/{}/cpu_time", s.name)),
                tasks: Vec::new(),
            };
            for n in 0..s.desired_count {
                let id = TaskId(tasks.len() as u32);
                let mut task = Task::new(
                    id,
                    format!("{}-{}", s.name, n),
                    sid,
                    s.task.cpu,
                    s.task.max_concurrency,
                );
                let slot = target_groups[tg.index()].register(id);
                task.target = Some((tg, slot));
                svc.tasks.push(id);
                tasks.push(task);
            }
            services.push(svc);
        }
        for tg in &mut target_groups {
            tg.reset_router();
        }
        Ok(World {
            name: spec.name.clone(),
            seed,
            end: SimTime::ZERO + spec.duration,
            warmup: spec.warmup,
            interval: spec.metrics_interval,
            clients,
            lb,
            target_groups,
            services,
            tasks,
            requests: Slab::new(),
            next_serial: 0,
        })
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
    /// Tasks, by id.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }
    /// Requests that have arrived and not ended.
    pub fn in_flight(&self) -> usize {
        self.requests.len()
    }

    /// Brings every task's CPU accounting up to `now`.
    fn account_all(&mut self, now: SimTime) {
        for t in &mut self.tasks {
            t.advance(now);
        }
    }

    fn on_arrival<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, c: ClientId) {
        let now = s.now();
        let client = &mut self.clients[c.index()];
        if let Some(t) = client.process.next_after(now, &mut client.arrivals_rng)
            && t <= self.end
        {
            s.schedule_at(t, Event::Arrival(c));
        }
        let rtt = client.rtt.sample(&mut client.rtt_rng);
        let req = Request {
            serial: self.next_serial,
            client: c,
            arrived: now,
            rtt,
            target_group: self.lb.listener_targets[client.listener],
            task: None,
            slot: 0,
            work: SimDuration::ZERO,
        };
        self.next_serial += 1;
        o.request_arrived(now, &req);
        let key = self.requests.insert(req) as u32;
        let delay = self.lb.processing.sample(&mut self.lb.rng);
        if delay.is_zero() {
            self.forward(s, o, key);
        } else {
            s.schedule_in(delay, Event::Forward(key));
        }
    }

    /// Routes request `key` through its target group to a task.
    #[inline]
    fn forward<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, key: u32) {
        let now = s.now();
        let req = &mut self.requests[key as usize];
        let tg = &mut self.target_groups[req.target_group.index()];
        let Some((slot, task_id)) = tg.dispatch() else {
            let req = self.requests.remove(key as usize);
            o.request_finished(now, &req, Cause::Elb503NoTargets);
            return;
        };
        let task = &mut self.tasks[task_id.index()];
        let svc = &mut self.services[task.service.index()];
        req.work = svc.cpu_time.sample(&mut svc.rng);
        req.task = Some(task_id);
        req.slot = slot;
        task.advance(now);
        if task.admit(req.serial, key, req.work) {
            o.request_started(now, req);
        }
        Self::reschedule(s, task);
    }

    fn on_completion<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        task_id: TaskId,
        generation: u32,
    ) {
        let now = s.now();
        let task = &mut self.tasks[task_id.index()];
        if task.generation != generation {
            return; // stale: the task rescheduled since
        }
        task.next_completion = SimTime::MAX;
        task.advance(now);
        while let Some((_, key)) = task.pop_finished() {
            let req = self.requests.remove(key as usize);
            self.target_groups[req.target_group.index()].complete(req.slot);
            o.request_finished(now, &req, Cause::Ok);
        }
        while let Some(key) = task.promote_waiting() {
            o.request_started(now, &self.requests[key as usize]);
        }
        Self::reschedule(s, task);
    }

    /// Keeps exactly one pending completion event per busy task, at the right time.
    #[inline]
    fn reschedule(s: &mut Scheduler<Event>, task: &mut Task) {
        let next = task.completion_time();
        if next != task.next_completion {
            task.generation = task.generation.wrapping_add(1);
            task.next_completion = next;
            if next != SimTime::MAX {
                s.schedule_at(
                    next,
                    Event::Completion {
                        task: task.id,
                        generation: task.generation,
                    },
                );
            }
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

    #[inline]
    fn handle(&mut self, s: &mut Scheduler<Event>, event: Event) {
        let (w, o) = (&mut self.world, &mut self.observer);
        match event {
            Event::Arrival(c) => w.on_arrival(s, o, c),
            Event::Forward(key) => w.forward(s, o, key),
            Event::Completion { task, generation } => w.on_completion(s, o, task, generation),
            Event::WarmupEnd => {
                let now = s.now();
                w.account_all(now);
                o.warmup_end(now, w);
            }
            Event::MetricsTick => {
                let now = s.now();
                w.account_all(now);
                o.interval(now, w);
                let next = now + w.interval;
                if next <= w.end {
                    s.schedule_at(next, Event::MetricsTick);
                }
            }
        }
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
pub struct Simulation<O: Observer> {
    core: Core<O>,
    sched: Scheduler<Event>,
    finished: bool,
}

impl<O: Observer> Simulation<O> {
    /// Builds the world of `spec`, tells `observer` about the tasks running at t = 0, and
    /// schedules the first arrivals and metrics tick.
    ///
    /// # Errors
    /// See [`World::build`].
    pub fn new(spec: &WorldSpec, mut observer: O) -> Result<Self, ModelError> {
        let mut world = World::build(spec)?;
        let mut sched = Scheduler::new();
        observer.start(&world);
        for t in world.tasks() {
            let svc = &world.services()[t.service.index()];
            observer.lifecycle(
                SimTime::ZERO,
                &LifecycleEvent {
                    kind: "task_running",
                    task: Some(t.name.clone()),
                    detail: format!(
                        "service {} started task {} ({} CPU units)",
                        svc.name, t.name, t.cpu_units
                    ),
                },
            );
            if let Some((tg, _)) = t.target {
                observer.lifecycle(
                    SimTime::ZERO,
                    &LifecycleEvent {
                        kind: "target_registered",
                        task: Some(t.name.clone()),
                        detail: format!(
                            "service {} registered 1 target in target-group {}",
                            svc.name,
                            world.target_groups()[tg.index()].name
                        ),
                    },
                );
            }
        }
        // Scheduled first, so it precedes every other event at the same instant.
        sched.schedule_at(
            SimTime::ZERO + world.warmup.min(world.end - SimTime::ZERO),
            Event::WarmupEnd,
        );
        if !world.interval.is_zero() && SimTime::ZERO + world.interval <= world.end {
            sched.schedule_at(SimTime::ZERO + world.interval, Event::MetricsTick);
        }
        let end = world.end;
        for c in &mut world.clients {
            if let Some(t) = c.process.next_after(SimTime::ZERO, &mut c.arrivals_rng)
                && t <= end
            {
                sched.schedule_at(t, Event::Arrival(c.id));
            }
        }
        Ok(Simulation {
            core: Core { world, observer },
            sched,
            finished: false,
        })
    }

    /// Runs events up to `t` (capped at the end of the run). Lets a caller show progress.
    pub fn run_until(&mut self, t: SimTime) {
        let t = t.min(self.core.world.end);
        engine::run_until(&mut self.sched, &mut self.core, t);
    }

    /// Runs to the end and tells the observer the run is over. Calling it again does
    /// nothing more.
    pub fn run(&mut self) -> RunStats {
        if !self.finished {
            let end = self.core.world.end;
            engine::run_until(&mut self.sched, &mut self.core, end);
            self.core.world.account_all(end);
            self.core.observer.finish(end, &self.core.world);
            self.finished = true;
        }
        self.stats()
    }

    /// Counts so far.
    pub fn stats(&self) -> RunStats {
        RunStats {
            events: self.sched.events_handled(),
            arrived: self.core.world.next_serial,
            in_flight: self.core.world.requests.len() as u64,
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

    /// Consumes the simulation, returning its observer.
    pub fn into_observer(self) -> O {
        self.core.observer
    }
}
