//! Direct service discovery (`[load_balancer] type = "none"`): clients cache up to 8 task
//! IPs for the DNS TTL; a stale IP fails with `connection_failed` until the cache expires;
//! no ALB cost; and the headline of `scenarios/direct-ip-vs-alb.toml`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use lbsim::engine::SimTime;
use lbsim::model::{Observer, Request, Simulation};
use serde_json::Value;

use crate::support::{f, load_text, read_metrics_csv};

/// A service of `tasks` tasks behind direct service discovery, with `lb` added to
/// `[load_balancer]` and the extra TOML `more` at the end.
fn scenario(tasks: u32, lb: &str, more: &str) -> String {
    format!(
        r#"
[simulation]
name = "direct"
duration = "10m"
seed = 3
metrics_interval = "10s"

[[clients]]
name = "c"
arrivals = {{ process = "poisson", rate_rps = 50 }}

[load_balancer]
type = "none"
{lb}

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "tg" }}

[[target_groups]]
name = "tg"
deregistration_delay = "5s"

[[services]]
name = "svc"
target_group = "tg"
desired_count = {tasks}
task = {{ cpu = 1024, memory = 2048 }}
request = {{ cpu_time = {{ dist = "exponential", mean = "5ms" }} }}
{more}
"#
    )
}

/// Runs scenario `text` with the binary; returns summary.json and metrics.csv's rows.
fn run_text(text: &str, extra: &[&str]) -> (Value, Vec<BTreeMap<String, String>>) {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("direct.toml");
    std::fs::write(&sc, text).unwrap();
    run_file(&sc, extra)
}

fn run_file(sc: &Path, extra: &[&str]) -> (Value, Vec<BTreeMap<String, String>>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
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
    let summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    (summary, read_metrics_csv(&out.join("metrics.csv")))
}

/// `connection_failed` per 10 s row, by the row's start (s).
fn failures(rows: &[BTreeMap<String, String>]) -> Vec<(u64, f64)> {
    rows.iter()
        .map(|r| {
            (
                r["time_s"].parse().unwrap(),
                r["responses_connection_failed"].parse().unwrap(),
            )
        })
        .collect()
}

const CRASH: &str = r#"
[[faults]]
type = "task_crash"
service = "svc"
at = "300s"
"#;

/// A task crashes at 300 s and ECS notices 5 s later (its default crash detection) and
/// replaces it with a task on a new IP. Requests that pick the dead IP from a cached answer
/// fail from 300 s until the client's cached answer expires: an answer is at most one TTL
/// old, and one given before ECS noticed may still name the dead task, so failures stop
/// by 305 s + TTL: none from the row after that on. A longer TTL makes them last longer.
#[test]
fn stale_ip_failures_stop_once_the_ttl_has_passed() {
    let text = scenario(3, "", CRASH);
    let mut totals = Vec::new();
    for (ttl, stop) in [(30u64, 340u64), (120, 430)] {
        let set = format!("load_balancer.service_discovery.dns_ttl={ttl}s");
        let (s, rows) = run_text(&text, &["--set", &set]);
        let fails = failures(&rows);
        let during: f64 = fails.iter().filter(|(t, _)| *t == 300).map(|x| x.1).sum();
        let after: f64 = fails.iter().filter(|(t, _)| *t >= stop).map(|x| x.1).sum();
        let before: f64 = fails.iter().filter(|(t, _)| *t < 300).map(|x| x.1).sum();
        assert!(during > 0.0, "ttl {ttl}: {fails:?}");
        assert_eq!(before, 0.0, "ttl {ttl}");
        assert_eq!(after, 0.0, "ttl {ttl}: {fails:?}");
        totals.push(fails.iter().map(|x| x.1).sum::<f64>());
        assert_eq!(f(&s["cost"]["alb_hours_usd"]), 0.0);
        assert_eq!(f(&s["cost"]["alb_lcu_usd"]), 0.0);
        assert_eq!(
            s["requests"]["by_outcome"]["elb_502_target_closed"], 0,
            "no ELB outcome without a load balancer"
        );
    }
    // A cache refreshed at most every 30 s drops the dead IP sooner than one kept 120 s.
    assert!(totals[1] > 1.5 * totals[0], "{totals:?}");
}

/// Tasks that got requests.
#[derive(Default)]
struct Tasks(BTreeSet<u32>);

impl Observer for Tasks {
    fn request_dispatched(&mut self, _now: SimTime, r: &Request) {
        self.0.insert(r.task.unwrap().0);
    }
}

/// One client, a TTL longer than the run: its one answer holds at most `max_answers` of
/// the 12 tasks (8 by default, Route 53's multivalue limit), and only those get requests.
#[test]
fn an_answer_holds_at_most_eight_ips() {
    for (max, want) in [("", 8usize), (", max_answers = 3", 3)] {
        let lb = format!("service_discovery = {{ dns_ttl = \"3600s\" {max} }}");
        let text = scenario(12, &lb, "");
        let spec = load_text("d.toml", &text, &[]).unwrap();
        let mut sim = Simulation::new(&spec, Tasks::default()).unwrap();
        sim.run();
        assert_eq!(sim.observer().0.len(), want, "{text}");
    }
}

/// Bad discovery settings are errors naming the field.
#[test]
fn bad_discovery_settings_are_errors() {
    let text = scenario(1, "", "");
    for (set, want) in [
        (
            "load_balancer.service_discovery.max_answers=9",
            "allowed 1–8",
        ),
        ("load_balancer.service_discovery.dns_ttl=1.5s", "whole"),
        (
            "load_balancer.availability_zones=[\"us-east-1a\"]",
            "no load balancer node",
        ),
        ("load_balancer.type=classic", "allowed \"application\""),
    ] {
        let e = load_text("d.toml", &text, &[set]).unwrap_err().to_string();
        assert!(e.contains(want), "{set}: {e}");
    }
}

/// The headline of `scenarios/direct-ip-vs-alb.toml`: without a load balancer, task churn
/// costs over a thousand failed requests (stale IPs) and no ALB cost; behind an ALB, a few
/// hundred 502s at most and the ALB's hours and LCUs.
#[test]
fn direct_ip_vs_alb_headline() {
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/direct-ip-vs-alb.toml");
    let (direct, _) = run_file(&sc, &[]);
    let (alb, _) = run_file(&sc, &["--set", "load_balancer.type=application"]);
    let d = &direct["requests"]["by_outcome"];
    let a = &alb["requests"]["by_outcome"];
    assert!(f(&d["connection_failed"]) > 1000.0, "{d}");
    assert_eq!(f(&a["connection_failed"]), 0.0);
    let a502 = f(&a["elb_502_connection_refused"]) + f(&a["elb_502_target_closed"]);
    assert!(a502 > 0.0 && a502 < 300.0, "{a}");
    assert!(f(&d["connection_failed"]) > 5.0 * a502);
    assert_eq!(f(&direct["cost"]["alb_hours_usd"]), 0.0);
    assert!(f(&alb["cost"]["alb_hours_usd"]) > 0.0);
    assert!(f(&alb["cost"]["total_usd"]) > f(&direct["cost"]["total_usd"]) + 0.03);
}
