//! Target-group stickiness of a weighted forward (`stickiness = { enabled, duration }` on a
//! `forward` with `target_groups`, cookie `AWSALBTG`), through the per-target-group request
//! counts of `summary.json` and `metrics.csv`: a session stays in the group it was first
//! sent to; without stickiness, or once its cookie is older than `duration`, the weights
//! pick every request; a group whose weight drops to 0 (a blue/green shift) releases the
//! sessions stuck to it.
//!
//! **The world.** Two target groups `a` and `b` (two tasks each, 5 ms of CPU a request)
//! behind the default action's weighted forward; closed-loop users with a constant think
//! time, one session each for the whole run.

use lbsim::metrics::Recorder;
use lbsim::model::Simulation;
use serde_json::Value;

use crate::support::{f, load_text};

/// The world above: `users` users thinking `think`, weights `wa`/`wb`, `stickiness` (a TOML
/// inline table, or "" for none), for `duration`, with `seed`.
fn world(users: u32, think: &str, wa: u32, wb: u32, stickiness: &str, seed: u64) -> String {
    let st = if stickiness.is_empty() {
        String::new()
    } else {
        format!(", stickiness = {stickiness}")
    };
    format!(
        r#"
[simulation]
name = "gs"
duration = "10m"
seed = {seed}

[[clients]]
name = "u"
arrivals = {{ process = "closed_loop", users = {users}, think_time = "{think}" }}
rtt = "10ms"

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_groups = [{{ target_group = "a", weight = {wa} }}, {{ target_group = "b", weight = {wb} }}]{st} }}

[[target_groups]]
name = "a"

[[target_groups]]
name = "b"

[[services]]
name = "a"
target_group = "a"
desired_count = 2
request = {{ cpu_time = "5ms" }}

[[services]]
name = "b"
target_group = "b"
desired_count = 2
request = {{ cpu_time = "5ms" }}
"#
    )
}

const STICKY_1H: &str = r#"{ enabled = true, duration = "1h" }"#;

/// Runs scenario text `text` with the recorder in memory; returns `summary.json`.
fn run(text: &str) -> Value {
    let spec = load_text("gs.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    serde_json::to_value(sim.into_observer().finish().unwrap().0).unwrap()
}

/// Requests that arrived for groups `a` and `b` (`target_groups[].requests.arrived`).
fn per_group(s: &Value) -> (f64, f64) {
    let g = |name: &str| {
        let g = s["target_groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap();
        f(&g["requests"]["arrived"])
    };
    (g("a"), g("b"))
}

/// One user is one session: with stickiness on, every request of a run lands in the group
/// its first request drew (each group is the first draw in some runs); without stickiness,
/// or with it disabled, the 50/50 weights spread each run's requests over both groups.
#[test]
fn a_session_stays_in_the_group_it_was_first_sent_to() {
    let mut first = [0u32; 2];
    for seed in 1..=8 {
        let (a, b) = per_group(&run(&world(1, "1s", 50, 50, STICKY_1H, seed)));
        assert!(a + b > 500.0, "seed {seed}: {a} + {b} requests");
        assert!(
            a == 0.0 || b == 0.0,
            "seed {seed}: sticky, yet a {a}, b {b}"
        );
        first[usize::from(a == 0.0)] += 1;
        for off in ["", r#"{ enabled = false, duration = "1h" }"#] {
            let (a, b) = per_group(&run(&world(1, "1s", 50, 50, off, seed)));
            let share = b / (a + b);
            assert!(
                (0.4..0.6).contains(&share),
                "seed {seed}, stickiness {off:?}: b's share {share}"
            );
        }
    }
    assert!(
        first[0] > 0 && first[1] > 0,
        "the first draw is the weights': {first:?}"
    );
}

/// A cookie younger than `duration` keeps the session in its group; one older (the user
/// thinks 3 s, the cookie lasts 1 s) has expired at every request, so the weights pick
/// every request exactly as without stickiness (the same keyed draw).
#[test]
fn a_cookie_older_than_its_duration_has_no_effect() {
    let plain = per_group(&run(&world(1, "3s", 50, 50, "", 3)));
    assert!(plain.0 > 50.0 && plain.1 > 50.0, "{plain:?}");
    let short = per_group(&run(&world(
        1,
        "3s",
        50,
        50,
        r#"{ enabled = true, duration = "1s" }"#,
        3,
    )));
    assert_eq!(short, plain, "a 1 s cookie, 3 s between requests");
    let long = per_group(&run(&world(
        1,
        "3s",
        50,
        50,
        r#"{ enabled = true, duration = "4s" }"#,
        3,
    )));
    assert!(
        (long.0 == 0.0 || long.1 == 0.0) && long.0 + long.1 == plain.0 + plain.1,
        "a 4 s cookie, renewed every 3 s: {long:?} (without: {plain:?})"
    );
}

/// A new session starts with no cookie: one user whose sessions are 5 requests long keeps
/// each session in one group (so at least one group's count, the one the last, possibly
/// unfinished, session did not go to, is a multiple of 5) but its sessions are spread over
/// both groups.
#[test]
fn a_new_session_starts_without_a_cookie() {
    let text = world(1, "1s", 50, 50, STICKY_1H, 6).replace(
        r#"think_time = "1s" }"#,
        r#"think_time = "1s", session_length = 5 }"#,
    );
    let (a, b) = per_group(&run(&text));
    assert!(a > 100.0 && b > 100.0, "a {a}, b {b}");
    assert!(a % 5.0 == 0.0 || b % 5.0 == 0.0, "a {a}, b {b}");
}

/// Requests without a session are never sticky: next to a closed-loop user (whose session
/// sticks to one group), an open-loop Poisson client without `sessions` still has its
/// requests split by the weights (about 6000 to each group).
#[test]
fn requests_without_a_session_are_not_sticky() {
    let text = world(1, "1s", 50, 50, STICKY_1H, 4)
        + r#"
[[clients]]
name = "p"
arrivals = { process = "poisson", rate_rps = 20 }
rtt = "10ms"
"#;
    let (a, b) = per_group(&run(&text));
    assert!(a > 5_000.0 && b > 5_000.0, "a {a}, b {b}");
    // The user's 600-odd requests all went one way: the counts differ by about that.
    assert!((a - b).abs() > 300.0, "a {a}, b {b}");
}

/// A blue/green linear shift (25 % more to green every 2 minutes) with 100 users in long
/// sessions: without stickiness green's share of each minute's arrivals (`metrics.csv`)
/// follows the weights; with it, the sessions stay where their first request went (about
/// 25 % on green, drawn while the weights were 75/25) until blue's weight drops to 0 at
/// 6 minutes, which releases them all to green.
#[test]
fn a_weight_of_zero_releases_the_sessions_stuck_to_the_group() {
    let text = |stickiness: &str| {
        world(100, "1s", 100, 0, stickiness, 5)
            .replace("name = \"a\"", "name = \"blue\"")
            .replace("name = \"b\"", "name = \"green\"")
            .replace("target_group = \"a\"", "target_group = \"blue\"")
            .replace("target_group = \"b\"", "target_group = \"green\"")
            .replace(
                "duration = \"10m\"",
                "duration = \"8m\"\nmetrics_interval = \"1m\"",
            )
            + r#"
[[blue_green]]
blue_service = "blue"
green_service = "green"
deployment_config = { type = "linear", percent = 25, interval = "2m" }
"#
    };
    let shares = |stickiness: &str| {
        let dir = tempfile::tempdir().unwrap();
        let (summary, _, metrics) =
            crate::support::run_recorded("gs.toml", &text(stickiness), &[], dir.path());
        assert_eq!(f(&summary["blue_green"][0]["shifted_s"]), 360.0);
        let mut per_minute = std::collections::BTreeMap::<u64, (f64, f64)>::new();
        for row in metrics {
            let t = row["time_s"].parse::<f64>().unwrap() as u64;
            let n: f64 = row["arrivals"].parse().unwrap();
            let e = per_minute.entry(t).or_default();
            match row["target_group"].as_str() {
                "blue" => e.0 += n,
                "green" => e.1 += n,
                _ => {}
            }
        }
        per_minute
            .into_iter()
            .map(|(t, (b, g))| (t, g / (b + g)))
            .collect::<Vec<_>>()
    };
    let plain = shares("");
    for (t, want) in [(60, 0.25), (180, 0.5), (300, 0.75), (420, 1.0)] {
        let got = plain.iter().find(|(m, _)| *m == t).unwrap().1;
        assert!(
            (got - want).abs() < 0.05,
            "no stickiness, minute {t}: {got}"
        );
    }
    let sticky = shares(STICKY_1H);
    let start = sticky[0].1;
    assert!((0.15..0.35).contains(&start), "first minute: {start}");
    for &(t, got) in &sticky {
        if t < 360 {
            assert!(
                (got - start).abs() < 0.02,
                "sticky, minute {t}: green's share {got}, {start} at the start: {sticky:?}"
            );
        } else {
            assert_eq!(got, 1.0, "blue's weight is 0 from 360 s: {sticky:?}");
        }
    }
}
