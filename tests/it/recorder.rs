//! The figures a user reads — `summary.json` and every column of `metrics.csv` — checked on
//! worlds whose answers are known exactly, and against queueing theory.
//!
//! **Exact worlds.** Deterministic arrivals (request `k` at `k/10` s) and a deterministic
//! CPU time of 50 ms on 1-vCPU tasks: a request never waits or shares the CPU, so every
//! latency is exactly 50 ms and every count, utilisation, in-flight average and task-second
//! follows from arithmetic (worked out beside each assertion). Metrics ticks come before
//! arrivals at the same instant (they were scheduled earlier), so the arrival at 10.0 s
//! belongs to the interval that starts at 10 s.
//!
//! **Theory.** On an M/M/1 queue the recorder's own figures must obey Little's law
//! (`in_flight_mean = throughput × mean latency`) and `utilisation = λ·E[S]`.

use std::fs;
use std::path::Path;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::{Simulation, TaskId};
use lbsim::scenario;
use serde_json::Value;

use crate::cli::write;
use crate::support::{Estimate, check, close, f};

/// 10 requests/s, deterministic; 50 ms of CPU; 1-vCPU tasks; 1-minute run in 10 s rows.
const EXACT: &str = r#"
[simulation]
name = "exact"
duration = "60s"
warmup = "WARMUP"
metrics_interval = "10s"

[[clients]]
name = "c"
arrivals = { process = "deterministic", rate_rps = 10.0 }

[load_balancer]

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "tg" }

[[target_groups]]
name = "tg"

[[services]]
name = "svc"
target_group = "tg"
desired_count = TASKS
request = { cpu_time = "50ms" }
"#;

fn exact(dir: &tempfile::TempDir, warmup: &str, tasks: u32) -> lbsim::model::WorldSpec {
    let text = EXACT
        .replace("WARMUP", warmup)
        .replace("TASKS", &tasks.to_string());
    let p = write(dir, "exact.toml", &text);
    scenario::load(&p, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

/// A fleet change applied at a time.
type Act<'a> = (SimTime, &'a dyn Fn(&mut Simulation<Recorder>));

/// Runs `spec`, calling `act` at each `(time, action)` first; returns summary.json and the
/// rows of metrics.csv as (header → value) maps, read back from the files.
fn run_files(
    spec: &lbsim::model::WorldSpec,
    out: &Path,
    acts: &[Act<'_>],
) -> (Value, Vec<std::collections::BTreeMap<String, String>>) {
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(out.to_path_buf()),
    });
    let mut sim = Simulation::new(spec, rec).unwrap();
    for (t, act) in acts {
        sim.run_until(*t);
        act(&mut sim);
    }
    sim.run();
    sim.into_observer().finish().unwrap();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = crate::support::read_metrics_csv(&out.join("metrics.csv"));
    (summary, rows)
}

/// One task, warm-up 5 s. Requests k = 1..600 arrive at k/10 s (the last at 60.0 s, still
/// in service at the end); each is in the system for exactly 50 ms.
#[test]
fn summary_and_every_metrics_column_of_an_exact_world() {
    let dir = tempfile::tempdir().unwrap();
    let spec = exact(&dir, "5s", 1);
    let (s, rows) = run_files(&spec, &dir.path().join("o"), &[]);

    // Whole run: 600 arrivals, 599 served, 1 in flight.
    assert_eq!(s["requests"]["arrived"], 600);
    assert_eq!(s["requests"]["by_outcome"]["ok"], 599);
    assert_eq!(s["requests"]["by_outcome"]["elb_503_no_targets"], 0);
    assert_eq!(s["requests"]["in_flight_at_end"], 1);
    // After the 5 s warm-up: requests k = 50..599 (arrived at ≥ 5 s and ended): 550.
    let l = &s["latency_ms"];
    assert_eq!(l["count"], 550);
    for q in ["mean", "p50", "p90", "p99", "p99_9", "max"] {
        close(&format!("latency {q}"), f(&l[q]), 50.0);
    }
    assert!(s["error_latency_ms"]["elb_503_no_targets"].is_null());
    // 550 responses ended in the 55 s after the warm-up.
    close("throughput_rps", f(&s["throughput_rps"]), 10.0);
    // ∫N dt over [5, 60] = 550 × 0.05 s (the request at 60 s adds nothing): L = 0.5.
    close("in_flight_mean", f(&s["in_flight_mean"]), 0.5);
    // CPU busy 27.5 s of 55 s reserved after the warm-up; the busiest interval 50 %.
    close("cpu mean", f(&s["cpu_utilization"]["mean_pct"]), 50.0);
    close("cpu max", f(&s["cpu_utilization"]["max_pct"]), 50.0);
    close("task_seconds", f(&s["task_seconds"]), 60.0);
    assert_eq!(s["target_groups"][0]["targets"], 1);
    for tasks in [&s["tasks"], &s["target_groups"][0]["tasks"]] {
        assert_eq!(
            tasks,
            &serde_json::json!({"launched": 0, "stopped": 0, "desired_at_end": 1, "launched_spot": 0, "spot_interruptions": 0})
        );
    }

    // metrics.csv: six 10 s rows.
    assert_eq!(rows.len(), 6);
    let want_first = [
        ("time_s", "0"),
        ("interval_s", "10"),
        ("target_group", "tg"),
        // k = 1..99 arrive and end in [0, 10).
        ("arrivals", "99"),
        ("responses", "99"),
        ("responses_ok", "99"),
        ("responses_elb_503_no_targets", "0"),
        ("responses_elb_502_target_closed", "0"),
        ("responses_target_5xx", "0"),
        ("responses_elb_502_deregistration_delay", "0"),
        ("responses_elb_502_connection_refused", "0"),
        ("responses_elb_504_idle_timeout", "0"),
        ("responses_elb_504_connect_timeout", "0"),
        ("responses_elb_502_keepalive_race", "0"),
        ("responses_elb_460_client_closed", "0"),
        ("responses_redirect_301", "0"),
        ("responses_redirect_302", "0"),
        ("responses_fixed_response_2xx", "0"),
        ("responses_fixed_response_4xx", "0"),
        ("responses_fixed_response_5xx", "0"),
        ("responses_websocket_closed", "0"),
        ("responses_websocket_cut", "0"),
        ("responses_connection_failed", "0"),
        ("in_flight", "0"),
        ("latency_p50_ms", "50.000"),
        ("latency_p90_ms", "50.000"),
        ("latency_p99_ms", "50.000"),
        ("latency_p99_9_ms", "50.000"),
        ("latency_max_ms", "50.000"),
        ("latency_mean_ms", "50.000"),
        // 99 × 50 ms busy in 10 s.
        ("cpu_utilization_mean_pct", "49.50"),
        ("cpu_utilization_max_pct", "49.50"),
        ("tasks", "1"),
        // The one warm task, RUNNING throughout: nothing launched, nothing stopped.
        ("desired_count", "1"),
        ("tasks_pending", "0"),
        ("tasks_running", "1"),
        ("tasks_stopping", "0"),
        ("tasks_launched", "0"),
        ("tasks_stopped", "0"),
        ("targets_initial", "0"),
        ("targets_healthy", "1"),
        ("targets_unhealthy", "0"),
        ("targets_draining", "0"),
        // No memory model in this world: nothing in use.
        ("memory_utilization_mean_pct", "0.00"),
        ("memory_utilization_max_pct", "0.00"),
        // Each request holds a worker (and is on CPU) for its 50 ms: 99 × 0.05 s / 10 s.
        ("workers_busy_mean", "0.495"),
        // No worker limit: utilisation undefined.
        ("worker_utilization_pct", ""),
        ("waiting_for_worker_mean", "0.000"),
        ("on_cpu_mean", "0.495"),
        // No auto scaling.
        ("scaling_activities", "0"),
        // No capacity provider strategy: every task on FARGATE.
        ("tasks_running_spot", "0"),
        // Cumulative cost at 10 s: Fargate 10 s × (1 vCPU × $0.04048 + 2 GB × $0.004445)
        // per hour = $0.000137139; one ALB-hour $0.0225; LCUs of the partial hour: 99 new
        // connections in 10 s = 9.9/s ÷ 25 = 0.396 LCU (bytes: 99 × 11 KiB in 10 s ≈
        // 0.37 GB/h; active 0.495 ÷ 3000) × $0.008 = $0.003168.
        ("cost_usd", "0.025805"),
    ];
    let columns: Vec<&str> = want_first.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        rows[0].keys().map(String::as_str).collect::<Vec<_>>().len(),
        columns.len(),
        "metrics.csv has columns this test does not check: {:?}",
        rows[0].keys()
    );
    for (col, want) in want_first {
        assert_eq!(rows[0][col], want, "row 0, {col}");
    }
    // A middle row: k = 100..199 arrive and end in [10, 20): 100 × 50 ms = 50 %.
    for (col, want) in [
        ("time_s", "10"),
        ("arrivals", "100"),
        ("responses", "100"),
        ("in_flight", "0"),
        ("cpu_utilization_mean_pct", "50.00"),
        ("cpu_utilization_max_pct", "50.00"),
    ] {
        assert_eq!(rows[1][col], want, "row 1, {col}");
    }
    // The last row: k = 500..600 arrive, 500..599 end, the one at 60 s is in flight.
    for (col, want) in [
        ("time_s", "50"),
        ("interval_s", "10"),
        ("arrivals", "101"),
        ("responses", "100"),
        ("in_flight", "1"),
        ("cpu_utilization_mean_pct", "50.00"),
    ] {
        assert_eq!(rows[5][col], want, "row 5, {col}");
    }
}

/// Two tasks behind round robin (each gets every other request: 25 % busy); task 1 is
/// stopped at 30.07 s, between two requests, so task 0 serves everything after (50 %).
/// Capacity and task-seconds must follow the fleet.
#[test]
fn cpu_capacity_and_task_seconds_follow_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let spec = exact(&dir, "0s", 2);
    let stop = SimTime(30_070_000_000);
    let (s, rows) = run_files(
        &spec,
        &dir.path().join("o"),
        &[(stop, &|sim: &mut Simulation<Recorder>| {
            sim.stop_task(TaskId(1)).unwrap()
        })],
    );
    // No request was in flight on task 1 when it stopped.
    assert_eq!(s["requests"]["by_outcome"]["elb_502_target_closed"], 0);
    // Task 0 ran 60 s, task 1 30.07 s.
    close("task_seconds", f(&s["task_seconds"]), 90.07);
    // 599 requests × 50 ms busy over 90.07 s of reserved CPU.
    close(
        "cpu mean",
        f(&s["cpu_utilization"]["mean_pct"]),
        599.0 * 0.05 / 90.07 * 100.0,
    );
    // [20, 30): each task busy 50 of its 100... 25 %.
    assert_eq!(rows[2]["cpu_utilization_mean_pct"], "25.00");
    assert_eq!(rows[2]["tasks"], "2");
    // [30, 40): task 0 serves k = 301..399 (4.95 s busy over 10 s); task 1 served k = 300
    // (50 ms) in the 70 ms it ran: group 5.0 s / 10.07 s, busiest task 50/70.
    close(
        "row 3 mean",
        rows[3]["cpu_utilization_mean_pct"].parse().unwrap(),
        (5.0f64 / 10.07 * 100.0 * 100.0).round() / 100.0,
    );
    assert_eq!(rows[3]["cpu_utilization_max_pct"], "71.43");
    assert_eq!(rows[3]["tasks"], "1");
    assert_eq!(rows[3]["targets_healthy"], "1");
    // [40, 50): task 0 alone serves every request: 50 %.
    assert_eq!(rows[4]["cpu_utilization_mean_pct"], "50.00");
    assert_eq!(s["target_groups"][0]["targets"], 1);

    // With a 40 s warm-up the figures cover [40, 60] only: the busy 71 % interval is out.
    let late = exact(&dir, "40s", 2);
    let (s, _) = run_files(
        &late,
        &dir.path().join("late"),
        &[(stop, &|sim: &mut Simulation<Recorder>| {
            sim.stop_task(TaskId(1)).unwrap()
        })],
    );
    close(
        "cpu max after warm-up",
        f(&s["cpu_utilization"]["max_pct"]),
        50.0,
    );
    // Task 0 serves k = 400..599 (200 × 50 ms) in 20 s (k = 600 arrives at the end).
    close(
        "cpu mean after warm-up",
        f(&s["cpu_utilization"]["mean_pct"]),
        200.0 * 0.05 / 20.0 * 100.0,
    );
    close("task_seconds (whole run)", f(&s["task_seconds"]), 90.07);
}

/// Requests a target never served (503s here) have their own count and latency and do not
/// touch `latency_ms`: with no target from 9.97 s to 20.07 s, the served requests' latency
/// stays exactly 50 ms, and the interval [10 s, 20 s) has 503s only (empty latency columns).
/// With no task at all, `latency_ms` is `null` and no CPU was reserved.
#[test]
fn errors_have_their_own_count_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let spec = exact(&dir, "0s", 1);
    let (s, rows) = run_files(
        &spec,
        &dir.path().join("o"),
        &[
            (SimTime(9_970_000_000), &|sim: &mut Simulation<Recorder>| {
                sim.deregister_target(TaskId(0)).unwrap()
            }),
            (SimTime(20_070_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.register_target(TaskId(0)).unwrap()
            }),
        ],
    );
    // k = 100..200 (10.0 s ... 20.0 s) found no target.
    assert_eq!(s["requests"]["by_outcome"]["elb_503_no_targets"], 101);
    let e = &s["error_latency_ms"]["elb_503_no_targets"];
    assert_eq!(e["count"], 101);
    close("503 latency", f(&e["max"]), 0.0);
    assert!(s["error_latency_ms"]["elb_502_target_closed"].is_null());
    for q in ["mean", "p50", "p99", "max"] {
        close(&format!("latency {q}"), f(&s["latency_ms"][q]), 50.0);
    }
    assert_eq!(s["latency_ms"]["count"], 498);
    // Throughput counts every response: 498 ok + 101 refused in 60 s.
    close("throughput_rps", f(&s["throughput_rps"]), 599.0 / 60.0);
    assert_eq!(rows[1]["responses_elb_503_no_targets"], "100");
    assert_eq!(rows[1]["responses_ok"], "0");
    for col in ["latency_p50_ms", "latency_max_ms", "latency_mean_ms"] {
        assert_eq!(rows[1][col], "", "{col} with no successful response");
    }
    assert_eq!(rows[1]["cpu_utilization_mean_pct"], "0.00");
    assert_eq!(rows[1]["targets_healthy"], "0");
    // The task ran all along; it was only out of the group.
    close("task_seconds", f(&s["task_seconds"]), 60.0);

    // No task at all: every request is refused.
    let none = exact(&dir, "0s", 0);
    let (s, rows) = run_files(&none, &dir.path().join("none"), &[]);
    assert!(s["latency_ms"].is_null());
    assert!(s["target_groups"][0]["latency_ms"].is_null());
    assert_eq!(s["error_latency_ms"]["elb_503_no_targets"]["count"], 600);
    close("cpu mean", f(&s["cpu_utilization"]["mean_pct"]), 0.0);
    close("task_seconds", f(&s["task_seconds"]), 0.0);
    assert_eq!(rows[0]["cpu_utilization_mean_pct"], "");
    assert_eq!(rows[0]["tasks"], "0");
}

/// A 2-hour round trip: the percentiles are about 7,200,050 ms, not clamped at an hour.
#[test]
fn multi_hour_latencies_are_reported_not_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let text = EXACT
        .replace("WARMUP", "0s")
        .replace("TASKS", "1")
        .replace(r#"duration = "60s""#, r#"duration = "3h""#)
        .replace(
            r#"name = "c"
"#,
            r#"name = "c"
rtt = { dist = "uniform", min = "2h", max = "2h 10m" }
"#,
        );
    let p = write(&dir, "slow.toml", &text);
    let spec = scenario::load(&p, &[]).unwrap().spec;
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    let (s, _) = sim.into_observer().finish().unwrap();
    let l = s.latency_ms.unwrap();
    // Uniform on [7,200,050, 7,800,050] ms: median 7,500,050, p99 7,794,050.
    assert!((l.p50 / 7_500_050.0 - 1.0).abs() < 0.003, "{l:?}");
    assert!((l.p99 / 7_794_050.0 - 1.0).abs() < 0.003, "{l:?}");
    assert!(
        l.max >= l.p99 && l.max >= l.mean && l.max <= 7_800_050.0,
        "{l:?}"
    );
}

/// M/M/1 FIFO at ρ = 0.8 (μ = 100/s), read from the summary: Little's law on the recorder's
/// `in_flight_mean` against its throughput and mean latency in every run (0.5 %: only edge
/// effects separate them), and the recorder's CPU utilisation against λ·E[S] = 0.8 over 12
/// seeds (within 4 SE and 2 %).
#[test]
fn recorder_figures_obey_littles_law_and_utilisation() {
    use rayon::prelude::*;
    let mut s = crate::support::Setup::new(
        "M/M/1 recorder",
        80.0,
        crate::support::exp(SimDuration::from_millis(10)),
    );
    s.max_concurrency = 1;
    s.window = SimDuration::from_secs(2000);
    s.drain = SimDuration::ZERO;
    let summaries: Vec<_> = (0..12u64)
        .into_par_iter()
        .map(|r| {
            let mut sim = Simulation::new(&s.spec(4000 + r), Recorder::in_memory()).unwrap();
            sim.run();
            sim.into_observer().finish().unwrap().0
        })
        .collect();
    for x in &summaries {
        let l = x.latency_ms.as_ref().unwrap();
        let lw = x.throughput_rps * l.mean / 1e3;
        assert!(
            (x.in_flight_mean / lw - 1.0).abs() < 0.005,
            "seed {}: in_flight_mean {} vs throughput × mean latency {lw}",
            x.seed,
            x.in_flight_mean
        );
    }
    check(
        "[M/M/1] summary cpu_utilization.mean_pct",
        Estimate::of(summaries.iter().map(|x| x.cpu_utilization.mean_pct)),
        80.0,
        0.02,
        0.01,
    );
    check(
        "[M/M/1] summary throughput_rps",
        Estimate::of(summaries.iter().map(|x| x.throughput_rps)),
        80.0,
        0.02,
        0.01,
    );
}

/// `events.csv` words each typed lifecycle event, at its exact time, with AWS's reason code.
/// Two tasks behind round robin (task 0 gets the odd requests): task 0 is deregistered at
/// 10.12 s while request 101 (10.1–10.15 s) is in flight on it, so it drains until 10.15 s;
/// task 1 fails health checks from 20.07 s to 30.07 s (the group fails open, nothing is
/// refused); task 1 is killed at 40.12 s with request 401 in flight (a 502).
#[test]
fn events_csv_words_each_typed_event() {
    let dir = tempfile::tempdir().unwrap();
    let spec = exact(&dir, "0s", 2);
    let out = dir.path().join("o");
    let (s, _) = run_files(
        &spec,
        &out,
        &[
            (SimTime(10_120_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.deregister_target(TaskId(0)).unwrap()
            }),
            (SimTime(20_070_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.set_target_health(TaskId(1), false).unwrap()
            }),
            (SimTime(30_070_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.set_target_health(TaskId(1), true).unwrap()
            }),
            (SimTime(40_120_000_000), &|sim: &mut Simulation<
                Recorder,
            >| {
                sim.stop_task(TaskId(1)).unwrap()
            }),
        ],
    );
    assert_eq!(s["requests"]["by_outcome"]["elb_502_target_closed"], 1);
    // After the kill no target is left: requests 402..600 get 503s.
    assert_eq!(s["requests"]["by_outcome"]["elb_503_no_targets"], 199);
    let events = fs::read_to_string(out.join("events.csv")).unwrap();
    let want = "\
time_s,kind,service,task,target_group,reason,detail
0,task_running,svc,svc-0,,,\"(service svc) has started 1 tasks: (task svc-0) with 1024 CPU units and 2048 MiB, at 10.0.0.4 in us-east-1a.\"
0,target_registered,svc,svc-0,tg,Elb.RegistrationInProgress,(service svc) registered 1 targets in (target-group tg): 10.0.0.4:80.
0,target_healthy,svc,svc-0,tg,,target svc-0 in (target-group tg) is healthy (was initial).
0,task_running,svc,svc-1,,,\"(service svc) has started 1 tasks: (task svc-1) with 1024 CPU units and 2048 MiB, at 10.0.1.4 in us-east-1b.\"
0,target_registered,svc,svc-1,tg,Elb.RegistrationInProgress,(service svc) registered 1 targets in (target-group tg): 10.0.1.4:80.
0,target_healthy,svc,svc-1,tg,,target svc-1 in (target-group tg) is healthy (was initial).
10.12,target_draining,svc,svc-0,tg,Target.DeregistrationInProgress,(service svc) has begun draining connections on 1 tasks: target svc-0 in (target-group tg).
10.15,target_deregistered,svc,svc-0,tg,Target.NotRegistered,(service svc) deregistered 1 targets in (target-group tg).
20.07,target_unhealthy,svc,svc-1,tg,Target.FailedHealthChecks,target svc-1 in (target-group tg) is unhealthy (was healthy).
30.07,target_healthy,svc,svc-1,tg,,target svc-1 in (target-group tg) is healthy (was unhealthy).
40.12,task_stopped,svc,svc-1,,Killed,(service svc) has stopped 1 running tasks: (task svc-1).
40.12,target_deregistered,svc,svc-1,tg,Target.InvalidState,(service svc) deregistered 1 targets in (target-group tg).
40.12,task_state,svc,svc-1,,STOPPED,(task svc-1) is STOPPED (was RUNNING).
";
    assert_eq!(events, want);
}

/// A spec built by a program (not validated) whose warm-up covers the whole run measures
/// nothing: rates are 0, not NaN.
#[test]
fn a_warmup_as_long_as_the_run_measures_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = exact(&dir, "0s", 1);
    spec.warmup = spec.duration;
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    let (s, _) = sim.into_observer().finish().unwrap();
    assert_eq!(s.throughput_rps, 0.0);
    assert_eq!(s.in_flight_mean, 0.0);
    assert!(s.latency_ms.is_none());
    assert_eq!(s.requests.arrived, 600);
}

/// Records, on its own, the latency of every successful response to a request that arrived
/// after the warm-up, once each: what `latency_ms` must summarise.
#[derive(Default)]
struct Measured {
    warmup: SimTime,
    acc: lbsim::metrics::LatencyAcc,
    /// Successful calls ending after the warm-up: what `dependencies[0].latency_ms` must
    /// summarise.
    calls: lbsim::metrics::LatencyAcc,
}

impl lbsim::model::Observer for Measured {
    fn request_finished(
        &mut self,
        now: SimTime,
        req: &lbsim::model::Request,
        cause: lbsim::model::Cause,
    ) {
        if cause.is_success() && now >= self.warmup && req.arrived >= self.warmup {
            self.acc.record(req.latency_at(now).0);
        }
    }
    fn call_finished(&mut self, now: SimTime, call: &lbsim::model::CallEnd) {
        if call.outcome == lbsim::model::CallOutcome::Ok && now >= self.warmup {
            self.calls.record((call.queued + call.served).0);
        }
    }
}

/// The recorder adds each interval's histogram to the run's once no request from before
/// the warm-up is left in flight, instead of recording every latency twice. Requests here
/// wait up to 25 s, so some that arrived in the 5 s warm-up end several 3 s intervals
/// later (they must stay out of `latency_ms`): the summary must be exactly that of every
/// measured latency recorded once, on its own; and the same for the dependency's calls.
#[test]
fn latency_ms_is_every_measured_response_once_whatever_the_interval_merging() {
    use lbsim::model::{
        ArrivalSpec, ClientSpec, DistSpec, ServiceSpec, StepSpec, TargetGroupSpec, WorldSpec,
    };
    let spec = WorldSpec {
        duration: SimDuration::from_secs(60),
        warmup: SimDuration::from_secs(5),
        metrics_interval: SimDuration::from_secs(3),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Poisson { rate_rps: 50.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec::default()],
        services: vec![ServiceSpec {
            desired_count: 2,
            steps: vec![
                StepSpec::Wait(DistSpec::Uniform {
                    min: SimDuration::from_millis(10),
                    max: SimDuration::from_secs(25),
                }),
                StepSpec::Call { dependency: 0 },
            ],
            ..Default::default()
        }],
        dependencies: vec![lbsim::model::DependencySpec {
            latency: DistSpec::Exponential {
                mean: SimDuration::from_millis(30),
            },
            capacity: 2,
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    let (summary, _) = sim.into_observer().finish().unwrap();
    let mut sim = Simulation::new(
        &spec,
        Measured {
            warmup: SimTime::ZERO + spec.warmup,
            ..Default::default()
        },
    )
    .unwrap();
    sim.run();
    let own = sim.into_observer();
    let requests = own.acc.summary();
    assert!(
        requests.as_ref().is_some_and(|l| l.count > 1000),
        "{requests:?}"
    );
    assert_eq!(summary.latency_ms, requests);
    let calls = own.calls.summary();
    assert!(calls.as_ref().is_some_and(|l| l.count > 1000), "{calls:?}");
    assert_eq!(summary.dependencies[0].latency_ms, calls);
}
