//! Validation: every field against its allowed range (AWS's where the field mirrors an AWS
//! setting), and resolution of names and files into a [`WorldSpec`].
//!
//! One submodule per section of the scenario file, in the order [`resolve`] checks them:
//! `simulation`, `target_groups` (first: the other sections refer to target groups by
//! name; their health checks), `load_balancer` (and its listeners), `nlb` (what
//! `type = "network"` allows and forbids), `clients` (arrival
//! processes and schedules), `dependencies` (before the services, whose request steps call
//! them by name), `services` (Fargate task sizes, request and health check steps, memory,
//! lifecycle phases, the health check grace period; through `spot`, the capacity provider
//! strategy and Spot interruptions), `faults` (windows on named
//! dependencies, crashes of named services' tasks), `network` (the `[[subnets]]` tasks take
//! their addresses from: CIDR blocks, Availability Zones), `pricing` (the prices of the
//! cost model);
//! `dist` checks the delays and distributions they share, and the memory distributions.
//! Every problem is collected, not just the first, in that order.
//! `[[assert]]` (the scenario's SLOs, not the model) is checked by [`resolve_asserts`].

mod asserts;
mod autoscaling;
mod blue_green;
mod clients;
mod dependencies;
mod dist;
mod faults;
mod load_balancer;
mod network;
mod nlb;
mod pricing;
mod rules;
mod services;
mod simulation;
mod spot;
mod stickiness;
mod target_groups;

use std::collections::BTreeMap;
use std::path::Path;

use super::ScenarioError;
use super::file::{ScenarioFile, SignedDur};
use crate::engine::{NANOS_PER_SEC, SimDuration};
use crate::model::WorldSpec;

pub use asserts::{Assertion, resolve_asserts};
pub use rules::parse_block;
pub use services::{fargate_memory_range, fargate_pair_is_valid};
pub use simulation::{MAX_NAME_LEN, is_safe_name, safe_default_name};

/// One problem found in a scenario: the field's dotted path and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Dotted path of the field, as `--set` spells it (`services.0.task.cpu`).
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// Set when the problem is inside another file (a trace): that file and line.
    pub data_file: Option<(std::path::PathBuf, Option<u64>)>,
}

/// Longest simulated duration accepted.
pub const MAX_DURATION: SimDuration = SimDuration(366 * 86_400 * NANOS_PER_SEC);
/// Highest arrival rate accepted for one client, requests/s.
pub const MAX_RATE_RPS: f64 = 10_000_000.0;
/// Most tasks per service (ECS service quota "Tasks per service": 5,000).
pub const MAX_DESIRED_COUNT: u32 = 5_000;
/// Most listeners per load balancer (ALB quota: 50).
pub const MAX_LISTENERS: usize = 50;
/// Most target groups per load balancer (ALB quota: 100).
pub const MAX_TARGET_GROUPS: usize = 100;
/// Most clients per scenario.
const MAX_CLIENTS: usize = 1000;
/// Most requests a task serves at once (`task.max_concurrency`).
pub const MAX_CONCURRENCY: u32 = 1_000_000;
/// Most calls a dependency serves at once (`capacity`), and most connections in a task's
/// pool (`pool_size`).
pub const MAX_CAPACITY: u32 = 1_000_000;
/// Most dependencies per scenario.
pub const MAX_DEPENDENCIES: usize = 100;
/// Most faults per scenario.
pub const MAX_FAULTS: usize = 1000;
/// Most steps in one request's profile.
pub const MAX_STEPS: usize = 64;
/// Longest target group `deregistration_delay` (AWS `deregistration_delay.timeout_seconds`:
/// 0–3600 s).
pub const MAX_DEREGISTRATION_DELAY: SimDuration = SimDuration::from_secs(3600);
/// Shortest and longest target group `slow_start` when it is on (AWS
/// `slow_start.duration_seconds`: 0 to turn it off, or 30–900 s).
pub const SLOW_START: (SimDuration, SimDuration) =
    (SimDuration::from_secs(30), SimDuration::from_secs(900));
/// Longest target group `deregistration_propagation_lag` (lbsim's cap: users report "a
/// few seconds").
pub const MAX_PROPAGATION_LAG: SimDuration = SimDuration::from_secs(60);
/// Longest `lifecycle` phase of a task (lbsim's cap, not AWS's: a phase of more than an hour
/// is a mistake).
pub const MAX_LIFECYCLE_PHASE: SimDuration = SimDuration::from_secs(3600);
/// Longest `lifecycle.stop_timeout` (AWS `stopTimeout`: at most 120 s on Fargate).
pub const MAX_STOP_TIMEOUT: SimDuration = SimDuration::from_secs(120);
/// Most `[[subnets]]` (AWS: "There's a limit of 16 subnets that can be specified" in an
/// `awsvpcConfiguration`,
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html>).
pub const MAX_SUBNETS: usize = 16;
/// Shortest and longest health check `interval` (AWS `HealthCheckIntervalSeconds`: 5–300 s).
pub const HEALTH_CHECK_INTERVAL: (SimDuration, SimDuration) =
    (SimDuration::from_secs(5), SimDuration::from_secs(300));
/// Shortest and longest health check `timeout` (AWS `HealthCheckTimeoutSeconds`: 2–120 s,
/// and less than the interval).
pub const HEALTH_CHECK_TIMEOUT: (SimDuration, SimDuration) =
    (SimDuration::from_secs(2), SimDuration::from_secs(120));
/// Fewest and most consecutive results of a health check threshold (AWS
/// `HealthyThresholdCount`, `UnhealthyThresholdCount`: 2–10).
pub const HEALTH_CHECK_THRESHOLD: (i64, i64) = (2, 10);
/// Fewest and most passes of a new target (`initial_passes`: lbsim's range, the thresholds'
/// upper bound).
pub const INITIAL_PASSES: (i64, i64) = (1, 10);
/// Longest health check `path` (AWS `HealthCheckPath`: at most 1024 characters).
pub const MAX_HEALTH_CHECK_PATH: usize = 1024;
/// Lowest and highest HTTP code of a health check `matcher` (AWS `Matcher.HttpCode` for
/// HTTP and HTTPS: 200–499).
pub const HEALTH_CHECK_CODES: (u16, u16) = (200, 499);
/// Longest `health_check_grace_period` (ECS `healthCheckGracePeriodSeconds`: 0–2,147,483,647
/// s).
pub const MAX_HEALTH_CHECK_GRACE_PERIOD: SimDuration = SimDuration::from_secs(2_147_483_647);

/// Shortest and longest load balancer `idle_timeout` (AWS `idle_timeout.timeout_seconds`:
/// 1–4000 s).
pub const IDLE_TIMEOUT: (SimDuration, SimDuration) =
    (SimDuration::from_secs(1), SimDuration::from_secs(4000));

/// Target group indices by name.
type TargetGroupIndex = BTreeMap<String, usize>;
/// Dependency indices by name.
type DependencyIndex = BTreeMap<String, usize>;
/// Service indices by name, with each service's `desired_count`.
type ServiceIndex = BTreeMap<String, (usize, u32)>;
/// Listener indices by port.
type PortIndex = BTreeMap<u16, usize>;

/// The state of one validation: where relative paths are read from, and the problems
/// found so far. Each section's submodule adds its checks as methods or free functions.
struct Ctx<'a> {
    base: &'a Path,
    issues: Vec<Issue>,
    /// What is valid but probably not meant (see [`super::Scenario::warnings`]).
    warnings: Vec<String>,
}

impl Ctx<'_> {
    /// Records a problem with the field at `path`.
    fn bad(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(Issue {
            path: path.into(),
            message: message.into(),
            data_file: None,
        });
    }

    /// Records a problem inside a data file (a trace, a sample) named by the field at `path`.
    fn bad_data(&mut self, path: String, e: &ScenarioError) {
        self.issues.push(Issue {
            path,
            message: e.message.clone(),
            data_file: Some((e.file.clone(), e.line)),
        });
    }

    /// Checks a name: 1–`max_len` letters, digits, hyphens (and underscores when
    /// `allow_underscore`); AWS names (no underscores) must not begin or end with a hyphen.
    fn name(&mut self, path: &str, name: &str, what: &str, max_len: usize, allow_underscore: bool) {
        let ok_char =
            |c: char| c.is_ascii_alphanumeric() || c == '-' || (allow_underscore && c == '_');
        if name.is_empty() || name.len() > max_len || !name.chars().all(ok_char) {
            let allowed = if allow_underscore {
                "letters, digits, hyphens and underscores"
            } else {
                "letters, digits and hyphens"
            };
            self.bad(
                path,
                format!("\"{name}\" is not a valid {what} name: use 1–{max_len} {allowed}"),
            );
        } else if !allow_underscore && (name.starts_with('-') || name.ends_with('-')) {
            self.bad(
                path,
                format!("\"{name}\": a {what} name must not begin or end with a hyphen (AWS rule)"),
            );
        }
    }

    /// The index of the target group called `name`, or an issue at `path` listing the
    /// known names.
    fn target_group(&mut self, path: &str, name: &str, known: &TargetGroupIndex) -> usize {
        if let Some(&t) = known.get(name) {
            return t;
        }
        let names: Vec<&str> = known.keys().map(String::as_str).collect();
        self.bad(
            path,
            format!(
                "no target group is named \"{name}\" (known: {})",
                names.join(", ")
            ),
        );
        0
    }

    /// The index of the dependency called `name`, or an issue at `path` listing the
    /// defined names.
    fn dependency(&mut self, path: &str, name: &str, known: &DependencyIndex) -> usize {
        if let Some(&d) = known.get(name) {
            return d;
        }
        let defined = if known.is_empty() {
            "none is defined: add a [[dependencies]] table with name = ...".to_string()
        } else {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            format!("defined: {}", names.join(", "))
        };
        self.bad(
            path,
            format!("no dependency is named \"{name}\" ({defined})"),
        );
        0
    }

    /// The index and `desired_count` of the service called `name`, or an issue at `path`
    /// listing the defined names.
    fn service(&mut self, path: &str, name: &str, known: &ServiceIndex) -> (usize, u32) {
        if let Some(&s) = known.get(name) {
            return s;
        }
        let defined = if known.is_empty() {
            "none is defined: add a [[services]] table with name = ...".to_string()
        } else {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            format!("defined: {}", names.join(", "))
        };
        self.bad(path, format!("no service is named \"{name}\" ({defined})"));
        (0, 0)
    }

    /// Checks that `d` is a whole number of seconds, at most `max` (`what` names the setting
    /// and its source, for the message).
    fn whole_seconds(&mut self, path: &str, d: SimDuration, max: SimDuration, what: &str) {
        self.whole_seconds_in(path, d, SimDuration::ZERO, max, what);
    }

    /// Checks that `d` is a whole number of seconds in `[min, max]` (`what` names the setting
    /// and its source, for the message); false (and an issue) if not.
    fn whole_seconds_in(
        &mut self,
        path: &str,
        d: SimDuration,
        min: SimDuration,
        max: SimDuration,
        what: &str,
    ) -> bool {
        let allowed = format!(
            "allowed {}–{} in whole seconds ({what})",
            secs(min),
            secs(max)
        );
        let whole = d.0 % NANOS_PER_SEC == 0;
        if d > max {
            self.bad(path, format!("{}: too long; {allowed}", secs(d)));
        } else if d < min {
            let and = if whole {
                ""
            } else {
                ", and not a whole number of seconds"
            };
            self.bad(path, format!("{}: too short{and}; {allowed}", secs(d)));
        } else if !whole {
            self.bad(
                path,
                format!(
                    "{}: not a whole number of seconds (AWS takes an integer); {allowed}",
                    secs(d)
                ),
            );
        } else {
            return true;
        }
        false
    }

    /// Checks that `v`, possibly written negative, is a whole number of seconds in
    /// `[min, max]` (`what` names the setting and its source, for the message); false (and
    /// an issue) if not.
    fn signed_seconds_in(
        &mut self,
        path: &str,
        v: SignedDur,
        min: SimDuration,
        max: SimDuration,
        what: &str,
    ) -> bool {
        if v.negative && !v.magnitude.is_zero() {
            self.bad(
                path,
                format!(
                    "-{}: negative; allowed {}–{} in whole seconds ({what})",
                    secs(v.magnitude),
                    secs(min),
                    secs(max)
                ),
            );
            return false;
        }
        self.whole_seconds_in(path, v.magnitude, min, max, what)
    }

    /// Checks that `v` is finite, > 0 and ≤ `max` (in `unit`); false (and an issue) if not.
    fn positive_finite(&mut self, path: &str, v: f64, max: f64, unit: &str) -> bool {
        if !(v.is_finite() && v > 0.0 && v <= max) {
            self.bad(path, format!("{v}: must be > 0 and ≤ {max} {unit}"));
            return false;
        }
        true
    }

    /// Checks that names are unique; `items` are (field path, name). Returns the index of
    /// the first item with each name.
    fn unique<'n>(
        &mut self,
        what: &str,
        items: impl Iterator<Item = (String, &'n str)>,
    ) -> BTreeMap<String, usize> {
        let mut seen = BTreeMap::new();
        for (i, (path, name)) in items.enumerate() {
            if seen.insert(name.to_string(), i).is_some() {
                self.bad(
                    path,
                    format!("{what} name \"{name}\" is used twice; names must be unique"),
                );
            }
        }
        seen
    }
}

/// `d` in seconds, like `"30s"` or `"1.5s"`.
fn secs(d: SimDuration) -> String {
    if d.0 % NANOS_PER_SEC == 0 {
        format!("{}s", d.0 / NANOS_PER_SEC)
    } else {
        format!("{}s", d.0 as f64 / NANOS_PER_SEC as f64)
    }
}

/// Checks `file` and resolves it into a [`WorldSpec`], with warnings: what is valid but
/// probably not meant (a trace shorter than the run), one line each. `base` is the directory
/// relative paths are read from; `default_name` names the scenario when `simulation.name` is
/// unset (made safe: see [`safe_default_name`]).
///
/// # Errors
/// Every [`Issue`] found (not just the first).
pub fn resolve(
    file: &ScenarioFile,
    base: &Path,
    default_name: &str,
) -> Result<(WorldSpec, Vec<String>), Vec<Issue>> {
    let mut ctx = Ctx {
        base,
        issues: Vec::new(),
        warnings: Vec::new(),
    };
    let sim = &file.simulation;
    let name = simulation::check(&mut ctx, sim, default_name);
    let (mut target_groups, tg_index) = target_groups::resolve(&mut ctx, &file.target_groups);
    let (load_balancer, ports) = load_balancer::resolve(
        &mut ctx,
        &file.load_balancer,
        &tg_index,
        &faults::zones(file.subnets.as_deref()),
    );
    nlb::check(&mut ctx, file, &load_balancer, &mut target_groups);
    let clients = clients::resolve(&mut ctx, &file.clients, &ports, sim.duration.0);
    let (dependencies, dep_index) = dependencies::resolve(&mut ctx, &file.dependencies);
    let (mut services, svc_index) = services::resolve(
        &mut ctx,
        &file.services,
        &tg_index,
        &dep_index,
        sim.duration.0,
    );
    let faults = faults::resolve(
        &mut ctx,
        &file.faults,
        &dep_index,
        &svc_index,
        &faults::zones(file.subnets.as_deref()),
        sim.duration.0,
    );
    let subnets = network::resolve(&mut ctx, file.subnets.as_deref());
    let cloudwatch_ingestion_delay = autoscaling::cloudwatch(&mut ctx, &file.cloudwatch);
    let pricing = pricing::resolve(&mut ctx, &file.pricing);
    let blue_green = blue_green::resolve(
        &mut ctx,
        &file.blue_green,
        (&file.load_balancer.kind, &load_balancer),
        &ports,
        &mut services,
        &svc_index,
        sim.duration.0,
    );
    if !ctx.issues.is_empty() {
        return Err(ctx.issues);
    }
    let spec = WorldSpec {
        name,
        seed: sim.seed,
        duration: sim.duration.0,
        warmup: sim.warmup.0,
        metrics_interval: sim.metrics_interval.0,
        clients,
        load_balancer,
        target_groups,
        services,
        dependencies,
        faults,
        subnets,
        cloudwatch_ingestion_delay,
        pricing,
        blue_green,
    };
    Ok((spec, ctx.warnings))
}
