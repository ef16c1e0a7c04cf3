//! The scenario file format: serde types mirroring the TOML (or JSON) document.
//!
//! Every table rejects unknown fields, so a typo is an error, not a silently ignored
//! setting. Durations are humane strings with a unit ("250ms", "30s", "5m", "2h", "9d").
//! Ranges are checked in [`super::validate`]; the README's scenario reference lists every
//! field with its unit, default, allowed range and AWS source, and [`schema`] describes the
//! format as a JSON Schema.

use std::borrow::Cow;
use std::path::PathBuf;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

use crate::engine::SimDuration;

/// A duration written as a humane string ("250ms", "1h 30m"), parsed by `humantime`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub SimDuration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a duration with a unit, like \"250ms\", \"30s\", \"5m\", \"2h\" or \"9d\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Dur, E> {
                parse_duration(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// The JSON Schema (draft 2020-12) of a scenario file, e.g. for editors: a TOML or JSON
/// editor given it completes field names and flags unknown fields, wrong types and
/// misspelled `process`, `dist`, `type` and `algorithm` values as you type. It describes
/// the format, not the ranges [`super::validate`] checks (the README lists those).
///
/// ```
/// let s = lbsim::scenario::file::schema();
/// assert_eq!(s["type"], "object");
/// assert!(s["properties"]["simulation"].is_object());
/// ```
pub fn schema() -> serde_json::Value {
    schemars::schema_for!(ScenarioFile).to_value()
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Dur").into()
    }

    /// A string: numbers each followed by a unit (`humantime`'s syntax, approximately).
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with a unit, like \"250ms\", \"30s\", \"5m\", \"2h\", \"9d\" or \"1h 30m\" (units ns, us, ms, s, m, h, d); a bare number is an error.",
            "pattern": "^\\s*([0-9]+(\\.[0-9]+)?\\s*[A-Za-zµ]+\\s*)+$",
            "examples": ["250ms", "30s", "1h 30m"]
        })
    }
}

/// Parses a humane duration ("250ms", "1h 30m", "0s").
///
/// # Errors
/// A message saying what was expected, for a missing unit, a negative value or an
/// overflow.
pub fn parse_duration(s: &str) -> Result<Dur, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!("\"{s}\" is negative; durations are ≥ 0"));
    }
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "\"{s}\" has no unit; write e.g. \"{t}s\" or \"{t}ms\" (units: ns, us, ms, s, m, h, d)"
        ));
    }
    let d = humantime::parse_duration(t).map_err(|e| {
        format!(
            "\"{s}\" is not a duration ({e}); write e.g. \"250ms\", \"30s\", \"5m\", \"2h\", \"9d\""
        )
    })?;
    let ns = u64::try_from(d.as_nanos())
        .map_err(|_| format!("\"{s}\" is too long (the limit is about 584 years)"))?;
    Ok(Dur(SimDuration(ns)))
}

/// The whole scenario document.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `[simulation]`.
    pub simulation: SimulationSection,
    /// `[[clients]]`.
    pub clients: Vec<ClientSection>,
    /// `[load_balancer]`.
    pub load_balancer: LoadBalancerSection,
    /// `[[target_groups]]`.
    pub target_groups: Vec<TargetGroupSection>,
    /// `[[services]]`.
    #[serde(default)]
    pub services: Vec<ServiceSection>,
}

/// `[simulation]`: how long, which seed, how often to sample metrics.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    /// Name written into outputs; default: the file name without extension.
    pub name: Option<String>,
    /// Simulated time to run.
    pub duration: Dur,
    /// Initial span excluded from statistics; default 0s.
    #[serde(default = "zero")]
    pub warmup: Dur,
    /// Master seed; default 1.
    #[serde(default = "one")]
    pub seed: u64,
    /// Width of a `metrics.csv` row; default 1m (CloudWatch's standard period).
    #[serde(default = "one_minute")]
    pub metrics_interval: Dur,
}

fn zero() -> Dur {
    Dur(SimDuration::ZERO)
}
fn one() -> u64 {
    1
}
fn one_minute() -> Dur {
    Dur(SimDuration::from_secs(60))
}

/// `[[clients]]`: a source of requests.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    /// Unique name.
    pub name: String,
    /// The arrival process.
    pub arrivals: ArrivalsSection,
    /// Client ↔ load balancer round-trip time; default "0s".
    #[serde(default)]
    pub rtt: Option<Delay>,
    /// Listener port to send to; default: the first listener.
    pub port: Option<u16>,
}

/// `arrivals = { process = ... }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "process", rename_all = "snake_case", deny_unknown_fields)]
pub enum ArrivalsSection {
    /// Poisson arrivals at a constant rate.
    Poisson {
        /// Requests per second.
        rate_rps: f64,
    },
    /// Deterministic arrivals (Kendall's D): request k (k = 1, 2, ...) at exactly
    /// k / `rate_rps` seconds, like a constant-throughput load generator.
    Deterministic {
        /// Requests per second.
        rate_rps: f64,
    },
    /// A rate schedule: `points = [["0s", 100], ["10m", 500]]`.
    Schedule {
        /// `step` (hold each rate until the next point) or `linear` (interpolate).
        #[serde(default)]
        shape: Shape,
        /// (time, requests/s) pairs; the first time must be "0s".
        points: Vec<(Dur, f64)>,
        /// Repeat the schedule after its last point (the last point's time is the period);
        /// default false: the last rate holds to the end.
        #[serde(default)]
        repeat: bool,
    },
    /// A replayed `t_s,rps` trace.
    Trace {
        /// CSV file, relative to the scenario file's directory.
        file: PathBuf,
        /// Multiplies every rate; default 1.
        #[serde(default = "unit_scale")]
        scale: f64,
        /// Offset into the trace where the simulation's t = 0 falls; default "0s".
        #[serde(default = "zero")]
        start: Dur,
        /// Length of the window replayed; default: to the end of the trace.
        duration: Option<Dur>,
        /// Replay the window again when it ends; default false (rate 0 afterwards).
        #[serde(default, rename = "loop")]
        looped: bool,
    },
}

fn unit_scale() -> f64 {
    1.0
}

/// How a schedule's rate moves between points.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Piecewise constant.
    #[default]
    Step,
    /// Piecewise linear.
    Linear,
}

/// A delay: a constant duration string, or a distribution table.
#[derive(Clone, Debug)]
pub enum Delay {
    /// A fixed delay.
    Constant(Dur),
    /// A random delay.
    Dist(DistSection),
}

impl JsonSchema for Delay {
    fn schema_name() -> Cow<'static, str> {
        "Delay".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Delay").into()
    }

    /// A duration string, or a distribution table, as [`Delay`]'s `Deserialize` accepts.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A constant duration (\"10ms\") or a distribution table ({ dist = \"exponential\", mean = \"10ms\" }).",
            "anyOf": [
                generator.subschema_for::<Dur>(),
                generator.subschema_for::<DistSection>()
            ]
        })
    }
}

impl<'de> Deserialize<'de> for Delay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::String(s) => parse_duration(&s)
                .map(Delay::Constant)
                .map_err(D::Error::custom),
            serde_json::Value::Object(_) => serde_json::from_value(v)
                .map(Delay::Dist)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a duration like \"20ms\" or a distribution like {{ dist = \"exponential\", mean = \"10ms\" }}, found {other}"
            ))),
        }
    }
}

/// A distribution of durations: `{ dist = "exponential", mean = "10ms" }`...
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistSection {
    /// Always `value`.
    Deterministic {
        /// The value.
        value: Dur,
    },
    /// Exponential.
    Exponential {
        /// Mean.
        mean: Dur,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower bound.
        min: Dur,
        /// Upper bound.
        max: Dur,
    },
    /// Log-normal by mean and coefficient of variation.
    Lognormal {
        /// Mean.
        mean: Dur,
        /// Standard deviation ÷ mean.
        cv: f64,
    },
    /// Gamma by mean and coefficient of variation.
    Gamma {
        /// Mean.
        mean: Dur,
        /// Standard deviation ÷ mean.
        cv: f64,
    },
    /// Pareto (type I) by mean and tail index.
    Pareto {
        /// Mean.
        mean: Dur,
        /// Tail index (> 1).
        alpha: f64,
    },
    /// Resampled observations from a CSV file (first column, milliseconds, under a header).
    Empirical {
        /// CSV file, relative to the scenario file's directory.
        file: PathBuf,
    },
}

/// `[load_balancer]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerSection {
    /// Name; default "alb".
    #[serde(default = "default_lb_name")]
    pub name: String,
    /// Load balancer type; only "application" for now.
    #[serde(rename = "type", default = "default_lb_type")]
    pub kind: String,
    /// Time from receiving a request to sending it to a target; default "0s".
    #[serde(default)]
    pub processing_time: Option<Delay>,
    /// `[[load_balancer.listeners]]`.
    pub listeners: Vec<ListenerSection>,
}

fn default_lb_name() -> String {
    "alb".into()
}
fn default_lb_type() -> String {
    "application".into()
}

/// `[[load_balancer.listeners]]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerSection {
    /// Port, 1–65535.
    pub port: u16,
    /// "HTTP" or "HTTPS"; default "HTTP".
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// `{ type = "forward", target_group = "web" }`.
    pub default_action: ActionSection,
}

fn default_protocol() -> String {
    "HTTP".into()
}

/// A listener action.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSection {
    /// Forward to a target group by name.
    Forward {
        /// Target group name.
        target_group: String,
    },
}

/// `[[target_groups]]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetGroupSection {
    /// Name (AWS rule: 1–32 letters, digits and hyphens, not starting or ending with a hyphen).
    pub name: String,
    /// `load_balancing.algorithm.type`; default "round_robin" (the AWS default).
    #[serde(default = "default_algorithm")]
    #[schemars(schema_with = "algorithm_schema")]
    pub algorithm: String,
}

/// One of the algorithms' names (checked in [`super::validate`], which lists them in its
/// message; the schema lists them for editors).
fn algorithm_schema(_: &mut SchemaGenerator) -> Schema {
    let names = crate::model::Algorithm::ALL.map(crate::model::Algorithm::name);
    json_schema!({
        "type": "string",
        "enum": names,
        "default": default_algorithm()
    })
}

fn default_algorithm() -> String {
    "round_robin".into()
}

/// `[[services]]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// Unique name.
    pub name: String,
    /// Name of the target group its tasks register in.
    pub target_group: String,
    /// Number of tasks (ECS `desiredCount`).
    pub desired_count: u32,
    /// Task size.
    #[serde(default)]
    pub task: TaskSection,
    /// Work per request.
    pub request: RequestSection,
}

/// `task = { cpu = 1024, memory = 2048, max_concurrency = 0 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSection {
    /// CPU units (task definition `cpu`); default 1024.
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    /// MiB (task definition `memory`); default 2048.
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// Requests served at once, the rest wait in FIFO; 0 = no limit (default).
    #[serde(default)]
    pub max_concurrency: u32,
}

impl Default for TaskSection {
    fn default() -> Self {
        TaskSection {
            cpu: default_cpu(),
            memory: default_memory(),
            max_concurrency: 0,
        }
    }
}

fn default_cpu() -> u32 {
    1024
}
fn default_memory() -> u32 {
    2048
}

/// `request = { cpu_time = { dist = ... } }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSection {
    /// CPU time a request needs on one vCPU.
    pub cpu_time: Delay,
}
