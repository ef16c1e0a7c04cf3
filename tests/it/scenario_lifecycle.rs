//! Scenario files for tasks that come and go: target groups' `deregistration_delay`,
//! services' `lifecycle` phases and `stop_timeout`, and `task_crash` faults, parsed,
//! validated and resolved into the [`WorldSpec`].

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::{DEFAULT_DEREGISTRATION_DELAY, DistSpec, FaultKind, LifecycleSpec, WorldSpec};
use lbsim::scenario;

use super::cli::{BASE, lbsim, text, write};
use super::support::{constant, ms, secs};

/// A valid scenario using every new field; tests replace parts of it to make it invalid.
const LIFE: &str = r#"
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
deregistration_delay = "30s"

[[target_groups]]
name = "jobs"
deregistration_delay = "0s"

[[services]]
name = "api"
target_group = "api"
desired_count = 4
request = { cpu_time = "5ms" }

[services.lifecycle]
provisioning = { dist = "uniform", min = "10s", max = "40s" }
pending = { dist = "lognormal", mean = "40s", cv = 0.5 }
activating = "3s"
app_start = { dist = "exponential", mean = "20s" }
shutdown = "1s"
stop_timeout = "60s"
deprovisioning = { dist = "deterministic", value = "8s" }

[[services]]
name = "worker"
target_group = "jobs"
desired_count = 2
request = { cpu_time = "5ms" }
lifecycle = { app_start = "45s" }

[[faults]]
type = "task_crash"
service = "worker"
task = 1
at = "20m"

[[faults]]
type = "task_crash"
service = "api"
at = "30m"
"#;

fn load(text: &str, sets: &[&str]) -> Result<WorldSpec, scenario::ScenarioErrors> {
    crate::support::load_text("life.toml", text, sets)
}

/// True when `l` has the field values of [`LifecycleSpec::default`].
fn is_default(l: &LifecycleSpec) -> bool {
    let d = LifecycleSpec::default();
    [
        (&l.provisioning, &d.provisioning),
        (&l.pending, &d.pending),
        (&l.activating, &d.activating),
        (&l.app_start, &d.app_start),
        (&l.shutdown, &d.shutdown),
        (&l.deprovisioning, &d.deprovisioning),
    ]
    .iter()
    .all(|(a, b)| constant(a).is_some() && constant(a) == constant(b))
        && l.stop_timeout == d.stop_timeout
}

#[test]
fn every_new_field_resolves_into_the_world_spec() {
    let w = load(LIFE, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[0].deregistration_delay, secs(30));
    assert_eq!(w.target_groups[1].deregistration_delay, SimDuration::ZERO);

    let l = &w.services[0].lifecycle;
    assert!(
        matches!(l.provisioning, DistSpec::Uniform { min, max } if min == secs(10) && max == secs(40))
    );
    assert!(matches!(l.pending, DistSpec::LogNormal { mean, cv } if mean == secs(40) && cv == 0.5));
    assert_eq!(constant(&l.activating), Some(secs(3)));
    assert!(matches!(l.app_start, DistSpec::Exponential { mean } if mean == secs(20)));
    assert_eq!(constant(&l.shutdown), Some(secs(1)));
    assert_eq!(l.stop_timeout, secs(60));
    assert_eq!(constant(&l.deprovisioning), Some(secs(8)));

    // The inline table sets one field; the others keep their defaults.
    let l = &w.services[1].lifecycle;
    let d = LifecycleSpec::default();
    assert_eq!(constant(&l.app_start), Some(secs(45)));
    assert_eq!(constant(&l.provisioning), constant(&d.provisioning));
    assert_eq!(constant(&l.pending), constant(&d.pending));
    assert_eq!(constant(&l.activating), constant(&d.activating));
    assert_eq!(constant(&l.shutdown), constant(&d.shutdown));
    assert_eq!(constant(&l.deprovisioning), constant(&d.deprovisioning));
    assert_eq!(l.stop_timeout, secs(30));

    let [worker, api] = &w.faults[..] else {
        panic!("{:?}", w.faults)
    };
    assert_eq!(worker.start, SimTime::ZERO + secs(1200));
    assert_eq!(worker.duration, SimDuration::ZERO);
    assert_eq!(
        worker.kind,
        FaultKind::TaskCrash {
            service: 1,
            task: 1
        }
    );
    assert_eq!(api.start, SimTime::ZERO + secs(1800));
    assert_eq!(api.duration, SimDuration::ZERO);
    assert_eq!(
        api.kind,
        FaultKind::TaskCrash {
            service: 0,
            task: 0
        },
        "task defaults to 0, the oldest"
    );
}

#[test]
fn absent_fields_take_the_spec_defaults() {
    let w = load(BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        w.target_groups[0].deregistration_delay,
        DEFAULT_DEREGISTRATION_DELAY
    );
    assert_eq!(DEFAULT_DEREGISTRATION_DELAY, secs(300));
    assert!(is_default(&w.services[0].lifecycle));
    assert_eq!(w.services[0].lifecycle.stop_timeout, secs(30));
    // An empty lifecycle table is the defaults too.
    let w = load(LIFE, &["services.api.lifecycle={}"]).unwrap_or_else(|e| panic!("{e}"));
    assert!(is_default(&w.services[0].lifecycle));
}

#[test]
fn the_edges_of_the_ranges_are_allowed() {
    let w = load(
        LIFE,
        &[
            "target_groups.0.deregistration_delay=3600s",
            "target_groups.1.deregistration_delay=1h",
            "services.0.lifecycle.stop_timeout=120s",
            "services.1.lifecycle.stop_timeout=0s",
            "services.0.lifecycle.app_start=1h",
            "services.0.lifecycle.shutdown=0s",
            "services.0.lifecycle.provisioning={ dist = \"uniform\", min = \"0s\", max = \"1h\" }",
            "services.0.lifecycle.pending={ dist = \"pareto\", mean = \"1h\", alpha = 1.5 }",
            "services.0.lifecycle.activating=250ms",
            "faults.1.at=59m 59s",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[0].deregistration_delay, secs(3600));
    assert_eq!(w.target_groups[1].deregistration_delay, secs(3600));
    assert_eq!(w.services[0].lifecycle.stop_timeout, secs(120));
    assert_eq!(w.services[1].lifecycle.stop_timeout, SimDuration::ZERO);
    assert_eq!(
        constant(&w.services[0].lifecycle.app_start),
        Some(secs(3600))
    );
    assert_eq!(
        constant(&w.services[0].lifecycle.activating),
        Some(ms(250)),
        "phases need not be whole seconds"
    );
    assert_eq!(w.faults[1].start, SimTime::ZERO + secs(3599));
}

#[test]
fn overrides_reach_the_new_fields_by_index_and_name() {
    let w = load(
        LIFE,
        &[
            "target_groups.0.deregistration_delay=45s",
            "target_groups.jobs.deregistration_delay=10s",
            "services.0.lifecycle.app_start=20s",
            "services.worker.lifecycle.stop_timeout=90s",
            "services.worker.lifecycle.pending={ dist = \"gamma\", mean = \"30s\", cv = 0.3 }",
            "faults.0.service=api",
            "faults.0.task=3",
            "faults.1.at=5m",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.target_groups[0].deregistration_delay, secs(45));
    assert_eq!(w.target_groups[1].deregistration_delay, secs(10));
    assert_eq!(constant(&w.services[0].lifecycle.app_start), Some(secs(20)));
    assert_eq!(w.services[1].lifecycle.stop_timeout, secs(90));
    assert!(matches!(
        w.services[1].lifecycle.pending,
        DistSpec::Gamma { mean, cv } if mean == secs(30) && cv == 0.3
    ));
    assert_eq!(
        w.faults[0].kind,
        FaultKind::TaskCrash {
            service: 0,
            task: 3
        }
    );
    assert_eq!(w.faults[1].start, SimTime::ZERO + secs(300));
    // Overrides on the base scenario, which has no lifecycle table.
    let w = load(BASE, &["services.0.lifecycle.app_start=20s"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(constant(&w.services[0].lifecycle.app_start), Some(secs(20)));
    let e = load(LIFE, &["services.0.lifecycle.stop_timeout=121s"]).unwrap_err();
    assert!(
        e.to_string().contains(
            "services.0.lifecycle.stop_timeout: 121s: too long; allowed 0s–120s in whole seconds"
        ),
        "{e}"
    );
    assert!(e.to_string().contains("(set by --set"), "{e}");
}

/// Each bad value is one problem naming the field (dotted path) and the allowed range.
#[test]
fn bad_values_name_the_field_and_the_allowed_range() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "target_groups.0.deregistration_delay=3601s",
            "target_groups.0.deregistration_delay",
            "3601s: too long; allowed 0s–3600s in whole seconds (AWS deregistration_delay.timeout_seconds)",
        ),
        (
            "target_groups.1.deregistration_delay=1.5s",
            "target_groups.1.deregistration_delay",
            "1.5s: not a whole number of seconds (AWS takes an integer); allowed 0s–3600s in whole seconds",
        ),
        (
            "target_groups.0.deregistration_delay=300ms",
            "target_groups.0.deregistration_delay",
            "0.3s: not a whole number of seconds",
        ),
        (
            "target_groups.0.deregistration_delay=300",
            "target_groups.0.deregistration_delay",
            "expected a duration with a unit",
        ),
        (
            "services.0.lifecycle.stop_timeout=121s",
            "services.0.lifecycle.stop_timeout",
            "121s: too long; allowed 0s–120s in whole seconds (AWS stopTimeout: at most 120 s on Fargate)",
        ),
        (
            "services.1.lifecycle.stop_timeout=2.5s",
            "services.1.lifecycle.stop_timeout",
            "2.5s: not a whole number of seconds (AWS takes an integer); allowed 0s–120s",
        ),
        (
            "services.0.lifecycle.stop_timeout={ dist = \"exponential\", mean = \"30s\" }",
            "services.0.lifecycle.stop_timeout",
            "invalid type: map, expected a duration",
        ),
        (
            "services.0.lifecycle.app_start=-5s",
            "services.0.lifecycle.app_start",
            "\"-5s\" is negative; durations are ≥ 0",
        ),
        (
            "services.0.lifecycle.app_start=2h",
            "services.0.lifecycle.app_start",
            "2h: must be ≥ 0 and ≤ 1h (lbsim caps each lifecycle phase at 1 hour)",
        ),
        (
            "services.1.lifecycle.provisioning=9999d",
            "services.1.lifecycle.provisioning",
            "27years 4months 15days 11h 45m 36s: must be ≥ 0 and ≤ 1h (lbsim caps each lifecycle phase at 1 hour)",
        ),
        (
            "services.0.lifecycle.provisioning={ dist = \"uniform\", min = \"10s\", max = \"61m\" }",
            "services.0.lifecycle.provisioning.max",
            "1h 1m: must be ≥ 0 and ≤ 1h",
        ),
        (
            "services.0.lifecycle.deprovisioning={ dist = \"deterministic\", value = \"3h\" }",
            "services.0.lifecycle.deprovisioning.value",
            "3h: must be ≥ 0 and ≤ 1h",
        ),
        (
            "services.0.lifecycle.pending={ dist = \"lognormal\", mean = \"90m\", cv = 0.5 }",
            "services.0.lifecycle.pending.mean",
            "the mean is 1h 30m: must be ≥ 0 and ≤ 1h (lbsim caps each lifecycle phase at 1 hour)",
        ),
        (
            "services.0.lifecycle.shutdown={ dist = \"exponential\", mean = \"0s\" }",
            "services.0.lifecycle.shutdown.mean",
            "must be > 0",
        ),
        (
            "services.0.lifecycle.shutdown=soon",
            "services.0.lifecycle.shutdown",
            "\"soon\" is not a duration",
        ),
        (
            "services.0.lifecycle.warmup=5s",
            "services.0.lifecycle.warmup",
            "unknown field `warmup`, expected one of `provisioning`, `pending`, `activating`, `app_start`, `shutdown`, `stop_timeout`, `deprovisioning`",
        ),
        (
            "faults.0.service=web",
            "faults.0.service",
            "no service is named \"web\" (defined: api, worker)",
        ),
        (
            "faults.0.task=2",
            "faults.0.task",
            "2: no such task; allowed 0–1 (the service has desired_count = 2 tasks, 0 = the oldest)",
        ),
        (
            "faults.0.task=-1",
            "faults.0.task",
            "-1: no such task; allowed 0–1 (the service has desired_count = 2 tasks, 0 = the oldest)",
        ),
        (
            "faults.1.at=1h",
            "faults.1.at",
            "1h: the crash is at or after the end of the run (simulation.duration = 1h); it must be before",
        ),
        (
            "faults.1.duration=1m",
            "faults.1",
            "unknown field `duration`, expected one of `service`, `task`, `at`",
        ),
        (
            "faults.1.start=1m",
            "faults.1",
            "unknown field `start`, expected one of `service`, `task`, `at`",
        ),
    ];
    for (set, field, want) in cases {
        let e = load(LIFE, &[set]).unwrap_err();
        assert_eq!(e.0.len(), 1, "{set}: {e}");
        assert_eq!(e.0[0].field.as_deref(), Some(*field), "{set}: {e}");
        assert!(
            e.0[0].message.contains(want),
            "{set}: expected {want:?} in {e}"
        );
    }
    // A service of no tasks has none to crash.
    let e = load(
        LIFE,
        &["services.worker.desired_count=0", "faults.0.task=0"],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "faults.0.task: 0: no such task: the service has desired_count = 0, so no task can crash"
        ),
        "{e}"
    );
    // A missing `at`, and a crash with no services at all.
    let e = load(&LIFE.replacen("at = \"30m\"\n", "", 1), &[]).unwrap_err();
    assert!(e.to_string().contains("missing field `at`"), "{e}");
    let e = load(
        &format!("{BASE}\n[[faults]]\ntype = \"task_crash\"\nservice = \"svc\"\nat = \"1s\"\n"),
        &["services=[]"],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "faults.0.service: no service is named \"svc\" (none is defined: add a [[services]] table"
        ),
        "{e}"
    );
}

#[test]
fn bad_lifecycle_values_are_clear_errors_with_the_line_and_exit_code_2() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "deregistration delay above an hour",
            r#"deregistration_delay = "30s""#,
            r#"deregistration_delay = "3601s""#,
            &[
                ":17:",
                "target_groups.0.deregistration_delay",
                "allowed 0s–3600s",
            ],
        ),
        (
            "a phase above an hour, in a [services.lifecycle] table",
            r#"activating = "3s""#,
            r#"activating = "90m""#,
            &[
                ":32:",
                "services.0.lifecycle.activating",
                "≤ 1h (lbsim caps each lifecycle phase at 1 hour)",
            ],
        ),
        (
            "stop_timeout above Fargate's maximum",
            r#"stop_timeout = "60s""#,
            r#"stop_timeout = "3m""#,
            &[
                ":35:",
                "services.0.lifecycle.stop_timeout",
                "180s: too long; allowed 0s–120s",
            ],
        ),
        (
            "a phase above an hour, in an inline table",
            r#"lifecycle = { app_start = "45s" }"#,
            r#"lifecycle = { app_start = "45h" }"#,
            &[":43:", "services.1.lifecycle.app_start", "≤ 1h"],
        ),
        (
            "a crash of an unknown service",
            r#"service = "worker""#,
            r#"service = "workers""#,
            &[
                ":47:",
                "faults.0.service",
                "no service is named \"workers\" (defined: api, worker)",
            ],
        ),
        (
            "a crash after the run",
            r#"at = "30m""#,
            r#"at = "61m""#,
            &[":54:", "faults.1.at", "must be before"],
        ),
        (
            "a crash with a duration",
            "at = \"30m\"\n",
            "at = \"30m\"\nduration = \"1m\"\n",
            &[":51:", "faults.1", "unknown field `duration`"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "life.toml", LIFE);
    let o = lbsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 fault(s)"), "{}", text(&o));
    for (what, from, to, wants) in cases {
        assert!(LIFE.contains(from), "{what}: LIFE lacks {from}");
        let sc = write(&dir, "bad.toml", &LIFE.replacen(from, to, 1));
        let o = lbsim(&["validate", sc.to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {t}");
        assert!(!t.contains("panicked"), "{what}: {t}");
        assert!(t.contains("bad.toml"), "{what}: {t}");
        assert!(t.contains("(1 problem)"), "{what}: one problem only: {t}");
        for w in *wants {
            assert!(t.contains(w), "{what}: expected {w:?} in:\n{t}");
        }
    }
}

#[test]
fn the_schema_describes_the_new_fields() {
    let s = lbsim::scenario::file::schema();
    let text = s.to_string();
    for w in [
        "deregistration_delay",
        "lifecycle",
        "provisioning",
        "app_start",
        "stop_timeout",
        "deprovisioning",
        "task_crash",
    ] {
        assert!(text.contains(w), "{w}");
    }
}
