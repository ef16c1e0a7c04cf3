//! `summary.json`: the totals of one run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole of `summary.json`. Field order is the file's key order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed of the run.
    pub seed: u64,
    /// The lbsim version that produced the file.
    pub lbsim_version: String,
    /// False if the run stopped before its end (partial outputs); `duration_s` is then the
    /// simulated time reached.
    pub complete: bool,
    /// Why the run stopped before its end (`unstable: ...`, `interrupted by SIGINT at
    /// t = ... s`); `null` for a complete run.
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// Simulated duration, s.
    pub duration_s: f64,
    /// Warm-up excluded from latency, throughput and utilisation, s.
    pub warmup_s: f64,
    /// Request counts over the whole run (warm-up included):
    /// `arrived = Σ by_outcome + in_flight_at_end`.
    pub requests: RequestTotals,
    /// Latency of successful (`ok`) responses as clients see them (load balancer time +
    /// round trip), over requests that arrived after the warm-up and ended before the end,
    /// ms; `null` when there were none.
    pub latency_ms: Option<LatencySummary>,
    /// The same for each error cause (every cause but `ok` is listed; `null` when it did not
    /// happen): how long a client waited for that error.
    pub error_latency_ms: BTreeMap<String, Option<LatencySummary>>,
    /// Responses (any outcome) ending after the warm-up, per second of the measured span.
    pub throughput_rps: f64,
    /// Time-average number of requests in the system (at the load balancer or a task)
    /// after the warm-up.
    pub in_flight_mean: f64,
    /// CPU utilisation after the warm-up.
    pub cpu_utilization: CpuSummary,
    /// Memory utilisation after the warm-up, and excursions above a task's memory.
    pub memory_utilization: MemorySummary,
    /// Workers and CPU occupancy after the warm-up (time averages, summed over tasks).
    pub workers: WorkerSummary,
    /// Where the latency of successful responses goes (same requests as `latency_ms`);
    /// `null` when there were none.
    pub latency_breakdown_ms: Option<LatencyBreakdown>,
    /// Σ over tasks of the time each task ran (whole run), s. What Fargate bills.
    pub task_seconds: f64,
    /// The fleet over the whole run: tasks launched and stopped, desired count at the end.
    pub tasks: TaskTotals,
    /// The same figures per target group, in scenario order.
    pub target_groups: Vec<TargetGroupSummary>,
    /// Per dependency, in scenario order: calls after the warm-up.
    pub dependencies: Vec<DependencySummary>,
    /// Every service's deployments, by service in scenario order, then in start order.
    pub deployments: Vec<DeploymentSummary>,
    /// Every blue/green deployment (`[[blue_green]]`), in scenario order; absent when the
    /// scenario has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blue_green: Vec<BlueGreenSummary>,
    /// What the run cost on AWS (whole run), US dollars: see `model::cost`.
    pub cost: CostSummary,
    /// Per service with `auto_scaling`, in scenario order: its scaling activities (whole
    /// run).
    pub auto_scaling: Vec<ScalingSummary>,
    /// Per listener, the requests that ended, by outcome: including those no target served
    /// (redirects, fixed responses, ELB errors).
    #[serde(default)]
    pub listeners: Vec<ListenerSummary>,
    /// Per listener rule, default rules included (`priority` null), the requests it
    /// handled that ended, by exact status code.
    #[serde(default)]
    pub rules: Vec<RuleSummary>,
    /// `type = "network"` only (absent otherwise): the NLB's connections and how its
    /// requests spread over the tasks (see `model::elb::network`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_load_balancer: Option<NlbSummary>,
}

/// The NLB's part of `summary.json` (`type = "network"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NlbSummary {
    /// Client connections bound to a target by the flow hash (a request without
    /// keep-alive is a connection of its own).
    pub connections: u64,
    /// Connections reset because their target turned unhealthy or went away.
    pub connections_reset: u64,
    /// Requests sent to each task over the whole run (warm-up included), by task name
    /// (tasks that got none are left out).
    pub requests_by_task: BTreeMap<String, u64>,
    /// The largest count of `requests_by_task` over their mean: 1 is an even spread.
    pub max_over_mean: f64,
}

/// One listener's requests (whole run, warm-up included, like `requests`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListenerSummary {
    /// Port.
    pub port: u16,
    /// `HTTP` or `HTTPS`.
    pub protocol: String,
    /// Requests that ended.
    pub requests: u64,
    /// Of them, by outcome (`ok`, `redirect_301`, `fixed_response_4xx`, ...); every outcome
    /// is listed.
    pub by_outcome: BTreeMap<String, u64>,
}

/// One rule's requests (whole run, warm-up included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// Its listener's port.
    pub listener_port: u16,
    /// 1–50000; `null` for the listener's default rule.
    pub priority: Option<u32>,
    /// Requests it handled that ended.
    pub requests: u64,
    /// Of them, by status code as the client saw it (`"200"`, `"301"`, `"404"`, `"502"`;
    /// a fixed response's exact code; `"0"`: no response); only codes seen.
    pub by_status: BTreeMap<String, u64>,
}

/// What Application Auto Scaling did to one service over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingSummary {
    /// The service.
    pub service: String,
    /// Scaling activities that raised the desired count.
    pub scale_outs: u32,
    /// Scaling activities that lowered it.
    pub scale_ins: u32,
    /// When the first scale-out happened, s; `null` if none did.
    pub first_scale_out_s: Option<f64>,
    /// The smallest and largest desired count over the run, tasks.
    pub desired_min: u32,
    /// See `desired_min`.
    pub desired_max: u32,
    /// The desired count at the end, tasks.
    pub desired_at_end: u32,
    /// `MinCapacity` and `MaxCapacity` at the end (scheduled actions change them), tasks.
    pub min_capacity: u32,
    /// See `min_capacity`.
    pub max_capacity: u32,
}

/// What the run cost (Fargate and the ALB), US dollars, with the usage billed and the
/// prices used (`lbsim::model::cost` has the formulas).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    /// Fargate on-demand tasks (x86 and ARM64).
    pub fargate_usd: f64,
    /// Fargate Spot tasks.
    pub fargate_spot_usd: f64,
    /// ALB-hours (⌈duration ÷ 1 h⌉ × the hourly price).
    pub alb_hours_usd: f64,
    /// ALB LCU-hours.
    pub alb_lcu_usd: f64,
    /// The sum of the four.
    pub total_usd: f64,
    /// `total_usd` per million requests that arrived; `null` when none did.
    pub per_million_requests_usd: Option<f64>,
    /// vCPU-hours billed.
    pub vcpu_hours: f64,
    /// GB-hours of memory billed.
    pub gb_hours: f64,
    /// Task-hours billed (per-second rounding and one-minute minimums included).
    pub task_hours: f64,
    /// ALB-hours billed (whole hours).
    pub alb_hours: u64,
    /// LCU-hours billed.
    pub lcu_hours: f64,
    /// The LCU dimensions counted over the run (`lbsim::model::cost`).
    pub lcu_usage: LcuUsageSummary,
    /// The prices used.
    pub prices: PricesSummary,
}

/// The LCU dimensions the load balancer counted over the whole run
/// (<https://aws.amazon.com/elasticloadbalancing/pricing/>).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LcuUsageSummary {
    /// New client connections: one per request of a client without `keep_alive`; the
    /// connections it opened for a client with it.
    pub new_connections: u64,
    /// Bytes processed (requests' `request_size`, plus `response_size` when a target
    /// answered).
    pub processed_bytes: u64,
    /// Rule evaluations billed: Σ over requests of max(0, rules processed − 10).
    pub rule_evaluations: u64,
}

/// The prices a run's cost used (`[pricing]`), US dollars.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricesSummary {
    /// Fargate Linux/x86 per vCPU-hour.
    pub fargate_vcpu_hour_usd: f64,
    /// Fargate Linux/x86 per GB-hour.
    pub fargate_gb_hour_usd: f64,
    /// Fargate Linux/ARM64 per vCPU-hour.
    pub fargate_arm64_vcpu_hour_usd: f64,
    /// Fargate Linux/ARM64 per GB-hour.
    pub fargate_arm64_gb_hour_usd: f64,
    /// Fargate Spot's discount on the on-demand price (0.7: 70 % off).
    pub fargate_spot_discount: f64,
    /// ALB per hour.
    pub alb_hour_usd: f64,
    /// ALB per LCU-hour.
    pub alb_lcu_hour_usd: f64,
}

impl CostSummary {
    /// The summary of `c` for a run in which `arrived` requests arrived; amounts rounded to
    /// 10⁻⁹ USD, usage to 10⁻⁹.
    pub fn new(c: &crate::model::CostReport, arrived: u64) -> CostSummary {
        let r = |x: f64| super::round_to(x, 9);
        let p = &c.pricing;
        CostSummary {
            fargate_usd: r(c.fargate_usd),
            fargate_spot_usd: r(c.fargate_spot_usd),
            alb_hours_usd: r(c.alb_hours_usd),
            alb_lcu_usd: r(c.alb_lcu_usd),
            total_usd: r(c.total_usd),
            per_million_requests_usd: (arrived > 0).then(|| r(c.total_usd / arrived as f64 * 1e6)),
            vcpu_hours: r(c.vcpu_hours),
            gb_hours: r(c.gb_hours),
            task_hours: r(c.task_hours),
            alb_hours: c.alb_hours,
            lcu_hours: r(c.lcu_hours),
            lcu_usage: LcuUsageSummary {
                new_connections: c.lcu_usage.new_connections,
                processed_bytes: u64::try_from(c.lcu_usage.bytes).unwrap_or(u64::MAX),
                rule_evaluations: c.lcu_usage.rule_evaluations,
            },
            prices: PricesSummary {
                fargate_vcpu_hour_usd: p.fargate_vcpu_hour_usd,
                fargate_gb_hour_usd: p.fargate_gb_hour_usd,
                fargate_arm64_vcpu_hour_usd: p.fargate_arm64_vcpu_hour_usd,
                fargate_arm64_gb_hour_usd: p.fargate_arm64_gb_hour_usd,
                fargate_spot_discount: p.fargate_spot_discount,
                alb_hour_usd: p.alb_hour_usd,
                alb_lcu_hour_usd: p.alb_lcu_hour_usd,
            },
        }
    }
}

/// One rolling deployment (ECS `DescribeServices` `deployments`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentSummary {
    /// The service.
    pub service: String,
    /// The task definition it deploys, `service:revision` (`web:1` is the scenario's
    /// first).
    pub task_definition: String,
    /// The task definition the service ran before.
    pub from_task_definition: String,
    /// A rollback started by the circuit breaker.
    pub rollback: bool,
    /// When it started, s.
    pub started_s: f64,
    /// When it completed, failed or was superseded, s; `null` if still in progress.
    pub ended_s: Option<f64>,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED` (the circuit breaker) or `SUPERSEDED` (a later
    /// deployment started first).
    pub rollout_state: String,
    /// Tasks of its revision that failed (did not launch, crashed, or were stopped as
    /// unhealthy) while it was in progress.
    pub failed_tasks: u32,
    /// The circuit breaker's threshold; `null` when the breaker is off.
    pub failure_threshold: Option<u32>,
}

/// One blue/green deployment (see `model::ecs::blue_green`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlueGreenSummary {
    /// The blue (original) service.
    pub blue_service: String,
    /// The green (replacement) service.
    pub green_service: String,
    /// The deployment configuration (`CodeDeployDefault.ECSCanary10Percent5Minutes`...,
    /// or `Custom`).
    pub deployment_config: String,
    /// `PENDING` (not started), `IN_PROGRESS`, `SUCCEEDED` (blue terminated),
    /// `ROLLED_BACK` (the alarm fired) or `FAILED` (green not steady within 1 h).
    pub status: String,
    /// When it started, s; `null` if it had not.
    pub started_s: Option<f64>,
    /// When traffic started shifting (green steady), s; `null` if it did not.
    pub shift_started_s: Option<f64>,
    /// When every request went to green (the last step), s; `null` if never.
    pub shifted_s: Option<f64>,
    /// When it ended (blue terminated, rolled back or failed), s; `null` if it had not.
    pub ended_s: Option<f64>,
    /// Green's share of the forward at the end, %.
    pub green_percent_at_end: u32,
    /// Every weight change: `{ time_s, green_percent }`.
    pub shifts: Vec<TrafficShiftSummary>,
}

/// One traffic shift of a blue/green deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrafficShiftSummary {
    /// When, s.
    pub time_s: f64,
    /// Green's share from then on, % (blue gets the rest).
    pub green_percent: u32,
}

/// Memory utilisation of tasks: memory in use ÷ memory reserved (task definition `memory`),
/// as ECS computes `MemoryUtilization`
/// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html>).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemorySummary {
    /// Σ memory in use ÷ Σ memory reserved over all tasks after the warm-up, %.
    pub mean_pct: f64,
    /// Highest utilisation of any one task in any metrics interval after the warm-up
    /// (time-averaged over the interval), %.
    pub max_pct: f64,
    /// Highest memory one task used at any instant (whole run), MiB.
    pub peak_mib: f64,
    /// Times a task went above its memory (whole run; ECS would stop it with
    /// `OutOfMemoryError`, listed in `events.csv` as `task_memory_exceeded`).
    pub exceeded: u64,
}

/// Workers and CPU occupancy, time averages after the warm-up, summed over tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerSummary {
    /// Mean busy workers (requests holding a worker).
    pub busy_mean: f64,
    /// Busy workers ÷ workers, %; `null` when a task had no worker limit.
    pub utilization_pct: Option<f64>,
    /// Mean requests waiting for a worker.
    pub waiting_mean: f64,
    /// Mean requests in a CPU step (on CPU or waiting for it).
    pub on_cpu_mean: f64,
}

/// Mean time per successful request in each phase, ms; the parts add up to
/// `latency_ms.mean` (up to rounding).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyBreakdown {
    /// At the load balancer before routing (its processing time).
    pub load_balancer: f64,
    /// At the task, waiting for a worker.
    pub worker_queue: f64,
    /// On CPU: the CPU time of its CPU steps (at one vCPU).
    pub cpu: f64,
    /// In CPU steps but not progressing at one vCPU: sharing the CPU with other requests
    /// (processor sharing) or on a task of less than one vCPU.
    pub cpu_wait: f64,
    /// In wait steps.
    pub waits: f64,
    /// In calls, waiting for a pooled connection or for the dependency's capacity.
    pub calls_queued: f64,
    /// In calls, being served by the dependency.
    pub calls: f64,
    /// The client's round trip.
    pub rtt: f64,
}

impl LatencyBreakdown {
    /// The parts in field order (load balancer, worker queue, CPU, CPU wait, waits, calls
    /// queued, calls, round trip), ms; their sum is the mean latency.
    pub fn parts(&self) -> [f64; 8] {
        [
            self.load_balancer,
            self.worker_queue,
            self.cpu,
            self.cpu_wait,
            self.waits,
            self.calls_queued,
            self.calls,
            self.rtt,
        ]
    }
}

/// One dependency's calls after the warm-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DependencySummary {
    /// Name.
    pub name: String,
    /// Calls that ended after the warm-up, by outcome (`ok`, `failed_down`, `rejected`).
    pub calls: BTreeMap<String, u64>,
    /// Latency of successful calls as the caller sees it (connection and capacity queues
    /// plus service), ms; `null` when there were none.
    pub latency_ms: Option<LatencySummary>,
    /// Mean time a call (any outcome) waited for a connection and for capacity, ms.
    pub queued_ms_mean: Option<f64>,
    /// Mean calls in service at once.
    pub in_service_mean: f64,
    /// Mean calls waiting for its capacity at once.
    pub queued_mean: f64,
    /// `in_service_mean ÷ capacity`, %; `null` with no capacity limit.
    pub utilization_pct: Option<f64>,
}

/// Tasks over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTotals {
    /// Tasks launched during the run: replacements and any task added after the initial
    /// `desired_count` (those, warm at t = 0, are not counted).
    pub launched: u64,
    /// Tasks that reached STOPPED.
    pub stopped: u64,
    /// Σ of the services' desired counts at the end.
    pub desired_at_end: u64,
    /// Of `launched`, the tasks placed on `FARGATE_SPOT` by their service's capacity
    /// provider strategy.
    #[serde(default)]
    pub launched_spot: u64,
    /// Fargate Spot interruption warnings (each stops a task and launches a replacement).
    #[serde(default)]
    pub spot_interruptions: u64,
}

impl TaskTotals {
    /// Adds `o`'s counts to these.
    pub fn add(&mut self, o: &TaskTotals) {
        self.launched += o.launched;
        self.stopped += o.stopped;
        self.desired_at_end += o.desired_at_end;
        self.launched_spot += o.launched_spot;
        self.spot_interruptions += o.spot_interruptions;
    }
}

/// Request counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestTotals {
    /// Requests that reached the load balancer.
    pub arrived: u64,
    /// Requests that ended, by cause (`ok`, `elb_503_no_targets`...); every cause is listed.
    pub by_outcome: BTreeMap<String, u64>,
    /// Requests still in flight when the run ended.
    pub in_flight_at_end: u64,
}

/// Latency statistics, ms. Percentiles come from an auto-resizing HDR histogram with 3
/// significant digits (relative error ≤ 0.1 %), capped at the exact maximum; the mean and
/// the maximum are exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: u64,
    /// Mean, ms (exact).
    pub mean: f64,
    /// Median, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// 99.9th percentile, ms.
    pub p99_9: f64,
    /// Largest, ms.
    pub max: f64,
}

/// CPU utilisation of tasks: CPU units in use ÷ CPU units reserved by running tasks, as ECS computes
/// `CPUUtilization` (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html>).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuSummary {
    /// Σ CPU in use ÷ Σ CPU reserved over all tasks after the warm-up, %.
    pub mean_pct: f64,
    /// Highest utilisation of any one task in any metrics interval after the warm-up, %.
    pub max_pct: f64,
}

/// Per target group figures (same meanings as the top level).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetGroupSummary {
    /// Target group name.
    pub name: String,
    /// Routing algorithm (`round_robin`...).
    pub algorithm: String,
    /// Registered targets (any state but `unused`) at the end.
    pub targets: u64,
    /// Distinct private IP addresses registered as its targets during the run (whole run):
    /// each task has its own (awsvpc ENI), so a replacement adds one; the initial tasks
    /// count.
    pub distinct_ips: u64,
    /// Its services' tasks (whole run).
    pub tasks: TaskTotals,
    /// Request counts (whole run).
    pub requests: RequestTotals,
    /// Latency of successful responses after the warm-up, ms.
    pub latency_ms: Option<LatencySummary>,
    /// Latency of each error cause after the warm-up, ms.
    pub error_latency_ms: BTreeMap<String, Option<LatencySummary>>,
    /// Responses after the warm-up per second.
    pub throughput_rps: f64,
    /// CPU utilisation of its tasks after the warm-up.
    pub cpu_utilization: CpuSummary,
    /// Memory utilisation of its tasks after the warm-up.
    pub memory_utilization: MemorySummary,
    /// Workers of its tasks after the warm-up.
    pub workers: WorkerSummary,
    /// Where the latency of its successful responses goes.
    pub latency_breakdown_ms: Option<LatencyBreakdown>,
}
