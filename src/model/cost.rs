//! What the run costs on AWS: Fargate tasks and the Application Load Balancer, in US
//! dollars, cumulative at any simulated time ([`World::cost`]). The one implementation:
//! `summary.json`, `metrics.csv` and the summary table all read it.
//!
//! **Prices** ([`PricingSpec`], the scenario's `[pricing]`): AWS us-east-1 by default, as
//! `../shared/spec/aws-behaviour.md` §8 quotes them (third-party pages quoting
//! <https://aws.amazon.com/fargate/pricing/> and
//! <https://aws.amazon.com/elasticloadbalancing/pricing/>).
//!
//! **Fargate** (<https://aws.amazon.com/fargate/pricing/>): a task is billed from the start of
//! its image pull (PENDING; a warm task from t = 0, or from when it was launched warm) until
//! it is STOPPED, per second (rounded up to the next whole second), with a one-minute
//! minimum per task; a task that stops before PENDING (its launch failed) costs nothing.
//! Its rate is vCPU × the vCPU-hour price + GB × the GB-hour price of its architecture, with
//! vCPU = `cpu` ÷ 1024 and GB = `memory` MiB ÷ 1024; on Fargate Spot, the x86 price ×
//! (1 − `fargate_spot_discount`). At time t a task still running is billed up to t (rounded
//! up to the second) without the minimum, which applies once it stops.
//!
//! **ALB** (§5, §8): ALB-hours = ⌈t ÷ 1 h⌉ (a partial hour is billed as an hour) × the hourly
//! price; LCU-hours = Σ over the clock hours of the run ((k h, (k+1) h]) of the largest of
//! the four dimensions that hour:
//! - new connections per second ÷ 25;
//! - active connections per minute ÷ 3000;
//! - processed bytes per hour ÷ 1 GB (2³⁰ bytes, as AWS bills a GB);
//! - rule evaluations per second ÷ 1000, the first 10 rules processed for a request free:
//!   a request processes its listener's rules in priority order up to the one that matches
//!   (all of them when the default action answers), and is billed
//!   max(0, processed − 10) evaluations.
//!
//! A partial last hour's dimensions are averaged over its elapsed time (new connections per
//! second of it, bytes per hour of it) and billed as a whole LCU-hour at that rate.
//!
//! **Connections.** A request of a client without `keep_alive` is one new connection; a
//! client with `keep_alive` opens a new connection only when it has no idle one to reuse
//! (`model::clients::connections`), so its reused requests add no new connection.
//! **Approximation**: the active connections are the client requests in flight (arrived,
//! not ended), time-averaged over the hour (an idle kept-alive connection is not counted). A request's processed bytes are its
//! `request_size` plus, when a target answered it (`ok` or `target_5xx`), its
//! `response_size`, counted when it ends; an error the load balancer answers itself (a 502,
//! 503 or 504) adds its request's bytes only. Health checks are not billed.

use std::collections::BTreeSet;

use super::ecs::Task;
use super::ids::TaskId;
use super::spec::{CapacityProvider, CpuArchitecture};
use super::world::World;
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};

/// One hour of simulated time.
pub const HOUR: SimDuration = SimDuration::from_secs(3600);
/// The Fargate minimum billed per task: one minute.
pub const FARGATE_MINIMUM_SECONDS: u64 = 60;
/// Bytes in the GB of the LCU's processed-bytes dimension (2³⁰).
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;
/// New connections per second in one LCU.
pub const LCU_NEW_CONNECTIONS_PER_SECOND: f64 = 25.0;
/// Active connections (per minute) in one LCU.
pub const LCU_ACTIVE_CONNECTIONS: f64 = 3000.0;
/// Processed GB per hour in one LCU (EC2 and IP targets).
pub const LCU_GB_PER_HOUR: f64 = 1.0;
/// Rule evaluations per second in one LCU.
pub const LCU_RULE_EVALUATIONS_PER_SECOND: f64 = 1000.0;

/// Prices, US dollars (`[pricing]`). Defaults: AWS us-east-1 (Linux), from
/// `../shared/spec/aws-behaviour.md` §8.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PricingSpec {
    /// Fargate Linux/x86 per vCPU-hour: default $0.04048.
    pub fargate_vcpu_hour_usd: f64,
    /// Fargate Linux/x86 per GB-hour of memory: default $0.004445.
    pub fargate_gb_hour_usd: f64,
    /// Fargate Linux/ARM (Graviton) per vCPU-hour: default $0.03238.
    pub fargate_arm64_vcpu_hour_usd: f64,
    /// Fargate Linux/ARM per GB-hour: default $0.00356.
    pub fargate_arm64_gb_hour_usd: f64,
    /// Fargate Spot's discount on the on-demand price, 0–1 (below 1): default 0.70, AWS's
    /// "up to 70 %". The real Spot price varies with spare capacity (commonly 50–70 % off)
    /// and AWS publishes it dynamically; set what you pay.
    pub fargate_spot_discount: f64,
    /// ALB per load balancer-hour (a partial hour billed as an hour): default $0.0225.
    pub alb_hour_usd: f64,
    /// ALB per LCU-hour: default $0.008.
    pub alb_lcu_hour_usd: f64,
}

impl Default for PricingSpec {
    /// AWS us-east-1, Linux (§8 of the reference): $0.04048 / $0.004445 (x86), $0.03238 /
    /// $0.00356 (ARM), Spot 70 % off, ALB $0.0225 per hour and $0.008 per LCU-hour.
    fn default() -> Self {
        PricingSpec {
            fargate_vcpu_hour_usd: 0.04048,
            fargate_gb_hour_usd: 0.004445,
            fargate_arm64_vcpu_hour_usd: 0.03238,
            fargate_arm64_gb_hour_usd: 0.00356,
            fargate_spot_discount: 0.70,
            alb_hour_usd: 0.0225,
            alb_lcu_hour_usd: 0.008,
        }
    }
}

impl PricingSpec {
    /// Per vCPU-hour and per GB-hour of a task of `arch` on `provider`: the architecture's
    /// on-demand prices, × (1 − `fargate_spot_discount`) on Fargate Spot (an ARM64 task on
    /// Spot, which AWS does not offer, would get the ARM price discounted).
    pub fn fargate_rates(&self, arch: CpuArchitecture, provider: CapacityProvider) -> (f64, f64) {
        let (vcpu, gb) = match arch {
            CpuArchitecture::X86_64 => (self.fargate_vcpu_hour_usd, self.fargate_gb_hour_usd),
            CpuArchitecture::Arm64 => (
                self.fargate_arm64_vcpu_hour_usd,
                self.fargate_arm64_gb_hour_usd,
            ),
        };
        match provider {
            CapacityProvider::Fargate => (vcpu, gb),
            CapacityProvider::FargateSpot => {
                let k = 1.0 - self.fargate_spot_discount;
                (vcpu * k, gb * k)
            }
        }
    }
}

/// The seconds Fargate bills for a task billed from `from`, up to `until`: rounded up to
/// the second, and at least one minute once it has `stopped`.
pub fn billed_seconds(from: SimTime, until: SimTime, stopped: bool) -> u64 {
    let s = (until - from).0.div_ceil(NANOS_PER_SEC);
    if stopped {
        s.max(FARGATE_MINIMUM_SECONDS)
    } else {
        s
    }
}

/// Billed Fargate usage of one pricing class (an architecture on a capacity provider), in
/// exact integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FargateUsage {
    /// Σ CPU units × billed seconds (1024 CPU units = 1 vCPU).
    pub cpu_unit_seconds: u128,
    /// Σ memory MiB × billed seconds.
    pub mib_seconds: u128,
    /// Σ billed seconds.
    pub task_seconds: u128,
}

impl FargateUsage {
    fn add_task(&mut self, task: &Task, seconds: u64) {
        let s = u128::from(seconds);
        self.cpu_unit_seconds += u128::from(task.cpu_units) * s;
        self.mib_seconds += u128::from(task.memory_mib) * s;
        self.task_seconds += s;
    }

    /// vCPU-hours.
    pub fn vcpu_hours(&self) -> f64 {
        self.cpu_unit_seconds as f64 / 1024.0 / 3600.0
    }

    /// GB-hours (GB = MiB ÷ 1024, as Fargate sizes memory).
    pub fn gb_hours(&self) -> f64 {
        self.mib_seconds as f64 / 1024.0 / 3600.0
    }

    /// Its cost at (per vCPU-hour, per GB-hour) `rates`.
    pub fn usd(&self, rates: (f64, f64)) -> f64 {
        self.vcpu_hours() * rates.0 + self.gb_hours() * rates.1
    }
}

/// The pricing classes, in the order of [`CostMeter`]'s buckets.
const CLASSES: [(CpuArchitecture, CapacityProvider); 4] = [
    (CpuArchitecture::X86_64, CapacityProvider::Fargate),
    (CpuArchitecture::Arm64, CapacityProvider::Fargate),
    (CpuArchitecture::X86_64, CapacityProvider::FargateSpot),
    (CpuArchitecture::Arm64, CapacityProvider::FargateSpot),
];

fn class_of(arch: CpuArchitecture, provider: CapacityProvider) -> usize {
    match (arch, provider) {
        (CpuArchitecture::X86_64, CapacityProvider::Fargate) => 0,
        (CpuArchitecture::Arm64, CapacityProvider::Fargate) => 1,
        (CpuArchitecture::X86_64, CapacityProvider::FargateSpot) => 2,
        (CpuArchitecture::Arm64, CapacityProvider::FargateSpot) => 3,
    }
}

/// The load balancer's LCU dimensions over one clock hour (or the part of it elapsed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LcuHour {
    /// New client connections (a request of a client without keep-alive is one; a client
    /// with keep-alive counts the connections it opens).
    pub new_connections: u64,
    /// ∫ active connections (client requests in flight) dt, request·ns.
    pub active_ns: u128,
    /// Bytes processed.
    pub bytes: u128,
    /// Rule evaluations billed: Σ over requests of max(0, rules processed − 10).
    pub rule_evaluations: u64,
}

impl LcuHour {
    /// The LCUs of this hour whose elapsed part is `elapsed` (an hour, or the run's partial
    /// last hour): the largest of its four dimensions, each a rate over `elapsed`.
    pub fn lcus(&self, elapsed: SimDuration) -> f64 {
        if elapsed.is_zero() {
            return 0.0;
        }
        let secs = elapsed.0 as f64 / NANOS_PER_SEC as f64;
        let new = self.new_connections as f64 / secs / LCU_NEW_CONNECTIONS_PER_SECOND;
        let active = self.active_ns as f64 / elapsed.0 as f64 / LCU_ACTIVE_CONNECTIONS;
        let gb_per_hour = self.bytes as f64 / BYTES_PER_GB * (3600.0 / secs);
        let bytes = gb_per_hour / LCU_GB_PER_HOUR;
        let rules = self.rule_evaluations as f64 / secs / LCU_RULE_EVALUATIONS_PER_SECOND;
        new.max(active).max(bytes).max(rules)
    }
}

/// The load balancer's usage: LCU dimensions per clock hour. Kept up to date by the model
/// as client requests arrive and end, at the cost of a count and a sum per event: the
/// integral of the requests in flight over an hour `(a, b]` is
/// `N(a)·(b − a) + Σ_arrivals (b − tᵢ) − Σ_ends (b − tⱼ)`, so each hour keeps the number and
/// the sum of the times of its arrivals and of its ends, and the integral is computed when
/// the hour closes (or is read).
#[derive(Clone, Debug, Default)]
pub(in crate::model) struct AlbMeter {
    /// Start of the current clock hour.
    hour_start: SimTime,
    /// Client requests in flight at `hour_start`.
    in_flight_at_start: u64,
    /// The current hour's new client connections and billed rule evaluations.
    new_connections: u64,
    rule_evaluations: u64,
    /// The current hour's arrivals and ends: counts and Σ of their times, ns.
    arrivals: u64,
    arrival_ns: u128,
    ends: u64,
    end_ns: u128,
    /// Bytes processed in the current hour.
    bytes: u128,
    /// Clock hours closed.
    closed_hours: u64,
    /// Σ LCUs of the closed hours (LCU-hours).
    closed_lcu_hours: f64,
    /// Σ of every dimension over the closed hours.
    total: LcuHour,
}

impl AlbMeter {
    /// The current hour's dimensions up to `t` (in it, at or after its last event).
    fn hour_to(&self, t: SimTime) -> LcuHour {
        let t_ns = u128::from(t.0);
        let start = u128::from(self.in_flight_at_start) * u128::from((t - self.hour_start).0);
        let active_ns = start + u128::from(self.arrivals) * t_ns
            - self.arrival_ns
            - (u128::from(self.ends) * t_ns - self.end_ns);
        LcuHour {
            new_connections: self.new_connections,
            active_ns,
            bytes: self.bytes,
            rule_evaluations: self.rule_evaluations,
        }
    }

    /// Closes the clock hours that ended before `now` (clock hour k is (k h, (k+1) h]: an
    /// event at exactly k h still belongs to hour k − 1, so an event at the end of the run is
    /// billed in the run's last hour).
    #[cold]
    #[inline(never)]
    fn close_hours(&mut self, now: SimTime) {
        while now > self.hour_start + HOUR {
            let end = self.hour_start + HOUR;
            let hour = self.hour_to(end);
            self.closed_lcu_hours += hour.lcus(HOUR);
            self.closed_hours += 1;
            self.total.new_connections += hour.new_connections;
            self.total.active_ns += hour.active_ns;
            self.total.bytes += hour.bytes;
            self.total.rule_evaluations += hour.rule_evaluations;
            self.in_flight_at_start = self.in_flight_at_start + self.arrivals - self.ends;
            self.hour_start = end;
            (
                self.arrivals,
                self.arrival_ns,
                self.ends,
                self.end_ns,
                self.bytes,
                self.new_connections,
                self.rule_evaluations,
            ) = (0, 0, 0, 0, 0, 0, 0);
        }
    }

    /// A client request reaches the load balancer at `now`, on a new connection if
    /// `new_connection` (always without keep-alive), billed `rule_evaluations` rule
    /// evaluations (rules processed beyond the first 10 free).
    #[inline]
    pub(in crate::model) fn arrived(
        &mut self,
        now: SimTime,
        new_connection: bool,
        rule_evaluations: u64,
    ) {
        if now > self.hour_start + HOUR {
            self.close_hours(now);
        }
        self.arrivals += 1;
        self.arrival_ns += u128::from(now.0);
        self.new_connections += u64::from(new_connection);
        self.rule_evaluations += rule_evaluations;
    }

    /// A client request ends at `now`, having made the load balancer process `bytes`.
    #[inline]
    pub(in crate::model) fn ended(&mut self, now: SimTime, bytes: u64) {
        if now > self.hour_start + HOUR {
            self.close_hours(now);
        }
        self.ends += 1;
        self.end_ns += u128::from(now.0);
        self.bytes += u128::from(bytes);
    }

    /// (ALB-hours billed, LCU-hours, the dimensions summed) at `t` (≥ the last update).
    fn at(&self, t: SimTime) -> (u64, f64, LcuHour) {
        let mut m = self.clone();
        m.close_hours(t);
        let t = t.max(m.hour_start);
        let elapsed = t - m.hour_start;
        let partial = !elapsed.is_zero();
        let hour = m.hour_to(t);
        let lcu_hours = m.closed_lcu_hours + if partial { hour.lcus(elapsed) } else { 0.0 };
        let total = LcuHour {
            new_connections: m.total.new_connections + hour.new_connections,
            active_ns: m.total.active_ns + hour.active_ns,
            bytes: m.total.bytes + hour.bytes,
            rule_evaluations: m.total.rule_evaluations + hour.rule_evaluations,
        };
        (m.closed_hours + u64::from(partial), lcu_hours, total)
    }
}

/// Fargate billing: the usage of the tasks that stopped, and the tasks being billed.
#[derive(Clone, Debug, Default)]
pub(in crate::model) struct FargateMeter {
    /// Usage of the stopped tasks, by pricing class.
    retired: [FargateUsage; 4],
    /// Tasks being billed (from PENDING, not yet STOPPED).
    open: BTreeSet<TaskId>,
}

/// The model's cost accounting: one per world.
#[derive(Clone, Debug, Default)]
pub(in crate::model) struct CostMeter {
    pub(in crate::model) alb: AlbMeter,
    fargate: FargateMeter,
}

/// The cost of a run up to a time, US dollars, with the usage it is computed from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostReport {
    /// Fargate on-demand tasks (x86 and ARM).
    pub fargate_usd: f64,
    /// Fargate Spot tasks.
    pub fargate_spot_usd: f64,
    /// ALB-hours.
    pub alb_hours_usd: f64,
    /// ALB LCU-hours.
    pub alb_lcu_usd: f64,
    /// The sum of the four.
    pub total_usd: f64,
    /// vCPU-hours billed (all tasks).
    pub vcpu_hours: f64,
    /// GB-hours billed (all tasks).
    pub gb_hours: f64,
    /// Task-hours billed (all tasks, minimums included).
    pub task_hours: f64,
    /// ALB-hours billed (whole hours).
    pub alb_hours: u64,
    /// LCU-hours billed.
    pub lcu_hours: f64,
    /// The load balancer's dimensions summed over the run.
    pub lcu_usage: LcuHour,
    /// The prices used.
    pub pricing: PricingSpec,
}

impl World {
    /// The run's cumulative cost at `t` (the current time or later: its tasks' billing and
    /// the load balancer's hours up to `t`). See the [module](self) for the formulas.
    pub fn cost(&self, t: SimTime) -> CostReport {
        let p = &self.pricing;
        let mut usage = self.cost.fargate.retired;
        for &id in &self.cost.fargate.open {
            let task = &self.tasks[id.index()];
            if let Some(from) = task.billing_from {
                let arch = self.services[task.service.index()].cpu_architecture;
                let c = class_of(arch, task.capacity_provider);
                usage[c].add_task(task, billed_seconds(from, t.max(from), false));
            }
        }
        let (mut fargate, mut spot) = (0.0, 0.0);
        let mut all = FargateUsage::default();
        for (u, &(arch, provider)) in usage.iter().zip(&CLASSES) {
            let usd = u.usd(p.fargate_rates(arch, provider));
            match provider {
                CapacityProvider::Fargate => fargate += usd,
                CapacityProvider::FargateSpot => spot += usd,
            }
            all.cpu_unit_seconds += u.cpu_unit_seconds;
            all.mib_seconds += u.mib_seconds;
            all.task_seconds += u.task_seconds;
        }
        let (alb_hours, lcu_hours, lcu_usage) = if self.lb.direct.is_some() {
            // No load balancer (direct service discovery): no ALB-hours nor LCUs.
            (0, 0.0, LcuHour::default())
        } else if self.lb.nlb.is_some() {
            // An NLB: its hours (us-east-1: $0.0225, as an ALB's); its NLCUs (new flows,
            // active flows, bytes) are not modelled.
            let (hours, _, _) = self.cost.alb.at(t);
            (hours, 0.0, LcuHour::default())
        } else {
            self.cost.alb.at(t)
        };
        let alb_hours_usd = alb_hours as f64 * p.alb_hour_usd;
        let alb_lcu_usd = lcu_hours * p.alb_lcu_hour_usd;
        CostReport {
            fargate_usd: fargate,
            fargate_spot_usd: spot,
            alb_hours_usd,
            alb_lcu_usd,
            total_usd: fargate + spot + alb_hours_usd + alb_lcu_usd,
            vcpu_hours: all.vcpu_hours(),
            gb_hours: all.gb_hours(),
            task_hours: all.task_seconds as f64 / 3600.0,
            alb_hours,
            lcu_hours,
            lcu_usage,
            pricing: *p,
        }
    }

    /// Task `id` starts being billed at `now` (it enters PENDING, or is launched warm).
    pub(in crate::model) fn start_billing(&mut self, now: SimTime, id: TaskId) {
        let t = &mut self.tasks[id.index()];
        if t.billing_from.is_none() {
            t.billing_from = Some(now);
            self.cost.fargate.open.insert(id);
        }
    }

    /// Task `id` is STOPPED at `now`: its bill is final (one minute at least).
    pub(in crate::model) fn stop_billing(&mut self, now: SimTime, id: TaskId) {
        if !self.cost.fargate.open.remove(&id) {
            return;
        }
        let task = &self.tasks[id.index()];
        if let Some(from) = task.billing_from {
            let arch = self.services[task.service.index()].cpu_architecture;
            let c = class_of(arch, task.capacity_provider);
            self.cost.fargate.retired[c].add_task(task, billed_seconds(from, now, true));
        }
    }

    /// Client request `req` ends at `now` with `cause`: the load balancer processed its
    /// bytes (its response's too when a target answered).
    #[inline]
    pub(in crate::model) fn alb_request_ended(
        &mut self,
        now: SimTime,
        req: &super::Request,
        cause: super::Cause,
    ) {
        let bytes = request_bytes(&self.clients, req, cause);
        self.cost.alb.ended(now, bytes);
    }
}

/// The bytes the load balancer processes for client request `req` that ends with `cause`:
/// its request's, plus its response's when a target answered (`ok`, `target_5xx`).
#[inline]
pub(in crate::model) fn request_bytes(
    clients: &[super::Client],
    req: &super::Request,
    cause: super::Cause,
) -> u64 {
    let c = &clients[req.client.index()];
    let mut bytes = c.request_bytes(req.seed);
    if matches!(cause, super::Cause::Ok | super::Cause::Target5xx) {
        bytes += c.response_bytes(req.seed);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: f64) -> SimTime {
        SimTime((secs * 1e9).round() as u64)
    }

    #[test]
    fn billing_rounds_up_to_the_second_with_a_one_minute_minimum() {
        assert_eq!(billed_seconds(t(0.0), t(10.0), true), 60);
        assert_eq!(billed_seconds(t(0.0), t(10.0), false), 10);
        assert_eq!(billed_seconds(t(5.0), t(65.2), true), 61);
        assert_eq!(billed_seconds(t(0.0), t(120.000_000_001), true), 121);
        assert_eq!(billed_seconds(t(0.0), t(120.0), true), 120);
    }

    #[test]
    fn spot_is_the_x86_price_less_the_discount() {
        let p = PricingSpec::default();
        let (v, g) = p.fargate_rates(CpuArchitecture::X86_64, CapacityProvider::FargateSpot);
        assert!((v - 0.04048 * 0.3).abs() < 1e-15);
        assert!((g - 0.004445 * 0.3).abs() < 1e-15);
        let p = PricingSpec {
            fargate_spot_discount: 0.5,
            ..p
        };
        let (v, _) = p.fargate_rates(CpuArchitecture::X86_64, CapacityProvider::FargateSpot);
        assert!((v - 0.02024).abs() < 1e-15);
        assert_eq!(
            p.fargate_rates(CpuArchitecture::Arm64, CapacityProvider::Fargate),
            (0.03238, 0.00356)
        );
    }

    #[test]
    fn a_spot_task_costs_the_discounted_closed_form() {
        // 2 vCPU, 4 GB for one hour on Spot at 70 % off.
        let usage = FargateUsage {
            cpu_unit_seconds: 2048 * 3600,
            mib_seconds: 4096 * 3600,
            task_seconds: 3600,
        };
        let p = PricingSpec::default();
        let usd =
            usage.usd(p.fargate_rates(CpuArchitecture::X86_64, CapacityProvider::FargateSpot));
        let expected = (2.0 * 0.04048 + 4.0 * 0.004445) * 0.3;
        assert!((usd - expected).abs() < 1e-12, "{usd} vs {expected}");
    }

    /// Tasks flipped to Fargate Spot (as Spot placement will) are billed at the discounted
    /// price, in `fargate_spot_usd`; the on-demand ones in `fargate_usd`.
    #[test]
    fn spot_tasks_of_a_world_cost_the_discount() {
        use crate::model::spec::{ServiceSpec, TargetGroupSpec, TaskSpec, WorldSpec};
        use crate::model::{NoObserver, ServiceId};
        let spec = WorldSpec {
            duration: HOUR,
            target_groups: vec![TargetGroupSpec::default()],
            services: vec![ServiceSpec {
                desired_count: 3,
                task: TaskSpec {
                    cpu: 2048,
                    memory: 4096,
                    max_concurrency: 0,
                },
                ..Default::default()
            }],
            pricing: PricingSpec {
                fargate_spot_discount: 0.6,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut w = World::build(&spec).unwrap();
        let ids: Vec<TaskId> = (0..3)
            .map(|_| w.launch_task(SimTime::ZERO, &mut NoObserver, ServiceId(0)))
            .collect();
        w.tasks[ids[1].index()].capacity_provider = CapacityProvider::FargateSpot;
        w.tasks[ids[2].index()].capacity_provider = CapacityProvider::FargateSpot;
        let c = w.cost(SimTime::ZERO + HOUR);
        let on_demand = 2.0 * 0.04048 + 4.0 * 0.004445;
        assert!((c.fargate_usd - on_demand).abs() < 1e-12, "{c:?}");
        assert!(
            (c.fargate_spot_usd - 2.0 * on_demand * 0.4).abs() < 1e-12,
            "{c:?}"
        );
        // A Spot task that stops after 10 s pays a discounted minute.
        w.stop_billing(SimTime::ZERO + SimDuration::from_secs(10), ids[2]);
        let c = w.cost(SimTime::ZERO + HOUR);
        let minute = on_demand * 0.4 / 60.0;
        assert!(
            (c.fargate_spot_usd - (on_demand * 0.4 + minute)).abs() < 1e-12,
            "{c:?}"
        );
    }

    #[test]
    fn lcus_are_the_largest_dimension_as_a_rate_over_the_elapsed_time() {
        // 90 000 new connections in an hour: 25/s, one LCU.
        let h = LcuHour {
            new_connections: 90_000,
            active_ns: 0,
            bytes: 0,
            rule_evaluations: 0,
        };
        assert!((h.lcus(HOUR) - 1.0).abs() < 1e-12);
        // The same in half an hour: 50/s, two LCUs.
        assert!((h.lcus(SimDuration::from_secs(1800)) - 2.0).abs() < 1e-12);
        // 3 GB in an hour beat it.
        let h = LcuHour {
            bytes: 3 * 1_073_741_824,
            ..h
        };
        assert!((h.lcus(HOUR) - 3.0).abs() < 1e-12);
        // 6000 connections active throughout: 2 LCUs.
        let h = LcuHour {
            new_connections: 0,
            active_ns: 6000 * u128::from(HOUR.0),
            bytes: 0,
            rule_evaluations: 0,
        };
        assert!((h.lcus(HOUR) - 2.0).abs() < 1e-12);
        // 14.4 M billed rule evaluations in an hour: 4000/s, four LCUs.
        let h = LcuHour {
            rule_evaluations: 14_400_000,
            ..h
        };
        assert!((h.lcus(HOUR) - 4.0).abs() < 1e-12);
    }

    #[test]
    fn the_meter_closes_clock_hours() {
        let mut m = AlbMeter::default();
        m.arrived(t(10.0), true, 0);
        m.ended(t(20.0), 1000);
        m.arrived(t(3599.0), true, 5);
        // A request on a kept-alive connection opens none.
        m.arrived(t(3599.5), false, 0);
        m.ended(t(3599.6), 0);
        // Across the hour: 1 s in hour 0, 1 s in hour 1.
        m.ended(t(3601.0), 0);
        let (hours, _, total) = m.at(t(3700.0));
        assert_eq!(hours, 2);
        assert_eq!(total.new_connections, 2);
        assert_eq!(total.rule_evaluations, 5);
        assert_eq!(total.active_ns, 12 * 1_000_000_000 + 100_000_000);
        assert_eq!(total.bytes, 1000);
        assert_eq!(m.closed_hours, 1);
        assert_eq!(m.at(t(7200.0)).0, 2);
        assert_eq!(m.at(t(7200.5)).0, 3);
        assert_eq!(AlbMeter::default().at(SimTime::ZERO).0, 0);
    }
}
