//! Sticky sessions (`target_groups[].stickiness`): a session stays on its target; falls back
//! to the algorithm (and stays with the new target) when its target is unhealthy or
//! draining; its cookie expires after `duration` and every response renews it; validation
//! follows AWS's rules.

use std::collections::{BTreeMap, BTreeSet};

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::{Observer, Request, Simulation, TargetGroupId, TaskId};

use super::support::load_text;

/// `users` closed-loop users thinking `think` (constant) in one session each, 3 tasks,
/// health checks off (the tests mark targets), with `stickiness` (a TOML inline table, or
/// "" for none) and `algorithm`.
fn sticky(users: u32, think: &str, stickiness: &str, algorithm: &str) -> String {
    let st = if stickiness.is_empty() {
        String::new()
    } else {
        format!("stickiness = {stickiness}")
    };
    format!(
        r#"
[simulation]
duration = "2m"
seed = 7

[[clients]]
name = "u"
arrivals = {{ process = "closed_loop", users = {users}, think_time = "{think}" }}
rtt = "10ms"

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "web" }}

[[target_groups]]
name = "web"
algorithm = "{algorithm}"
deregistration_delay = "5s"
health_check = {{ enabled = false }}
{st}

[[services]]
name = "web"
target_group = "web"
desired_count = 3
request = {{ cpu_time = "5ms" }}
"#
    )
}

const LB_COOKIE: &str = r#"{ enabled = true, type = "lb_cookie", duration = "1h" }"#;

/// Each routed request: (time, session, task).
#[derive(Default)]
struct Routes(Vec<(SimTime, u32, TaskId)>);

impl Observer for Routes {
    fn request_dispatched(&mut self, now: SimTime, r: &Request) {
        self.0.push((now, r.session, r.task.unwrap()));
    }
}

impl Routes {
    /// Per session, the tasks its requests went to in `[from, to)`.
    fn tasks(&self, from: f64, to: f64) -> BTreeMap<u32, BTreeSet<TaskId>> {
        let mut m: BTreeMap<u32, BTreeSet<TaskId>> = BTreeMap::new();
        for &(t, s, task) in &self.0 {
            let t = t.as_secs_f64();
            if t >= from && t < to {
                m.entry(s).or_default().insert(task);
            }
        }
        m
    }
}

fn at(s: u64) -> SimTime {
    SimTime::ZERO + SimDuration::from_secs(s)
}

fn sim(text: &str) -> Simulation<Routes> {
    let spec = load_text("s.toml", text, &[]).unwrap();
    Simulation::new(&spec, Routes::default()).unwrap()
}

/// Without stickiness round robin spreads each user over the tasks; with it each user's
/// requests all go to one task.
#[test]
fn a_sticky_session_stays_on_its_target() {
    // 11 users (12 with constant times would cycle in step with the 3 targets).
    let mut plain = sim(&sticky(11, "200ms", "", "round_robin"));
    plain.run();
    let spread = plain.observer().tasks(0.0, 120.0);
    assert!(spread.values().all(|t| t.len() == 3), "{spread:?}");

    let mut s = sim(&sticky(12, "200ms", LB_COOKIE, "round_robin"));
    s.run();
    let pinned = s.observer().tasks(0.0, 120.0);
    assert_eq!(pinned.len(), 12);
    assert!(pinned.values().all(|t| t.len() == 1), "{pinned:?}");
    // The first choices were round robin's: 4 users per task.
    let mut per_task: BTreeMap<TaskId, u32> = BTreeMap::new();
    for t in pinned.values() {
        *per_task.entry(*t.first().unwrap()).or_default() += 1;
    }
    assert_eq!(per_task.values().copied().collect::<Vec<_>>(), [4, 4, 4]);
    let table = s
        .world()
        .load_balancer()
        .stickiness(TargetGroupId(0))
        .unwrap();
    assert_eq!(
        table.hits,
        s.observer().0.len() as u64 - 12,
        "all but the first"
    );
    assert_eq!(table.fallbacks, 0);
}

/// With least outstanding requests too, only the first choice is the algorithm's.
#[test]
fn least_outstanding_requests_chooses_only_the_first_target() {
    let mut s = sim(&sticky(
        12,
        "200ms",
        LB_COOKIE,
        "least_outstanding_requests",
    ));
    s.run();
    let pinned = s.observer().tasks(0.0, 120.0);
    assert!(pinned.values().all(|t| t.len() == 1), "{pinned:?}");
}

/// A session whose target turns unhealthy, or drains, falls back to the algorithm and its
/// cookie is rewritten: it stays on the new target, even once the old one is healthy again.
/// Sessions on other targets do not move.
#[test]
fn a_session_falls_back_when_its_target_is_unhealthy_or_draining_and_stays_there() {
    for drain in [false, true] {
        let mut s = sim(&sticky(12, "200ms", LB_COOKIE, "round_robin"));
        s.run_until(at(10));
        let before = s.observer().tasks(0.0, 10.0);
        let t0 = *before[&0].first().unwrap();
        let moved: BTreeSet<u32> = before
            .iter()
            .filter(|(_, t)| t.contains(&t0))
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(moved.len(), 4);
        if drain {
            s.deregister_target(t0).unwrap();
        } else {
            s.set_target_health(t0, false).unwrap();
        }
        s.run_until(at(20));
        let after = s.observer().tasks(11.0, 20.0);
        for (session, tasks) in &after {
            assert_eq!(tasks.len(), 1, "session {session}: {tasks:?}");
            if moved.contains(session) {
                assert!(!tasks.contains(&t0), "session {session} still on {t0:?}");
            } else {
                assert_eq!(tasks, &before[session], "session {session} moved");
            }
        }
        let table = s
            .world()
            .load_balancer()
            .stickiness(TargetGroupId(0))
            .unwrap();
        assert_eq!(table.fallbacks, 4, "once per moved session (drain {drain})");
        if !drain {
            s.set_target_health(t0, true).unwrap();
            s.run_until(at(40));
            let later = s.observer().tasks(20.0, 40.0);
            assert!(
                later.values().all(|t| !t.contains(&t0) && t.len() == 1),
                "after failover the sessions stay with their new target: {later:?}"
            );
            assert_eq!(
                later
                    .iter()
                    .filter(|(s, _)| moved.contains(s))
                    .map(|(s, t)| (*s, t.clone()))
                    .collect::<BTreeMap<_, _>>(),
                after
                    .iter()
                    .filter(|(s, _)| moved.contains(s))
                    .map(|(s, t)| (*s, t.clone()))
                    .collect::<BTreeMap<_, _>>()
            );
        }
    }
}

/// A cookie lasts `duration` after the response that set it: with 1 s and users that think
/// 2 s every cookie has expired by the next request (the algorithm chooses every time);
/// with 3 s each response renews it, so a session stays pinned for the whole 2-minute run,
/// far longer than the duration.
#[test]
fn a_cookie_expires_after_its_duration_and_each_response_renews_it() {
    let short = r#"{ enabled = true, duration = "1s" }"#;
    // 7 users: with constant times, 6 would cycle in step with the 3 targets.
    let mut s = sim(&sticky(7, "2s", short, "round_robin"));
    s.run();
    let table = s
        .world()
        .load_balancer()
        .stickiness(TargetGroupId(0))
        .unwrap();
    let requests = s.observer().0.len() as u64;
    assert_eq!(table.hits, 0);
    assert_eq!(table.expired, requests - 7);
    assert!(s.observer().tasks(0.0, 120.0).values().all(|t| t.len() > 1));

    let renewed = r#"{ enabled = true, duration = "3s" }"#;
    let mut s = sim(&sticky(6, "2s", renewed, "round_robin"));
    s.run();
    let table = s
        .world()
        .load_balancer()
        .stickiness(TargetGroupId(0))
        .unwrap();
    let requests = s.observer().0.len() as u64;
    assert!(requests > 300);
    assert_eq!(table.expired, 0);
    assert_eq!(table.hits, requests - 6);
    assert!(
        s.observer()
            .tasks(0.0, 120.0)
            .values()
            .all(|t| t.len() == 1)
    );
}

/// Open-loop clients with `sessions = { count = K }` spread requests over K sessions, each
/// pinned to one target.
#[test]
fn open_loop_sessions_are_sticky_too() {
    let text = sticky(1, "1s", LB_COOKIE, "round_robin").replace(
        r#"arrivals = { process = "closed_loop", users = 1, think_time = "1s" }"#,
        "arrivals = { process = \"poisson\", rate_rps = 50 }\nsessions = { count = 20 }",
    );
    let mut s = sim(&text);
    s.run();
    let m = s.observer().tasks(0.0, 120.0);
    assert_eq!(m.len(), 20, "{m:?}");
    // A session's first requests may overlap (no cookie yet); afterwards it is pinned.
    let m = s.observer().tasks(5.0, 120.0);
    assert!(m.values().all(|t| t.len() == 1), "{m:?}");
}

/// Stickiness input follows AWS's rules, and errors name the field.
#[test]
fn bad_stickiness_input_names_the_field() {
    let f = "target_groups.0.stickiness";
    let cases = [
        (
            r#"{ enabled = true, duration = "0s" }"#,
            "duration",
            "1s–604800s",
        ),
        (
            r#"{ enabled = true, duration = "8d" }"#,
            "duration",
            "too long",
        ),
        (
            r#"{ enabled = true, duration = "1500ms" }"#,
            "duration",
            "whole",
        ),
        (
            r#"{ enabled = true, type = "app_cookie", cookie_name = "AWSALBAPP-1" }"#,
            "cookie_name",
            "must not start with AWSALB",
        ),
        (
            r#"{ enabled = true, type = "app_cookie" }"#,
            "cookie_name",
            "needs the application's cookie name",
        ),
        (
            r#"{ enabled = true, cookie_name = "SID" }"#,
            "cookie_name",
            "only with type = \"app_cookie\"",
        ),
    ];
    for (table, field, msg) in cases {
        let e = load_text("s.toml", &sticky(2, "1s", table, "round_robin"), &[]).unwrap_err();
        assert!(
            e.0.iter()
                .any(|e| e.field.as_deref() == Some(&format!("{f}.{field}"))
                    && e.message.contains(msg)),
            "{table}: {e}"
        );
    }
    let ok = load_text(
        "s.toml",
        &sticky(
            2,
            "1s",
            r#"{ enabled = true, type = "app_cookie", cookie_name = "SESSIONID", duration = "7d" }"#,
            "round_robin",
        ),
        &[],
    )
    .unwrap();
    assert!(ok.target_groups[0].stickiness.is_some());
    // Default: 1 day; `enabled = false` is off.
    let d = load_text(
        "s.toml",
        &sticky(2, "1s", "{ enabled = true }", "round_robin"),
        &[],
    )
    .unwrap();
    assert_eq!(
        d.target_groups[0].stickiness.as_ref().unwrap().duration,
        SimDuration::from_secs(86_400)
    );
    let off = load_text(
        "s.toml",
        &sticky(2, "1s", "{ enabled = false }", "round_robin"),
        &[],
    )
    .unwrap();
    assert!(off.target_groups[0].stickiness.is_none());
}

/// `scenarios/sticky-sessions.toml`'s headline: after the scale-out to 4 tasks the busiest
/// task stays as loaded as before (the users' cookies name the first two) while the mean
/// over the tasks halves; without stickiness every task carries the same share.
#[test]
fn sticky_sessions_scenario_a_scale_out_leaves_the_new_tasks_idle() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/sticky-sessions.toml");
    let run = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut args = vec![
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--no-report",
        ];
        args.extend_from_slice(extra);
        let o = super::cli::lbsim(&args);
        assert!(o.status.success(), "{}", super::cli::text(&o));
        super::support::read_metrics_csv(&out.join("metrics.csv"))
    };
    let last = |rows: &[BTreeMap<String, String>], c: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| r["time_s"].parse::<f64>().unwrap() >= 480.0)
            .map(|r| r[c].parse::<f64>().unwrap())
            .collect()
    };
    let sticky = run(&[]);
    for r in sticky
        .iter()
        .filter(|r| r["time_s"].parse::<f64>().unwrap() >= 480.0)
    {
        assert_eq!(r["tasks_running"], "4");
    }
    let (max, mean) = (
        last(&sticky, "cpu_utilization_max_pct"),
        last(&sticky, "cpu_utilization_mean_pct"),
    );
    for (mx, mn) in max.iter().zip(&mean) {
        assert!(*mx > 65.0, "the busiest task stays busy: {max:?}");
        assert!(
            *mn < 0.6 * mx,
            "the new tasks idle: mean {mean:?} max {max:?}"
        );
    }
    let plain = run(&["--set", "target_groups.web.stickiness.enabled=false"]);
    for (mx, mn) in last(&plain, "cpu_utilization_max_pct")
        .iter()
        .zip(&last(&plain, "cpu_utilization_mean_pct"))
    {
        assert!(*mx < 45.0 && *mx < 1.2 * mn, "spread evenly: {mx} vs {mn}");
    }
    let p99 = |rows: &[BTreeMap<String, String>]| {
        let v = last(rows, "latency_p99_ms");
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(
        p99(&sticky) > 1.8 * p99(&plain),
        "{} vs {}",
        p99(&sticky),
        p99(&plain)
    );
}
