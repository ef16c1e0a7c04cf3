//! Scenario files for requests that wait: request steps, `[[dependencies]]`, `[[faults]]`
//! and `memory`, parsed, validated and resolved into the [`WorldSpec`].

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::{DistSpec, FaultKind, StepSpec, WhenFull, WorldSpec};
use lbsim::scenario;

use super::cli::{BASE, lbsim, text, write};

/// A valid scenario using every new section; tests replace parts of it to make it invalid.
const WAITS: &str = r#"
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

[[services]]
name = "api"
target_group = "api"
desired_count = 4
task = { cpu = 1024, memory = 2048, max_concurrency = 8 }
request = { steps = [ { cpu = "5ms" }, { call = "db" }, { wait = { dist = "exponential", mean = "2ms" } }, { call = "cache" } ] }
memory = { base_mib = 512, per_request_mib = { dist = "lognormal", mean = 2.5, cv = 1.0 } }

[[dependencies]]
name = "db"
latency = { dist = "exponential", mean = "60ms" }
capacity = 10
when_full = "reject"

[[dependencies]]
name = "cache"
latency = "1ms"
pool_size = 4

[[faults]]
type = "dependency_down"
dependency = "db"
start = "30m"
duration = "10m"

[[faults]]
type = "dependency_slow"
dependency = "cache"
start = "40m"
duration = "5m"
factor = 5.0
"#;

const MS: u64 = 1_000_000;

fn load(text: &str, sets: &[&str]) -> Result<WorldSpec, scenario::ScenarioErrors> {
    crate::support::load_text("waits.toml", text, sets)
}

#[test]
fn steps_dependencies_faults_and_memory_resolve_into_the_world_spec() {
    let w = load(WAITS, &[]).unwrap_or_else(|e| panic!("{e}"));
    let s = &w.services[0];
    assert!(matches!(
        s.cpu_time,
        DistSpec::Deterministic(SimDuration::ZERO)
    ));
    assert_eq!(s.task.max_concurrency, 8);
    assert_eq!(s.steps.len(), 4);
    assert!(matches!(s.steps[0], StepSpec::Cpu(DistSpec::Deterministic(d)) if d.0 == 5 * MS));
    assert!(matches!(s.steps[1], StepSpec::Call { dependency: 0 }));
    assert!(
        matches!(s.steps[2], StepSpec::Wait(DistSpec::Exponential { mean }) if mean.0 == 2 * MS)
    );
    assert!(matches!(s.steps[3], StepSpec::Call { dependency: 1 }));
    // 512 MiB = 524,288 KiB; 2.5 MiB = 2,560 KiB.
    assert_eq!(s.memory.base_kib, 524_288);
    assert!(matches!(
        s.memory.per_request_kib,
        DistSpec::LogNormal { mean, cv } if mean.0 == 2560 && cv == 1.0
    ));

    let [db, cache] = &w.dependencies[..] else {
        panic!("{:?}", w.dependencies)
    };
    assert_eq!(db.name, "db");
    assert!(matches!(db.latency, DistSpec::Exponential { mean } if mean.0 == 60 * MS));
    assert_eq!(
        (db.capacity, db.when_full, db.pool_size),
        (10, WhenFull::Reject, 0)
    );
    assert_eq!(cache.name, "cache");
    assert!(matches!(cache.latency, DistSpec::Deterministic(d) if d.0 == MS));
    assert_eq!(
        (cache.capacity, cache.when_full, cache.pool_size),
        (0, WhenFull::Queue, 4),
        "defaults: unlimited capacity, queue"
    );

    let [down, slow] = &w.faults[..] else {
        panic!("{:?}", w.faults)
    };
    assert_eq!(down.start, SimTime::ZERO + SimDuration::from_secs(1800));
    assert_eq!(down.duration, SimDuration::from_secs(600));
    assert_eq!(down.kind, FaultKind::DependencyDown { dependency: 0 });
    assert_eq!(slow.start, SimTime::ZERO + SimDuration::from_secs(2400));
    assert_eq!(
        slow.kind,
        FaultKind::DependencySlow {
            dependency: 1,
            factor: 5.0
        }
    );
}

#[test]
fn the_cpu_time_shorthand_resolves_as_before_with_no_steps_and_no_memory() {
    let w = load(BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
    let s = &w.services[0];
    assert!(s.steps.is_empty());
    assert!(matches!(s.cpu_time, DistSpec::Exponential { mean } if mean.0 == 5 * MS));
    assert_eq!(s.memory.base_kib, 0);
    assert!(matches!(
        s.memory.per_request_kib,
        DistSpec::Deterministic(SimDuration::ZERO)
    ));
    assert!(w.dependencies.is_empty() && w.faults.is_empty());
}

#[test]
fn memory_amounts_are_mib_resolved_in_kib() {
    let with = |per_request: &str| {
        load(
            &WAITS.replacen(
                r#"per_request_mib = { dist = "lognormal", mean = 2.5, cv = 1.0 }"#,
                &format!("per_request_mib = {per_request}"),
                1,
            ),
            &[],
        )
        .map(|w| w.services[0].memory.per_request_kib.clone())
    };
    assert!(matches!(with("3").unwrap(), DistSpec::Deterministic(d) if d.0 == 3072));
    assert!(matches!(with("0").unwrap(), DistSpec::Deterministic(d) if d.0 == 0));
    assert!(matches!(
        with(r#"{ dist = "uniform", min = 0.5, max = 1 }"#).unwrap(),
        DistSpec::Uniform { min, max } if min.0 == 512 && max.0 == 1024
    ));
    assert!(matches!(
        with(r#"{ dist = "pareto", mean = 0.001, alpha = 2.5 }"#).unwrap(),
        DistSpec::Pareto { mean, alpha } if mean.0 == 1 && alpha == 2.5
    ));
    for (bad, field, want) in [
        ("-1", "per_request_mib", "must be ≥ 0"),
        (
            r#"{ dist = "exponential", mean = 0.0001 }"#,
            "per_request_mib.mean",
            "≥ 1 KiB = 0.0009765625 MiB",
        ),
        (
            r#"{ dist = "gamma", mean = 1, cv = 0 }"#,
            "per_request_mib.cv",
            "must be > 0 and ≤ 100",
        ),
        (
            r#"{ dist = "uniform", min = 2, max = 1 }"#,
            "per_request_mib.max",
            "need min ≤ max",
        ),
        (
            r#"{ dist = "empirical", file = "m.csv" }"#,
            "per_request_mib",
            "unknown variant `empirical`",
        ),
    ] {
        let e = with(bad).unwrap_err();
        assert_eq!(e.0.len(), 1, "{bad}: {e}");
        assert_eq!(
            e.0[0].field.as_deref(),
            Some(format!("services.0.memory.{field}").as_str()),
            "{bad}: {e}"
        );
        assert!(e.0[0].message.contains(want), "{bad}: {e}");
    }
}

#[test]
fn overrides_reach_dependencies_faults_and_steps_by_index_and_name() {
    let w = load(
        WAITS,
        &[
            "dependencies.db.capacity=16",
            "dependencies.1.when_full=reject",
            "dependencies.cache.capacity=2",
            "faults.1.factor=2.5",
            "services.api.request.steps.3.call=db",
            "services.api.memory.base_mib=100",
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.dependencies[0].capacity, 16);
    assert_eq!(
        (w.dependencies[1].capacity, w.dependencies[1].when_full),
        (2, WhenFull::Reject)
    );
    assert!(matches!(w.faults[1].kind, FaultKind::DependencySlow { factor, .. } if factor == 2.5));
    assert!(matches!(
        w.services[0].steps[3],
        StepSpec::Call { dependency: 0 }
    ));
    assert_eq!(w.services[0].memory.base_kib, 102_400);
    let e = load(WAITS, &["dependencies.cache.when_full=reject"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("dependencies.1.when_full: \"reject\" needs a capacity > 0"),
        "{e}"
    );
    assert!(e.to_string().contains("(set by --set"), "{e}");
}

#[test]
fn the_schema_describes_the_new_sections() {
    let s = lbsim::scenario::file::schema();
    for p in ["dependencies", "faults"] {
        assert!(s["properties"][p].is_object(), "{p}");
    }
    let text = s.to_string();
    for w in [
        "per_request_mib",
        "base_mib",
        "when_full",
        "dependency_slow",
        "pool_size",
    ] {
        assert!(text.contains(w), "{w}");
    }
}

#[test]
fn validate_accepts_a_scenario_that_waits_in_toml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let sc = write(&dir, "waits.toml", WAITS);
    let o = lbsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(": ok") && text(&o).contains("2 dependency(ies), 2 fault(s)"),
        "{}",
        text(&o)
    );
    let doc: toml::Value = toml::from_str(WAITS).unwrap();
    let sc = write(
        &dir,
        "waits.json",
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let o = lbsim(&["validate", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

/// Each case: a replacement applied to WAITS, and fragments the error must contain (the
/// line, the field's path, what is allowed). Every case must exit with 2, name the file and
/// find one problem, unless it wants "(N problems)".
#[test]
fn bad_waits_are_clear_errors_with_exit_code_2() {
    const STEPS: &str = r#"request = { steps = [ { cpu = "5ms" }, { call = "db" }, { wait = { dist = "exponential", mean = "2ms" } }, { call = "cache" } ] }"#;
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "a step with two kinds",
            r#"{ wait = { dist = "exponential", mean = "2ms" } }"#,
            r#"{ cpu = "1ms", wait = "2ms" }"#,
            &[
                ":23:",
                "services.0.request.steps.2:",
                "a step is one of { cpu = ... }, { wait = ... }, { call = \"DEPENDENCY\" }; this one has cpu and wait",
            ],
        ),
        (
            "a step with an unknown kind",
            r#"{ cpu = "5ms" }"#,
            r#"{ sleep = "5ms" }"#,
            &[
                ":23:",
                "services.0.request.steps.0",
                "unknown field `sleep`, expected one of `cpu`, `wait`, `call`",
            ],
        ),
        (
            "a step's distribution out of range",
            r#"mean = "2ms" }"#,
            r#"mean = "0s" }"#,
            &[
                ":23:",
                "services.0.request.steps.2.wait.mean",
                "must be > 0",
            ],
        ),
        (
            "a call to an unknown dependency",
            r#"{ call = "cache" }"#,
            r#"{ call = "queue" }"#,
            &[
                ":23:",
                "services.0.request.steps.3.call",
                "no dependency is named \"queue\" (defined: cache, db)",
            ],
        ),
        (
            "neither cpu_time nor steps",
            STEPS,
            "request = {}",
            &[
                ":23:",
                "services.0.request:",
                "exactly one of cpu_time",
                "this one has neither",
            ],
        ),
        (
            "both cpu_time and steps",
            "request = { steps",
            r#"request = { cpu_time = "5ms", steps"#,
            &[
                ":23:",
                "services.0.request:",
                "exactly one of cpu_time",
                "this one has both",
            ],
        ),
        (
            "no steps",
            STEPS,
            "request = { steps = [] }",
            &[
                ":23:",
                "services.0.request.steps",
                "a request needs 1–64 steps",
            ],
        ),
        (
            "memory base above the task's memory",
            "base_mib = 512",
            "base_mib = 3000",
            &[
                ":24:",
                "services.0.memory.base_mib",
                "an idle task would use more than task.memory = 2048 MiB; allowed 0–2048 MiB",
            ],
        ),
        (
            "reject with capacity 0",
            "capacity = 10",
            "capacity = 0",
            &[
                ":30:",
                "dependencies.0.when_full",
                "\"reject\" needs a capacity > 0",
            ],
        ),
        (
            "unknown when_full",
            r#"when_full = "reject""#,
            r#"when_full = "drop""#,
            &[
                ":30:",
                "dependencies.0.when_full",
                "unknown variant `drop`, expected `queue` or `reject`",
            ],
        ),
        (
            "capacity above the limit",
            "capacity = 10",
            "capacity = 1000001",
            &[
                ":29:",
                "dependencies.0.capacity",
                "must be 0 (unlimited) to 1000000",
            ],
        ),
        (
            "duplicate dependency name",
            r#"name = "cache""#,
            r#"name = "db""#,
            &[
                ":33:",
                "dependencies.1.name",
                "dependency name \"db\" is used twice; names must be unique",
                "(3 problems)",
            ],
        ),
        (
            "bad dependency name",
            r#"name = "cache""#,
            r#"name = "the cache""#,
            &[
                ":33:",
                "dependencies.1.name",
                "use 1–64 letters, digits, hyphens and underscores",
                "(3 problems)",
            ],
        ),
        (
            "latency missing",
            "latency = \"1ms\"\n",
            "",
            &[":32:", "dependencies.1", "missing field `latency`"],
        ),
        (
            "unknown fault type",
            r#"type = "dependency_down""#,
            r#"type = "dependency_gone""#,
            &[
                ":38:",
                "faults.0.type",
                "unknown variant `dependency_gone`, expected one of `dependency_down`, `dependency_slow`, `task_crash`",
            ],
        ),
        (
            "factor on a dependency_down",
            "duration = \"10m\"\n",
            "duration = \"10m\"\nfactor = 2.0\n",
            &[":37:", "faults.0", "unknown field `factor`"],
        ),
        (
            "dependency_slow without factor",
            "factor = 5.0\n",
            "",
            &[":43:", "faults.1", "missing field `factor`"],
        ),
        (
            "fault after the end",
            r#"start = "30m""#,
            r#"start = "2h""#,
            &[
                ":40:",
                "faults.0.start",
                "starts at or after the end of the run (simulation.duration = 1h)",
            ],
        ),
        (
            "fault of no duration",
            r#"duration = "10m""#,
            r#"duration = "0s""#,
            &[":41:", "faults.0.duration", "must be > 0"],
        ),
        (
            "slow factor 0",
            "factor = 5.0",
            "factor = 0.0",
            &[":48:", "faults.1.factor", "must be > 0 and ≤ 1000"],
        ),
        (
            "slow factor above 1000",
            "factor = 5.0",
            "factor = 1e4",
            &[":48:", "faults.1.factor", "must be > 0 and ≤ 1000"],
        ),
        (
            "fault on an unknown dependency",
            r#"dependency = "cache""#,
            r#"dependency = "redis""#,
            &[
                ":45:",
                "faults.1.dependency",
                "no dependency is named \"redis\"",
            ],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, from, to, wants) in cases {
        assert!(WAITS.contains(from), "{what}: WAITS lacks {from}");
        let sc = write(&dir, "bad.toml", &WAITS.replacen(from, to, 1));
        let o = lbsim(&["validate", sc.to_str().unwrap()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{what}: {t}");
        assert!(!t.contains("panicked"), "{what}: {t}");
        assert!(t.contains("bad.toml"), "{what}: {t}");
        if !wants.iter().any(|w| w.ends_with("problems)")) {
            assert!(t.contains("(1 problem)"), "{what}: one problem only: {t}");
        }
        for w in *wants {
            assert!(t.contains(w), "{what}: expected {w:?} in:\n{t}");
        }
    }
}

/// A step's `probability` resolves into a [`StepSpec::Sometimes`] around the step; one
/// outside 0–1 is refused with its field and range.
#[test]
fn a_step_run_by_a_fraction_of_requests_resolves_and_is_checked() {
    let text = WAITS.replace("{ call = \"db\" }", "{ call = \"db\", probability = 0.3 }");
    let spec = load(&text, &[]).unwrap();
    match &spec.services[0].steps[1] {
        StepSpec::Sometimes { probability, step } => {
            assert_eq!(*probability, 0.3);
            assert!(matches!(**step, StepSpec::Call { dependency: 0 }));
        }
        other => panic!("{other:?}"),
    }
    let bad = WAITS.replace("{ call = \"db\" }", "{ call = \"db\", probability = 1.5 }");
    let err = load(&bad, &[]).unwrap_err().to_string();
    assert!(
        err.contains("services.0.request.steps.1.probability") && err.contains("allowed 0–1"),
        "{err}"
    );
}
