//! Requests that wait, on worlds whose answers are known exactly: deterministic arrivals
//! (request `k` at `k/10` s, k = 1, 2, ...) and deterministic steps, so every figure of
//! `summary.json`, `metrics.csv`, `dependencies.csv` and `events.csv` follows from arithmetic
//! (worked out beside each assertion). Covers the profile's steps and the latency breakdown,
//! memory and its excursions, a dependency down (fail fast, and fail at return), a full
//! dependency that rejects, the caller's timeout, a connection pool, and a task stopped
//! while its requests wait or call.
//!
//! At one instant, events run in the order they were scheduled: faults are scheduled when
//! the run is built, before any arrival, so an arrival at a fault's start sees the fault.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use lbsim::engine::SimTime;
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::{Simulation, TaskId};
use lbsim::scenario;
use serde_json::Value;

use crate::cli::write;
use crate::support::{close, f, read_metrics_csv};

/// 10 requests/s, deterministic; one 1-vCPU task with 2048 MiB; a 30 s run in 10 s rows.
/// `SERVICE` and `EXTRA` are replaced by each test.
const BASE: &str = r#"
[simulation]
name = "waits"
duration = "30s"
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
desired_count = 1
task = { cpu = 1024, memory = 2048, max_concurrency = WORKERS }
SERVICE

EXTRA
"#;

struct Out {
    summary: Value,
    metrics: Vec<BTreeMap<String, String>>,
    deps: Vec<BTreeMap<String, String>>,
    events: String,
}

/// Runs the world, stopping task 0 at `stop_at` if given; reads every file back.
fn run(
    dir: &tempfile::TempDir,
    workers: u32,
    service: &str,
    extra: &str,
    stop_at: Option<SimTime>,
) -> Out {
    let text = BASE
        .replace("WORKERS", &workers.to_string())
        .replace("SERVICE", service)
        .replace("EXTRA", extra);
    let p = write(dir, "waits.toml", &text);
    let spec = scenario::load(&p, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let out = dir.path().join("o");
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(out.clone()),
    });
    let mut sim = Simulation::new(&spec, rec).unwrap();
    if let Some(t) = stop_at {
        sim.run_until(t);
        sim.stop_task(TaskId(0)).unwrap();
    }
    sim.run();
    sim.into_observer().finish().unwrap();
    read(&out)
}

fn read(out: &Path) -> Out {
    Out {
        summary: serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap())
            .unwrap(),
        metrics: read_metrics_csv(&out.join("metrics.csv")),
        deps: read_metrics_csv(&out.join("dependencies.csv")),
        events: fs::read_to_string(out.join("events.csv")).unwrap(),
    }
}

const DB: &str = r#"
[[dependencies]]
name = "db"
latency = "30ms"
"#;

/// Steps `cpu 10 ms, call db (30 ms), wait 20 ms, cpu 5 ms`: 65 ms per request, alone on
/// its task (requests are 100 ms apart). Memory 512 MiB + 512 MiB per request.
#[test]
fn a_profile_of_steps_gives_exact_latency_breakdown_usage_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let service = r#"request = { steps = [ { cpu = "10ms" }, { call = "db" }, { wait = "20ms" }, { cpu = "5ms" } ] }
memory = { base_mib = 512, per_request_mib = 512 }"#;
    let o = run(&dir, 0, service, DB, None);
    let s = &o.summary;
    // 300 arrivals (the last at 30.0 s, still in flight at the end).
    assert_eq!(s["requests"]["arrived"], 300);
    assert_eq!(s["requests"]["by_outcome"]["ok"], 299);
    let l = &s["latency_ms"];
    for q in ["mean", "p50", "p99", "max"] {
        close(q, f(&l[q]), 65.0);
    }
    let b = &s["latency_breakdown_ms"];
    for (part, want) in [
        ("load_balancer", 0.0),
        ("worker_queue", 0.0),
        ("cpu", 15.0),
        ("cpu_wait", 0.0),
        ("waits", 20.0),
        ("calls_queued", 0.0),
        ("calls", 30.0),
        ("rtt", 0.0),
    ] {
        close(part, f(&b[part]), want);
    }
    // Time averages over 30 s: 299 requests × 65 ms held (the last adds nothing).
    let w = &s["workers"];
    close("busy_mean", f(&w["busy_mean"]), 299.0 * 0.065 / 30.0);
    close("on_cpu_mean", f(&w["on_cpu_mean"]), 299.0 * 0.015 / 30.0);
    assert!(w["utilization_pct"].is_null(), "no worker limit");
    close(
        "cpu",
        f(&s["cpu_utilization"]["mean_pct"]),
        299.0 * 0.015 / 30.0 * 100.0,
    );
    // Memory: 512 MiB always, plus 512 MiB for 299 × 65 ms (and the last request from
    // 30.0 s: nothing) of 2048 MiB over 30 s.
    let mem = (512.0 * 30.0 + 512.0 * 299.0 * 0.065) / (2048.0 * 30.0) * 100.0;
    close("memory mean", f(&s["memory_utilization"]["mean_pct"]), mem);
    close("peak", f(&s["memory_utilization"]["peak_mib"]), 1024.0);
    assert_eq!(s["memory_utilization"]["exceeded"], 0);
    // The dependency: 299 calls of 30 ms, all ok, none queued (the last request's call
    // starts at 30.01 s, after the end).
    let d = &s["dependencies"][0];
    assert_eq!(d["name"], "db");
    assert_eq!(d["calls"]["ok"], 299);
    close("call latency", f(&d["latency_ms"]["mean"]), 30.0);
    close("queued", f(&d["queued_ms_mean"]), 0.0);
    close("in service", f(&d["in_service_mean"]), 299.0 * 0.030 / 30.0);
    assert!(d["utilization_pct"].is_null());

    // metrics.csv, first row [0, 10): requests 1..99 (the one at 10.0 s is the next
    // row's) held for 65 ms each.
    let r = &o.metrics[0];
    assert_eq!(r["responses_ok"], "99");
    assert_eq!(r["latency_mean_ms"], "65.000");
    // 99 × 0.065 / 10 = 0.6435 and 99 × 0.015 / 10 = 0.1485, as f64 just below the half.
    assert_eq!(r["workers_busy_mean"], "0.643");
    assert_eq!(r["on_cpu_mean"], "0.148");
    assert_eq!(r["waiting_for_worker_mean"], "0.000");
    assert_eq!(r["worker_utilization_pct"], "");
    // (512 + 512 × 0.6435) / 2048 = 41.0875 %.
    assert_eq!(r["memory_utilization_mean_pct"], "41.09");
    assert_eq!(r["memory_utilization_max_pct"], "41.09");
    assert_eq!(r["responses_target_5xx"], "0");
    // dependencies.csv, first row: 99 calls of 30 ms.
    let d = &o.deps[0];
    assert_eq!(d["dependency"], "db");
    assert_eq!(d["calls"], "99");
    assert_eq!(d["calls_ok"], "99");
    assert_eq!(d["in_service_mean"], "0.297");
    assert_eq!(d["latency_p50_ms"], "30.000");
    assert_eq!(d["queued_mean_ms"], "0.000");
    assert_eq!(d["utilization_pct"], "");
}

/// One worker, one 150 ms wait per request, arrivals every 100 ms: the queue for the
/// worker grows by 50 ms per request. Request k (k ≥ 1) arrives at 0.1k s and starts at
/// 0.1 + 0.15(k−1) s, so it waits 0.05(k−1) s.
#[test]
fn one_worker_held_through_a_wait_queues_the_rest_in_fifo_order() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        &dir,
        1,
        r#"request = { steps = [ { wait = "150ms" } ] }"#,
        "",
        None,
    );
    let s = &o.summary;
    // Requests finish at 0.1 + 0.15k ≤ 30 s: k ≤ 199.
    assert_eq!(s["requests"]["by_outcome"]["ok"], 199);
    let b = &s["latency_breakdown_ms"];
    // Mean wait for the worker over k = 1..199: 0.05 × (199 − 1) / 2 s = 4.95 s.
    close("worker_queue", f(&b["worker_queue"]), 4950.0);
    close("waits", f(&b["waits"]), 150.0);
    close("cpu", f(&b["cpu"]), 0.0);
    close(
        "utilization",
        f(&s["workers"]["utilization_pct"]),
        100.0 * (30.0 - 0.1) / 30.0,
    );
    assert_eq!(o.metrics[2]["worker_utilization_pct"], "100.00");
}

/// A dependency down from 10 s to 20 s, calls of 150 ms: the call of the request that
/// arrived at 9.9 s is in service when it goes down and fails when it returns (10.05 s);
/// the 100 requests arriving in [10, 20) fail at once; the one at 20.0 s succeeds (the
/// fault's end precedes it).
#[test]
fn a_dependency_that_is_down_fails_calls_fast_and_calls_in_service_at_their_return() {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[[dependencies]]
name = "db"
latency = "150ms"

[[faults]]
type = "dependency_down"
dependency = "db"
start = "10s"
duration = "10s"
"#;
    let o = run(
        &dir,
        0,
        r#"request = { steps = [ { call = "db" } ] }"#,
        extra,
        None,
    );
    let s = &o.summary;
    assert_eq!(s["requests"]["by_outcome"]["target_5xx"], 101);
    let e = &s["error_latency_ms"]["target_5xx"];
    assert_eq!(e["count"], 101);
    close("max", f(&e["max"]), 150.0);
    // (Latencies are reported to the microsecond.)
    assert!((f(&e["mean"]) - 150.0 / 101.0).abs() < 1e-3, "{e}");
    assert_eq!(s["dependencies"][0]["calls"]["failed_down"], 101);
    // Rows: [10, 20) holds the 101 failures; [20, 30) none.
    assert_eq!(o.metrics[1]["responses_target_5xx"], "101");
    assert_eq!(o.metrics[2]["responses_target_5xx"], "0");
    assert_eq!(o.deps[1]["calls_failed_down"], "101");
    assert!(
        o.events
            .contains("\n10,fault_started,,,,,fault 0: dependency db is down.\n"),
        "{}",
        o.events
    );
    assert!(o.events.contains("\n20,fault_ended,"), "{}", o.events);
}

/// Capacity 1 that rejects, calls of 150 ms every 100 ms: every other call finds the
/// dependency busy. Request k (from 1) is served when k is odd.
#[test]
fn a_full_dependency_that_rejects_fails_every_other_call() {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[[dependencies]]
name = "db"
latency = "150ms"
capacity = 1
when_full = "reject"
"#;
    let o = run(
        &dir,
        0,
        r#"request = { steps = [ { call = "db" } ] }"#,
        extra,
        None,
    );
    let s = &o.summary;
    // 300 arrivals: 150 even ones rejected; of the 150 odd ones, k = 299 ends at 30.05 s.
    assert_eq!(s["requests"]["by_outcome"]["target_5xx"], 150);
    assert_eq!(s["requests"]["by_outcome"]["ok"], 149);
    let d = &s["dependencies"][0];
    assert_eq!(d["calls"]["rejected"], 150);
    // In service: 149 whole calls, and k = 299's from 29.9 s to the end.
    close(
        "utilization",
        f(&d["utilization_pct"]),
        (149.0 * 0.15 + 0.1) / 30.0 * 100.0,
    );
}

/// Calls of 150 ms with a 100 ms timeout: every call times out at 100 ms (a 500), and
/// the dependency still serves each for 150 ms; a pool of one connection per task
/// would make calls wait, but a timed-out call gives its connection back at once.
#[test]
fn the_callers_timeout_fails_slow_calls_and_frees_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[[dependencies]]
name = "db"
latency = "150ms"
pool_size = 1
timeout = "100ms"
"#;
    let o = run(
        &dir,
        0,
        r#"request = { steps = [ { call = "db" } ] }"#,
        extra,
        None,
    );
    let s = &o.summary;
    // All 300 time out; the last at 30.1 s is after the end: 299.
    assert_eq!(s["requests"]["by_outcome"]["target_5xx"], 299);
    assert_eq!(s["requests"]["by_outcome"]["ok"], 0);
    let e = &s["error_latency_ms"]["target_5xx"];
    close("max", f(&e["max"]), 100.0);
    close("mean", f(&e["mean"]), 100.0);
    let d = &s["dependencies"][0];
    assert_eq!(d["calls"]["timed_out"], 299);
    close("queued", f(&d["queued_ms_mean"]), 0.0);
    // Served 150 ms each, overlapping: 300 calls started by 30 s, the last two cut by the
    // end (30.0 s: 0 ms; 29.9 s: 100 ms).
    close(
        "in service",
        f(&d["in_service_mean"]),
        (298.0 * 0.15 + 0.1) / 30.0,
    );
}

/// Base 1900 MiB and 100 MiB per request on a 2048 MiB task; requests hold 150 ms, 100 ms
/// apart, so two overlap for 50 ms of every 100: 2100 MiB > 2048 MiB. Each overlap is an
/// excursion, recorded with the memory in use when it starts and the peak when it ends
/// (`oom_kill = false`: the task is not killed, so its excursions can be counted).
#[test]
fn a_task_above_its_memory_is_recorded_with_its_peak() {
    let dir = tempfile::tempdir().unwrap();
    let service = r#"request = { steps = [ { wait = "150ms" } ] }
memory = { base_mib = 1900, per_request_mib = 100, oom_kill = false }"#;
    let o = run(&dir, 0, service, "", None);
    let s = &o.summary;
    // Overlaps start at 0.2, 0.3, ..., 30.0 s: 299.
    assert_eq!(s["memory_utilization"]["exceeded"], 299);
    close("peak", f(&s["memory_utilization"]["peak_mib"]), 2100.0);
    assert!(o.events.contains(
        "\n0.2,task_memory_exceeded,svc,svc-0,,,\"(task svc-0) uses 2100 MiB, more than its memory of 2048 MiB"
    ), "{}", o.events);
    assert!(o.events.contains(
        "\n0.25,task_memory_recovered,svc,svc-0,,,(task svc-0) is back within its memory of 2048 MiB; peak 2100 MiB.\n"
    ), "{}", o.events);
    // Time average: 1900 + 100 × (in flight: 1.5 on average) = 2050 MiB of 2048.
    let r = &o.metrics[1];
    assert_eq!(r["memory_utilization_mean_pct"], "100.10");
}

/// A task stopped at 5.05 s holds requests in every phase. The dependency serves one call
/// at a time (150 ms) and requests arrive every 100 ms, so calls queue: request k's call is
/// served from 0.1 + 0.15(k−1) s, and the request ends 10 ms after it returns, at
/// 0.11 + 0.15k s. At 5.05 s requests 1..32 have ended; 33's call has just returned (it is
/// in its wait), 34's is in service, 35..50 are queued at the dependency. All 18 end with
/// 502s at once; the dependency still serves 34's call to its end, and skips the queued
/// ones of requests that are gone.
#[test]
fn a_stopped_task_ends_requests_in_waits_and_calls_with_502s() {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[[dependencies]]
name = "db"
latency = "150ms"
capacity = 1
"#;
    let service = r#"request = { steps = [ { call = "db" }, { wait = "10ms" } ] }"#;
    let o = run(&dir, 0, service, extra, Some(SimTime(5_050_000_000)));
    let s = &o.summary;
    let by = &s["requests"]["by_outcome"];
    assert_eq!(by["ok"], 32);
    assert_eq!(by["elb_502_target_closed"], 18);
    // Requests 51..300 arrive after the stop: no target.
    assert_eq!(by["elb_503_no_targets"], 250);
    let d = &s["dependencies"][0];
    assert_eq!(d["calls"]["ok"], 33);
    // Busy from 0.1 s to 5.2 s (34 calls back to back), idle after.
    close("in service", f(&d["in_service_mean"]), 5.1 / 30.0);
    assert!(o.events.contains("\n5.05,task_stopped,svc,svc-0"));
}
