//! The streaming recorder: an [`Observer`] that keeps counters and HDR histograms per
//! metrics interval and per target group, writes `metrics.csv` and `events.csv` as the run
//! goes, and builds the [`Summary`] at the end. Memory does not grow with the run's length:
//! nothing is kept per request.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::output::{OutputFiles, Outputs};
use super::summary::{CpuSummary, LatencySummary, RequestTotals, Summary, TargetGroupSummary};
use super::{MetricsError, round_to};
use crate::engine::{SimDuration, SimTime};
use crate::model::{Cause, LifecycleEvent, Observer, Request, World};

const CAUSES: usize = Cause::ALL.len();

/// Lowest latency the histograms tell apart, ns (1 µs); values below are still counted.
const HIST_LOW_NS: u64 = 1_000;
/// Highest latency before the histograms grow (they resize automatically), ns (1 h).
const HIST_HIGH_NS: u64 = 3_600_000_000_000;
/// Significant digits kept by the histograms.
const HIST_SIGFIG: u8 = 3;

fn new_hist() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, HIST_SIGFIG)
        .expect("valid histogram bounds");
    h.auto(true);
    h
}

/// Latency histogram plus an exact sum for the mean.
#[derive(Clone)]
struct LatencyAcc {
    hist: Histogram<u64>,
    sum_ns: u128,
}

impl LatencyAcc {
    fn new() -> Self {
        LatencyAcc {
            hist: new_hist(),
            sum_ns: 0,
        }
    }

    #[inline]
    fn record(&mut self, ns: u64) {
        self.hist.saturating_record(ns.max(1));
        self.sum_ns += u128::from(ns);
    }

    fn count(&self) -> u64 {
        self.hist.len()
    }

    fn reset(&mut self) {
        self.hist.reset();
        self.sum_ns = 0;
    }

    fn add(&mut self, other: &LatencyAcc) {
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms accept any value");
        self.sum_ns += other.sum_ns;
    }

    fn mean_ms(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_ns as f64 / n as f64 / 1e6)
    }

    fn quantile_ms(&self, q: f64) -> Option<f64> {
        (self.count() > 0).then(|| self.hist.value_at_quantile(q) as f64 / 1e6)
    }

    fn summary(&self) -> Option<LatencySummary> {
        // Microsecond resolution: the histograms keep 3 significant digits anyway.
        let r = |x: Option<f64>| round_to(x.unwrap_or(0.0), 3);
        (self.count() > 0).then(|| LatencySummary {
            count: self.count(),
            mean: r(self.mean_ms()),
            p50: r(self.quantile_ms(0.5)),
            p90: r(self.quantile_ms(0.9)),
            p99: r(self.quantile_ms(0.99)),
            p99_9: r(self.quantile_ms(0.999)),
            max: r(Some(self.hist.max() as f64 / 1e6)),
        })
    }
}

/// Counters of one target group.
struct GroupState {
    name: String,
    algorithm: &'static str,
    // This interval.
    iv_arrivals: u64,
    iv_by_cause: [u64; CAUSES],
    iv_latency: LatencyAcc,
    // Whole run.
    arrived: u64,
    by_cause: [u64; CAUSES],
    in_flight: u64,
    // After warm-up.
    latency: LatencyAcc,
    responses_measured: u64,
    cpu_max_pct: f64,
    busy_measured: u128,
    capacity_measured: u128,
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
    task_group: Vec<Option<usize>>,
    busy_prev: Vec<u128>,
    busy_warm: Vec<u128>,
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
            task_group: Vec::new(),
            busy_prev: Vec::new(),
            busy_warm: Vec::new(),
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

    /// Per-group CPU utilisation (mean, max) over `[interval_start, now]`, updating the
    /// previous-busy snapshot.
    fn cpu_since_last(&mut self, now: SimTime, world: &World) -> Vec<(f64, f64, u64)> {
        let dt = (now - self.interval_start).0;
        let mut acc = vec![(0u128, 0u128, 0f64, 0u64); self.groups.len()];
        for (i, t) in world.tasks().iter().enumerate() {
            if i >= self.busy_prev.len() {
                self.busy_prev.push(0);
                self.task_group.push(t.target.map(|(g, _)| g.index()));
            }
            let busy = t.busy_cpu_unit_ns();
            let d = busy - self.busy_prev[i];
            self.busy_prev[i] = busy;
            if let Some(g) = self.task_group[i] {
                let cap = u128::from(t.cpu_units) * u128::from(dt);
                let a = &mut acc[g];
                a.0 += d;
                a.1 += cap;
                if cap > 0 {
                    a.2 = a.2.max(d as f64 / cap as f64 * 100.0);
                }
                a.3 += 1;
            }
        }
        acc.iter()
            .enumerate()
            .map(|(g, &(busy, cap, max, n))| {
                if self.measuring && self.interval_start >= self.warmup {
                    let st = &mut self.groups[g];
                    st.cpu_max_pct = st.cpu_max_pct.max(max);
                }
                let mean = if cap > 0 {
                    busy as f64 / cap as f64 * 100.0
                } else {
                    0.0
                };
                (mean, max, n)
            })
            .collect()
    }

    fn write_interval(&mut self, now: SimTime, world: &World) {
        if now <= self.interval_start {
            return;
        }
        let cpu = self.cpu_since_last(now, world);
        let start = self.interval_start;
        let width = now - start;
        if let Some(files) = self.files.as_mut() {
            let mut result = Ok(());
            for (g, st) in self.groups.iter().enumerate() {
                let row = metrics_row(start, width, st, cpu[g]);
                result = files.metrics_row(&row);
                if result.is_err() {
                    break;
                }
            }
            self.keep_io_error(result);
        }
        for st in &mut self.groups {
            st.iv_arrivals = 0;
            st.iv_by_cause = [0; CAUSES];
            st.iv_latency.reset();
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

    fn build_summary(&mut self, now: SimTime, world: &World) -> Summary {
        let span = u128::from((now - self.warmup).0);
        for (i, t) in world.tasks().iter().enumerate() {
            if let Some((g, _)) = t.target {
                let st = &mut self.groups[g.index()];
                let warm = self.busy_warm.get(i).copied().unwrap_or(0);
                st.busy_measured += t.busy_cpu_unit_ns() - warm;
                st.capacity_measured += u128::from(t.cpu_units) * span;
            }
        }
        let measured_s = (now - self.warmup).as_secs_f64();
        let per_s = |n: u64| {
            if measured_s > 0.0 {
                round_to(n as f64 / measured_s, 6)
            } else {
                0.0
            }
        };
        let cpu = |busy: u128, cap: u128, max: f64| CpuSummary {
            mean_pct: if cap > 0 {
                round_to(busy as f64 / cap as f64 * 100.0, 4)
            } else {
                0.0
            },
            max_pct: round_to(max, 4),
        };
        let mut all_latency = LatencyAcc::new();
        let (mut arrived, mut by_cause, mut responses) = (0, [0u64; CAUSES], 0);
        let (mut busy, mut cap, mut max) = (0u128, 0u128, 0f64);
        let mut groups = Vec::new();
        for (g, st) in self.groups.iter().enumerate() {
            all_latency.add(&st.latency);
            arrived += st.arrived;
            for (total, n) in by_cause.iter_mut().zip(st.by_cause) {
                *total += n;
            }
            responses += st.responses_measured;
            busy += st.busy_measured;
            cap += st.capacity_measured;
            max = max.max(st.cpu_max_pct);
            groups.push(TargetGroupSummary {
                name: st.name.clone(),
                algorithm: st.algorithm.to_string(),
                targets: world.target_groups()[g].targets().len() as u64,
                requests: Self::totals(st.arrived, &st.by_cause, st.in_flight),
                latency_ms: st.latency.summary(),
                throughput_rps: per_s(st.responses_measured),
                cpu_utilization: cpu(st.busy_measured, st.capacity_measured, st.cpu_max_pct),
            });
        }
        // Every task runs from t = 0 to the end (a fixed fleet).
        let task_seconds = world.tasks().len() as f64 * (now - SimTime::ZERO).as_secs_f64();
        Summary {
            scenario: self.name.clone(),
            seed: self.seed,
            lbsim_version: crate::VERSION.to_string(),
            complete: now >= self.end,
            duration_s: round_to((now - SimTime::ZERO).as_secs_f64(), 9),
            warmup_s: round_to((self.warmup - SimTime::ZERO).as_secs_f64(), 9),
            requests: Self::totals(arrived, &by_cause, self.in_flight),
            latency_ms: all_latency.summary(),
            throughput_rps: per_s(responses),
            in_flight_mean: if measured_s > 0.0 {
                round_to(self.in_flight_area as f64 / 1e9 / measured_s, 6)
            } else {
                0.0
            },
            cpu_utilization: cpu(busy, cap, max),
            task_seconds: round_to(task_seconds, 6),
            target_groups: groups,
        }
    }
}

/// One `metrics.csv` row, already formatted.
fn metrics_row(
    start: SimTime,
    width: SimDuration,
    st: &GroupState,
    (cpu_mean, cpu_max, tasks): (f64, f64, u64),
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
        opt((l.count() > 0).then(|| l.hist.max() as f64 / 1e6)),
        opt(l.mean_ms()),
        format!("{cpu_mean:.2}"),
        format!("{cpu_max:.2}"),
        tasks.to_string(),
    ]);
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
                arrived: 0,
                by_cause: [0; CAUSES],
                in_flight: 0,
                latency: LatencyAcc::new(),
                responses_measured: 0,
                cpu_max_pct: 0.0,
                busy_measured: 0,
                capacity_measured: 0,
            })
            .collect();
        if let Some(dir) = self.options.out_dir.clone() {
            match OutputFiles::create(&dir, &metrics_header()) {
                Ok(f) => self.files = Some(f),
                Err(e) => self.io_error = Some(e),
            }
        }
    }

    #[inline]
    fn request_arrived(&mut self, now: SimTime, req: &Request) {
        self.integrate_in_flight(now);
        self.in_flight += 1;
        let st = &mut self.groups[req.target_group.index()];
        st.iv_arrivals += 1;
        st.arrived += 1;
        st.in_flight += 1;
    }

    #[inline]
    fn request_finished(&mut self, now: SimTime, req: &Request, cause: Cause) {
        self.integrate_in_flight(now);
        self.in_flight -= 1;
        let measuring = self.measuring;
        let st = &mut self.groups[req.target_group.index()];
        st.in_flight -= 1;
        st.iv_by_cause[cause.index()] += 1;
        st.by_cause[cause.index()] += 1;
        let lat = req.latency_at(now).0;
        st.iv_latency.record(lat);
        if measuring {
            st.responses_measured += 1;
            if req.arrived >= self.warmup {
                st.latency.record(lat);
            }
        }
    }

    fn lifecycle(&mut self, now: SimTime, event: &LifecycleEvent) {
        if let Some(files) = self.files.as_mut() {
            let r = files.event_row(&[
                format_event_time(now),
                event.kind.to_string(),
                event.task.clone().unwrap_or_default(),
                event.detail.clone(),
            ]);
            self.keep_io_error(r);
        }
    }

    fn warmup_end(&mut self, now: SimTime, world: &World) {
        self.integrate_in_flight(now);
        self.measuring = true;
        // Utilisation after the warm-up is measured from this snapshot.
        self.busy_warm = world.tasks().iter().map(|t| t.busy_cpu_unit_ns()).collect();
    }

    fn interval(&mut self, now: SimTime, world: &World) {
        self.write_interval(now, world);
    }

    fn finish(&mut self, now: SimTime, world: &World) {
        self.integrate_in_flight(now);
        self.write_interval(now, world);
        self.summary = Some(self.build_summary(now, world));
    }
}

/// Event times with nanosecond precision (events are exact instants).
fn format_event_time(t: SimTime) -> String {
    let ns = t.0;
    if ns % 1_000_000_000 == 0 {
        (ns / 1_000_000_000).to_string()
    } else {
        let s = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
        s.trim_end_matches('0').to_string()
    }
}
