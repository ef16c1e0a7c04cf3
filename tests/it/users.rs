//! Closed-loop users (`arrivals = { process = "closed_loop", ... }`): the throughput follows
//! the interactive response-time law X = N / (R + Z̄), slow responses lower the offered
//! load, sessions end and start over, and bad input names its field.

use lbsim::engine::SimTime;
use lbsim::model::{Cause, Observer, Request, Simulation};

use super::support::{Estimate, load_text};

/// A closed-loop scenario: `users` users thinking `think` (exponential), `tasks` tasks of
/// 1 vCPU, CPU time exponential with mean `cpu`.
fn closed_loop(users: u32, think: &str, tasks: u32, cpu: &str, seed: u64) -> String {
    format!(
        r#"
[simulation]
name = "closed"
duration = "6m"
warmup = "1m"
seed = {seed}

[[clients]]
name = "users"
arrivals = {{ process = "closed_loop", users = {users}, think_time = {{ dist = "exponential", mean = "{think}" }}, session_length = {{ dist = "exponential", mean = 10 }} }}
rtt = "20ms"

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "web" }}

[[target_groups]]
name = "web"

[[services]]
name = "web"
target_group = "web"
desired_count = {tasks}
task = {{ cpu = 1024, memory = 2048 }}
request = {{ cpu_time = {{ dist = "exponential", mean = "{cpu}" }} }}
"#
    )
}

/// (throughput, mean latency s) of a run, read from its summary.json.
fn run_summary(scenario: &str) -> (f64, f64, serde_json::Value) {
    let s = super::cli::run_summary_json(scenario);
    let x = s["throughput_rps"].as_f64().unwrap();
    let r = s["latency_ms"]["mean"].as_f64().unwrap() / 1e3;
    (x, r, s)
}

/// The interactive response-time law, X = N / (R + Z̄) (Little's law over the users' whole
/// cycle), holds within a confidence interval over 4 seeds, lightly loaded (R ≪ Z̄) and
/// saturated (the fleet's capacity, not the users, sets X; R grows so that N / (R + Z̄)
/// still equals X). R is the mean response time a user sees (round trip included).
#[test]
fn closed_loop_throughput_follows_the_response_time_law() {
    // (users, think, mean think s, tasks, cpu)
    let cases = [(50, "2s", 2.0, 2, "50ms"), (40, "500ms", 0.5, 1, "20ms")];
    for (n, think, z, tasks, cpu) in cases {
        let runs: Vec<(f64, f64)> = (1..=4)
            .map(|seed| {
                let (x, r, s) = run_summary(&closed_loop(n, think, tasks, cpu, seed));
                assert_eq!(
                    s["requests"]["by_outcome"]["ok"].as_u64().unwrap(),
                    s["requests"]["arrived"].as_u64().unwrap()
                        - s["requests"]["in_flight_at_end"].as_u64().unwrap(),
                    "every response is ok"
                );
                (x, r)
            })
            .collect();
        // The ratio X·(R + Z̄)/N of each replication; its mean is 1 within 4 standard
        // errors plus 1 % (the requests still in flight at the end are not counted).
        let ratio = Estimate::of(runs.iter().map(|(x, r)| x * (r + z) / f64::from(n)));
        assert!(
            (ratio.mean - 1.0).abs() <= 4.0 * ratio.se + 0.01,
            "N={n} Z={think}: X·(R+Z)/N = {} ± {} (runs {runs:?})",
            ratio.mean,
            ratio.se
        );
        if tasks == 1 {
            // Saturated: the users would send N/Z = 80/s, the task serves at most 50/s.
            let x = runs.iter().map(|r| r.0).sum::<f64>() / runs.len() as f64;
            assert!(x < 52.0, "slow responses lower the offered load: X = {x}");
            let r = runs.iter().map(|r| r.1).sum::<f64>() / runs.len() as f64;
            assert!(r > 0.2, "R = {r}");
        }
    }
}

/// Records each request's user (its session) and when its session's requests arrive.
#[derive(Default)]
struct Users {
    /// (arrival, session) of every request.
    arrivals: Vec<(SimTime, u32)>,
    /// (end, session) of every request.
    ends: Vec<(SimTime, u32, Cause)>,
}

impl Observer for Users {
    fn request_arrived(&mut self, now: SimTime, r: &Request) {
        self.arrivals.push((now, r.session));
    }
    fn request_finished(&mut self, now: SimTime, r: &Request, c: Cause) {
        self.ends.push((now, r.session, c));
    }
}

/// A user never has two requests in flight: each of its requests arrives at least its
/// round trip after the previous one ended (think time 0 here: exactly the round trip);
/// users start staggered over [0, Z̄); sessions of 3 requests start over (counted by the
/// users' state).
#[test]
fn a_user_sends_its_next_request_after_the_response_and_its_think_time() {
    let scenario = r#"
[simulation]
duration = "30s"
seed = 5

[[clients]]
name = "u"
arrivals = { process = "closed_loop", users = 5, think_time = "1s", session_length = 3 }
rtt = "40ms"

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "web" }

[[target_groups]]
name = "web"

[[services]]
name = "web"
target_group = "web"
desired_count = 1
request = { cpu_time = "10ms" }
"#;
    let spec = load_text("u.toml", scenario, &[]).unwrap();
    let mut sim = Simulation::new(&spec, Users::default()).unwrap();
    sim.run();
    let sessions = sim.world().clients()[0].users().unwrap().sessions_started;
    let o = sim.into_observer();
    // Staggered: every first arrival in [0, 1 s), not all at once.
    let firsts: Vec<SimTime> = (0..5)
        .map(|u| o.arrivals.iter().find(|a| a.1 == u).unwrap().0)
        .collect();
    assert!(firsts.iter().all(|t| t.as_secs_f64() < 1.0), "{firsts:?}");
    assert!(firsts.windows(2).any(|w| w[0] != w[1]), "{firsts:?}");
    for u in 0..5u32 {
        let arr: Vec<SimTime> = o
            .arrivals
            .iter()
            .filter(|a| a.1 == u)
            .map(|a| a.0)
            .collect();
        let end: Vec<SimTime> = o.ends.iter().filter(|e| e.1 == u).map(|e| e.0).collect();
        assert!(arr.len() > 20, "user {u}: {} requests", arr.len());
        for (i, w) in arr.windows(2).enumerate() {
            // Next arrival = previous end + rtt (40 ms) + think (1 s).
            let want = end[i].as_secs_f64() + 1.040;
            assert!(
                (w[1].as_secs_f64() - want).abs() < 1e-6,
                "user {u} request {i}: next at {} want {want}",
                w[1].as_secs_f64()
            );
        }
    }
    // Sessions of 3 requests: user u with n requests started ⌈n / 3⌉ sessions.
    let want: u64 = (0..5u32)
        .map(|u| (o.arrivals.iter().filter(|a| a.1 == u).count() as u64).div_ceil(3))
        .sum();
    assert_eq!(sessions, want);
}

/// Bad closed-loop and session input names its field and range.
#[test]
fn bad_user_and_session_input_names_the_field() {
    let base = closed_loop(10, "1s", 1, "10ms", 1);
    let cases = [
        (
            "users = 10",
            "users = 0",
            "clients.0.arrivals.users",
            "1–1000000",
        ),
        (
            "session_length = { dist = \"exponential\", mean = 10 }",
            "session_length = 0.2",
            "clients.0.arrivals.session_length",
            "≥ 1",
        ),
        (
            "rtt = \"20ms\"",
            "rtt = \"20ms\"\nsessions = { count = 5 }",
            "clients.0.sessions",
            "closed-loop users are sessions already",
        ),
    ];
    for (from, to, field, msg) in cases {
        let text = base.replace(from, to);
        assert_ne!(text, base, "{from}");
        let e = load_text("c.toml", &text, &[]).unwrap_err();
        assert!(
            e.0.iter()
                .any(|e| e.field.as_deref() == Some(field) && e.message.contains(msg)),
            "{to}: {e}"
        );
    }
    // An open-loop client takes sessions; a bad count is named.
    let open = base.replace(
        "arrivals = { process = \"closed_loop\", users = 10, think_time = { dist = \"exponential\", mean = \"1s\" }, session_length = { dist = \"exponential\", mean = 10 } }",
        "arrivals = { process = \"poisson\", rate_rps = 5 }\nsessions = { count = 0 }",
    );
    let e = load_text("c.toml", &open, &[]).unwrap_err();
    assert_eq!(
        e.0[0].field.as_deref(),
        Some("clients.0.sessions.count"),
        "{e}"
    );
}

/// The work estimate bounds a closed loop by N / Z̄.
#[test]
fn the_estimate_bounds_a_closed_loop_by_users_over_think_time() {
    let spec = load_text("c.toml", &closed_loop(50, "2s", 2, "50ms", 1), &[]).unwrap();
    let e = lbsim::model::estimate::estimate(&spec);
    assert!((e.peak_rate_rps - 25.0).abs() < 1e-9, "{e:?}");
    assert!((e.requests - 25.0 * 360.0).abs() < 1.0, "{e:?}");
}
