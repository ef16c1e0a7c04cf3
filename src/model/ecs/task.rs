//! An ECS task as a multi-core processor-sharing server.
//!
//! A task has `v = cpu / 1024` vCPUs. With `n` requests in service, each progresses at
//! `min(1, v/n)` CPU-seconds per second (a request is single-threaded and can use at most one
//! vCPU; when there are more requests than vCPUs they share the CPUs equally: egalitarian
//! processor sharing, Kleinrock 1967). An optional concurrency limit `c` (a thread pool)
//! admits at most `c` requests to service; the rest wait in FIFO order. With `c = v` this is
//! exactly M/M/c-FIFO; with one vCPU and no limit, M/M/1-PS.
//!
//! **Virtual time.** Every request in service receives the same rate, so the task keeps one
//! virtual clock `V` (service received by each request in service since the task started) and
//! gives each admitted request a finish tag `V_admit + work`. Requests in service sit in a
//! min-heap of tags; the next completion is the smallest tag. An arrival or a departure costs
//! O(log n) and the task has at most one pending completion event (its generation is bumped
//! whenever the time changes).
//!
//! `V` is an integer in units of 2⁻⁸ ns of CPU work, so the arithmetic is exact and
//! portable: advancing by `dt` adds `dt·2⁸` at rate 1 and `⌊dt·2⁸·v/n⌋` at rate `v/n`; the
//! completion delay is the ceiling of the inverse, so at the completion event `V` has reached
//! the tag (no request is ever left with a residue that reschedules forever).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::cpu::CpuMeter;
use crate::engine::{SimDuration, SimTime};
use crate::model::ids::{ServiceId, TargetGroupId, TaskId};

/// CPU units per vCPU (ECS task definition `cpu`).
pub const CPU_UNITS_PER_VCPU: u64 = 1024;

/// Fractional bits of the virtual clock.
const FRAC: u32 = 8;

/// A request admitted to service: finish tag, tie-breaking serial, request key.
type Tagged = Reverse<(u64, u64, u32)>;

/// Where a task is in its life (ECS `lastStatus`; the phases before RUNNING and after it
/// come with the task lifecycle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskState {
    /// Serving requests.
    Running,
    /// Stopped: serves nothing, reserves no CPU.
    Stopped,
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
    /// Memory, MiB (task definition `memory`; not used by the model yet).
    pub memory_mib: u32,
    /// Concurrency limit; 0 = none.
    pub max_concurrency: u32,
    /// Its state.
    pub state: TaskState,
    /// When it started RUNNING.
    pub started: SimTime,
    /// When it stopped, if it has.
    pub stopped: Option<SimTime>,
    in_service: BinaryHeap<Tagged>,
    /// FIFO queue beyond the concurrency limit: (serial, key, work ns).
    waiting: VecDeque<(u64, u32, u64)>,
    /// Virtual clock, 2⁻⁸ ns units.
    vtime: u64,
    /// Time up to which `vtime` and `busy` are accounted.
    last: SimTime,
    /// ∫ CPU units in use dt, in CPU-unit·ns.
    busy: u128,
    /// Generation of the pending completion event (an event with another is stale).
    pub(crate) generation: u64,
    /// Time of the pending completion event, `SimTime::MAX` if none.
    pub(crate) next_completion: SimTime,
}

impl Task {
    /// A new idle task, RUNNING from `now`, not registered.
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
            in_service: BinaryHeap::new(),
            waiting: VecDeque::new(),
            vtime: 0,
            last: now,
            busy: 0,
            generation: 0,
            next_completion: SimTime::MAX,
        }
    }

    /// Its CPU meter, up to its last accounting point ([`Task::advance`]): CPU units in use,
    /// and its `cpu_units` reserved from its start to its stop (or the accounting point).
    pub fn cpu(&self) -> CpuMeter {
        let until = self.stopped.unwrap_or(self.last);
        CpuMeter {
            busy_unit_ns: self.busy,
            reserved_unit_ns: u128::from(self.cpu_units) * u128::from((until - self.started).0),
        }
    }

    /// Stops the task at `now` (after [`advance`](Self::advance)`(now)`): it serves
    /// nothing more and reserves no more CPU. Returns the requests it held, as
    /// `(serial, key)` in serial order, for the caller to end. Any pending completion
    /// event becomes stale.
    pub fn stop(&mut self, now: SimTime) -> Vec<(u64, u32)> {
        let mut held: Vec<(u64, u32)> = self
            .in_service
            .drain()
            .map(|Reverse((_, serial, key))| (serial, key))
            .chain(self.waiting.drain(..).map(|(serial, key, _)| (serial, key)))
            .collect();
        held.sort_unstable();
        self.state = TaskState::Stopped;
        self.stopped = Some(now.max(self.started));
        self.generation = self.generation.wrapping_add(1);
        self.next_completion = SimTime::MAX;
        self.in_service = BinaryHeap::new();
        self.waiting = VecDeque::new();
        held
    }

    /// Requests at the task: in service plus waiting.
    #[inline]
    pub fn in_flight(&self) -> usize {
        self.in_service.len() + self.waiting.len()
    }

    /// Brings the virtual clock and the CPU integral up to `now`.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.last.0);
        self.last = self.last.max(now);
        let n = self.in_service.len() as u64;
        if dt == 0 || n == 0 {
            return;
        }
        let want = n * CPU_UNITS_PER_VCPU;
        let cpu = u64::from(self.cpu_units);
        if want <= cpu {
            self.vtime += dt << FRAC;
            self.busy += u128::from(dt) * u128::from(want);
        } else {
            self.vtime += mul_div_floor(dt << FRAC, cpu, want);
            self.busy += u128::from(dt) * u128::from(cpu);
        }
    }

    /// Admits request `serial` (store key `key`) with `work` ns of CPU (at one vCPU) to
    /// service or to the FIFO queue. Must be called after [`advance`](Self::advance)`(now)`.
    /// Returns true when the request entered service at once.
    #[inline]
    pub fn admit(&mut self, serial: u64, key: u32, work: SimDuration) -> bool {
        debug_assert_eq!(self.state, TaskState::Running);
        if self.max_concurrency == 0 || self.in_service.len() < self.max_concurrency as usize {
            self.start(serial, key, work.0);
            true
        } else {
            self.waiting.push_back((serial, key, work.0));
            false
        }
    }

    #[inline]
    fn start(&mut self, serial: u64, key: u32, work_ns: u64) {
        let tag = self.vtime.saturating_add(work_ns.saturating_mul(1 << FRAC));
        self.in_service.push(Reverse((tag, serial, key)));
    }

    /// Removes and returns the next request whose service is complete at the current
    /// virtual time (call after [`advance`](Self::advance)), as `(serial, key)`.
    #[inline]
    pub fn pop_finished(&mut self) -> Option<(u64, u32)> {
        match self.in_service.peek() {
            Some(Reverse((tag, _, _))) if *tag <= self.vtime => {
                let Reverse((_, serial, key)) = self.in_service.pop()?;
                Some((serial, key))
            }
            _ => None,
        }
    }

    /// Moves the head of the FIFO queue into service if a concurrency slot is free (call
    /// after [`advance`](Self::advance)); returns its key.
    #[inline]
    pub fn promote_waiting(&mut self) -> Option<u32> {
        if self.max_concurrency != 0 && self.in_service.len() >= self.max_concurrency as usize {
            return None;
        }
        let (serial, key, work) = self.waiting.pop_front()?;
        self.start(serial, key, work);
        Some(key)
    }

    /// When the next request in service will finish if nothing changes, or `SimTime::MAX`.
    #[inline]
    pub fn completion_time(&self) -> SimTime {
        let Some(Reverse((tag, _, _))) = self.in_service.peek() else {
            return SimTime::MAX;
        };
        let rem = tag.saturating_sub(self.vtime);
        let want = self.in_service.len() as u64 * CPU_UNITS_PER_VCPU;
        let cpu = u64::from(self.cpu_units);
        let dt = if want <= cpu {
            rem.div_ceil(1 << FRAC)
        } else {
            mul_div_ceil(rem, want, cpu << FRAC)
        };
        self.last + SimDuration(dt)
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

    /// Runs admissions at given times and returns completion times per slot.
    fn run(mut t: Task, jobs: &[(u64, u64)]) -> Vec<(u32, u64)> {
        let mut done = vec![];
        let mut i = 0;
        loop {
            let next_arrival = jobs.get(i).map(|j| SimTime(j.0 * 1_000_000));
            let next_done = t.completion_time();
            match next_arrival {
                Some(a) if a <= next_done => {
                    t.advance(a);
                    t.admit(i as u64, i as u32, ms(jobs[i].1));
                    i += 1;
                }
                _ if next_done == SimTime::MAX => break,
                _ => {
                    t.advance(next_done);
                    while let Some((_, slot)) = t.pop_finished() {
                        done.push((slot, next_done.0));
                    }
                    while t.promote_waiting().is_some() {}
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
        t.admit(0, 0, ms(10));
        t.advance(SimTime(10_000_000));
        assert_eq!(t.cpu().busy_unit_ns, 1024 * 10_000_000);
        assert_eq!(t.cpu().reserved_unit_ns, 2048 * 10_000_000);
        assert_eq!(t.cpu().utilization_pct(), Some(50.0));
        assert_eq!(t.pop_finished(), Some((0, 0)));
        // Stopped at 30 ms: reserves nothing after, whatever the accounting point.
        t.admit(1, 5, ms(100));
        t.advance(SimTime(30_000_000));
        let generation = t.generation;
        assert_eq!(t.stop(SimTime(30_000_000)), vec![(1, 5)]);
        assert_ne!(
            t.generation, generation,
            "a pending completion must go stale"
        );
        t.advance(SimTime(90_000_000));
        assert_eq!(t.cpu().reserved_unit_ns, 2048 * 30_000_000);
        assert_eq!(t.cpu().busy_unit_ns, 1024 * 30_000_000);
        assert_eq!(t.in_flight(), 0);
    }
}
