//! Connections: load-balancer-to-target keep-alive and its 502 race
//! (`scenarios/keepalive-502.toml`). The race happens only when the application's
//! keep-alive timeout is shorter than the load balancer's idle timeout.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::read_metrics_csv;

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/keepalive-502.toml")
}

/// Runs the scenario with `extra` arguments; returns summary.json and the metrics rows'
/// `responses_elb_502_keepalive_race`.
fn run(extra: &[&str]) -> (Value, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let sc = scenario();
    let mut args = vec!["run", sc.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap(), "-q"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let per_hour = read_metrics_csv(&out.join("metrics.csv"))
        .iter()
        .map(|r| r["responses_elb_502_keepalive_race"].parse().unwrap())
        .collect();
    (summary, per_hour)
}

fn races(summary: &Value) -> u64 {
    summary["requests"]["by_outcome"]["elb_502_keepalive_race"]
        .as_u64()
        .unwrap()
}

/// The headline: Node's 5 s keep-alive behind a 60 s idle timeout gives a few 502s an
/// hour (50 in the day, 0.03 %), spread out, never a burst; nothing else fails.
#[test]
fn keepalive_502_headline() {
    let (s, per_hour) = run(&[]);
    let arrived = s["requests"]["arrived"].as_u64().unwrap();
    let ok = s["requests"]["by_outcome"]["ok"].as_u64().unwrap();
    let n = races(&s);
    assert_eq!(arrived, 173_170);
    assert_eq!(n, 50, "the comment block quotes 50");
    assert_eq!(ok + n, arrived, "only the race fails");
    assert_eq!(per_hour.len(), 24);
    assert_eq!(per_hour.iter().sum::<u64>(), n);
    assert!(per_hour.iter().all(|&h| h <= 8), "{per_hour:?}");
    assert!(
        per_hour.iter().filter(|&&h| h > 0).count() >= 18,
        "{per_hour:?}"
    );
}

/// The 502s appear only when the target's keep-alive timeout is shorter than the idle
/// timeout: 65 s vs 60 s (AWS's advice) and 5 s vs 4 s have none; a wider FIN window has
/// more, none has none.
#[test]
fn the_race_needs_a_keep_alive_shorter_than_the_idle_timeout() {
    let count = |extra: &[&str]| races(&run(extra).0);
    assert_eq!(count(&["--set", "services.api.keep_alive_timeout=65s"]), 0);
    assert_eq!(count(&["--set", "load_balancer.idle_timeout=4s"]), 0);
    assert_eq!(count(&["--set", "services.api.keep_alive_timeout=0s"]), 0);
    assert_eq!(count(&["--set", "load_balancer.fin_propagation=0s"]), 0);
    assert_eq!(count(&["--set", "load_balancer.fin_propagation=2ms"]), 80);
    assert_eq!(
        count(&[
            "--set",
            "target_groups.api.algorithm=least_outstanding_requests"
        ]),
        10
    );
}

/// Bad values name their field and range.
#[test]
fn bad_keep_alive_settings_are_refused_with_their_field() {
    for (set, field) in [
        (
            "services.api.keep_alive_timeout=2d",
            "services.0.keep_alive_timeout",
        ),
        (
            "load_balancer.fin_propagation=2s",
            "load_balancer.fin_propagation",
        ),
    ] {
        let sc = scenario();
        let o = crate::cli::lbsim(&["validate", sc.to_str().unwrap(), "--set", set]);
        let t = crate::cli::text(&o);
        assert!(!o.status.success(), "{set}: {t}");
        assert!(t.contains(field), "{set}: {t}");
    }
}

/// A small HTTP service for the client-side tests: 40 ms round trips, 10 requests/s.
const CLIENT_BASE: &str = r#"
[simulation]
name = "client-connections"
duration = "10m"
seed = 7

[[clients]]
name = "web"
arrivals = { process = "poisson", rate_rps = 10 }
rtt = "40ms"

[[load_balancer.listeners]]
port = 443
protocol = "HTTP"
default_action = { type = "forward", target_group = "web" }

[[target_groups]]
name = "web"

[[services]]
name = "web"
target_group = "web"
desired_count = 2
request = { cpu_time = "10ms" }
"#;

/// Mean network time per request (summary.json `latency_breakdown_ms.rtt`) with `sets`.
fn client_rtt_ms(sets: &[&str]) -> f64 {
    client_summary(sets)["latency_breakdown_ms"]["rtt"]
        .as_f64()
        .unwrap()
}

/// summary.json of the client scenario with `sets`.
fn client_summary(sets: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("c.toml");
    std::fs::write(&sc, CLIENT_BASE).unwrap();
    let out = dir.path().join("o");
    let mut args = vec![
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// The LCU's new-connections dimension counts connections, not requests: without
/// keep-alive every request is a new connection; with keep-alive (100 requests per
/// connection, reused within 30 s) about one in a hundred is, and the LCU-hours fall with
/// it (new connections are this scenario's largest dimension).
#[test]
fn keep_alive_lowers_the_lcu_new_connections() {
    let ka = r#"clients.web.keep_alive={ requests = 100, idle = "30s" }"#;
    let without = client_summary(&[]);
    let with = client_summary(&[ka]);
    let arrived = without["requests"]["arrived"].as_u64().unwrap();
    let new = |s: &Value| s["cost"]["lcu_usage"]["new_connections"].as_u64().unwrap();
    assert_eq!(new(&without), arrived);
    assert_eq!(with["requests"]["arrived"].as_u64(), Some(arrived));
    let n = new(&with);
    assert!(
        n >= arrived / 100 && n <= arrived / 100 + 5,
        "{n} of {arrived}"
    );
    let lcu = |s: &Value| s["cost"]["lcu_hours"].as_f64().unwrap();
    assert!(
        lcu(&with) < lcu(&without),
        "{} {}",
        lcu(&with),
        lcu(&without)
    );
    assert_eq!(
        without["cost"]["lcu_usage"]["rule_evaluations"].as_u64(),
        Some(0)
    );
}

/// HTTPS without keep-alive pays the TLS handshake on every request (one round trip with
/// TLS 1.3, two with TLS 1.2); keep-alive pays TCP + TLS once per connection, so at 10
/// requests/s with 100 requests per connection nearly nothing; a connection per request
/// with keep-alive modelled pays the TCP round trip too.
#[test]
fn client_connections_pay_handshakes_only_when_new() {
    let https = "load_balancer.listeners.0.protocol=HTTPS";
    let ka = r#"clients.web.keep_alive={ requests = 100, idle = "30s" }"#;
    assert_eq!(client_rtt_ms(&[]), 40.0);
    assert_eq!(client_rtt_ms(&[https]), 80.0);
    assert_eq!(
        client_rtt_ms(&[https, "clients.web.tls_handshake_round_trips=2"]),
        120.0
    );
    let reused = client_rtt_ms(&[https, ka]);
    assert!(reused > 40.0 && reused < 42.0, "{reused}");
    let one = r#"clients.web.keep_alive={ requests = 1, idle = "30s" }"#;
    assert_eq!(client_rtt_ms(&[https, one]), 120.0);
    // An idle timeout shorter than the gaps between requests: most connections are new.
    let short = r#"clients.web.keep_alive={ requests = 100, idle = "0s" }"#;
    assert_eq!(client_rtt_ms(&[short]), 80.0);
}
