//! Faults that strike tasks, a service or a zone (`task_hang`, `task_slow`, `app_errors`,
//! `az_outage`, out-of-memory kills), checked where the timing is deterministic through the
//! files a user reads (`summary.json`, `events.csv`) and, request by request, through an
//! observer that sees every request end.
//!
//! **The world** (as in `lifecycle.rs`): request `k` arrives at `k/10` s (deterministic, 10
//! requests/s) and needs 50 ms of CPU on a 1-vCPU task; the default network (three zones; the
//! initial tasks are placed one per zone, `us-east-1a` first); AWS's default health checks
//! (every 30 s from a drawn offset, timeout 5 s, unhealthy after 2 failures) and idle timeout
//! (60 s).

use std::fs;
use std::path::Path;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::{Recorder, RecorderOptions};
use lbsim::model::*;
use serde_json::Value;

use crate::support::{ms, secs};

/// How one request ended.
#[derive(Clone, Copy, Debug)]
struct End {
    serial: u64,
    task: Option<TaskId>,
    arrived: SimTime,
    dispatched: SimTime,
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
            serial: r.serial,
            task: r.task,
            arrived: r.arrived,
            dispatched: r.dispatched,
            at: now,
            cause,
        });
        Observer::request_finished(&mut self.rec, now, r, cause)
    }
    fn call_finished(&mut self, now: SimTime, c: &CallEnd) {
        Observer::call_finished(&mut self.rec, now, c)
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

/// The world above, run for `duration`, with `tasks` warm tasks and `faults`.
fn world(duration: SimDuration, tasks: u32, faults: Vec<FaultSpec>) -> WorldSpec {
    WorldSpec {
        name: "faults".into(),
        duration,
        metrics_interval: secs(10),
        clients: vec![ClientSpec {
            arrivals: ArrivalSpec::Deterministic { rate_rps: 10.0 },
            ..Default::default()
        }],
        target_groups: vec![TargetGroupSpec {
            deregistration_delay: secs(30),
            ..Default::default()
        }],
        services: vec![ServiceSpec {
            desired_count: tasks,
            cpu_time: DistSpec::Deterministic(ms(50)),
            ..Default::default()
        }],
        faults,
        ..Default::default()
    }
}

/// A fault from `start` for `duration`.
fn fault(start: SimTime, duration: SimDuration, kind: FaultKind) -> FaultSpec {
    FaultSpec {
        start,
        duration,
        kind,
        mean_time_between_failures: None,
    }
}

/// What a run wrote and saw.
struct Out {
    summary: Value,
    /// `events.csv` rows (header dropped), each split into its 7 fields.
    events: Vec<Vec<String>>,
    ends: Vec<End>,
}

impl Out {
    /// `requests.by_outcome[cause]`.
    fn by(&self, cause: &str) -> u64 {
        self.summary["requests"]["by_outcome"][cause]
            .as_u64()
            .unwrap_or_else(|| panic!("no cause {cause}"))
    }

    /// The times of the `events.csv` rows of `kind` for `task`, with their reasons.
    fn rows(&self, kind: &str, task: &str) -> Vec<(String, String)> {
        self.events
            .iter()
            .filter(|r| r[1] == kind && r[3] == task)
            .map(|r| (r[0].clone(), r[5].clone()))
            .collect()
    }

    /// Ends with `cause`.
    fn ended(&self, cause: Cause) -> Vec<End> {
        self.ends
            .iter()
            .copied()
            .filter(|e| e.cause == cause)
            .collect()
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
    }
}

/// When node 0 probes task `task` next at or after `t` (its first probe's offset, then
/// every 30 s), from a simulation of `spec` that is only built.
fn next_probe(spec: &WorldSpec, task: u32, t: SimTime) -> SimTime {
    let sim = Simulation::new(spec, NoObserver).unwrap();
    let off = sim.world().target_groups()[0]
        .health
        .first_probe_offset(TaskId(task), 0);
    let mut p = SimTime::ZERO + off;
    while p < t {
        p += secs(30);
    }
    p
}

/// Nanoseconds as `events.csv` writes seconds.
fn text(t: SimTime) -> String {
    lbsim::metrics::format_event_time(t)
}

/// A hang of the oldest of two tasks at 30.12 s, for good. Every request at it, the one in
/// flight (sent at 30.1 s) and those round robin sends it afterwards, ends with a 504
/// exactly `idle_timeout` (60 s) after it was sent. Its health checks time out: node 0's
/// next two probes fail 5 s after each, so its target turns unhealthy (`Target.Timeout`)
/// 35 s after the first, and ECS launches a replacement at that instant. Once the
/// replacement is healthy ECS stops the hung task: it drains (its requests still end at
/// their idle timeout), and, a hung application ignoring SIGTERM, STOPPING lasts the whole
/// `stop_timeout` (30 s).
#[test]
fn a_hung_task_gets_504s_at_the_idle_timeout_and_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let hang_at = SimTime(30_120_000_000);
    let spec = world(
        secs(400),
        2,
        vec![fault(
            hang_at,
            SimDuration::MAX,
            FaultKind::TaskHang {
                service: 0,
                task: 0,
            },
        )],
    );
    let o = run(&spec, &dir.path().join("o"));
    let idle = o.ended(Cause::Elb504IdleTimeout);
    assert!(!idle.is_empty());
    assert_eq!(o.by("elb_504_idle_timeout"), idle.len() as u64);
    for e in &idle {
        assert_eq!(e.task, Some(TaskId(0)), "{e:?}");
        assert_eq!(e.at, e.dispatched + secs(60), "{e:?}");
    }
    // The request in flight when it hung (sent at 30.1 s) is one of them.
    assert!(idle.iter().any(|e| e.dispatched == SimTime(30_100_000_000)));
    // Every request sent to the hung task got a 504; every other one a 200.
    for e in &o.ends {
        let hung = e.task == Some(TaskId(0)) && e.dispatched + ms(50) > hang_at;
        assert_eq!(e.cause == Cause::Elb504IdleTimeout, hung, "{e:?}");
        if !hung {
            assert_eq!(e.cause, Cause::Ok, "{e:?}");
        }
    }
    assert_eq!(
        o.by("ok") + o.by("elb_504_idle_timeout"),
        o.ends.len() as u64
    );

    let first = next_probe(&spec, 0, hang_at);
    let unhealthy = first + secs(35);
    assert_eq!(
        o.rows("target_unhealthy", "svc-0"),
        vec![(text(unhealthy), "Target.Timeout".to_string())]
    );
    // Requests were sent to it until it turned unhealthy, and none after.
    let last = idle.iter().map(|e| e.dispatched).max().unwrap();
    assert!(
        last < unhealthy && last + ms(200) >= unhealthy,
        "{last} {unhealthy}"
    );
    assert_eq!(o.rows("task_launched", "svc-2").len(), 1);
    assert_eq!(o.rows("task_launched", "svc-2")[0].0, text(unhealthy));
    assert_eq!(
        o.rows("fault_started", "svc-0"),
        vec![(text(hang_at), String::new())]
    );
    // ECS stops it once the replacement is healthy; draining waits for its last request
    // (its idle timeout); then SIGKILL after 30 s.
    let time = |t: &str| SimTime((t.parse::<f64>().unwrap() * 1e9).round() as u64);
    let healthy = time(&o.rows("target_healthy", "svc-2")[0].0);
    assert_eq!(
        o.rows("target_draining", "svc-0"),
        vec![(text(healthy), "Target.DeregistrationInProgress".to_string())]
    );
    let stopping = o.rows("task_state", "svc-0");
    let at = |state: &str| time(&stopping.iter().find(|r| r.1 == state).unwrap().0);
    assert_eq!(at("STOPPING"), healthy.max(last + secs(60)));
    assert_eq!(at("DEPROVISIONING"), at("STOPPING") + secs(30));
}

/// A hang with a window (30.12 s for 10 s): requests sent to the task during the window end
/// with a 504 at their idle timeout; from 40.12 s it answers again (two failed probes at
/// most fit in the window only if both land in it: here they cannot, 30 s apart).
#[test]
fn a_hang_with_a_window_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (from, to) = (SimTime(30_120_000_000), SimTime(40_120_000_000));
    let spec = world(
        secs(200),
        2,
        vec![fault(
            from,
            secs(10),
            FaultKind::TaskHang {
                service: 0,
                task: 0,
            },
        )],
    );
    let o = run(&spec, &dir.path().join("o"));
    for e in &o.ends {
        let hung = e.task == Some(TaskId(0)) && e.dispatched + ms(50) > from && e.dispatched < to;
        assert_eq!(e.cause == Cause::Elb504IdleTimeout, hung, "{e:?}");
    }
    // Round robin: 50 of the 100 requests of the window, plus the one in flight.
    assert_eq!(o.by("elb_504_idle_timeout"), 51);
    assert!(o.rows("target_unhealthy", "svc-0").is_empty());
    assert_eq!(
        o.rows("fault_ended", "svc-0"),
        vec![(text(to), String::new())]
    );
}

/// A gray failure: the only task runs its CPU 1.5 × slower from 30.02 s to 40.02 s. A
/// request alone on it then takes 75 ms instead of 50; the one in flight at 30.02 s (20 ms
/// done) takes 20 + 45 ms; the one arriving at 40.0 s does 20 ms at 2/3 speed and the rest
/// at full speed: 20 + (50 − 13.33) ms. Processor sharing is exact across both changes.
#[test]
fn a_slow_task_takes_factor_times_longer_in_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let spec = world(
        secs(60),
        1,
        vec![fault(
            SimTime(30_020_000_000),
            secs(10),
            FaultKind::TaskSlow {
                service: 0,
                task: 0,
                factor: 1.5,
            },
        )],
    );
    let o = run(&spec, &dir.path().join("o"));
    assert_eq!(o.by("ok"), o.ends.len() as u64);
    for e in &o.ends {
        let latency = (e.at - e.arrived).0;
        let want = match e.arrived.0 {
            30_000_000_000 => 65_000_000,
            40_000_000_000 => 56_666_667,
            a if a > 30_020_000_000 && a < 40_020_000_000 => 75_000_000,
            _ => 50_000_000,
        };
        assert!(latency.abs_diff(want) <= 1, "{e:?}: {latency} ≠ {want}");
    }
    assert_eq!(
        o.rows("fault_started", "svc-0")[0].0,
        "30.02",
        "{:?}",
        o.events
    );
}

/// Application errors: with `fraction` = 1 every response finished in the window [60 s,
/// 120 s) is a 500 and none outside; with 0.25 about a quarter are, and which ones is a
/// property of the requests (a keyed draw), not of the routing: another algorithm fails
/// exactly the same requests.
#[test]
fn app_errors_fail_a_fraction_of_the_responses_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let errors = |fraction: f64| {
        fault(
            SimTime::ZERO + secs(60),
            secs(60),
            FaultKind::AppErrors {
                service: 0,
                fraction,
            },
        )
    };
    let o = run(
        &world(secs(180), 2, vec![errors(1.0)]),
        &dir.path().join("all"),
    );
    for e in &o.ends {
        let inside = e.at >= SimTime::ZERO + secs(60) && e.at < SimTime::ZERO + secs(120);
        assert_eq!(e.cause == Cause::Target5xx, inside, "{e:?}");
    }
    assert_eq!(o.by("target_5xx"), 600);

    let failed = |alg: Algorithm, name: &str| {
        let mut spec = world(secs(180), 2, vec![errors(0.25)]);
        spec.target_groups[0].algorithm = alg;
        let o = run(&spec, &dir.path().join(name));
        let v: Vec<u64> = o.ended(Cause::Target5xx).iter().map(|e| e.serial).collect();
        assert_eq!(o.by("target_5xx"), v.len() as u64);
        v
    };
    let rr = failed(Algorithm::RoundRobin, "rr");
    // 600 responses, p = 0.25: 150 ± 10.6; 5 standard deviations either side.
    assert!((97..=203).contains(&rr.len()), "{}", rr.len());
    assert_eq!(rr, failed(Algorithm::Random, "random"));
}

/// An outage of `us-east-1a` (the oldest of three tasks, one per zone) from 30.12 s for 2
/// minutes. Requests sent there end with a 504 after exactly the 10 s connect timeout; the
/// one in flight at 30.12 s ends at its idle timeout; the task's health checks time out, so
/// its target turns unhealthy 35 s after node 0's first probe in the outage, and ECS
/// replaces it. The outage's start and end are in `events.csv`.
#[test]
fn an_az_outage_times_out_connections_and_the_task_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let from = SimTime(30_120_000_000);
    let spec = world(
        secs(300),
        3,
        vec![fault(
            from,
            secs(120),
            FaultKind::AzOutage {
                availability_zone: 0,
            },
        )],
    );
    let o = run(&spec, &dir.path().join("o"));
    let connect = o.ended(Cause::Elb504ConnectTimeout);
    assert!(!connect.is_empty());
    assert_eq!(o.by("elb_504_connect_timeout"), connect.len() as u64);
    for e in &connect {
        assert_eq!(e.task, Some(TaskId(0)), "{e:?}");
        assert_eq!(e.at, e.dispatched + secs(10), "{e:?}");
    }
    // The request in flight at task 0 when the outage began ends at its idle timeout.
    let idle = o.ended(Cause::Elb504IdleTimeout);
    assert_eq!(idle.len(), 1, "{idle:?}");
    assert_eq!(o.by("elb_504_idle_timeout"), 1);
    assert_eq!(idle[0].task, Some(TaskId(0)));
    assert!(idle[0].dispatched < from && idle[0].dispatched + ms(50) > from);
    assert_eq!(idle[0].at, idle[0].dispatched + secs(60));
    let unhealthy = next_probe(&spec, 0, from) + secs(35);
    assert_eq!(
        o.rows("target_unhealthy", "svc-0"),
        vec![(text(unhealthy), "Target.Timeout".to_string())]
    );
    let last = connect.iter().map(|e| e.dispatched).max().unwrap();
    assert!(last < unhealthy, "{last} {unhealthy}");
    let starts: Vec<&Vec<String>> = o
        .events
        .iter()
        .filter(|r| r[1] == "fault_started")
        .collect();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0][0], "30.12");
    assert!(
        starts[0][6].contains("us-east-1a is unreachable"),
        "{:?}",
        starts[0]
    );
    assert!(
        o.events
            .iter()
            .any(|r| r[1] == "fault_ended" && r[0] == "150.12")
    );
}

/// A service whose requests call a database (50 ms) and use 600 MiB each on top of a
/// 1024 MiB base, in 2048 MiB tasks: one request at a time fits. A `dependency_slow` fault
/// (× 3 from 29.95 s) makes calls overlap: at 30.1 s request 301 arrives while request 300's
/// call still runs, and the task goes above its memory. With `oom_kill` it is killed at that
/// instant (both requests end with a 502, `task_stopped` says `OutOfMemoryError`) and ECS
/// replaces it 5 s later (`crash_detection`); without, the excursion is only recorded.
#[test]
fn a_task_over_its_memory_is_killed_with_oom_kill() {
    let dir = tempfile::tempdir().unwrap();
    let spec = |oom_kill: bool| {
        let mut w = world(
            secs(60),
            1,
            vec![fault(
                SimTime(29_950_000_000),
                secs(30),
                FaultKind::DependencySlow {
                    dependency: 0,
                    factor: 3.0,
                },
            )],
        );
        w.dependencies = vec![DependencySpec {
            name: "db".into(),
            latency: DistSpec::Deterministic(ms(50)),
            ..Default::default()
        }];
        let s = &mut w.services[0];
        s.steps = vec![StepSpec::Call { dependency: 0 }];
        s.memory = MemorySpec {
            base_kib: 1024 * 1024,
            per_request_kib: DistSpec::Deterministic(SimDuration(600 * 1024)),
            oom_kill,
        };
        w
    };
    let o = run(&spec(true), &dir.path().join("kill"));
    assert_eq!(
        o.rows("task_stopped", "svc-0"),
        vec![("30.1".to_string(), "OutOfMemoryError".to_string())]
    );
    assert_eq!(o.by("elb_502_target_closed"), 2);
    assert_eq!(o.rows("task_launched", "svc-1")[0].0, "35.1");
    let exceeded = o.rows("task_memory_exceeded", "svc-0");
    assert_eq!(exceeded[0].0, "30.1");

    let o = run(&spec(false), &dir.path().join("keep"));
    assert!(o.rows("task_stopped", "svc-0").is_empty());
    assert_eq!(o.by("elb_502_target_closed"), 0);
    assert_eq!(o.rows("task_memory_exceeded", "svc-0")[0].0, "30.1");
}

/// Random crashes (`mean_time_between_failures` = 10 minutes over 4 hours, three tasks):
/// each strike is a `fault_started` row naming the task it drew, which stops
/// (`EssentialContainerExited`) at that instant; about 24 strikes come (Poisson: 24 ± 4.9);
/// the strike times depend on the seed alone (a fleet twice as large sees the same ones).
/// Random hangs each get their own window: a `fault_ended` row for the same task
/// `duration` later.
#[test]
fn random_faults_strike_tasks_drawn_at_random() {
    let dir = tempfile::tempdir().unwrap();
    let random = |kind: FaultKind, duration: SimDuration, tasks: u32, name: &str| {
        let mut f = fault(SimTime::ZERO, duration, kind);
        f.mean_time_between_failures = Some(secs(600));
        run(
            &world(secs(4 * 3600), tasks, vec![f]),
            &dir.path().join(name),
        )
    };
    let crash = FaultKind::TaskCrash {
        service: 0,
        task: 0,
    };
    let o = random(crash, SimDuration::ZERO, 3, "crash");
    let strikes: Vec<&Vec<String>> = o
        .events
        .iter()
        .filter(|r| r[1] == "fault_started")
        .collect();
    assert!((10..=40).contains(&strikes.len()), "{}", strikes.len());
    let mut tasks = std::collections::BTreeSet::new();
    for s in &strikes {
        if s[3].is_empty() {
            assert!(s[6].contains("no task"), "{s:?}");
            continue;
        }
        tasks.insert(s[3].clone());
        assert!(
            s[6].contains("drawn at random; mean time between failures 600 s"),
            "{s:?}"
        );
        assert!(
            o.rows("task_stopped", &s[3])
                .contains(&(s[0].clone(), "EssentialContainerExited".to_string())),
            "{s:?}"
        );
    }
    assert!(tasks.len() > 3, "replacements are struck too: {tasks:?}");
    let times = |o: &Out| -> Vec<String> {
        o.events
            .iter()
            .filter(|r| r[1] == "fault_started")
            .map(|r| r[0].clone())
            .collect()
    };
    assert_eq!(
        times(&o),
        times(&random(crash, SimDuration::ZERO, 6, "six"))
    );

    let hang = FaultKind::TaskHang {
        service: 0,
        task: 0,
    };
    let o = random(hang, secs(20), 3, "hang");
    let starts: Vec<(String, String)> = o
        .events
        .iter()
        .filter(|r| r[1] == "fault_started" && !r[3].is_empty())
        .map(|r| (r[0].clone(), r[3].clone()))
        .collect();
    assert!(!starts.is_empty());
    for (t, task) in &starts {
        let end = text(SimTime((t.parse::<f64>().unwrap() * 1e9).round() as u64) + secs(20));
        assert!(
            o.rows("fault_ended", task).iter().any(|r| r.0 == end),
            "{task} struck at {t}: no end at {end}"
        );
    }
    assert!(o.by("elb_504_idle_timeout") > 0);
}

/// Random windows (`app_errors` with `fraction` 1, `mean_time_between_failures` 5 minutes,
/// `duration` 1 minute, over 6 hours): `fault_started` and `fault_ended` rows alternate, each
/// window lasts exactly its `duration`, the next starts after the previous ended (no
/// overlap), about 6 h ÷ 6 min = 60 come, and a response is a 500 exactly when it is
/// finished inside a window. The window times depend on the seed alone.
#[test]
fn random_window_faults_come_and_go_without_overlapping() {
    let dir = tempfile::tempdir().unwrap();
    let spec = |tasks: u32| {
        let mut f = fault(
            SimTime::ZERO + secs(60),
            secs(60),
            FaultKind::AppErrors {
                service: 0,
                fraction: 1.0,
            },
        );
        f.mean_time_between_failures = Some(secs(300));
        world(secs(6 * 3600), tasks, vec![f])
    };
    let o = run(&spec(2), &dir.path().join("two"));
    let rows: Vec<(f64, &str)> = o
        .events
        .iter()
        .filter(|r| r[1] == "fault_started" || r[1] == "fault_ended")
        .map(|r| (r[0].parse::<f64>().unwrap(), r[1].as_str()))
        .collect();
    let windows: Vec<(f64, f64)> = rows
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| {
            assert_eq!(
                (c[0].1, c[1].1),
                ("fault_started", "fault_ended"),
                "{rows:?}"
            );
            (c[0].0, c[1].0)
        })
        .collect();
    assert!((40..=85).contains(&windows.len()), "{}", windows.len());
    assert!(windows[0].0 > 60.0);
    for w in &windows {
        assert!((w.1 - w.0 - 60.0).abs() < 1e-9, "{w:?}");
    }
    for pair in windows.windows(2) {
        assert!(pair[1].0 > pair[0].1, "{pair:?}");
    }
    // The gaps from one end to the next start: exponential with mean 300 s.
    let gaps: Vec<f64> = windows.windows(2).map(|p| p[1].0 - p[0].1).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let se = 300.0 / (gaps.len() as f64).sqrt();
    assert!((mean - 300.0).abs() < 4.0 * se, "mean gap {mean} ± {se}");
    for e in &o.ends {
        let t = e.at.as_secs_f64();
        let inside = windows.iter().any(|w| t >= w.0 && t < w.1);
        assert_eq!(e.cause == Cause::Target5xx, inside, "{e:?}");
    }
    assert!(o.by("target_5xx") > 0);
    let starts = |o: &Out| -> Vec<String> {
        o.events
            .iter()
            .filter(|r| r[1] == "fault_started")
            .map(|r| r[0].clone())
            .collect()
    };
    assert_eq!(starts(&o), starts(&run(&spec(5), &dir.path().join("five"))));
}
