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

/// An amount written as a number, or as a distribution table of such numbers
/// ([`MemoryDistSection`]): the enum `$name` with its JSON Schema and its `Deserialize`
/// (`$unit` names the numbers in errors, `$schema` describes the field, `$expected` is what
/// an error says was expected).
macro_rules! number_or_dist {
    ($(#[$doc:meta])* $name:ident, $unit:literal, $schema:literal, $expected:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub enum $name {
            /// A fixed amount.
            Constant(f64),
            /// A random amount.
            Dist(MemoryDistSection),
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_id() -> Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }

            /// A number, or a distribution table, as the `Deserialize` accepts.
            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "description": $schema,
                    "anyOf": [
                        { "type": "number", "minimum": 0 },
                        generator.subschema_for::<MemoryDistSection>()
                    ]
                })
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error;
                let v = serde_json::Value::deserialize(d)?;
                match v {
                    serde_json::Value::Number(n) => n
                        .as_f64()
                        .map($name::Constant)
                        .ok_or_else(|| D::Error::custom(format!(concat!("{} is not a number of ", $unit), n))),
                    serde_json::Value::Object(_) => serde_json::from_value(v)
                        .map($name::Dist)
                        .map_err(D::Error::custom),
                    other => Err(D::Error::custom(format!(
                        concat!("expected ", $expected, ", found {}"),
                        other
                    ))),
                }
            }
        }
    };
}

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

/// A duration that is read even when written negative ("-5s"), for the settings whose range
/// validation reports (AWS's whole-second settings): a negative value is then an error that
/// names the field's allowed range, not only the fact that durations are ≥ 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedDur {
    /// True when written with a leading `-`.
    pub negative: bool,
    /// The magnitude.
    pub magnitude: SimDuration,
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SignedDur;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a duration with a unit, like \"250ms\", \"30s\", \"5m\", \"2h\" or \"9d\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<SignedDur, E> {
                let t = s.trim();
                let (negative, rest) = match t.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, t),
                };
                parse_duration(rest)
                    .map(|v| SignedDur {
                        negative,
                        magnitude: v.0,
                    })
                    .map_err(|e| {
                        E::custom(if negative {
                            format!("{e} (in \"{s}\")")
                        } else {
                            e
                        })
                    })
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for SignedDur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Dur").into()
    }

    /// [`Dur`]'s schema: a negative value is not valid, only read to be reported well.
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Dur::json_schema(generator)
    }
}

/// The JSON Schema (draft 2020-12) of a scenario file, e.g. for editors: a TOML or JSON
/// editor given it completes field names and flags unknown fields, wrong types and
/// misspelled `process`, `dist`, `type`, `algorithm` and `when_full` values as you type. It describes
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
    /// `[[dependencies]]`: backends the services' request steps call; default none.
    #[serde(default)]
    pub dependencies: Vec<DependencySection>,
    /// `[[faults]]`: faults injected during the run; default none.
    #[serde(default)]
    pub faults: Vec<FaultSection>,
    /// `[[subnets]]`: the subnets every service's tasks take their private IP from (the
    /// awsvpc network configuration), 1–16; default (absent): lbsim's default network, one
    /// `/24` in each of `us-east-1a`, `us-east-1b` and `us-east-1c`.
    #[serde(default)]
    pub subnets: Option<Vec<SubnetSection>>,
    /// `[cloudwatch]`: how the CloudWatch model publishes the datapoints the scaling
    /// policies read; every field optional.
    #[serde(default)]
    pub cloudwatch: CloudWatchSection,
    /// `[pricing]`: the prices the run's cost is computed with; every field optional,
    /// default AWS us-east-1 (Linux).
    #[serde(default)]
    pub pricing: PricingSection,
    /// `[[assert]]`: service level objectives the run must meet (`lbsim run` and
    /// `lbsim check` exit 1 naming each one broken); default none. Not part of the model:
    /// they are checked on the run's summary.
    #[serde(default, rename = "assert")]
    pub asserts: Vec<AssertSection>,
    /// `[[blue_green]]`: blue/green deployments with CodeDeploy-style traffic shifting
    /// between two services behind a weighted forward; default none.
    #[serde(default)]
    pub blue_green: Vec<BlueGreenSection>,
}

/// `[[blue_green]]`: a blue/green deployment (ECS deployment controller `CODE_DEPLOY`):
/// production traffic shifts from the blue service's target group to the green service's
/// by changing a weighted forward's weights (see `model::ecs::blue_green`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlueGreenSection {
    /// The original service (its target group is in the forward with a positive weight).
    pub blue_service: String,
    /// The replacement service (its target group is in the forward with weight 0); its
    /// `desired_count` tasks are launched at `at`.
    pub green_service: String,
    /// The production listener's port; default the first listener.
    #[serde(default)]
    pub listener: Option<u16>,
    /// The priority of the listener rule whose forward is shifted; default none: the
    /// listener's default action.
    #[serde(default)]
    pub rule: Option<i64>,
    /// When the deployment starts (green's tasks are launched then); default "0s": green's
    /// tasks are the green service's initial ones, warm.
    #[serde(default)]
    pub at: Option<Dur>,
    /// A predefined CodeDeploy configuration name (default
    /// "CodeDeployDefault.ECSAllAtOnce"), or a custom one `{ type = "canary" | "linear",
    /// percent, interval }`.
    #[serde(default)]
    pub deployment_config: Option<DeploymentConfigSection>,
    /// CodeDeploy `terminationWaitTimeInMinutes`: from the last traffic shift to the
    /// termination of the blue task set; whole minutes, 0–2880 min; default "1h".
    #[serde(default)]
    pub termination_wait: Option<Dur>,
    /// A CloudWatch alarm on the green service's metrics (as `step_scaling[].alarm`): in
    /// `ALARM` during the deployment, it rolls back; default none.
    #[serde(default)]
    pub alarm: Option<AlarmSection>,
}

/// A blue/green deployment configuration: a predefined name, or a custom table.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DeploymentConfigSection {
    /// `"CodeDeployDefault.ECSAllAtOnce"`, `"CodeDeployDefault.ECSCanary10Percent5Minutes"`...
    Predefined(String),
    /// `{ type = "canary", percent = 10, interval = "5m" }`.
    Custom(CustomDeploymentConfigSection),
}

/// A custom CodeDeploy configuration (`TimeBasedCanary` or `TimeBasedLinear`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomDeploymentConfigSection {
    /// "canary" (`TimeBasedCanary`) or "linear" (`TimeBasedLinear`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `canaryPercentage` / `linearPercentage`: 1–99.
    pub percent: i64,
    /// `canaryInterval` / `linearInterval`: whole minutes, 1–2880 min (lbsim's range).
    pub interval: Dur,
}

/// One `[[assert]]`: a bound on a flat metric of the run's summary (`latency_p99_ms`,
/// `fraction_5xx`, ...: the names of `lbsim::metrics::flat_metrics`), at least one of `min`
/// and `max`, both inclusive.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertSection {
    /// The flat metric's name, e.g. `latency_p99_ms`.
    pub metric: String,
    /// The lowest value allowed, in the metric's unit (inclusive).
    #[serde(default, deserialize_with = "present_number")]
    pub min: Option<f64>,
    /// The highest value allowed, in the metric's unit (inclusive).
    #[serde(default, deserialize_with = "present_number")]
    pub max: Option<f64>,
}

/// A number that is there when the field is: TOML's `nan` and `inf` reach the reader as
/// null, which must be an error, not "no bound".
fn present_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    use serde::de::Error;
    Option::<f64>::deserialize(d)?
        .map(Some)
        .ok_or_else(|| D::Error::custom("expected a finite number (not nan, inf or null)"))
}

/// `[cloudwatch]`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchSection {
    /// From the end of a one-minute period to the publication of its datapoints to alarms;
    /// 0s–10m, default "60s" (AWS publishes no figure: a calibrated guess, see README).
    #[serde(default)]
    pub ingestion_delay: Option<Dur>,
}

/// `[pricing]`: US dollars. Defaults: AWS us-east-1, Linux (see `model::cost`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingSection {
    /// Fargate Linux/x86 per vCPU-hour; default 0.04048.
    #[schemars(range(min = 0, max = 10))]
    #[serde(default = "pricing_defaults::fargate_vcpu_hour_usd")]
    pub fargate_vcpu_hour_usd: f64,
    /// Fargate Linux/x86 per GB-hour of memory; default 0.004445.
    #[schemars(range(min = 0, max = 10))]
    #[serde(default = "pricing_defaults::fargate_gb_hour_usd")]
    pub fargate_gb_hour_usd: f64,
    /// Fargate Linux/ARM64 (Graviton) per vCPU-hour; default 0.03238.
    #[schemars(range(min = 0, max = 10))]
    #[serde(default = "pricing_defaults::fargate_arm64_vcpu_hour_usd")]
    pub fargate_arm64_vcpu_hour_usd: f64,
    /// Fargate Linux/ARM64 per GB-hour; default 0.00356.
    #[schemars(range(min = 0, max = 10))]
    #[serde(default = "pricing_defaults::fargate_arm64_gb_hour_usd")]
    pub fargate_arm64_gb_hour_usd: f64,
    /// Fargate Spot's discount on the on-demand price, 0 ≤ d < 1; default 0.70 (AWS's "up
    /// to 70 %"; the real Spot price varies, commonly 50–70 % off).
    #[schemars(range(min = 0, max = 1))]
    #[serde(default = "pricing_defaults::fargate_spot_discount")]
    pub fargate_spot_discount: f64,
    /// ALB per load balancer-hour (partial hours billed as full hours); default 0.0225.
    #[schemars(range(min = 0, max = 10))]
    #[serde(default = "pricing_defaults::alb_hour_usd")]
    pub alb_hour_usd: f64,
    /// ALB per LCU-hour; default 0.008.
    #[schemars(range(min = 0, max = 10))]
    #[serde(default = "pricing_defaults::alb_lcu_hour_usd")]
    pub alb_lcu_hour_usd: f64,
}

impl Default for PricingSection {
    fn default() -> Self {
        let d = crate::model::PricingSpec::default();
        PricingSection {
            fargate_vcpu_hour_usd: d.fargate_vcpu_hour_usd,
            fargate_gb_hour_usd: d.fargate_gb_hour_usd,
            fargate_arm64_vcpu_hour_usd: d.fargate_arm64_vcpu_hour_usd,
            fargate_arm64_gb_hour_usd: d.fargate_arm64_gb_hour_usd,
            fargate_spot_discount: d.fargate_spot_discount,
            alb_hour_usd: d.alb_hour_usd,
            alb_lcu_hour_usd: d.alb_lcu_hour_usd,
        }
    }
}

/// The defaults of `[pricing]`'s fields (a field written as NaN, which the TOML reader
/// turns into null, is then an error rather than the default).
mod pricing_defaults {
    pub fn fargate_vcpu_hour_usd() -> f64 {
        crate::model::PricingSpec::default().fargate_vcpu_hour_usd
    }
    pub fn fargate_gb_hour_usd() -> f64 {
        crate::model::PricingSpec::default().fargate_gb_hour_usd
    }
    pub fn fargate_arm64_vcpu_hour_usd() -> f64 {
        crate::model::PricingSpec::default().fargate_arm64_vcpu_hour_usd
    }
    pub fn fargate_arm64_gb_hour_usd() -> f64 {
        crate::model::PricingSpec::default().fargate_arm64_gb_hour_usd
    }
    pub fn fargate_spot_discount() -> f64 {
        crate::model::PricingSpec::default().fargate_spot_discount
    }
    pub fn alb_hour_usd() -> f64 {
        crate::model::PricingSpec::default().alb_hour_usd
    }
    pub fn alb_lcu_hour_usd() -> f64 {
        crate::model::PricingSpec::default().alb_lcu_hour_usd
    }
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
    /// Bytes of each request (headers and body) the load balancer processes: a number, or
    /// a distribution of numbers of bytes; default 1024.
    #[serde(default)]
    pub request_size: Option<ByteAmount>,
    /// Bytes of each response from a target: a number, or a distribution of numbers of
    /// bytes; default 10240.
    #[serde(default)]
    pub response_size: Option<ByteAmount>,
    /// Open-loop arrivals only: spread the requests over a pool of sessions (cookie jars,
    /// for sticky target groups), `sessions = { count = 100 }`; default: no sessions.
    /// Closed-loop users are sessions already.
    #[serde(default)]
    pub sessions: Option<SessionsSection>,
    /// `[[clients.requests]]`: the request mix; default: every request is `GET /`.
    #[serde(default)]
    pub requests: Vec<MixEntrySection>,
    /// Pool of source addresses (IPv4 or IPv6 CIDR blocks), one drawn per request (a block
    /// by its size, an IPv6 block's counted as at most 2^32, then uniformly in it); default:
    /// none (0.0.0.0).
    #[serde(default)]
    pub source_ips: Vec<String>,
    /// Client keep-alive: `{ requests = 100, idle = "30s" }`: a connection carries up to
    /// `requests` requests (1–1000000) and is closed after `idle` (0s–1d; the load
    /// balancer's `idle_timeout` closes it first if shorter) without one. Default none: a
    /// new connection per request, as before.
    #[serde(default)]
    pub keep_alive: Option<ClientKeepAliveSection>,
    /// Round trips of the TLS handshake a new connection to an HTTPS listener pays: 1 (TLS
    /// 1.3) or 2 (TLS 1.2); default 1.
    #[serde(default)]
    pub tls_handshake_round_trips: Option<i64>,
    /// `websocket = { duration = "10m" | {dist} }`: every request of this client is a
    /// WebSocket upgrade that stays open on its target for `duration`. Default none.
    #[serde(default)]
    pub websocket: Option<WebsocketSection>,
    /// How long the client waits for each response before it gives up and closes its
    /// connection (the request ends with a 460), 1ms–1h; default none: it waits for ever.
    /// Not with `websocket`.
    #[serde(default)]
    pub timeout: Option<Dur>,
}

/// `websocket = { duration = ... }` of a client.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebsocketSection {
    /// How long a WebSocket stays open (a duration or a distribution), drawn per request.
    pub duration: Delay,
}

/// `keep_alive = { requests = 100, idle = "30s" }` of a client.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientKeepAliveSection {
    /// Most requests a connection carries, 1–1000000.
    pub requests: i64,
    /// Idle time after which the client closes a connection, 0s–1d.
    pub idle: Dur,
}

/// `[[clients.requests]]`: one entry of a client's request mix.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixEntrySection {
    /// Relative weight, > 0; default 1.
    #[serde(default = "unit_weight")]
    pub weight: f64,
    /// HTTP method; default "GET".
    #[serde(default = "default_method")]
    pub method: String,
    /// `Host` header; default "example.com".
    #[serde(default)]
    pub host: Option<String>,
    /// Path, starting with "/"; `{name}` segments are templated; default "/".
    #[serde(default = "default_path")]
    pub path: String,
    /// Query string parameters; default none.
    #[serde(default)]
    pub query: std::collections::BTreeMap<String, String>,
    /// Headers; default none.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// CPU demand of this path, replacing the service's for every CPU step; default: the
    /// service's.
    #[serde(default)]
    pub cpu_time: Option<Delay>,
}

fn unit_weight() -> f64 {
    1.0
}
fn default_method() -> String {
    "GET".into()
}
fn default_path() -> String {
    "/".into()
}

/// `sessions = { count = K }`: each request of an open-loop client belongs to one of `K`
/// sessions, drawn uniformly.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsSection {
    /// Number of sessions, 1–1000000.
    pub count: i64,
}

number_or_dist!(
    /// A number of requests: a constant, or a distribution table whose values are numbers
    /// of requests (rounded, at least 1).
    RequestCount,
    "requests",
    "Requests: a number (20) or a distribution table of numbers of requests ({ dist = \"exponential\", mean = 20 }).",
    "a number of requests like 20 or a distribution like {{ dist = \"exponential\", mean = 20 }}"
);

number_or_dist!(
    /// A number of bytes: a constant number, or a distribution table whose values are
    /// numbers of bytes (the same tables as memory amounts).
    ByteAmount,
    "bytes",
    "Bytes: a number (1024) or a distribution table of numbers of bytes ({ dist = \"lognormal\", mean = 10240, cv = 1.0 }).",
    "a number of bytes like 1024 or a distribution like {{ dist = \"lognormal\", mean = 10240, cv = 1.0 }}"
);

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
    /// Closed loop: `users` users, each sending a request, waiting for its response
    /// (whatever the outcome), thinking `think_time` and sending the next; a session is
    /// `session_length` requests, after which the user starts a new one (new cookies).
    ClosedLoop {
        /// Number of users, 1–1000000.
        users: i64,
        /// Think time between a response and the next request: a duration or a
        /// distribution table.
        think_time: Delay,
        /// Requests per session: a number or a distribution table of numbers; default:
        /// one session per user for the whole run.
        #[serde(default)]
        session_length: Option<RequestCount>,
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
    /// Load balancer type: "application" (an ALB, the default), "network" (an NLB: each
    /// client connection is bound to one target by a flow hash, see `model::elb::network`),
    /// or "none": no load balancer, clients resolve the service's DNS name to task IPs
    /// (direct service discovery, see `service_discovery`).
    #[serde(rename = "type", default = "default_lb_type")]
    pub kind: String,
    /// Time from receiving a request to sending it to a target; default "0s".
    #[serde(default)]
    pub processing_time: Option<Delay>,
    /// `[[load_balancer.listeners]]`.
    pub listeners: Vec<ListenerSection>,
    /// `idle_timeout.timeout_seconds`: how long a target connection may carry no data before
    /// the load balancer closes it and answers 504 (`elb_504_idle_timeout`). A whole number
    /// of seconds, 1s–4000s; default "60s" (the AWS default). Source:
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout>.
    /// With `type = "network"`: the NLB's TCP idle timeout (a client connection idle this
    /// long is closed), 60s–6000s, default "350s"
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html>).
    #[serde(default)]
    pub idle_timeout: Option<SignedDur>,
    /// Not an AWS setting: how long after a target closes an idle kept-alive connection the
    /// load balancer still sends requests on it (the FIN's trip back), each ending with a
    /// 502 (`elb_502_keepalive_race`); only with a service `keep_alive_timeout` shorter than
    /// `idle_timeout`. 0s–1s; default "1ms".
    #[serde(default)]
    pub fin_propagation: Option<Dur>,
    /// The Availability Zones the load balancer is enabled in, one node per zone (names of
    /// zones of the `[[subnets]]`, e.g. `["us-east-1a", "us-east-1b"]`); default: one node
    /// that sees every target.
    #[serde(default)]
    pub availability_zones: Option<Vec<String>>,
    /// `load_balancing.cross_zone.enabled` of the load balancer: always true for an ALB
    /// (AWS does not let it be turned off there); for an NLB (`type = "network"`) true or
    /// false, default false.
    #[serde(default)]
    pub cross_zone: Option<bool>,
    /// With `type = "none"`: the DNS records' TTL and answer size.
    #[serde(default)]
    pub service_discovery: Option<ServiceDiscoverySection>,
}

/// `service_discovery = { dns_ttl = "60s", max_answers = 8 }` (with `type = "none"`).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDiscoverySection {
    /// The records' TTL: how long a client caches an answer; 0s–86400s, default "60s"
    /// (Cloud Map's default for ECS service discovery).
    #[serde(default)]
    pub dns_ttl: Option<Dur>,
    /// At most this many IPs per answer, 1–8; default 8 (Route 53 multivalue answers).
    #[serde(default)]
    pub max_answers: Option<i64>,
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
    /// "HTTP" or "HTTPS" (an ALB); "TCP" or "TLS" (an NLB, `type = "network"`); default
    /// "HTTP".
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// `{ type = "forward", target_group = "web" }`.
    pub default_action: ActionSection,
    /// `[[load_balancer.listeners.rules]]`: rules run in priority order before the default
    /// action; default none.
    #[serde(default)]
    pub rules: Vec<RuleSection>,
}

/// `[[load_balancer.listeners.rules]]`: a listener rule.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSection {
    /// 1–50000, unique per listener; the lowest runs first.
    pub priority: i64,
    /// All must match (AND); each matches if any of its values does (OR); default none
    /// (the rule matches every request).
    #[serde(default)]
    pub conditions: ConditionsSection,
    /// What the rule does with a request that matches.
    pub action: ActionSection,
}

/// A rule's `conditions = { ... }`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionsSection {
    /// Path patterns (case-sensitive, `*` and `?`; the path only, not the query string).
    #[serde(default)]
    pub path_pattern: Vec<String>,
    /// Host names (case-insensitive, `*` and `?`).
    #[serde(default)]
    pub host_header: Vec<String>,
    /// HTTP methods (case-sensitive, exact).
    #[serde(default)]
    pub http_request_method: Vec<String>,
    /// Source CIDR blocks (IPv4 `203.0.113.0/24` or IPv6 `2001:db8::/32`).
    #[serde(default)]
    pub source_ip: Vec<String>,
    /// Header conditions: `{ name = "X-Canary", values = ["1"] }` (name case-insensitive,
    /// values case-insensitive with wildcards).
    #[serde(default)]
    pub http_header: Vec<HttpHeaderSection>,
    /// Query string pairs: `{ key = "v", value = "2" }` (case-insensitive, wildcards; `key`
    /// optional).
    #[serde(default)]
    pub query_string: Vec<QueryStringSection>,
}

/// An `http_header` condition.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHeaderSection {
    /// Header name (no wildcards).
    pub name: String,
    /// Values, any of which may match.
    pub values: Vec<String>,
}

/// A `query_string` pair.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryStringSection {
    /// Parameter name; omitted: any parameter with the value.
    #[serde(default)]
    pub key: Option<String>,
    /// Parameter value.
    pub value: String,
}

/// One target group of a weighted forward.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightedTargetGroupSection {
    /// Target group name.
    pub target_group: String,
    /// 0–999.
    pub weight: i64,
}

/// A weighted forward's `stickiness = { enabled, duration }` (target-group stickiness).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupStickinessSection {
    /// On or off; default false.
    #[serde(default)]
    pub enabled: bool,
    /// 1s–7d (whole seconds); default "1h".
    #[serde(default = "one_hour")]
    pub duration: Dur,
}

fn one_hour() -> Dur {
    Dur(SimDuration::from_secs(3600))
}

fn default_protocol() -> String {
    "HTTP".into()
}

/// A listener action.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSection {
    /// Forward to a target group by name (`target_group`), or to up to 5 by weight
    /// (`target_groups`).
    Forward {
        /// Target group name (exactly one of `target_group`, `target_groups`).
        #[serde(default)]
        target_group: Option<String>,
        /// Weighted forward: `[{ target_group = "blue", weight = 90 }, ...]`, 1–5 groups.
        #[serde(default)]
        target_groups: Option<Vec<WeightedTargetGroupSection>>,
        /// Target-group stickiness of a weighted forward.
        #[serde(default)]
        stickiness: Option<GroupStickinessSection>,
    },
    /// Redirect to another listener of this load balancer (the client follows it).
    Redirect {
        /// "HTTP" or "HTTPS"; default: the listener's own.
        #[serde(default)]
        protocol: Option<String>,
        /// Port; default: the listener's own.
        #[serde(default)]
        port: Option<u16>,
        /// 301 or 302.
        status_code: i64,
        /// Host the client is sent to, 1–128 characters, may contain `#{host}`; default
        /// "#{host}" (unchanged).
        #[serde(default)]
        host: Option<String>,
        /// Path, 1–128 characters starting with "/", may contain `#{host}`, `#{path}` (the
        /// original path without its leading "/") and `#{port}`; default "/#{path}".
        #[serde(default)]
        path: Option<String>,
        /// Query, without the leading "?", 0–128 characters, may contain `#{protocol}`,
        /// `#{host}`, `#{port}`, `#{path}`, `#{query}`; default "#{query}".
        #[serde(default)]
        query: Option<String>,
    },
    /// Answer with a fixed response.
    FixedResponse {
        /// 2XX, 4XX or 5XX.
        status_code: i64,
        /// "text/plain", "text/css", "text/html", "application/javascript" or
        /// "application/json"; default "text/plain".
        #[serde(default)]
        content_type: Option<String>,
        /// Body, at most 1024 characters; default empty.
        #[serde(default)]
        message_body: Option<String>,
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
    /// `deregistration_delay.timeout_seconds`: how long a deregistering (draining) target
    /// keeps the requests it has in flight before the load balancer gives up on them (each
    /// then ends with a 502). A whole number of seconds, 0s–3600s; default "300s" (the AWS
    /// default). Source:
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay>.
    #[serde(default = "default_deregistration_delay")]
    pub deregistration_delay: Dur,
    /// How the load balancer's nodes check the targets' health; every field optional,
    /// AWS's defaults.
    #[serde(default)]
    pub health_check: HealthCheckSection,
    /// `slow_start.duration_seconds`: for this long after a target turns healthy (while
    /// another target is healthy and out of slow start) its share of requests grows
    /// linearly from about 0 to a full share. "0s" (the AWS default) turns it off; else a
    /// whole number of seconds, 30s–900s; only with "round_robin" or "random". Source:
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#slow-start-mode>.
    #[serde(default)]
    pub slow_start: Option<Dur>,
    /// Not an AWS setting: how long a deregistering target may still get new requests
    /// (the reported lag before a deregistration reaches every load balancer node,
    /// <https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/1064>): a
    /// draining target stays routable this long, or until the deregistration delay expires
    /// if that is sooner. "0s" (the default: no new request after deregistration starts,
    /// as AWS documents) to "60s".
    #[serde(default)]
    pub deregistration_propagation_lag: Option<Dur>,
    /// `Port`: the port targets are registered on (a target is a task's IP and this port);
    /// 1-65535, default 80 (HTTP).
    #[serde(default)]
    pub port: Option<i64>,
    /// `load_balancing.algorithm.anomaly_mitigation`: true turns on Automatic Target
    /// Weights' mitigation (an anomalous target's weight is cut, then restored); only with
    /// `algorithm = "weighted_random"`; default false (the AWS default).
    #[serde(default)]
    pub anomaly_mitigation: Option<bool>,
    /// lbsim's parameters of anomaly mitigation (AWS publishes none); every field
    /// optional; only with `anomaly_mitigation = true`.
    #[serde(default)]
    pub anomaly_mitigation_parameters: Option<AnomalyMitigationSection>,
    /// `least_response_time`'s decay time τ of the latency average (Finagle's
    /// `decayTime`); default "10s"; "100ms"–"1h"; only with that algorithm.
    #[serde(default)]
    pub response_time_decay: Option<Dur>,
    /// `stickiness.*`: sticky sessions,
    /// `stickiness = { enabled = true, type = "lb_cookie", duration = "1d" }`; default off.
    /// Source: <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html>.
    #[serde(default)]
    pub stickiness: Option<StickinessSection>,
    /// `load_balancing.cross_zone.enabled`: true, false (each load balancer node routes
    /// only to the targets in its own zone) or "use_load_balancer_configuration" (the
    /// default).
    #[serde(default)]
    pub cross_zone: Option<CrossZone>,
    /// `deregistration_delay.connection_termination.enabled` (NLB only): true closes the
    /// client connections still bound to a deregistered target when its deregistration
    /// completes (at the latest when the delay expires); false (the AWS default) leaves them
    /// open, flowing to the target while it accepts connections. Source:
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay>.
    #[serde(default)]
    pub connection_termination: Option<bool>,
}

/// A target group's `cross_zone`: a boolean or `"use_load_balancer_configuration"`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CrossZone {
    /// `true` or `false`.
    Enabled(bool),
    /// `"use_load_balancer_configuration"` (or `"true"`/`"false"` as text).
    Text(String),
}

/// `stickiness = { ... }`: a target group's sticky sessions (AWS target group attributes
/// `stickiness.enabled`, `stickiness.type`, `stickiness.lb_cookie.duration_seconds`,
/// `stickiness.app_cookie.cookie_name`, `stickiness.app_cookie.duration_seconds`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StickinessSection {
    /// `stickiness.enabled`; default false.
    #[serde(default)]
    pub enabled: bool,
    /// `stickiness.type`: "lb_cookie" (default) or "app_cookie".
    #[serde(default, rename = "type")]
    pub kind: StickinessType,
    /// How long the cookie stays valid after the last response: whole seconds, 1s–7d;
    /// default "1d" (the AWS default).
    #[serde(default)]
    pub duration: Option<Dur>,
    /// `app_cookie` only: the application's cookie name; must not start with "AWSALB",
    /// "AWSALBAPP" or "AWSALBTG".
    #[serde(default)]
    pub cookie_name: Option<String>,
}

/// `stickiness.type`.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StickinessType {
    /// The load balancer's cookie `AWSALB`.
    #[default]
    LbCookie,
    /// The application's cookie (plus the load balancer's `AWSALBAPP-*`).
    AppCookie,
}

/// `anomaly_mitigation_parameters = { interval = "10s", ... }`: lbsim's parameters of
/// anomaly detection and mitigation (AWS publishes no constants).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyMitigationSection {
    /// How often targets are judged; "1s"–"10m", default "10s".
    #[serde(default)]
    pub interval: Option<Dur>,
    /// Responses a target needs since its last judgement to be judged; 1–100000, default 20.
    #[serde(default)]
    pub min_requests: Option<i64>,
    /// How far above its peers' error ratio a target's must be (absolute); 0–1, default 0.1.
    #[serde(default)]
    pub margin: Option<f64>,
    /// How many times its peers' error ratio a target's must be; ≥ 1, default 2.
    #[serde(default)]
    pub factor: Option<f64>,
    /// The multiplier of an anomalous target's weight at each judgement; 0–1 exclusive,
    /// default 0.5.
    #[serde(default)]
    pub cut: Option<f64>,
    /// The lowest fraction of its weight an anomalous target keeps; 0.001–1, default 0.01.
    #[serde(default)]
    pub floor: Option<f64>,
    /// The multiplier of a recovered target's weight at each evaluation until whole; > 1,
    /// at most 100, default 2.
    #[serde(default)]
    pub restore: Option<f64>,
}

/// `health_check = { interval = "10s", ... }` (or a `[target_groups.health_check]` table):
/// the target group's health checks, with AWS's names (in snake case), defaults and ranges
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>).
/// Every load balancer node checks every registered target; a check is a request the task
/// serves (it takes a worker and runs the service's `health_check_request.steps`).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSection {
    /// `HealthCheckProtocol`: "HTTP" (the ALB default: a request the task serves) or "TCP"
    /// (the NLB default: the check passes if the task accepts the connection; no path nor
    /// matcher); "TCP" only with `type = "network"`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// `HealthCheckEnabled`: false turns health checks off (a target is healthy once its
    /// application listens); default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `HealthCheckPath`: starts with "/", at most 1024 characters; default "/".
    /// Informational: the service's `health_check_request` says what a check costs.
    #[serde(default)]
    pub path: Option<String>,
    /// `HealthCheckIntervalSeconds`: the time between two checks of a target by one node; a
    /// whole number of seconds, 5s–300s; default "30s".
    #[serde(default)]
    pub interval: Option<SignedDur>,
    /// `HealthCheckTimeoutSeconds`: a check not answered within it fails; a whole number of
    /// seconds, 2s–120s, and less than `interval`; default "5s".
    #[serde(default)]
    pub timeout: Option<SignedDur>,
    /// `HealthyThresholdCount`: consecutive passes that make an unhealthy target healthy;
    /// 2–10; default 5. (Read as a signed integer so that a negative one is reported with
    /// its allowed range.)
    #[serde(default)]
    #[schemars(range(min = 2, max = 10))]
    pub healthy_threshold: Option<i64>,
    /// `UnhealthyThresholdCount`: consecutive failures that make a target unhealthy; 2–10;
    /// default 2.
    #[serde(default)]
    #[schemars(range(min = 2, max = 10))]
    pub unhealthy_threshold: Option<i64>,
    /// `Matcher.HttpCode`: the HTTP codes of a passing check, like "200", "200,202",
    /// "200-299" or "200,300-399"; codes 200–499; default "200".
    #[serde(default)]
    pub matcher: Option<Matcher>,
    /// Passes a newly registered target needs to turn healthy (an lbsim parameter, not an
    /// AWS setting: AWS's sources conflict between one and the healthy threshold): 1–10, or
    /// "healthy_threshold"; default 1.
    #[serde(default)]
    pub initial_passes: Option<InitialPasses>,
}

/// A health check's `matcher`: HTTP codes as AWS's `Matcher.HttpCode` writes them ("200",
/// "200,202", "200-299"). A bare integer (`matcher = 200`, or `--set ...matcher=200`) is read
/// as its digits. Parsed in [`super::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher(pub String);

impl JsonSchema for Matcher {
    fn schema_name() -> Cow<'static, str> {
        "Matcher".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Matcher").into()
    }

    /// A string of codes and ranges, or one code as an integer.
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "HTTP codes 200–499 that pass a health check, as AWS's Matcher.HttpCode: \"200\", \"200,202\", \"200-299\", \"200,300-399\" (or one code as an integer).",
            "anyOf": [
                { "type": "string", "pattern": "^\\s*[0-9]+(\\s*-\\s*[0-9]+)?\\s*(,\\s*[0-9]+(\\s*-\\s*[0-9]+)?\\s*)*$" },
                { "type": "integer", "minimum": 200, "maximum": 499 }
            ],
            "examples": ["200", "200-299", "200,300-399"]
        })
    }
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(Matcher(s)),
            serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Ok(Matcher(n.to_string())),
            other => Err(D::Error::custom(format!(
                "expected HTTP codes like \"200\", \"200,202\" or \"200-299\", found {other}"
            ))),
        }
    }
}

/// A health check's `initial_passes`: a number of passes, or the healthy threshold's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitialPasses {
    /// A number of passes (checked 1–10 in [`super::validate`]).
    Count(i64),
    /// A name; only "healthy_threshold" is valid (checked in [`super::validate`]).
    Named(String),
}

impl JsonSchema for InitialPasses {
    fn schema_name() -> Cow<'static, str> {
        "InitialPasses".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::InitialPasses").into()
    }

    /// An integer 1–10, or the string "healthy_threshold".
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Passes a new target needs to turn healthy: 1–10, or \"healthy_threshold\" (the healthy threshold's value).",
            "anyOf": [
                { "type": "integer", "minimum": 1, "maximum": 10 },
                { "type": "string", "enum": ["healthy_threshold"] }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for InitialPasses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(InitialPasses::Named(s)),
            serde_json::Value::Number(n) if n.is_i64() => {
                Ok(InitialPasses::Count(n.as_i64().unwrap_or_default()))
            }
            other => Err(D::Error::custom(format!(
                "expected a number of passes 1–10 or \"healthy_threshold\", found {other}"
            ))),
        }
    }
}

fn default_deregistration_delay() -> Dur {
    Dur(crate::model::DEFAULT_DEREGISTRATION_DELAY)
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
    /// Work per request: its CPU time, or its profile of steps.
    pub request: RequestSection,
    /// Memory the application uses in a task; default none (memory not modelled).
    #[serde(default)]
    pub memory: MemorySection,
    /// How long each phase of a task's life takes (tasks launched after t = 0, such as a
    /// crashed task's replacement; the initial `desired_count` tasks start warm); every
    /// field optional.
    #[serde(default)]
    pub lifecycle: LifecycleSection,
    /// ECS `healthCheckGracePeriodSeconds`: for this long after a task reaches RUNNING, ECS
    /// ignores its target's unhealthy verdicts. A whole number of seconds,
    /// 0s–2147483647s; default "0s" (the AWS default).
    #[serde(default)]
    pub health_check_grace_period: Option<SignedDur>,
    /// What a health check costs at a task: `{ steps = [...] }`, steps like
    /// `request.steps` (a `call` makes it a deep check); default none (answered at once).
    #[serde(default)]
    pub health_check_request: Option<HealthCheckRequestSection>,
    /// ECS `deploymentConfiguration`: `minimum_healthy_percent`, `maximum_percent` and
    /// `deployment_circuit_breaker`; every field optional.
    #[serde(default)]
    pub deployment_configuration: DeploymentConfigurationSection,
    /// `[[services.deployments]]`: rolling deployments of new task definition revisions,
    /// in time order; default none.
    #[serde(default)]
    pub deployments: Vec<DeploymentSection>,
    /// `[services.auto_scaling]`: Application Auto Scaling of `desired_count`; default none.
    #[serde(default)]
    pub auto_scaling: Option<AutoScalingSection>,
    /// ECS `capacityProviderStrategy`: `[{ capacity_provider = "FARGATE", base = 1, weight =
    /// 1 }, { capacity_provider = "FARGATE_SPOT", weight = 3 }]`; 1–2 items. Default none:
    /// every task on `FARGATE` (the `FARGATE` launch type).
    #[serde(default)]
    pub capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItemSection>>,
    /// Fargate Spot: `{ interruptions = { mean_time_between = "6h" } }` or `{ interruptions =
    /// { at = ["2h", "3h30m"] } }`; default none (Spot tasks are never interrupted).
    #[serde(default)]
    pub spot: Option<SpotSection>,
    /// ECS `runtimePlatform`: `{ cpu_architecture = "X86_64" | "ARM64" }`; default X86_64.
    #[serde(default)]
    pub runtime_platform: Option<RuntimePlatformSection>,
    /// Not an AWS setting: the routing weight of this service's targets for
    /// `weighted_round_robin` and `weighted_random` (e.g. 2 for tasks twice the size of
    /// another service's in the same target group); 1–999, default 1.
    #[serde(default)]
    pub target_weight: Option<i64>,
    /// The application's HTTP keep-alive timeout: it closes a load balancer connection idle
    /// this long (Node.js `server.keepAliveTimeout`, default "5s",
    /// <https://nodejs.org/api/http.html#serverkeepalivetimeout>). Shorter than the load
    /// balancer's `idle_timeout`, it causes the keep-alive race 502s
    /// (`elb_502_keepalive_race`); "0s": no keep-alive. 0s–1d; default none (longer than
    /// any idle timeout: no race).
    #[serde(default)]
    pub keep_alive_timeout: Option<Dur>,
}

/// `[services.auto_scaling]`: the service as an Application Auto Scaling scalable target
/// (`ecs:service:DesiredCount`) with its policies and scheduled actions.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoScalingSection {
    /// `MinCapacity`, 0–5000.
    pub min_capacity: i64,
    /// `MaxCapacity`, `min_capacity`–5000.
    pub max_capacity: i64,
    /// `[[services.auto_scaling.target_tracking]]`: target tracking policies.
    #[serde(default)]
    pub target_tracking: Vec<TargetTrackingSection>,
    /// `[[services.auto_scaling.step_scaling]]`: step scaling policies.
    #[serde(default)]
    pub step_scaling: Vec<StepScalingSection>,
    /// `[[services.auto_scaling.scheduled_actions]]`: scheduled changes of the bounds.
    #[serde(default)]
    pub scheduled_actions: Vec<ScheduledActionSection>,
}

/// A target tracking scaling policy (`TargetTrackingScalingPolicyConfiguration`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetTrackingSection {
    /// The policy's name (`PolicyName`): 1–255 letters, digits, hyphens, underscores.
    pub name: String,
    /// `TargetValue`, in the metric's unit (> 0).
    pub target_value: f64,
    /// `PredefinedMetricType`: `ECSServiceAverageCPUUtilization`,
    /// `ECSServiceAverageMemoryUtilization` or `ALBRequestCountPerTarget`.
    #[serde(default)]
    pub predefined_metric_type: Option<String>,
    /// `CustomizedMetricSpecification`, instead of a predefined metric.
    #[serde(default)]
    pub customized_metric: Option<MetricSection>,
    /// `ScaleOutCooldown`, whole seconds, 0s–1d; default "300s".
    #[serde(default)]
    pub scale_out_cooldown: Option<SignedDur>,
    /// `ScaleInCooldown`, whole seconds, 0s–1d; default "300s".
    #[serde(default)]
    pub scale_in_cooldown: Option<SignedDur>,
    /// `DisableScaleIn`; default false.
    #[serde(default)]
    pub disable_scale_in: bool,
    /// Advanced, **not configurable in AWS** (a what-if): datapoints above the target, of
    /// as many, that scale out; 1–60, default 3.
    #[serde(default)]
    pub high_alarm_datapoints: Option<i64>,
    /// Advanced, **not configurable in AWS**: datapoints below the low threshold, of as
    /// many, that scale in; 1–60, default 15.
    #[serde(default)]
    pub low_alarm_datapoints: Option<i64>,
    /// Advanced, **not configurable in AWS**: the low threshold as a fraction of the
    /// target, 0.5–1, default 0.9.
    #[serde(default)]
    pub low_alarm_ratio: Option<f64>,
}

/// A CloudWatch metric with a statistic: `{ metric_name = "TargetResponseTime", namespace =
/// "AWS/ApplicationELB", statistic = "p99" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricSection {
    /// `MetricName`: `CPUUtilization`, `MemoryUtilization` (`AWS/ECS`), `RequestCount`,
    /// `RequestCountPerTarget`, `TargetResponseTime`, `HTTPCode_Target_5XX_Count`,
    /// `HealthyHostCount`, `UnHealthyHostCount` (`AWS/ApplicationELB`), of the service or
    /// its target group.
    pub metric_name: String,
    /// `Namespace`; default: the metric's.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `Statistic` (`Average`, `Sum`, `Minimum`, `Maximum`) or an extended statistic
    /// (`p99`, `p99.9`); which ones each metric has is listed in the README.
    pub statistic: String,
}

/// A step scaling policy (`StepScalingPolicyConfiguration`) with its alarm.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepScalingSection {
    /// The policy's name: 1–255 letters, digits, hyphens, underscores.
    pub name: String,
    /// The CloudWatch alarm that invokes it.
    pub alarm: AlarmSection,
    /// `AdjustmentType`: `ChangeInCapacity`, `ExactCapacity` or `PercentChangeInCapacity`.
    pub adjustment_type: String,
    /// `StepAdjustments`, 1–20.
    pub step_adjustments: Vec<StepAdjustmentSection>,
    /// `MinAdjustmentMagnitude` (`PercentChangeInCapacity` only), 1–5000; default none.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<i64>,
    /// `Cooldown`, whole seconds, 0s–1d; default "300s".
    #[serde(default)]
    pub cooldown: Option<SignedDur>,
    /// `MetricAggregationType`: `Average` (default), `Minimum` or `Maximum`.
    #[serde(default)]
    pub metric_aggregation_type: Option<String>,
}

/// A CloudWatch alarm of a step scaling policy (period: 60 s).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmSection {
    /// `MetricName`, as in [`MetricSection`].
    pub metric_name: String,
    /// `Namespace`; default: the metric's.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `Statistic` or extended statistic, as in [`MetricSection`].
    pub statistic: String,
    /// `Threshold`, in the metric's unit.
    pub threshold: f64,
    /// `ComparisonOperator`: `GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`,
    /// `LessThanThreshold` or `LessThanOrEqualToThreshold`.
    pub comparison_operator: String,
    /// `EvaluationPeriods`, 1–1440 (minutes).
    pub evaluation_periods: i64,
    /// `DatapointsToAlarm`, 1–`evaluation_periods`; default `evaluation_periods`.
    #[serde(default)]
    pub datapoints_to_alarm: Option<i64>,
}

/// A `StepAdjustment`: bounds relative to the alarm's threshold.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustmentSection {
    /// `MetricIntervalLowerBound`; absent: −∞.
    #[serde(default)]
    pub metric_interval_lower_bound: Option<f64>,
    /// `MetricIntervalUpperBound`; absent: +∞.
    #[serde(default)]
    pub metric_interval_upper_bound: Option<f64>,
    /// `ScalingAdjustment`.
    pub scaling_adjustment: i64,
}

/// A scheduled action: new bounds at a time, once (`at`) or daily (`daily_at`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledActionSection {
    /// The action's name: 1–255 letters, digits, hyphens, underscores.
    pub name: String,
    /// Once, at this simulated time (within the run).
    #[serde(default)]
    pub at: Option<Dur>,
    /// Daily at this time of day, `"HH:MM"` or `"HH:MM:SS"` (t = 0 is 00:00).
    #[serde(default)]
    pub daily_at: Option<String>,
    /// The new `MinCapacity`, 0–5000.
    #[serde(default)]
    pub min_capacity: Option<i64>,
    /// The new `MaxCapacity`, 0–5000.
    #[serde(default)]
    pub max_capacity: Option<i64>,
}

/// One item of `capacity_provider_strategy`: ECS `CapacityProviderStrategyItem`
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html>).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityProviderStrategyItemSection {
    /// `capacityProvider`: "FARGATE" or "FARGATE_SPOT"; each at most once.
    pub capacity_provider: String,
    /// `base`: tasks, at a minimum, on this provider; 0–100000, default 0; at most one item
    /// may have a base above 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 100000))]
    pub base: Option<i64>,
    /// `weight`: the relative share of the tasks launched beyond the base; 0–1000, default
    /// 0; at least one item must have a weight above 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub weight: Option<i64>,
}

/// `spot = { interruptions = { ... } }`: Fargate Spot.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpotSection {
    /// When the service's `FARGATE_SPOT` tasks are interrupted (a two-minute warning, then
    /// termination).
    pub interruptions: SpotInterruptionsSection,
}

/// `interruptions = { at = ["2h"], count = 1, mean_time_between = "6h" }`: at least one of
/// `at` and `mean_time_between`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpotInterruptionsSection {
    /// Instants, from t = 0 and before the end of the run, at which `count` running Spot
    /// tasks of the service are interrupted, the oldest first; default none.
    #[serde(default)]
    pub at: Vec<Dur>,
    /// Spot tasks interrupted at each instant of `at`; 1–5000, default 1.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5000))]
    pub count: Option<i64>,
    /// Random interruptions: each Spot task, from when it reaches RUNNING, is interrupted
    /// after an exponentially distributed time of this mean (a rate of 1 ÷ mean per Spot
    /// task-hour); > 0; default none.
    #[serde(default)]
    pub mean_time_between: Option<Dur>,
}

/// `runtime_platform = { cpu_architecture = "ARM64" }`: ECS `runtimePlatform`
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html>).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimePlatformSection {
    /// `cpuArchitecture`: `X86_64` (default) or `ARM64` (Graviton, cheaper on Fargate).
    #[serde(default)]
    pub cpu_architecture: Option<String>,
}

/// `deployment_configuration = { minimum_healthy_percent = 100, maximum_percent = 200,
/// deployment_circuit_breaker = { enable = true, rollback = true } }` (or a
/// `[services.deployment_configuration]` table): ECS's rolling-update settings
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html>).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfigurationSection {
    /// `minimumHealthyPercent`: the healthy tasks a deployment keeps, as a percentage of
    /// `desired_count` (rounded up); 0–100, default 100 (AWS's default).
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub minimum_healthy_percent: Option<i64>,
    /// `maximumPercent`: the tasks a deployment may run (PROVISIONING to RUNNING), as a
    /// percentage of `desired_count` (rounded down); 100–400 (lbsim's range), default 200
    /// (AWS's default).
    #[serde(default)]
    #[schemars(range(min = 100, max = 400))]
    pub maximum_percent: Option<i64>,
    /// `deploymentCircuitBreaker`: off by default.
    #[serde(default)]
    pub deployment_circuit_breaker: Option<CircuitBreakerSection>,
}

/// `deployment_circuit_breaker = { enable = true, rollback = true }`
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html>).
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreakerSection {
    /// Whether a deployment fails once ceil(0.5 × `desired_count`) tasks of its revision
    /// failed (clamped to 3–200).
    pub enable: bool,
    /// Whether a failed deployment rolls back to the last completed revision; default
    /// false.
    #[serde(default)]
    pub rollback: bool,
}

/// `[[services.deployments]]`: at `at`, the service's task definition becomes a new
/// revision: the service's, with what this table changes.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSection {
    /// When the deployment starts (ECS `UpdateService`), from t = 0; before the end of the
    /// run, and not before the previous deployment.
    pub at: Dur,
    /// The new revision's work per request (like the service's `request`); default: the
    /// service's.
    #[serde(default)]
    pub request: Option<RequestSection>,
    /// The new revision's application start-up (like `lifecycle.app_start`); default: the
    /// service's.
    #[serde(default)]
    pub app_start: Option<Delay>,
    /// How the new revision is broken: "none" (default), "crash_on_start" (its
    /// application exits as its start-up ends: "Essential container in task exited") or
    /// "fail_health_checks" (it answers its health check with HTTP 500).
    #[serde(default)]
    pub failure: RevisionFailureName,
}

/// The names of [`crate::model::RevisionFailure`] in a scenario.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RevisionFailureName {
    /// It works.
    #[default]
    None,
    /// Its application exits as it starts.
    CrashOnStart,
    /// It answers its health check with HTTP 500.
    FailHealthChecks,
}

/// `health_check_request = { steps = [...] }`: the steps a health check's request runs at
/// the task, like `request.steps` (cpu, wait and call steps); 0–64 of them.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckRequestSection {
    /// The steps, in order; default none: the check is answered at once (it takes a worker
    /// but no time).
    #[serde(default)]
    pub steps: Vec<StepSection>,
}

/// `lifecycle = { app_start = "20s", stop_timeout = "60s", ... }` (or a
/// `[services.lifecycle]` table): how long each phase of an ECS task's life takes
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html>).
///
/// The phases are durations or distributions, each ≥ 0 and at most 1 hour (lbsim's cap; a
/// distribution's mean, or its largest value for `deterministic`, `uniform` and `empirical`),
/// drawn per task. AWS publishes no phase durations: the defaults are calibrated guesses (see
/// [`LifecycleSpec`](crate::model::LifecycleSpec)). The initial `desired_count` tasks skip
/// the phases (RUNNING, registered and healthy at t = 0); tasks launched later walk them.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSection {
    /// PROVISIONING: capacity is found and the task's ENI is created and attached; default
    /// "15s" (a guess); 0–1h.
    #[serde(default)]
    pub provisioning: Option<Delay>,
    /// PENDING: the container image is pulled; default "20s" (a guess; it grows with the
    /// image's size); 0–1h.
    #[serde(default)]
    pub pending: Option<Delay>,
    /// ACTIVATING: the task is registered in its target group; default "5s" (a guess); 0–1h.
    #[serde(default)]
    pub activating: Option<Delay>,
    /// From RUNNING until the application listens (requests and health checks sent before
    /// fail); default "10s" (a guess); 0–1h.
    #[serde(default)]
    pub app_start: Option<Delay>,
    /// How long the application takes to shut down after SIGTERM, cut at `stop_timeout`;
    /// default "2s" (a guess); 0–1h.
    #[serde(default)]
    pub shutdown: Option<Delay>,
    /// `stopTimeout`: the wait between SIGTERM and SIGKILL. A constant, whole number of
    /// seconds, 0s–120s (at most 120 s on Fargate); default "30s" (the AWS default). Source:
    /// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html>.
    #[serde(default)]
    pub stop_timeout: Option<Dur>,
    /// DEPROVISIONING: the ENI is detached and deleted; default "10s" (a guess); 0–1h.
    #[serde(default)]
    pub deprovisioning: Option<Delay>,
    /// How long ECS takes to notice that a task's process exited (a crash) and begin
    /// stopping it; until then its target stays registered. Default "5s" (a guess); 0–1h.
    #[serde(default)]
    pub crash_detection: Option<Delay>,
}

/// `task = { cpu = 1024, memory = 2048, max_concurrency = 0 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSection {
    /// CPU units (task definition `cpu`); default 1024.
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    /// MiB (task definition `memory`, the denominator of `MemoryUtilization`); default 2048.
    #[serde(default = "default_memory")]
    pub memory: u32,
    /// Workers: requests a task holds at once, from admission to response, through CPU,
    /// waits and calls; the rest wait for a worker in FIFO order. 0 = no limit (default).
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

/// `request = { cpu_time = ... }` or `request = { steps = [...] }`: exactly one of the two
/// (checked in [`super::validate`]).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSection {
    /// CPU time a request needs on one vCPU: the one-step shorthand for
    /// `steps = [{ cpu = ... }]`.
    #[serde(default)]
    pub cpu_time: Option<Delay>,
    /// The request's profile: 1–64 steps run in order while the request holds a worker.
    #[serde(default)]
    pub steps: Option<Vec<StepSection>>,
}

/// One step of a request's profile: exactly one of `{ cpu = ... }`, `{ wait = ... }` or
/// `{ call = "DEPENDENCY" }` (checked in [`super::validate`]).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSection {
    /// CPU time on one vCPU, shared with the task's other requests in a CPU step by
    /// processor sharing.
    #[serde(default)]
    pub cpu: Option<Delay>,
    /// A delay that holds the worker and the request's memory but uses no CPU.
    #[serde(default)]
    pub wait: Option<Delay>,
    /// A call to the dependency of this name (`[[dependencies]]`): through the task's
    /// connection pool, then the dependency's capacity; its latency is the dependency's.
    #[serde(default)]
    pub call: Option<String>,
    /// The fraction of requests that run this step, 0–1 (the others skip it: a mix of
    /// paths, e.g. `{ call = "db", probability = 0.3 }` for the 30 % of requests that read
    /// the database); default 1.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1))]
    pub probability: Option<f64>,
}

/// `memory = { base_mib = 512, per_request_mib = 2.5 }`: memory in MiB (1 MiB = 1024 KiB).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySection {
    /// MiB an idle task uses (runtime, heap, caches); default 0; ≤ `task.memory`.
    #[serde(default)]
    pub base_mib: f64,
    /// MiB each request at the task uses from its dispatch to its end: a number, or a
    /// distribution of MiB; default 0.
    #[serde(default)]
    pub per_request_mib: Option<MemoryAmount>,
    /// Kill a task that goes above `task.memory`, as AWS does to a container over its hard
    /// limit ("OutOfMemoryError: Container killed due to memory usage"), and replace it;
    /// default true (what AWS does); false only records the excursion (a what-if: a task
    /// whose memory could grow past its size).
    #[serde(default = "yes")]
    pub oom_kill: bool,
}

fn yes() -> bool {
    true
}

impl Default for MemorySection {
    /// No memory modelled; a task over its memory would be killed (AWS's behaviour).
    fn default() -> Self {
        MemorySection {
            base_mib: 0.0,
            per_request_mib: None,
            oom_kill: true,
        }
    }
}

number_or_dist!(
    /// An amount of memory in MiB: a constant number, or a distribution table whose values
    /// are numbers of MiB.
    MemoryAmount,
    "MiB",
    "MiB: a number (2.5) or a distribution table of numbers of MiB ({ dist = \"lognormal\", mean = 2.5, cv = 1.0 }).",
    "a number of MiB like 2.5 or a distribution like {{ dist = \"lognormal\", mean = 2.5, cv = 1.0 }}"
);

/// A distribution of memory amounts, every value a number of MiB:
/// `{ dist = "lognormal", mean = 2.5, cv = 1.0 }`. The same distributions as
/// [`DistSection`] but `empirical`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum MemoryDistSection {
    /// Always `value`.
    Deterministic {
        /// The value, MiB.
        value: f64,
    },
    /// Exponential.
    Exponential {
        /// Mean, MiB.
        mean: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower bound, MiB.
        min: f64,
        /// Upper bound, MiB.
        max: f64,
    },
    /// Log-normal by mean and coefficient of variation.
    Lognormal {
        /// Mean, MiB.
        mean: f64,
        /// Standard deviation ÷ mean.
        cv: f64,
    },
    /// Gamma by mean and coefficient of variation.
    Gamma {
        /// Mean, MiB.
        mean: f64,
        /// Standard deviation ÷ mean.
        cv: f64,
    },
    /// Pareto (type I) by mean and tail index.
    Pareto {
        /// Mean, MiB.
        mean: f64,
        /// Tail index (> 1).
        alpha: f64,
    },
}

/// `[[dependencies]]`: a backend shared by every task that calls it (a database, a cache,
/// an external API).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencySection {
    /// Unique name, referred to by steps' `call`.
    pub name: String,
    /// Time one call takes once the dependency serves it.
    pub latency: Delay,
    /// Calls served at once over all tasks; 0 = unlimited (default).
    #[serde(default)]
    pub capacity: u32,
    /// What a call beyond `capacity` does; default "queue".
    #[serde(default)]
    pub when_full: WhenFullSection,
    /// Connections one task holds to it at most (its connection pool); a task's calls
    /// beyond it wait for a connection in FIFO order; 0 = unlimited (default).
    #[serde(default)]
    pub pool_size: u32,
    /// The caller's timeout for one call (waiting for a connection, queued and served): a
    /// call not answered within it fails. Unset = no timeout (default).
    #[serde(default)]
    pub timeout: Option<Dur>,
}

/// What a dependency does with a call that finds its capacity busy.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WhenFullSection {
    /// The call waits in one FIFO queue shared by every caller.
    #[default]
    Queue,
    /// The call fails at once (the request ends with an HTTP 500).
    Reject,
}

/// `[[faults]]`: a fault injected for a window of simulated time, or at an instant (a crash).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultSection {
    /// The dependency is down: calls that reach it fail at once; calls it was serving fail
    /// when they would have returned.
    DependencyDown {
        /// Name of the dependency.
        dependency: String,
        /// When the fault starts, from t = 0.
        start: Dur,
        /// How long it lasts (> 0).
        duration: Dur,
        /// Instead of one window: windows again and again (an alternating renewal process):
        /// the first starts an exponentially distributed interval of this mean after
        /// `start`, each next one the same way after the previous window ended.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
    },
    /// The dependency is slow: calls it starts serving during the window take their latency
    /// × `factor`; calls already in service keep theirs.
    DependencySlow {
        /// Name of the dependency.
        dependency: String,
        /// When the fault starts, from t = 0.
        start: Dur,
        /// How long it lasts (> 0).
        duration: Dur,
        /// Latency multiplier, > 0 and ≤ 1000.
        factor: f64,
        /// Instead of one window: windows again and again (an alternating renewal process):
        /// the first starts an exponentially distributed interval of this mean after
        /// `start`, each next one the same way after the previous window ended.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
    },
    /// A task of the service crashes at `at` (its process exits): its requests in flight end
    /// with a 502, its target is removed, and the service launches a replacement, which walks
    /// the service's `lifecycle`. An instant: no `duration`.
    TaskCrash {
        /// Name of the service (`[[services]]`).
        service: String,
        /// Which task: its position among the service's serving tasks at `at`, oldest first;
        /// default 0 (the oldest); 0 to the service's `desired_count` − 1. (Read as a signed
        /// integer so that a negative one is reported with its field's path.) Not with
        /// `mean_time_between_failures`.
        #[serde(default)]
        #[schemars(range(min = 0))]
        task: Option<i64>,
        /// When the task crashes, from t = 0; before the end of the run. Exactly one of `at`
        /// and `mean_time_between_failures`.
        #[serde(default)]
        at: Option<Dur>,
        /// Instead of `at`: crash again and again, at exponentially distributed intervals of
        /// this mean from t = 0, each time a task drawn uniformly among the service's
        /// serving tasks.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
    },
    /// A task of the service hangs from `at`: its application accepts connections but
    /// answers nothing. Requests at it and sent to it end with a 504 at the load balancer's
    /// `idle_timeout`; its health checks time out, so ECS replaces it.
    TaskHang {
        /// Name of the service (`[[services]]`).
        service: String,
        /// Which task, as for `task_crash`; default 0 (the oldest).
        #[serde(default)]
        #[schemars(range(min = 0))]
        task: Option<i64>,
        /// When the task hangs, from t = 0; before the end of the run. Exactly one of `at`
        /// and `mean_time_between_failures`.
        #[serde(default)]
        at: Option<Dur>,
        /// Instead of `at`: random hangs, as for `task_crash`.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
        /// How long it stays hung (> 0); default: to the end of the run.
        duration: Option<Dur>,
    },
    /// A gray failure: a task of the service runs its CPU `factor` times slower from `at`
    /// for `duration`.
    TaskSlow {
        /// Name of the service (`[[services]]`).
        service: String,
        /// Which task, as for `task_crash`; default 0 (the oldest).
        #[serde(default)]
        #[schemars(range(min = 0))]
        task: Option<i64>,
        /// When the slowdown begins, from t = 0; before the end of the run. Exactly one of
        /// `at` and `mean_time_between_failures`.
        #[serde(default)]
        at: Option<Dur>,
        /// Instead of `at`: random slowdowns, as for `task_crash`.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
        /// How long it lasts (> 0).
        duration: Dur,
        /// How many times longer its CPU steps take, 1–1000.
        factor: f64,
    },
    /// Application errors: during the window each response a task of the service finishes
    /// is a 500 with probability `fraction`.
    AppErrors {
        /// Name of the service (`[[services]]`).
        service: String,
        /// When the fault starts, from t = 0.
        start: Dur,
        /// How long it lasts (> 0).
        duration: Dur,
        /// Probability that a response is a 500, 0–1.
        fraction: f64,
        /// Instead of one window: windows again and again (an alternating renewal process):
        /// the first starts an exponentially distributed interval of this mean after
        /// `start`, each next one the same way after the previous window ended.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
    },
    /// An Availability Zone outage: during the window the tasks in the zone are
    /// unreachable.
    AzOutage {
        /// The zone, like "us-east-1a": one of the network's (`[[subnets]]`, or the default
        /// network's `us-east-1a`, `us-east-1b`, `us-east-1c`).
        availability_zone: String,
        /// When the outage starts, from t = 0.
        start: Dur,
        /// How long it lasts (> 0).
        duration: Dur,
        /// Instead of one window: windows again and again (an alternating renewal process):
        /// the first starts an exponentially distributed interval of this mean after
        /// `start`, each next one the same way after the previous window ended.
        #[serde(default)]
        mean_time_between_failures: Option<Dur>,
    },
}

/// `[[subnets]]`: one subnet of the awsvpc network configuration (ECS
/// `awsvpcConfiguration.subnets`) that every service's tasks are placed in. Each task takes
/// one private IPv4 address from one subnet, from PROVISIONING until DEPROVISIONING ends;
/// launches go to the Availability Zone with the fewest tasks of the service.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubnetSection {
    /// Unique name (the subnet's id or `Name` tag, used in outputs): 1–64 letters, digits,
    /// hyphens and underscores.
    pub name: String,
    /// The Availability Zone the subnet is in, like "us-east-1a": lowercase letters, digits
    /// and hyphens, ending in a digit and a zone letter.
    pub availability_zone: String,
    /// The subnet's IPv4 block in CIDR notation, like "10.0.0.0/24": a prefix of /16 to /28
    /// (AWS's limits), the block's network address (no host bits set), overlapping no other
    /// subnet. AWS reserves 5 addresses of each subnet, so a /24 has 251 usable addresses and
    /// a /28 11.
    #[schemars(
        pattern(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"),
        extend("examples" = ["10.0.0.0/24", "10.0.16.0/20"])
    )]
    pub cidr: String,
}
