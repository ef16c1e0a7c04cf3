//! Invariants of every run: determinism, conservation of requests, independence of random
//! streams, trace replay.

use std::fs;
use std::path::Path;

use lbsim::engine::{SimDuration, SimTime};
use lbsim::metrics::Recorder;
use lbsim::model::{Algorithm, Cause, Observer, Request, Simulation, TaskId, WorldSpec};
use lbsim::scenario;

use crate::cli::{BASE, lbsim, text, write};

fn load(toml_text: &str, dir: &tempfile::TempDir) -> WorldSpec {
    let p = write(dir, "s.toml", toml_text);
    scenario::load(&p, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

/// Every file under `dir` (plots/ too), by relative path, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, d: &Path, v: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, v);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                v.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// `text` with a random LB processing time and a random client round trip, so that every
/// keyed draw of a request is used.
fn with_random_delays(text: &str) -> String {
    text.replace(
        "[load_balancer]\n",
        "[load_balancer]\nprocessing_time = { dist = \"uniform\", min = \"1ms\", max = \"3ms\" }\n",
    )
    .replace(
        "name = \"c\"\n",
        "name = \"c\"\nrtt = { dist = \"lognormal\", mean = \"20ms\", cv = 0.5 }\n",
    )
}

#[test]
fn same_scenario_and_seed_give_byte_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    // A scenario that uses every random stream: arrivals, RTT, LB processing, routing, sizes.
    let sc = write(
        &dir,
        "d.toml",
        &with_random_delays(&BASE.replace(
            r#"algorithm = "round_robin""#,
            r#"algorithm = "power_of_two_choices""#,
        )),
    );
    let mut runs = Vec::new();
    for (i, seed) in ["5", "5", "6"].iter().enumerate() {
        let out = dir.path().join(format!("run{i}"));
        let o = lbsim(&[
            "run",
            sc.to_str().unwrap(),
            "--seed",
            seed,
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        runs.push(files(&out));
    }
    // summary.json, five CSV files, latency.csv, scenario.json, report.html, two plots and
    // the staging marker .lbsim-output.
    assert_eq!(runs[0].len(), 12);
    assert_eq!(runs[0], runs[1], "same seed, different bytes");
    let metrics =
        |r: &Vec<(String, Vec<u8>)>| r.iter().find(|f| f.0 == "metrics.csv").unwrap().1.clone();
    assert_ne!(
        metrics(&runs[0]),
        metrics(&runs[2]),
        "a different seed changed nothing"
    );
}

/// Counts every request's ending, and checks each ends once.
#[derive(Default)]
struct Ledger {
    arrived: u64,
    ended: Vec<u8>,
    by_cause: [u64; Cause::ALL.len()],
    arrivals_of_client0: Vec<SimTime>,
}

impl Observer for Ledger {
    fn request_arrived(&mut self, now: SimTime, r: &Request) {
        self.arrived += 1;
        assert_eq!(r.serial as usize, self.ended.len(), "serials are dense");
        self.ended.push(0);
        if r.client.0 == 0 {
            self.arrivals_of_client0.push(now);
        }
    }
    fn request_finished(&mut self, now: SimTime, r: &Request, cause: Cause) {
        assert!(now >= r.arrived, "ended before it arrived");
        self.ended[r.serial as usize] += 1;
        self.by_cause[cause.index()] += 1;
    }
}

#[test]
fn every_request_ends_exactly_once_or_is_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    // Overloaded (ρ ≈ 1.25), so requests are still in flight at the end; a second service
    // with no tasks behind its own target group produces 503s.
    let text = BASE.replace("rate_rps = 200.0", "rate_rps = 500.0")
        + r#"
[[clients]]
name = "c2"
port = 81
arrivals = { process = "poisson", rate_rps = 50.0 }

[[target_groups]]
name = "empty"

[[services]]
name = "none"
target_group = "empty"
desired_count = 0
request = { cpu_time = "1ms" }
"#;
    let text = text.replace(
        "[[target_groups]]\nname = \"tg\"",
        "[[load_balancer.listeners]]\nport = 81\ndefault_action = { type = \"forward\", target_group = \"empty\" }\n\n[[target_groups]]\nname = \"tg\"",
    );
    let spec = load(&text, &dir);
    let mut sim = Simulation::new(&spec, Ledger::default()).unwrap();
    let stats = sim.run();
    let ledger = sim.into_observer();
    let in_flight = ledger.ended.iter().filter(|&&n| n == 0).count() as u64;
    assert!(
        ledger.ended.iter().all(|&n| n <= 1),
        "a request ended twice"
    );
    assert_eq!(stats.arrived, ledger.arrived);
    assert_eq!(stats.in_flight, in_flight);
    assert!(
        in_flight > 100,
        "the overload should leave requests in flight"
    );
    assert!(ledger.by_cause[Cause::Elb503NoTargets.index()] > 500);
    assert_eq!(
        ledger.arrived,
        ledger.by_cause.iter().sum::<u64>() + in_flight,
        "arrivals = completions by outcome + in flight"
    );

    // The recorder's summary obeys the same identity.
    let mut sim = Simulation::new(&spec, Recorder::in_memory()).unwrap();
    sim.run();
    let (s, _) = sim.into_observer().finish().unwrap();
    let ended: u64 = s.requests.by_outcome.values().sum();
    assert_eq!(s.requests.arrived, ended + s.requests.in_flight_at_end);
    assert_eq!(s.requests.arrived, ledger.arrived);
    assert_eq!(s.requests.in_flight_at_end, in_flight);
    assert_eq!(
        s.requests.by_outcome["elb_503_no_targets"],
        ledger.by_cause[Cause::Elb503NoTargets.index()]
    );
    assert_eq!(s.target_groups[1].targets, 0);
}

#[test]
fn adding_a_client_does_not_change_the_first_clients_arrivals() {
    let dir = tempfile::tempdir().unwrap();
    let one = load(BASE, &dir);
    let two = load(
        &(BASE.to_string()
            + "\n[[clients]]\nname = \"other\"\narrivals = { process = \"poisson\", rate_rps = 300.0 }\n"),
        &dir,
    );
    let arrivals = |spec: &WorldSpec| {
        let mut sim = Simulation::new(spec, Ledger::default()).unwrap();
        sim.run();
        sim.into_observer().arrivals_of_client0
    };
    let (a, b) = (arrivals(&one), arrivals(&two));
    assert!(a.len() > 3000);
    assert_eq!(a, b);
}

#[test]
fn a_trace_is_replayed_as_its_rate_scaled_and_windowed() {
    let dir = tempfile::tempdir().unwrap();
    // Rates 1, 2, 3, 4 rps per minute; start 1 minute in, 2 minutes long, scale 50:
    // the run sees 100 rps then 150 rps, then nothing.
    write(&dir, "t.csv", "t_s,rps\n0,1\n60,2\n120,3\n180,4\n");
    let text = BASE
        .replace(
            r#"arrivals = { process = "poisson", rate_rps = 200.0 }"#,
            r#"arrivals = { process = "trace", file = "t.csv", scale = 50.0, start = "1m", duration = "2m" }"#,
        )
        .replace(r#"duration = "20s""#, r#"duration = "4m""#)
        .replace(r#"metrics_interval = "5s""#, r#"metrics_interval = "1m""#);
    let spec = load(&text, &dir);
    let mut sim = Simulation::new(&spec, Ledger::default()).unwrap();
    sim.run();
    let arr = sim.into_observer().arrivals_of_client0;
    let per_min = |m: u64| arr.iter().filter(|t| t.0 / 60_000_000_000 == m).count() as f64;
    // Poisson counts: 6000 (sd 77) and 9000 (sd 95): 5 sd.
    assert!((per_min(0) - 6000.0).abs() < 400.0, "{}", per_min(0));
    assert!((per_min(1) - 9000.0).abs() < 500.0, "{}", per_min(1));
    assert_eq!(per_min(2) + per_min(3), 0.0);
    // With loop = true the window repeats.
    let looped = load(
        &text.replace(r#"duration = "2m" }"#, r#"duration = "2m", loop = true }"#),
        &dir,
    );
    let mut sim = Simulation::new(&looped, Ledger::default()).unwrap();
    sim.run();
    let arr2 = sim.into_observer().arrivals_of_client0;
    let late = arr2.iter().filter(|t| t.0 >= 120_000_000_000).count() as f64;
    assert!((late - 15000.0).abs() < 700.0, "{late}");
}

#[test]
fn replications_are_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let spec = load(BASE, &dir);
    let seeds: Vec<u64> = (10..16).collect();
    let one = lbsim::sweep::replicate(&spec, &seeds, 1).unwrap();
    let two = lbsim::sweep::replicate(&spec, &seeds, 2).unwrap();
    assert_eq!(one, two);
    assert_eq!(one.iter().map(|s| s.seed).collect::<Vec<_>>(), seeds);
    // And each equals a lone run with that seed.
    assert_eq!(one[3], lbsim::sweep::run_one(&spec, 13).unwrap());
    assert_ne!(one[0].latency_ms, one[1].latency_ms, "seeds must matter");
}

/// What each request was, by serial: its round-trip time, its LB processing time (seen as
/// routing time − arrival) and its CPU time (if it was routed).
#[derive(Default)]
struct Sizes {
    rtt: Vec<SimDuration>,
    routed_after: Vec<Option<SimDuration>>,
    work: Vec<Option<SimDuration>>,
    refused: u64,
}

impl Observer for Sizes {
    fn request_arrived(&mut self, _: SimTime, r: &Request) {
        self.rtt.push(r.rtt);
        self.routed_after.push(None);
        self.work.push(None);
    }
    fn request_dispatched(&mut self, now: SimTime, r: &Request) {
        self.routed_after[r.serial as usize] = Some(now - r.arrived);
        self.work[r.serial as usize] = Some(r.work);
    }
    fn request_finished(&mut self, _: SimTime, _: &Request, cause: Cause) {
        self.refused += u64::from(cause == Cause::Elb503NoTargets);
    }
}

/// Common random numbers: every random quantity of a request (round trip, load balancer
/// processing time, CPU time) is fixed by the seed and the request's arrival, whatever
/// happened to the requests before it. A run in which no target is registered for 3 s (so
/// hundreds of requests get 503s and are never sized), and a run with another algorithm,
/// see exactly the same requests as the plain run.
#[test]
fn requests_are_the_same_whatever_happened_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let text = with_random_delays(BASE).replace(
        r#"{ dist = "exponential", mean = "5ms" }"#,
        r#"{ dist = "gamma", mean = "5ms", cv = 2.0 }"#,
    );
    let spec = load(&text, &dir);
    let plain = {
        let mut sim = Simulation::new(&spec, Sizes::default()).unwrap();
        sim.run();
        sim.into_observer()
    };
    let gap = {
        let mut sim = Simulation::new(&spec, Sizes::default()).unwrap();
        sim.run_until(SimTime(5_000_000_000));
        sim.deregister_target(TaskId(0)).unwrap();
        sim.deregister_target(TaskId(1)).unwrap();
        sim.run_until(SimTime(8_000_000_000));
        sim.register_target(TaskId(0)).unwrap();
        sim.register_target(TaskId(1)).unwrap();
        sim.run();
        sim.into_observer()
    };
    let mut other = spec.clone();
    other.target_groups[0].algorithm = Algorithm::LeastOutstandingRequests;
    let lor = {
        let mut sim = Simulation::new(&other, Sizes::default()).unwrap();
        sim.run();
        sim.into_observer()
    };
    assert_eq!(plain.refused, 0);
    assert!(gap.refused > 500, "{} refused", gap.refused);
    for run in [&gap, &lor] {
        assert_eq!(run.rtt, plain.rtt, "round-trip times differ");
        let mut compared = 0;
        for i in 0..plain.work.len() {
            if let (Some(a), Some(b)) = (plain.work[i], run.work[i]) {
                assert_eq!(a, b, "request {i}: CPU time differs");
                assert_eq!(plain.routed_after[i], run.routed_after[i], "request {i}");
                compared += 1;
            }
        }
        assert!(compared > 3000, "{compared}");
    }
}
