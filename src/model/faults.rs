//! Faults injected during the run. Each fault is a start event and, for a window, an end
//! event; the model emits a typed lifecycle event for each so outputs can show the window.
//!
//! **Dependencies.** `dependency_down` and `dependency_slow` act on a dependency (see
//! `model::dependencies`).
//!
//! **One task.** `task_crash`, `task_hang` and `task_slow` strike the `task`-th serving task
//! of a service, oldest first, at their start (no such task: the strike does nothing). A
//! window's end is an event for that task ([`Event::TaskFaultEnd`]), so the task it ends on is
//! the one struck, whatever launched or stopped in between. A **random** one (a
//! `mean_time_between_failures`) strikes again and again: the intervals between strikes are
//! exponential with that mean, from `start`, and each strike picks a task uniformly among the
//! service's serving tasks (none serving: that strike does nothing); both draws are keyed by
//! the strike's number under the fault's own purposes (`fault/<i>/strikes`,
//! `fault/<i>/tasks`), so they depend on the seed alone, not on what else happens. Each strike
//! has its own window of `duration`.
//!
//! - **Crash**: its process exits (`model::ecs` lifecycle: a 502 for its requests in flight,
//!   ECS notices after `crash_detection` and replaces it).
//! - **Hang**: its application accepts connections but answers nothing (a deadlock, an
//!   exhausted thread pool that still accepts). Every request at it when it hangs, and every
//!   request sent to it while it hangs, ends with a 504 when the load balancer's
//!   `idle_timeout` expires, counted from when the request was sent to the target (at once if
//!   that is already past): "The load balancer established a connection to the target but the
//!   target did not respond before the idle timeout period elapsed"
//!   (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-504-issues>).
//!   Its health checks get no answer and fail at their `timeout` (`Target.Timeout`), so
//!   after `unhealthy_threshold` of them its target turns unhealthy and ECS replaces it
//!   (`model::ecs`). A hung task does its requests no work: it uses no CPU, holds no worker
//!   and no memory for them. When a hang ends, the task answers new requests again; the ones
//!   it received while hung still end with their 504 (their connection is lost). A hung
//!   application ignores SIGTERM: stopping it takes the whole `stop_timeout`.
//! - **Slow** (a gray failure): its CPU runs `factor` times slower for the window, as under
//!   CPU steal or throttling. Its CPU steps in progress keep the work done and take `factor`
//!   times longer for the rest (processor sharing stays exact: the task's service rate
//!   changes at the window's start and end, and its completion is rescheduled). It still
//!   answers health checks that need no CPU: the load balancer keeps sending it a full share.
//!   A second `task_slow` striking a task that is already slow does nothing.
//!
//! **A service.** `app_errors`: during the window every response a task of the service
//! finishes is, with probability `fraction`, a 500 (`target_5xx`) instead of a 200, decided
//! by a keyed draw from the request's seed under the purpose `fault/<i>/app_errors`, so the
//! same requests fail whatever the event order. Health checks are answered normally (a
//! health endpoint is usually its own handler). A second `app_errors` on a service already
//! failing does nothing.
//!
//! **A zone.** `az_outage`: every task whose address is in the Availability Zone, and every
//! task launched there during the window (ECS still places by fewest tasks per zone), is
//! unreachable: a request sent to it ends with a 504 after the load balancer's 10 s connect
//! timeout ("The load balancer failed to establish a connection to the target before the
//! connection timeout expired (10 seconds)", same page), a request in flight at it when the
//! outage begins ends with a 504 at the idle timeout (the connection carries no more data),
//! and its health checks time out, so its target turns unhealthy and ECS replaces the task,
//! placing the replacement by fewest tasks per zone. The load balancer's own node in that
//! zone is not modelled as failing (the model routes through one node).
//!
//! **Random windows.** A window fault (`dependency_down`, `dependency_slow`, `app_errors`,
//! `az_outage`) with a `mean_time_between_failures` comes again and again, as an
//! alternating renewal process: the first window starts an exponential interval of that
//! mean after `start`, and each next one an exponential interval after the previous window
//! ended, so windows never overlap; each lasts `duration`. The intervals are keyed by the
//! window's number under `fault/<i>/strikes`, so they depend on the seed alone.
//!
//! **Cost.** A run without these faults pays nothing for them: a service whose tasks a hang,
//! a slowdown, errors or an outage touch leaves the fast path (one CPU step, no memory) for
//! the rest of the run and takes the steps path, where the checks are (the same model).

use rand::Rng;

use super::ModelError;
use super::dist::Sampler;
use super::ecs::{Service, reschedule};
use super::elb::health::{PROBE_SERIAL, is_probe};
use super::ids::{DependencyId, FaultId, ServiceId, TaskId};
use super::observer::{LifecycleEvent, Observer, StopReason};
use super::outcome::Cause;
use super::request::{CLIENT_GONE, draw};
use super::spec::{DistSpec, FaultKind, FaultSpec, SubnetSpec, WorldSpec};
use super::world::{Event, World};
use crate::engine::{self, Scheduler, SimDuration, SimTime, below, keyed};

/// The ALB's timeout for establishing a connection to a target: 10 s, not configurable
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-504-issues>).
pub const TARGET_CONNECT_TIMEOUT: SimDuration = SimDuration::from_secs(10);

/// A fault of the run.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Its id (scenario order).
    pub id: FaultId,
    /// When it starts.
    pub start: SimTime,
    /// When its (first) window ends; each strike of a random fault has its own window of
    /// [`Fault::duration`].
    pub end: SimTime,
    /// What it does.
    pub kind: FaultKind,
    /// How long each window lasts (each strike's, for a random fault).
    pub duration: SimDuration,
    /// The key of an `app_errors` fault's draws (`fault/<i>/app_errors`).
    error_key: u64,
    /// A random fault's intervals between strikes (exponential, of mean
    /// `mean_time_between_failures`), drawn keyed by the strike's number under
    /// `fault/<i>/strikes`; the task each strike picks is drawn under `fault/<i>/tasks`.
    random: Option<Random>,
    /// Strikes so far.
    strikes: u32,
}

/// What makes a fault random.
#[derive(Clone, Debug)]
struct Random {
    /// The mean time between strikes.
    mean: SimDuration,
    /// Exponential of that mean.
    gaps: Sampler,
    /// Key of the intervals' draws (`fault/<i>/strikes`).
    gap_key: u64,
    /// Key of the tasks' draws (`fault/<i>/tasks`).
    pick_key: u64,
}

/// The Availability Zones of `spec`'s network, in the order they first appear (the
/// default network's when it names no subnet).
pub fn availability_zones(spec: &WorldSpec) -> Vec<String> {
    let default;
    let subnets = if spec.subnets.is_empty() {
        default = SubnetSpec::default_network();
        &default
    } else {
        &spec.subnets
    };
    let mut zones: Vec<String> = Vec::new();
    for s in subnets {
        if !zones.contains(&s.availability_zone) {
            zones.push(s.availability_zone.clone());
        }
    }
    zones
}

impl Fault {
    /// The faults of `spec`.
    pub(in crate::model) fn build_all(spec: &WorldSpec) -> Result<Vec<Fault>, ModelError> {
        let zones = availability_zones(spec).len();
        spec.faults
            .iter()
            .enumerate()
            .map(|(i, f): (usize, &FaultSpec)| {
                let bad = |what: String| Err(ModelError::UnknownReference(format!("fault #{i} {what}")));
                match f.kind {
                    FaultKind::DependencyDown { dependency: dep }
                    | FaultKind::DependencySlow {
                        dependency: dep, ..
                    } if dep >= spec.dependencies.len() => {
                        return bad(format!("acts on dependency #{dep}, which does not exist"));
                    }
                    FaultKind::TaskCrash { service, .. }
                    | FaultKind::TaskHang { service, .. }
                    | FaultKind::TaskSlow { service, .. }
                    | FaultKind::AppErrors { service, .. }
                        if service >= spec.services.len() =>
                    {
                        return bad(format!("acts on service #{service}, which does not exist"));
                    }
                    FaultKind::AzOutage { availability_zone }
                        if availability_zone as usize >= zones =>
                    {
                        return bad(format!(
                            "acts on Availability Zone #{availability_zone}; the network has {zones}"
                        ));
                    }
                    FaultKind::DependencySlow { factor, .. }
                        if !(factor.is_finite() && factor > 0.0) =>
                    {
                        return bad(format!("slow-down factor {factor} must be finite and > 0"));
                    }
                    FaultKind::TaskSlow { factor, .. }
                        if !(factor.is_finite() && (1.0..=1000.0).contains(&factor)) =>
                    {
                        return bad(format!("CPU slow-down factor {factor} must be 1–1000"));
                    }
                    FaultKind::AppErrors { fraction, .. } if !(0.0..=1.0).contains(&fraction) => {
                        return bad(format!("error fraction {fraction} must be 0–1"));
                    }
                    _ => {}
                }
                let key = |purpose: &str| engine::stream_key(spec.seed, &format!("fault/{i}/{purpose}"));
                let random = match f.mean_time_between_failures {
                    None => None,
                    Some(mean) if mean.is_zero() => {
                        return bad("has a mean time between failures of 0".into());
                    }
                    Some(mean) => Some(Random {
                        mean,
                        gaps: Sampler::new(
                            &DistSpec::Exponential { mean },
                            &format!("faults.{i}.mean_time_between_failures"),
                        )?,
                        gap_key: key("strikes"),
                        pick_key: key("tasks"),
                    }),
                };
                Ok(Fault {
                    id: FaultId(i as u32),
                    start: f.start,
                    end: f.start.checked_add(f.duration).unwrap_or(SimTime::MAX),
                    kind: f.kind,
                    duration: f.duration,
                    error_key: key("app_errors"),
                    random,
                    strikes: 0,
                })
            })
            .collect()
    }

    /// The dependency it acts on, if it acts on one.
    pub fn dependency(&self) -> Option<DependencyId> {
        match self.kind {
            FaultKind::DependencyDown { dependency }
            | FaultKind::DependencySlow { dependency, .. } => Some(DependencyId(dependency as u32)),
            _ => None,
        }
    }

    /// The service it acts on (one of its tasks, or all of them), if it acts on one.
    pub fn service(&self) -> Option<ServiceId> {
        match self.kind {
            FaultKind::TaskCrash { service, .. }
            | FaultKind::TaskHang { service, .. }
            | FaultKind::TaskSlow { service, .. }
            | FaultKind::AppErrors { service, .. } => Some(ServiceId(service as u32)),
            _ => None,
        }
    }

    /// The position (oldest first) of the task it strikes, for a fault that acts on one task.
    fn nth_task(&self) -> Option<u32> {
        match self.kind {
            FaultKind::TaskCrash { task, .. }
            | FaultKind::TaskHang { task, .. }
            | FaultKind::TaskSlow { task, .. } => Some(task),
            _ => None,
        }
    }

    /// The mean time between a random fault's strikes (`None`: it strikes once).
    pub fn mean_time_between_failures(&self) -> Option<SimDuration> {
        self.random.as_ref().map(|r| r.mean)
    }

    /// When a random fault's strike `n` (from 0) comes, after the one before (or `start`).
    fn gap(&self, n: u32) -> Option<SimDuration> {
        self.random
            .as_ref()
            .map(|r| draw(&r.gaps, r.gap_key, u64::from(n)))
    }

    /// True for a fault that happens at one instant (a crash): it has no end event.
    pub fn is_instant(&self) -> bool {
        matches!(self.kind, FaultKind::TaskCrash { .. })
    }
}

impl Service {
    /// `memory.oom_kill`: a task of the service that goes above its memory is killed.
    pub fn oom_kill(&self) -> bool {
        self.oom_kill
    }

    /// How a response that the service's task finishes ends: `ok`, or `target_5xx` drawn
    /// under an `app_errors` fault (keyed by the request's `seed`).
    #[inline(always)]
    pub(in crate::model) fn answer(&self, seed: u64) -> Cause {
        if self.error_threshold == 0 {
            Cause::Ok
        } else {
            self.answer_drawn(seed)
        }
    }

    #[cold]
    #[inline(never)]
    fn answer_drawn(&self, seed: u64) -> Cause {
        let key = self.errors_by.map_or(0, |(_, k)| k);
        let r = keyed(key, seed).next_u64();
        if self.error_threshold == u64::MAX || r < self.error_threshold {
            Cause::Target5xx
        } else {
            Cause::Ok
        }
    }
}

/// The profile step of a request that will get no answer (see [`World::freeze`]): it runs
/// no more steps.
const FROZEN: u16 = u16::MAX;

impl World {
    /// Schedules every fault's start and end that fall within the run (a fault that acts on
    /// one task schedules its end when it strikes).
    pub(in crate::model) fn schedule_faults(&self, s: &mut Scheduler<Event>) {
        for f in &self.faults {
            let first = match f.gap(0) {
                Some(gap) => f.start.checked_add(gap).unwrap_or(SimTime::MAX),
                None => f.start,
            };
            if first <= self.end {
                s.schedule_at(first, Event::FaultStart(f.id));
            }
            // A random window's end is scheduled when it starts.
            if f.end <= self.end && !f.is_instant() && f.nth_task().is_none() && f.random.is_none()
            {
                s.schedule_at(f.end, Event::FaultEnd(f.id));
            }
        }
    }

    /// A fault starts (`started`) or ends.
    pub(in crate::model) fn on_fault<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: FaultId,
        started: bool,
    ) {
        let now = s.now();
        let fault = &self.faults[id.index()];
        if let (Some(nth), Some(service)) = (fault.nth_task(), fault.service()) {
            let running = self.services[service.index()].running();
            let task = match &fault.random {
                None => running.get(nth as usize).copied(),
                Some(r) => {
                    // A task drawn uniformly, keyed by the strike's number; the next strike.
                    let n = fault.strikes;
                    let task = u32::try_from(running.len())
                        .ok()
                        .filter(|&len| len > 0)
                        .map(|len| {
                            running[below(&mut keyed(r.pick_key, u64::from(n)), len) as usize]
                        });
                    let next = fault
                        .gap(n + 1)
                        .and_then(|g| now.checked_add(g))
                        .filter(|&t| t <= self.end);
                    if let Some(next) = next {
                        s.schedule_at(next, Event::FaultStart(id));
                    }
                    self.faults[id.index()].strikes += 1;
                    task
                }
            };
            self.strike(s, o, id, task);
            return;
        }
        let dep = fault.dependency().unwrap_or(DependencyId(0));
        let (kind, error_key) = (fault.kind, fault.error_key);
        let event = if started {
            LifecycleEvent::FaultStarted {
                fault: id,
                task: None,
            }
        } else {
            LifecycleEvent::FaultEnded {
                fault: id,
                task: None,
            }
        };
        o.lifecycle(now, &event, self);
        if fault.random.is_some() {
            // A random window: schedule its end, or, as it ends, the next one's start (an
            // exponential interval after this end, keyed by the window's number).
            let next = if started {
                now.checked_add(fault.duration)
            } else {
                let n = fault.strikes + 1;
                self.faults[id.index()].strikes = n;
                self.faults[id.index()]
                    .gap(n)
                    .and_then(|g| now.checked_add(g))
            };
            if let Some(t) = next.filter(|&t| t <= self.end) {
                s.schedule_at(
                    t,
                    if started {
                        Event::FaultEnd(id)
                    } else {
                        Event::FaultStart(id)
                    },
                );
            }
        }
        match (kind, started) {
            (FaultKind::DependencyDown { .. }, true) => {
                let queued = self.dependencies[dep.index()].go_down(now);
                for (key, serial) in queued {
                    if self.requests.live(key, serial).is_some() {
                        self.fail_queued_call(s, o, key, dep);
                    }
                }
                self.run_ready(s, o);
                self.reschedule_all(s);
            }
            (FaultKind::DependencyDown { .. }, false) => {
                self.dependencies[dep.index()].come_up();
            }
            (FaultKind::DependencySlow { factor, .. }, true) => {
                self.dependencies[dep.index()].set_slow(id, Some(factor));
            }
            (FaultKind::DependencySlow { .. }, false) => {
                self.dependencies[dep.index()].set_slow(id, None);
            }
            (FaultKind::AppErrors { service, fraction }, true) => {
                self.impair(ServiceId(service as u32));
                let svc = &mut self.services[service];
                if svc.errors_by.is_none() {
                    svc.errors_by = Some((id, error_key));
                    svc.error_threshold = if fraction >= 1.0 {
                        u64::MAX
                    } else {
                        // fraction × 2⁶⁴, exact for the fractions a scenario writes.
                        (fraction * 18_446_744_073_709_551_616.0) as u64
                    };
                }
            }
            (FaultKind::AppErrors { service, .. }, false) => {
                let svc = &mut self.services[service];
                if svc.errors_by.map(|e| e.0) == Some(id) {
                    svc.errors_by = None;
                    svc.error_threshold = 0;
                }
            }
            (FaultKind::AzOutage { availability_zone }, up) => {
                for svc in 0..self.services.len() {
                    self.impair(ServiceId(svc as u32));
                }
                self.az_outage(s, availability_zone, up);
            }
            (FaultKind::TaskCrash { .. } | FaultKind::TaskHang { .. }, _)
            | (FaultKind::TaskSlow { .. }, _) => {
                unreachable!("a fault that acts on one task strikes")
            }
        }
    }

    /// Fault `id`, which acts on one task, strikes `task` (`None`: its service had no such
    /// task, and it does nothing); a window's end is scheduled for that task.
    fn strike<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: FaultId,
        task: Option<TaskId>,
    ) {
        let now = s.now();
        o.lifecycle(now, &LifecycleEvent::FaultStarted { fault: id, task }, self);
        let Some(task) = task else { return };
        let service = self.tasks[task.index()].service;
        if !matches!(self.faults[id.index()].kind, FaultKind::TaskCrash { .. }) {
            self.impair(service);
        }
        let fault = &self.faults[id.index()];
        let (kind, end) = (
            fault.kind,
            now.checked_add(fault.duration).unwrap_or(SimTime::MAX),
        );
        match kind {
            FaultKind::TaskCrash { .. } => {
                self.crash(s, o, task, StopReason::EssentialContainerExited);
                return;
            }
            FaultKind::TaskHang { .. } => {
                let t = &mut self.tasks[task.index()];
                if t.hung_by.is_none() && t.stopped.is_none() {
                    let was = t.impaired();
                    t.hung_by = Some(id);
                    if !was {
                        self.freeze_requests_at(s, task);
                    }
                }
            }
            FaultKind::TaskSlow { factor, .. } => {
                let t = &mut self.tasks[task.index()];
                if t.slowed_by.is_none() {
                    let q = ((factor * 1024.0).round() as u64).max(1024);
                    t.slowed_by = Some((id, q));
                    t.advance(now);
                    t.set_slowdown(q);
                    reschedule(s, t);
                }
            }
            _ => unreachable!("only faults that act on one task strike"),
        }
        if end <= self.end {
            s.schedule_at(end, Event::TaskFaultEnd { fault: id, task });
        }
    }

    /// The window of fault `id` on `task` ends.
    pub(in crate::model) fn on_task_fault_end<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: FaultId,
        task: TaskId,
    ) {
        let now = s.now();
        o.lifecycle(
            now,
            &LifecycleEvent::FaultEnded {
                fault: id,
                task: Some(task),
            },
            self,
        );
        let t = &mut self.tasks[task.index()];
        if t.hung_by == Some(id) {
            t.hung_by = None;
        }
        if t.slowed_by.map(|x| x.0) == Some(id) {
            t.slowed_by = None;
            t.advance(now);
            t.set_slowdown(0);
            reschedule(s, t);
        }
    }

    /// Zone `az`'s outage begins (`down`) or ends: its tasks become unreachable (their
    /// requests in flight lose their connection) or reachable again.
    fn az_outage(&mut self, s: &mut Scheduler<Event>, az: u32, down: bool) {
        let n = &mut self.az_down[az as usize];
        *n = if down { *n + 1 } else { n.saturating_sub(1) };
        let unreachable = *n > 0;
        for i in 0..self.tasks.len() {
            let t = &mut self.tasks[i];
            if t.lease.is_none_or(|l| l.az != az) || t.unreachable == unreachable {
                continue;
            }
            let (id, was) = (t.id, t.impaired());
            t.unreachable = unreachable;
            if unreachable && !was {
                self.freeze_requests_at(s, id);
            }
        }
    }

    /// A task just launched (its address leased) is unreachable if its zone is out.
    pub(in crate::model) fn place_in_outage(&mut self, id: TaskId) {
        let t = &mut self.tasks[id.index()];
        if let Some(l) = t.lease {
            t.unreachable = self.az_down.get(l.az as usize).is_some_and(|&n| n > 0);
        }
    }

    /// Every request at `task` (it just hung, or became unreachable) will get no answer:
    /// the task forgets them, and each ends at its timeout.
    fn freeze_requests_at(&mut self, s: &mut Scheduler<Event>, task: TaskId) {
        let now = s.now();
        let keys = self.requests.at_task(task);
        let t = &mut self.tasks[task.index()];
        if t.stopped.is_none() {
            t.advance(now);
            // The requests frozen already (by an earlier hang or outage) stay counted.
            let frozen = t.unanswered;
            t.drop_requests();
            t.unanswered = frozen;
            reschedule(s, t);
        }
        for key in keys {
            self.freeze(s, key, false);
        }
    }

    /// A request (store key `key`, routed) reaches a task that will not answer (see
    /// [`crate::model::Task::impaired`]): it is sent, and ends at its timeout.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn serve_impaired<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        task: TaskId,
    ) {
        let now = s.now();
        let t = &mut self.tasks[task.index()];
        let connect = t.unreachable;
        let req = self.requests.get(key);
        if is_probe(req.serial) {
            // Counted by the probe's sender; the task never holds it.
            t.probes_held = t.probes_held.saturating_sub(1);
        } else {
            o.request_dispatched(now, req);
        }
        self.freeze(s, key, connect);
    }

    /// Request `key` will get no answer: it moves to a new store key, so that every event
    /// pending for it (a CPU step, a wait, a call) finds it gone, and it ends at its
    /// deadline: a health check at its `timeout`, a client request at the connect timeout
    /// (`connect`) or the idle timeout, from when it was sent to the target (at once if that
    /// has passed).
    ///
    /// A request frozen already (its task hung, then its zone went down, or the reverse)
    /// keeps its first deadline: it is counted once in its task's `unanswered`.
    fn freeze(&mut self, s: &mut Scheduler<Event>, key: u32, connect: bool) {
        let now = s.now();
        let mut req = *self.requests.get(key);
        if req.step == FROZEN {
            return;
        }
        req.step = FROZEN;
        if let (Some(t), false) = (req.task, is_probe(req.serial)) {
            self.tasks[t.index()].unanswered += 1;
        }
        let wait = if is_probe(req.serial) {
            // Its task no longer counts it (its result is a timeout either way).
            req.task = None;
            self.target_groups[req.target_group.index()]
                .health
                .spec
                .timeout
        } else if connect {
            TARGET_CONNECT_TIMEOUT
        } else {
            self.idle_timeout
        };
        let deadline = req
            .dispatched
            .checked_add(wait)
            .unwrap_or(SimTime::MAX)
            .max(now);
        let serial = req.serial;
        // Insert before removing: the slab would hand the freed key straight back.
        let new = self.requests.insert(req);
        self.requests.remove(key);
        if self.timeouts_on && serial & (PROBE_SERIAL | CLIENT_GONE) == 0 {
            // Its client's timer names the old key: set it again.
            self.arm_client_timeout(s, new);
        }
        if deadline <= self.end {
            s.schedule_at(
                deadline,
                Event::Unanswered {
                    key: new,
                    connect,
                    serial,
                },
            );
        }
    }

    /// The load balancer gives up on request `serial` (store key `key`) if it is still
    /// live: a 504 (connect or idle timeout); a health check fails by timeout.
    pub(in crate::model) fn on_unanswered<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
        connect: bool,
    ) {
        if self.requests.live(key, serial).is_none() {
            return;
        }
        let now = s.now();
        let req = self.requests.remove(key);
        if let (Some(t), false) = (req.task, is_probe(req.serial)) {
            let t = &mut self.tasks[t.index()];
            t.unanswered = t.unanswered.saturating_sub(1);
        }
        let cause = if connect {
            Cause::Elb504ConnectTimeout
        } else {
            Cause::Elb504IdleTimeout
        };
        if self.request_over(now, o, &req, cause) {
            self.complete_drain(now, o, req.target_group, req.slot);
        }
    }

    /// Task `id` went above its memory with its service's `oom_kill`: its container is
    /// killed (as a crash, [`StopReason::OutOfMemory`]), unless it stopped meanwhile.
    pub(in crate::model) fn oom_kill<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let t = &self.tasks[id.index()];
        if t.stopped.is_none() && !t.crashed {
            self.crash(s, o, id, StopReason::OutOfMemory);
        }
    }
}
