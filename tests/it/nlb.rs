//! `load_balancer.type = "network"` (an NLB, `model::elb::network`): a connection stays on
//! one target, the balance is per connection, cross-zone is off by default,
//! `connection_termination` closes a deregistered target's connections, no ELB HTTP code;
//! and the headline of `scenarios/nlb-vs-alb.toml`. The validation errors are in the
//! bad-input catalogue (`tests/bad_inputs/nlb_http_features`, `alb_with_nlb_fields`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// Runs scenario `text` (or the bundled `path` when `text` is empty) with `extra`
/// arguments; returns summary.json.
fn run_text(text: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("s.toml");
    std::fs::write(&sc, text).unwrap();
    run_file(&sc, extra, dir.path())
}

fn run_file(sc: &Path, extra: &[&str], dir: &Path) -> Value {
    let out = dir.join("o");
    let mut args = vec!["run", sc.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap(), "-q", "--no-report"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn bundled(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nlb-vs-alb.toml");
    run_file(&sc, extra, dir.path())
}

/// `requests_by_task` of an NLB run.
fn by_task(s: &Value) -> BTreeMap<String, u64> {
    s["network_load_balancer"]["requests_by_task"]
        .as_object()
        .expect("an NLB run reports network_load_balancer")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

fn outcome(s: &Value, name: &str) -> u64 {
    s["requests"]["by_outcome"][name].as_u64().unwrap()
}

/// A scenario: `clients` (a `[[clients]]` block), `tasks` tasks, NLB with `lb_extra` lines
/// in `[load_balancer]`, `tg_extra` in the target group, `tail` appended.
fn nlb(clients: &str, tasks: u32, lb_extra: &str, tg_extra: &str, tail: &str) -> String {
    format!(
        r#"
[simulation]
name = "nlb-test"
duration = "5m"
seed = 1
metrics_interval = "1m"

{clients}

[load_balancer]
type = "network"
{lb_extra}

[[load_balancer.listeners]]
port = 443
protocol = "TCP"
default_action = {{ type = "forward", target_group = "api" }}

[[target_groups]]
name = "api"
deregistration_delay = "30s"
{tg_extra}

[[services]]
name = "api"
target_group = "api"
desired_count = {tasks}
task = {{ cpu = 1024, memory = 2048 }}
request = {{ cpu_time = {{ dist = "exponential", mean = "10ms" }} }}
{tail}
"#
    )
}

/// Closed-loop users, each with one long-lived connection in practice (a pool that never
/// closes its connections, `users` of them busy at once).
fn users(n: u32, keep_alive: bool) -> String {
    let ka = if keep_alive {
        r#"keep_alive = { requests = 1000000, idle = "600s" }"#
    } else {
        ""
    };
    format!(
        r#"[[clients]]
name = "callers"
arrivals = {{ process = "closed_loop", users = {n}, think_time = "50ms" }}
rtt = "1ms"
{ka}"#
    )
}

/// One long-lived connection: every request of the run goes to one task, though four are
/// healthy (an ALB would spread them: its round robin is per request).
#[test]
fn a_connection_stays_on_one_target() {
    let s = run_text(&nlb(&users(1, true), 4, "", "", ""), &[]);
    let t = by_task(&s);
    assert_eq!(t.len(), 1, "one connection, one target: {t:?}");
    let total: u64 = t.values().sum();
    assert_eq!(total, s["requests"]["arrived"].as_u64().unwrap());
    assert!(total > 4_000, "{total}");
    assert_eq!(s["network_load_balancer"]["connections"], 1);
    assert_eq!(s["target_groups"][0]["algorithm"], "flow_hash");
}

/// The balance follows connections: two long connections over four tasks load at most two
/// tasks, each with about half the requests (the users' share); without keep-alive every
/// request is a connection of its own and all four tasks share evenly.
#[test]
fn balance_is_per_connection() {
    let s = run_text(&nlb(&users(2, true), 4, "", "", ""), &[]);
    let t = by_task(&s);
    assert!(
        t.len() <= 2,
        "two connections reach at most two targets: {t:?}"
    );
    assert_eq!(s["network_load_balancer"]["connections"], 2);
    let total: u64 = t.values().sum();
    if t.len() == 2 {
        for (task, n) in &t {
            let share = *n as f64 / total as f64;
            assert!((0.45..0.55).contains(&share), "{task}: {share}");
        }
    }
    let s = run_text(&nlb(&users(2, false), 4, "", "", ""), &[]);
    let t = by_task(&s);
    assert_eq!(t.len(), 4, "{t:?}");
    let max_over_mean = s["network_load_balancer"]["max_over_mean"]
        .as_f64()
        .unwrap();
    assert!(max_over_mean < 1.05, "{max_over_mean}");
}

/// Two zones, two tasks in one and one in the other, a node per zone, a connection per
/// request: with the NLB's default (cross-zone off) each node keeps to its zone, so the
/// lone task gets about half the requests; with `cross_zone = true` about a third.
#[test]
fn cross_zone_is_off_by_default() {
    let clients = r#"[[clients]]
name = "callers"
arrivals = { process = "poisson", rate_rps = 60 }
rtt = "1ms""#;
    let subnets = r#"
[[subnets]]
name = "a"
availability_zone = "us-east-1a"
cidr = "10.0.0.0/24"

[[subnets]]
name = "b"
availability_zone = "us-east-1b"
cidr = "10.0.1.0/24"
"#;
    let lb = r#"availability_zones = ["us-east-1a", "us-east-1b"]"#;
    let text = nlb(clients, 3, lb, "", subnets);
    let share_of_lone = |s: &Value| {
        let t = by_task(s);
        let total: u64 = t.values().sum();
        let max = *t.values().max().unwrap();
        (t.len(), max as f64 / total as f64)
    };
    let (n, off) = share_of_lone(&run_text(&text, &[]));
    assert_eq!(n, 3);
    assert!((0.45..0.55).contains(&off), "cross-zone off: {off}");
    let (_, on) = share_of_lone(&run_text(
        &text,
        &["--set", "load_balancer.cross_zone=true"],
    ));
    assert!((0.30..0.37).contains(&on), "cross-zone on: {on}");
}

/// A deployment behind an NLB with keep-alive callers: connections bound to an old task
/// keep flowing while it drains; when its deregistration completes, ECS stops it. With
/// `connection_termination` the NLB closes them then (the callers reconnect to new tasks);
/// without it (the default) each one's next request is reset: more `connection_failed`.
/// No ELB code appears either way.
#[test]
fn connection_termination_closes_connections_at_deregistration() {
    let clients = r#"[[clients]]
name = "callers"
arrivals = { process = "poisson", rate_rps = 150 }
rtt = "1ms"
keep_alive = { requests = 1000000, idle = "300s" }"#;
    let tail = r#"
[[services.deployments]]
at = "2m"
"#;
    let text = nlb(clients, 4, "", "", tail);
    let kept = run_text(&text, &[]);
    let closed = run_text(
        &text,
        &["--set", "target_groups.0.connection_termination=true"],
    );
    let reset = |s: &Value| {
        s["network_load_balancer"]["connections_reset"]
            .as_u64()
            .unwrap()
    };
    assert!(reset(&kept) > 0);
    assert_eq!(reset(&closed), 0);
    assert!(
        outcome(&kept, "connection_failed") > outcome(&closed, "connection_failed"),
        "{} vs {}",
        outcome(&kept, "connection_failed"),
        outcome(&closed, "connection_failed")
    );
    for s in [&kept, &closed] {
        for (name, n) in s["requests"]["by_outcome"].as_object().unwrap() {
            if name.starts_with("elb_") {
                assert_eq!(n.as_u64(), Some(0), "{name}");
            }
        }
    }
}

/// The headline of `scenarios/nlb-vs-alb.toml`: the same callers through the NLB (as is)
/// and the ALB; the numbers its comment block quotes.
#[test]
fn nlb_vs_alb_headline() {
    let n = bundled(&[]);
    let a = bundled(&[
        "--set",
        "load_balancer.type=application",
        "--set",
        "load_balancer.listeners.0.protocol=HTTP",
    ]);
    let p = |s: &Value, k: &str| s["latency_ms"][k].as_f64().unwrap().round() as u64;
    assert_eq!(
        (p(&n, "p50"), p(&n, "p99")),
        (60, 1244),
        "the comment quotes 60 / 1244"
    );
    assert_eq!(
        (p(&a, "p50"), p(&a, "p99")),
        (19, 218),
        "the comment quotes 19 / 218"
    );
    let cpu_max = |s: &Value| s["cpu_utilization"]["max_pct"].as_f64().unwrap();
    assert!((cpu_max(&n) - 92.7).abs() < 0.05, "{}", cpu_max(&n));
    assert!((cpu_max(&a) - 64.1).abs() < 0.05, "{}", cpu_max(&a));
    let nlb = &n["network_load_balancer"];
    assert_eq!(nlb["connections"], 73);
    assert_eq!(nlb["max_over_mean"].as_f64(), Some(1.4617));
    assert_eq!(by_task(&n)["api-2"], 52_783);
    assert_eq!(n["requests"]["arrived"], 216_663);
    assert!(
        a.get("network_load_balancer").is_none(),
        "ALB runs do not report it"
    );
    assert_eq!(a["target_groups"][0]["algorithm"], "round_robin");
}

/// TCP health checks (the NLB default) pass while the application accepts connections: a
/// hung task stays healthy (its kernel still accepts), so the NLB keeps sending it
/// connections; HTTP checks on the same NLB find it unhealthy.
#[test]
fn tcp_health_checks_miss_a_hung_application() {
    let clients = r#"[[clients]]
name = "callers"
arrivals = { process = "poisson", rate_rps = 20 }
rtt = "1ms""#;
    let tail = r#"
[[faults]]
type = "task_hang"
service = "api"
at = "60s"
"#;
    let hc = r#"health_check = { interval = "10s", timeout = "5s", healthy_threshold = 2, unhealthy_threshold = 2 }"#;
    let text = nlb(clients, 3, "", hc, tail);
    let unhealthy_rows = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let sc = dir.path().join("s.toml");
        std::fs::write(&sc, &text).unwrap();
        run_file(&sc, extra, dir.path());
        crate::support::read_metrics_csv(&dir.path().join("o/metrics.csv"))
            .iter()
            .map(|r| r["targets_unhealthy"].parse::<u64>().unwrap())
            .max()
            .unwrap()
    };
    assert_eq!(
        unhealthy_rows(&[]),
        0,
        "TCP checks pass on a hung application"
    );
    assert!(
        unhealthy_rows(&["--set", "target_groups.0.health_check.protocol=HTTP"]) > 0,
        "HTTP checks time out on it"
    );
}
