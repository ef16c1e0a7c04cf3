//! The ECS side: services, their tasks (worker pools in front of multi-core
//! processor-sharing CPUs), usage accounting, and the handlers that launch and stop tasks and
//! run requests through their profile's steps.
//!
//! A request at a task takes a worker (or waits for one), then runs its service's steps in
//! order: a CPU step on the task's processor-sharing CPU, a wait (a timer), or a call to a
//! dependency (see `model::dependencies`). When the last step ends the request ends `ok`
//! and its worker passes to the head of the task's FIFO queue. Requests ready to run their
//! next step at the same instant (a worker handed over, a call that failed fast) are run
//! from a work list, never by recursion, so no input can exhaust the stack.

pub mod blue_green;
mod cpu;
pub mod deployment;
mod lifecycle;
pub mod network;
pub mod spot;
mod task;
mod usage;

pub use cpu::CpuMeter;
pub(in crate::model) use task::Pool;
pub use task::{CPU_UNITS_PER_VCPU, MemoryCrossing, Task, TaskState};
pub use usage::UsageMeter;

use super::ModelError;
use super::dist::Sampler;
use super::elb::health::{PROBE_SERIAL, is_probe};
use super::ids::{DependencyId, ServiceId, TargetGroupId, TaskId};
use super::observer::{LifecycleEvent, Observer, StopReason};
use super::outcome::Cause;
use super::request::draw;
use super::request::{CLIENT_GONE, Request};
use super::spec::{DistSpec, RevisionFailure, StepSpec, TaskSpec, WorldSpec};
use super::world::{Event, World};
use crate::engine::{self, Scheduler, SimTime};

/// What a profile step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// CPU time on the task's processor-sharing CPU.
    Cpu,
    /// A delay holding the worker, no CPU.
    Wait,
    /// A call to a dependency.
    Call(DependencyId),
}

/// One step of a service's request profile, ready to draw from.
#[derive(Clone, Debug)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// Its duration (CPU time or wait); unused by a call, whose latency is the dependency's.
    sampler: Sampler,
    /// Purpose key of its keyed draws (`service/<name>/steps/<i>`, or
    /// `service/<name>/cpu_time` for the one-step shorthand).
    key: u64,
    /// The fraction of requests that run it (1: all; the others skip it).
    probability: f64,
}

impl Step {
    /// Whether the request of seed `seed` runs this step (always, unless it is run by a
    /// fraction of requests): a keyed draw, so the same requests run it in every
    /// configuration.
    fn runs_for(&self, seed: u64) -> bool {
        use rand::RngExt;
        // Its own purpose: the step's key with a salt, so the choice is independent of the
        // step's duration draw.
        let u: f64 = engine::keyed(self.key ^ 0x9e37_79b9_7f4a_7c15, seed).random();
        u < self.probability
    }

    /// Purpose key of its keyed draws.
    pub(in crate::model) fn key(&self) -> u64 {
        self.key
    }
}

/// An ECS service: its task definition, its request profile and its tasks.
#[derive(Clone, Debug)]
pub struct Service {
    /// This service's id.
    pub id: ServiceId,
    /// Name from the scenario.
    pub name: String,
    /// The target group its tasks register in.
    pub target_group: TargetGroupId,
    /// Its task definition's `runtimePlatform.cpuArchitecture` (what Fargate charges).
    pub cpu_architecture: crate::model::spec::CpuArchitecture,
    /// Its task definition's size and the application's concurrency.
    pub task: TaskSpec,
    /// The routing weight of its targets (`target_weight`, 1 by default).
    pub target_weight: u32,
    /// Its task definition revisions (index 0: the scenario's; then one per deployment):
    /// a task runs its own revision's request profile.
    pub(in crate::model) revisions: Box<[deployment::Revision]>,
    /// Its deployments: configuration, the one in progress and those done.
    pub(in crate::model) rollout: deployment::Rollout,
    /// Memory an idle task uses, KiB.
    memory_base_kib: u64,
    /// Memory per request, KiB (as a duration's nanoseconds).
    memory: Sampler,
    /// Key `service/<name>/memory` of the memory draws.
    memory_key: u64,
    /// No fault has made its tasks answer differently (a hang, a slowdown, errors, an
    /// outage): its tasks may take the fast path when their revision's profile allows it
    /// (`model::faults` turns it off for the rest of the run with [`World::impair`]).
    pub(in crate::model) simple: bool,
    /// Running tasks, in launch order.
    running: Vec<TaskId>,
    /// Usage meters of its stopped tasks, summed.
    retired: UsageMeter,
    /// Tasks launched so far (names the next one).
    launched: u32,
    /// Tasks it keeps (`desired_count`).
    pub(in crate::model) desired: u32,
    /// Tasks counting towards `desired`: PROVISIONING to RUNNING.
    active: u32,
    /// Lifecycle durations and their draw keys, in [`lifecycle::Phase`] order.
    lifecycle: [(Sampler, u64); 7],
    /// ECS `healthCheckGracePeriodSeconds`.
    grace_period: crate::engine::SimDuration,
    /// The health check's profile.
    probe_steps: Box<[Step]>,
    /// `stopTimeout`.
    stop_timeout: crate::engine::SimDuration,
    /// The back-off of launches that failed before RUNNING.
    pub(in crate::model) throttle: network::LaunchThrottle,
    /// A retry after a failed launch is scheduled: launch nothing until it comes.
    pub(in crate::model) retry_pending: bool,
    /// `memory.oom_kill`: a task above its memory is killed.
    pub(in crate::model) oom_kill: bool,
    /// An `app_errors` fault in progress: the chance that a response is a 500, in units of
    /// 2⁻⁶⁴ (`u64::MAX`: every one), 0 when none (read on the hot path).
    pub(in crate::model) error_threshold: u64,
    /// The `app_errors` fault in progress and the key of its draws.
    pub(in crate::model) errors_by: Option<(super::ids::FaultId, u64)>,
    /// Its capacity provider strategy and Spot interruptions.
    pub(in crate::model) spot: spot::SpotState,
}

/// The steps `specs` of service `name`'s profile `field` (`steps` or
/// `health_check_steps`), ready to draw from: step `j` draws with the purpose
/// `service/<name>/<field>/<j>` (`key` makes a purpose's key).
fn build_steps(
    specs: &[StepSpec],
    name: &str,
    field: &str,
    ndeps: usize,
    key: &dyn Fn(&str) -> u64,
) -> Result<Box<[Step]>, ModelError> {
    specs
        .iter()
        .enumerate()
        .map(|(j, st)| {
            let what = format!("services.{name}.{field}.{j}");
            let (st, probability) = match st {
                StepSpec::Sometimes { probability, step } if probability.is_finite() => {
                    (&**step, probability.clamp(0.0, 1.0))
                }
                StepSpec::Sometimes { probability, .. } => {
                    return Err(ModelError::UnknownReference(format!(
                        "{what}: probability {probability} must be within 0–1"
                    )));
                }
                st => (st, 1.0),
            };
            let (kind, dist) = match st {
                StepSpec::Cpu(d) => (StepKind::Cpu, d.clone()),
                StepSpec::Wait(d) => (StepKind::Wait, d.clone()),
                StepSpec::Call { dependency } if *dependency < ndeps => (
                    StepKind::Call(DependencyId(*dependency as u32)),
                    DistSpec::default(),
                ),
                StepSpec::Call { dependency } => {
                    return Err(ModelError::UnknownReference(format!(
                        "{what} calls dependency #{dependency}, which does not exist"
                    )));
                }
                StepSpec::Sometimes { .. } => {
                    return Err(ModelError::UnknownReference(format!(
                        "{what}: a step run sometimes cannot itself be run sometimes"
                    )));
                }
            };
            Ok(Step {
                kind,
                sampler: Sampler::new(&dist, &what)?,
                key: key(&format!("{field}/{j}")),
                probability,
            })
        })
        .collect()
}

impl Service {
    /// The services of `spec`, with no task yet.
    pub(in crate::model) fn build_all(spec: &WorldSpec) -> Result<Vec<Service>, ModelError> {
        let ntg = spec.target_groups.len();
        let ndeps = spec.dependencies.len();
        let mut services = Vec::with_capacity(spec.services.len());
        for (i, s) in spec.services.iter().enumerate() {
            if s.target_group >= ntg {
                return Err(ModelError::UnknownReference(format!(
                    "service {} registers in target group #{}, which does not exist",
                    s.name, s.target_group
                )));
            }
            let key = |purpose: &str| {
                engine::stream_key(spec.seed, &format!("service/{}/{purpose}", s.name))
            };
            let steps: Vec<Step> = if s.steps.is_empty() {
                vec![Step {
                    kind: StepKind::Cpu,
                    sampler: Sampler::new(&s.cpu_time, &format!("services.{}.cpu_time", s.name))?,
                    key: key("cpu_time"),
                    probability: 1.0,
                }]
            } else {
                build_steps(&s.steps, &s.name, "steps", ndeps, &key)?.into_vec()
            };
            // The fast path (one CPU step, no memory, no health check work) is a property
            // of each revision's profile and of the service.
            let plain = s.health_check_steps.is_empty()
                && matches!(s.memory.per_request_kib, DistSpec::Deterministic(d) if d.is_zero());
            let revisions = deployment::Revision::build_all(s, steps, plain, ndeps, &key)?;
            let lc = &s.lifecycle;
            let lifecycle_dists = [
                &lc.provisioning,
                &lc.pending,
                &lc.activating,
                &lc.app_start,
                &lc.shutdown,
                &lc.deprovisioning,
                &lc.crash_detection,
            ];
            let mut lifecycle = Vec::with_capacity(7);
            for ((_, name), d) in lifecycle::Phase::ALL.iter().zip(lifecycle_dists) {
                lifecycle.push((
                    Sampler::new(d, &format!("services.{}.lifecycle.{name}", s.name))?,
                    key(&format!("lifecycle/{name}")),
                ));
            }
            let lifecycle: [(Sampler, u64); 7] = lifecycle
                .try_into()
                .expect("one sampler per lifecycle phase");
            let probe_steps = build_steps(
                &s.health_check_steps,
                &s.name,
                "health_check_steps",
                ndeps,
                &key,
            )?;
            services.push(Service {
                throttle: network::LaunchThrottle::new(),
                retry_pending: false,
                grace_period: s.health_check_grace_period,
                probe_steps,
                desired: s.desired_count,
                active: 0,
                lifecycle,
                stop_timeout: lc.stop_timeout,
                revisions,
                rollout: deployment::Rollout::new(s),
                simple: true,
                id: ServiceId(i as u32),
                name: s.name.clone(),
                target_group: TargetGroupId(s.target_group as u32),
                cpu_architecture: s.runtime_platform.cpu_architecture,
                target_weight: s.target_weight.max(1),
                task: s.task,
                memory_base_kib: s.memory.base_kib,
                memory: Sampler::new(
                    &s.memory.per_request_kib,
                    &format!("services.{}.memory.per_request", s.name),
                )?,
                memory_key: key("memory"),
                oom_kill: s.memory.oom_kill,
                error_threshold: 0,
                errors_by: None,
                spot: spot::SpotState::build(spec.seed, s)?,
                running: Vec::new(),
                retired: UsageMeter::default(),
                launched: 0,
            });
        }
        Ok(services)
    }

    /// Its running tasks, in launch order.
    pub fn running(&self) -> &[TaskId] {
        &self.running
    }

    /// The request profile of its first task definition revision.
    pub fn steps(&self) -> &[Step] {
        &self.revisions[0].steps
    }

    /// The request profile of its task definition revision `revision` (0: the first).
    pub fn steps_of(&self, revision: u16) -> &[Step] {
        &self.revisions[usize::from(revision)].steps
    }

    /// The profile request `serial` follows at a task of revision `revision`: the health
    /// check's for a health check probe, else the revision's request profile.
    pub fn steps_for(&self, serial: u64, revision: u16) -> &[Step] {
        if is_probe(serial) {
            &self.probe_steps
        } else {
            self.steps_of(revision)
        }
    }
}

impl World {
    /// The CPU meter of `service`: its running tasks' (accounted up to their last
    /// accounting point; every tick and the end bring them to the current time) plus its
    /// stopped tasks'. The one source of CPU utilisation for outputs and policies.
    pub fn service_cpu(&self, service: ServiceId) -> CpuMeter {
        self.service_usage(service).cpu
    }

    /// The usage meter (CPU, workers, memory) of `service`, like [`World::service_cpu`].
    pub fn service_usage(&self, service: ServiceId) -> UsageMeter {
        let s = &self.services[service.index()];
        s.running
            .iter()
            .fold(s.retired, |acc, t| acc + self.tasks[t.index()].usage())
    }

    /// A new task of `service`, launched at `now` (RUNNING, not yet in the service's
    /// running tasks nor registered).
    fn new_task(&mut self, now: SimTime, service: ServiceId) -> TaskId {
        let id = TaskId(self.tasks.len() as u32);
        let svc = &mut self.services[service.index()];
        let mut task = Task::new(
            id,
            format!("{}-{}", svc.name, svc.launched),
            service,
            svc.task.cpu,
            svc.task.max_concurrency,
            now,
        );
        task.number = svc.launched;
        task.memory_mib = svc.task.memory;
        task.base_kib = svc.memory_base_kib;
        task.revision = svc.rollout.primary;
        let steps = &svc.revisions[usize::from(task.revision)].steps;
        task.cpu_only =
            steps.len() == 1 && steps[0].kind == StepKind::Cpu && steps[0].probability >= 1.0;
        task.simple = svc.simple && svc.revisions[usize::from(task.revision)].simple;
        task.pools = vec![Pool::default(); self.dependencies.len()].into_boxed_slice();
        svc.launched += 1;
        task.capacity_provider = self.place_provider(service);
        self.tasks.push(task);
        id
    }

    /// A fault makes `service`'s tasks answer differently: its tasks, present and future,
    /// leave the fast path for the rest of the run (the same model, with the checks the
    /// faults need).
    pub(in crate::model) fn impair(&mut self, service: ServiceId) {
        self.services[service.index()].simple = false;
        for t in &mut self.tasks {
            if t.service == service {
                t.simple = false;
            }
        }
    }

    /// Launches a task of `service` at `now`, warm: RUNNING at once, then registered in
    /// the service's target group and healthy (the initial tasks, and the fleet operation
    /// [`Simulation::launch_task`](crate::model::Simulation::launch_task)). It counts
    /// towards the desired count, which the caller keeps.
    pub(in crate::model) fn launch_task<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        service: ServiceId,
    ) -> TaskId {
        let id = self.new_task(now, service);
        self.start_billing(now, id);
        self.tasks[id.index()].lease = self.network.allocate(service).ok();
        self.place_in_outage(id);
        let rev = self.tasks[id.index()].revision;
        let svc = &mut self.services[service.index()];
        svc.running.push(id);
        svc.count_launch(rev);
        o.lifecycle(
            now,
            &LifecycleEvent::TaskStarted { task: id, service },
            self,
        );
        self.register_target(now, o, id);
        id
    }

    /// Stops `task` at `now`, abruptly and entirely (a kill, with the service's desired
    /// count lowered by one, so it is not replaced): it is STOPPED at once, then the load
    /// balancer sees its connections close (every request at it ends with a 502, in
    /// arrival order), then its target is removed. Its calls in service at dependencies
    /// keep their capacity until they return; its calls queued there are dropped when they
    /// come up. A task that is not serving is only marked STOPPED.
    pub(in crate::model) fn stop_task<O: Observer>(&mut self, now: SimTime, o: &mut O, id: TaskId) {
        let task = &self.tasks[id.index()];
        if task.state == TaskState::Stopped {
            return;
        }
        if task.state.is_active() {
            let svc = &mut self.services[task.service.index()];
            svc.desired = svc.desired.saturating_sub(1);
        }
        self.retire(now, o, id, StopReason::Killed);
        self.remove_target(now, o, id);
        self.set_task_state(now, o, id, TaskState::Stopped);
    }

    /// A routed request (store key `key`, its task set) reaches its task: draw its memory,
    /// take a worker or wait for one, and run its first steps.
    #[inline(always)]
    pub(in crate::model) fn serve<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        let now = s.now();
        let req = self.requests.get_mut(key);
        let Some(task_id) = req.task else { return };
        let task = &mut self.tasks[task_id.index()];
        if task.simple && !is_probe(req.serial) {
            // One CPU step, no memory: take a worker and start the step, or wait.
            task.advance(now);
            let (got_worker, _) = task.arrive(req.serial, key, 0);
            o.request_dispatched(now, req);
            if got_worker {
                req.admitted = now;
                o.request_started(now, req);
                let svc = &self.services[task.service.index()];
                let step = &svc.revisions[usize::from(task.revision)].steps[0];
                req.phase_start = now;
                req.work = super::clients::cpu_demand(&self.clients, req, &step.sampler, step.key);
                task.start_cpu(req.serial, key, req.work);
            }
            reschedule(s, task);
            return;
        }
        self.serve_steps(s, o, key, task_id);
    }

    /// [`World::serve`] for a request whose profile has steps (or a health check): draw its
    /// memory, take a worker or wait for one, and run its first steps.
    #[inline(never)]
    fn serve_steps<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        task_id: TaskId,
    ) {
        let now = s.now();
        if self.tasks[task_id.index()].impaired() {
            // A fault keeps the task from answering (its service left the fast path).
            self.serve_impaired(s, o, key, task_id);
            return;
        }
        let req = self.requests.get_mut(key);
        let task = &mut self.tasks[task_id.index()];
        let svc = &self.services[task.service.index()];
        // A health check's memory is not modelled: only client requests draw theirs.
        let memory = if is_probe(req.serial) {
            0
        } else {
            draw(&svc.memory, svc.memory_key, req.seed).0
        };
        req.memory_kib = u32::try_from(memory).unwrap_or(u32::MAX);
        task.advance(now);
        let (got_worker, crossing) = task.arrive(req.serial, key, u64::from(req.memory_kib));
        let probe = is_probe(req.serial);
        if !probe {
            o.request_dispatched(now, req);
        }
        if let Some(c) = crossing {
            self.memory_crossing(now, o, task_id, c);
        }
        if got_worker {
            let req = self.requests.get_mut(key);
            req.admitted = now;
            if !probe {
                o.request_started(now, req);
            }
            self.run_steps(s, o, key);
            self.run_ready(s, o);
        }
        reschedule(s, &mut self.tasks[task_id.index()]);
    }

    /// Runs request `key`, which holds a worker, through its steps from `req.step` until
    /// one blocks (a CPU step, a wait, a call) or the profile ends (the request ends `ok`).
    /// Does not reschedule the task's completion: the handler does, once.
    #[inline]
    pub(in crate::model) fn run_steps<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        let now = s.now();
        loop {
            let req = self.requests.get_mut(key);
            let Some(task_id) = req.task else { return };
            let task = &mut self.tasks[task_id.index()];
            let svc = &self.services[task.service.index()];
            let steps = if is_probe(req.serial) {
                &svc.probe_steps
            } else {
                &svc.revisions[usize::from(task.revision)].steps
            };
            let Some(step) = steps.get(usize::from(req.step)) else {
                let cause = if is_probe(req.serial) {
                    Cause::Ok
                } else {
                    svc.answer(req.seed)
                };
                self.end_at_task(now, o, key, cause);
                return;
            };
            if step.probability < 1.0 && !step.runs_for(req.seed) {
                req.step += 1;
                continue;
            }
            req.phase_start = now;
            match step.kind {
                StepKind::Cpu => {
                    let work =
                        super::clients::cpu_demand(&self.clients, req, &step.sampler, step.key);
                    req.work += work;
                    task.advance(now);
                    task.start_cpu(req.serial, key, task.slowed(work));
                    return;
                }
                StepKind::Wait => {
                    let d = draw(&step.sampler, step.key, req.seed);
                    if d.is_zero() {
                        req.step += 1;
                        continue;
                    }
                    let serial = req.serial;
                    s.schedule_in(d, Event::StepDone { key, serial });
                    return;
                }
                StepKind::Call(dep) => {
                    let step_key = step.key;
                    req.call_began = now;
                    self.begin_call(s, o, key, dep, step_key);
                    return;
                }
            }
        }
    }

    /// The end of a handler that changed `task`: runs the requests made ready, then keeps
    /// the task's completion event right.
    #[inline]
    pub(in crate::model) fn settle<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        task: TaskId,
    ) {
        self.run_ready(s, o);
        reschedule(s, &mut self.tasks[task.index()]);
    }

    /// Runs the requests made ready (a worker handed over) until none is left.
    #[inline]
    pub(in crate::model) fn run_ready<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O) {
        while let Some(key) = self.ready.pop_front() {
            self.run_steps(s, o, key);
        }
    }

    /// Request `key`, at its task with a worker, ends with `cause` at `now` (its last step
    /// done, or a call failed): the task gets its worker and memory back and hands the
    /// worker to the next request waiting (made ready), and the load balancer sees the
    /// response. Call with the task advanced to `now`.
    #[inline]
    pub(in crate::model) fn end_at_task<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        key: u32,
        cause: Cause,
    ) {
        let req = self.requests.remove(key);
        let Some(task_id) = req.task else { return };
        let task = &mut self.tasks[task_id.index()];
        task.advance(now);
        let (next, crossing) = task.depart(u64::from(req.memory_kib));
        let drained = self.request_over(now, o, &req, cause);
        if let Some(next) = next {
            let r = self.requests.get_mut(next);
            r.admitted = now;
            // Not for a health check, nor a request whose client gave up (it ended for
            // the observers).
            if r.serial & (PROBE_SERIAL | CLIENT_GONE) == 0 {
                o.request_started(now, r);
            }
            self.ready.push_back(next);
        }
        if let Some(c) = crossing {
            self.memory_crossing(now, o, task_id, c);
        }
        if drained {
            self.complete_drain(now, o, req.target_group, req.slot);
        }
    }

    /// Request `req` (removed from the store) ends with `cause`: a client request is
    /// accounted by its node and reported; a health check's result is kept for after the
    /// handler. Returns true if it was the last request in flight to a draining target.
    #[inline]
    pub(in crate::model) fn request_over<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        req: &Request,
        cause: Cause,
    ) -> bool {
        if req.serial & (PROBE_SERIAL | CLIENT_GONE) != 0 {
            return self.probe_or_gone_over(req, cause);
        }
        let cause = if self.lb.nlb.is_some() {
            // Behind an NLB: no HTTP error, and the request frees its own connection.
            self.nlb_request_ended(now, req, cause)
        } else {
            self.clients[req.client.index()].request_ended(now);
            cause
        };
        let mut drained = self
            .lb
            .request_ended::<false>(&self.target_groups, now, req, cause);
        if drained && self.lb.nlb.is_some() {
            // Behind an NLB a draining target also waits for its connections.
            drained = !self.nlb_holds(req.target_group, req.slot);
        }
        self.alb_request_ended(now, req, cause);
        self.session_ended(now, req, cause);
        o.request_finished(now, req, cause);
        drained
    }

    /// [`World::request_over`] for a health check, or a request whose client gave up
    /// (see [`crate::model::clients::timeout`]): that one ended for its client and the load
    /// balancer already, so nothing more is accounted (its task has let it go).
    #[cold]
    #[inline(never)]
    fn probe_or_gone_over(&mut self, req: &Request, cause: Cause) -> bool {
        if !is_probe(req.serial) {
            self.abandoned -= 1;
            if let Some(t) = req.task {
                let t = &mut self.tasks[t.index()];
                t.abandoned = t.abandoned.saturating_sub(1);
            }
            return false;
        }
        self.probes_in_flight -= 1;
        let mut cause = cause;
        if let Some(t) = req.task {
            let t = &mut self.tasks[t.index()];
            t.probes_held = t.probes_held.saturating_sub(1);
            let rev = &self.services[t.service.index()].revisions[usize::from(t.revision)];
            if cause == Cause::Ok && rev.failure == RevisionFailure::FailHealthChecks {
                // A bad revision answers its health check with HTTP 500.
                cause = Cause::Target5xx;
            }
        }
        self.deferred = true;
        self.probe_results
            .push((req.target_group, req.slot, req.node.0, req.serial, cause));
        false
    }

    /// Reports a task going above its memory or coming back (out of the hot path).
    #[cold]
    #[inline(never)]
    fn memory_crossing<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task: TaskId,
        crossing: MemoryCrossing,
    ) {
        let service = self.tasks[task.index()].service;
        if matches!(crossing, MemoryCrossing::Exceeded(_))
            && self.services[service.index()].oom_kill
        {
            // Killed once the current handler returns (its requests are being worked on).
            self.oom_killed.push(task);
            self.deferred = true;
        }
        let t = &self.tasks[task.index()];
        let limit_kib = u64::from(t.memory_mib) * 1024;
        let event = match crossing {
            MemoryCrossing::Exceeded(used_kib) => LifecycleEvent::MemoryExceeded {
                task,
                service: t.service,
                used_kib,
                limit_kib,
            },
            MemoryCrossing::Recovered(peak_kib) => LifecycleEvent::MemoryRecovered {
                task,
                service: t.service,
                peak_kib,
                limit_kib,
            },
        };
        o.lifecycle(now, &event, self);
    }

    /// A task's earliest CPU step may be done.
    #[inline]
    pub(in crate::model) fn on_completion<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        task_id: TaskId,
        generation: u64,
    ) {
        let now = s.now();
        let task = &mut self.tasks[task_id.index()];
        if task.generation != generation {
            return; // stale: the task rescheduled earlier, or stopped, since
        }
        if now < task.next_completion {
            // The completion moved later since this event was scheduled: re-arm, touching
            // nothing else (the task is not advanced).
            task.scheduled = task.next_completion;
            if task.scheduled != SimTime::MAX {
                s.schedule_at(
                    task.scheduled,
                    Event::Completion {
                        task: task_id,
                        generation,
                    },
                );
            }
            return;
        }
        task.next_completion = SimTime::MAX;
        task.scheduled = SimTime::MAX;
        task.advance(now);
        if task.simple {
            self.complete_simple::<O, PLAIN>(now, o, task_id);
            if !self.ready.is_empty() {
                self.run_ready(s, o);
            }
        } else {
            while let Some((_, key)) = self.tasks[task_id.index()].pop_finished() {
                let req = self.requests.get_mut(key);
                req.cpu_wall += now - req.phase_start;
                req.step += 1;
                self.run_steps(s, o, key);
            }
            self.run_ready(s, o);
        }
        reschedule(s, &mut self.tasks[task_id.index()]);
    }

    /// [`World::on_completion`] for a service whose profile is one CPU step and whose
    /// requests use no memory: each finished request ends `ok` and its worker passes to
    /// the next request waiting, which starts its CPU step at once. The same model as
    /// [`World::run_steps`] and [`World::end_at_task`], without the step dispatch.
    #[inline]
    /// `PLAIN`: the world is [`World::plain`] (no sessions, no connections).
    fn complete_simple<O: Observer, const PLAIN: bool>(
        &mut self,
        now: SimTime,
        o: &mut O,
        task_id: TaskId,
    ) {
        let task = &mut self.tasks[task_id.index()];
        let svc = &self.services[task.service.index()];
        let step = &svc.revisions[usize::from(task.revision)].steps[0];
        // A task is one target, so at most one deregistration can complete here.
        let mut drained = None;
        while let Some((_, key)) = task.pop_finished() {
            // Read in place, then freed (no 152-byte copy out of the store).
            let req = self.requests.get_mut(key);
            req.cpu_wall = now - req.phase_start;
            req.step = 1;
            let req = self.requests.get(key);
            let (next, _) = task.depart(0);
            // A request whose client gave up ended for it and the load balancer already
            // (see `model::clients::timeout`): its task just lets it go.
            if PLAIN || req.serial & CLIENT_GONE == 0 {
                if self
                    .lb
                    .request_ended::<PLAIN>(&self.target_groups, now, req, Cause::Ok)
                {
                    drained = Some((req.target_group, req.slot));
                }
                let bytes = crate::model::cost::request_bytes(&self.clients, req, Cause::Ok);
                self.cost.alb.ended(now, bytes);
                if !PLAIN && self.sessions_on {
                    crate::model::clients::session_end(
                        crate::model::clients::SessionParts {
                            lb: &mut self.lb,
                            clients: &self.clients,
                            wakeups: &mut self.wakeups,
                            deferred: &mut self.deferred,
                            end: self.end,
                        },
                        now,
                        req,
                        Cause::Ok,
                    );
                }
                if !PLAIN {
                    self.clients[req.client.index()].request_ended(now);
                }
                o.request_finished(now, req, Cause::Ok);
            } else {
                self.abandoned -= 1;
                task.abandoned = task.abandoned.saturating_sub(1);
            }
            self.requests.free(key);
            if let Some(next) = next {
                let r = self.requests.get_mut(next);
                r.admitted = now;
                if r.serial & (PROBE_SERIAL | CLIENT_GONE) != 0 {
                    if is_probe(r.serial) {
                        // A health check got the worker: it runs its own (empty) profile.
                        self.ready.push_back(next);
                        continue;
                    }
                } else {
                    o.request_started(now, r);
                }
                r.phase_start = now;
                r.work = draw(&step.sampler, step.key, r.seed);
                task.start_cpu(r.serial, next, r.work);
            }
        }
        if let Some((tg, slot)) = drained {
            self.complete_drain(now, o, tg, slot);
        }
    }

    /// A wait step of request `serial` (store key `key`) is over, unless the request has
    /// ended (its task stopped).
    pub(in crate::model) fn on_step_done<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
    ) {
        let now = s.now();
        let Some(req) = self.requests.live(key, serial) else {
            return;
        };
        req.waits += now - req.phase_start;
        req.step += 1;
        let Some(task_id) = req.task else { return };
        self.run_steps(s, o, key);
        self.settle(s, o, task_id);
    }

    /// Reschedules the completion of every running task (after a change that may have
    /// touched many tasks, such as a fault).
    pub(in crate::model) fn reschedule_all(&mut self, s: &mut Scheduler<Event>) {
        for svc in &self.services {
            for &t in &svc.running {
                reschedule(s, &mut self.tasks[t.index()]);
            }
        }
    }
}

/// Keeps one pending completion event per busy task, no later than its next completion.
///
/// When the completion moves earlier (a request leaves the CPU, or one with little work
/// joins), a new event is scheduled and the pending one goes stale (its generation). When it
/// moves later (a request joins the CPU and slows the others down), the pending event is
/// kept: it fires first, finds nothing due and re-arms itself at the new time without
/// touching the task (see [`World::on_completion`]). So a burst of arrivals costs one
/// re-arm, not one stale event each, and the task's accounting runs at the same instants
/// as if every move had scheduled its own event.
#[inline]
pub(in crate::model) fn reschedule(s: &mut Scheduler<Event>, task: &mut Task) {
    let next = task.completion_time();
    if next == task.next_completion {
        return;
    }
    task.next_completion = next;
    if next == SimTime::MAX || task.scheduled <= next {
        return; // nothing due, or the pending event fires first and re-arms
    }
    task.generation = task.generation.wrapping_add(1);
    task.scheduled = next;
    s.schedule_at(
        next,
        Event::Completion {
            task: task.id,
            generation: task.generation,
        },
    );
}
