//! WebSockets (`scenarios/websocket-draining.toml`): a WebSocket stays on its target, in
//! flight, until it closes (`websocket_closed`) or its draining target's
//! `deregistration_delay` expires (`websocket_cut`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::read_metrics_csv;

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/websocket-draining.toml")
}

/// Runs the scenario with `extra` arguments; returns summary.json and the metrics rows.
fn run(extra: &[&str]) -> (Value, Vec<BTreeMap<String, String>>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let sc = scenario();
    let mut args = vec!["run", sc.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap(), "-q", "--no-report"]);
    let o = crate::cli::lbsim(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = read_metrics_csv(&out.join("metrics.csv"));
    (summary, rows)
}

fn outcome(s: &Value, name: &str) -> u64 {
    s["requests"]["by_outcome"][name].as_u64().unwrap()
}

/// The headline: a deployment with a 30 s deregistration delay cuts 460 of the open
/// WebSockets, all in the minute the delay expires; the rest close by themselves or are
/// still open at the end; nothing else happens to them (no 2xx, no 502).
#[test]
fn websocket_draining_headline() {
    let (s, rows) = run(&[]);
    assert_eq!(s["requests"]["arrived"].as_u64().unwrap(), 1_760);
    assert_eq!(
        outcome(&s, "websocket_closed"),
        860,
        "the comment block quotes 860"
    );
    assert_eq!(
        outcome(&s, "websocket_cut"),
        460,
        "the comment block quotes 460"
    );
    assert_eq!(s["requests"]["in_flight_at_end"].as_u64().unwrap(), 440);
    assert_eq!(outcome(&s, "ok"), 0);
    assert_eq!(outcome(&s, "elb_502_deregistration_delay"), 0);
    assert_eq!(outcome(&s, "elb_502_target_closed"), 0);
    let cut: Vec<(String, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["time_s"].clone(),
                r["responses_websocket_cut"].parse().unwrap(),
            )
        })
        .filter(|&(_, n)| n > 0)
        .collect();
    assert_eq!(cut, vec![("960".to_string(), 460)]);
    // Open WebSockets count as in flight (outstanding at the load balancer).
    let at_deploy = rows.iter().find(|r| r["time_s"] == "900").unwrap();
    assert!(at_deploy["in_flight"].parse::<u64>().unwrap() > 400);
}

/// What to try: a deregistration delay longer than the connections cuts none (the old
/// tasks are still draining at the end), and 300 s cuts fewer.
#[test]
fn longer_deregistration_delay_cuts_fewer() {
    let (s, _) = run(&["--set", "target_groups.chat.deregistration_delay=3600s"]);
    assert_eq!(outcome(&s, "websocket_cut"), 0);
    assert_eq!(outcome(&s, "websocket_closed"), 1_197);
    let (s, _) = run(&["--set", "target_groups.chat.deregistration_delay=300s"]);
    assert_eq!(outcome(&s, "websocket_cut"), 294);
    assert_eq!(outcome(&s, "websocket_closed"), 1_026);
}

/// A bad duration is refused, naming the field.
#[test]
fn bad_websocket_duration_names_the_field() {
    let sc = scenario();
    let o = crate::cli::lbsim(&[
        "validate",
        sc.to_str().unwrap(),
        "--set",
        "clients.chat.websocket.duration={ dist = \"exponential\", mean = \"0s\" }",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("websocket.duration"), "{err}");
}

/// A client is all WebSockets or all HTTP; two clients on one listener mix them: the HTTP
/// client's requests are served (`ok`) by the same tasks that hold the WebSockets, and
/// no request of either is taken for the other kind.
#[test]
fn a_websocket_client_and_an_http_client_share_a_listener() {
    let text = std::fs::read_to_string(scenario()).unwrap().replace(
        "[load_balancer]",
        "[[clients]]\nname = \"api\"\narrivals = { process = \"poisson\", rate_rps = 5 }\nrtt = \"30ms\"\n\n[load_balancer]",
    );
    let s = crate::cli::run_summary_json(&text);
    let arrived = s["requests"]["arrived"].as_u64().unwrap();
    let ws = outcome(&s, "websocket_closed") + outcome(&s, "websocket_cut");
    let ok = outcome(&s, "ok");
    assert!(ws > 1000, "{ws}");
    // 5 requests/s for 30 min: about 9000 HTTP requests, all served.
    assert!((8_500..9_500).contains(&ok), "{ok}");
    let in_flight = s["requests"]["in_flight_at_end"].as_u64().unwrap();
    assert_eq!(ok + ws + in_flight, arrived);
}
