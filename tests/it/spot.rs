//! Capacity provider strategies over `FARGATE` and `FARGATE_SPOT`, and Fargate Spot
//! interruptions: placement by base and weight (the initial tasks and the replacements),
//! the two-minute warning and the cut at 120 s with exact times, random interruptions
//! (deterministic per seed, moving no other draw), and the scenario fields' validation.
//!
//! **The world** (unless a test says otherwise): one client, request `k` arriving at `k/10`
//! s (deterministic, 10 requests/s); each request waits 200 s at its task (no CPU), so a task
//! always holds the requests of the last 200 s; one warm task on `FARGATE_SPOT`; AWS's
//! default health checks; the default lifecycle (a replacement: PROVISIONING 15 s, PENDING
//! 20 s, ACTIVATING 5 s; shutdown 2 s; DEPROVISIONING 10 s).

use std::fs;
use std::path::Path;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions, format_event_time};
use lbsim::model::ecs::spot::place;
use lbsim::model::*;
use serde_json::Value;

use crate::support::{ms, read_metrics_csv, secs};

const F: CapacityProvider = CapacityProvider::Fargate;
const S: CapacityProvider = CapacityProvider::FargateSpot;

fn item(
    capacity_provider: CapacityProvider,
    base: u32,
    weight: u32,
) -> CapacityProviderStrategyItemSpec {
    CapacityProviderStrategyItemSpec {
        capacity_provider,
        base,
        weight,
    }
}

/// The providers of the first `n` tasks placed one after the other by `strategy` (none
/// stops in between).
fn sequence(strategy: &[CapacityProviderStrategyItemSpec], n: usize) -> Vec<CapacityProvider> {
    let mut counts = vec![0u32; strategy.len()];
    (0..n)
        .map(|_| {
            let p = place(strategy, &counts);
            let i = strategy
                .iter()
                .position(|x| x.capacity_provider == p)
                .unwrap();
            counts[i] += 1;
            p
        })
        .collect()
}

/// ECS's rule: `base` tasks on the provider with the base, the rest split by weight. With
/// base 1 and weights 1:3 over 9 tasks, 1 + 8 × 1/4 = 3 on FARGATE and 8 × 3/4 = 6 on
/// FARGATE_SPOT, in the order the lowest (count beyond base) ÷ weight gives, ties to the
/// first item.
#[test]
fn base_then_weights_place_the_tasks_as_ecs_does() {
    let mixed = [item(F, 1, 1), item(S, 0, 3)];
    assert_eq!(sequence(&mixed, 9), [F, F, S, S, S, F, S, S, S]);
    // Base 2 on FARGATE with no weight: every task beyond it on Spot.
    let base_only = [item(F, 2, 0), item(S, 0, 3)];
    assert_eq!(sequence(&base_only, 6), [F, F, S, S, S, S]);
    // Equal weights alternate; the order of the items breaks ties.
    assert_eq!(sequence(&[item(F, 0, 1), item(S, 0, 1)], 4), [F, S, F, S]);
    assert_eq!(sequence(&[item(S, 0, 1), item(F, 0, 1)], 4), [S, F, S, F]);
    // The base can be on Spot; a single item takes everything; no strategy is FARGATE.
    assert_eq!(sequence(&[item(S, 1, 0), item(F, 0, 1)], 3), [S, F, F]);
    assert_eq!(sequence(&[item(S, 0, 1)], 3), [S, S, S]);
    assert_eq!(place(&[], &[]), F);
    // Large counts: 1:3 over 401 tasks beyond a base of 1.
    let n = sequence(&mixed, 401);
    assert_eq!(n.iter().filter(|&&p| p == F).count(), 101);
    assert_eq!(n.iter().filter(|&&p| p == S).count(), 300);
}

/// The initial tasks of a service are placed by its strategy (warm at t = 0), and the
/// summary and metrics count the Spot ones.
#[test]
fn the_initial_tasks_follow_the_strategy() {
    let spec = WorldSpec {
        duration: secs(60),
        clients: vec![ClientSpec::default()],
        target_groups: vec![TargetGroupSpec::default()],
        services: vec![ServiceSpec {
            desired_count: 9,
            capacity_provider_strategy: vec![item(F, 1, 1), item(S, 0, 3)],
            ..Default::default()
        }],
        ..Default::default()
    };
    let sim = Simulation::new(&spec, NoObserver).unwrap();
    let providers: Vec<_> = sim
        .world()
        .tasks()
        .iter()
        .map(|t| t.capacity_provider)
        .collect();
    assert_eq!(providers, [F, F, S, S, S, F, S, S, S]);
    // Without a strategy every task is on FARGATE.
    let plain = WorldSpec {
        services: vec![ServiceSpec {
            desired_count: 9,
            ..Default::default()
        }],
        ..spec.clone()
    };
    let sim = Simulation::new(&plain, NoObserver).unwrap();
    assert!(sim.world().tasks().iter().all(|t| t.capacity_provider == F));

    let dir = tempfile::tempdir().unwrap();
    let out = run(&spec, dir.path());
    let m = read_metrics_csv(&dir.path().join("metrics.csv"));
    assert_eq!(m[0]["tasks_running_spot"], "6");
    assert_eq!(m[0]["tasks_running"], "9");
    assert_eq!(out.summary["tasks"]["spot_interruptions"], 0);
    assert_eq!(
        out.summary["tasks"]["launched_spot"], 0,
        "initial tasks are not launches"
    );
}

/// How one request ended.
#[derive(Clone, Copy, Debug)]
struct End {
    task: Option<TaskId>,
    arrived: SimTime,
    at: SimTime,
    cause: Cause,
}

/// The recorder, plus every request's end.
struct Tee {
    rec: Recorder,
    ends: Vec<End>,
}

impl Observer for Tee {
    fn start(&mut self, w: &World) {
        Observer::start(&mut self.rec, w)
    }
    fn request_arrived(&mut self, now: SimTime, r: &Request) {
        Observer::request_arrived(&mut self.rec, now, r)
    }
    fn request_dispatched(&mut self, now: SimTime, r: &Request) {
        Observer::request_dispatched(&mut self.rec, now, r)
    }
    fn request_started(&mut self, now: SimTime, r: &Request) {
        Observer::request_started(&mut self.rec, now, r)
    }
    fn request_finished(&mut self, now: SimTime, r: &Request, cause: Cause) {
        self.ends.push(End {
            task: r.task,
            arrived: r.arrived,
            at: now,
            cause,
        });
        Observer::request_finished(&mut self.rec, now, r, cause)
    }
    fn lifecycle(&mut self, now: SimTime, e: &LifecycleEvent, w: &World) {
        Observer::lifecycle(&mut self.rec, now, e, w)
    }
    fn warmup_end(&mut self, now: SimTime, w: &World) {
        Observer::warmup_end(&mut self.rec, now, w)
    }
    fn interval(&mut self, now: SimTime, w: &World) {
        Observer::interval(&mut self.rec, now, w)
    }
    fn finish(&mut self, now: SimTime, w: &World) {
        Observer::finish(&mut self.rec, now, w)
    }
}

/// What a run wrote and saw.
struct Out {
    summary: Value,
    /// `events.csv` rows (header dropped), each split into its 7 fields.
    events: Vec<Vec<String>>,
    ends: Vec<End>,
    tasks: Vec<(String, CapacityProvider)>,
}

impl Out {
    fn by(&self, cause: &str) -> u64 {
        self.summary["requests"]["by_outcome"][cause]
            .as_u64()
            .unwrap()
    }

    /// The (time, reason, detail) of the `events.csv` rows of `kind` for `task`.
    fn rows(&self, kind: &str, task: &str) -> Vec<(String, String, String)> {
        self.events
            .iter()
            .filter(|r| r[1] == kind && r[3] == task)
            .map(|r| (r[0].clone(), r[5].clone(), r[6].clone()))
            .collect()
    }

    /// The time of the one row of `kind` for `task` whose reason is `reason` (any when
    /// empty).
    fn at(&self, kind: &str, task: &str, reason: &str) -> String {
        let rows: Vec<_> = self
            .rows(kind, task)
            .into_iter()
            .filter(|r| reason.is_empty() || r.1 == reason)
            .collect();
        assert_eq!(rows.len(), 1, "{kind} {task} {reason}: {rows:?}");
        rows[0].0.clone()
    }
}

/// Runs `spec`, writing its files under `out`.
fn run(spec: &WorldSpec, out: &Path) -> Out {
    let rec = Recorder::new(RecorderOptions {
        out_dir: Some(out.to_path_buf()),
    });
    let mut sim = Simulation::new(
        spec,
        Tee {
            rec,
            ends: Vec::new(),
        },
    )
    .unwrap();
    sim.run();
    let tasks = sim
        .world()
        .tasks()
        .iter()
        .map(|t| (t.name.clone(), t.capacity_provider))
        .collect();
    let tee = sim.into_observer();
    tee.rec.finish().unwrap();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let mut reader = csv::Reader::from_path(out.join("events.csv")).unwrap();
    let events = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    Out {
        summary,
        events,
        ends: tee.ends,
        tasks,
    }
}

/// The world of the module's documentation, `tasks` warm tasks, the target group's
/// deregistration delay `delay`, Spot interruptions `spot`, strategy `strategy`.
fn world(
    tasks: u32,
    delay: SimDuration,
    strategy: Vec<CapacityProviderStrategyItemSpec>,
    spot: SpotInterruptionsSpec,
) -> WorldSpec {
    WorldSpec {
        name: "spot".into(),
        duration: secs(1200),
        metrics_interval: secs(60),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps: 10.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            deregistration_delay: delay,
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: tasks,
            steps: vec![StepSpec::Wait(DistSpec::Deterministic(secs(200)))],
            capacity_provider_strategy: strategy,
            spot_interruptions: spot,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// An interruption at `t`, once.
fn at(t: SimTime) -> SpotInterruptionsSpec {
    SpotInterruptionsSpec {
        at: vec![t],
        count: 1,
        mean_time_between: None,
    }
}

/// The interruption at t = 600.05 s of the one Spot task (`svc-0`), with AWS's default
/// 300 s deregistration delay. At t: the `task_spot_interrupted` row, its target drains,
/// and the replacement (`svc-1`) is launched, on Spot again. At t + 120 s the task is
/// terminated: the requests it still holds (those that arrived after 520.05 s, since each
/// lasts 200 s: requests 5201 to 6000) end with a 502 `elb_502_target_closed` at exactly
/// t + 120 s; it stops (`SpotInterruption`), its target is removed, it is DEPROVISIONING at
/// once and STOPPED 10 s later. The requests that ended before the cut were `ok`.
#[test]
fn an_interruption_drains_then_cuts_at_two_minutes() {
    let t = SimTime::ZERO + ms(600_050);
    let spec = world(1, secs(300), vec![item(S, 0, 1)], at(t));
    let dir = tempfile::tempdir().unwrap();
    let o = run(&spec, dir.path());
    let text = |d: SimDuration| format_event_time(t + d);
    let t0 = text(SimDuration::ZERO);
    let cut = text(secs(120));

    let (time, reason, detail) = &o.rows("task_spot_interrupted", "svc-0")[0];
    assert_eq!((time, reason.as_str()), (&t0, "SpotInterruption"));
    assert!(
        detail.contains("Your Spot Task was interrupted.")
            && detail.contains(&format!("terminated at {cut} s at the latest")),
        "{detail}"
    );
    assert_eq!(o.at("target_draining", "svc-0", ""), t0);
    assert_eq!(o.at("task_state", "svc-0", "DEACTIVATING"), t0);
    // The replacement, launched at the warning, goes back to Spot (no on-demand fallback).
    assert_eq!(o.at("task_launched", "svc-1", ""), t0);
    assert_eq!(o.tasks[1], ("svc-1".to_string(), S));
    assert!(
        o.rows("task_launched", "svc-1")[0]
            .2
            .contains("on FARGATE_SPOT")
    );
    // The cut.
    assert_eq!(o.at("task_stopped", "svc-0", "SpotInterruption"), cut);
    assert_eq!(o.at("target_deregistered", "svc-0", ""), cut);
    assert_eq!(o.at("task_state", "svc-0", "STOPPING"), cut);
    assert_eq!(o.at("task_state", "svc-0", "DEPROVISIONING"), cut);
    assert_eq!(o.at("task_state", "svc-0", "STOPPED"), text(secs(130)));
    let closed: Vec<End> = o
        .ends
        .iter()
        .copied()
        .filter(|e| e.cause == Cause::Elb502TargetClosed)
        .collect();
    assert_eq!(closed.len(), 800);
    assert_eq!(o.by("elb_502_target_closed"), 800);
    assert_eq!(o.by("elb_502_deregistration_delay"), 0);
    for e in &closed {
        assert_eq!(e.at, t + secs(120));
        assert_eq!(e.task, Some(TaskId(0)));
        assert!(
            e.arrived > SimTime(t.0 - secs(80).0) && e.arrived <= t,
            "{e:?}"
        );
    }
    // Requests that arrived earlier finished at the draining target.
    assert!(
        o.ends
            .iter()
            .filter(|e| e.task == Some(TaskId(0)) && e.arrived <= SimTime(t.0 - secs(80).0))
            .all(|e| e.cause == Cause::Ok)
    );
    assert_eq!(o.summary["tasks"]["spot_interruptions"], 1);
    assert_eq!(o.summary["tasks"]["launched"], 1);
    assert_eq!(o.summary["tasks"]["launched_spot"], 1);
}

/// The same interruption with a 30 s deregistration delay: the task drains for 30 s (its
/// requests still there get the deregistration delay's 502, requests 4301 to 6000), stops
/// (`SpotInterruption`) at t + 30 s, shuts down in 2 s, and is STOPPED at t + 42 s: the cut
/// at two minutes finds nothing left to do.
#[test]
fn with_a_short_deregistration_delay_the_task_stops_before_the_cut() {
    let t = SimTime::ZERO + ms(600_050);
    let spec = world(1, secs(30), vec![item(S, 0, 1)], at(t));
    let dir = tempfile::tempdir().unwrap();
    let o = run(&spec, dir.path());
    let text = |d: SimDuration| format_event_time(t + d);
    assert_eq!(
        o.at("task_stopped", "svc-0", "SpotInterruption"),
        text(secs(30))
    );
    assert_eq!(o.at("target_deregistered", "svc-0", ""), text(secs(30)));
    assert_eq!(o.at("task_state", "svc-0", "STOPPING"), text(secs(30)));
    assert_eq!(
        o.at("task_state", "svc-0", "DEPROVISIONING"),
        text(secs(32))
    );
    assert_eq!(o.at("task_state", "svc-0", "STOPPED"), text(secs(42)));
    assert_eq!(o.by("elb_502_target_closed"), 0);
    assert_eq!(o.by("elb_502_deregistration_delay"), 1700);
}

/// A mixed service (FARGATE base 1, FARGATE_SPOT weight 1; 3 tasks: one FARGATE, two Spot).
/// A scheduled interruption of `count = 2` at 300 s strikes both Spot tasks (the oldest
/// first) and never the FARGATE one; both replacements go to Spot, so the service keeps
/// one FARGATE and two Spot tasks. A second interruption when no Spot task is running yet
/// (the replacements are still starting) does nothing.
#[test]
fn scheduled_interruptions_strike_only_spot_tasks_and_replace_them_on_spot() {
    let t = SimTime::ZERO + secs(300);
    let spot = SpotInterruptionsSpec {
        at: vec![t, t + secs(10)],
        count: 2,
        mean_time_between: None,
    };
    let spec = world(3, secs(30), vec![item(F, 1, 0), item(S, 0, 1)], spot);
    let dir = tempfile::tempdir().unwrap();
    let o = run(&spec, dir.path());
    let p: Vec<_> = o.tasks.iter().map(|t| t.1).collect();
    assert_eq!(p, [F, S, S, S, S]);
    for task in ["svc-1", "svc-2"] {
        assert_eq!(o.at("task_spot_interrupted", task, ""), "300");
    }
    assert!(o.rows("task_spot_interrupted", "svc-0").is_empty());
    assert_eq!(o.at("task_launched", "svc-3", ""), "300");
    assert_eq!(o.at("task_launched", "svc-4", ""), "300");
    assert_eq!(o.summary["tasks"]["spot_interruptions"], 2);
    let m = read_metrics_csv(&dir.path().join("metrics.csv"));
    let row = |t: &str| m.iter().find(|r| r["time_s"] == t).unwrap().clone();
    assert_eq!(row("0")["tasks_running_spot"], "2");
    assert_eq!(row("1140")["tasks_running_spot"], "2");
    assert_eq!(row("1140")["tasks_running"], "3");
}

/// Random interruptions with a 1 h mean on 4 Spot tasks over 6 h.
fn random(seed: u64, strategy: Vec<CapacityProviderStrategyItemSpec>) -> WorldSpec {
    let mut spec = world(
        4,
        secs(30),
        strategy,
        SpotInterruptionsSpec {
            at: Vec::new(),
            count: 1,
            mean_time_between: Some(secs(3600)),
        },
    );
    spec.seed = seed;
    spec.duration = secs(6 * 3600);
    spec.services[0].steps = vec![StepSpec::Wait(DistSpec::Exponential { mean: secs(1) })];
    spec
}

/// The files of a run of `spec`: summary.json, metrics.csv and events.csv.
fn files(spec: &WorldSpec) -> [String; 3] {
    let dir = tempfile::tempdir().unwrap();
    run(spec, dir.path());
    ["summary.json", "metrics.csv", "events.csv"]
        .map(|f| fs::read_to_string(dir.path().join(f)).unwrap())
}

/// Random interruptions are a function of the seed: the same seed gives the same files,
/// another seed other interruption times. Each Spot task (from RUNNING) has an exponential
/// lifetime of mean 1 h: over 6 h, 4 tasks see about 24 interruptions.
#[test]
fn random_interruptions_are_deterministic_per_seed() {
    let a = files(&random(7, vec![item(S, 0, 1)]));
    assert_eq!(a, files(&random(7, vec![item(S, 0, 1)])));
    let b = files(&random(8, vec![item(S, 0, 1)]));
    let times = |events: &str| -> Vec<String> {
        events
            .lines()
            .filter(|l| l.contains(",task_spot_interrupted,"))
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let (ta, tb) = (times(&a[2]), times(&b[2]));
    assert!((10..=45).contains(&ta.len()), "{}", ta.len());
    assert!((10..=45).contains(&tb.len()), "{}", tb.len());
    assert_ne!(ta, tb);
    let s: Value = serde_json::from_str(&a[0]).unwrap();
    assert_eq!(s["tasks"]["spot_interruptions"], ta.len());
    assert_eq!(
        s["tasks"]["launched_spot"],
        ta.len(),
        "each replaced on Spot"
    );
}

/// Spot moves no other draw: a service whose strategy is all FARGATE, even with random
/// interruptions configured, writes exactly the files of the same service with no
/// strategy; and the requests of a run with Spot interruptions see the same arrivals.
#[test]
fn an_all_fargate_strategy_changes_nothing() {
    let mut plain = random(3, Vec::new());
    plain.services[0].spot_interruptions = SpotInterruptionsSpec::default();
    let base = files(&plain);
    assert_eq!(base, files(&random(3, vec![item(F, 0, 1)])));
    assert_eq!(base, files(&random(3, vec![item(F, 5, 2)])));
    // With Spot, the arrivals are the same requests.
    let with = files(&random(3, vec![item(S, 0, 1)]));
    let arrived =
        |s: &str| serde_json::from_str::<Value>(s).unwrap()["requests"]["arrived"].clone();
    assert_eq!(arrived(&base[0]), arrived(&with[0]));
    assert_ne!(base[2], with[2]);
}

/// A valid scenario with both new fields; tests replace parts of it to make it invalid.
const SPOT: &str = r#"
[simulation]
duration = "4h"

[[clients]]
name = "c"
arrivals = { process = "poisson", rate_rps = 10.0 }

[[load_balancer.listeners]]
port = 80
default_action = { type = "forward", target_group = "api" }

[[target_groups]]
name = "api"

[[services]]
name = "api"
target_group = "api"
desired_count = 6
request = { cpu_time = "5ms" }
capacity_provider_strategy = [
  { capacity_provider = "FARGATE", base = 2, weight = 1 },
  { capacity_provider = "FARGATE_SPOT", weight = 3 },
]
spot = { interruptions = { at = ["2h", "3h30m"], count = 2, mean_time_between = "6h" } }
"#;

fn load(text: &str, sets: &[&str]) -> Result<WorldSpec, lbsim::scenario::ScenarioErrors> {
    crate::support::load_text("spot.toml", text, sets)
}

#[test]
fn the_scenario_fields_resolve_into_the_spec() {
    let w = load(SPOT, &[]).unwrap_or_else(|e| panic!("{e}"));
    let s = &w.services[0];
    assert_eq!(s.capacity_provider_strategy, [item(F, 2, 1), item(S, 0, 3)]);
    assert_eq!(
        s.spot_interruptions,
        SpotInterruptionsSpec {
            at: vec![SimTime::ZERO + secs(7200), SimTime::ZERO + secs(12600)],
            count: 2,
            mean_time_between: Some(secs(6 * 3600)),
        }
    );
    // Defaults: base and weight 0, count 1; no strategy, no interruptions.
    let w = load(
        &SPOT
            .replace(", count = 2", "")
            .replace(", weight = 1 }", " }")
            .replace(", mean_time_between = \"6h\"", ""),
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let s = &w.services[0];
    assert_eq!(s.capacity_provider_strategy, [item(F, 2, 0), item(S, 0, 3)]);
    assert_eq!(s.spot_interruptions.count, 1);
    assert_eq!(s.spot_interruptions.mean_time_between, None);
    let cut = SPOT.find("capacity_provider_strategy").unwrap();
    let w = load(&SPOT[..cut], &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(w.services[0].capacity_provider_strategy.is_empty());
    assert_eq!(
        w.services[0].spot_interruptions,
        SpotInterruptionsSpec::default()
    );
}

#[test]
fn bad_strategies_and_interruptions_name_the_field_and_the_allowed_range() {
    const P: &str = "services.0.capacity_provider_strategy";
    const I: &str = "services.0.spot.interruptions";
    let cases: &[(&str, &str, &str)] = &[
        (
            "services.0.capacity_provider_strategy.1.weight=1001",
            "services.0.capacity_provider_strategy.1.weight",
            "1001: allowed 0–1000 (ECS CapacityProviderStrategyItem weight)",
        ),
        (
            "services.0.capacity_provider_strategy.1.weight=-1",
            "services.0.capacity_provider_strategy.1.weight",
            "-1: allowed 0–1000",
        ),
        (
            "services.0.capacity_provider_strategy.0.base=100001",
            "services.0.capacity_provider_strategy.0.base",
            "100001: allowed 0–100000 (ECS CapacityProviderStrategyItem base)",
        ),
        (
            "services.0.capacity_provider_strategy.1.base=1",
            P,
            "more than one item has a base above 0; at most one may",
        ),
        (
            "services.0.capacity_provider_strategy.0.capacity_provider=EC2",
            "services.0.capacity_provider_strategy.0.capacity_provider",
            "\"EC2\": allowed \"FARGATE\" or \"FARGATE_SPOT\"",
        ),
        (
            "services.0.capacity_provider_strategy.0.capacity_provider=FARGATE_SPOT",
            "services.0.capacity_provider_strategy.1.capacity_provider",
            "\"FARGATE_SPOT\" is listed twice; each capacity provider may appear once",
        ),
        (
            "services.0.capacity_provider_strategy.1.spot=1",
            "services.0.capacity_provider_strategy.1.spot",
            "unknown field `spot`",
        ),
        (
            "services.0.spot.interruptions.at.1=4h",
            "services.0.spot.interruptions.at.1",
            "4h: at or after the end of the run (simulation.duration = 4h); it must be before",
        ),
        (
            "services.0.spot.interruptions.count=0",
            "services.0.spot.interruptions.count",
            "0: allowed 1–5000",
        ),
        (
            "services.0.spot.interruptions.mean_time_between=0s",
            "services.0.spot.interruptions.mean_time_between",
            "0s: must be > 0",
        ),
        (
            "services.0.spot.interruptions={}",
            I,
            "needs at (instants, e.g. at = [\"2h\"]) or mean_time_between",
        ),
        (
            "services.0.runtime_platform.cpu_architecture=ARM64",
            P,
            "FARGATE_SPOT runs Linux X86_64 tasks only",
        ),
    ];
    for (set, field, want) in cases {
        let e = load(SPOT, &[set]).unwrap_err();
        assert_eq!(e.0.len(), 1, "{set}: {e}");
        assert_eq!(e.0[0].field.as_deref(), Some(*field), "{set}: {e}");
        assert!(
            e.0[0].message.contains(want),
            "{set}: expected {want:?} in {e}"
        );
        assert!(e.to_string().starts_with("spot.toml"), "{e}");
    }
    // No weight above 0.
    let e = load(
        &SPOT
            .replace("weight = 1 }", "weight = 0 }")
            .replace("weight = 3 }", "}"),
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "{P}: no item has a weight above 0; at least one must"
        )),
        "{e}"
    );
    // No item (the interruptions then lack a Spot item too).
    let e = load(SPOT, &["services.0.capacity_provider_strategy=[]"]).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("{P}: 0 items: allowed 1–2")),
        "{e}"
    );
    // Three items.
    let e = load(
        &SPOT.replace(
            "weight = 3 },",
            "weight = 3 },\n  { capacity_provider = \"FARGATE_SPOT\", weight = 1 },",
        ),
        &[],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("{P}: 3 items: allowed 1–2")),
        "{e}"
    );
    // Interruptions without Spot.
    let e = load(
        &SPOT.replace("FARGATE_SPOT\", weight = 3", "FARGATE\", weight = 3"),
        &["services.0.capacity_provider_strategy.0.capacity_provider=FARGATE_SPOT"],
    );
    assert!(e.is_ok(), "Spot first, then FARGATE: valid");
    let one = SPOT.replace(
        "  { capacity_provider = \"FARGATE_SPOT\", weight = 3 },\n",
        "",
    );
    let e = load(&one, &[]).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("{I}: the service runs no task on FARGATE_SPOT")),
        "{e}"
    );
}
