//! Scenario files for the faults that strike tasks, services and zones (`task_hang`,
//! `task_slow`, `app_errors`, `az_outage`), `memory.oom_kill` and the load balancer's
//! `idle_timeout`: parsed, validated (clear errors naming the field and the allowed range,
//! never a panic) and resolved into the [`WorldSpec`].

use lbsim::engine::{SimDuration, SimTime};
use lbsim::model::{DEFAULT_IDLE_TIMEOUT, FaultKind, WorldSpec};
use lbsim::scenario;

use super::cli::BASE;
use super::support::secs;

/// A valid scenario using every new field; tests replace parts of it to make it invalid.
const FAULTS: &str = r#"
[simulation]
duration = "1h"

[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 100.0 }

[load_balancer]
idle_timeout = "120s"

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "api" }

[[target_groups]]
name = "api"

[[services]]
name = "api"
target_group = "api"
desired_count = 3
request = { cpu_time = "5ms" }
memory = { base_mib = 512, per_request_mib = 1, oom_kill = false }

[[faults]]
type = "task_hang"
service = "api"
task = 2
at = "10m"

[[faults]]
type = "task_hang"
service = "api"
at = "12m"
duration = "30s"

[[faults]]
type = "task_slow"
service = "api"
task = 1
at = "20m"
duration = "5m"
factor = 3.5

[[faults]]
type = "app_errors"
service = "api"
start = "30m"
duration = "2m"
fraction = 0.1

[[faults]]
type = "az_outage"
availability_zone = "us-east-1b"
start = "40m"
duration = "10m"
"#;

fn load(text: &str, sets: &[&str]) -> Result<WorldSpec, scenario::ScenarioErrors> {
    crate::support::load_text("faults.toml", text, sets)
}

#[test]
fn every_new_field_resolves_into_the_world_spec() {
    let w = load(FAULTS, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.load_balancer.idle_timeout, secs(120));
    assert!(!w.services[0].memory.oom_kill);
    let at = |m: u64| SimTime::ZERO + secs(60 * m);
    let [hang, short, slow, errors, outage] = &w.faults[..] else {
        panic!("{:?}", w.faults)
    };
    assert_eq!(hang.start, at(10));
    assert_eq!(
        hang.duration,
        SimDuration::MAX,
        "no duration: hung for good"
    );
    assert_eq!(
        hang.kind,
        FaultKind::TaskHang {
            service: 0,
            task: 2
        }
    );
    assert_eq!((short.start, short.duration), (at(12), secs(30)));
    assert_eq!(
        short.kind,
        FaultKind::TaskHang {
            service: 0,
            task: 0
        }
    );
    assert_eq!((slow.start, slow.duration), (at(20), secs(300)));
    assert_eq!(
        slow.kind,
        FaultKind::TaskSlow {
            service: 0,
            task: 1,
            factor: 3.5
        }
    );
    assert_eq!((errors.start, errors.duration), (at(30), secs(120)));
    assert_eq!(
        errors.kind,
        FaultKind::AppErrors {
            service: 0,
            fraction: 0.1
        }
    );
    assert_eq!((outage.start, outage.duration), (at(40), secs(600)));
    assert_eq!(
        outage.kind,
        FaultKind::AzOutage {
            availability_zone: 1
        }
    );

    // Defaults: AWS's idle timeout, and a task over its memory is killed (as AWS does).
    let w = load(
        &FAULTS
            .replace("idle_timeout = \"120s\"\n", "")
            .replace(", oom_kill = false", ""),
        &[],
    )
    .unwrap();
    assert_eq!(w.load_balancer.idle_timeout, DEFAULT_IDLE_TIMEOUT);
    assert_eq!(DEFAULT_IDLE_TIMEOUT, secs(60));
    assert!(w.services[0].memory.oom_kill);
}

#[test]
fn bad_fault_values_name_the_field_and_the_allowed_range() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "load_balancer.idle_timeout=0s",
            "load_balancer.idle_timeout",
            "0s: too short; allowed 1s–4000s in whole seconds (AWS idle_timeout.timeout_seconds)",
        ),
        (
            "load_balancer.idle_timeout=4001s",
            "load_balancer.idle_timeout",
            "4001s: too long; allowed 1s–4000s",
        ),
        (
            "load_balancer.idle_timeout=1500ms",
            "load_balancer.idle_timeout",
            "1.5s: not a whole number of seconds (AWS takes an integer); allowed 1s–4000s",
        ),
        (
            "load_balancer.idle_timeout=-5s",
            "load_balancer.idle_timeout",
            "-5s: negative; allowed 1s–4000s",
        ),
        (
            "faults.0.task=3",
            "faults.0.task",
            "3: no such task; allowed 0–2 (the service has desired_count = 3 tasks, 0 = the oldest)",
        ),
        (
            "faults.0.at=1h",
            "faults.0.at",
            "1h: the hang is at or after the end of the run (simulation.duration = 1h); it must be before",
        ),
        (
            "faults.1.duration=0s",
            "faults.1.duration",
            "must be > 0 (e.g. \"10m\"), or left out: hung to the end of the run",
        ),
        (
            "faults.0.start=1m",
            "faults.0",
            "unknown field `start`, expected one of `service`, `task`, `at`, `mean_time_between_failures`, `duration`",
        ),
        (
            "faults.2.factor=0.5",
            "faults.2.factor",
            "0.5: must be 1–1000 (how many times longer the task's CPU steps take; 1 = no effect)",
        ),
        (
            "faults.2.factor=1001",
            "faults.2.factor",
            "1001: must be 1–1000",
        ),
        (
            "faults.2.service=web",
            "faults.2.service",
            "no service is named \"web\" (defined: api)",
        ),
        (
            "faults.2.at=2h",
            "faults.2.at",
            "2h: the slowdown is at or after the end of the run",
        ),
        (
            "faults.3.fraction=1.5",
            "faults.3.fraction",
            "1.5: must be 0–1 (the probability that a response is a 500)",
        ),
        (
            "faults.3.fraction=-0.1",
            "faults.3.fraction",
            "-0.1: must be 0–1",
        ),
        ("faults.3.duration=0s", "faults.3.duration", "must be > 0"),
        (
            "faults.4.availability_zone=eu-west-1a",
            "faults.4.availability_zone",
            "\"eu-west-1a\" is not a zone of the network (its [[subnets]]'s zones: us-east-1a, us-east-1b, us-east-1c)",
        ),
        (
            "faults.4.start=1h",
            "faults.4.start",
            "the fault starts at or after the end of the run",
        ),
        (
            "faults.0.mean_time_between_failures=1h",
            "faults.0.mean_time_between_failures",
            "give `at` (one hang at that time) or `mean_time_between_failures` (random ones), not both",
        ),
        (
            "services.0.memory.oom_kill=yes",
            "services.0.memory.oom_kill",
            "invalid type",
        ),
    ];
    for (set, field, want) in cases {
        let e = load(FAULTS, &[set]).unwrap_err();
        assert_eq!(e.0.len(), 1, "{set}: {e}");
        assert_eq!(e.0[0].field.as_deref(), Some(*field), "{set}: {e}");
        assert!(
            e.0[0].message.contains(want),
            "{set}: expected {want:?} in {e}"
        );
    }
    // A slowdown needs its factor; a NaN fraction is an error naming the field, not a
    // panic.
    let e = load(&FAULTS.replace("factor = 3.5\n", ""), &[]).unwrap_err();
    assert!(e.to_string().contains("missing field `factor`"), "{e}");
    let e = load(&FAULTS.replace("fraction = 0.1", "fraction = nan"), &[]).unwrap_err();
    assert!(
        e.to_string()
            .contains("faults.3.fraction: nan: must be a finite number"),
        "{e}"
    );
    // The zones are the [[subnets]]'s.
    let e = load(
        &format!(
            "{FAULTS}\n[[subnets]]\nname = \"a\"\navailability_zone = \"eu-west-1a\"\ncidr = \"10.0.0.0/24\"\n"
        ),
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "\"us-east-1b\" is not a zone of the network (its [[subnets]]'s zones: eu-west-1a)"
        ),
        "{e}"
    );
    // A random fault: no `at`, no `task`, a mean > 0; neither `at` nor a mean is an error.
    let random = FAULTS.replace(
        "task = 2\nat = \"10m\"",
        "mean_time_between_failures = \"20m\"",
    );
    let w = load(&random, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(w.faults[0].mean_time_between_failures, Some(secs(1200)));
    assert_eq!(w.faults[0].duration, SimDuration::MAX);
    let e = load(&random, &["faults.0.mean_time_between_failures=0s"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("faults.0.mean_time_between_failures: must be > 0"),
        "{e}"
    );
    let e = load(&random, &["faults.0.task=1"]).unwrap_err();
    assert!(
        e.to_string().contains(
            "faults.0.task: 1: not with mean_time_between_failures (each strike picks a task at random); remove it"
        ),
        "{e}"
    );
    let e = load(&FAULTS.replace("task = 2\nat = \"10m\"", ""), &[]).unwrap_err();
    assert!(
        e.to_string().contains(
            "faults.0: missing field `at` (when the hang happens) or `mean_time_between_failures` (random ones)"
        ),
        "{e}"
    );
    // A fault on a service of a scenario with none.
    let e = load(
        &format!("{BASE}\n[[faults]]\ntype = \"task_hang\"\nservice = \"svc\"\nat = \"1s\"\n"),
        &["services=[]"],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("faults.0.service: no service is named \"svc\""),
        "{e}"
    );
}

/// A window fault takes a `mean_time_between_failures` beside its `start` (random windows);
/// 0 is refused with the field and what it means.
#[test]
fn window_faults_can_be_random() {
    let w = load(FAULTS, &["faults.3.mean_time_between_failures=1h"]).unwrap();
    assert_eq!(w.faults[3].mean_time_between_failures, Some(secs(3600)));
    assert_eq!(w.faults[3].start, SimTime::ZERO + secs(1800));
    assert_eq!(w.faults[3].duration, secs(120));
    let w = load(FAULTS, &["faults.4.mean_time_between_failures=6h"]).unwrap();
    assert_eq!(w.faults[4].mean_time_between_failures, Some(secs(6 * 3600)));
    let e = load(FAULTS, &["faults.4.mean_time_between_failures=0s"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("faults.4.mean_time_between_failures: must be > 0"),
        "{e}"
    );
}
