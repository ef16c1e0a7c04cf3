//! The resolved, validated description of a world: plain data that `scenario` builds from a
//! file and `model` turns into a running [`World`](super::World).
//!
//! Every value here is already checked (the `scenario` module reports bad input with file,
//! field and allowed range); the model re-checks only what it cannot run without and
//! returns [`ModelError`](super::ModelError) rather than panicking. All durations are
//! [`SimDuration`] nanoseconds; rates are requests per second (rps).

use std::sync::Arc;

use crate::engine::{SimDuration, SimTime};

pub use super::clients::users::{ClosedLoopSpec, MAX_USERS, NO_SESSION};
pub use super::elb::stickiness::{
    DEFAULT_STICKINESS_DURATION, MAX_STICKINESS_DURATION, MIN_STICKINESS_DURATION, StickinessKind,
    StickinessSpec,
};

/// Everything needed to build one simulation run.
///
/// Every spec type implements [`Default`], so a program (a test, an importer) names only
/// the fields it cares about and a new field does not break it:
///
/// ```
/// use lbsim::engine::SimDuration;
/// use lbsim::model::{ArrivalSpec, ClientSpec, ServiceSpec, TargetGroupSpec, WorldSpec, ListenerSpec};
/// let spec = WorldSpec {
///     duration: SimDuration::from_secs(60),
///     clients: vec![ClientSpec { arrivals: ArrivalSpec::Poisson { rate_rps: 50.0 }, ..Default::default() }],
///     target_groups: vec![TargetGroupSpec::default()],
///     services: vec![ServiceSpec { desired_count: 2, ..Default::default() }],
///     ..Default::default()
/// };
/// assert_eq!(spec.load_balancer.listeners.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct WorldSpec {
    /// Scenario name, copied into outputs.
    pub name: String,
    /// Master seed: every random stream is derived from it and its own name.
    pub seed: u64,
    /// Simulated time to run, from t = 0.
    pub duration: SimDuration,
    /// Initial span excluded from latency and throughput statistics.
    pub warmup: SimDuration,
    /// Width of one row of `metrics.csv`.
    pub metrics_interval: SimDuration,
    /// Sources of requests.
    pub clients: Vec<ClientSpec>,
    /// The one load balancer in front of the target groups.
    pub load_balancer: LoadBalancerSpec,
    /// Target groups, referred to by index.
    pub target_groups: Vec<TargetGroupSpec>,
    /// ECS services, each registering its tasks in one target group.
    pub services: Vec<ServiceSpec>,
    /// Backends the services' requests call (databases, caches, other APIs), referred to
    /// by index from [`StepSpec::Call`].
    pub dependencies: Vec<DependencySpec>,
    /// Faults injected during the run, in any order.
    pub faults: Vec<FaultSpec>,
    /// The subnets of the awsvpc network configuration every service's tasks are placed in
    /// (ECS `awsvpcConfiguration.subnets`): each task takes one private IPv4 address from one
    /// of them, and their Availability Zones are the zones tasks spread over. Empty means
    /// lbsim's default network, [`SubnetSpec::default_network`] (three `/24`s in
    /// `us-east-1a`, `us-east-1b` and `us-east-1c`).
    pub subnets: Vec<SubnetSpec>,
    /// CloudWatch's ingestion delay: from the end of a one-minute period to its
    /// datapoints' publication to alarms (see `model::cloudwatch`). Default 60 s, a
    /// calibrated guess (AWS publishes no figure).
    pub cloudwatch_ingestion_delay: SimDuration,
    /// The prices the run's cost is computed with (`[pricing]`; AWS us-east-1 by default):
    /// see [`crate::model::cost`].
    pub pricing: super::cost::PricingSpec,
    /// Blue/green deployments with CodeDeploy-style traffic shifting (`[[blue_green]]`):
    /// see [`crate::model::ecs::blue_green`]. Default none.
    pub blue_green: Vec<super::ecs::blue_green::BlueGreenSpec>,
}

impl Default for WorldSpec {
    /// Seed 1, 60 s with no warm-up and 1-minute metrics, no clients, target groups or
    /// services, and the default load balancer (one HTTP listener on port 80 forwarding to
    /// target group 0).
    fn default() -> Self {
        WorldSpec {
            name: "world".into(),
            seed: 1,
            duration: SimDuration::from_secs(60),
            warmup: SimDuration::ZERO,
            metrics_interval: SimDuration::from_secs(60),
            clients: Vec::new(),
            load_balancer: LoadBalancerSpec::default(),
            target_groups: Vec::new(),
            services: Vec::new(),
            dependencies: Vec::new(),
            faults: Vec::new(),
            subnets: Vec::new(),
            cloudwatch_ingestion_delay: SimDuration::from_secs(60),
            pricing: super::cost::PricingSpec::default(),
            blue_green: Vec::new(),
        }
    }
}

/// A source of requests.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    /// Unique name; also names the client's random streams.
    pub name: String,
    /// When requests reach the load balancer.
    pub arrivals: ArrivalSpec,
    /// Client ↔ load balancer round-trip time added to each request's latency as the client
    /// sees it (it does not delay the load balancer's decisions).
    pub rtt: DistSpec,
    /// Index of the listener the client sends to.
    pub listener: usize,
    /// Bytes of one request (headers and body) the load balancer processes, drawn per
    /// request (key `client/<name>/request_size`); the distribution's unit, nanoseconds in
    /// [`SimDuration`], is read as bytes. Counts towards the ALB's processed bytes (an LCU
    /// dimension, see [`crate::model::cost`]). Default [`DEFAULT_REQUEST_SIZE`].
    pub request_size: DistSpec,
    /// Bytes of one response from a target (headers and body), drawn per request (key
    /// `client/<name>/response_size`), read as bytes like `request_size`. Default
    /// [`DEFAULT_RESPONSE_SIZE`].
    pub response_size: DistSpec,
    /// The request mix: each request is one entry, drawn by weight (key
    /// `client/<name>/mix`). Empty: every request is `GET /` (no draw).
    pub requests: Vec<MixEntrySpec>,
    /// Pool of source addresses, IPv4 and IPv6 blocks: each request's is drawn from the
    /// blocks' addresses, a block with probability proportional to its size (an IPv6
    /// block's counted as at most 2^32, [`MAX_BLOCK_WEIGHT`]), then uniformly in it (key
    /// `client/<name>/source_ip`). Empty: every request comes from 0.0.0.0 (no draw).
    pub source_ips: Vec<IpCidr>,
    /// Open-loop clients only: the number of sessions (cookie jars) its requests are spread
    /// over, each request belonging to a session drawn uniformly (keyed draw
    /// `client/<name>/session`); 0 (the default): requests carry no session. Closed-loop
    /// users are sessions of their own and ignore it. See [`crate::model::clients::users`].
    pub sessions: u32,
    /// Client keep-alive: `(requests, idle)`: a connection carries up to `requests`
    /// requests and is closed after `idle` without one; `None` (the default): a new
    /// connection per request, its TCP handshake folded into `rtt` (see
    /// `model::clients::connections`).
    pub keep_alive: Option<(u32, SimDuration)>,
    /// Round trips of a TLS handshake on a new connection to an HTTPS listener: 1 (TLS 1.3,
    /// the default) or 2 (TLS 1.2) (RFC 8446 §2,
    /// <https://www.rfc-editor.org/rfc/rfc8446#section-2>).
    pub tls_handshake_round_trips: u8,
    /// `websocket = { duration }`: every request of this client is a WebSocket upgrade that
    /// stays open on its target for a drawn `duration` (key `client/<name>/websocket`), then
    /// ends `websocket_closed`; `None` (the default): plain HTTP requests (see
    /// `World::open_websocket`).
    pub websocket: Option<DistSpec>,
    /// `timeout`: how long the client waits for each response, from sending the request to
    /// receiving the response, before it gives up and closes its connection: the request
    /// ends with a 460 (`elb_460_client_closed`) while its target keeps working on it (see
    /// [`crate::model::clients::timeout`]). `None` (the default): it waits for ever.
    /// 1 ms–1 h in scenarios; not with `websocket`.
    pub timeout: Option<SimDuration>,
}

/// The default request size: 1 KiB (1024 bytes), lbsim's choice for a typical API request
/// (headers plus a small body); not an AWS figure.
pub const DEFAULT_REQUEST_SIZE: u64 = 1024;
/// The default response size: 10 KiB (10 240 bytes), lbsim's choice for a typical JSON API
/// response; not an AWS figure.
pub const DEFAULT_RESPONSE_SIZE: u64 = 10 * 1024;

impl Default for ClientSpec {
    /// Client `clients`: Poisson arrivals at 1 request/s, no round-trip time, listener 0,
    /// requests of 1 KiB and responses of 10 KiB.
    fn default() -> Self {
        ClientSpec {
            name: "clients".into(),
            arrivals: ArrivalSpec::default(),
            rtt: DistSpec::default(),
            listener: 0,
            request_size: DistSpec::Deterministic(SimDuration(DEFAULT_REQUEST_SIZE)),
            response_size: DistSpec::Deterministic(SimDuration(DEFAULT_RESPONSE_SIZE)),
            requests: Vec::new(),
            source_ips: Vec::new(),
            sessions: 0,
            keep_alive: None,
            tls_handshake_round_trips: 1,
            websocket: None,
            timeout: None,
        }
    }
}

/// The process by which a client's requests arrive at the load balancer.
#[derive(Clone, Debug)]
pub enum ArrivalSpec {
    /// Homogeneous Poisson process at `rate_rps` requests per second.
    Poisson {
        /// Mean arrival rate, requests/s, > 0.
        rate_rps: f64,
    },
    /// Deterministic arrivals (Kendall's D): request `k` (k = 1, 2, ...) arrives at exactly
    /// `k / rate_rps` seconds, rounded to the nearest nanosecond (no drift), like a
    /// constant-throughput load generator. Draws no random numbers.
    Deterministic {
        /// Arrival rate, requests/s, > 0.
        rate_rps: f64,
    },
    /// Non-homogeneous Poisson process whose rate follows a piecewise profile (a schedule or
    /// a replayed trace).
    Profile(RateProfile),
    /// Closed loop: a fixed population of users, each sending its next request only once
    /// the previous one has ended and it has thought (see
    /// [`crate::model::clients::users`]).
    ClosedLoop(ClosedLoopSpec),
}

impl Default for ArrivalSpec {
    /// Poisson at 1 request/s.
    fn default() -> Self {
        ArrivalSpec::Poisson { rate_rps: 1.0 }
    }
}

/// A piecewise-linear (or piecewise-constant) arrival-rate function of simulated time.
#[derive(Clone, Debug)]
pub struct RateProfile {
    /// Contiguous segments starting at t = 0, in time order.
    pub segments: Arc<[RateSegment]>,
    /// If set, the profile repeats with this period (the end of the last segment);
    /// otherwise the rate is 0 after the last segment.
    pub period: Option<SimDuration>,
}

/// One segment of a [`RateProfile`]: the rate goes linearly from `rate_start_rps` at `start`
/// to `rate_end_rps` at `end` (equal for a step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateSegment {
    /// Segment start (inclusive).
    pub start: SimTime,
    /// Segment end (exclusive), > `start`.
    pub end: SimTime,
    /// Rate at `start`, requests/s, ≥ 0.
    pub rate_start_rps: f64,
    /// Rate just before `end`, requests/s, ≥ 0.
    pub rate_end_rps: f64,
}

/// A distribution of durations (CPU time of a request, a network delay...).
#[derive(Clone, Debug)]
pub enum DistSpec {
    /// Always the same value.
    Deterministic(SimDuration),
    /// Exponential with the given mean.
    Exponential {
        /// Mean, > 0.
        mean: SimDuration,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: SimDuration,
        /// Upper bound, ≥ `min`.
        max: SimDuration,
    },
    /// Log-normal with the given mean and coefficient of variation (σ/mean).
    LogNormal {
        /// Mean, > 0.
        mean: SimDuration,
        /// Coefficient of variation, > 0.
        cv: f64,
    },
    /// Gamma with the given mean and coefficient of variation (shape = 1/cv²).
    Gamma {
        /// Mean, > 0.
        mean: SimDuration,
        /// Coefficient of variation, > 0.
        cv: f64,
    },
    /// Pareto (type I) with the given mean and tail index `alpha` (> 1); the scale is
    /// `mean·(alpha−1)/alpha`.
    Pareto {
        /// Mean, > 0.
        mean: SimDuration,
        /// Tail index, > 1.
        alpha: f64,
    },
    /// Resampling (uniformly, with replacement) of observed values.
    Empirical(Arc<[SimDuration]>),
}

impl Default for DistSpec {
    /// Always zero.
    fn default() -> Self {
        DistSpec::Deterministic(SimDuration::ZERO)
    }
}

impl DistSpec {
    /// The distribution's mean.
    pub fn mean(&self) -> SimDuration {
        match self {
            DistSpec::Deterministic(v) => *v,
            DistSpec::Exponential { mean }
            | DistSpec::LogNormal { mean, .. }
            | DistSpec::Gamma { mean, .. }
            | DistSpec::Pareto { mean, .. } => *mean,
            DistSpec::Uniform { min, max } => SimDuration((min.0 / 2) + (max.0 / 2)),
            DistSpec::Empirical(v) => {
                let n = v.len().max(1) as u128;
                SimDuration((v.iter().map(|d| u128::from(d.0)).sum::<u128>() / n) as u64)
            }
        }
    }
}

/// The load balancer.
#[derive(Clone, Debug)]
pub struct LoadBalancerSpec {
    /// Name, used in stream names and events.
    pub name: String,
    /// Time the load balancer takes between receiving a request and sending it to a target
    /// (the access log's `request_processing_time`).
    pub processing_time: DistSpec,
    /// Listeners; clients name one by index.
    pub listeners: Vec<ListenerSpec>,
    /// The load balancer attribute `idle_timeout.timeout_seconds`: a target connection on
    /// which no data moves for this long is closed, and its request ends with a 504
    /// ([`Cause::Elb504IdleTimeout`](crate::model::Cause::Elb504IdleTimeout)). The model
    /// applies it only to requests a target will never answer (a hung task, an unreachable
    /// zone), so a healthy run pays nothing for it. AWS default 60 s, range 1–4000 s
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout>).
    /// For an NLB ([`Self::network`]): its TCP idle timeout, default 350 s, 60–6000 s,
    /// which caps the clients' keep-alive idle time.
    pub idle_timeout: SimDuration,
    /// Not an AWS setting: how long after a target closes an idle kept-alive connection the
    /// load balancer still believes it open (the FIN's trip back to it). A request sent on
    /// the connection in that window ends with a 502
    /// ([`Cause::Elb502KeepAliveRace`](crate::model::Cause::Elb502KeepAliveRace)). Only
    /// matters when a service sets `keep_alive_timeout` (see
    /// [`crate::model::elb::connections`]). Default [`DEFAULT_FIN_PROPAGATION`].
    pub fin_propagation: SimDuration,
    /// Issue 12, load balancer nodes per Availability Zone: the zones the load balancer is
    /// enabled in, as indices into the network's zones (in the order they first appear in
    /// [`WorldSpec::subnets`]). AWS runs one node per enabled zone, each with its own
    /// routing state (round-robin position, outstanding counts), and DNS spreads clients
    /// over the nodes (see `model::elb::nodes`). Empty (the default): one node that sees
    /// every target, as before.
    pub availability_zones: Vec<u32>,
    /// The load balancer level `load_balancing.cross_zone.enabled`: on for an ALB (always:
    /// AWS does not let it be turned off there; target groups can turn it off, see
    /// [`TargetGroupSpec::cross_zone`]); off by default for an NLB ([`Self::network`],
    /// <https://docs.aws.amazon.com/elasticloadbalancing/latest/network/network-load-balancers.html#cross-zone-load-balancing>)
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#cross-zone-load-balancing>).
    pub cross_zone: bool,
    /// Direct service discovery instead of a load balancer (`type = "none"`): clients
    /// resolve the service's DNS name to task IPs and connect to them directly (see
    /// `model::discovery`). `None` (the default): an ALB.
    pub discovery: Option<DiscoverySpec>,
    /// Issue 12, `type = "network"`: a Network Load Balancer instead of an ALB. Each client
    /// connection is bound to one target by a hash of its 5-tuple and keeps it for its
    /// life; a request that cannot be served ends with
    /// [`Cause::ConnectionFailed`](crate::model::Cause::ConnectionFailed) (an NLB sends no
    /// HTTP error). See `model::elb::network`
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/how-elastic-load-balancing-works.html>).
    /// False (the default): an ALB.
    pub network: bool,
}

/// Direct service discovery (Cloud Map style DNS records, one per task; no load balancer):
/// `[load_balancer] type = "none"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiscoverySpec {
    /// The records' TTL: how long a client caches an answer. Default 60 s, Cloud Map's
    /// default for the records ECS service discovery creates
    /// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html>).
    pub dns_ttl: SimDuration,
    /// At most this many IPs per answer: 1–8, default 8 (Route 53 multivalue answer routing,
    /// which Cloud Map uses for `MULTIVALUE`, "responds to DNS queries with up to eight
    /// healthy records";
    /// <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-multivalue.html>).
    pub max_answers: u8,
}

/// Cloud Map's default record TTL for ECS service discovery: 60 s.
pub const DEFAULT_DNS_TTL: SimDuration = SimDuration::from_secs(60);
/// Most IPs in one multivalue DNS answer (Route 53): 8.
pub const MAX_DNS_ANSWERS: u8 = 8;

impl Default for DiscoverySpec {
    /// A 60 s TTL, up to 8 answers.
    fn default() -> Self {
        DiscoverySpec {
            dns_ttl: DEFAULT_DNS_TTL,
            max_answers: MAX_DNS_ANSWERS,
        }
    }
}

/// AWS's default load balancer `idle_timeout.timeout_seconds`: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(60);

/// Default [`LoadBalancerSpec::fin_propagation`]: 1 ms, a generous one-way trip inside an
/// AWS Region (round trips between Availability Zones are typically single-digit
/// milliseconds or less, <https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/availability-zones.html>;
/// within a zone they are a fraction of a millisecond).
pub const DEFAULT_FIN_PROPAGATION: SimDuration = SimDuration::from_millis(1);

impl Default for LoadBalancerSpec {
    /// `alb`, no processing time, one listener (see [`ListenerSpec::default`]), AWS's
    /// default idle timeout (60 s).
    fn default() -> Self {
        LoadBalancerSpec {
            name: "alb".into(),
            processing_time: DistSpec::default(),
            listeners: vec![ListenerSpec::default()],
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            availability_zones: Vec::new(),
            cross_zone: true,
            discovery: None,
            fin_propagation: DEFAULT_FIN_PROPAGATION,
            network: false,
        }
    }
}

/// A listener: a port, a protocol and a default action.
#[derive(Clone, Debug)]
pub struct ListenerSpec {
    /// Port, 1–65535.
    pub port: u16,
    /// `HTTP` or `HTTPS` (no effect on timing yet).
    pub protocol: String,
    /// The default rule's action: what the listener does with a request no rule matches.
    pub default_action: ActionSpec,
    /// Rules, evaluated in priority order before the default action (see
    /// [`crate::model::elb::rules`]).
    pub rules: Vec<RuleSpec>,
}

impl Default for ListenerSpec {
    /// HTTP on port 80, forwarding to target group 0.
    fn default() -> Self {
        ListenerSpec {
            port: 80,
            protocol: "HTTP".into(),
            default_action: ActionSpec::Forward { target_group: 0 },
            rules: Vec::new(),
        }
    }
}

/// A listener action (AWS `forward`, `redirect`, `fixed-response`;
/// <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-action-types>).
#[derive(Clone, Debug)]
pub enum ActionSpec {
    /// Forward to the target group with this index.
    Forward {
        /// Index into [`WorldSpec::target_groups`].
        target_group: usize,
    },
    /// Forward to one of up to 5 target groups, each with probability weight / Σ weights.
    WeightedForward {
        /// The groups and their weights (0–999, not all 0).
        target_groups: Vec<WeightedTargetGroup>,
        /// Target-group stickiness (`AWSALBTG`), if set: see [`GroupStickinessSpec`].
        stickiness: Option<GroupStickinessSpec>,
    },
    /// Answer with a redirect (301 or 302) to another listener of this load balancer: the
    /// client re-sends the request there one round trip later.
    Redirect {
        /// Index of the listener redirected to.
        listener: usize,
        /// 301 or 302.
        status_code: u16,
        /// The host, path and query the client is sent to (`RedirectActionConfig` `Host`,
        /// `Path`, `Query` with AWS's `#{...}` keywords; see
        /// [`crate::model::elb::redirect`]); the default leaves them unchanged.
        rewrite: RewriteSpec,
    },
    /// Answer with a fixed response.
    FixedResponse {
        /// 2XX, 4XX or 5XX.
        status_code: u16,
    },
}

impl Default for ActionSpec {
    /// Forward to target group 0.
    fn default() -> Self {
        ActionSpec::Forward { target_group: 0 }
    }
}

pub use super::clients::mix::{MixEntrySpec, TEMPLATE_MAX};
pub use super::elb::redirect::RewriteSpec;
pub use super::elb::rules::{
    ConditionsSpec, GroupStickinessSpec, HttpHeaderCondition, QueryStringPair, RuleSpec,
    WeightedTargetGroup,
};
pub use super::elb::source_ip::{IpCidr, Ipv6Cidr, MAX_BLOCK_WEIGHT};

/// A routing algorithm (the target group attribute `load_balancing.algorithm.type`, plus two
/// textbook policies that AWS does not offer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// AWS `round_robin` (the AWS default).
    RoundRobin,
    /// AWS `least_outstanding_requests`.
    LeastOutstandingRequests,
    /// Uniform random choice (not an AWS setting).
    Random,
    /// AWS `weighted_random`.
    WeightedRandom,
    /// Power of two choices (not an AWS setting).
    PowerOfTwoChoices,
    /// Smooth weighted round robin, NGINX's algorithm (not an AWS setting): see
    /// [`crate::model::elb::algorithms::WeightedRoundRobin`].
    WeightedRoundRobin,
    /// Least response time, peak EWMA as in Finagle (not an AWS setting): see
    /// [`crate::model::elb::algorithms::LeastResponseTime`].
    LeastResponseTime,
}

impl Algorithm {
    /// Every algorithm, in documentation order.
    pub const ALL: [Algorithm; 7] = [
        Algorithm::RoundRobin,
        Algorithm::LeastOutstandingRequests,
        Algorithm::Random,
        Algorithm::WeightedRandom,
        Algorithm::PowerOfTwoChoices,
        Algorithm::WeightedRoundRobin,
        Algorithm::LeastResponseTime,
    ];

    /// The scenario-file spelling (`round_robin`...).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "round_robin",
            Algorithm::LeastOutstandingRequests => "least_outstanding_requests",
            Algorithm::Random => "random",
            Algorithm::WeightedRandom => "weighted_random",
            Algorithm::PowerOfTwoChoices => "power_of_two_choices",
            Algorithm::WeightedRoundRobin => "weighted_round_robin",
            Algorithm::LeastResponseTime => "least_response_time",
        }
    }
}

/// A target group.
#[derive(Clone, Debug)]
pub struct TargetGroupSpec {
    /// Unique name; also names the routing stream `target_group/<name>/routing`.
    pub name: String,
    /// How a target is chosen for each request.
    pub algorithm: Algorithm,
    /// `deregistration_delay.timeout_seconds`: how long a deregistering (`draining`) target
    /// keeps its requests in flight before the load balancer gives up on them (each ends
    /// with a 502). A draining target with nothing in flight is deregistered at once.
    /// AWS: default 300 s, 0–3600 s
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay>).
    pub deregistration_delay: SimDuration,
    /// How its load balancer nodes check its targets' health.
    pub health_check: HealthCheckSpec,
    /// `slow_start.duration_seconds`: for this long after a target turns healthy, the load
    /// balancer sends it a share of requests that grows linearly from about 0 to a full
    /// share (see [`crate::model::elb::algorithms::Ramp`] for the exact ramp). Zero (the
    /// AWS default) turns it off. AWS: 0 or 30–900 s; not with
    /// `least_outstanding_requests` nor `weighted_random`; only a target that turns healthy
    /// while another target is healthy and out of slow start enters it
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#slow-start-mode>).
    pub slow_start: SimDuration,
    /// How long a deregistering target may still get new requests: not an AWS setting but a
    /// calibrated model of the reported behaviour that the ALB "may still send requests to
    /// a target for a few seconds after deregistration starts"
    /// (<https://github.com/kubernetes-sigs/aws-load-balancer-controller/issues/1064>). A
    /// target that is routable when its deregistration starts stays routable (while
    /// `draining`) for this long, or until the deregistration delay expires if that is
    /// sooner; then it gets nothing new. Zero (the default) stops new requests at once, as
    /// AWS documents.
    pub deregistration_propagation_lag: SimDuration,
    /// `Port`: the port its targets are registered on (target type `ip`: a target is an
    /// IP address and a port; for an ECS service, the container port of its load balancer
    /// configuration, which lbsim takes from here). 1–65535; default 80 (HTTP)
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-target-group.html>).
    pub port: u16,
    /// `load_balancing.cross_zone.enabled`: `Some(false)` keeps each load balancer node to
    /// the targets in its own Availability Zone, `Some(true)` lets it use every zone's;
    /// `None` (AWS's default `use_load_balancer_configuration`) follows
    /// [`LoadBalancerSpec::cross_zone`]. Only matters with several nodes
    /// ([`LoadBalancerSpec::availability_zones`])
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#cross-zone-load-balancing>).
    pub cross_zone: Option<bool>,
    /// `stickiness.*`: sticky sessions, if enabled (`None`: off, the AWS default).
    pub stickiness: Option<StickinessSpec>,
    /// `load_balancing.algorithm.anomaly_mitigation`: `Some` (on) only with
    /// [`Algorithm::WeightedRandom`]; `None` (off, the AWS default) otherwise. See
    /// [`crate::model::elb::anomaly`].
    pub anomaly_mitigation: Option<AnomalyMitigationSpec>,
    /// The decay time τ of [`Algorithm::LeastResponseTime`]'s moving average of latency
    /// (Finagle's `decayTime`, default 10 s); unused by the other algorithms.
    pub response_time_decay: SimDuration,
    /// NLB `deregistration_delay.connection_termination.enabled`: true closes the client
    /// connections still bound to a target when its deregistration completes; false (the
    /// AWS default) leaves them flowing to it while its task accepts connections
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#deregistration-delay>).
    /// Only with [`LoadBalancerSpec::network`].
    pub connection_termination: bool,
}

/// The default decay time of `least_response_time`'s peak EWMA: 10 s, Finagle's default
/// (`Balancers.p2cPeakEwma(decayTime = 10.seconds)`).
pub const DEFAULT_RESPONSE_TIME_DECAY: SimDuration = SimDuration::from_secs(10);

/// Anomaly mitigation (ALB "Automatic Target Weights") on a `weighted_random` target group.
/// AWS publishes none of these constants
/// (<https://aws.amazon.com/blogs/networking-and-content-delivery/improving-availability-with-application-load-balancer-automatic-target-weights/>):
/// each is an lbsim parameter, and [`Default`] gives lbsim's choices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnomalyMitigationSpec {
    /// How often each node judges its targets (and each judgement's window): 10 s.
    pub interval: SimDuration,
    /// Responses a target needs since it was last judged before it is judged: 20.
    pub min_requests: u32,
    /// A target is anomalous when its error ratio is at least this much above its peers'
    /// (an absolute difference of ratios): 0.1 (10 points).
    pub margin: f64,
    /// ... and at least this many times its peers' ratio: 2.
    pub factor: f64,
    /// An anomalous target's weight is multiplied by this at each judgement: 0.5.
    pub cut: f64,
    /// Its weight never goes below this fraction of its own weight: 0.01.
    pub floor: f64,
    /// A recovered target's weight is multiplied by this at each judgement until it is
    /// whole again: 2.
    pub restore: f64,
}

impl Default for AnomalyMitigationSpec {
    /// lbsim's choices: every 10 s, 20 responses, 10 points and 2× above the peers, halve
    /// to 1 %, double back.
    fn default() -> Self {
        AnomalyMitigationSpec {
            interval: SimDuration::from_secs(10),
            min_requests: 20,
            margin: 0.1,
            factor: 2.0,
            cut: 0.5,
            floor: 0.01,
            restore: 2.0,
        }
    }
}

/// A target group's health checks (ALB, target type `ip`), with AWS's defaults and ranges
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>).
///
/// Every load balancer node checks every registered target on its own schedule, every
/// `interval`; a check is a request to `path` that the task serves like any other (it takes
/// a worker and runs the service's `health_check_steps`), and passes if it answers within
/// `timeout` with a status the `matcher` accepts.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheckSpec {
    /// False turns health checks off: a target is healthy once its application listens.
    pub enabled: bool,
    /// `HealthCheckPath` (informational: the service's `health_check_steps` say what it
    /// costs). Default `/`.
    pub path: String,
    /// `HealthCheckIntervalSeconds`: 5–300 s, default 30 s.
    pub interval: SimDuration,
    /// `HealthCheckTimeoutSeconds`: 2–120 s and below the interval, default 5 s.
    pub timeout: SimDuration,
    /// `HealthyThresholdCount`: consecutive passes that make an unhealthy target healthy;
    /// 2–10, default 5.
    pub healthy_threshold: u32,
    /// `UnhealthyThresholdCount`: consecutive failures that make a target unhealthy;
    /// 2–10, default 2.
    pub unhealthy_threshold: u32,
    /// `Matcher`: the HTTP codes that pass, as inclusive ranges (e.g. `200` or
    /// `200-299`); codes 200–499. Default 200.
    pub matcher: Vec<(u16, u16)>,
    /// Passes a newly registered target needs to turn healthy: AWS's user guide says one
    /// ("After your target is registered, it must pass one health check"), ECS's best
    /// practices guide says the healthy threshold; the sources conflict, so it is a
    /// parameter. Default 1.
    pub initial_passes: u32,
    /// `HealthCheckProtocol = TCP` (the NLB default): a check passes if the task accepts
    /// the connection (its application listens), without a request to serve, a path or a
    /// matcher; an unreachable task fails it by timeout. False (the default): HTTP
    /// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html>).
    pub tcp: bool,
}

impl Default for HealthCheckSpec {
    /// AWS's defaults: enabled, `/`, every 30 s, timeout 5 s, thresholds 5 and 2, 200; one
    /// pass for a new target.
    fn default() -> Self {
        HealthCheckSpec {
            enabled: true,
            path: "/".into(),
            interval: SimDuration::from_secs(30),
            timeout: SimDuration::from_secs(5),
            healthy_threshold: 5,
            unhealthy_threshold: 2,
            matcher: vec![(200, 200)],
            initial_passes: 1,
            tcp: false,
        }
    }
}

/// A target group's default `port` (HTTP).
pub const DEFAULT_TARGET_PORT: u16 = 80;

/// The default `deregistration_delay`: 300 s, as AWS.
pub const DEFAULT_DEREGISTRATION_DELAY: SimDuration = SimDuration::from_secs(300);

impl Default for TargetGroupSpec {
    /// `tg`, round robin, AWS's defaults (300 s deregistration delay, health checks on, no
    /// slow start).
    fn default() -> Self {
        TargetGroupSpec {
            name: "tg".into(),
            algorithm: Algorithm::RoundRobin,
            deregistration_delay: DEFAULT_DEREGISTRATION_DELAY,
            health_check: HealthCheckSpec::default(),
            slow_start: SimDuration::ZERO,
            deregistration_propagation_lag: SimDuration::ZERO,
            port: DEFAULT_TARGET_PORT,
            cross_zone: None,
            stickiness: None,
            anomaly_mitigation: None,
            response_time_decay: DEFAULT_RESPONSE_TIME_DECAY,
            connection_termination: false,
        }
    }
}

/// An ECS service on Fargate.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    /// Unique name; tasks are named `<name>-<n>`.
    pub name: String,
    /// Index of the target group its tasks register in.
    pub target_group: usize,
    /// Number of tasks, all running and registered from t = 0.
    pub desired_count: u32,
    /// The task size and its concurrency.
    pub task: TaskSpec,
    /// CPU time one request needs, in seconds of one vCPU: the one-step profile used when
    /// `steps` is empty (its keyed draws use the purpose `service/<name>/cpu_time`).
    pub cpu_time: DistSpec,
    /// The request's profile: steps run in order while the request holds a worker. Empty
    /// means one [`StepSpec::Cpu`] step of `cpu_time`. Step `i`'s keyed draws use the
    /// purpose `service/<name>/steps/<i>`.
    pub steps: Vec<StepSpec>,
    /// Memory the application uses: a base per task plus some per request at the task.
    pub memory: MemorySpec,
    /// How long each phase of a task's life takes. The initial `desired_count` tasks skip
    /// it: they are RUNNING, registered and healthy at t = 0 (a warm start); tasks launched
    /// later (replacements) walk every phase.
    pub lifecycle: LifecycleSpec,
    /// What a health check costs at the task: the steps its request runs (like `steps`;
    /// a `call` makes it a deep check, which fails when the dependency does). Empty: the
    /// application answers at once, using a worker but no time. Step `i`'s keyed draws use
    /// the purpose `service/<name>/health_check_steps/<i>`.
    pub health_check_steps: Vec<StepSpec>,
    /// ECS `healthCheckGracePeriodSeconds`: for this long after a task reaches RUNNING, ECS
    /// ignores its target's unhealthy verdicts (the load balancer still checks it and
    /// routes only to healthy targets). Default 0
    /// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_definition_parameters.html>).
    pub health_check_grace_period: SimDuration,
    /// ECS `deploymentConfiguration`: how a rolling deployment replaces the service's tasks
    /// and when ECS gives it up.
    pub deployment_configuration: DeploymentConfigurationSpec,
    /// Rolling deployments of new task definition revisions, in time order (at most one
    /// in progress at a time: a later one supersedes an unfinished one, as in ECS).
    pub deployments: Vec<DeploymentSpec>,
    /// Application Auto Scaling of its desired count: bounds, policies, scheduled actions
    /// (see `model::autoscaling`); none by default.
    pub auto_scaling: Option<super::autoscaling::AutoScalingSpec>,
    /// ECS `capacityProviderStrategy`: how its tasks are spread over `FARGATE` and
    /// `FARGATE_SPOT` (see [`CapacityProviderStrategyItemSpec`]). Empty (the default): every
    /// task on `FARGATE`, as with the `FARGATE` launch type.
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItemSpec>,
    /// When its `FARGATE_SPOT` tasks are interrupted (none by default).
    pub spot_interruptions: SpotInterruptionsSpec,
    /// ECS `runtimePlatform`: the CPU architecture its tasks run on (what Fargate charges
    /// per vCPU-hour and GB-hour depends on it).
    pub runtime_platform: RuntimePlatformSpec,
    /// Not an AWS setting: the routing weight of this service's targets (1–999, default 1),
    /// read by the `weighted_round_robin` and `weighted_random` algorithms, so that in a
    /// mixed fleet (two services of different task sizes in one target group) a bigger
    /// task gets a bigger share, as NGINX's `server ... weight=N` does.
    pub target_weight: u32,
    /// The application's HTTP keep-alive timeout: it closes a connection from the load
    /// balancer that has been idle this long (Node.js `server.keepAliveTimeout`, default
    /// 5 s, <https://nodejs.org/api/http.html#serverkeepalivetimeout>). `None` (the default):
    /// longer than any load balancer idle timeout, so the load balancer always closes first
    /// and no keep-alive race happens. `Some(0)`: no keep-alive (a connection per request).
    /// See [`crate::model::elb::connections`].
    pub keep_alive_timeout: Option<SimDuration>,
}

/// ECS `runtimePlatform` of a task definition
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html>):
/// Linux only in lbsim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuntimePlatformSpec {
    /// `cpuArchitecture`: `X86_64` (the default) or `ARM64` (Graviton).
    pub cpu_architecture: CpuArchitecture,
}

/// ECS `cpuArchitecture`.
///
/// Rule: `FARGATE_SPOT` runs Linux x86_64 only (no ARM64,
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html>,
/// `../shared/spec/aws-behaviour.md` §6.6): a scenario that places an ARM64 service's tasks
/// on [`CapacityProvider::FargateSpot`] must be rejected by validation (see
/// [`CpuArchitecture::supports_fargate_spot`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuArchitecture {
    /// `X86_64` (the default).
    #[default]
    X86_64,
    /// `ARM64` (AWS Graviton), cheaper per vCPU-hour and GB-hour.
    Arm64,
}

impl CpuArchitecture {
    /// Every architecture, in documentation order.
    pub const ALL: [CpuArchitecture; 2] = [CpuArchitecture::X86_64, CpuArchitecture::Arm64];

    /// ECS's spelling (`X86_64`, `ARM64`).
    pub const fn name(self) -> &'static str {
        match self {
            CpuArchitecture::X86_64 => "X86_64",
            CpuArchitecture::Arm64 => "ARM64",
        }
    }

    /// False for ARM64: Fargate Spot runs x86_64 tasks only.
    pub const fn supports_fargate_spot(self) -> bool {
        matches!(self, CpuArchitecture::X86_64)
    }
}

/// One item of an ECS capacity provider strategy
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html>).
///
/// **Placement.** Each task the service launches (its initial tasks too) goes to a provider
/// chosen from the service's tasks that count towards its desired count (PROVISIONING to
/// RUNNING, not being replaced): first, while the provider with a `base` has fewer than
/// `base` of them, that provider ("The base value designates how many tasks, at a minimum,
/// to run on the specified capacity provider"); then, among the providers with a weight
/// above 0, the one whose count beyond its base divided by its weight is the lowest, ties
/// going to the earlier item ("The weight value is taken into consideration after the base
/// value, if defined, is satisfied"; the exact tie rule is lbsim's, AWS does not publish
/// it). So `base = 1, weight = 1` on `FARGATE` and `weight = 3` on `FARGATE_SPOT` gives, for
/// 9 tasks, 1 + 2 on `FARGATE` and 6 on `FARGATE_SPOT`. A replacement is placed the same
/// way, so an interrupted Spot task's replacement goes back to Spot: ECS does not fall back
/// to on-demand (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html>,
/// `../shared/spec/aws-behaviour.md` §6.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityProviderStrategyItemSpec {
    /// `capacityProvider`.
    pub capacity_provider: CapacityProvider,
    /// `base`: tasks, at a minimum, on this provider; 0–100000, default 0; at most one item
    /// of a strategy has a base above 0.
    pub base: u32,
    /// `weight`: the relative share of the tasks beyond the bases; 0–1000, default 0; at
    /// least one item of a strategy has a weight above 0.
    pub weight: u32,
}

/// When a service's `FARGATE_SPOT` tasks are interrupted: AWS takes the capacity back with a
/// two-minute warning (an EventBridge task state change event, stop code
/// `SpotInterruption`, "Your Spot Task was interrupted."). The service begins stopping the
/// task at the warning (its target drains for the target group's deregistration delay, then
/// SIGTERM and the shutdown), launches a replacement, and 120 s after the warning the task
/// is terminated whatever remains of its stop sequence: requests still at it end with a 502
/// ([`Cause::Elb502TargetClosed`](super::Cause::Elb502TargetClosed)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpotInterruptionsSpec {
    /// At each of these instants, `count` running Spot tasks of the service are
    /// interrupted, the oldest first (fewer if it has fewer).
    pub at: Vec<SimTime>,
    /// Spot tasks interrupted at each instant of `at` (≥ 1).
    pub count: u32,
    /// Random interruptions: each Spot task, from when it reaches RUNNING, is interrupted
    /// after an exponentially distributed time of this mean (a rate of 1 ÷ mean per Spot
    /// task-hour), drawn keyed by the task's number under the purpose
    /// `service/<name>/spot/interruptions`, so it depends on the seed alone. `None`: none.
    pub mean_time_between: Option<SimDuration>,
}

/// The two-minute warning of a Fargate Spot interruption: a task is terminated this long
/// after it.
pub const SPOT_INTERRUPTION_WARNING: SimDuration = SimDuration::from_secs(120);

/// ECS `deploymentConfiguration` for the rolling update (`ECS`) deployment controller
/// (<https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html>,
/// `../shared/spec/aws-behaviour.md` §6.1–§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeploymentConfigurationSpec {
    /// `minimumHealthyPercent`, 0–100, default 100: during a deployment (and when it
    /// replaces unhealthy tasks with no headroom) the service keeps at least
    /// ceil(`desired_count` × this ÷ 100) healthy tasks (a task counts once its target is
    /// healthy in the target group).
    pub minimum_healthy_percent: u32,
    /// `maximumPercent`, 100–400 in lbsim (AWS documents no upper bound), default 200: at
    /// most floor(`desired_count` × this ÷ 100) tasks are PROVISIONING to RUNNING (tasks
    /// being stopped do not count: "the RUNNING or PENDING state").
    pub maximum_percent: u32,
    /// `deploymentCircuitBreaker`: `None` when disabled (the default), else whether a
    /// failed deployment rolls back.
    pub circuit_breaker: Option<CircuitBreakerSpec>,
}

impl Default for DeploymentConfigurationSpec {
    /// AWS's defaults for a REPLICA service: 100 % / 200 %, no circuit breaker.
    fn default() -> Self {
        DeploymentConfigurationSpec {
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            circuit_breaker: None,
        }
    }
}

/// ECS's deployment circuit breaker, enabled
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html>).
/// A deployment fails once ceil(0.5 × `desired_count`) tasks of its revision failed,
/// clamped to [3, 200] (the current API reference's minimum; the 2023 guide said 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitBreakerSpec {
    /// `rollback`: a failed deployment starts a deployment back to the last completed
    /// revision.
    pub rollback: bool,
}

/// A rolling deployment: at `at`, the service's task definition becomes `revision`.
#[derive(Clone, Debug)]
pub struct DeploymentSpec {
    /// When the deployment starts (`UpdateService`).
    pub at: SimTime,
    /// The new task definition revision.
    pub revision: RevisionSpec,
}

/// A task definition revision: what a deployment changes, each field `None` for "as the
/// service's first revision".
#[derive(Clone, Debug, Default)]
pub struct RevisionSpec {
    /// The request profile (as [`ServiceSpec::steps`]; one CPU step when `cpu_time` only).
    pub steps: Option<Vec<StepSpec>>,
    /// CPU time of the one-step profile, when `steps` is `None`.
    pub cpu_time: Option<DistSpec>,
    /// The application's start-up (as [`LifecycleSpec::app_start`]).
    pub app_start: Option<DistSpec>,
    /// How the revision is broken, if it is.
    pub failure: RevisionFailure,
}

/// How a bad revision fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RevisionFailure {
    /// It works.
    #[default]
    None,
    /// Its application exits when its start-up ends (a missing secret, a bad
    /// configuration): the task stops with "Essential container in task exited".
    CrashOnStart,
    /// Its application listens but answers its health check with HTTP 500
    /// (`Target.ResponseCodeMismatch`), so its target never turns healthy.
    FailHealthChecks,
}

/// How long each phase of an ECS task's life takes
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html>):
/// PROVISIONING → PENDING → ACTIVATING → RUNNING, then, when it is stopped, DEACTIVATING
/// (deregistration and the target group's draining) → STOPPING (SIGTERM, the application's
/// shutdown, SIGKILL at `stop_timeout`) → DEPROVISIONING → STOPPED.
///
/// AWS publishes no durations for the phases (only that the awsvpc ENI "adds an overhead of
/// several seconds", and third-party reports of 1–3 minutes from PROVISIONING to RUNNING):
/// each default below is a calibrated guess, documented as such. Each duration is drawn per
/// task, from its own stream (`service/<name>/lifecycle/<phase>`, keyed by the task's
/// launch number).
#[derive(Clone, Debug)]
pub struct LifecycleSpec {
    /// PROVISIONING: capacity is found and the task's ENI is created and attached. Default
    /// 15 s (guess).
    pub provisioning: DistSpec,
    /// PENDING: the container image is pulled. Default 20 s (guess; it grows with the
    /// image's size).
    pub pending: DistSpec,
    /// ACTIVATING: the task is registered in its target group (`initial`). Default 5 s
    /// (guess).
    pub activating: DistSpec,
    /// From RUNNING until the application listens: requests and health checks sent
    /// before fail. Default 10 s (guess).
    pub app_start: DistSpec,
    /// How long the application takes to shut down after SIGTERM; cut at `stop_timeout`
    /// (SIGKILL). Default 2 s (guess).
    pub shutdown: DistSpec,
    /// `stopTimeout`: the wait between SIGTERM and SIGKILL. AWS: default 30 s, at most 120 s
    /// on Fargate (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html>).
    pub stop_timeout: SimDuration,
    /// DEPROVISIONING: the ENI is detached and deleted (its IP freed). Default 10 s (guess).
    pub deprovisioning: DistSpec,
    /// How long ECS takes to notice that a task's process exited (a crash) and begin
    /// stopping it (deregistering its target). Until then the target stays registered: the
    /// load balancer may route to it (502) and its health checks fail. Default 5 s (guess:
    /// the container agent reports a container's exit within seconds).
    pub crash_detection: DistSpec,
}

impl Default for LifecycleSpec {
    /// The calibrated guesses above: 15 s, 20 s, 5 s, app start 10 s, shutdown 2 s, stop
    /// timeout 30 s, 10 s.
    fn default() -> Self {
        let s = |secs| DistSpec::Deterministic(SimDuration::from_secs(secs));
        LifecycleSpec {
            provisioning: s(15),
            pending: s(20),
            activating: s(5),
            app_start: s(10),
            shutdown: s(2),
            stop_timeout: SimDuration::from_secs(30),
            deprovisioning: s(10),
            crash_detection: s(5),
        }
    }
}

impl Default for ServiceSpec {
    /// `svc`, one default task registered in target group 0, 10 ms of CPU per request.
    fn default() -> Self {
        ServiceSpec {
            name: "svc".into(),
            target_group: 0,
            desired_count: 1,
            task: TaskSpec::default(),
            cpu_time: DistSpec::Deterministic(SimDuration::from_millis(10)),
            steps: Vec::new(),
            memory: MemorySpec::default(),
            lifecycle: LifecycleSpec::default(),
            health_check_steps: Vec::new(),
            health_check_grace_period: SimDuration::ZERO,
            deployment_configuration: DeploymentConfigurationSpec::default(),
            deployments: Vec::new(),
            auto_scaling: None,
            capacity_provider_strategy: Vec::new(),
            spot_interruptions: SpotInterruptionsSpec::default(),
            runtime_platform: RuntimePlatformSpec::default(),
            target_weight: 1,
            keep_alive_timeout: None,
        }
    }
}

/// An ECS capacity provider of Fargate: where a task runs, and how it is billed and
/// interrupted (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html>,
/// `../shared/spec/aws-behaviour.md` §6.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CapacityProvider {
    /// `FARGATE`: on-demand capacity (the default).
    #[default]
    Fargate,
    /// `FARGATE_SPOT`: spare capacity at a discount, interrupted with a two-minute warning.
    FargateSpot,
}

impl CapacityProvider {
    /// ECS's spelling (`FARGATE`, `FARGATE_SPOT`).
    pub const fn name(self) -> &'static str {
        match self {
            CapacityProvider::Fargate => "FARGATE",
            CapacityProvider::FargateSpot => "FARGATE_SPOT",
        }
    }
}

/// A task's size: the task definition's `cpu` and `memory`, and the application's
/// concurrency limit.
#[derive(Clone, Copy, Debug)]
pub struct TaskSpec {
    /// CPU units (1024 = 1 vCPU).
    pub cpu: u32,
    /// Memory, MiB (task definition `memory`): the denominator of `MemoryUtilization`.
    pub memory: u32,
    /// Workers: requests a task holds at once, from admission to response, through CPU,
    /// waits and calls (a thread pool's size, an event loop's connection limit, the number
    /// of processes); beyond it requests wait for a worker in FIFO order. 0 = no limit.
    pub max_concurrency: u32,
}

impl Default for TaskSpec {
    /// 1 vCPU (1024 CPU units), 2048 MiB, no concurrency limit.
    fn default() -> Self {
        TaskSpec {
            cpu: 1024,
            memory: 2048,
            max_concurrency: 0,
        }
    }
}

/// One step of a request's profile, run while the request holds its worker.
#[derive(Clone, Debug)]
pub enum StepSpec {
    /// CPU time on one vCPU, shared with the task's other requests in a CPU step by
    /// processor sharing.
    Cpu(DistSpec),
    /// A delay that holds the worker (and the request's memory) but no CPU: local I/O, a
    /// sleep, a call not worth naming as a dependency.
    Wait(DistSpec),
    /// A call to a shared dependency: through the task's connection pool for it, then the
    /// dependency's capacity; its latency is the dependency's. A failed call ends the
    /// request with [`Cause::Target5xx`](super::Cause::Target5xx).
    Call {
        /// Index into [`WorldSpec::dependencies`].
        dependency: usize,
    },
    /// `step`, run by a fraction `probability` of requests (0–1); the others skip it. Which
    /// requests run it is drawn per request from the step's own keyed stream, so a mix of
    /// paths (e.g. 30 % of requests read the database, the rest are served from memory)
    /// is the same requests in every configuration.
    Sometimes {
        /// The fraction of requests that run it, in [0, 1].
        probability: f64,
        /// The step (not itself a `Sometimes`).
        step: Box<StepSpec>,
    },
}

/// What a dependency does with a call that finds every unit of its capacity busy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WhenFull {
    /// The call waits in one FIFO queue shared by every caller (a database's connection
    /// queue, a semaphore).
    #[default]
    Queue,
    /// The call fails at once (a database's `max_connections` reached, HTTP 429/503 from an
    /// API).
    Reject,
}

/// A backend shared by every task that calls it: a database, a cache, an external API.
#[derive(Clone, Debug)]
pub struct DependencySpec {
    /// Unique name; also names its events and output rows.
    pub name: String,
    /// Time one call takes once the dependency serves it (its service time), before any
    /// slow-down fault's factor.
    pub latency: DistSpec,
    /// Calls served at once over all callers (an infinite server when 0: M/G/∞).
    pub capacity: u32,
    /// What a call beyond `capacity` does.
    pub when_full: WhenFull,
    /// Connections one task holds to it at most (the application's connection pool);
    /// a task's calls beyond it wait for a connection in FIFO order. 0 = no limit.
    pub pool_size: u32,
    /// The caller's timeout for one call, from the call step's start (waiting for a
    /// connection, queued at the dependency and served): a call not answered within it
    /// fails, and its request ends with [`Cause::Target5xx`](super::Cause::Target5xx)
    /// (the dependency still serves a call it had started). `None`: no timeout.
    pub timeout: Option<SimDuration>,
}

impl Default for DependencySpec {
    /// `db`, 10 ms per call, unlimited capacity and pool.
    fn default() -> Self {
        DependencySpec {
            name: "db".into(),
            latency: DistSpec::Deterministic(SimDuration::from_millis(10)),
            capacity: 0,
            when_full: WhenFull::Queue,
            pool_size: 0,
            timeout: None,
        }
    }
}

/// A fault injected for a window of simulated time.
#[derive(Clone, Debug)]
pub struct FaultSpec {
    /// When it starts.
    pub start: SimTime,
    /// How long it lasts (> 0; 0 for an instant fault such as a crash).
    pub duration: SimDuration,
    /// What it does.
    pub kind: FaultKind,
    /// For a fault that strikes one task (a crash, a hang, a slowdown): `Some(mean)` makes
    /// it random: it strikes again and again from `start`, at exponentially distributed
    /// intervals of this mean (from its own keyed stream), each time a task drawn uniformly
    /// among the service's serving tasks (its `task` is then unused), each strike with its
    /// own window of `duration`. `None`: once, at `start`, the `task`-th. For a window
    /// fault (a dependency's, `AppErrors`, `AzOutage`): windows of `duration` again and
    /// again, the first an exponential interval of this mean after `start`, each next one
    /// an exponential interval after the previous window ended.
    pub mean_time_between_failures: Option<SimDuration>,
}

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// The dependency is down: calls that reach it fail at once, and calls it was serving
    /// when it went down fail when they would have returned.
    DependencyDown {
        /// Index into [`WorldSpec::dependencies`].
        dependency: usize,
    },
    /// The dependency is slow: calls it starts serving during the window take their
    /// latency × `factor` (calls already in service keep theirs).
    DependencySlow {
        /// Index into [`WorldSpec::dependencies`].
        dependency: usize,
        /// Latency multiplier, > 0 (1 = no effect).
        factor: f64,
    },
    /// A task of the service crashes at `start` (its process exits): its requests in flight
    /// end with a 502, its target is removed, and the service launches a replacement.
    TaskCrash {
        /// Index into [`WorldSpec::services`].
        service: usize,
        /// Which task: its position among the service's serving tasks at that time, oldest
        /// first (0 = the oldest). No such task: the fault does nothing.
        task: u32,
    },
    /// A task of the service hangs from `start` for `duration` (forever with
    /// `SimDuration::MAX`): its application accepts connections but answers nothing. Its
    /// requests in flight and those routed to it end with a 504 when the load balancer's
    /// idle timeout expires (from when each was sent to it); its health checks time out, so
    /// its target turns unhealthy and ECS replaces it.
    TaskHang {
        /// Index into [`WorldSpec::services`].
        service: usize,
        /// Which task, as for [`FaultKind::TaskCrash`].
        task: u32,
    },
    /// A gray failure: a task of the service runs its CPU `factor` times slower from `start`
    /// for `duration` (its CPU steps take `factor` times longer; processor sharing goes on
    /// at the slower rate). It keeps passing health checks that use no CPU.
    TaskSlow {
        /// Index into [`WorldSpec::services`].
        service: usize,
        /// Which task, as for [`FaultKind::TaskCrash`].
        task: u32,
        /// Slowdown, ≥ 1 (1 = no effect).
        factor: f64,
    },
    /// Application errors: during the window, each response a task of the service finishes
    /// is a 500 with probability `fraction` (a keyed draw per request).
    AppErrors {
        /// Index into [`WorldSpec::services`].
        service: usize,
        /// Probability of a 500, 0–1.
        fraction: f64,
    },
    /// An Availability Zone outage: during the window no connection to a task in the zone
    /// completes (the load balancer's 10 s connect timeout: a 504), requests in flight there
    /// end with a 504 at the idle timeout, and health checks of those tasks time out.
    AzOutage {
        /// Index of the zone among the network's zones (in the order they first appear in
        /// [`WorldSpec::subnets`], or the default network's).
        availability_zone: u32,
    },
}

/// Memory the application uses in one task, as ECS measures it for `MemoryUtilization`
/// (memory in use ÷ the task definition's `memory`).
#[derive(Clone, Debug)]
pub struct MemorySpec {
    /// Memory in use by an idle task (runtime, heap, caches), KiB.
    pub base_kib: u64,
    /// Memory each request at the task uses from its dispatch to its end, drawn per request
    /// (purpose `service/<name>/memory`). The distribution's unit, nanoseconds in
    /// [`SimDuration`], is read as KiB.
    pub per_request_kib: DistSpec,
    /// A task that goes above its task definition's `memory` is killed (its container's
    /// hard limit), like a crash, with [`StopReason::OutOfMemory`](crate::model::StopReason::OutOfMemory),
    /// and replaced, as AWS does (the default); false only records the excursion (a
    /// what-if).
    pub oom_kill: bool,
}

impl Default for MemorySpec {
    /// No memory in use (memory not modelled).
    fn default() -> Self {
        MemorySpec {
            base_kib: 0,
            per_request_kib: DistSpec::Deterministic(SimDuration::ZERO),
            oom_kill: true,
        }
    }
}

/// A block of IPv4 addresses in CIDR notation (`10.0.0.0/24`): a base address and a prefix
/// length. A subnet's block must be its network address, with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    /// The block's first address, as a `u32` in host order (`10.0.0.0` is `0x0A00_0000`).
    pub base: u32,
    /// The prefix length: how many leading bits are the network's, 0–32.
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// The block `a.b.c.d/prefix_len`.
    pub const fn new(base: std::net::Ipv4Addr, prefix_len: u8) -> Self {
        Ipv4Cidr {
            base: base.to_bits(),
            prefix_len,
        }
    }

    /// The number of addresses in the block, reserved ones included: 2^(32 − prefix), so 256
    /// for a `/24`. 0 for a prefix length above 32 (not a block).
    pub const fn size(self) -> u64 {
        if self.prefix_len > 32 {
            return 0;
        }
        1u64 << (32 - self.prefix_len as u32)
    }

    /// The network mask (`255.255.255.0` for a `/24`) as a `u32`.
    pub const fn mask(self) -> u32 {
        if self.prefix_len == 0 {
            0
        } else if self.prefix_len >= 32 {
            u32::MAX
        } else {
            u32::MAX << (32 - self.prefix_len as u32)
        }
    }

    /// The block's network address: `base` with the host bits cleared.
    pub const fn network(self) -> u32 {
        self.base & self.mask()
    }

    /// True when `base` has no host bits set (it is the network address), as AWS requires of
    /// a subnet's CIDR block.
    pub const fn is_network_address(self) -> bool {
        self.base == self.network()
    }

    /// The block's last address (the broadcast address).
    pub const fn last(self) -> u32 {
        self.network() | !self.mask()
    }

    /// True when `ip` is in the block.
    pub const fn contains(self, ip: u32) -> bool {
        ip & self.mask() == self.network()
    }

    /// True when the two blocks share at least one address.
    pub const fn overlaps(self, other: Ipv4Cidr) -> bool {
        self.network() <= other.last() && other.network() <= self.last()
    }
}

impl std::fmt::Display for Ipv4Cidr {
    /// `10.0.0.0/24`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            std::net::Ipv4Addr::from_bits(self.base),
            self.prefix_len
        )
    }
}

/// One subnet of the awsvpc network configuration (ECS `awsvpcConfiguration.subnets`;
/// <https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html>).
///
/// Every Fargate task has its own elastic network interface with one private IPv4 address
/// from one of the subnets, held from PROVISIONING until DEPROVISIONING ends
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-networking.html>).
/// AWS reserves 5 addresses of each subnet (the first four and the last), so a `/24` has 251
/// usable addresses and a `/28`, the smallest subnet AWS allows, 11
/// (<https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html>).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetSpec {
    /// Unique name, used in outputs (AWS's subnet id or `Name` tag).
    pub name: String,
    /// The Availability Zone the subnet is in (`us-east-1a`). Tasks spread over the zones of
    /// the subnets, in the order the zones first appear.
    pub availability_zone: String,
    /// The subnet's IPv4 block, `/16` to `/28` as AWS allows.
    pub cidr: Ipv4Cidr,
}

impl SubnetSpec {
    /// lbsim's default network, used when a [`WorldSpec`] gives no subnets: one `/24` in
    /// each of three Availability Zones, `subnet-a` `10.0.0.0/24` in `us-east-1a`,
    /// `subnet-b` `10.0.1.0/24` in `us-east-1b` and `subnet-c` `10.0.2.0/24` in
    /// `us-east-1c` (251 usable addresses each, 753 in all). This is lbsim's choice, not an
    /// AWS default (a service must name its subnets).
    pub fn default_network() -> Vec<SubnetSpec> {
        ["a", "b", "c"]
            .iter()
            .zip(0u8..)
            .map(|(zone, third)| SubnetSpec {
                name: format!("subnet-{zone}"),
                availability_zone: format!("us-east-1{zone}"),
                cidr: Ipv4Cidr::new(std::net::Ipv4Addr::new(10, 0, third, 0), 24),
            })
            .collect()
    }
}
