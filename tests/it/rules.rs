//! Listener rules, actions and request mixes, end to end through `summary.json` (or the
//! recorder's summary): AWS's matching semantics (wildcards, case sensitivity, priority
//! order, path vs query string), each action's effect (forward, weighted forward and its
//! run-time weights, redirect followed by the client, fixed response with its exact code),
//! CPU demand per path, validation of every AWS limit, and the `microservices` scenario's
//! headline.

use lbsim::engine::SimTime;
use lbsim::metrics::{Recorder, Summary};
use lbsim::model::Simulation;
use serde_json::Value;

use crate::support::{f, load_text, secs};

/// Two target groups `a` and `b` (one task each), a client `c` on port 80, and `LISTENERS`
/// and `MIX` substituted.
const BASE: &str = r#"
[simulation]
name = "rules"
duration = "60s"
seed = 5
metrics_interval = "10s"

[[clients]]
name = "c"
port = 80
arrivals = { process = "poisson", rate_rps = 200 }
rtt = "20ms"
MIX

[load_balancer]
LISTENERS

[[target_groups]]
name = "a"

[[target_groups]]
name = "b"

[[services]]
name = "a"
target_group = "a"
desired_count = 2
request = { cpu_time = { dist = "exponential", mean = "2ms" } }

[[services]]
name = "b"
target_group = "b"
desired_count = 2
request = { cpu_time = { dist = "exponential", mean = "2ms" } }
"#;

fn scenario(listeners: &str, mix: &str) -> String {
    BASE.replace("LISTENERS", listeners).replace("MIX", mix)
}

/// Runs scenario text with the recorder in memory.
fn run(text: &str) -> Summary {
    let spec = load_text("rules.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    sim.into_observer().finish().unwrap().0
}

fn json(s: &Summary) -> Value {
    serde_json::to_value(s).unwrap()
}

/// `rules[]` as (listener port, priority, requests).
fn rule_counts(s: &Value) -> Vec<(u64, Option<u64>, u64)> {
    s["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["listener_port"].as_u64().unwrap(),
                r["priority"].as_u64(),
                r["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn group_requests(s: &Value, name: &str) -> f64 {
    let g = s["target_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap();
    f(&g["requests"]["arrived"])
}

/// One request kind per rule of a table of AWS's documented matching examples: each row is
/// (mix entry, the priority of the rule that must take it, or `None` for the default rule).
/// Each mix entry has weight 1, so each rule gets about 1/n of the requests; a rule that
/// must take no entry gets none.
#[test]
fn matching_follows_the_aws_examples_end_to_end() {
    let listeners = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "fixed_response", status_code = 404 }

# Path patterns are case-sensitive; * matches any characters.
[[load_balancer.listeners.rules]]
priority = 10
conditions = { path_pattern = ["/img/*"] }
action = { type = "forward", target_group = "a" }

# Host headers are case-insensitive, with wildcards.
[[load_balancer.listeners.rules]]
priority = 20
conditions = { host_header = ["*.example.org"] }
action = { type = "forward", target_group = "b" }

# Lower priority first: 5 runs before 30 although declared after.
[[load_balancer.listeners.rules]]
priority = 30
conditions = { path_pattern = ["/api/*"] }
action = { type = "fixed_response", status_code = 503 }

[[load_balancer.listeners.rules]]
priority = 5
conditions = { path_pattern = ["/api/v?/users"] }
action = { type = "fixed_response", status_code = 201 }

# The query string is matched by query_string, not by path_pattern; methods exactly.
[[load_balancer.listeners.rules]]
priority = 40
conditions = { query_string = [{ key = "version", value = "v2*" }], http_request_method = ["GET"] }
action = { type = "fixed_response", status_code = 202 }

# Headers: name and value case-insensitive; AND across conditions.
[[load_balancer.listeners.rules]]
priority = 50
conditions = { http_header = [{ name = "X-Canary", values = ["yes"] }], source_ip = ["203.0.113.0/24"] }
action = { type = "fixed_response", status_code = 418 }
"#;
    let mix = r#"
source_ips = ["203.0.113.0/24"]
[[clients.requests]]
path = "/img/logo.png"
[[clients.requests]]
path = "/IMG/logo.png"
host = "www.EXAMPLE.org"
[[clients.requests]]
path = "/api/v2/users"
[[clients.requests]]
path = "/api/orders"
[[clients.requests]]
path = "/search"
query = { VERSION = "V2beta" }
[[clients.requests]]
path = "/search"
method = "post"
query = { version = "v2" }
[[clients.requests]]
path = "/x"
headers = { "x-canary" = "YES" }
[[clients.requests]]
path = "/img"
"#;
    let s = json(&run(&scenario(listeners, mix)));
    let rules = rule_counts(&s);
    let by_priority = |p: Option<u64>| rules.iter().find(|r| r.1 == p).map(|r| r.2 as f64).unwrap();
    let total: f64 = rules.iter().map(|r| r.2 as f64).sum();
    let share = |p| by_priority(p) / total;
    // Priority order in the output, the default last.
    let order: Vec<Option<u64>> = rules.iter().map(|r| r.1).collect();
    assert_eq!(
        order,
        [
            Some(5),
            Some(10),
            Some(20),
            Some(30),
            Some(40),
            Some(50),
            None
        ]
    );
    let eighth = 1.0 / 8.0;
    let near = |what: &str, got: f64, want: f64| {
        assert!((got - want).abs() < 0.02, "{what}: {got} vs {want}");
    };
    near("/img/* takes /img/logo.png only", share(Some(10)), eighth);
    near("host rule: case-insensitive", share(Some(20)), eighth);
    near("priority 5 before 30", share(Some(5)), eighth);
    near("/api/* takes /api/orders", share(Some(30)), eighth);
    near(
        "query: case-insensitive; POST misses",
        share(Some(40)),
        eighth,
    );
    near("header AND source ip", share(Some(50)), eighth);
    // Default: /search by POST, /img (no trailing slash: /img/* does not match).
    near("default rule", share(None), 2.0 * eighth);
    // Exact codes per rule; classes in the totals.
    let status = |p: u64, code: &str| {
        s["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["priority"].as_u64() == Some(p))
            .unwrap()["by_status"][code]
            .as_u64()
            .unwrap_or(0)
    };
    assert!(status(50, "418") > 0 && status(5, "201") > 0 && status(30, "503") > 0);
    let out = &s["requests"]["by_outcome"];
    assert_eq!(
        f(&out["fixed_response_4xx"]),
        by_priority(Some(50)) + by_priority(None)
    );
    assert_eq!(f(&out["fixed_response_5xx"]), by_priority(Some(30)));
    assert_eq!(f(&out["ok"]), by_priority(Some(10)) + by_priority(Some(20)));
    assert_eq!(group_requests(&s, "a"), by_priority(Some(10)));
    assert_eq!(group_requests(&s, "b"), by_priority(Some(20)));
    // Every request is counted once: arrived = Σ outcomes + in flight.
    let ended: f64 = out.as_object().unwrap().values().map(f).sum();
    assert_eq!(
        f(&s["requests"]["arrived"]),
        ended + f(&s["requests"]["in_flight_at_end"])
    );
}

/// IPv6 `source_ip` conditions, end to end: a pool of one IPv4 and two IPv6 blocks of equal
/// size (a third of the requests each); an IPv6 /48 rule takes its block only, an IPv4 /0
/// takes every IPv4 request and no IPv6 one, an IPv6 /0 every other IPv6 request and no IPv4
/// one, so the default rule gets nothing.
#[test]
fn ipv6_source_ip_conditions_match_their_family_only() {
    let listeners = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "fixed_response", status_code = 404 }

[[load_balancer.listeners.rules]]
priority = 1
conditions = { source_ip = ["2001:db8:1::/48"] }
action = { type = "forward", target_group = "a" }

[[load_balancer.listeners.rules]]
priority = 2
conditions = { source_ip = ["0.0.0.0/0"] }
action = { type = "forward", target_group = "b" }

[[load_balancer.listeners.rules]]
priority = 3
conditions = { source_ip = ["::/0"] }
action = { type = "fixed_response", status_code = 403 }
"#;
    let mix = r#"source_ips = ["10.1.0.0/16", "2001:db8:1::/112", "2001:db8:2:0:0:0:7::/112"]"#;
    let s = json(&run(&scenario(listeners, mix)));
    let rules = rule_counts(&s);
    let n = |p: Option<u64>| rules.iter().find(|r| r.1 == p).unwrap().2 as f64;
    let total: f64 = rules.iter().map(|r| r.2 as f64).sum();
    assert!(total > 10_000.0, "{total}");
    for p in [1, 2, 3] {
        let share = n(Some(p)) / total;
        assert!((share - 1.0 / 3.0).abs() < 0.02, "rule {p}: {share}");
    }
    assert_eq!(n(None), 0.0, "every address matches a rule of its family");
    assert_eq!(group_requests(&s, "a"), n(Some(1)));
    assert_eq!(group_requests(&s, "b"), n(Some(2)));
    assert_eq!(
        f(&s["requests"]["by_outcome"]["fixed_response_4xx"]),
        n(Some(3))
    );
}

/// A weighted forward splits by weight; `Simulation::set_forward_weights` moves all new
/// traffic at once.
#[test]
fn weighted_forward_splits_by_weight_and_weights_change_at_run_time() {
    let listeners = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_groups = [{ target_group = "a", weight = 90 }, { target_group = "b", weight = 10 }], stickiness = { enabled = true, duration = "1h" } }
"#;
    let text = scenario(listeners, "");
    let s = json(&run(&text));
    let (a, b) = (group_requests(&s, "a"), group_requests(&s, "b"));
    let share = b / (a + b);
    assert!((share - 0.10).abs() < 0.01, "green share {share}");

    let spec = load_text("rules.toml", &text, &[]).unwrap();
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run_until(SimTime::ZERO + secs(30));
    sim.set_forward_weights(0, None, &[0, 1]).unwrap();
    assert!(sim.set_forward_weights(0, None, &[0, 0]).is_err());
    assert!(sim.set_forward_weights(0, Some(0), &[1, 1]).is_err());
    assert!(sim.set_forward_weights(1, None, &[1, 1]).is_err());
    sim.run();
    let s2 = json(&sim.into_observer().finish().unwrap().0);
    let (a2, b2) = (group_requests(&s2, "a"), group_requests(&s2, "b"));
    // Half the run at 10 % green, half at 100 %: ≈ 55 %.
    let share2 = b2 / (a2 + b2);
    assert!((share2 - 0.55).abs() < 0.02, "after the shift {share2}");
}

/// A redirect ends the request at once with its code, and the client sends it again to the
/// listener redirected to, one round trip later.
#[test]
fn redirects_are_followed_and_counted_by_listener() {
    let listeners = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "redirect", protocol = "HTTPS", port = 443, status_code = 302 }

[[load_balancer.listeners]]
port = 443
protocol = "HTTPS"
default_action = { type = "forward", target_group = "a" }
"#;
    let s = json(&run(&scenario(listeners, "")));
    let l = s["listeners"].as_array().unwrap();
    let (l80, l443) = (&l[0], &l[1]);
    assert_eq!(l80["port"], 80);
    let redirects = f(&l80["by_outcome"]["redirect_302"]);
    assert!(redirects > 10_000.0, "{redirects}");
    assert_eq!(f(&l80["requests"]), redirects);
    // Every redirect but those whose follow-up falls after the end arrives at 443 and is
    // served (≈ 200 rps × 20 ms at the end).
    let served = f(&l443["by_outcome"]["ok"]);
    assert!(
        redirects - served >= 0.0 && redirects - served < 20.0,
        "{redirects} vs {served}"
    );
    assert_eq!(f(&s["requests"]["by_outcome"]["redirect_302"]), redirects);
    assert_eq!(
        s["rules"][0]["by_status"]["302"].as_u64().unwrap() as f64,
        redirects
    );
}

/// Listeners whose redirects rewrite the path (`/old/*` to `/new/#{path}` on port 80, then
/// on to 443) and the host and query (`/shop` to `api.#{host}` with `v=2` added), with the
/// rules on 443 that tell the rewritten requests apart.
const REWRITE_LISTENERS: &str = r##"
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "a" }

[[load_balancer.listeners.rules]]
priority = 1
conditions = { path_pattern = ["/old/*"] }
action = { type = "redirect", path = "/new/#{path}", status_code = 301 }

[[load_balancer.listeners.rules]]
priority = 2
conditions = { path_pattern = ["/new/*"] }
action = { type = "redirect", protocol = "HTTPS", port = 443, status_code = 302 }

[[load_balancer.listeners.rules]]
priority = 3
conditions = { path_pattern = ["/shop"] }
action = { type = "redirect", protocol = "HTTPS", port = 443, host = "api.#{host}", query = "#{query}&v=2", status_code = 301 }

[[load_balancer.listeners]]
port = 443
protocol = "HTTPS"
default_action = { type = "fixed_response", status_code = 404 }

[[load_balancer.listeners.rules]]
priority = 1
conditions = { path_pattern = ["/new/old/*"] }
action = { type = "forward", target_group = "b" }

[[load_balancer.listeners.rules]]
priority = 2
conditions = { host_header = ["api.shop.example"], query_string = [{ key = "v", value = "2" }, { key = "page", value = "3" }] }
action = { type = "fixed_response", status_code = 201 }

[[load_balancer.listeners.rules]]
priority = 3
conditions = { host_header = ["api.shop.example"] }
action = { type = "fixed_response", status_code = 202 }
"##;

/// The mix for [`REWRITE_LISTENERS`]: `/old/items/{id}`, `/shop` (host `shop.example`,
/// `page=7`) and `/other`, a third each.
const REWRITE_MIX: &str = r#"
[[clients.requests]]
path = "/old/items/{id}"
[[clients.requests]]
path = "/shop"
host = "shop.example"
query = { page = "7" }
[[clients.requests]]
path = "/other"
"#;

/// A redirect's `path`, `host` and `query` (AWS `RedirectActionConfig` with its `#{...}`
/// keywords): the followed request matches the rules of the listener redirected to with the
/// rewritten values. `/old/*` is redirected on its own listener to `/new/#{path}` (allowed:
/// the path changes), which a rule sends to port 443 with no rewrite of its own (the
/// rewritten path is kept), where `/new/old/*` is forwarded to `b`; a second kind of request
/// is redirected to 443 with a new host and an added query parameter, which a rule there
/// answers with 200 only if both arrived.
#[test]
fn redirects_rewrite_host_path_and_query() {
    let s = json(&run(&scenario(REWRITE_LISTENERS, REWRITE_MIX)));
    let rules = rule_counts(&s);
    let n = |port: u64, p: Option<u64>| {
        rules
            .iter()
            .find(|r| r.0 == port && r.1 == p)
            .map_or(0.0, |r| r.2 as f64)
    };
    let third = n(80, Some(1)) + n(80, Some(3)) + n(80, None);
    assert!(n(80, Some(1)) > 0.3 * third, "{rules:?}");
    // Every /old/* redirect comes back to port 80 as /new/old/..., goes on to 443 with that
    // path (≈ 200 rps × 20 ms still on the way at the end) and reaches the /new/old/* rule.
    let gap = |a: f64, b: f64| a - b >= 0.0 && a - b < 20.0;
    assert!(gap(n(80, Some(1)), n(80, Some(2))), "{rules:?}");
    assert!(gap(n(80, Some(2)), n(443, Some(1))), "{rules:?}");
    assert_eq!(group_requests(&s, "b"), n(443, Some(1)));
    // The host and query rewrite: every /shop request reaches 443 as api.shop.example with
    // v=2 added (page=7 kept, so the pair page=3 does not count): rule 2, not rule 3 or the
    // default.
    assert!(gap(n(80, Some(3)), n(443, Some(2))), "{rules:?}");
    assert_eq!(n(443, Some(3)), 0.0, "{rules:?}");
    assert_eq!(n(443, None), 0.0, "{rules:?}");
    assert_eq!(group_requests(&s, "a"), n(80, None));
}

/// `rules.csv`: one row per interval per rule (the default rule last, its priority empty),
/// whose `responses` columns sum to `summary.json`'s per-rule totals, and whose cause columns
/// sum to the run's outcomes; a run without rules writes no `rules.csv`.
#[test]
fn rules_csv_series_sum_to_the_summary_rule_counts() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario(REWRITE_LISTENERS, REWRITE_MIX);
    let (s, _, metrics) = crate::support::run_recorded("rules.toml", &text, &[], dir.path());
    let rows = crate::support::read_metrics_csv(&dir.path().join("rules.csv"));
    let header = csv::Reader::from_path(dir.path().join("rules.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    let want: Vec<String> = [
        "time_s",
        "interval_s",
        "listener_port",
        "priority",
        "responses",
    ]
    .iter()
    .map(|c| c.to_string())
    .chain(
        s["requests"]["by_outcome"]
            .as_object()
            .unwrap()
            .keys()
            .map(|c| format!("responses_{c}")),
    )
    .collect();
    let mut got: Vec<String> = header.iter().map(str::to_string).collect();
    let mut sorted_want = want.clone();
    got[5..].sort();
    sorted_want[5..].sort();
    assert_eq!(got, sorted_want);
    // 60 s in 10 s intervals, 4 rules on port 80 and 4 on 443 (defaults included).
    let rule_list = rule_counts(&s);
    assert_eq!(rule_list.len(), 8);
    assert_eq!(rows.len(), 6 * rule_list.len());
    assert_eq!(
        metrics.len(),
        6 * 2,
        "metrics.csv keeps one row per interval per target group"
    );
    let num =
        |r: &std::collections::BTreeMap<String, String>, c: &str| -> u64 { r[c].parse().unwrap() };
    for (port, priority, requests) in &rule_list {
        let p = priority.map_or(String::new(), |p| p.to_string());
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r["listener_port"] == port.to_string() && r["priority"] == p)
            .collect();
        assert_eq!(mine.len(), 6, "{port} {p}");
        let sum: u64 = mine.iter().map(|r| num(r, "responses")).sum();
        assert_eq!(sum, *requests, "rule {port}/{p}: rules.csv vs summary.json");
        assert!(mine.iter().all(|r| {
            let by_cause: u64 = r
                .keys()
                .filter(|k| k.starts_with("responses_"))
                .map(|k| num(r, k))
                .sum();
            by_cause == num(r, "responses")
        }));
    }
    assert!(
        rule_list.iter().filter(|r| r.2 > 1000).count() >= 5,
        "{rule_list:?}"
    );
    for (cause, total) in s["requests"]["by_outcome"].as_object().unwrap() {
        let sum: u64 = rows
            .iter()
            .map(|r| num(r, &format!("responses_{cause}")))
            .sum();
        assert_eq!(sum as f64, f(total), "{cause}");
    }
    // No rules: no rules.csv.
    let plain = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "a" }
"#;
    let dir2 = tempfile::tempdir().unwrap();
    crate::support::run_recorded("rules.toml", &scenario(plain, ""), &[], dir2.path());
    assert!(dir2.path().join("metrics.csv").exists());
    assert!(!dir2.path().join("rules.csv").exists());
}

/// A redirect to a listener that redirects back is followed at most 10 times in a row.
#[test]
fn a_redirect_loop_stops_after_ten_hops() {
    let listeners = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "redirect", port = 8080, status_code = 301 }

[[load_balancer.listeners]]
port = 8080
default_action = { type = "redirect", port = 80, status_code = 301 }
"#;
    let text = scenario(listeners, "").replace("rate_rps = 200", "rate_rps = 1");
    let s = json(&run(&text));
    let (l80, l8080) = (
        f(&s["listeners"][0]["requests"]),
        f(&s["listeners"][1]["requests"]),
    );
    let total = f(&s["requests"]["by_outcome"]["redirect_301"]);
    assert_eq!(total, l80 + l8080);
    // Each request is answered 11 times (the original and 10 followed redirects: 6 on port
    // 80, 5 on 8080), except a chain cut by the end of the run (20 ms per hop).
    let chains = l80 - l8080;
    assert!(chains > 40.0, "{chains}");
    assert!(
        total <= 11.0 * chains && total > 11.0 * chains - 11.0,
        "{total} answers for {chains} requests"
    );
}

/// The mix's `cpu_time` replaces the service's CPU demand for that path.
#[test]
fn cpu_demand_follows_the_path() {
    let listeners = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "a" }

[[load_balancer.listeners.rules]]
priority = 1
conditions = { path_pattern = ["/heavy/*"] }
action = { type = "forward", target_group = "b" }
"#;
    let mix = r#"
[[clients.requests]]
path = "/light/{id}"
[[clients.requests]]
path = "/heavy/{id}"
cpu_time = "8ms"
"#;
    let s = json(&run(&scenario(listeners, mix)));
    let cpu = |name: &str| {
        let g = s["target_groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap();
        f(&g["latency_breakdown_ms"]["cpu"])
    };
    assert!((cpu("b") - 8.0).abs() < 0.01, "heavy path: {}", cpu("b"));
    assert!((cpu("a") - 2.0).abs() < 0.2, "light path: {}", cpu("a"));
    // Templated ids do not change which rule matches.
    let (a, b) = (group_requests(&s, "a"), group_requests(&s, "b"));
    assert!((a / (a + b) - 0.5).abs() < 0.02);
}

/// Every AWS limit is enforced with an error naming the field and the range.
#[test]
fn validation_enforces_the_aws_limits() {
    let one = |rules: &str| {
        format!(
            "[[load_balancer.listeners]]\nport = 80\ndefault_action = {{ type = \"forward\", target_group = \"a\" }}\n{rules}"
        )
    };
    let rule = |cond: &str, action: &str| {
        format!(
            "[[load_balancer.listeners.rules]]\npriority = 1\nconditions = {cond}\naction = {action}\n"
        )
    };
    let fwd = r#"{ type = "forward", target_group = "a" }"#;
    let cases: Vec<(String, &str, &str)> = vec![
        (
            one(&rule("{}", fwd).replace("priority = 1", "priority = 0")),
            "load_balancer.listeners.0.rules.0.priority",
            "1–50000",
        ),
        (
            one(&rule("{}", fwd).replace("priority = 1", "priority = 50001")),
            "load_balancer.listeners.0.rules.0.priority",
            "1–50000",
        ),
        (
            one(&format!("{}{}", rule("{}", fwd), rule("{}", fwd))),
            "load_balancer.listeners.0.rules.1.priority",
            "unique",
        ),
        (
            one(&rule(r#"{ path_pattern = ["/a", "/b", "/c", "/d"] }"#, fwd)),
            "load_balancer.listeners.0.rules.0.conditions.path_pattern",
            "at most 3 per condition",
        ),
        (
            one(&rule(
                r#"{ path_pattern = ["/a", "/b", "/c"], host_header = ["x", "y", "z"] }"#,
                fwd,
            )),
            "load_balancer.listeners.0.rules.0.conditions",
            "at most 5 per rule",
        ),
        (
            one(&rule(
                r#"{ path_pattern = ["/*/*/*"], host_header = ["*.?.*"] }"#,
                fwd,
            )),
            "load_balancer.listeners.0.rules.0.conditions",
            "6 wildcards",
        ),
        (
            one(&rule(
                &format!("{{ path_pattern = [\"/{}\"] }}", "x".repeat(128)),
                fwd,
            )),
            "load_balancer.listeners.0.rules.0.conditions.path_pattern.0",
            "1–128 characters",
        ),
        (
            one(&rule(r#"{ source_ip = ["10.0.0.1/8"] }"#, fwd)),
            "load_balancer.listeners.0.rules.0.conditions.source_ip.0",
            "host bits",
        ),
        (
            one(&rule(r#"{ source_ip = ["2001:db8::/129"] }"#, fwd)),
            "load_balancer.listeners.0.rules.0.conditions.source_ip.0",
            "an IPv6 block must be 0–128",
        ),
        (
            one(&rule(r#"{ source_ip = ["10.0.0.0/33"] }"#, fwd)),
            "load_balancer.listeners.0.rules.0.conditions.source_ip.0",
            "an IPv4 block must be 0–32",
        ),
        (
            one(&rule(r#"{ source_ip = ["2001:db8::1/64"] }"#, fwd)),
            "load_balancer.listeners.0.rules.0.conditions.source_ip.0",
            "host bits are set (write \"2001:db8::/64\")",
        ),
        (
            one(&rule(r#"{ source_ip = ["2001:db8::g/64"] }"#, fwd)),
            "load_balancer.listeners.0.rules.0.conditions.source_ip.0",
            "not an IPv4 or IPv6 address",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "forward", target_groups = [{ target_group = "a", weight = 1000 }] }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.target_groups.0.weight",
            "0–999",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "forward", target_groups = [{ target_group = "a", weight = 0 }, { target_group = "b", weight = 0 }] }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.target_groups",
            "every weight is 0",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "forward", target_groups = [{ target_group = "a", weight = 1 }, { target_group = "b", weight = 1 }, { target_group = "a", weight = 1 }, { target_group = "b", weight = 1 }, { target_group = "a", weight = 1 }, { target_group = "b", weight = 1 }] }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.target_groups",
            "1–5",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "forward", target_groups = [{ target_group = "a", weight = 1 }], stickiness = { enabled = true, duration = "8d" } }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.stickiness.duration",
            "1s–7d",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "forward", target_group = "a", target_groups = [{ target_group = "a", weight = 1 }] }"#,
            )),
            "load_balancer.listeners.0.rules.0.action",
            "exactly one",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "fixed_response", status_code = 302 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.status_code",
            "2XX, 4XX or 5XX",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "fixed_response", status_code = 200, content_type = "image/png" }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.content_type",
            "application/json",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "redirect", port = 81, status_code = 307 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.status_code",
            "301 or 302",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "redirect", port = 81, status_code = 301 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.port",
            "no listener",
        ),
        (
            one(&rule("{}", r#"{ type = "redirect", status_code = 301 }"#)),
            "load_balancer.listeners.0.rules.0.action",
            "loop",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "redirect", query = "a=1", status_code = 301 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action",
            "change at least one of protocol, port, host or path",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "redirect", path = "new/#{path}", status_code = 301 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.path",
            "starts with \"/\"",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "redirect", path = "/#{query}", status_code = 301 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.path",
            "may contain #{host}, #{path}, #{port}",
        ),
        (
            one(&rule(
                "{}",
                r##"{ type = "redirect", host = "#{path}.example.com", status_code = 301 }"##,
            )),
            "load_balancer.listeners.0.rules.0.action.host",
            "may contain #{host}",
        ),
        (
            one(&rule(
                "{}",
                &format!(
                    "{{ type = \"redirect\", path = \"/x\", query = \"{}\", status_code = 301 }}",
                    "q".repeat(129)
                ),
            )),
            "load_balancer.listeners.0.rules.0.action.query",
            "0–128",
        ),
        (
            one(&rule(
                "{}",
                r#"{ type = "redirect", host = "", status_code = 301 }"#,
            )),
            "load_balancer.listeners.0.rules.0.action.host",
            "1–128",
        ),
        (
            r#"
[[load_balancer.listeners]]
port = 443
protocol = "HTTPS"
default_action = { type = "redirect", protocol = "HTTP", port = 80, status_code = 301 }
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "a" }
"#
            .to_string(),
            "load_balancer.listeners.0.default_action.protocol",
            "HTTPS to HTTP",
        ),
        (
            one(&(1..=101)
                .map(|p| rule("{}", fwd).replace("priority = 1\n", &format!("priority = {p}\n")))
                .collect::<String>()),
            "load_balancer.listeners",
            "at most 100 per load balancer",
        ),
    ];
    for (listeners, field, message) in &cases {
        let text = scenario(listeners, "");
        let errs = load_text("rules.toml", &text, &[]).expect_err(field);
        let hit = errs
            .0
            .iter()
            .any(|e| e.field.as_deref() == Some(*field) && e.message.contains(message));
        assert!(hit, "{field} / {message}: got {errs}");
    }
    // The mix: weights, paths, CIDR pools.
    let fwd_listener = one("");
    for (mix, field, message) in [
        (
            "[[clients.requests]]\nweight = 0",
            "clients.0.requests.0.weight",
            "> 0",
        ),
        (
            "[[clients.requests]]\npath = \"api\"",
            "clients.0.requests.0.path",
            "starts with",
        ),
        (
            "[[clients.requests]]\npath = \"/a?b=1\"",
            "clients.0.requests.0.path",
            "query",
        ),
        (
            "source_ips = [\"300.0.0.0/8\"]",
            "clients.0.source_ips.0",
            "not an IPv4 or IPv6 address",
        ),
        (
            "source_ips = [\"10.0.0.0/8\", \"fd00::/200\"]",
            "clients.0.source_ips.1",
            "0–128",
        ),
    ] {
        let text = scenario(&fwd_listener, mix);
        let errs = load_text("rules.toml", &text, &[]).expect_err(field);
        assert!(
            errs.0
                .iter()
                .any(|e| e.field.as_deref() == Some(field) && e.message.contains(message)),
            "{field} / {message}: got {errs}"
        );
    }
}

/// A client without a mix on a listener without rules draws nothing new: the same run as
/// before this feature (`requests` per target group and latencies equal to a run where the
/// same listener has a rule that matches nothing, which takes the rules path).
#[test]
fn the_rules_path_sees_the_same_requests_as_the_fast_path() {
    let plain = r#"
[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "a" }
"#;
    let with_rule = format!(
        "{plain}[[load_balancer.listeners.rules]]\npriority = 1\nconditions = {{ path_pattern = [\"/never\"] }}\naction = {{ type = \"forward\", target_group = \"b\" }}\n"
    );
    let (s1, s2) = (
        json(&run(&scenario(plain, ""))),
        json(&run(&scenario(&with_rule, ""))),
    );
    assert_eq!(s1["requests"], s2["requests"]);
    assert_eq!(s1["latency_ms"], s2["latency_ms"]);
    assert_eq!(s1["listeners"], s2["listeners"]);
    assert_eq!(rule_counts(&s2).last().unwrap().2, rule_counts(&s1)[0].2);
}

/// The `microservices` scenario's headline, from the files a user reads: port 80 only
/// redirects (301), port 443 serves the three services by path, answers /health with 200
/// and the rest with 404, each counted by rule.
#[test]
fn microservices_routes_by_path_and_answers_the_rest_itself() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let sc = root.join("scenarios/microservices.toml");
    let o = crate::cli::lbsim(&[
        "run",
        sc.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
        "--no-report",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let l = s["listeners"].as_array().unwrap();
    assert_eq!(
        (l[0]["port"].as_u64(), l[1]["port"].as_u64()),
        (Some(80), Some(443))
    );
    // Port 80: nothing but redirects.
    assert_eq!(f(&l[0]["requests"]), f(&l[0]["by_outcome"]["redirect_301"]));
    assert_eq!(f(&l[0]["by_outcome"]["redirect_301"]), 1204.0);
    // Port 443: served, /health 200 and 404 from the load balancer.
    let by = &l[1]["by_outcome"];
    assert_eq!(f(&by["fixed_response_2xx"]), 1114.0);
    assert_eq!(f(&by["fixed_response_4xx"]), 1085.0);
    assert!(f(&by["ok"]) > 16_900.0, "{}", by["ok"]);
    // Per rule, exact codes; the default rule last with its 404s.
    let rules: Vec<(Option<u64>, String)> = s["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["priority"].as_u64(),
                r["by_status"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(","),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            (None, "301".to_string()),
            (Some(10), "200".into()),
            (Some(20), "200".into()),
            (Some(30), "200".into()),
            (Some(40), "200".into()),
            (None, "404".into()),
        ]
    );
    // The three services, by path, with every redirected request served by users.
    let tg = |n: &str| group_requests(&s, n);
    let (users, orders, payments) = (tg("users"), tg("orders"), tg("payments"));
    assert!(
        users > 2.0 * orders && orders > 1.5 * payments,
        "{users} {orders} {payments}"
    );
    assert_eq!(s["target_groups"].as_array().unwrap().len(), 3);
}
