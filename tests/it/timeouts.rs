//! Client timeouts (`[[clients]] timeout`): a client that gives up ends its request with a
//! 460, its target keeps working on it (timeouts do not shed load), each request ends
//! once, and a closed-loop user moves on.

use lbsim::engine::SimTime;
use lbsim::model::{Cause, Observer, Request, Simulation};
use serde_json::Value;

use super::cli::BASE;
use super::support::load_text;

/// One task of 1 vCPU serving requests of 100 ms mean CPU at 9 requests/s (ρ = 0.9):
/// slow responses, a few seconds at the worst. `client` is added to the client's table.
fn slow(client: &str) -> String {
    format!(
        r#"
[simulation]
name = "slow"
duration = "10m"
seed = 1

[[clients]]
name = "load"
arrivals = {{ process = "poisson", rate_rps = 9 }}
rtt = "20ms"
{client}

[[load_balancer.listeners]]
port = 80
default_action = {{ type = "forward", target_group = "api" }}

[[target_groups]]
name = "api"

[[services]]
name = "api"
target_group = "api"
desired_count = 1
task = {{ cpu = 1024, memory = 2048 }}
request = {{ cpu_time = {{ dist = "exponential", mean = "100ms" }} }}
"#
    )
}

/// Runs scenario `scenario`; returns its summary.json.
fn run(scenario: &str) -> Value {
    super::cli::run_summary_json(scenario)
}

fn count(s: &Value, outcome: &str) -> u64 {
    s["requests"]["by_outcome"][outcome].as_u64().unwrap()
}

/// A 1 s timeout in front of a slow service: about a quarter of the requests end with a
/// 460, each after exactly the timeout (its recorded latency), while every success came
/// back within it. The target group counts them too. Without the timeout there is none.
#[test]
fn a_slow_service_gives_460s_at_the_timeout() {
    let s = run(&slow("timeout = \"1s\""));
    let arrived = s["requests"]["arrived"].as_u64().unwrap();
    let gave_up = count(&s, "elb_460_client_closed");
    let ok = count(&s, "ok");
    assert!(
        gave_up * 10 > arrived && gave_up * 2 < arrived,
        "{gave_up} of {arrived}"
    );
    assert_eq!(
        ok + gave_up + s["requests"]["in_flight_at_end"].as_u64().unwrap(),
        arrived,
        "only 460s fail, each request once"
    );
    let l460 = &s["error_latency_ms"]["elb_460_client_closed"];
    assert_eq!(l460["count"].as_u64(), Some(gave_up));
    assert_eq!(l460["p50"].as_f64(), Some(1000.0));
    assert_eq!(l460["max"].as_f64(), Some(1000.0));
    assert!(s["latency_ms"]["max"].as_f64().unwrap() <= 1000.0);
    assert_eq!(
        s["target_groups"][0]["requests"]["by_outcome"]["elb_460_client_closed"].as_u64(),
        Some(gave_up)
    );
    let none = run(&slow(""));
    assert_eq!(count(&none, "elb_460_client_closed"), 0);
    assert!(none["latency_ms"]["max"].as_f64().unwrap() > 2000.0);
}

/// The lesson: the target works on every request whose client gave up, so its CPU is
/// exactly as busy with the timeout as without, and the same requests arrive.
#[test]
fn a_timeout_sheds_no_work_from_the_target() {
    let with = run(&slow("timeout = \"500ms\""));
    let without = run(&slow(""));
    assert!(count(&with, "elb_460_client_closed") > 500);
    assert_eq!(with["requests"]["arrived"], without["requests"]["arrived"]);
    assert_eq!(with["cpu_utilization"], without["cpu_utilization"]);
    assert!(with["cpu_utilization"]["mean_pct"].as_f64().unwrap() > 85.0);
    assert_eq!(with["task_seconds"], without["task_seconds"]);
}

/// Closed-loop users (50 users, 1 s think time) against a task that serves 10 requests/s:
/// without a timeout they wait for their responses (about 4 s each) and offer what the
/// task serves. With a 2 s timeout each gives up, thinks and sends again, so more requests
/// arrive; the task stays as busy, but it spends its CPU on abandoned requests, so fewer
/// succeed. Timeouts raise the offered load and lower the goodput.
#[test]
fn closed_loop_users_move_on_after_a_timeout() {
    let users = |client: &str| {
        slow(client).replace(
            "arrivals = { process = \"poisson\", rate_rps = 9 }",
            "arrivals = { process = \"closed_loop\", users = 50, think_time = \"1s\" }",
        )
    };
    let without = run(&users(""));
    let with = run(&users("timeout = \"2s\""));
    let arrived = |s: &Value| s["requests"]["arrived"].as_u64().unwrap();
    assert_eq!(count(&without, "elb_460_client_closed"), 0);
    let gave_up = count(&with, "elb_460_client_closed");
    assert!(
        gave_up > arrived(&with) / 2,
        "{gave_up} of {}",
        arrived(&with)
    );
    assert!(
        arrived(&with) as f64 > 1.3 * arrived(&without) as f64,
        "{} vs {}",
        arrived(&with),
        arrived(&without)
    );
    assert!(
        (count(&with, "ok") as f64) < 0.5 * count(&without, "ok") as f64,
        "{} vs {}",
        count(&with, "ok"),
        count(&without, "ok")
    );
    for s in [&with, &without] {
        assert!(s["cpu_utilization"]["mean_pct"].as_f64().unwrap() > 97.0);
    }
}

/// Counts every request's ends, and the observer calls that come after one.
#[derive(Default)]
struct Ledger {
    ended: Vec<u8>,
    after_end: u64,
    by_cause: [u64; Cause::ALL.len()],
}

impl Observer for Ledger {
    fn request_arrived(&mut self, _: SimTime, r: &Request) {
        assert_eq!(r.serial as usize, self.ended.len());
        self.ended.push(0);
    }
    fn request_dispatched(&mut self, _: SimTime, r: &Request) {
        self.after_end += u64::from(self.ended[r.serial as usize] > 0);
    }
    fn request_started(&mut self, _: SimTime, r: &Request) {
        self.after_end += u64::from(self.ended[r.serial as usize] > 0);
    }
    fn request_finished(&mut self, _: SimTime, r: &Request, cause: Cause) {
        self.ended[r.serial as usize] += 1;
        self.by_cause[cause.index()] += 1;
    }
}

/// Requests that time out while queued for a worker, in CPU, in a wait and in a dependency
/// call, at tasks that a hang freezes and that a deployment drains and stops: each request
/// ends once, the observers hear nothing of it after its 460, and the run's counts add up.
#[test]
fn every_request_ends_once_with_timeouts() {
    let scenario = BASE
        .replace("rate_rps = 200.0", "rate_rps = 500.0")
        .replace(
            "name = \"c\"\n",
            "name = \"c\"\ntimeout = \"40ms\"\nrtt = { dist = \"exponential\", mean = \"5ms\" }\n",
        )
        + r#"
[[dependencies]]
name = "db"
latency = { dist = "exponential", mean = "10ms" }
capacity = 4

[[faults]]
type = "task_hang"
service = "svc"
at = "5s"
duration = "2s"
"#;
    let scenario = scenario
        .replace(
            "request = { cpu_time = { dist = \"exponential\", mean = \"5ms\" } }",
            "task = { cpu = 1024, memory = 2048, max_concurrency = 4 }\nrequest = { steps = [ { cpu = { dist = \"exponential\", mean = \"3ms\" } }, { wait = \"2ms\" }, { call = \"db\" } ] }",
        )
        .replacen("task = { cpu = 1024, memory = 2048 }\n", "", 1);
    let spec = load_text("t.toml", &scenario, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&spec, Ledger::default()).unwrap();
    sim.set_max_in_flight(u64::MAX);
    let stats = sim.run();
    let abandoned = sim.world().abandoned();
    let ledger = sim.into_observer();
    assert!(
        ledger.ended.iter().all(|&n| n <= 1),
        "a request ended twice"
    );
    assert_eq!(
        ledger.after_end, 0,
        "observers heard of a request after it ended"
    );
    let gave_up = ledger.by_cause[Cause::Elb460ClientClosed.index()];
    assert!(gave_up > 1000, "{gave_up}");
    let in_flight = ledger.ended.iter().filter(|&&n| n == 0).count() as u64;
    assert_eq!(stats.in_flight, in_flight);
    assert_eq!(
        stats.arrived,
        ledger.by_cause.iter().sum::<u64>() + in_flight
    );
    assert!(
        abandoned > 0,
        "requests abandoned at the end are still worked on"
    );
}

/// A task that hangs never answers: behind a 60 s idle timeout, a client with a 5 s timeout
/// gives up first (460 after 5 s) instead of waiting for the load balancer's 504.
#[test]
fn a_client_gives_up_on_a_hung_task_before_the_idle_timeout() {
    let hang = "\n[[faults]]\ntype = \"task_hang\"\nservice = \"api\"\nat = \"1m\"\n";
    let with = run(&(slow("timeout = \"5s\"").replace("rate_rps = 9", "rate_rps = 2") + hang));
    let without = run(&(slow("").replace("rate_rps = 9", "rate_rps = 2") + hang));
    assert!(count(&without, "elb_504_idle_timeout") > 100);
    assert_eq!(count(&with, "elb_504_idle_timeout"), 0);
    let gave_up = count(&with, "elb_460_client_closed");
    assert!(gave_up >= count(&without, "elb_504_idle_timeout"));
    assert_eq!(
        with["error_latency_ms"]["elb_460_client_closed"]["max"].as_f64(),
        Some(5000.0)
    );
}

/// Bad values name the field and the range.
#[test]
fn bad_timeouts_are_refused() {
    for (value, fragment) in [
        ("\"0s\"", "allowed 1ms–1h"),
        ("\"2h\"", "allowed 1ms–1h"),
        ("\"500us\"", "allowed 1ms–1h"),
    ] {
        let e = load_text("t.toml", &slow(&format!("timeout = {value}")), &[])
            .err()
            .unwrap_or_else(|| panic!("{value} accepted"))
            .to_string();
        assert!(
            e.contains("clients.0.timeout") && e.contains(fragment),
            "{e}"
        );
    }
    let e = load_text(
        "t.toml",
        &slow("timeout = \"1s\"\nwebsocket = { duration = \"1m\" }"),
        &[],
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("clients.0.timeout") && e.contains("WebSocket"),
        "{e}"
    );
    assert!(load_text("t.toml", &slow("timeout = \"1ms\""), &[]).is_ok());
    assert!(load_text("t.toml", &slow("timeout = \"1h\""), &[]).is_ok());
}
