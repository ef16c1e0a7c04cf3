//! Scenario files for health checks: target groups' `health_check` table, services'
//! `health_check_grace_period` and `health_check_request`, and `lifecycle.crash_detection`,
//! parsed, validated (AWS's ranges) and resolved into the [`WorldSpec`].

use lbsim::engine::SimDuration;
use lbsim::model::{DistSpec, HealthCheckSpec, LifecycleSpec, StepSpec, WorldSpec};
use lbsim::scenario;

use super::cli::{BASE, lbsim, text, write};
use super::support::{constant, ms, secs};

/// A valid scenario using every new field; tests replace parts of it to make it invalid.
/// Each value a test replaces appears once.
const HEALTH: &str = r#"
[simulation]
duration = "1h"

[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 100.0 }

[load_balancer]

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "api" }

[[target_groups]]
name = "api"

[target_groups.health_check]
enabled = true
path = "/health"
interval = "10s"
timeout = "3s"
healthy_threshold = 3
unhealthy_threshold = 4
matcher = "200,300-399"
initial_passes = 2

[[target_groups]]
name = "jobs"
health_check = { enabled = false, interval = "6s", matcher = "202", initial_passes = "healthy_threshold" }

[[services]]
name = "api"
target_group = "api"
desired_count = 4
request = { cpu_time = "5ms" }
health_check_grace_period = "60s"
health_check_request = { steps = [ { cpu = "1ms" }, { call = "db" }, { wait = { dist = "exponential", mean = "2ms" } } ] }
lifecycle = { crash_detection = { dist = "uniform", min = "1s", max = "9s" } }

[[services]]
name = "worker"
target_group = "jobs"
desired_count = 2
request = { cpu_time = "5ms" }
health_check_request = { steps = [] }

[services.lifecycle]
app_start = "20s"
crash_detection = "2s"

[[dependencies]]
name = "db"
latency = "10ms"
"#;

fn load(text: &str, sets: &[&str]) -> Result<WorldSpec, scenario::ScenarioErrors> {
    crate::support::load_text("health.toml", text, sets)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> u64 {
    let at = text.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
    text[..at].matches('\n').count() as u64 + 1
}

#[test]
fn every_new_field_resolves_into_the_world_spec() {
    let w = load(HEALTH, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        w.target_groups[0].health_check,
        HealthCheckSpec {
            enabled: true,
            path: "/health".into(),
            interval: secs(10),
            timeout: secs(3),
            healthy_threshold: 3,
            unhealthy_threshold: 4,
            matcher: vec![(200, 200), (300, 399)],
            initial_passes: 2,
            tcp: false,
        }
    );
    // The inline table sets some fields; the others keep AWS's defaults, and
    // "healthy_threshold" takes the (default) healthy threshold.
    assert_eq!(
        w.target_groups[1].health_check,
        HealthCheckSpec {
            enabled: false,
            interval: secs(6),
            matcher: vec![(202, 202)],
            initial_passes: 5,
            ..HealthCheckSpec::default()
        }
    );

    let api = &w.services[0];
    assert_eq!(api.health_check_grace_period, secs(60));
    let [cpu, call, wait] = &api.health_check_steps[..] else {
        panic!("{:?}", api.health_check_steps)
    };
    assert!(matches!(cpu, StepSpec::Cpu(DistSpec::Deterministic(d)) if *d == ms(1)));
    assert!(matches!(call, StepSpec::Call { dependency: 0 }));
    assert!(matches!(wait, StepSpec::Wait(DistSpec::Exponential { mean }) if *mean == ms(2)));
    assert!(matches!(
        api.lifecycle.crash_detection,
        DistSpec::Uniform { min, max } if min == secs(1) && max == secs(9)
    ));
    // The request's own profile is untouched.
    assert!(api.steps.is_empty());
    assert!(matches!(api.cpu_time, DistSpec::Deterministic(d) if d == ms(5)));

    let worker = &w.services[1];
    assert_eq!(worker.health_check_grace_period, SimDuration::ZERO);
    assert!(worker.health_check_steps.is_empty(), "steps = [] is none");
    assert_eq!(constant(&worker.lifecycle.crash_detection), Some(secs(2)));
    assert_eq!(constant(&worker.lifecycle.app_start), Some(secs(20)));
}

#[test]
fn absent_fields_take_the_spec_defaults() {
    let w = load(BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
    let d = HealthCheckSpec::default();
    assert_eq!(w.target_groups[0].health_check, d);
    // AWS's defaults, and one pass for a new target.
    assert!(d.enabled);
    assert_eq!(d.path, "/");
    assert_eq!((d.interval, d.timeout), (secs(30), secs(5)));
    assert_eq!((d.healthy_threshold, d.unhealthy_threshold), (5, 2));
    assert_eq!(d.matcher, vec![(200, 200)]);
    assert_eq!(d.initial_passes, 1);
    let s = &w.services[0];
    assert_eq!(s.health_check_grace_period, SimDuration::ZERO);
    assert!(s.health_check_steps.is_empty());
    assert_eq!(
        constant(&s.lifecycle.crash_detection),
        constant(&LifecycleSpec::default().crash_detection)
    );
    assert_eq!(constant(&s.lifecycle.crash_detection), Some(secs(5)));
    // Empty tables are the defaults too.
    let w = load(
        HEALTH,
        &[
            "target_groups.0.health_check={}",
            "services.0.health_check_request={}",
            "services.0.lifecycle={}",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[0].health_check, d);
    assert!(w.services[0].health_check_steps.is_empty());
    assert_eq!(
        constant(&w.services[0].lifecycle.crash_detection),
        Some(secs(5))
    );
}

#[test]
fn the_edges_of_the_ranges_are_allowed() {
    let long_path = format!("/{}", "a".repeat(1023));
    let path_set = format!("target_groups.0.health_check.path=\"{long_path}\"");
    let w = load(
        HEALTH,
        &[
            "target_groups.0.health_check.interval=300s",
            "target_groups.0.health_check.timeout=120s",
            "target_groups.0.health_check.healthy_threshold=10",
            "target_groups.0.health_check.unhealthy_threshold=2",
            "target_groups.0.health_check.initial_passes=10",
            "target_groups.0.health_check.matcher=200-499",
            &path_set,
            "target_groups.1.health_check.interval=5s",
            "target_groups.1.health_check.timeout=4s",
            "target_groups.1.health_check.healthy_threshold=2",
            "target_groups.1.health_check.unhealthy_threshold=10",
            "target_groups.1.health_check.initial_passes=1",
            // A bare integer (TOML reads `200` as one) is the code.
            "target_groups.1.health_check.matcher=499",
            "services.0.health_check_grace_period=2147483647s",
            "services.1.health_check_grace_period=0s",
            "services.0.lifecycle.crash_detection=1h",
            "services.1.lifecycle.crash_detection=0s",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let h = &w.target_groups[0].health_check;
    assert_eq!((h.interval, h.timeout), (secs(300), secs(120)));
    assert_eq!((h.healthy_threshold, h.unhealthy_threshold), (10, 2));
    assert_eq!(h.initial_passes, 10);
    assert_eq!(h.matcher, vec![(200, 499)]);
    assert_eq!(h.path.len(), 1024);
    let h = &w.target_groups[1].health_check;
    assert_eq!((h.interval, h.timeout), (secs(5), secs(4)));
    assert_eq!((h.healthy_threshold, h.unhealthy_threshold), (2, 10));
    assert_eq!(h.initial_passes, 1);
    assert_eq!(h.matcher, vec![(499, 499)]);
    assert_eq!(w.services[0].health_check_grace_period, secs(2_147_483_647));
    assert_eq!(w.services[1].health_check_grace_period, SimDuration::ZERO);
    assert_eq!(
        constant(&w.services[0].lifecycle.crash_detection),
        Some(secs(3600))
    );
    assert_eq!(
        constant(&w.services[1].lifecycle.crash_detection),
        Some(SimDuration::ZERO)
    );
    // initial_passes = "healthy_threshold" follows the group's healthy threshold.
    let w = load(
        HEALTH,
        &["target_groups.jobs.health_check.healthy_threshold=7"],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[1].health_check.initial_passes, 7);
    // Matcher lists and ranges, with spaces.
    let w = load(
        HEALTH,
        &["target_groups.0.health_check.matcher=\"200, 202, 204-206\""],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        w.target_groups[0].health_check.matcher,
        vec![(200, 200), (202, 202), (204, 206)]
    );
}

#[test]
fn overrides_reach_the_new_fields_by_index_and_name() {
    let w = load(
        HEALTH,
        &[
            "target_groups.0.health_check.interval=10s",
            "target_groups.jobs.health_check.enabled=true",
            "target_groups.jobs.health_check.initial_passes=3",
            "services.0.health_check_grace_period=60s",
            "services.worker.health_check_grace_period=5m",
            "services.worker.health_check_request.steps=[{ call = \"db\" }]",
            "services.worker.lifecycle.crash_detection=30s",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[0].health_check.interval, secs(10));
    assert!(w.target_groups[1].health_check.enabled);
    assert_eq!(w.target_groups[1].health_check.initial_passes, 3);
    assert_eq!(w.services[0].health_check_grace_period, secs(60));
    assert_eq!(w.services[1].health_check_grace_period, secs(300));
    assert!(matches!(
        w.services[1].health_check_steps[..],
        [StepSpec::Call { dependency: 0 }]
    ));
    assert_eq!(
        constant(&w.services[1].lifecycle.crash_detection),
        Some(secs(30))
    );
    // On the base scenario, which has no health check tables: --set creates them.
    let w = load(
        BASE,
        &[
            "target_groups.0.health_check.interval=10s",
            "services.0.health_check_grace_period=60s",
            "services.0.health_check_request.steps=[{ wait = \"1ms\" }]",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[0].health_check.interval, secs(10));
    assert_eq!(
        w.target_groups[0].health_check.timeout,
        secs(5),
        "the rest is AWS's defaults"
    );
    assert_eq!(w.services[0].health_check_grace_period, secs(60));
    assert_eq!(w.services[0].health_check_steps.len(), 1);
    // A bad override is reported as set on the command line.
    let e = load(HEALTH, &["target_groups.0.health_check.interval=301s"]).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert_eq!(e.0[0].line, None, "{e}");
    assert!(
        e.to_string().contains(
            "target_groups.0.health_check.interval: 301s: too long; allowed 5s–300s in whole seconds (AWS HealthCheckIntervalSeconds) (set by --set target_groups.0.health_check.interval=301s)"
        ),
        "{e}"
    );
}

/// Each bad value, written into the file, is one problem naming the file, the line, the field
/// (dotted path) and the allowed range.
#[test]
fn bad_values_name_the_file_line_field_and_allowed_range() {
    let long_path = format!("path = \"/{}\"", "a".repeat(1024));
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            r#"interval = "10s""#,
            r#"interval = "4s""#,
            "target_groups.0.health_check.interval",
            "4s: too short; allowed 5s–300s in whole seconds (AWS HealthCheckIntervalSeconds)",
        ),
        (
            r#"interval = "10s""#,
            r#"interval = "301s""#,
            "target_groups.0.health_check.interval",
            "301s: too long; allowed 5s–300s in whole seconds (AWS HealthCheckIntervalSeconds)",
        ),
        (
            r#"interval = "10s""#,
            r#"interval = "1.5s""#,
            "target_groups.0.health_check.interval",
            "1.5s: too short, and not a whole number of seconds; allowed 5s–300s in whole seconds",
        ),
        (
            r#"interval = "10s""#,
            r#"interval = "10.5s""#,
            "target_groups.0.health_check.interval",
            "10.5s: not a whole number of seconds (AWS takes an integer); allowed 5s–300s in whole seconds",
        ),
        (
            r#"interval = "10s""#,
            r#"interval = "-10s""#,
            "target_groups.0.health_check.interval",
            "-10s: negative; allowed 5s–300s in whole seconds",
        ),
        (
            r#"interval = "10s""#,
            r#"interval = "10""#,
            "target_groups.0.health_check.interval",
            "\"10\" has no unit",
        ),
        (
            r#"timeout = "3s""#,
            r#"timeout = "10s""#,
            "target_groups.0.health_check.timeout",
            "10s is not less than interval = 10s: AWS rejects a health check timeout ≥ its interval; allowed 2s–120s in whole seconds, and less than the interval",
        ),
        (
            r#"timeout = "3s""#,
            r#"timeout = "15s""#,
            "target_groups.0.health_check.timeout",
            "15s is not less than interval = 10s: AWS rejects a health check timeout ≥ its interval",
        ),
        (
            r#"timeout = "3s""#,
            r#"timeout = "1s""#,
            "target_groups.0.health_check.timeout",
            "1s: too short; allowed 2s–120s in whole seconds (AWS HealthCheckTimeoutSeconds, and less than the interval)",
        ),
        (
            r#"timeout = "3s""#,
            r#"timeout = "121s""#,
            "target_groups.0.health_check.timeout",
            "121s: too long; allowed 2s–120s in whole seconds",
        ),
        (
            r#"interval = "6s""#,
            r#"interval = "5s""#,
            "target_groups.1.health_check.interval",
            "5s is not more than timeout = 5s (its default): AWS rejects a health check timeout ≥ its interval; allowed 5s–300s in whole seconds, and more than the timeout",
        ),
        (
            "healthy_threshold = 3",
            "healthy_threshold = 1",
            "target_groups.0.health_check.healthy_threshold",
            "1: allowed 2–10 (AWS HealthyThresholdCount)",
        ),
        (
            "healthy_threshold = 3",
            "healthy_threshold = 11",
            "target_groups.0.health_check.healthy_threshold",
            "11: allowed 2–10 (AWS HealthyThresholdCount)",
        ),
        (
            "healthy_threshold = 3",
            "healthy_threshold = -1",
            "target_groups.0.health_check.healthy_threshold",
            "-1: allowed 2–10 (AWS HealthyThresholdCount)",
        ),
        (
            "unhealthy_threshold = 4",
            "unhealthy_threshold = 1",
            "target_groups.0.health_check.unhealthy_threshold",
            "1: allowed 2–10 (AWS UnhealthyThresholdCount)",
        ),
        (
            "unhealthy_threshold = 4",
            "unhealthy_threshold = 11",
            "target_groups.0.health_check.unhealthy_threshold",
            "11: allowed 2–10 (AWS UnhealthyThresholdCount)",
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = "600""#,
            "target_groups.0.health_check.matcher",
            "\"600\": 600 is not a code from 200 to 499; allowed: HTTP codes 200–499 written like \"200\", \"200,202\", \"200-299\" or \"200,300-399\" (AWS Matcher.HttpCode)",
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = "200,abc""#,
            "target_groups.0.health_check.matcher",
            "\"200,abc\": \"abc\" is not an HTTP code; allowed: HTTP codes 200–499",
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = "300-200""#,
            "target_groups.0.health_check.matcher",
            "\"300-200\": the range \"300-200\" is reversed: its first code must not be above its last; allowed: HTTP codes 200–499",
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = "200-600""#,
            "target_groups.0.health_check.matcher",
            "\"200-600\": 600 is not a code from 200 to 499",
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = "200,""#,
            "target_groups.0.health_check.matcher",
            "\"200,\": an empty part between commas",
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = """#,
            "target_groups.0.health_check.matcher",
            "\"\": no codes; allowed: HTTP codes 200–499",
        ),
        (
            r#"matcher = "200,300-399""#,
            "matcher = 2.5",
            "target_groups.0.health_check.matcher",
            "expected HTTP codes like \"200\", \"200,202\" or \"200-299\", found 2.5",
        ),
        (
            r#"path = "/health""#,
            r#"path = "health""#,
            "target_groups.0.health_check.path",
            "\"health\" does not start with \"/\"; allowed: a path starting with \"/\", at most 1024 characters (AWS HealthCheckPath)",
        ),
        (
            r#"path = "/health""#,
            &long_path,
            "target_groups.0.health_check.path",
            "1025 characters: too long; allowed: a path starting with \"/\", at most 1024 characters",
        ),
        (
            "initial_passes = 2",
            "initial_passes = 0",
            "target_groups.0.health_check.initial_passes",
            "0: allowed 1–10 or \"healthy_threshold\" (passes a new target needs: an lbsim parameter)",
        ),
        (
            "initial_passes = 2",
            "initial_passes = 11",
            "target_groups.0.health_check.initial_passes",
            "11: allowed 1–10 or \"healthy_threshold\"",
        ),
        (
            "initial_passes = 2",
            r#"initial_passes = "nonsense""#,
            "target_groups.0.health_check.initial_passes",
            "\"nonsense\": allowed 1–10 or \"healthy_threshold\"",
        ),
        (
            "initial_passes = 2",
            "initial_passes = 1.5",
            "target_groups.0.health_check.initial_passes",
            "expected a number of passes 1–10 or \"healthy_threshold\", found 1.5",
        ),
        (
            "enabled = true",
            r#"enabled = "yes""#,
            "target_groups.0.health_check.enabled",
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            "enabled = true",
            r#"port = "traffic-port""#,
            "target_groups.0.health_check.port",
            "unknown field `port`, expected one of `protocol`, `enabled`, `path`, `interval`, `timeout`, `healthy_threshold`, `unhealthy_threshold`, `matcher`, `initial_passes`",
        ),
        (
            r#"health_check_grace_period = "60s""#,
            r#"health_check_grace_period = "-5s""#,
            "services.0.health_check_grace_period",
            "-5s: negative; allowed 0s–2147483647s in whole seconds (ECS healthCheckGracePeriodSeconds)",
        ),
        (
            r#"health_check_grace_period = "60s""#,
            r#"health_check_grace_period = "2147483648s""#,
            "services.0.health_check_grace_period",
            "2147483648s: too long; allowed 0s–2147483647s in whole seconds (ECS healthCheckGracePeriodSeconds)",
        ),
        (
            r#"health_check_grace_period = "60s""#,
            r#"health_check_grace_period = "90000d""#,
            "services.0.health_check_grace_period",
            "7776000000s: too long; allowed 0s–2147483647s in whole seconds",
        ),
        (
            r#"health_check_grace_period = "60s""#,
            r#"health_check_grace_period = "1.5s""#,
            "services.0.health_check_grace_period",
            "1.5s: not a whole number of seconds (AWS takes an integer); allowed 0s–2147483647s in whole seconds",
        ),
        (
            r#"{ call = "db" }"#,
            r#"{ call = "cache" }"#,
            "services.0.health_check_request.steps.1.call",
            "no dependency is named \"cache\" (defined: db)",
        ),
        (
            r#"{ call = "db" }"#,
            r#"{ call = "db", cpu = "1ms" }"#,
            "services.0.health_check_request.steps.1",
            "a step is one of { cpu = ... }, { wait = ... }, { call = \"DEPENDENCY\" }; this one has cpu and call",
        ),
        (
            "health_check_request = { steps = [] }",
            r#"health_check_request = { cpu_time = "1ms" }"#,
            "services.1.health_check_request.cpu_time",
            "unknown field `cpu_time`, expected `steps`",
        ),
        (
            r#"crash_detection = "2s""#,
            r#"crash_detection = "2h""#,
            "services.1.lifecycle.crash_detection",
            "2h: must be ≥ 0 and ≤ 1h (lbsim caps each lifecycle phase at 1 hour)",
        ),
        (
            r#"crash_detection = "2s""#,
            r#"crash_detection = "-2s""#,
            "services.1.lifecycle.crash_detection",
            "\"-2s\" is negative; durations are ≥ 0",
        ),
        (
            r#"max = "9s""#,
            r#"max = "61m""#,
            "services.0.lifecycle.crash_detection.max",
            "1h 1m: must be ≥ 0 and ≤ 1h (lbsim caps each lifecycle phase at 1 hour)",
        ),
    ];
    for (from, to, field, want) in cases {
        assert_eq!(HEALTH.matches(from).count(), 1, "HEALTH has {from} once");
        let text = HEALTH.replacen(from, to, 1);
        let e = load(&text, &[]).unwrap_err();
        assert_eq!(e.0.len(), 1, "{to}: one problem only: {e}");
        let e = &e.0[0];
        assert_eq!(e.file, std::path::Path::new("health.toml"), "{to}: {e}");
        assert_eq!(e.line, Some(line_of(&text, to)), "{to}: {e}");
        assert_eq!(e.field.as_deref(), Some(*field), "{to}: {e}");
        assert!(e.message.contains(want), "{to}: expected {want:?} in {e}");
    }
    // Too many health check steps.
    let steps = vec!["{ cpu = \"1ms\" }"; 65].join(", ");
    let e = load(
        HEALTH,
        &[&format!("services.0.health_check_request.steps=[{steps}]")],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "services.0.health_check_request.steps: 65 steps: a request needs 0–64 steps"
        ),
        "{e}"
    );
}

#[test]
fn bad_health_check_values_are_clear_errors_with_the_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "health.toml", HEALTH);
    let o = lbsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let cases: &[(&str, &str, &[&str])] = &[
        (
            r#"interval = "10s""#,
            r#"interval = "4s""#,
            &["target_groups.0.health_check.interval", "allowed 5s–300s"],
        ),
        (
            r#"matcher = "200,300-399""#,
            r#"matcher = "abc""#,
            &[
                "target_groups.0.health_check.matcher",
                "\"abc\" is not an HTTP code",
            ],
        ),
        (
            "initial_passes = \"healthy_threshold\"",
            "initial_passes = \"nonsense\"",
            &[
                "target_groups.1.health_check.initial_passes",
                "allowed 1–10 or \"healthy_threshold\"",
            ],
        ),
        (
            r#"health_check_grace_period = "60s""#,
            r#"health_check_grace_period = "-1s""#,
            &[
                "services.0.health_check_grace_period",
                "negative; allowed 0s–2147483647s",
            ],
        ),
    ];
    for (from, to, wants) in cases {
        let bad = HEALTH.replacen(from, to, 1);
        let sc = write(&dir, "bad.toml", &bad);
        let o = lbsim(&["validate", sc.to_str().unwrap()]);
        let t = text(&o);
        let at = format!("bad.toml:{}: ", line_of(&bad, to));
        assert!(t.contains(&at), "{to}: expected {at:?} in:\n{t}");
        assert_eq!(o.status.code(), Some(2), "{to}: {t}");
        assert!(!t.contains("panicked"), "{to}: {t}");
        assert!(t.contains("bad.toml"), "{to}: {t}");
        assert!(t.contains("(1 problem)"), "{to}: one problem only: {t}");
        for w in *wants {
            assert!(t.contains(w), "{to}: expected {w:?} in:\n{t}");
        }
    }
    // --set on the command line.
    let o = lbsim(&[
        "validate",
        sc.to_str().unwrap(),
        "--set",
        "target_groups.0.health_check.interval=10s",
        "--set",
        "services.0.health_check_grace_period=60s",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn the_schema_describes_the_new_fields() {
    let s = lbsim::scenario::file::schema();
    let text = s.to_string();
    for w in [
        "health_check",
        "healthy_threshold",
        "unhealthy_threshold",
        "matcher",
        "initial_passes",
        "health_check_grace_period",
        "health_check_request",
        "crash_detection",
    ] {
        assert!(text.contains(w), "{w}");
    }
}
