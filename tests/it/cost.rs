//! The cost model (`model::cost`), read from the outputs a user reads: `summary.json`'s
//! `cost` and `metrics.csv`'s `cost_usd`, on worlds whose bill is known in closed form.
//!
//! Prices are AWS us-east-1's defaults unless a test sets `[pricing]`: Fargate x86 $0.04048
//! per vCPU-hour and $0.004445 per GB-hour, ARM64 $0.03238 and $0.00356, ALB $0.0225 per hour
//! and $0.008 per LCU-hour. Fargate Spot is priced by a model unit test
//! (`model::cost::tests`): no scenario field places tasks on Spot yet.

use std::fs;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions, Summary};
use lbsim::model::{
    ArrivalSpec, ClientSpec, DistSpec, ServiceId, ServiceSpec, Simulation, StepSpec,
    TargetGroupSpec, TaskId, TaskSpec, WorldSpec,
};
use serde_json::Value;

use crate::support::{f, load_text, read_metrics_csv, secs};

const X86: (f64, f64) = (0.04048, 0.004445);
const ARM: (f64, f64) = (0.03238, 0.00356);

/// The hourly Fargate rate of a task of `cpu` units and `memory` MiB at `prices`.
fn hourly(cpu: u32, memory: u32, prices: (f64, f64)) -> f64 {
    f64::from(cpu) / 1024.0 * prices.0 + f64::from(memory) / 1024.0 * prices.1
}

/// `got` equals `want` to 10⁻⁹ USD (a cent is 10⁻²).
fn usd(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9,
        "{what}: got {got}, want {want} (off by {})",
        got - want
    );
}

/// A scenario: 10 requests/s (deterministic) to `tasks` warm tasks of `cpu`/`memory` for
/// `duration`, responses of `response` bytes and requests of `request` bytes, plus `extra`
/// TOML at the end of the service table.
fn scenario(duration: &str, tasks: u32, cpu: u32, memory: u32, extra: &str) -> String {
    format!(
        r#"
[simulation]
name = "cost"
duration = "{duration}"
metrics_interval = "10m"

[[clients]]
name = "c"
arrivals = {{ process = "deterministic", rate_rps = 10.0 }}

[load_balancer]

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "tg" }}

[[target_groups]]
name = "tg"

[[services]]
name = "svc"
target_group = "tg"
desired_count = {tasks}
task = {{ cpu = {cpu}, memory = {memory} }}
request = {{ cpu_time = "50ms" }}
{extra}
"#
    )
}

/// Runs `spec`, writing the outputs to a temporary directory; returns `summary.json` and
/// the rows of `metrics.csv`.
fn run_files(spec: &WorldSpec) -> (Value, Vec<std::collections::BTreeMap<String, String>>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(out.clone()),
    });
    let mut sim = Simulation::new(spec, rec).unwrap();
    sim.run();
    sim.into_observer().finish().unwrap();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    (summary, read_metrics_csv(&out.join("metrics.csv")))
}

/// Runs `spec` in memory; returns its summary.
fn run(spec: &WorldSpec) -> Summary {
    let mut sim = Simulation::new(spec, Recorder::in_memory()).unwrap();
    sim.run();
    sim.into_observer().finish().unwrap().0
}

fn load(text: &str) -> WorldSpec {
    load_text("cost.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// N tasks for D hours cost N × D × (vCPU × price + GB × price), to the cent and better;
/// the last `cost_usd` of `metrics.csv` is `summary.json`'s `total_usd`.
#[test]
fn a_fixed_fleet_costs_the_closed_form_in_summary_and_metrics() {
    // 3 tasks of 0.5 vCPU and 2 GB for 2 h.
    let spec = load(&scenario("2h", 3, 512, 2048, ""));
    let (s, rows) = run_files(&spec);
    let c = &s["cost"];
    let fargate = 3.0 * 2.0 * hourly(512, 2048, X86);
    usd("fargate_usd", f(&c["fargate_usd"]), fargate);
    usd("fargate_usd by hand", fargate, 0.17478);
    usd("fargate_spot_usd", f(&c["fargate_spot_usd"]), 0.0);
    assert_eq!(c["alb_hours"], 2);
    usd("alb_hours_usd", f(&c["alb_hours_usd"]), 2.0 * 0.0225);
    usd("vcpu_hours", f(&c["vcpu_hours"]), 3.0);
    usd("gb_hours", f(&c["gb_hours"]), 12.0);
    usd("task_hours", f(&c["task_hours"]), 6.0);
    let total = f(&c["total_usd"]);
    usd(
        "total_usd",
        total,
        fargate + f(&c["alb_hours_usd"]) + f(&c["alb_lcu_usd"]),
    );
    let arrived = s["requests"]["arrived"].as_u64().unwrap();
    assert_eq!(arrived, 72_000);
    // Both rounded to 10⁻⁹ USD in the file.
    let per_million = f(&c["per_million_requests_usd"]);
    assert!(
        (per_million - total / 72_000.0 * 1e6).abs() <= 1e-8,
        "per_million_requests_usd {per_million}"
    );
    assert_eq!(c["prices"]["fargate_vcpu_hour_usd"], 0.04048);
    assert_eq!(c["prices"]["fargate_spot_discount"], 0.7);
    // metrics.csv: 12 ten-minute rows; the last one's cost is the run's.
    assert_eq!(rows.len(), 12);
    let last: f64 = rows[11]["cost_usd"].parse().unwrap();
    assert!(
        (last - total).abs() <= 5e-7,
        "last cost_usd {last} vs {total}"
    );
    // The first row: 10 minutes of the fleet and the first ALB-hour, plus its LCUs so far.
    let first: f64 = rows[0]["cost_usd"].parse().unwrap();
    let fleet_10m = 3.0 * hourly(512, 2048, X86) / 6.0;
    assert!(
        first > fleet_10m + 0.0225 && first < fleet_10m + 0.0225 + 0.01,
        "first cost_usd {first}"
    );
    // Cumulative: never decreasing.
    let costs: Vec<f64> = rows
        .iter()
        .map(|r| r["cost_usd"].parse().unwrap())
        .collect();
    assert!(costs.windows(2).all(|w| w[0] <= w[1]), "{costs:?}");
}

/// ARM64 tasks are billed at the ARM prices; a world of one x86 and one ARM64 service pays
/// each at its own.
#[test]
fn arm64_tasks_pay_the_arm_prices() {
    let arm = r#"runtime_platform = { cpu_architecture = "ARM64" }"#;
    let spec = load(&scenario("1h", 2, 1024, 4096, arm));
    let s = run(&spec);
    usd(
        "ARM64 fleet",
        s.cost.fargate_usd,
        2.0 * hourly(1024, 4096, ARM),
    );
    // The same fleet on x86 costs more.
    let s86 = run(&load(&scenario("1h", 2, 1024, 4096, "")));
    usd(
        "x86 fleet",
        s86.cost.fargate_usd,
        2.0 * hourly(1024, 4096, X86),
    );
    assert!(s.cost.fargate_usd < s86.cost.fargate_usd);
    // A price override is used.
    let text = format!(
        "{}\n[pricing]\nfargate_arm64_vcpu_hour_usd = 0.1\nfargate_arm64_gb_hour_usd = 0.01\n",
        scenario("1h", 2, 1024, 4096, arm)
    );
    let s = run(&load(&text));
    usd(
        "ARM64 at set prices",
        s.cost.fargate_usd,
        2.0 * (0.1 + 0.04),
    );
    assert_eq!(s.cost.prices.fargate_arm64_vcpu_hour_usd, 0.1);
}

/// A one-service world of `desired` warm tasks of 1 vCPU / 2 GB for `duration`, no clients.
fn fleet(desired: u32, duration: SimDuration) -> WorldSpec {
    WorldSpec {
        duration,
        target_groups: vec![TargetGroupSpec::default()],
        services: vec![ServiceSpec {
            desired_count: desired,
            task: TaskSpec {
                cpu: 1024,
                memory: 2048,
                max_concurrency: 0,
            },
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A task that lives 10 s is billed a minute; one that lives 70.3 s, 71 s (per-second,
/// rounded up); while a task runs it is billed to the second without the minimum.
#[test]
fn a_short_task_pays_a_minute_and_seconds_round_up() {
    let rate = hourly(1024, 2048, X86) / 3600.0; // per second
    let mut sim = Simulation::new(&fleet(0, secs(600)), Recorder::in_memory()).unwrap();
    sim.run_until(SimTime::ZERO + secs(5));
    let short = sim.launch_task(ServiceId(0)).unwrap();
    sim.run_until(SimTime::ZERO + secs(15));
    // Running for 10 s: billed 10 s so far (the minimum applies when it stops).
    usd(
        "running 10 s",
        sim.world().cost(sim.now()).fargate_usd,
        10.0 * rate,
    );
    sim.stop_task(short).unwrap();
    usd(
        "stopped after 10 s",
        sim.world().cost(sim.now()).fargate_usd,
        60.0 * rate,
    );
    // Still a minute later on.
    sim.run_until(SimTime::ZERO + secs(100));
    usd(
        "a minute, later",
        sim.world().cost(sim.now()).fargate_usd,
        60.0 * rate,
    );
    let long = sim.launch_task(ServiceId(0)).unwrap();
    assert_eq!(long, TaskId(1));
    sim.run_until(SimTime::ZERO + secs(100) + SimDuration::from_millis(70_300));
    // 70.3 s while running: 71 s.
    usd(
        "running 70.3 s",
        sim.world().cost(sim.now()).fargate_usd,
        (60.0 + 71.0) * rate,
    );
    sim.stop_task(long).unwrap();
    sim.run();
    let s = sim.into_observer().finish().unwrap().0;
    usd("the run", s.cost.fargate_usd, (60.0 + 71.0) * rate);
    usd("task_hours", s.cost.task_hours, 131.0 / 3600.0);
}

/// A task launched by its service is billed from PENDING (not PROVISIONING) to STOPPED.
#[test]
fn a_replacement_is_billed_from_pending_to_stopped() {
    // One warm task crashes at 100 s; its replacement walks 15 s of PROVISIONING (not
    // billed), 20 s of PENDING... and runs to the end (600 s).
    let text = scenario("10m", 1, 1024, 2048, "")
        + r#"
[[faults]]
type = "task_crash"
service = "svc"
at = "100s"
"#;
    let spec = load(&text);
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    let w = sim.world();
    let (crashed, replacement) = (&w.tasks()[0], &w.tasks()[1]);
    // The replacement: launched when ECS noticed the crash (105 s), billed from PENDING,
    // after its 15 s of PROVISIONING.
    assert_eq!(replacement.launched, SimTime::ZERO + secs(105));
    assert_eq!(replacement.billing_from, Some(SimTime::ZERO + secs(120)));
    assert_eq!(replacement.ended, None);
    // The crashed task: from t = 0 to STOPPED, rounded up to the second.
    assert_eq!(crashed.billing_from, Some(SimTime::ZERO));
    let stopped = crashed.ended.expect("the crashed task stopped");
    let crashed_s = (stopped - SimTime::ZERO).0.div_ceil(1_000_000_000) as f64;
    let billed = crashed_s + (600.0 - 120.0);
    let s = sim.into_observer().finish().unwrap().0;
    usd("task_hours", s.cost.task_hours, billed / 3600.0);
    usd(
        "fargate_usd",
        s.cost.fargate_usd,
        billed * hourly(1024, 2048, X86) / 3600.0,
    );
}

/// ALB-hours are ⌈duration ÷ 1 h⌉; LCUs the largest dimension per clock hour, the partial
/// last hour a rate over its elapsed half hour, billed as an hour.
#[test]
fn alb_hours_round_up_and_lcus_follow_the_bytes() {
    // 90 minutes, 10 requests/s of 0 bytes answered with 1 MiB each: 36 000 × 1 MiB per
    // hour ≈ 35.16 GB/h, far above 10/25 = 0.4 LCU of new connections.
    let text = scenario(
        "90m",
        2,
        1024,
        2048,
        "",
    )
    .replace(
        "arrivals = { process = \"deterministic\", rate_rps = 10.0 }",
        "arrivals = { process = \"deterministic\", rate_rps = 10.0 }\nrequest_size = 0\nresponse_size = 1048576",
    );
    let s = run(&load(&text));
    assert_eq!(s.cost.alb_hours, 2);
    usd("alb_hours_usd", s.cost.alb_hours_usd, 2.0 * 0.0225);
    // Request k arrives at k/10 s and ends 50 ms later. Hour 0 sees k = 1..35 999 end
    // (35 999 MiB); the half hour after, k = 36 000..53 999 (18 000 MiB; k = 54 000 arrives
    // at the end and is in flight), i.e. 36 000 MiB per hour. A GB is 1024 MiB.
    let lcu = 35_999.0 / 1024.0 + 18_000.0 / 1024.0 * 2.0;
    usd("lcu_hours", s.cost.lcu_hours, lcu);
    usd("alb_lcu_usd", s.cost.alb_lcu_usd, lcu * 0.008);
    usd(
        "total",
        s.cost.total_usd,
        2.0 * 1.5 * hourly(1024, 2048, X86) + 2.0 * 0.0225 + lcu * 0.008,
    );
}

/// With no bytes, new connections are the largest dimension: one per request, 25/s an LCU.
#[test]
fn lcus_follow_new_connections_when_requests_are_small() {
    let text = scenario("2h", 1, 1024, 2048, "").replace(
        "rate_rps = 10.0 }",
        "rate_rps = 10.0 }\nrequest_size = 0\nresponse_size = 0",
    );
    let s = run(&load(&text));
    // 72 000 arrivals in 2 h, 36 000 in each clock hour ((0, 1 h], (1 h, 2 h]): 10/s ÷ 25
    // = 0.4 LCU an hour.
    assert_eq!(s.requests.arrived, 72_000);
    usd("lcu_hours", s.cost.lcu_hours, 72_000.0 / 3600.0 / 25.0);
}

/// Rule evaluations: 60 rules that no request matches, so each request processes all 60
/// and is billed 50 (the first 10 are free); at 10 requests/s that is 500 evaluations/s,
/// 0.5 LCU an hour, more than the new connections' 0.4.
#[test]
fn lcus_follow_rule_evaluations_beyond_the_first_ten() {
    let rules: String = (1..=60)
        .map(|k| {
            format!(
                "\n[[load_balancer.listeners.rules]]\npriority = {k}\nconditions = {{ path_pattern = [\"/never/{k}\"] }}\naction = {{ type = \"forward\", target_group = \"tg\" }}\n"
            )
        })
        .collect();
    let text = scenario("2h", 1, 1024, 2048, "")
        .replace(
            "rate_rps = 10.0 }",
            "rate_rps = 10.0 }\nrequest_size = 0\nresponse_size = 0",
        )
        .replace(
            "default_action = { type = \"forward\", target_group = \"tg\" }\n",
            &format!("default_action = {{ type = \"forward\", target_group = \"tg\" }}\n{rules}"),
        );
    let s = run(&load(&text));
    assert_eq!(s.requests.arrived, 72_000);
    assert_eq!(s.cost.lcu_usage.rule_evaluations, 72_000 * 50);
    assert_eq!(s.cost.lcu_usage.new_connections, 72_000);
    usd("lcu_hours", s.cost.lcu_hours, 2.0 * 500.0 / 1000.0);
}

/// Long requests: active connections (requests in flight, time-averaged) are the largest
/// dimension; 3000 of them make an LCU.
#[test]
fn lcus_follow_active_connections_when_requests_are_long() {
    // 10 requests/s that each wait 600 s: 6000 in flight in steady state (2 LCUs), new
    // connections 0.4 LCU, bytes nil.
    let spec = WorldSpec {
        duration: secs(3600),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps: 10.0 },
            request_size: DistSpec::Deterministic(SimDuration(0)),
            response_size: DistSpec::Deterministic(SimDuration(0)),
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec::default()],
        services: vec![ServiceSpec {
            desired_count: 2,
            steps: vec![StepSpec::Wait(DistSpec::Deterministic(secs(600)))],
            ..Default::default()
        }],
        ..Default::default()
    };
    let s = run(&spec);
    // Request k is in flight over [k/10, k/10 + 600) ∩ [0, 3600).
    let area: f64 = (1..=36_000u64)
        .map(|k| {
            let a = k as f64 / 10.0;
            (a + 600.0).min(3600.0) - a.min(3600.0)
        })
        .sum();
    let lcu = area / 3600.0 / 3000.0;
    // 6000 in flight but over the last 600 s, where the ramp-down of the run's end cuts
    // the requests still waiting: (36 000 × 600 − 600 × 6000 ÷ 2) ÷ 3600 ÷ 3000 ≈ 1.833.
    assert!((lcu - 1.8333).abs() < 1e-3, "{lcu}");
    assert!(
        (s.cost.lcu_hours - lcu).abs() < 1e-6,
        "lcu_hours {} vs {lcu}",
        s.cost.lcu_hours
    );
}

/// Sizes are keyed draws of their own: a distribution of sizes changes the bytes, and no
/// other draw (the same requests, the same latencies).
#[test]
fn random_sizes_change_no_other_draw() {
    let base = scenario("10m", 2, 1024, 2048, "").replace(
        "cpu_time = \"50ms\"",
        "cpu_time = { dist = \"exponential\", mean = \"50ms\" }",
    );
    let sized = base.replace(
        "rate_rps = 10.0 }",
        "rate_rps = 10.0 }\nresponse_size = { dist = \"lognormal\", mean = 10240, cv = 1.0 }",
    );
    let (a, b) = (run(&load(&base)), run(&load(&sized)));
    assert_eq!(a.latency_ms, b.latency_ms);
    assert_eq!(a.requests, b.requests);
    assert_eq!(a.cost.fargate_usd, b.cost.fargate_usd);
}

/// Bad prices, architectures and sizes are errors naming the field and what is allowed.
#[test]
fn bad_pricing_architecture_and_sizes_are_clear_errors() {
    let base = scenario("1h", 1, 1024, 2048, "");
    for (extra, field, allowed) in [
        (
            "[pricing]\nfargate_vcpu_hour_usd = -0.1\n",
            "pricing.fargate_vcpu_hour_usd",
            "must be ≥ 0 and ≤ 10 USD",
        ),
        (
            // TOML's nan is named at its field.
            "[pricing]\nalb_lcu_hour_usd = nan\n",
            "pricing.alb_lcu_hour_usd",
            "must be a finite number",
        ),
        (
            "[pricing]\nalb_hour_usd = 22.5\n",
            "pricing.alb_hour_usd",
            "must be ≥ 0 and ≤ 10 USD",
        ),
        (
            "[pricing]\nfargate_spot_discount = 1.0\n",
            "pricing.fargate_spot_discount",
            "must be ≥ 0 and < 1",
        ),
        (
            "[pricing]\nfargate_spot_discount = 70\n",
            "pricing.fargate_spot_discount",
            "must be ≥ 0 and < 1",
        ),
    ] {
        let e = load_text("cost.toml", &format!("{base}{extra}"), &[]).unwrap_err();
        let t = e.to_string();
        assert!(
            t.contains(field) && t.contains(allowed) && t.contains("cost.toml"),
            "{extra}: {t}"
        );
    }
    for (svc_extra, field, allowed) in [
        (
            r#"runtime_platform = { cpu_architecture = "arm64" }"#,
            "services.0.runtime_platform.cpu_architecture",
            "use one of X86_64, ARM64",
        ),
        (
            r#"runtime_platform = { cpu_architecture = "WINDOWS" }"#,
            "services.0.runtime_platform.cpu_architecture",
            "use one of X86_64, ARM64",
        ),
    ] {
        let e = load_text("cost.toml", &scenario("1h", 1, 1024, 2048, svc_extra), &[]).unwrap_err();
        let t = e.to_string();
        assert!(t.contains(field) && t.contains(allowed), "{svc_extra}: {t}");
    }
    for (size, field, allowed) in [
        ("request_size = -1", "clients.0.request_size", "must be ≥ 0"),
        (
            "response_size = 1e11",
            "clients.0.response_size",
            "≤ 10000000000 bytes",
        ),
        (
            "response_size = { dist = \"exponential\", mean = 0 }",
            "clients.0.response_size.mean",
            "must be > 0",
        ),
        (
            "response_size = { dist = \"uniform\", min = 10, max = 5 }",
            "clients.0.response_size.max",
            "need min ≤ max",
        ),
    ] {
        let text = base.replace("rate_rps = 10.0 }", &format!("rate_rps = 10.0 }}\n{size}"));
        let e = load_text("cost.toml", &text, &[]).unwrap_err();
        let t = e.to_string();
        assert!(t.contains(field) && t.contains(allowed), "{size}: {t}");
    }
    // The defaults: us-east-1, x86, 1 KiB requests, 10 KiB responses.
    let w = load(&base);
    assert_eq!(w.pricing, lbsim::model::PricingSpec::default());
    assert_eq!(
        w.services[0].runtime_platform.cpu_architecture,
        lbsim::model::CpuArchitecture::X86_64
    );
    assert_eq!(
        crate::support::constant(&w.clients[0].request_size),
        Some(SimDuration(1024))
    );
    assert_eq!(
        crate::support::constant(&w.clients[0].response_size),
        Some(SimDuration(10_240))
    );
}

#[test]
fn a_mixed_fleet_on_fargate_spot_pays_the_discount_on_its_spot_tasks() {
    // 4 tasks of 1 vCPU and 2 GB for 3 h: a base of 1 on FARGATE, the other 3 on Spot.
    let spec = load(&scenario(
        "3h",
        4,
        1024,
        2048,
        r#"capacity_provider_strategy = [{ capacity_provider = "FARGATE", base = 1 }, { capacity_provider = "FARGATE_SPOT", weight = 1 }]"#,
    ));
    let (s, _) = run_files(&spec);
    let c = &s["cost"];
    let task = 3.0 * hourly(1024, 2048, X86);
    usd("fargate_usd", f(&c["fargate_usd"]), task);
    usd(
        "fargate_spot_usd",
        f(&c["fargate_spot_usd"]),
        3.0 * task * (1.0 - 0.7),
    );
    // A different discount.
    let spec = load(
        &(scenario(
            "3h",
            4,
            1024,
            2048,
            r#"capacity_provider_strategy = [{ capacity_provider = "FARGATE", base = 1 }, { capacity_provider = "FARGATE_SPOT", weight = 1 }]"#,
        ) + "\n[pricing]\nfargate_spot_discount = 0.5\n"),
    );
    let (s, _) = run_files(&spec);
    usd(
        "fargate_spot_usd at 50 % off",
        f(&s["cost"]["fargate_spot_usd"]),
        3.0 * task * 0.5,
    );
}
