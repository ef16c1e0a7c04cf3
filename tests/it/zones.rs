//! Load balancer nodes per Availability Zone and cross-zone load balancing
//! (`load_balancer.availability_zones`, `target_groups[].cross_zone`): DNS spreads requests
//! evenly over the nodes; with cross-zone off a node routes only within its zone (fail open
//! per zone, 503 in a zone with no target); health checks come from every node; and the
//! headline of `scenarios/cross-zone-off.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use lbsim::engine::SimTime;
use lbsim::model::{Cause, Observer, Request, Simulation, WorldSpec};
use serde_json::Value;

use crate::support::load_text;

/// Three subnets (us-east-1a, -1b, -1c); `tasks` tasks spread over the zones with tasks;
/// the ALB in the zones `zones`; the target group's `cross_zone`.
fn world(zones: &str, tasks: u32, cross_zone: &str, subnets: &[&str]) -> WorldSpec {
    world_with(zones, tasks, cross_zone, subnets, "")
}

/// [`world`] with the TOML `extra` added at the end.
fn world_with(
    zones: &str,
    tasks: u32,
    cross_zone: &str,
    subnets: &[&str],
    extra: &str,
) -> WorldSpec {
    let mut text = format!(
        r#"
[simulation]
duration = "5m"
seed = 7

[[clients]]
name = "c"
arrivals = {{ process = "poisson", rate_rps = 100 }}

[load_balancer]
availability_zones = {zones}

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "tg" }}

[[target_groups]]
name = "tg"
cross_zone = {cross_zone}
health_check = {{ interval = "10s", healthy_threshold = 2, unhealthy_threshold = 2 }}

[[services]]
name = "svc"
target_group = "tg"
desired_count = {tasks}
task = {{ cpu = 1024, memory = 2048 }}
request = {{ cpu_time = {{ dist = "exponential", mean = "2ms" }} }}
"#
    );
    for (i, z) in subnets.iter().enumerate() {
        text.push_str(&format!(
            "\n[[subnets]]\nname = \"s{i}\"\navailability_zone = \"us-east-1{z}\"\ncidr = \"10.0.{i}.0/24\"\n"
        ));
    }
    text.push_str(extra);
    load_text("zones.toml", &text, &[]).unwrap()
}

/// Requests dispatched, by (node, zone of the task), and outcomes.
#[derive(Default)]
struct Spread {
    /// (node, task) → requests dispatched.
    by_task: BTreeMap<(u32, u32), u64>,
    outcomes: BTreeMap<&'static str, u64>,
}

impl Observer for Spread {
    fn request_dispatched(&mut self, _now: SimTime, r: &Request) {
        *self
            .by_task
            .entry((u32::from(r.node.0), r.task.unwrap().0))
            .or_default() += 1;
    }
    fn request_finished(&mut self, _now: SimTime, _r: &Request, cause: Cause) {
        *self.outcomes.entry(cause.name()).or_default() += 1;
    }
}

/// Runs `spec`; returns the spread by (node, zone of the task), by task, the outcomes, and
/// the health checks sent.
#[allow(clippy::type_complexity)]
fn run(
    spec: &WorldSpec,
) -> (
    BTreeMap<(u32, u32), u64>,
    BTreeMap<u32, u64>,
    BTreeMap<&'static str, u64>,
    u64,
) {
    let mut sim = Simulation::new(spec, Spread::default()).unwrap();
    sim.run();
    let w = sim.world();
    let mut by_zone = BTreeMap::new();
    let mut by_task = BTreeMap::new();
    for (&(node, task), &n) in &sim.observer().by_task {
        // A task stopped by the end has given its address back: not counted by zone.
        if let Some(lease) = w.tasks()[task as usize].lease {
            *by_zone.entry((node, lease.az)).or_default() += n;
        }
        *by_task.entry(task).or_default() += n;
    }
    (
        by_zone,
        by_task,
        sim.observer().outcomes.clone(),
        w.probes_sent(),
    )
}

fn share(part: u64, total: u64) -> f64 {
    part as f64 / total as f64
}

/// Cross-zone off with uneven zones (2 tasks in us-east-1a, 1 in us-east-1b): each node
/// routes only to its own zone's tasks, DNS gives each node half the requests, so the lone
/// task gets half of them and the other two a quarter each. Cross-zone on: every node
/// spreads over all three, a third each.
#[test]
fn cross_zone_off_keeps_each_node_in_its_zone() {
    let spec = world(r#"["us-east-1a", "us-east-1b"]"#, 3, "false", &["a", "b"]);
    let (by_zone, by_task, outcomes, _) = run(&spec);
    assert_eq!(by_zone.get(&(0, 1)), None, "{by_zone:?}");
    assert_eq!(by_zone.get(&(1, 0)), None, "{by_zone:?}");
    let total: u64 = by_task.values().sum();
    let (n0, n1) = (by_zone[&(0, 0)], by_zone[&(1, 1)]);
    assert!((share(n0, total) - 0.5).abs() < 0.01, "{by_zone:?}");
    assert!((share(n1, total) - 0.5).abs() < 0.01, "{by_zone:?}");
    let mut shares: Vec<f64> = by_task.values().map(|&n| share(n, total)).collect();
    shares.sort_by(f64::total_cmp);
    assert!((shares[0] - 0.25).abs() < 0.01, "{shares:?}");
    assert!((shares[1] - 0.25).abs() < 0.01, "{shares:?}");
    assert!((shares[2] - 0.5).abs() < 0.01, "{shares:?}");
    assert_eq!(outcomes.len(), 1, "only ok: {outcomes:?}");

    let spec = world(r#"["us-east-1a", "us-east-1b"]"#, 3, "true", &["a", "b"]);
    let (by_zone, by_task, ..) = run(&spec);
    assert!(by_zone.contains_key(&(0, 1)) && by_zone.contains_key(&(1, 0)));
    let total: u64 = by_task.values().sum();
    for n in by_task.values() {
        assert!((share(*n, total) - 1.0 / 3.0).abs() < 0.01, "{by_task:?}");
    }
}

/// A node whose zone has no target answers 503 with cross-zone off (a third of the
/// requests, with three nodes); with cross-zone on (the load balancer's configuration,
/// the default) it uses the other zones' targets.
#[test]
fn a_zone_without_targets_answers_503_only_with_cross_zone_off() {
    let zones = r#"["us-east-1a", "us-east-1b", "us-east-1c"]"#;
    let spec = world(zones, 2, "false", &["a", "b", "c"]);
    let (_, by_task, outcomes, _) = run(&spec);
    let no_targets = outcomes["elb_503_no_targets"];
    let ok = outcomes["ok"];
    assert!(
        (share(no_targets, no_targets + ok) - 1.0 / 3.0).abs() < 0.01,
        "{outcomes:?}"
    );
    assert_eq!(by_task.len(), 2);
    let spec = world(
        zones,
        2,
        r#""use_load_balancer_configuration""#,
        &["a", "b", "c"],
    );
    let (_, _, outcomes, _) = run(&spec);
    assert_eq!(outcomes.get("elb_503_no_targets"), None, "{outcomes:?}");
}

/// Every node checks every target: two nodes send twice the health checks of one.
#[test]
fn health_checks_come_from_every_node() {
    let one = run(&world(r#"["us-east-1a"]"#, 2, "true", &["a", "b"])).3;
    let two = run(&world(
        r#"["us-east-1a", "us-east-1b"]"#,
        2,
        "true",
        &["a", "b"],
    ))
    .3;
    assert!(one > 0);
    let ratio = two as f64 / one as f64;
    assert!((ratio - 2.0).abs() < 0.05, "{one} {two}");
}

/// A zone the load balancer is not enabled in gets no traffic, cross-zone or not (AWS
/// `Target.NotInUse`).
#[test]
fn a_zone_not_enabled_gets_nothing() {
    let spec = world(r#"["us-east-1a"]"#, 3, "true", &["a", "b"]);
    let (by_zone, ..) = run(&spec);
    assert_eq!(by_zone.keys().collect::<Vec<_>>(), [&(0, 0)], "{by_zone:?}");
}

/// Fail open per zone: when the lone task of us-east-1b becomes unreachable (an
/// `az_outage`), health checks mark it unhealthy. With cross-zone on the node in 1b then
/// uses the tasks of 1a; with cross-zone off its zone has no healthy target, so it keeps
/// sending to the unhealthy one (fail open within the zone), and those requests time out.
#[test]
fn cross_zone_off_fails_open_per_zone() {
    let errors = |cross: &str| {
        let outage = r#"
[[faults]]
type = "az_outage"
availability_zone = "us-east-1b"
start = "1m"
duration = "3m"
"#;
        let zones = r#"["us-east-1a", "us-east-1b"]"#;
        let spec = world_with(zones, 3, cross, &["a", "b"], outage);
        let (_, _, outcomes, _) = run(&spec);
        outcomes
            .iter()
            .filter(|(k, _)| **k != "ok")
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    let (on, off) = (errors("true"), errors("false"));
    assert!(on > 0, "the outage is seen before the checks fail");
    assert!(off > 5 * on, "cross-zone off: {off} errors, on: {on}");
}

/// Bad zone settings are errors naming the field.
#[test]
fn bad_zone_settings_are_errors() {
    let base = r#"
[simulation]
duration = "1m"
[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 1 }
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "tg" }
[[target_groups]]
name = "tg"
[[services]]
name = "svc"
target_group = "tg"
desired_count = 1
request = { cpu_time = "1ms" }
"#;
    let cases: [(&str, &str); 5] = [
        (
            "load_balancer.availability_zones=[\"us-east-1z\"]",
            "is not a zone of the network",
        ),
        (
            "load_balancer.availability_zones=[\"us-east-1a\", \"us-east-1a\"]",
            "listed twice",
        ),
        ("load_balancer.availability_zones=[]", "empty"),
        ("load_balancer.cross_zone=false", "per target group"),
        (
            "target_groups.tg.cross_zone=sometimes",
            "use_load_balancer_configuration",
        ),
    ];
    for (set, want) in cases {
        let e = load_text("z.toml", base, &[set]).unwrap_err().to_string();
        assert!(e.contains(want), "{set}: {e}");
    }
    assert!(load_text("z.toml", base, &["target_groups.tg.cross_zone=false"]).is_ok());
}

/// The headline of `scenarios/cross-zone-off.toml`: with cross-zone off the lone task in
/// us-east-1b runs near saturation and p99 latency is seconds; with cross-zone on no task
/// passes 70 % and p99 is about half a second; the fleet's mean utilization is the same.
#[test]
fn cross_zone_off_scenario_overloads_the_lone_task() {
    let run = |extra: &[&str]| -> Value {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cross-zone-off.toml");
        let mut args = vec![
            "run",
            sc.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        let o = crate::cli::lbsim(&args);
        assert!(o.status.success(), "{}", crate::cli::text(&o));
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
    };
    let off = run(&[]);
    let on = run(&["--set", "target_groups.web.cross_zone=true"]);
    let f = crate::support::f;
    assert!(
        f(&off["cpu_utilization"]["max_pct"]) > 90.0,
        "{}",
        off["cpu_utilization"]
    );
    assert!(
        f(&on["cpu_utilization"]["max_pct"]) < 70.0,
        "{}",
        on["cpu_utilization"]
    );
    assert!(f(&off["latency_ms"]["p99"]) > 2000.0);
    assert!(f(&on["latency_ms"]["p99"]) < 700.0);
    let (m_off, m_on) = (
        f(&off["cpu_utilization"]["mean_pct"]),
        f(&on["cpu_utilization"]["mean_pct"]),
    );
    assert!((m_off - m_on).abs() < 1.0, "{m_off} {m_on}");
    assert_eq!(off["requests"]["by_outcome"]["elb_503_no_targets"], 0);
}
