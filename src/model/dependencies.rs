//! Dependencies: backends shared by every task that calls them (a database, a cache, an
//! external API), and the call step that reaches them.
//!
//! A call goes through two gates, each FIFO:
//! 1. the calling task's **connection pool** for that dependency (`pool_size` connections per
//!    task; 0 = no limit): a call waits for a free connection, holding its worker;
//! 2. the dependency's **capacity** (`capacity` calls served at once over all callers; 0 = an
//!    infinite server): beyond it a call waits in one FIFO queue shared by every caller, or
//!    is rejected (`when_full`).
//!
//! A served call takes the dependency's latency, drawn per request and step (a keyed draw,
//! so the same request sees the same latency in any configuration), × the product of the
//! slow-down faults active when its service begins. A call fails (and its request ends
//! with [`Cause::Target5xx`], the target's 500) when it is rejected, when it reaches a
//! dependency that is down, or when the dependency went down while serving it (it fails
//! when it would have returned). A call holds its connection until it returns or fails.
//!
//! So with `capacity = k`, FIFO and exponential latency, the dependency is an M/M/k queue fed
//! by every task; with no capacity limit, an M/G/∞ delay.

use std::collections::VecDeque;

use super::ModelError;
use super::dist::Sampler;
use super::ids::{DependencyId, FaultId, TaskId};
use super::observer::Observer;
use super::outcome::Cause;
use super::request::{CallState, draw};
use super::spec::{DependencySpec, WhenFull, WorldSpec};
use super::world::{Event, World};
use crate::engine::{Scheduler, SimDuration, SimTime};

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallOutcome {
    /// The dependency answered.
    Ok,
    /// The dependency was down when the call reached it, or went down while serving it.
    Down,
    /// The dependency was full and rejects calls beyond its capacity.
    Rejected,
    /// The caller's timeout expired first.
    TimedOut,
}

impl CallOutcome {
    /// Every outcome, in output column order.
    pub const ALL: [CallOutcome; 4] = [
        CallOutcome::Ok,
        CallOutcome::Down,
        CallOutcome::Rejected,
        CallOutcome::TimedOut,
    ];

    /// The stable name used in output files.
    pub const fn name(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Down => "failed_down",
            CallOutcome::Rejected => "rejected",
            CallOutcome::TimedOut => "timed_out",
        }
    }

    /// Position in [`CallOutcome::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A call that ended, as observers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallEnd {
    /// The dependency called.
    pub dependency: DependencyId,
    /// The calling task.
    pub task: TaskId,
    /// The calling request's serial.
    pub serial: u64,
    /// How it ended.
    pub outcome: CallOutcome,
    /// Time waiting for a pooled connection and for the dependency's capacity.
    pub queued: SimDuration,
    /// Time being served (0 for a call that never got service).
    pub served: SimDuration,
}

/// ∫ calls in service dt and ∫ calls queued at the dependency dt, call·ns, since t = 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DependencyMeter {
    /// ∫ calls in service dt, call·ns.
    pub in_service_ns: u128,
    /// ∫ calls waiting for capacity dt, call·ns (calls of requests that ended meanwhile
    /// count until they come up).
    pub queued_ns: u128,
}

/// A dependency and its state.
#[derive(Clone, Debug)]
pub struct Dependency {
    /// Its id.
    pub id: DependencyId,
    /// Name from the scenario.
    pub name: String,
    latency: Sampler,
    /// Calls served at once; 0 = no limit.
    pub capacity: u32,
    /// What a call beyond capacity does.
    pub when_full: WhenFull,
    /// Connections per task; 0 = no limit.
    pub pool_size: u32,
    /// The caller's timeout per call, if any.
    pub timeout: Option<SimDuration>,
    /// Calls in service now.
    busy: u32,
    /// Calls waiting for capacity: (request key, serial).
    queue: VecDeque<(u32, u64)>,
    /// Down faults active now.
    down: u32,
    /// Bumped each time a down fault starts: a call served across one fails.
    pub(in crate::model) down_epoch: u32,
    /// Slow-down faults active now, in start order: (fault, factor).
    slow: Vec<(FaultId, f64)>,
    /// Product of the active slow-down factors.
    factor: f64,
    last: SimTime,
    meter: DependencyMeter,
}

impl Dependency {
    /// The dependencies of `spec`.
    pub(in crate::model) fn build_all(spec: &WorldSpec) -> Result<Vec<Dependency>, ModelError> {
        if spec.dependencies.len() > usize::from(u16::MAX) {
            return Err(ModelError::UnknownReference(format!(
                "{} dependencies: at most {} are supported",
                spec.dependencies.len(),
                u16::MAX
            )));
        }
        spec.dependencies
            .iter()
            .enumerate()
            .map(|(i, d): (usize, &DependencySpec)| {
                Ok(Dependency {
                    id: DependencyId(i as u32),
                    name: d.name.clone(),
                    latency: Sampler::new(&d.latency, &format!("dependencies.{}.latency", d.name))?,
                    capacity: d.capacity,
                    when_full: d.when_full,
                    pool_size: d.pool_size,
                    timeout: d.timeout,
                    busy: 0,
                    queue: VecDeque::new(),
                    down: 0,
                    down_epoch: 0,
                    slow: Vec::new(),
                    factor: 1.0,
                    last: SimTime::ZERO,
                    meter: DependencyMeter::default(),
                })
            })
            .collect()
    }

    /// Brings the meter up to `now`.
    #[inline]
    pub(in crate::model) fn advance(&mut self, now: SimTime) {
        let dt = u128::from(now.0.saturating_sub(self.last.0));
        self.last = self.last.max(now);
        self.meter.in_service_ns += dt * u128::from(self.busy);
        self.meter.queued_ns += dt * self.queue.len() as u128;
    }

    /// Its meter, up to its last accounting point.
    pub fn meter(&self) -> DependencyMeter {
        self.meter
    }

    /// Calls in service now.
    pub fn in_service(&self) -> u32 {
        self.busy
    }

    /// Calls waiting for capacity now.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// True while a down fault is active.
    pub fn is_down(&self) -> bool {
        self.down > 0
    }

    /// The latency multiplier of the slow-down faults active now (1 when none).
    pub fn slow_factor(&self) -> f64 {
        self.factor
    }

    fn has_room(&self) -> bool {
        self.capacity == 0 || self.busy < self.capacity
    }

    /// A down fault starts; returns the calls that were queued (they fail now).
    pub(in crate::model) fn go_down(&mut self, now: SimTime) -> VecDeque<(u32, u64)> {
        self.advance(now);
        self.down += 1;
        self.down_epoch = self.down_epoch.wrapping_add(1);
        std::mem::take(&mut self.queue)
    }

    /// A down fault ends.
    pub(in crate::model) fn come_up(&mut self) {
        self.down = self.down.saturating_sub(1);
    }

    /// A slow-down fault starts or ends.
    pub(in crate::model) fn set_slow(&mut self, fault: FaultId, factor: Option<f64>) {
        self.slow.retain(|(f, _)| *f != fault);
        if let Some(x) = factor {
            self.slow.push((fault, x));
        }
        self.factor = self.slow.iter().fold(1.0, |acc, (_, x)| acc * x);
    }
}

/// `d` × `factor`, rounded to the nearest nanosecond (a slow-down fault's effect).
pub(in crate::model) fn scale(d: SimDuration, factor: f64) -> SimDuration {
    let x = (d.0 as f64 * factor).round();
    SimDuration(if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x as u64
    })
}

/// What became of a call that reached its dependency.
enum Reach {
    /// Served now, or queued for capacity.
    Accepted,
    /// Failed at once.
    Failed(CallOutcome),
}

impl World {
    /// Request `key` begins a call step to `dep` (purpose key `step_key` for its latency):
    /// take a pooled connection or wait for one.
    pub(in crate::model) fn begin_call<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        dep: DependencyId,
        step_key: u64,
    ) {
        let req = self.requests.get_mut(key);
        let Some(task_id) = req.task else { return };
        let serial = req.serial;
        let d = &self.dependencies[dep.index()];
        if let Some(timeout) = d.timeout {
            let step = req.step;
            s.schedule_in(timeout, Event::CallTimeout { key, step, serial });
        }
        let pool_size = d.pool_size;
        let pool = &mut self.tasks[task_id.index()].pools[dep.index()];
        if pool_size != 0 && pool.in_use >= pool_size {
            pool.queue.push_back((key, serial));
            req.call_state = CallState::Pool;
            return;
        }
        pool.in_use += 1;
        if let Reach::Failed(outcome) = self.reach(s, key, dep, step_key) {
            self.tasks[task_id.index()].pools[dep.index()].in_use -= 1;
            self.call_failed(s.now(), o, key, dep, outcome);
        }
    }

    /// Request `key`, holding a connection, reaches `dep`.
    fn reach(
        &mut self,
        s: &mut Scheduler<Event>,
        key: u32,
        dep: DependencyId,
        step_key: u64,
    ) -> Reach {
        let now = s.now();
        let d = &mut self.dependencies[dep.index()];
        if d.down > 0 {
            return Reach::Failed(CallOutcome::Down);
        }
        if d.has_room() {
            self.serve_call(s, key, dep, step_key);
            return Reach::Accepted;
        }
        match d.when_full {
            WhenFull::Queue => {
                d.advance(now);
                let req = self.requests.get_mut(key);
                req.call_state = CallState::Queued;
                d.queue.push_back((key, req.serial));
                Reach::Accepted
            }
            WhenFull::Reject => Reach::Failed(CallOutcome::Rejected),
        }
    }

    /// `dep` starts serving request `key`'s call.
    fn serve_call(&mut self, s: &mut Scheduler<Event>, key: u32, dep: DependencyId, step_key: u64) {
        let now = s.now();
        let d = &mut self.dependencies[dep.index()];
        d.advance(now);
        d.busy += 1;
        let req = self.requests.get_mut(key);
        req.calls_queued += now - req.phase_start;
        req.phase_start = now;
        req.call_epoch = d.down_epoch;
        req.call_queued = now - req.call_began;
        req.call_state = CallState::Served;
        let mut latency = draw(&d.latency, step_key, req.seed);
        if d.factor != 1.0 {
            latency = scale(latency, d.factor);
        }
        s.schedule_in(
            latency,
            Event::CallDone {
                key,
                serial: req.serial,
                dependency: dep.0 as u16,
            },
        );
    }

    /// The purpose key of the call step request `key` is in.
    fn call_step_key(&self, key: u32) -> u64 {
        let req = self.requests.get(key);
        let task = req.task.map(|t| &self.tasks[t.index()]);
        task.and_then(|t| {
            self.services[t.service.index()]
                .steps_of(t.revision)
                .get(usize::from(req.step))
        })
        .map_or(0, |st| st.key())
    }

    /// Request `key`'s call to `dep` failed at `now` (it holds no connection any more): it
    /// ends with the target's 5xx.
    fn call_failed<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        key: u32,
        dep: DependencyId,
        outcome: CallOutcome,
    ) {
        let req = self.requests.get_mut(key);
        let queued = now - req.phase_start;
        req.calls_queued += queued;
        req.call_queued = queued;
        req.call_state = CallState::None;
        let end = CallEnd {
            dependency: dep,
            task: req.task.unwrap_or(TaskId(u32::MAX)),
            serial: req.serial & !crate::model::request::CLIENT_GONE,
            outcome,
            queued,
            served: SimDuration::ZERO,
        };
        o.call_finished(now, &end);
        self.end_at_task(now, o, key, Cause::Target5xx);
    }

    /// `task` gives back a connection to `dep`: the next call waiting for one takes it
    /// (calls that fail at once pass it on, in a loop).
    fn release_connection<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        task: TaskId,
        dep: DependencyId,
    ) {
        let t = &mut self.tasks[task.index()];
        if t.pools.is_empty() {
            return; // stopped
        }
        t.pools[dep.index()].in_use -= 1;
        loop {
            let pool = &mut self.tasks[task.index()].pools[dep.index()];
            let Some((key, serial)) = pool.queue.pop_front() else {
                return;
            };
            if self.requests.live(key, serial).is_none() {
                continue; // timed out while waiting
            }
            self.tasks[task.index()].pools[dep.index()].in_use += 1;
            let step_key = self.call_step_key(key);
            match self.reach(s, key, dep, step_key) {
                Reach::Accepted => return,
                Reach::Failed(outcome) => {
                    self.tasks[task.index()].pools[dep.index()].in_use -= 1;
                    self.call_failed(s.now(), o, key, dep, outcome);
                }
            }
        }
    }

    /// A call of request `serial` (store key `key`) to `dep` returns: the dependency serves
    /// the next queued call; the request, unless it has ended, gives back its connection
    /// and goes on to its next step (or fails, if the dependency went down meanwhile).
    pub(in crate::model) fn on_call_done<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
        dep: DependencyId,
    ) {
        let now = s.now();
        let d = &mut self.dependencies[dep.index()];
        d.advance(now);
        d.busy -= 1;
        let (down, epoch) = (d.down > 0, d.down_epoch);
        while self.dependencies[dep.index()].has_room() {
            let Some((k, sr)) = self.dependencies[dep.index()].queue.pop_front() else {
                break;
            };
            if self.requests.live(k, sr).is_some() {
                let step_key = self.call_step_key(k);
                self.serve_call(s, k, dep, step_key);
            }
        }
        let Some(req) = self.requests.live(key, serial) else {
            return;
        };
        let Some(task_id) = req.task else { return };
        let served = now - req.phase_start;
        req.calls += served;
        req.phase_start = now;
        req.call_state = CallState::None;
        let ok = !down && req.call_epoch == epoch;
        let outcome = if ok {
            CallOutcome::Ok
        } else {
            CallOutcome::Down
        };
        let queued = req.call_queued;
        self.report_call(now, o, key, task_id, dep, outcome, queued, served);
        self.release_connection(s, o, task_id, dep);
        if ok {
            self.requests.get_mut(key).step += 1;
            self.run_steps(s, o, key);
        } else {
            self.end_at_task(now, o, key, Cause::Target5xx);
        }
        self.settle(s, o, task_id);
    }

    /// A call of request `key` queued at `dep` fails because `dep` went down: the request
    /// ends with the target's 5xx and its connection passes on.
    pub(in crate::model) fn fail_queued_call<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        dep: DependencyId,
    ) {
        let now = s.now();
        let Some(task) = self.requests.get(key).task else {
            return;
        };
        self.tasks[task.index()].advance(now);
        self.call_failed(now, o, key, dep, CallOutcome::Down);
        self.release_connection(s, o, task, dep);
    }

    /// The timeout of the call request `serial` (store key `key`) began at step `step`
    /// expires: if that call is still going on, it fails (the dependency still serves it
    /// if it had started), the request ends with the target's 5xx, and its connection, if
    /// it held one, passes on.
    pub(in crate::model) fn on_call_timeout<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        step: u16,
        serial: u64,
    ) {
        let now = s.now();
        let Some(req) = self.requests.live(key, serial) else {
            return;
        };
        let state = req.call_state;
        if req.step != step || state == CallState::None {
            return;
        }
        let Some(task_id) = req.task else { return };
        let task = &self.tasks[task_id.index()];
        // A health check probe follows the health check's profile, not the requests'.
        let Some(super::ecs::StepKind::Call(dep)) = self.services[task.service.index()]
            .steps_for(serial, task.revision)
            .get(usize::from(step))
            .map(|st| st.kind)
        else {
            return;
        };
        let (queued, served) = if state == CallState::Served {
            let served = now - req.phase_start;
            req.calls += served;
            (req.call_queued, served)
        } else {
            let queued = now - req.phase_start;
            req.calls_queued += queued;
            (queued, SimDuration::ZERO)
        };
        req.call_state = CallState::None;
        let outcome = CallOutcome::TimedOut;
        self.report_call(now, o, key, task_id, dep, outcome, queued, served);
        self.end_at_task(now, o, key, Cause::Target5xx);
        if state != CallState::Pool {
            self.release_connection(s, o, task_id, dep);
        }
        self.settle(s, o, task_id);
    }

    /// Tells the observer that request `key`'s call to `dep` from `task` ended, and brings
    /// the task's accounting to `now` (the request's next move changes it).
    #[allow(clippy::too_many_arguments)]
    fn report_call<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        key: u32,
        task: TaskId,
        dep: DependencyId,
        outcome: CallOutcome,
        queued: SimDuration,
        served: SimDuration,
    ) {
        let end = CallEnd {
            dependency: dep,
            task,
            serial: self.requests.get(key).serial & !crate::model::request::CLIENT_GONE,
            outcome,
            queued,
            served,
        };
        o.call_finished(now, &end);
        self.tasks[task.index()].advance(now);
    }
}
