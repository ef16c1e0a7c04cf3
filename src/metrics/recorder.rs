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

use std::collections::BTreeMap;

use super::events::{EVENTS_HEADER, event_row};
use super::latency::LatencyAcc;
use super::output::{OutputFiles, Outputs};
use super::summary::{CpuSummary, RequestTotals, Summary, TargetGroupSummary};
use super::{MetricsError, round_to};
use crate::engine::{SimDuration, SimTime};
use crate::model::{
    Cause, CpuMeter, LifecycleEvent, Observer, Request, TargetState, TaskId, World,
};

const CAUSES: usize = Cause::ALL.len();
const STATES: usize = TargetState::ALL.len();

/// Counters of one target group.
struct GroupState {
    name: String,
    algorithm: &'static str,
    // This interval.
    iv_arrivals: u64,
    iv_by_cause: [u64; CAUSES],
    iv_latency: LatencyAcc,
    cpu_at_interval_start: CpuMeter,
    // Whole run.
    arrived: u64,
    by_cause: [u64; CAUSES],
    in_flight: u64,
    /// Targets by state, from the lifecycle events (`unused` not counted).
    targets: [u32; STATES],
    /// Running tasks of the services registering in this group, from the events.
    tasks_running: u32,
    // After warm-up.
    latency: LatencyAcc,
    error_latency: [Option<Box<LatencyAcc>>; CAUSES],
    responses_measured: u64,
    cpu_at_warmup: CpuMeter,
    cpu_max_pct: f64,
    cpu: CpuMeter,
}

/// A task the recorder follows: its group, when it ran, its CPU meter at the start of the
/// current interval.
struct TaskRecord {
    group: usize,
    started: SimTime,
    stopped: Option<SimTime>,
    cpu_at_interval_start: CpuMeter,
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
    /// Target group of each service.
    service_group: Vec<usize>,
    /// Tasks running now or stopped in the current interval.
    tasks: BTreeMap<TaskId, TaskRecord>,
    /// Σ run time of tasks stopped so far, ns.
    stopped_task_ns: u128,
    in_flight: u64,
    in_flight_area: u128,
    last_change: SimTime,
    summary: Option<Summary>,
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
            service_group: Vec::new(),
            tasks: BTreeMap::new(),
            stopped_task_ns: 0,
            in_flight: 0,
            in_flight_area: 0,
            last_change: SimTime::ZERO,
            summary: None,
        }
    }

    /// A recorder that writes no files.
    pub fn in_memory() -> Recorder {
        Recorder::new(RecorderOptions::default())
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
            Some(files) => Some(files.commit(&summary)?),
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

    /// Each group's CPU meter now: the sum of its services' meters, read from the model.
    fn group_cpu(&self, world: &World) -> Vec<CpuMeter> {
        let mut cpu = vec![CpuMeter::default(); self.groups.len()];
        for (s, &g) in self.service_group.iter().enumerate() {
            cpu[g] += world.service_cpu(crate::model::ServiceId(s as u32));
        }
        cpu
    }

    /// Per group, the busiest task's utilisation over the interval ending `now` (each task
    /// over the part of the interval it ran), and forgets the tasks that stopped.
    fn task_max_since_interval_start(&mut self, world: &World) -> Vec<f64> {
        let mut max = vec![0f64; self.groups.len()];
        for (id, rec) in &mut self.tasks {
            let now = world.tasks()[id.index()].cpu();
            if let Some(u) = now.utilization_pct_since(&rec.cpu_at_interval_start) {
                max[rec.group] = max[rec.group].max(u);
            }
            rec.cpu_at_interval_start = now;
        }
        self.tasks.retain(|_, r| r.stopped.is_none());
        max
    }

    fn write_interval(&mut self, now: SimTime, world: &World) {
        if now <= self.interval_start {
            return;
        }
        let cpu_now = self.group_cpu(world);
        let cpu_max = self.task_max_since_interval_start(world);
        let start = self.interval_start;
        let after_warmup = self.measuring && start >= self.warmup;
        let mut rows = Vec::with_capacity(self.groups.len());
        for (g, st) in self.groups.iter_mut().enumerate() {
            let mean = cpu_now[g].utilization_pct_since(&st.cpu_at_interval_start);
            st.cpu_at_interval_start = cpu_now[g];
            if after_warmup {
                st.cpu_max_pct = st.cpu_max_pct.max(cpu_max[g]);
            }
            rows.push(metrics_row(start, now - start, st, mean, cpu_max[g]));
            st.iv_arrivals = 0;
            st.iv_by_cause = [0; CAUSES];
            st.iv_latency.reset();
        }
        if let Some(files) = self.files.as_mut() {
            let r = rows.iter().try_for_each(|row| files.metrics_row(row));
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
        let per_s = |n: u64| {
            if measured_s > 0.0 {
                round_to(n as f64 / measured_s, 6)
            } else {
                0.0
            }
        };
        let cpu_summary = |m: &CpuMeter, max: f64| CpuSummary {
            mean_pct: round_to(m.utilization_pct().unwrap_or(0.0), 4),
            max_pct: round_to(max, 4),
        };
        let cpu_end = self.group_cpu(world);
        let mut all_latency = LatencyAcc::new();
        let mut all_errors: [Option<Box<LatencyAcc>>; CAUSES] = Default::default();
        let (mut arrived, mut by_cause, mut responses) = (0, [0u64; CAUSES], 0);
        let (mut cpu, mut max) = (CpuMeter::default(), 0f64);
        let mut groups = Vec::new();
        for (g, st) in self.groups.iter_mut().enumerate() {
            st.cpu = cpu_end[g] - st.cpu_at_warmup;
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
            cpu += st.cpu;
            max = max.max(st.cpu_max_pct);
            groups.push(TargetGroupSummary {
                name: st.name.clone(),
                algorithm: st.algorithm.to_string(),
                targets: st.targets.iter().map(|&n| u64::from(n)).sum(),
                requests: Self::totals(st.arrived, &st.by_cause, st.in_flight),
                latency_ms: st.latency.summary(),
                error_latency_ms: Self::error_latency(&st.error_latency),
                throughput_rps: per_s(st.responses_measured),
                cpu_utilization: cpu_summary(&st.cpu, st.cpu_max_pct),
            });
        }
        let running_ns: u128 = self
            .tasks
            .values()
            .map(|r| u128::from((r.stopped.unwrap_or(now) - r.started).0))
            .sum();
        let task_seconds = (self.stopped_task_ns + running_ns) as f64 / 1e9;
        Summary {
            scenario: self.name.clone(),
            seed: self.seed,
            lbsim_version: crate::VERSION.to_string(),
            complete: now >= self.end,
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
            cpu_utilization: cpu_summary(&cpu, max),
            task_seconds: round_to(task_seconds, 6),
            target_groups: groups,
        }
    }
}

impl Recorder {
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
            }
        }
    }
}

/// One `metrics.csv` row, already formatted.
fn metrics_row(
    start: SimTime,
    width: SimDuration,
    st: &GroupState,
    cpu_mean: Option<f64>,
    cpu_max: f64,
) -> Vec<String> {
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_default();
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
        cpu_mean.map(|v| format!("{v:.2}")).unwrap_or_default(),
        format!("{cpu_max:.2}"),
        st.tasks_running.to_string(),
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
    row
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
            "targets_initial",
            "targets_healthy",
            "targets_unhealthy",
            "targets_draining",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    h
}

/// Seconds with millisecond precision and no trailing zeros beyond what is needed.
fn format_secs(t: SimTime) -> String {
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
        self.groups = world
            .target_groups()
            .iter()
            .map(|tg| GroupState {
                name: tg.name.clone(),
                algorithm: tg.algorithm.name(),
                iv_arrivals: 0,
                iv_by_cause: [0; CAUSES],
                iv_latency: LatencyAcc::new(),
                cpu_at_interval_start: CpuMeter::default(),
                arrived: 0,
                by_cause: [0; CAUSES],
                in_flight: 0,
                targets: [0; STATES],
                tasks_running: 0,
                latency: LatencyAcc::new(),
                error_latency: Default::default(),
                responses_measured: 0,
                cpu_at_warmup: CpuMeter::default(),
                cpu_max_pct: 0.0,
                cpu: CpuMeter::default(),
            })
            .collect();
        self.service_group = world
            .services()
            .iter()
            .map(|s| s.target_group.index())
            .collect();
        if let Some(dir) = self.options.out_dir.clone() {
            match OutputFiles::create(&dir, &metrics_header(), &EVENTS_HEADER) {
                Ok(f) => self.files = Some(f),
                Err(e) => self.io_error = Some(e),
            }
        }
    }

    #[inline(always)]
    fn request_arrived(&mut self, now: SimTime, req: &Request) {
        self.integrate_in_flight(now);
        self.in_flight += 1;
        let st = &mut self.groups[req.target_group.index()];
        st.iv_arrivals += 1;
        st.arrived += 1;
        st.in_flight += 1;
    }

    #[inline(always)]
    fn request_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.integrate_in_flight(now);
        self.in_flight -= 1;
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
                st.latency.record(lat);
            }
        }
    }

    fn lifecycle(&mut self, now: SimTime, event: &LifecycleEvent, world: &World) {
        match *event {
            LifecycleEvent::TaskStarted { task, service } => {
                let group = self.service_group[service.index()];
                self.groups[group].tasks_running += 1;
                self.tasks.insert(
                    task,
                    TaskRecord {
                        group,
                        started: now,
                        stopped: None,
                        cpu_at_interval_start: CpuMeter::default(),
                    },
                );
            }
            LifecycleEvent::TaskStopped { task, service, .. } => {
                self.groups[self.service_group[service.index()]].tasks_running -= 1;
                if let Some(r) = self.tasks.get_mut(&task) {
                    r.stopped = Some(now);
                    self.stopped_task_ns += u128::from((now - r.started).0);
                }
            }
            LifecycleEvent::TargetStateChanged {
                target_group,
                from,
                to,
                ..
            } => {
                let t = &mut self.groups[target_group.index()].targets;
                if from != TargetState::Unused {
                    t[from.index()] -= 1;
                }
                if to != TargetState::Unused {
                    t[to.index()] += 1;
                }
            }
        }
        if let Some(files) = self.files.as_mut() {
            let r = files.event_row(&event_row(now, event, world));
            self.keep_io_error(r);
        }
    }

    fn warmup_end(&mut self, now: SimTime, world: &World) {
        self.integrate_in_flight(now);
        self.measuring = true;
        let cpu = self.group_cpu(world);
        for (st, cpu) in self.groups.iter_mut().zip(cpu) {
            st.cpu_at_warmup = cpu;
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
