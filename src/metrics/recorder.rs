//! The streaming recorder: an [`Observer`] that keeps counters and HDR histograms per
//! metrics interval and per target group, follows the fleet from the model's lifecycle
//! events, reads CPU from the model's meters, writes `metrics.csv` and `events.csv` as the
//! run goes, and builds the [`Summary`] at the end. Memory does not grow with the number of
//! requests: nothing is kept per request.
//!
//! **Which responses count where.** `latency_ms` (and the `latency_*` columns) are the
//! latencies of successful responses (`ok`) only; each error cause has its own count and,
//! in the summary, its own latency (`error_latency_ms`), because an ELB-generated 503 in
//! 1 ms says nothing of how fast the service is. All latencies are what the client sees:
//! from arrival at the load balancer to the end, plus the client's round-trip time. This
//! differs from CloudWatch's `TargetResponseTime`, which is the time from the load balancer
//! sending the request to the target until the response headers start, and exists only for
//! requests a target served (no load balancer processing, no round trip, no 503s)
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html>).

use std::collections::{BTreeMap, BTreeSet};

use super::events::{EVENTS_HEADER, event_row};
use super::latency::LatencyAcc;
use super::output::{OutputFiles, Outputs};
use super::summary::{
    CpuSummary, DependencySummary, DeploymentSummary, LatencyBreakdown, ListenerSummary,
    MemorySummary, RequestTotals, RuleSummary, Summary, TargetGroupSummary, TaskTotals,
    WorkerSummary,
};
use super::{MetricsError, round_to};
use crate::engine::{SimDuration, SimTime};
use crate::model::elb::NO_GROUP;
use crate::model::{
    CallEnd, CallOutcome, Cause, CpuMeter, DependencyMeter, LifecycleEvent, Observer, Request,
    ServiceId, TargetState, TaskId, TaskState, UsageMeter, World,
};

const CAUSES: usize = Cause::ALL.len();
const STATES: usize = TargetState::ALL.len();
const CALL_OUTCOMES: usize = CallOutcome::ALL.len();
const TASK_STATES: usize = TaskState::ALL.len();

/// Σ of each latency phase over successful measured requests, ns. Parts are summed in
/// `u64` for up to [`Breakdown::CHUNK`] requests (each part is at most the run's duration,
/// < 2⁵⁵ ns, so 256 of them fit), then carried into `u128`: exact, and cheap per request.
/// The time in CPU steps is not summed: it is the rest of the latency (whose exact sum the
/// latency accumulator keeps), so `cpu_wait` = latency − every other part.
#[derive(Clone, Copy, Default)]
struct Breakdown {
    count: u64,
    chunk: [u64; PARTS],
    in_chunk: u32,
    sum_ns: [u128; PARTS],
}

/// Summed parts: load balancer, worker queue, CPU time, round trip, waits, calls queued,
/// calls (the last three only in worlds with such steps).
const PARTS: usize = 7;

impl Breakdown {
    const CHUNK: u32 = 256;

    #[inline]
    fn record(&mut self, r: &Request, waits: bool) {
        self.chunk[0] += r.dispatched.0 - r.arrived.0;
        self.chunk[1] += r.admitted.0 - r.dispatched.0;
        self.chunk[2] += r.work.0;
        self.chunk[3] += r.rtt.0;
        if waits {
            self.chunk[4] += r.waits.0;
            self.chunk[5] += r.calls_queued.0;
            self.chunk[6] += r.calls.0;
        }
        self.in_chunk += 1;
        if self.in_chunk == Self::CHUNK {
            self.carry();
        }
    }

    #[cold]
    fn carry(&mut self) {
        self.count += u64::from(self.in_chunk);
        self.in_chunk = 0;
        for (sum, c) in self.sum_ns.iter_mut().zip(&mut self.chunk) {
            *sum += u128::from(std::mem::take(c));
        }
    }

    fn add(&mut self, o: &Breakdown) {
        let mut o = *o;
        o.carry();
        self.carry();
        self.count += o.count;
        for (a, b) in self.sum_ns.iter_mut().zip(o.sum_ns) {
            *a += b;
        }
    }

    /// The means, given the exact Σ latency of the same requests.
    fn summary(&self, latency_sum_ns: u128) -> Option<LatencyBreakdown> {
        let mut b = *self;
        b.carry();
        if b.count == 0 {
            return None;
        }
        let mean = |x: u128| round_to(x as f64 / b.count as f64 / 1e6, 6);
        let s = b.sum_ns;
        let others: u128 = s.iter().sum();
        // Time in CPU steps = latency − everything else; minus the CPU time itself.
        let cpu_wait = latency_sum_ns.saturating_sub(others);
        Some(LatencyBreakdown {
            load_balancer: mean(s[0]),
            worker_queue: mean(s[1]),
            cpu: mean(s[2]),
            cpu_wait: mean(cpu_wait),
            waits: mean(s[4]),
            calls_queued: mean(s[5]),
            calls: mean(s[6]),
            rtt: mean(s[3]),
        })
    }
}

/// Counters of one dependency.
struct DependencyState {
    name: String,
    capacity: u32,
    iv_by_outcome: [u64; CALL_OUTCOMES],
    iv_latency: LatencyAcc,
    iv_queued_ns: u128,
    meter_at_interval_start: DependencyMeter,
    // After warm-up.
    by_outcome: [u64; CALL_OUTCOMES],
    latency: LatencyAcc,
    queued_ns: u128,
    meter_at_warmup: DependencyMeter,
}

/// Counters of one target group.
struct GroupState {
    name: String,
    algorithm: &'static str,
    // This interval.
    iv_arrivals: u64,
    iv_by_cause: [u64; CAUSES],
    iv_latency: LatencyAcc,
    usage_at_interval_start: UsageMeter,
    // Whole run.
    arrived: u64,
    by_cause: [u64; CAUSES],
    in_flight: u64,
    /// Targets by state, from the lifecycle events (`unused` not counted).
    targets: [u32; STATES],
    /// Every private IP address registered in this group during the run (as `u32`).
    ips: std::collections::BTreeSet<u32>,
    /// Serving tasks of the services registering in this group (RUNNING, or DEACTIVATING
    /// until their deregistration completes), from `TaskStarted` and `TaskStopped`.
    tasks_serving: u32,
    /// Tasks of the services registering in this group by lifecycle state (index
    /// [`TaskState::index`]), from the events: a task launched cold enters PROVISIONING with
    /// its `TaskLaunched`, a warm one RUNNING with its `TaskStarted`; each state change
    /// moves one.
    task_states: [u32; TASK_STATES],
    /// Σ desired counts of its services at the last interval's end (read from the world).
    desired: u32,
    /// Tasks launched (initial ones excepted) and tasks that reached STOPPED, this interval
    /// and whole run.
    iv_launched: u64,
    iv_stopped: u64,
    /// Scaling activities of its services this interval.
    iv_scaling: u64,
    launched: u64,
    stopped: u64,
    /// Of `launched`, tasks on `FARGATE_SPOT`; Spot interruption warnings (whole run).
    launched_spot: u64,
    spot_interruptions: u64,
    /// The services' RUNNING tasks on `FARGATE_SPOT` at the last interval's end (read from
    /// the world).
    running_spot: u32,
    // After warm-up.
    latency: LatencyAcc,
    error_latency: [Option<Box<LatencyAcc>>; CAUSES],
    responses_measured: u64,
    breakdown: Breakdown,
    usage_at_warmup: UsageMeter,
    cpu_max_pct: f64,
    memory_max_pct: f64,
    memory_exceeded: u64,
    usage: UsageMeter,
}

/// A task the recorder follows: its group, when it ran, its CPU meter at the start of the
/// current interval.
struct TaskRecord {
    group: usize,
    started: SimTime,
    stopped: Option<SimTime>,
    usage_at_interval_start: UsageMeter,
}

/// Options for a [`Recorder`].
#[derive(Clone, Debug, Default)]
pub struct RecorderOptions {
    /// Where to write `summary.json`, `metrics.csv` and `events.csv`; `None` keeps
    /// everything in memory and writes nothing (sweeps, benchmarks, tests).
    pub out_dir: Option<std::path::PathBuf>,
}

/// The streaming metrics recorder. Pass it to `Simulation::new`, run, then call
/// [`Recorder::finish`].
pub struct Recorder {
    options: RecorderOptions,
    files: Option<OutputFiles>,
    io_error: Option<MetricsError>,
    name: String,
    seed: u64,
    warmup: SimTime,
    end: SimTime,
    measuring: bool,
    interval_start: SimTime,
    groups: Vec<GroupState>,
    dependencies: Vec<DependencyState>,
    /// Some service has a wait or a call step (the breakdown sums those parts).
    waits: bool,
    /// Requests that arrived before the warm-up's end and have not ended.
    pre_warmup_in_flight: u64,
    /// Every successful response recorded in this interval's histogram is measured (the
    /// interval started after the warm-up with no earlier request left in flight), so the
    /// run's histogram is the sum of the interval histograms: each latency is recorded
    /// once, and the interval's histogram is added to the run's at the interval's end
    /// (the same counts, so the same percentiles, as recording each latency twice).
    merge_interval: bool,
    /// The same for dependency calls: the interval started after the warm-up, so every
    /// call it records is measured.
    merge_calls: bool,
    /// Target group of each service.
    service_group: Vec<usize>,
    /// Per service, initial tasks (warm at t = 0) not yet started: those are not launches.
    initial_left: Vec<u32>,
    /// Tasks launched cold that have not started nor stopped: a `TaskStarted` of any other
    /// task is a warm start (RUNNING with no state change before it).
    starting: BTreeSet<TaskId>,
    /// Tasks running now or stopped in the current interval.
    tasks: BTreeMap<TaskId, TaskRecord>,
    /// Σ run time of tasks stopped so far, ns (unused: task-seconds follow billing).
    stopped_task_ns: u128,
    /// Tasks being billed, from when: a warm task from RUNNING, a launched one from PENDING
    /// (Fargate bills from the image pull to STOPPED).
    billing: BTreeMap<TaskId, SimTime>,
    /// Σ billed time of tasks that reached STOPPED, ns.
    billed_ns: u128,
    /// Per service (by index), its scaling activities so far.
    scaling: BTreeMap<usize, ScalingAcc>,
    in_flight: u64,
    in_flight_area: u128,
    last_change: SimTime,
    summary: Option<Summary>,
    /// Requests no target group served (redirects, fixed responses): counted here, not by
    /// a group.
    front: FrontCounts,
    /// Per-listener and per-rule counts are kept (some listener has rules or a
    /// non-forward default action, or there are several listeners); otherwise they are
    /// the run's totals.
    rules_on: bool,
    /// Per listener, per rule (in priority order, the default rule last), requests ended by
    /// cause.
    rule_counts: Vec<Vec<[u64; CAUSES]>>,
    /// `rule_counts` when the last `rules.csv` rows were written: a row is the difference.
    rule_written: Vec<Vec<[u64; CAUSES]>>,
    /// `latency.csv`'s rows: the whole run's latency distribution (successful responses
    /// after the warm-up), filled when the summary is built.
    latency_cdf: Vec<(f64, u64, f64)>,
}

impl Recorder {
    /// A recorder with these options. Output files are opened at the start of the run.
    pub fn new(options: RecorderOptions) -> Recorder {
        Recorder {
            options,
            files: None,
            io_error: None,
            name: String::new(),
            seed: 0,
            warmup: SimTime::ZERO,
            end: SimTime::ZERO,
            measuring: false,
            interval_start: SimTime::ZERO,
            groups: Vec::new(),
            dependencies: Vec::new(),
            waits: false,
            pre_warmup_in_flight: 0,
            merge_interval: false,
            merge_calls: false,
            service_group: Vec::new(),
            initial_left: Vec::new(),
            starting: BTreeSet::new(),
            tasks: BTreeMap::new(),
            billing: BTreeMap::new(),
            billed_ns: 0,
            scaling: BTreeMap::new(),
            stopped_task_ns: 0,
            in_flight: 0,
            in_flight_area: 0,
            last_change: SimTime::ZERO,
            summary: None,
            front: FrontCounts::default(),
            rules_on: false,
            rule_counts: Vec::new(),
            rule_written: Vec::new(),
            latency_cdf: Vec::new(),
        }
    }

    /// A recorder that writes no files.
    pub fn in_memory() -> Recorder {
        Recorder::new(RecorderOptions::default())
    }

    /// Records why the run stopped before its end, for `summary.json`'s `stop_reason`. Call
    /// it after the simulation has run and before [`Recorder::finish`].
    pub fn note_stop(&mut self, reason: &str) {
        if let Some(s) = &mut self.summary {
            s.stop_reason = Some(reason.to_string());
        }
    }

    /// Completes the outputs: writes `summary.json` and renames every file from its
    /// temporary name to its final one. Returns the summary and where the files went.
    ///
    /// # Errors
    /// [`MetricsError`] if a file could not be written (the first error met during the
    /// run, or one now), or if the run has not finished.
    pub fn finish(mut self) -> Result<(Summary, Option<Outputs>), MetricsError> {
        if let Some(e) = self.io_error.take() {
            return Err(e);
        }
        let summary = self.summary.take().ok_or(MetricsError::NotFinished)?;
        let outputs = match self.files.take() {
            Some(files) => Some(files.commit(&summary, &self.latency_cdf)?),
            None => None,
        };
        Ok((summary, outputs))
    }

    fn keep_io_error(&mut self, r: Result<(), MetricsError>) {
        if let Err(e) = r
            && self.io_error.is_none()
        {
            self.io_error = Some(e);
            self.files = None; // stop writing; temporary files are removed on drop
        }
    }

    #[inline]
    fn integrate_in_flight(&mut self, now: SimTime) {
        if self.measuring {
            self.in_flight_area +=
                u128::from(self.in_flight) * u128::from((now - self.last_change).0);
        }
        self.last_change = now;
    }

    /// Each group's usage meter now: the sum of its services' meters, read from the model.
    fn group_usage(&self, world: &World) -> Vec<UsageMeter> {
        let mut usage = vec![UsageMeter::default(); self.groups.len()];
        for (s, &g) in self.service_group.iter().enumerate() {
            usage[g] += world.service_usage(ServiceId(s as u32));
        }
        usage
    }

    /// Per group, the busiest task's CPU and memory utilisation over the interval ending
    /// `now` (each task over the part of the interval it ran), and forgets the tasks that
    /// stopped.
    fn task_max_since_interval_start(&mut self, world: &World) -> Vec<(f64, f64)> {
        let mut max = vec![(0f64, 0f64); self.groups.len()];
        for (id, rec) in &mut self.tasks {
            let now = world.tasks()[id.index()].usage();
            let m = &mut max[rec.group];
            if let Some(u) = now
                .cpu
                .utilization_pct_since(&rec.usage_at_interval_start.cpu)
            {
                m.0 = m.0.max(u);
            }
            if let Some(u) = now.memory_pct_since(&rec.usage_at_interval_start) {
                m.1 = m.1.max(u);
            }
            rec.usage_at_interval_start = now;
        }
        self.tasks.retain(|_, r| r.stopped.is_none());
        max
    }

    fn write_interval(&mut self, now: SimTime, world: &World) {
        if now <= self.interval_start {
            return;
        }
        let usage_now = self.group_usage(world);
        let max = self.task_max_since_interval_start(world);
        for st in &mut self.groups {
            st.desired = 0;
            st.running_spot = 0;
        }
        for (s, &g) in self.service_group.iter().enumerate() {
            let svc = &world.services()[s];
            self.groups[g].desired += svc.desired();
            self.groups[g].running_spot += svc
                .running()
                .iter()
                .filter(|t| {
                    let t = &world.tasks()[t.index()];
                    t.state == TaskState::Running
                        && t.capacity_provider == crate::model::CapacityProvider::FargateSpot
                })
                .count() as u32;
        }
        let start = self.interval_start;
        let after_warmup = self.measuring && start >= self.warmup;
        let cost_usd = format!("{:.6}", world.cost(now).total_usd);
        let mut rows = Vec::with_capacity(self.groups.len());
        for (g, st) in self.groups.iter_mut().enumerate() {
            let d = usage_now[g] - st.usage_at_interval_start;
            let prev = std::mem::replace(&mut st.usage_at_interval_start, usage_now[g]);
            if after_warmup {
                st.cpu_max_pct = st.cpu_max_pct.max(max[g].0);
                st.memory_max_pct = st.memory_max_pct.max(max[g].1);
            }
            let mut row = metrics_row(start, now - start, st, &d, &usage_now[g], &prev, max[g]);
            row.push(cost_usd.clone());
            rows.push(row);
            if self.merge_interval {
                st.latency.add(&st.iv_latency);
            }
            st.iv_arrivals = 0;
            st.iv_by_cause = [0; CAUSES];
            st.iv_latency.reset();
            st.iv_launched = 0;
            st.iv_stopped = 0;
            st.iv_scaling = 0;
        }
        self.merge_interval = self.measuring && self.pre_warmup_in_flight == 0;
        let mut dep_rows = Vec::with_capacity(self.dependencies.len());
        for (i, ds) in self.dependencies.iter_mut().enumerate() {
            let m = world.dependencies()[i].meter();
            dep_rows.push(dependency_row(start, now - start, ds, &m));
            if self.merge_calls {
                ds.latency.add(&ds.iv_latency);
            }
            ds.meter_at_interval_start = m;
            ds.iv_by_outcome = [0; CALL_OUTCOMES];
            ds.iv_latency.reset();
            ds.iv_queued_ns = 0;
        }
        self.merge_calls = self.measuring;
        let rule_rows = if self.rules_on && self.files.is_some() {
            self.rule_rows(start, now, world)
        } else {
            Vec::new()
        };
        if let Some(files) = self.files.as_mut() {
            let r = rows
                .iter()
                .try_for_each(|row| files.metrics_row(row))
                .and_then(|()| {
                    dep_rows
                        .iter()
                        .try_for_each(|row| files.dependency_row(row))
                })
                .and_then(|()| rule_rows.iter().try_for_each(|row| files.rule_row(row)));
            self.keep_io_error(r);
        }
        self.interval_start = now;
    }

    fn totals(arrived: u64, by_cause: &[u64; CAUSES], in_flight: u64) -> RequestTotals {
        RequestTotals {
            arrived,
            by_outcome: Cause::ALL
                .iter()
                .map(|c| (c.name().to_string(), by_cause[c.index()]))
                .collect::<BTreeMap<_, _>>(),
            in_flight_at_end: in_flight,
        }
    }

    fn error_latency(
        accs: &[Option<Box<LatencyAcc>>; CAUSES],
    ) -> BTreeMap<String, Option<super::LatencySummary>> {
        Cause::ALL
            .iter()
            .filter(|c| !c.is_success())
            .map(|c| {
                let s = accs[c.index()].as_ref().and_then(|a| a.summary());
                (c.name().to_string(), s)
            })
            .collect()
    }

    fn build_summary(&mut self, now: SimTime, world: &World) -> Summary {
        let measured_s = (now - self.warmup).as_secs_f64();
        let measured_ns = (now - self.warmup).0 as f64;
        let per_s = |n: u64| {
            if measured_s > 0.0 {
                round_to(n as f64 / measured_s, 6)
            } else {
                0.0
            }
        };
        let mean_of = |area: u128| {
            if measured_ns > 0.0 {
                round_to(area as f64 / measured_ns, 6)
            } else {
                0.0
            }
        };
        let cpu_summary = |m: &CpuMeter, max: f64| CpuSummary {
            mean_pct: round_to(m.utilization_pct().unwrap_or(0.0), 4),
            max_pct: round_to(max, 4),
        };
        let none = UsageMeter::default();
        let memory_summary =
            |u: &UsageMeter, max: f64, peak_kib: u64, exceeded: u64| MemorySummary {
                mean_pct: round_to(u.memory_pct_since(&none).unwrap_or(0.0), 4),
                max_pct: round_to(max, 4),
                peak_mib: round_to(peak_kib as f64 / 1024.0, 3),
                exceeded,
            };
        let worker_summary = |u: &UsageMeter| WorkerSummary {
            busy_mean: mean_of(u.workers_busy_ns),
            utilization_pct: u.worker_pct_since(&none).map(|x| round_to(x, 4)),
            waiting_mean: mean_of(u.waiting_ns),
            on_cpu_mean: mean_of(u.on_cpu_ns),
        };
        // Peak memory of one task, per group (whole run).
        let mut peak_kib = vec![0u64; self.groups.len()];
        for t in world.tasks() {
            let g = self.service_group[t.service.index()];
            peak_kib[g] = peak_kib[g].max(t.peak_memory_kib());
        }
        let usage_end = self.group_usage(world);
        let mut all_latency = LatencyAcc::new();
        let mut all_errors: [Option<Box<LatencyAcc>>; CAUSES] = Default::default();
        let (mut arrived, mut by_cause, mut responses) = (0, [0u64; CAUSES], 0);
        let (mut usage, mut cpu_max, mut mem_max) = (UsageMeter::default(), 0f64, 0f64);
        let (mut breakdown, mut exceeded, mut latency_sum) = (Breakdown::default(), 0, 0u128);
        let mut desired_end = vec![0u64; self.groups.len()];
        for (s, &g) in self.service_group.iter().enumerate() {
            desired_end[g] += u64::from(world.services()[s].desired());
        }
        let mut all_tasks = TaskTotals::default();
        let mut groups = Vec::new();
        for (g, st) in self.groups.iter_mut().enumerate() {
            let tasks = TaskTotals {
                launched: st.launched,
                stopped: st.stopped,
                desired_at_end: desired_end[g],
                launched_spot: st.launched_spot,
                spot_interruptions: st.spot_interruptions,
            };
            all_tasks.add(&tasks);
            st.usage = usage_end[g] - st.usage_at_warmup;
            all_latency.add(&st.latency);
            for (all, mine) in all_errors.iter_mut().zip(&st.error_latency) {
                if let Some(m) = mine {
                    all.get_or_insert_with(Box::default).add(m);
                }
            }
            arrived += st.arrived;
            for (total, n) in by_cause.iter_mut().zip(st.by_cause) {
                *total += n;
            }
            responses += st.responses_measured;
            usage += st.usage;
            cpu_max = cpu_max.max(st.cpu_max_pct);
            mem_max = mem_max.max(st.memory_max_pct);
            breakdown.add(&st.breakdown);
            latency_sum += st.latency.sum_ns();
            exceeded += st.memory_exceeded;
            groups.push(TargetGroupSummary {
                name: st.name.clone(),
                algorithm: st.algorithm.to_string(),
                targets: st.targets.iter().map(|&n| u64::from(n)).sum(),
                distinct_ips: st.ips.len() as u64,
                tasks,
                requests: Self::totals(st.arrived, &st.by_cause, st.in_flight),
                latency_ms: st.latency.summary(),
                error_latency_ms: Self::error_latency(&st.error_latency),
                throughput_rps: per_s(st.responses_measured),
                cpu_utilization: cpu_summary(&st.usage.cpu, st.cpu_max_pct),
                memory_utilization: memory_summary(
                    &st.usage,
                    st.memory_max_pct,
                    peak_kib[g],
                    st.memory_exceeded,
                ),
                workers: worker_summary(&st.usage),
                latency_breakdown_ms: st.breakdown.summary(st.latency.sum_ns()),
            });
        }
        arrived += self.front.arrived;
        for (total, n) in by_cause.iter_mut().zip(self.front.by_cause) {
            *total += n;
        }
        responses += self.front.responses_measured;
        let (listeners, rules) = self.rule_summaries(world, &by_cause);
        let dependencies = self
            .dependencies
            .iter()
            .enumerate()
            .map(|(i, ds)| {
                let m = world.dependencies()[i].meter();
                let in_service = mean_of(m.in_service_ns - ds.meter_at_warmup.in_service_ns);
                let calls: u64 = ds.by_outcome.iter().sum();
                DependencySummary {
                    name: ds.name.clone(),
                    calls: CallOutcome::ALL
                        .iter()
                        .map(|c| (c.name().to_string(), ds.by_outcome[c.index()]))
                        .collect(),
                    latency_ms: ds.latency.summary(),
                    queued_ms_mean: (calls > 0)
                        .then(|| round_to(ds.queued_ns as f64 / calls as f64 / 1e6, 6)),
                    in_service_mean: in_service,
                    queued_mean: mean_of(m.queued_ns - ds.meter_at_warmup.queued_ns),
                    utilization_pct: (ds.capacity > 0)
                        .then(|| round_to(in_service / f64::from(ds.capacity) * 100.0, 4)),
                }
            })
            .collect();
        if self.files.is_some() {
            self.latency_cdf = all_latency.cdf_rows();
        }
        let open_ns: u128 = self
            .billing
            .values()
            .map(|&from| u128::from((now - from).0))
            .sum();
        let task_seconds = (self.billed_ns + open_ns) as f64 / 1e9;
        Summary {
            scenario: self.name.clone(),
            seed: self.seed,
            lbsim_version: crate::VERSION.to_string(),
            complete: now >= self.end,
            stop_reason: None,
            duration_s: round_to((now - SimTime::ZERO).as_secs_f64(), 9),
            warmup_s: round_to((self.warmup - SimTime::ZERO).as_secs_f64(), 9),
            requests: Self::totals(arrived, &by_cause, self.in_flight),
            latency_ms: all_latency.summary(),
            error_latency_ms: Self::error_latency(&all_errors),
            throughput_rps: per_s(responses),
            in_flight_mean: if measured_s > 0.0 {
                round_to(self.in_flight_area as f64 / 1e9 / measured_s, 6)
            } else {
                0.0
            },
            cpu_utilization: cpu_summary(&usage.cpu, cpu_max),
            memory_utilization: memory_summary(
                &usage,
                mem_max,
                peak_kib.iter().copied().max().unwrap_or(0),
                exceeded,
            ),
            workers: worker_summary(&usage),
            latency_breakdown_ms: breakdown.summary(latency_sum),
            task_seconds: round_to(task_seconds, 6),
            tasks: all_tasks,
            target_groups: groups,
            dependencies,
            deployments: deployment_summaries(world),
            blue_green: blue_green_summaries(world),
            auto_scaling: self.scaling_summaries(world),
            cost: super::CostSummary::new(&world.cost(now), arrived),
            listeners,
            rules,
            network_load_balancer: nlb_summary(world),
        }
    }
}

/// The NLB's part of `summary.json`, if the load balancer is one.
fn nlb_summary(world: &World) -> Option<super::summary::NlbSummary> {
    let nlb = world.load_balancer().network()?;
    let mut by_task = BTreeMap::new();
    let mut counts = Vec::new();
    for (t, n) in nlb.requests_by_task() {
        by_task.insert(world.tasks()[t.index()].name.clone(), n);
        counts.push(n);
    }
    let mean = counts.iter().sum::<u64>() as f64 / counts.len().max(1) as f64;
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    Some(super::summary::NlbSummary {
        connections: nlb.connections_bound(),
        connections_reset: nlb.connections_reset(),
        requests_by_task: by_task,
        max_over_mean: if mean > 0.0 {
            round_to(max / mean, 4)
        } else {
            0.0
        },
    })
}

/// One service's scaling activities so far.
#[derive(Clone, Copy, Debug)]
struct ScalingAcc {
    outs: u32,
    ins: u32,
    first_out: Option<SimTime>,
    min: u32,
    max: u32,
}

impl Recorder {
    /// Per service with `auto_scaling`, what its scaling activities did, for `summary.json`.
    fn scaling_summaries(&self, world: &World) -> Vec<super::summary::ScalingSummary> {
        world
            .services()
            .iter()
            .zip(world.scalable_targets())
            .enumerate()
            .filter_map(|(i, (svc, t))| {
                let t = t.as_ref()?;
                let desired = svc.desired();
                let acc = self.scaling.get(&i).copied().unwrap_or(ScalingAcc {
                    outs: 0,
                    ins: 0,
                    first_out: None,
                    min: desired,
                    max: desired,
                });
                Some(super::summary::ScalingSummary {
                    service: svc.name.clone(),
                    scale_outs: acc.outs,
                    scale_ins: acc.ins,
                    first_scale_out_s: acc.first_out.map(SimTime::as_secs_f64),
                    desired_min: acc.min.min(desired),
                    desired_max: acc.max.max(desired),
                    desired_at_end: desired,
                    min_capacity: t.min,
                    max_capacity: t.max,
                })
            })
            .collect()
    }
}

/// Every blue/green deployment, for `summary.json`.
fn blue_green_summaries(world: &World) -> Vec<super::summary::BlueGreenSummary> {
    let name = |i: usize| world.services()[i].name.clone();
    world
        .blue_green()
        .iter()
        .map(|b| super::summary::BlueGreenSummary {
            blue_service: name(b.spec.blue_service),
            green_service: name(b.spec.green_service),
            deployment_config: b.spec.config_name.clone(),
            status: b.state.name().to_string(),
            started_s: b.started.map(SimTime::as_secs_f64),
            shift_started_s: b.shift_started.map(SimTime::as_secs_f64),
            shifted_s: b.shifted.map(SimTime::as_secs_f64),
            ended_s: b.ended.map(SimTime::as_secs_f64),
            green_percent_at_end: b.green_percent,
            shifts: b
                .shifts
                .iter()
                .map(|&(t, p)| super::summary::TrafficShiftSummary {
                    time_s: t.as_secs_f64(),
                    green_percent: p,
                })
                .collect(),
        })
        .collect()
}

/// Every service's deployments, for `summary.json`.
fn deployment_summaries(world: &World) -> Vec<DeploymentSummary> {
    let mut out = Vec::new();
    for svc in world.services() {
        for d in svc.rollout().deployments() {
            out.push(DeploymentSummary {
                service: svc.name.clone(),
                task_definition: super::events::task_definition(&svc.name, d.revision),
                from_task_definition: super::events::task_definition(&svc.name, d.from),
                rollback: d.rollback,
                started_s: d.started.as_secs_f64(),
                ended_s: d.ended.map(SimTime::as_secs_f64),
                rollout_state: d.state.name().to_string(),
                failed_tasks: d.failures,
                failure_threshold: (d.threshold > 0).then_some(d.threshold),
            });
        }
    }
    out
}

/// Counts of the requests that no target group served (see [`Recorder`]'s `front`).
#[derive(Clone, Copy, Debug, Default)]
struct FrontCounts {
    arrived: u64,
    by_cause: [u64; CAUSES],
    responses_measured: u64,
}

impl Recorder {
    /// Counts a request that ended with `cause` against its listener's rule.
    #[cold]
    #[inline(never)]
    fn count_rule(&mut self, req: &Request, cause: Cause) {
        if let Some(r) = self
            .rule_counts
            .get_mut(usize::from(req.listener))
            .and_then(|l| l.get_mut(usize::from(req.rule)))
        {
            r[cause.index()] += 1;
        }
    }

    /// The rest of [`Observer::request_finished`] for a request no target group served.
    #[cold]
    #[inline(never)]
    fn front_finished(&mut self, cause: Cause) {
        self.front.by_cause[cause.index()] += 1;
        if self.measuring {
            self.front.responses_measured += 1;
        }
    }

    /// The `rules.csv` rows of the interval from `start` to `now`: per listener, per rule in
    /// priority order (the default last), the requests that ended in the interval, by
    /// cause (the counts since the last rows were written).
    fn rule_rows(&mut self, start: SimTime, now: SimTime, world: &World) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let (t, w) = (
            format_secs(start),
            format_secs(SimTime::ZERO + (now - start)),
        );
        for (i, l) in world.load_balancer().listener_rules().iter().enumerate() {
            for (r, (c, prev)) in self.rule_counts[i]
                .iter()
                .zip(self.rule_written[i].iter_mut())
                .enumerate()
            {
                let d: Vec<u64> = c.iter().zip(prev.iter()).map(|(a, b)| a - b).collect();
                *prev = *c;
                let mut row = vec![
                    t.clone(),
                    w.clone(),
                    l.port.to_string(),
                    l.priority(r as u8).map_or(String::new(), |p| p.to_string()),
                    d.iter().sum::<u64>().to_string(),
                ];
                row.extend(Cause::ALL.iter().map(|c| d[c.index()].to_string()));
                rows.push(row);
            }
        }
        rows
    }

    /// `summary.json`'s `listeners` and `rules`: per listener and per rule (default rules
    /// included), the requests that ended, by outcome and by exact status code.
    fn rule_summaries(
        &self,
        world: &World,
        by_cause: &[u64; CAUSES],
    ) -> (Vec<ListenerSummary>, Vec<RuleSummary>) {
        let mut listeners = Vec::new();
        let mut rules = Vec::new();
        for (i, l) in world.load_balancer().listener_rules().iter().enumerate() {
            let counts: Vec<[u64; CAUSES]> = if self.rules_on {
                self.rule_counts[i].clone()
            } else {
                // One plain listener: every request is its default rule's.
                vec![*by_cause]
            };
            let mut total = [0u64; CAUSES];
            for (r, c) in counts.iter().enumerate() {
                for (t, n) in total.iter_mut().zip(c) {
                    *t += n;
                }
                let exact = l.action(r as u8).status();
                let mut by_status = BTreeMap::new();
                for cause in Cause::ALL {
                    let n = c[cause.index()];
                    if n > 0 {
                        let code = match exact {
                            Some(code)
                                if matches!(
                                    cause,
                                    Cause::Redirect301
                                        | Cause::Redirect302
                                        | Cause::FixedResponse2xx
                                        | Cause::FixedResponse4xx
                                        | Cause::FixedResponse5xx
                                ) =>
                            {
                                code
                            }
                            _ => cause.status(),
                        };
                        *by_status.entry(code.to_string()).or_insert(0) += n;
                    }
                }
                rules.push(RuleSummary {
                    listener_port: l.port,
                    priority: l.priority(r as u8),
                    requests: c.iter().sum(),
                    by_status,
                });
            }
            listeners.push(ListenerSummary {
                port: l.port,
                protocol: l.protocol.clone(),
                requests: total.iter().sum(),
                by_outcome: Cause::ALL
                    .iter()
                    .map(|c| (c.name().to_string(), total[c.index()]))
                    .collect(),
            });
        }
        (listeners, rules)
    }

    /// The rest of [`Observer::request_finished`] for an error (out of the hot path).
    #[cold]
    #[inline(never)]
    fn error_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        if self.measuring {
            let st = &mut self.groups[req.target_group.index()];
            st.responses_measured += 1;
            if req.arrived >= self.warmup {
                st.error_latency[cause.index()]
                    .get_or_insert_with(Box::default)
                    .record(req.latency_at(now).0);
            } else {
                self.pre_warmup_in_flight -= 1;
            }
        }
    }

    /// [`Observer::request_finished`] for a success that arrived before the warm-up's
    /// end (out of the hot path).
    #[cold]
    #[inline(never)]
    fn pre_warmup_finished(&mut self) {
        self.pre_warmup_in_flight -= 1;
    }
}

/// One `metrics.csv` row, already formatted. `d` is the group's usage over the interval,
/// `max` the busiest task's (CPU, memory) utilisation in it.
fn metrics_row(
    start: SimTime,
    width: SimDuration,
    st: &GroupState,
    d: &UsageMeter,
    now: &UsageMeter,
    prev: &UsageMeter,
    max: (f64, f64),
) -> Vec<String> {
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_default();
    let pct = |x: Option<f64>| x.map(|v| format!("{v:.2}")).unwrap_or_default();
    let avg = |area: u128| {
        if width.is_zero() {
            String::new()
        } else {
            format!("{:.3}", area as f64 / width.0 as f64)
        }
    };
    let l = &st.iv_latency;
    let responses: u64 = st.iv_by_cause.iter().sum();
    let mut row = vec![
        format_secs(start),
        format_secs(SimTime::ZERO + width),
        st.name.clone(),
        st.iv_arrivals.to_string(),
        responses.to_string(),
    ];
    row.extend(st.iv_by_cause.iter().map(u64::to_string));
    row.extend([
        st.in_flight.to_string(),
        opt(l.quantile_ms(0.5)),
        opt(l.quantile_ms(0.9)),
        opt(l.quantile_ms(0.99)),
        opt(l.quantile_ms(0.999)),
        opt(l.max_ms()),
        opt(l.mean_ms()),
        pct(d.cpu.utilization_pct()),
        format!("{:.2}", max.0),
        st.tasks_serving.to_string(),
        st.desired.to_string(),
    ]);
    let in_states = |states: &[TaskState]| -> String {
        let n: u32 = states.iter().map(|s| st.task_states[s.index()]).sum();
        n.to_string()
    };
    row.extend([
        in_states(&[
            TaskState::Provisioning,
            TaskState::Pending,
            TaskState::Activating,
        ]),
        in_states(&[TaskState::Running]),
        in_states(&[
            TaskState::Deactivating,
            TaskState::Stopping,
            TaskState::Deprovisioning,
        ]),
        st.iv_launched.to_string(),
        st.iv_stopped.to_string(),
    ]);
    row.extend(
        [
            TargetState::Initial,
            TargetState::Healthy,
            TargetState::Unhealthy,
            TargetState::Draining,
        ]
        .iter()
        .map(|s| st.targets[s.index()].to_string()),
    );
    let ran = d.running_ns > 0;
    row.extend([
        pct(now.memory_pct_since(prev)),
        if ran {
            format!("{:.2}", max.1)
        } else {
            String::new()
        },
        avg(d.workers_busy_ns),
        pct(now.worker_pct_since(prev)),
        avg(d.waiting_ns),
        avg(d.on_cpu_ns),
        st.iv_scaling.to_string(),
        st.running_spot.to_string(),
    ]);
    row
}

/// One `dependencies.csv` row.
fn dependency_row(
    start: SimTime,
    width: SimDuration,
    ds: &DependencyState,
    now: &DependencyMeter,
) -> Vec<String> {
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_default();
    let per_width = |area: u128| (!width.is_zero()).then(|| area as f64 / width.0 as f64);
    let in_service = per_width(now.in_service_ns - ds.meter_at_interval_start.in_service_ns);
    let queued = per_width(now.queued_ns - ds.meter_at_interval_start.queued_ns);
    let calls: u64 = ds.iv_by_outcome.iter().sum();
    let l = &ds.iv_latency;
    let mut row = vec![
        format_secs(start),
        format_secs(SimTime::ZERO + width),
        ds.name.clone(),
        calls.to_string(),
    ];
    row.extend(ds.iv_by_outcome.iter().map(u64::to_string));
    row.extend([
        opt(in_service),
        opt(queued),
        if ds.capacity > 0 {
            in_service
                .map(|x| format!("{:.2}", x / f64::from(ds.capacity) * 100.0))
                .unwrap_or_default()
        } else {
            String::new()
        },
        opt(l.quantile_ms(0.5)),
        opt(l.quantile_ms(0.9)),
        opt(l.quantile_ms(0.99)),
        opt(l.max_ms()),
        opt(l.mean_ms()),
        opt((calls > 0).then(|| ds.iv_queued_ns as f64 / calls as f64 / 1e6)),
    ]);
    row
}

/// The `dependencies.csv` header. Units are the last part of each name.
pub fn dependencies_header() -> Vec<String> {
    let mut h: Vec<String> = ["time_s", "interval_s", "dependency", "calls"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(
        CallOutcome::ALL
            .iter()
            .map(|c| format!("calls_{}", c.name())),
    );
    h.extend(
        [
            "in_service_mean",
            "queued_mean",
            "utilization_pct",
            "latency_p50_ms",
            "latency_p90_ms",
            "latency_p99_ms",
            "latency_max_ms",
            "latency_mean_ms",
            "queued_mean_ms",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    h
}

/// The `rules.csv` header (written only when some listener has rules, a non-forward default
/// action, or there are several listeners: the runs whose `summary.json` counts by rule).
pub fn rules_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "time_s",
        "interval_s",
        "listener_port",
        "priority",
        "responses",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(Cause::ALL.iter().map(|c| format!("responses_{}", c.name())));
    h
}

/// The `metrics.csv` header. Units are the last part of each name.
pub fn metrics_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "time_s",
        "interval_s",
        "target_group",
        "arrivals",
        "responses",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(Cause::ALL.iter().map(|c| format!("responses_{}", c.name())));
    h.extend(
        [
            "in_flight",
            "latency_p50_ms",
            "latency_p90_ms",
            "latency_p99_ms",
            "latency_p99_9_ms",
            "latency_max_ms",
            "latency_mean_ms",
            "cpu_utilization_mean_pct",
            "cpu_utilization_max_pct",
            "tasks",
            "desired_count",
            "tasks_pending",
            "tasks_running",
            "tasks_stopping",
            "tasks_launched",
            "tasks_stopped",
            "targets_initial",
            "targets_healthy",
            "targets_unhealthy",
            "targets_draining",
            "memory_utilization_mean_pct",
            "memory_utilization_max_pct",
            "workers_busy_mean",
            "worker_utilization_pct",
            "waiting_for_worker_mean",
            "on_cpu_mean",
            "scaling_activities",
            "tasks_running_spot",
            "cost_usd",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    h
}

/// Seconds with millisecond precision and no trailing zeros beyond what is needed.
pub(super) fn format_secs(t: SimTime) -> String {
    let ms = t.0 / 1_000_000;
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    }
}

impl Observer for Recorder {
    fn start(&mut self, world: &World) {
        self.name = world.name().to_string();
        self.seed = world.seed();
        self.warmup = SimTime::ZERO + world.warmup();
        self.end = world.end();
        // An NLB has no algorithm: it binds connections by a flow hash.
        let nlb = world.load_balancer().network().is_some();
        self.groups = world
            .target_groups()
            .iter()
            .map(|tg| GroupState {
                name: tg.name.clone(),
                algorithm: if nlb {
                    "flow_hash"
                } else {
                    tg.algorithm.name()
                },
                iv_arrivals: 0,
                iv_by_cause: [0; CAUSES],
                iv_latency: LatencyAcc::new(),
                usage_at_interval_start: UsageMeter::default(),
                arrived: 0,
                by_cause: [0; CAUSES],
                in_flight: 0,
                targets: [0; STATES],
                ips: std::collections::BTreeSet::new(),
                tasks_serving: 0,
                task_states: [0; TASK_STATES],
                desired: 0,
                iv_launched: 0,
                iv_stopped: 0,
                iv_scaling: 0,
                launched: 0,
                stopped: 0,
                launched_spot: 0,
                spot_interruptions: 0,
                running_spot: 0,
                latency: LatencyAcc::new(),
                error_latency: Default::default(),
                responses_measured: 0,
                breakdown: Breakdown::default(),
                usage_at_warmup: UsageMeter::default(),
                cpu_max_pct: 0.0,
                memory_max_pct: 0.0,
                memory_exceeded: 0,
                usage: UsageMeter::default(),
            })
            .collect();
        self.dependencies = world
            .dependencies()
            .iter()
            .map(|d| DependencyState {
                name: d.name.clone(),
                capacity: d.capacity,
                iv_by_outcome: [0; CALL_OUTCOMES],
                iv_latency: LatencyAcc::new(),
                iv_queued_ns: 0,
                meter_at_interval_start: DependencyMeter::default(),
                by_outcome: [0; CALL_OUTCOMES],
                latency: LatencyAcc::new(),
                queued_ns: 0,
                meter_at_warmup: DependencyMeter::default(),
            })
            .collect();
        self.waits = world.services().iter().any(|s| {
            s.steps()
                .iter()
                .any(|st| st.kind != crate::model::StepKind::Cpu)
        });
        self.service_group = world
            .services()
            .iter()
            .map(|s| s.target_group.index())
            .collect();
        self.initial_left = world.services().iter().map(|s| s.desired()).collect();
        let listeners = world.load_balancer().listener_rules();
        self.rules_on =
            listeners.len() > 1 || listeners.iter().any(|l| l.static_forward().is_none());
        self.rule_counts = listeners
            .iter()
            .map(|l| vec![[0; CAUSES]; l.rules.len() + 1])
            .collect();
        self.rule_written = self.rule_counts.clone();
        if let Some(dir) = self.options.out_dir.clone() {
            let rules_header = self.rules_on.then(rules_header);
            match OutputFiles::create(
                &dir,
                &metrics_header(),
                &EVENTS_HEADER,
                &dependencies_header(),
                rules_header.as_deref(),
            ) {
                Ok(f) => self.files = Some(f),
                Err(e) => self.io_error = Some(e),
            }
        }
    }

    #[inline(always)]
    fn request_arrived(&mut self, now: SimTime, req: &Request) {
        self.integrate_in_flight(now);
        self.in_flight += 1;
        if req.target_group == NO_GROUP {
            return self.front.arrived += 1;
        }
        let st = &mut self.groups[req.target_group.index()];
        st.iv_arrivals += 1;
        st.arrived += 1;
        st.in_flight += 1;
    }

    #[inline(always)]
    fn request_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.integrate_in_flight(now);
        self.in_flight -= 1;
        if self.rules_on {
            self.count_rule(req, cause);
            if req.target_group == NO_GROUP {
                return self.front_finished(cause);
            }
        }
        let measuring = self.measuring;
        let st = &mut self.groups[req.target_group.index()];
        st.in_flight -= 1;
        st.iv_by_cause[cause.index()] += 1;
        st.by_cause[cause.index()] += 1;
        if !cause.is_success() {
            return self.error_finished(now, req, cause);
        }
        let lat = req.latency_at(now).0;
        st.iv_latency.record(lat);
        if measuring {
            st.responses_measured += 1;
            if req.arrived >= self.warmup {
                // In a merged interval the run's histogram gets the interval's at its end.
                if !self.merge_interval {
                    st.latency.record(lat);
                }
                st.breakdown.record(req, self.waits);
            } else {
                self.pre_warmup_finished();
            }
        }
    }

    fn call_finished(&mut self, _now: SimTime, call: &CallEnd) {
        let ds = &mut self.dependencies[call.dependency.index()];
        let o = call.outcome.index();
        let total = (call.queued + call.served).0;
        ds.iv_by_outcome[o] += 1;
        ds.iv_queued_ns += u128::from(call.queued.0);
        if call.outcome == CallOutcome::Ok {
            ds.iv_latency.record(total);
        }
        if self.measuring {
            ds.by_outcome[o] += 1;
            ds.queued_ns += u128::from(call.queued.0);
            // In a merged interval the run's histogram gets the interval's at its end.
            if call.outcome == CallOutcome::Ok && !self.merge_calls {
                ds.latency.record(total);
            }
        }
    }

    fn lifecycle(&mut self, now: SimTime, event: &LifecycleEvent, world: &World) {
        match *event {
            LifecycleEvent::TaskLaunched { task, service } => {
                let st = &mut self.groups[self.service_group[service.index()]];
                st.task_states[TaskState::Provisioning.index()] += 1;
                st.iv_launched += 1;
                st.launched += 1;
                st.launched_spot += u64::from(
                    world.tasks()[task.index()].capacity_provider
                        == crate::model::CapacityProvider::FargateSpot,
                );
                self.starting.insert(task);
            }
            LifecycleEvent::TaskStateChanged {
                task,
                service,
                from,
                to,
            } => {
                let st = &mut self.groups[self.service_group[service.index()]];
                st.task_states[from.index()] -= 1;
                st.task_states[to.index()] += 1;
                match to {
                    TaskState::Pending => {
                        self.billing.insert(task, now);
                    }
                    TaskState::Stopped => {
                        st.iv_stopped += 1;
                        st.stopped += 1;
                        self.starting.remove(&task);
                        if let Some(from) = self.billing.remove(&task) {
                            self.billed_ns += u128::from((now - from).0);
                        }
                    }
                    _ => {}
                }
            }
            LifecycleEvent::TaskStarted { task, service } => {
                self.billing.entry(task).or_insert(now);
                let group = self.service_group[service.index()];
                let st = &mut self.groups[group];
                st.tasks_serving += 1;
                if !self.starting.remove(&task) {
                    // A warm start: RUNNING at once, no state change counted it.
                    st.task_states[TaskState::Running.index()] += 1;
                    let initial = &mut self.initial_left[service.index()];
                    if *initial > 0 {
                        *initial -= 1;
                    } else {
                        st.iv_launched += 1;
                        st.launched += 1;
                        st.launched_spot += u64::from(
                            world.tasks()[task.index()].capacity_provider
                                == crate::model::CapacityProvider::FargateSpot,
                        );
                    }
                }
                self.tasks.insert(
                    task,
                    TaskRecord {
                        group,
                        started: now,
                        stopped: None,
                        usage_at_interval_start: UsageMeter::default(),
                    },
                );
            }
            LifecycleEvent::TaskStopped { task, service, .. } => {
                self.groups[self.service_group[service.index()]].tasks_serving -= 1;
                if let Some(r) = self.tasks.get_mut(&task) {
                    r.stopped = Some(now);
                    self.stopped_task_ns += u128::from((now - r.started).0);
                }
            }
            LifecycleEvent::TargetStateChanged {
                task,
                target_group,
                from,
                to,
                ..
            } => {
                if from == TargetState::Unused
                    && let Some(lease) = &world.tasks()[task.index()].lease
                {
                    self.groups[target_group.index()].ips.insert(lease.ip);
                }
                let t = &mut self.groups[target_group.index()].targets;
                if from != TargetState::Unused {
                    t[from.index()] -= 1;
                }
                if to != TargetState::Unused {
                    t[to.index()] += 1;
                }
            }
            LifecycleEvent::SpotInterrupted { service, .. } => {
                self.groups[self.service_group[service.index()]].spot_interruptions += 1;
            }
            LifecycleEvent::MemoryExceeded { service, .. } => {
                self.groups[self.service_group[service.index()]].memory_exceeded += 1;
            }
            LifecycleEvent::TaskLaunchFailed { .. }
            | LifecycleEvent::MemoryRecovered { .. }
            | LifecycleEvent::FaultStarted { .. }
            | LifecycleEvent::FaultEnded { .. }
            | LifecycleEvent::DeploymentStarted { .. }
            | LifecycleEvent::DeploymentCompleted { .. }
            | LifecycleEvent::DeploymentFailed { .. }
            | LifecycleEvent::BlueGreen { .. }
            | LifecycleEvent::TargetAnomaly { .. }
            | LifecycleEvent::ScalableTargetUpdated { .. } => {}
            LifecycleEvent::ScalingActivity {
                service, from, to, ..
            } => {
                self.groups[self.service_group[service.index()]].iv_scaling += 1;
                let acc = self.scaling.entry(service.index()).or_insert(ScalingAcc {
                    outs: 0,
                    ins: 0,
                    first_out: None,
                    min: from,
                    max: from,
                });
                if to > from {
                    acc.outs += 1;
                    acc.first_out.get_or_insert(now);
                } else {
                    acc.ins += 1;
                }
                acc.min = acc.min.min(to);
                acc.max = acc.max.max(to);
            }
        }
        if let Some(files) = self.files.as_mut() {
            if let Some(row) = event_row(now, event, world) {
                let r = files.event_row(&row);
                self.keep_io_error(r);
            }
        }
    }

    fn warmup_end(&mut self, now: SimTime, world: &World) {
        self.integrate_in_flight(now);
        self.measuring = true;
        self.pre_warmup_in_flight = self.in_flight;
        self.merge_interval = self.in_flight == 0 && now == self.interval_start;
        self.merge_calls = now == self.interval_start;
        let usage = self.group_usage(world);
        for (st, u) in self.groups.iter_mut().zip(usage) {
            st.usage_at_warmup = u;
        }
        for (ds, d) in self.dependencies.iter_mut().zip(world.dependencies()) {
            ds.meter_at_warmup = d.meter();
        }
    }

    fn cloudwatch_published(&mut self, now: SimTime, minute: u32, world: &World) {
        if let Some(files) = self.files.as_mut() {
            let mut r = Ok(());
            for row in super::cloudwatch::datapoint_rows(now, minute, world) {
                r = r.and_then(|()| files.cloudwatch_row(&row));
            }
            for row in super::cloudwatch::alarm_rows(now, world) {
                r = r.and_then(|()| files.alarm_row(&row));
            }
            self.keep_io_error(r);
        }
    }

    fn interval(&mut self, now: SimTime, world: &World) {
        self.write_interval(now, world);
    }

    fn finish(&mut self, now: SimTime, world: &World) {
        self.integrate_in_flight(now);
        self.write_interval(now, world);
        // Tasks stopped so far are counted; running ones up to now.
        self.tasks.retain(|_, r| r.stopped.is_none());
        self.summary = Some(self.build_summary(now, world));
    }
}
