//! An ECS task: a pool of workers in front of a multi-core processor-sharing CPU, with a
//! connection pool per dependency and a memory meter.
//!
//! **Workers.** A request takes one of the task's `max_concurrency` workers (a thread, an
//! event-loop slot, a process) when it arrives at the task, or waits for one in FIFO order,
//! and holds it until its response: through its CPU steps, its waits and its calls. No limit
//! (0) is an infinite pool.
//!
//! **CPU.** A task has `v = cpu / 1024` vCPUs. With `n` requests in a CPU step, each
//! progresses at `min(1, v/n)` CPU-seconds per second (a request is single-threaded and can
//! use at most one vCPU; when there are more requests than vCPUs they share the CPUs equally:
//! egalitarian processor sharing, Kleinrock 1967). Requests in a wait or a call use no CPU.
//! With one CPU step per request and `c = v` workers this is exactly M/M/c-FIFO; with one vCPU
//! and no limit, M/M/1-PS.
//!
//! **Virtual time.** Every request in a CPU step receives the same rate, so the task keeps one
//! virtual clock `V` (service received by each request on CPU since the task started) and
//! gives each CPU step a finish tag `V_start + work`. Requests on CPU sit in a min-heap of
//! tags; the next CPU completion is the smallest tag. A start or an end costs O(log n) and
//! the task has at most one pending completion event (its generation is bumped whenever the
//! time changes).
//!
//! `V` is an integer in units of 2⁻⁸ ns of CPU work, so the arithmetic is exact and
//! portable: advancing by `dt` adds `dt·2⁸` at rate 1 and `⌊dt·2⁸·v/n⌋` at rate `v/n`; the
//! completion delay is the ceiling of the inverse, so at the completion event `V` has reached
//! the tag (no request is ever left with a residue that reschedules forever).
//!
//! **Meters.** [`Task::advance`] integrates, exactly in integers, the CPU units in use, the
//! busy workers, the requests waiting for a worker and the memory requests use; [`Task::usage`]
//! reads them as a [`UsageMeter`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::cpu::CpuMeter;
use super::usage::UsageMeter;
use crate::engine::{SimDuration, SimTime};
use crate::model::ids::{FaultId, ServiceId, TargetGroupId, TaskId};

/// CPU units per vCPU (ECS task definition `cpu`).
pub const CPU_UNITS_PER_VCPU: u64 = 1024;

/// Fractional bits of the virtual clock.
const FRAC: u32 = 8;

/// A request in a CPU step: finish tag, tie-breaking serial, request key.
type Tagged = Reverse<(u64, u64, u32)>;

/// Where a task is in its life: ECS `lastStatus`
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html>).
/// A task only moves forward through these, in this order (a crash skips ahead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskState {
    /// Capacity and the task's ENI (its private IP) are being set up.
    Provisioning,
    /// The container image is being pulled.
    Pending,
    /// The task is being registered in its target group.
    Activating,
    /// Serving requests (the application may still be starting).
    Running,
    /// Being deregistered: its target drains (up to the deregistration delay).
    Deactivating,
    /// SIGTERM sent: the application shuts down, SIGKILL at `stop_timeout`.
    Stopping,
    /// Its ENI is being detached and deleted.
    Deprovisioning,
    /// Stopped: serves nothing, reserves nothing.
    Stopped,
}

impl TaskState {
    /// Every state, in lifecycle (and output column) order.
    pub const ALL: [TaskState; 8] = [
        TaskState::Provisioning,
        TaskState::Pending,
        TaskState::Activating,
        TaskState::Running,
        TaskState::Deactivating,
        TaskState::Stopping,
        TaskState::Deprovisioning,
        TaskState::Stopped,
    ];

    /// ECS's spelling (`PROVISIONING`...).
    pub const fn name(self) -> &'static str {
        match self {
            TaskState::Provisioning => "PROVISIONING",
            TaskState::Pending => "PENDING",
            TaskState::Activating => "ACTIVATING",
            TaskState::Running => "RUNNING",
            TaskState::Deactivating => "DEACTIVATING",
            TaskState::Stopping => "STOPPING",
            TaskState::Deprovisioning => "DEPROVISIONING",
            TaskState::Stopped => "STOPPED",
        }
    }

    /// Position in [`TaskState::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// True while the service counts the task towards its desired count: launched and
    /// not being stopped (PROVISIONING to RUNNING).
    pub const fn is_active(self) -> bool {
        (self as u8) <= (TaskState::Running as u8)
    }
}

/// One task's connection pool to one dependency.
#[derive(Clone, Debug, Default)]
pub(in crate::model) struct Pool {
    /// Connections in use (calls at the dependency, queued there or served).
    pub in_use: u32,
    /// Calls waiting for a connection, FIFO: (request key, serial).
    pub queue: VecDeque<(u32, u64)>,
}

/// A change in whether a task uses more memory than its task definition's `memory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryCrossing {
    /// It just went above its memory: memory in use now, KiB.
    Exceeded(u64),
    /// It just came back to its memory or below: the peak of the excursion, KiB.
    Recovered(u64),
}

/// One ECS task.
#[derive(Clone, Debug)]
pub struct Task {
    /// This task's id.
    pub id: TaskId,
    /// Display name, `<service>-<n>`.
    pub name: String,
    /// The service that launched it.
    pub service: ServiceId,
    /// Target group and the task's slot in it, while registered (any state but `unused`).
    pub target: Option<(TargetGroupId, u32)>,
    /// CPU units (1024 = 1 vCPU).
    pub cpu_units: u32,
    /// Memory, MiB (task definition `memory`).
    pub memory_mib: u32,
    /// Workers; 0 = no limit.
    pub max_concurrency: u32,
    /// Its state.
    pub state: TaskState,
    /// When it started RUNNING.
    pub started: SimTime,
    /// When it stopped serving (its CPU reserved and its requests ended), if it has.
    pub stopped: Option<SimTime>,
    /// When it was launched (PROVISIONING began; t = 0 for the initial, warm tasks).
    pub launched: SimTime,
    /// When it reached STOPPED, if it has.
    pub ended: Option<SimTime>,
    /// Its launch number in its service (names it, and keys its lifecycle draws).
    pub number: u32,
    /// Its service's task definition revision it runs (0: the first; each deployment adds
    /// one).
    pub revision: u16,
    /// The capacity provider it runs on (`FARGATE` unless its service's
    /// capacity provider strategy placed it on `FARGATE_SPOT`).
    pub capacity_provider: crate::model::spec::CapacityProvider,
    /// When it received a Fargate Spot interruption warning, if it did: it is terminated
    /// [`SPOT_INTERRUPTION_WARNING`](crate::model::SPOT_INTERRUPTION_WARNING) later.
    pub spot_interrupted: Option<SimTime>,
    /// When Fargate starts billing it: when its image pull began (it entered PENDING), or
    /// when it was launched warm; `None` before (see [`crate::model::cost`]).
    pub billing_from: Option<SimTime>,
    /// Its application listens (accepts connections): from the end of `app_start` until
    /// it stops serving or crashes. Warm tasks listen from t = 0.
    pub listening: bool,
    /// Its process exited (a crash); ECS has not necessarily noticed yet.
    pub crashed: bool,
    /// ECS found it unhealthy and is replacing it: it no longer counts towards the desired
    /// count, and stops once a replacement is healthy.
    pub replacing: bool,
    /// Its private IP address (awsvpc ENI), held from PROVISIONING until DEPROVISIONING
    /// ends; `None` for a task whose launch found no free address.
    pub lease: Option<super::network::Lease>,
    /// A `task_hang` fault froze its application: it accepts connections but answers
    /// nothing (see `model::faults`); the fault that did.
    pub hung_by: Option<FaultId>,
    /// Its Availability Zone is unreachable (an `az_outage` fault): no connection to it
    /// completes.
    pub unreachable: bool,
    /// A `task_slow` fault (a gray failure) slows its CPU: the fault, and the factor in
    /// 1/1024ths (every CPU step takes `factor` times longer).
    pub slowed_by: Option<(FaultId, u64)>,
    /// [`Task::slowed_by`]'s factor in 1/1024ths, 0 when the CPU runs at full speed.
    slow_q10: u64,
    /// Client requests sent to it that it will never answer (it hung, or its zone is
    /// unreachable): the load balancer still waits for them, the task does not hold them.
    pub(in crate::model) unanswered: u32,
    /// Client requests it holds whose client gave up (counted in [`Task::in_flight`]; the
    /// load balancer no longer counts them outstanding: see `model::clients::timeout`).
    pub(in crate::model) abandoned: u32,
    /// Requests in a CPU step.
    on_cpu: BinaryHeap<Tagged>,
    /// Requests waiting for a worker, FIFO: (serial, key).
    waiting: VecDeque<(u64, u32)>,
    /// Workers held.
    workers_busy: u32,
    /// Requests at the task (dispatched to it, not ended), health checks included.
    held: u32,
    /// Health checks at the task.
    pub(in crate::model) probes_held: u32,
    /// Connection pools, by dependency index (empty when the world has no dependency).
    pub(in crate::model) pools: Box<[Pool]>,
    /// Memory an idle task uses, KiB.
    pub(in crate::model) base_kib: u64,
    /// Its requests hold a worker for one CPU step only, so the requests in a CPU step are
    /// the busy workers (their integral is not kept twice).
    pub(in crate::model) cpu_only: bool,
    /// Its revision's profile is the fast path's (one CPU step, no memory, no health
    /// check work): a copy of [`super::deployment::Revision`]'s flag, read per request.
    pub(in crate::model) simple: bool,
    /// Σ memory of the requests at the task, KiB.
    request_kib: u64,
    /// Highest memory in use during the current excursion above the limit, KiB; 0 when
    /// within the limit.
    excursion_peak_kib: u64,
    /// Highest memory in use since it started, KiB.
    peak_kib: u64,
    /// Virtual clock, 2⁻⁸ ns units.
    vtime: u64,
    /// Time up to which `vtime` and the meters are accounted.
    last: SimTime,
    /// ∫ CPU units in use dt, in CPU-unit·ns.
    busy: u128,
    /// ∫ busy workers dt.
    workers_area: Area,
    /// ∫ requests waiting for a worker dt.
    waiting_area: Area,
    /// ∫ requests' memory dt, KiB (the base is added in [`Task::usage`]).
    request_kib_area: Area,
    /// ∫ requests in a CPU step dt.
    on_cpu_area: Area,
    /// Generation of the pending completion event (an event with another is stale).
    pub(crate) generation: u64,
    /// When the next CPU step will finish, as of the last change, `SimTime::MAX` if none.
    pub(crate) next_completion: SimTime,
    /// Time of the pending completion event (of `generation`), `SimTime::MAX` if none. It
    /// may be earlier than `next_completion`: the event then re-arms itself when it fires.
    pub(crate) scheduled: SimTime,
}

impl Task {
    /// A new idle task, RUNNING from `now`, not registered, with no memory in use and no
    /// connection pool.
    pub fn new(
        id: TaskId,
        name: String,
        service: ServiceId,
        cpu_units: u32,
        max_concurrency: u32,
        now: SimTime,
    ) -> Task {
        Task {
            id,
            name,
            service,
            target: None,
            cpu_units,
            memory_mib: 0,
            max_concurrency,
            state: TaskState::Running,
            started: now,
            stopped: None,
            launched: now,
            ended: None,
            number: 0,
            revision: 0,
            capacity_provider: crate::model::spec::CapacityProvider::Fargate,
            spot_interrupted: None,
            billing_from: None,
            listening: true,
            crashed: false,
            replacing: false,
            lease: None,
            hung_by: None,
            unreachable: false,
            slowed_by: None,
            slow_q10: 0,
            unanswered: 0,
            abandoned: 0,
            on_cpu: BinaryHeap::new(),
            waiting: VecDeque::new(),
            workers_busy: 0,
            held: 0,
            probes_held: 0,
            pools: Box::default(),
            base_kib: 0,
            cpu_only: false,
            simple: false,
            request_kib: 0,
            excursion_peak_kib: 0,
            peak_kib: 0,
            vtime: 0,
            last: now,
            busy: 0,
            workers_area: Area::default(),
            waiting_area: Area::default(),
            request_kib_area: Area::default(),
            on_cpu_area: Area::default(),
            generation: 0,
            next_completion: SimTime::MAX,
            scheduled: SimTime::MAX,
        }
    }

    /// Its CPU meter, up to its last accounting point ([`Task::advance`]): CPU units in use,
    /// and its `cpu_units` reserved from its start to its stop (or the accounting point).
    pub fn cpu(&self) -> CpuMeter {
        CpuMeter {
            busy_unit_ns: self.busy,
            reserved_unit_ns: u128::from(self.cpu_units) * self.running_ns(),
        }
    }

    /// Nanoseconds it has run, up to its stop or its last accounting point.
    fn running_ns(&self) -> u128 {
        let until = self.stopped.unwrap_or(self.last);
        u128::from((until - self.started).0)
    }

    /// Its usage meter (CPU, workers, memory), up to its last accounting point.
    pub fn usage(&self) -> UsageMeter {
        let running = self.running_ns();
        let pool = u128::from(self.max_concurrency);
        UsageMeter {
            cpu: self.cpu(),
            running_ns: running,
            workers_busy_ns: self
                .workers_area
                .at(self.last, u64::from(self.workers_busy)),
            workers_pool_ns: pool * running,
            unlimited_pool_ns: if pool == 0 { running } else { 0 },
            waiting_ns: self.waiting_area.at(self.last, self.waiting.len() as u64),
            on_cpu_ns: if self.cpu_only {
                self.workers_area
                    .at(self.last, u64::from(self.workers_busy))
            } else {
                self.on_cpu_area.at(self.last, self.on_cpu.len() as u64)
            },
            memory_used_kib_ns: u128::from(self.base_kib) * running
                + self.request_kib_area.at(self.last, self.request_kib),
            memory_reserved_kib_ns: u128::from(self.memory_mib) * 1024 * running,
        }
    }

    /// Memory in use now (base plus requests), KiB.
    pub fn memory_kib(&self) -> u64 {
        self.base_kib + self.request_kib
    }

    /// Highest memory in use since it started, KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        self.peak_kib.max(self.base_kib)
    }

    /// Stops the task at `now` (after [`advance`](Self::advance)`(now)`): it serves
    /// nothing more and reserves no more CPU or memory. Its requests are forgotten (the
    /// caller ends them: they are in the request store with this task). Any pending
    /// completion event becomes stale.
    pub fn stop(&mut self, now: SimTime) {
        self.stop_serving(now);
        self.state = TaskState::Stopped;
    }

    /// Forgets every request at the task (call after [`advance`](Self::advance)): the
    /// caller ends them. The task keeps serving; its meters see them leave now.
    pub fn drop_requests(&mut self) {
        let now = self.last;
        self.workers_area.exit(now, u64::from(self.workers_busy));
        self.waiting_area.exit(now, self.waiting.len() as u64);
        self.request_kib_area.exit(now, self.request_kib);
        if !self.cpu_only {
            self.on_cpu_area.exit(now, self.on_cpu.len() as u64);
        }
        self.excursion_peak_kib = 0;
        self.on_cpu = BinaryHeap::new();
        self.waiting = VecDeque::new();
        for p in self.pools.iter_mut() {
            *p = Pool::default();
        }
        self.workers_busy = 0;
        self.held = 0;
        self.probes_held = 0;
        self.unanswered = 0;
        self.request_kib = 0;
    }

    /// Starts serving at `now` (the caller moves it to RUNNING): its CPU counts as
    /// reserved from now.
    pub fn start_running(&mut self, now: SimTime) {
        self.started = now;
        self.last = now;
    }

    /// Stops serving at `now` (after [`advance`](Self::advance)`(now)`), as
    /// [`Task::stop`] but leaving its lifecycle state to the caller.
    pub fn stop_serving(&mut self, now: SimTime) {
        let at = self.last;
        self.workers_area.freeze(at, u64::from(self.workers_busy));
        self.waiting_area.freeze(at, self.waiting.len() as u64);
        self.request_kib_area.freeze(at, self.request_kib);
        self.on_cpu_area.freeze(at, self.on_cpu.len() as u64);
        self.stopped = Some(now.max(self.started));
        self.generation = self.generation.wrapping_add(1);
        self.next_completion = SimTime::MAX;
        self.scheduled = SimTime::MAX;
        self.on_cpu = BinaryHeap::new();
        self.waiting = VecDeque::new();
        self.pools = Box::default();
        self.workers_busy = 0;
        self.held = 0;
        self.probes_held = 0;
        self.unanswered = 0;
        self.request_kib = 0;
    }

    /// True if a connection to it would be accepted: it serves and its application listens.
    #[inline]
    pub fn accepts(&self) -> bool {
        self.listening && self.stopped.is_none()
    }

    /// True if a fault keeps it from answering what reaches it: its application hangs or
    /// its Availability Zone is unreachable (see `model::faults`).
    #[inline(always)]
    pub fn impaired(&self) -> bool {
        self.hung_by.is_some() || self.unreachable
    }

    /// The time at one vCPU that `work` takes on this task's CPU: `work` × its slowdown
    /// (rounded up to the nanosecond), or `work` at full speed. A CPU step is started with
    /// it; only the steps path applies it (a service with a slowed task leaves the fast
    /// path).
    #[inline]
    pub fn slowed(&self, work: SimDuration) -> SimDuration {
        if self.slow_q10 == 0 {
            work
        } else {
            SimDuration(mul_div_ceil(work.0, self.slow_q10, 1024))
        }
    }

    /// Slows its CPU down by `factor_q10`/1024 (a `task_slow` fault), or back to full
    /// speed with 0. Call after [`advance`](Self::advance)`(now)`: the CPU steps in progress
    /// keep the work they have done, and their remaining work takes the new time (their
    /// finish tags are stretched, or shrunk, from the virtual clock; the order is kept), so
    /// processor sharing stays exact across the change. The caller reschedules the task's
    /// completion.
    pub fn set_slowdown(&mut self, factor_q10: u64) {
        let old = if self.slow_q10 == 0 {
            1024
        } else {
            self.slow_q10
        };
        let new = if factor_q10 == 0 { 1024 } else { factor_q10 };
        self.slow_q10 = factor_q10;
        if old == new {
            return;
        }
        let v = self.vtime;
        let tags = std::mem::take(&mut self.on_cpu).into_vec();
        self.on_cpu = tags
            .into_iter()
            .map(|Reverse((tag, serial, key))| {
                let rem = mul_div_ceil(tag.saturating_sub(v), new, old);
                Reverse((v.saturating_add(rem), serial, key))
            })
            .collect();
    }

    /// Client requests at the task: dispatched to it and not ended (health checks are not
    /// counted).
    #[inline]
    pub fn in_flight(&self) -> usize {
        (self.held - self.probes_held + self.unanswered) as usize
    }

    /// Of [`Task::in_flight`], the requests whose client gave up (a 460): the task still
    /// works on them, the load balancer no longer counts them.
    pub fn abandoned(&self) -> u32 {
        self.abandoned
    }

    /// Workers held now.
    #[inline]
    pub fn workers_busy(&self) -> u32 {
        self.workers_busy
    }

    /// Requests waiting for a worker now.
    #[inline]
    pub fn waiting_for_worker(&self) -> usize {
        self.waiting.len()
    }

    /// Requests in a CPU step now.
    #[inline]
    pub fn on_cpu(&self) -> usize {
        self.on_cpu.len()
    }

    /// Brings the virtual clock and the meters up to `now`.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.last.0);
        self.last = self.last.max(now);
        let n = self.on_cpu.len() as u64;
        if dt == 0 || n == 0 {
            return;
        }
        let dt128 = u128::from(dt);
        let want = n * CPU_UNITS_PER_VCPU;
        let cpu = u64::from(self.cpu_units);
        if want <= cpu {
            self.vtime += dt << FRAC;
            self.busy += dt128 * u128::from(want);
        } else {
            self.vtime += mul_div_floor(dt << FRAC, cpu, want);
            self.busy += dt128 * u128::from(cpu);
        }
    }

    /// A request (`serial`, store key `key`) arrives at the task, using `memory_kib` of
    /// memory until it ends: it takes a worker if one is free (returns true) or waits for
    /// one in FIFO order. Call after [`advance`](Self::advance)`(now)`. Also returns
    /// whether the task just went above its memory.
    #[inline]
    pub fn arrive(
        &mut self,
        serial: u64,
        key: u32,
        memory_kib: u64,
    ) -> (bool, Option<MemoryCrossing>) {
        debug_assert!(
            self.stopped.is_none(),
            "a request reached a task that stopped serving"
        );
        self.held += 1;
        let now = self.last;
        let crossing = if memory_kib == 0 {
            None
        } else {
            self.request_kib += memory_kib;
            self.request_kib_area.enter(now, memory_kib);
            self.memory_changed()
        };
        if self.max_concurrency == 0 || self.workers_busy < self.max_concurrency {
            self.workers_busy += 1;
            self.workers_area.enter1(now);
            (true, crossing)
        } else {
            self.waiting.push_back((serial, key));
            self.waiting_area.enter1(now);
            (false, crossing)
        }
    }

    /// A request that held a worker ends (call after [`advance`](Self::advance)), releasing
    /// its worker and `memory_kib`: returns the key of the request that takes the worker
    /// (the head of the FIFO queue), if any, and whether the task came back within its
    /// memory.
    #[inline]
    pub fn depart(&mut self, memory_kib: u64) -> (Option<u32>, Option<MemoryCrossing>) {
        self.held -= 1;
        let now = self.last;
        let crossing = if memory_kib == 0 {
            None
        } else {
            self.request_kib -= memory_kib;
            self.request_kib_area.exit(now, memory_kib);
            self.memory_changed()
        };
        match self.waiting.pop_front() {
            Some((_, key)) => {
                self.waiting_area.exit1(now);
                (Some(key), crossing)
            }
            None => {
                self.workers_busy -= 1;
                self.workers_area.exit1(now);
                (None, crossing)
            }
        }
    }

    /// Tracks excursions above the task's memory.
    fn memory_changed(&mut self) -> Option<MemoryCrossing> {
        let used = self.memory_kib();
        self.peak_kib = self.peak_kib.max(used);
        let limit = u64::from(self.memory_mib) * 1024;
        if self.memory_mib == 0 {
            return None;
        }
        if used > limit {
            let first = self.excursion_peak_kib == 0;
            self.excursion_peak_kib = self.excursion_peak_kib.max(used);
            first.then_some(MemoryCrossing::Exceeded(used))
        } else if self.excursion_peak_kib > 0 {
            let peak = std::mem::take(&mut self.excursion_peak_kib);
            Some(MemoryCrossing::Recovered(peak))
        } else {
            None
        }
    }

    /// Starts a CPU step of `work` ns (at one vCPU) for request `serial` (store key `key`),
    /// which holds a worker. Call after [`advance`](Self::advance)`(now)`.
    #[inline]
    pub fn start_cpu(&mut self, serial: u64, key: u32, work: SimDuration) {
        let tag = self.vtime.saturating_add(work.0.saturating_mul(1 << FRAC));
        self.on_cpu.push(Reverse((tag, serial, key)));
        if !self.cpu_only {
            self.on_cpu_area.enter1(self.last);
        }
    }

    /// Removes and returns the next request whose CPU step is complete at the current
    /// virtual time (call after [`advance`](Self::advance)), as `(serial, key)`.
    #[inline]
    pub fn pop_finished(&mut self) -> Option<(u64, u32)> {
        match self.on_cpu.peek() {
            Some(Reverse((tag, _, _))) if *tag <= self.vtime => {
                let Reverse((_, serial, key)) = self.on_cpu.pop()?;
                if !self.cpu_only {
                    self.on_cpu_area.exit1(self.last);
                }
                Some((serial, key))
            }
            _ => None,
        }
    }

    /// When the next CPU step will finish if nothing changes, or `SimTime::MAX`.
    #[inline]
    pub fn completion_time(&self) -> SimTime {
        let Some(Reverse((tag, _, _))) = self.on_cpu.peek() else {
            return SimTime::MAX;
        };
        let rem = tag.saturating_sub(self.vtime);
        let want = self.on_cpu.len() as u64 * CPU_UNITS_PER_VCPU;
        let cpu = u64::from(self.cpu_units);
        let dt = if want <= cpu {
            rem.div_ceil(1 << FRAC)
        } else {
            mul_div_ceil(rem, want, cpu << FRAC)
        };
        self.last + SimDuration(dt)
    }
}

/// ∫ N(t) dt of a level `N` that changes by entries and exits, kept as
/// `Σ weight·exit time − Σ weight·entry time`: reading it at a time `t` no earlier than the
/// last change adds `N(t)·t`. Entries and exits cost one addition each, so the hot path pays
/// nothing per elapsed interval.
#[derive(Clone, Copy, Debug, Default)]
struct Area {
    sum: i128,
}

impl Area {
    #[inline]
    fn enter(&mut self, now: SimTime, weight: u64) {
        self.sum -= i128::from(weight) * i128::from(now.0);
    }

    #[inline]
    fn exit(&mut self, now: SimTime, weight: u64) {
        self.sum += i128::from(weight) * i128::from(now.0);
    }

    /// [`Area::enter`] with weight 1.
    #[inline]
    fn enter1(&mut self, now: SimTime) {
        self.sum -= i128::from(now.0);
    }

    /// [`Area::exit`] with weight 1.
    #[inline]
    fn exit1(&mut self, now: SimTime) {
        self.sum += i128::from(now.0);
    }

    /// ∫ N dt from 0 to `t`, where `level` = N(t) and nothing changed after `t`.
    #[inline]
    fn at(&self, t: SimTime, level: u64) -> u128 {
        (self.sum + i128::from(level) * i128::from(t.0)).max(0) as u128
    }

    /// Makes the integral constant from `t` on (the level drops to 0 at `t`).
    fn freeze(&mut self, t: SimTime, level: u64) {
        self.sum = self.at(t, level) as i128;
    }
}

/// ⌊a·b/c⌋ without overflow (c > 0), saturating at `u64::MAX`.
#[inline]
fn mul_div_floor(a: u64, b: u64, c: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    u64::try_from(p / u128::from(c)).unwrap_or(u64::MAX)
}

/// ⌈a·b/c⌉ without overflow (c > 0), saturating at `u64::MAX`.
#[inline]
fn mul_div_ceil(a: u64, b: u64, c: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    u64::try_from(p.div_ceil(u128::from(c))).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> SimDuration {
        SimDuration::from_millis(x)
    }

    fn task(cpu: u32, limit: u32) -> Task {
        Task::new(
            TaskId(0),
            "t".into(),
            ServiceId(0),
            cpu,
            limit,
            SimTime::ZERO,
        )
    }

    /// Runs one-CPU-step requests arriving at given times (ms, work ms) and returns
    /// completion times per request.
    fn run(mut t: Task, jobs: &[(u64, u64)]) -> Vec<(u32, u64)> {
        let mut done = vec![];
        let mut i = 0;
        loop {
            let next_arrival = jobs.get(i).map(|j| SimTime(j.0 * 1_000_000));
            let next_done = t.completion_time();
            match next_arrival {
                Some(a) if a <= next_done => {
                    t.advance(a);
                    if t.arrive(i as u64, i as u32, 0).0 {
                        t.start_cpu(i as u64, i as u32, ms(jobs[i].1));
                    }
                    i += 1;
                }
                _ if next_done == SimTime::MAX => break,
                _ => {
                    t.advance(next_done);
                    while let Some((_, key)) = t.pop_finished() {
                        done.push((key, next_done.0));
                        if let (Some(next), _) = t.depart(0) {
                            t.start_cpu(u64::from(next), next, ms(jobs[next as usize].1));
                        }
                    }
                }
            }
        }
        done.sort();
        done
    }

    #[test]
    fn single_vcpu_processor_sharing() {
        // Two 10 ms jobs arriving together on 1 vCPU share it: both end at 20 ms.
        let d = run(task(1024, 0), &[(0, 10), (0, 10)]);
        assert_eq!(d, vec![(0, 20_000_000), (1, 20_000_000)]);
        // 10 ms at t=0, 10 ms at t=5: first has 5 left at t=5, then both at half speed;
        // first ends at 15, second has 5 left and ends at 20.
        let d = run(task(1024, 0), &[(0, 10), (5, 10)]);
        assert_eq!(d, vec![(0, 15_000_000), (1, 20_000_000)]);
    }

    #[test]
    fn requests_never_exceed_one_vcpu() {
        // Two vCPUs, two jobs: each runs at full speed.
        let d = run(task(2048, 0), &[(0, 10), (0, 10)]);
        assert_eq!(d, vec![(0, 10_000_000), (1, 10_000_000)]);
        // A quarter vCPU: a 10 ms job takes 40 ms.
        let d = run(task(256, 0), &[(0, 10)]);
        assert_eq!(d, vec![(0, 40_000_000)]);
        // Three jobs on two vCPUs: rate 2/3 each; 10 ms of work takes 15 ms.
        let d = run(task(2048, 0), &[(0, 10), (0, 10), (0, 10)]);
        assert_eq!(
            d.iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![15_000_000; 3]
        );
    }

    #[test]
    fn concurrency_limit_is_fifo() {
        // Limit 1 on 1 vCPU: plain FIFO single server.
        let d = run(task(1024, 1), &[(0, 10), (1, 3), (2, 4)]);
        assert_eq!(d, vec![(0, 10_000_000), (1, 13_000_000), (2, 17_000_000)]);
    }

    #[test]
    fn cpu_meter_counts_units_in_use_and_reserved_while_running() {
        let mut t = task(2048, 0);
        assert!(t.arrive(0, 0, 0).0);
        t.start_cpu(0, 0, ms(10));
        t.advance(SimTime(10_000_000));
        assert_eq!(t.cpu().busy_unit_ns, 1024 * 10_000_000);
        assert_eq!(t.cpu().reserved_unit_ns, 2048 * 10_000_000);
        assert_eq!(t.cpu().utilization_pct(), Some(50.0));
        assert_eq!(t.pop_finished(), Some((0, 0)));
        assert_eq!(t.depart(0), (None, None));
        // Stopped at 30 ms: reserves nothing after, whatever the accounting point.
        t.arrive(1, 5, 0);
        t.start_cpu(1, 5, ms(100));
        t.advance(SimTime(30_000_000));
        let generation = t.generation;
        t.stop(SimTime(30_000_000));
        assert_ne!(
            t.generation, generation,
            "a pending completion must go stale"
        );
        t.advance(SimTime(90_000_000));
        assert_eq!(t.cpu().reserved_unit_ns, 2048 * 30_000_000);
        assert_eq!(t.cpu().busy_unit_ns, 1024 * 30_000_000);
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn workers_are_held_through_non_cpu_time_and_metered() {
        // Two workers, 1 vCPU. Requests 0 and 1 take the workers and use no CPU (a wait);
        // request 2 waits for a worker until request 0 departs at 10 ms.
        let mut t = task(1024, 2);
        t.memory_mib = 1;
        t.base_kib = 512;
        assert_eq!(t.arrive(0, 0, 256), (true, None));
        assert_eq!(t.arrive(1, 1, 256), (true, None));
        assert_eq!(
            t.arrive(2, 2, 256),
            (false, Some(MemoryCrossing::Exceeded(1280)))
        );
        assert_eq!(t.completion_time(), SimTime::MAX, "a wait uses no CPU");
        t.advance(SimTime(10_000_000));
        assert_eq!(
            t.depart(256),
            (Some(2), Some(MemoryCrossing::Recovered(1280)))
        );
        assert_eq!(t.workers_busy(), 2);
        t.advance(SimTime(20_000_000));
        let u = t.usage();
        assert_eq!(u.workers_busy_ns, 2 * 20_000_000);
        assert_eq!(u.waiting_ns, 10_000_000);
        assert_eq!(u.workers_pool_ns, 2 * 20_000_000);
        assert_eq!(u.unlimited_pool_ns, 0);
        assert_eq!(u.cpu.busy_unit_ns, 0);
        // Memory: 512 KiB base over 20 ms, 768 KiB of requests for 10 ms then 512.
        assert_eq!(
            u.memory_used_kib_ns,
            512 * 20_000_000 + 768 * 10_000_000 + 512 * 10_000_000
        );
        assert_eq!(u.memory_reserved_kib_ns, 1024 * 20_000_000);
        assert_eq!(t.peak_memory_kib(), 1280);
        assert_eq!(t.in_flight(), 2);
    }
}
