//! CloudWatch as the scalers see it: one-minute datapoints of a service's metrics, published
//! after an ingestion delay, and alarms that evaluate them
//! (`../shared/spec/aws-behaviour.md` §7.2 and §9).
//!
//! **Datapoints.** Every minute of simulated time (`[60k s, 60(k+1) s)`, minute `k`) each
//! [`Series`] gets one datapoint, computed once, here, at the minute's end, and read both by
//! the alarms and by the outputs:
//!
//! | metric | namespace | value over the minute | no data when |
//! |---|---|---|---|
//! | `CPUUtilization` | `AWS/ECS` | CPU units in use ÷ CPU units reserved by the service's serving tasks, % | no task served |
//! | `MemoryUtilization` | `AWS/ECS` | memory in use ÷ memory reserved (task definition `memory`), % | no task served |
//! | `RequestCount` | `AWS/ApplicationELB` | requests routed to a target of the service's target group | never (0) |
//! | `RequestCountPerTarget` | `AWS/ApplicationELB` | `RequestCount` ÷ healthy targets at the minute's end (÷ 1 with none) | never (0) |
//! | `TargetResponseTime` | `AWS/ApplicationELB` | seconds from routing to the response, Average or a percentile | no response |
//! | `HTTPCode_Target_5XX_Count` | `AWS/ApplicationELB` | responses the targets answered with a 5xx | never (0) |
//! | `HealthyHostCount`, `UnHealthyHostCount` | `AWS/ApplicationELB` | targets in that state at the minute's end | never |
//!
//! "Serving tasks" are the tasks whose CPU the model counts as reserved: from RUNNING until
//! their deregistration completes (ECS reports metrics only for RUNNING tasks,
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html>). A
//! service with no serving task all minute publishes nothing: the alarms on it go to
//! `INSUFFICIENT_DATA` and no policy acts on it. `RequestCountPerTarget` publishes real
//! zeros, so a policy on it can scale a service in to `min_capacity = 0` (§7.2).
//!
//! **Ingestion delay.** Minute `k`'s datapoints become visible to alarms at
//! `60(k+1) s + ingestion_delay`. AWS publishes no figure for this delay; users observe
//! about one to two minutes (§7.2, "Effective latency chain"). lbsim's default of 60 s is a
//! calibrated guess: with it and lbsim's default task start-up, the bundled
//! `autoscaling-cpu70` scenario reacts to a surge in about the 5–6 minutes users report.
//!
//! **Alarms.** An [`Alarm`] compares the latest `evaluation_periods` datapoints of its series
//! with its threshold: `ALARM` when at least `datapoints_to_alarm` of them breach; otherwise
//! `OK`, or `INSUFFICIENT_DATA` when the latest datapoint is missing (missing datapoints
//! never breach, CloudWatch's `TreatMissingData = missing` for a window that ends in no
//! data; <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>).
//! Alarms evaluate when a minute's datapoints are published.

use hdrhistogram::Histogram;

use super::ecs::UsageMeter;
use super::ids::{ServiceId, TargetGroupId};
use crate::engine::{SimDuration, SimTime};

/// The period of every datapoint: one minute (ECS and ALB publish one-minute metrics; the
/// alarms of target tracking use 60 s, which AWS does not let users change).
pub const PERIOD: SimDuration = SimDuration::from_secs(60);

/// A metric lbsim publishes, under its CloudWatch name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricName {
    /// `AWS/ECS` `CPUUtilization` of a service, %.
    CpuUtilization,
    /// `AWS/ECS` `MemoryUtilization` of a service, %.
    MemoryUtilization,
    /// `AWS/ApplicationELB` `RequestCount` of the service's target group.
    RequestCount,
    /// `AWS/ApplicationELB` `RequestCountPerTarget` of the service's target group.
    RequestCountPerTarget,
    /// `AWS/ApplicationELB` `TargetResponseTime`, seconds.
    TargetResponseTime,
    /// `AWS/ApplicationELB` `HTTPCode_Target_5XX_Count`.
    HttpCodeTarget5xxCount,
    /// `AWS/ApplicationELB` `HealthyHostCount`.
    HealthyHostCount,
    /// `AWS/ApplicationELB` `UnHealthyHostCount`.
    UnHealthyHostCount,
}

impl MetricName {
    /// Every metric, with its CloudWatch name.
    pub const ALL: [(MetricName, &'static str); 8] = [
        (MetricName::CpuUtilization, "CPUUtilization"),
        (MetricName::MemoryUtilization, "MemoryUtilization"),
        (MetricName::RequestCount, "RequestCount"),
        (MetricName::RequestCountPerTarget, "RequestCountPerTarget"),
        (MetricName::TargetResponseTime, "TargetResponseTime"),
        (
            MetricName::HttpCodeTarget5xxCount,
            "HTTPCode_Target_5XX_Count",
        ),
        (MetricName::HealthyHostCount, "HealthyHostCount"),
        (MetricName::UnHealthyHostCount, "UnHealthyHostCount"),
    ];

    /// Its CloudWatch name (`CPUUtilization`...).
    pub fn name(self) -> &'static str {
        Self::ALL[self as usize].1
    }

    /// Its CloudWatch namespace: `AWS/ECS` or `AWS/ApplicationELB`.
    pub const fn namespace(self) -> &'static str {
        match self {
            MetricName::CpuUtilization | MetricName::MemoryUtilization => "AWS/ECS",
            _ => "AWS/ApplicationELB",
        }
    }

    /// The statistics lbsim can compute for it (the others are refused by validation).
    pub fn statistics(self) -> &'static [&'static str] {
        match self {
            MetricName::CpuUtilization | MetricName::MemoryUtilization => &["Average"],
            MetricName::RequestCount
            | MetricName::RequestCountPerTarget
            | MetricName::HttpCodeTarget5xxCount => &["Sum"],
            MetricName::TargetResponseTime => &["Average", "Minimum", "Maximum", "pNN"],
            MetricName::HealthyHostCount | MetricName::UnHealthyHostCount => {
                &["Average", "Minimum", "Maximum"]
            }
        }
    }
}

/// A CloudWatch statistic over one period.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub enum Statistic {
    /// `Average`.
    Average,
    /// `Sum`.
    Sum,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
    /// An extended statistic `pNN` (e.g. `p99`, `p99.9`): the percentile, 0–100.
    Percentile(f64),
}

impl Statistic {
    /// CloudWatch's spelling (`Average`, `p99`...).
    pub fn name(self) -> String {
        match self {
            Statistic::Average => "Average".into(),
            Statistic::Sum => "Sum".into(),
            Statistic::Minimum => "Minimum".into(),
            Statistic::Maximum => "Maximum".into(),
            Statistic::Percentile(p) => format!("p{p}"),
        }
    }

    /// Parses CloudWatch's spelling: `Average`, `Sum`, `Minimum`, `Maximum`, or `pNN`
    /// with NN in 0–100 (`p99`, `p99.9`). `None` otherwise.
    pub fn parse(s: &str) -> Option<Statistic> {
        match s {
            "Average" => Some(Statistic::Average),
            "Sum" => Some(Statistic::Sum),
            "Minimum" => Some(Statistic::Minimum),
            "Maximum" => Some(Statistic::Maximum),
            _ => {
                let p: f64 = s.strip_prefix('p')?.parse().ok()?;
                (p.is_finite() && (0.0..=100.0).contains(&p)).then_some(Statistic::Percentile(p))
            }
        }
    }

    /// Whether lbsim computes this statistic for `metric`.
    pub fn supported_for(self, metric: MetricName) -> bool {
        let names = metric.statistics();
        match self {
            Statistic::Percentile(_) => names.contains(&"pNN"),
            s => names.contains(&s.name().as_str()),
        }
    }
}

/// A metric of a service with a statistic: what an alarm watches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricSpec {
    /// The metric.
    pub metric: MetricName,
    /// Its statistic over each minute.
    pub statistic: Statistic,
}

/// An alarm's comparison (CloudWatch `ComparisonOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterThanOrEqualToThreshold,
    /// `GreaterThanThreshold`.
    GreaterThanThreshold,
    /// `LessThanThreshold`.
    LessThanThreshold,
    /// `LessThanOrEqualToThreshold`.
    LessThanOrEqualToThreshold,
}

impl Comparison {
    /// Every operator, with its CloudWatch name.
    pub const ALL: [(Comparison, &'static str); 4] = [
        (
            Comparison::GreaterThanOrEqualToThreshold,
            "GreaterThanOrEqualToThreshold",
        ),
        (Comparison::GreaterThanThreshold, "GreaterThanThreshold"),
        (Comparison::LessThanThreshold, "LessThanThreshold"),
        (
            Comparison::LessThanOrEqualToThreshold,
            "LessThanOrEqualToThreshold",
        ),
    ];

    /// CloudWatch's name.
    pub fn name(self) -> &'static str {
        Self::ALL[self as usize].1
    }

    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// True for the two "greater" operators (a breach means too much).
    pub fn is_upper(self) -> bool {
        matches!(
            self,
            Comparison::GreaterThanOrEqualToThreshold | Comparison::GreaterThanThreshold
        )
    }
}

/// An alarm's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlarmState {
    /// Not enough data: the latest datapoint is missing.
    InsufficientData,
    /// Enough datapoints, not enough breaching.
    Ok,
    /// At least `datapoints_to_alarm` of the last `evaluation_periods` breach.
    Alarm,
}

impl AlarmState {
    /// CloudWatch's spelling.
    pub const fn name(self) -> &'static str {
        match self {
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
        }
    }
}

/// One series: a metric of a service, with its datapoints so far.
#[derive(Clone, Debug)]
pub struct Series {
    /// The service it describes (ALB metrics: its target group).
    pub service: ServiceId,
    /// The service's target group.
    pub target_group: TargetGroupId,
    /// Metric and statistic.
    pub spec: MetricSpec,
    /// Datapoints by minute (index `k`: the minute `[60k s, 60(k+1) s)`); `None`: no data.
    /// Minutes not computed yet are absent.
    pub datapoints: Vec<Option<f64>>,
}

/// One alarm on a series.
#[derive(Clone, Debug)]
pub struct Alarm {
    /// Its name, in Application Auto Scaling's style for the alarms of target tracking
    /// (`TargetTracking-service/<cluster>/<service>-AlarmHigh-<policy>`).
    pub name: String,
    /// The series it watches (index in [`CloudWatch::series`]).
    pub series: usize,
    /// Comparison with the threshold.
    pub comparison: Comparison,
    /// Threshold, in the metric's unit.
    pub threshold: f64,
    /// `EvaluationPeriods`: the window, in minutes.
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm`: breaching datapoints in the window that make it `ALARM`.
    pub datapoints_to_alarm: u32,
    /// Its state after the latest evaluation.
    pub state: AlarmState,
}

impl Alarm {
    /// Evaluates the alarm on `datapoints` (a series' datapoints up to the latest
    /// published): see the module's documentation.
    pub fn evaluate(&self, datapoints: &[Option<f64>]) -> AlarmState {
        let Some(Some(_)) = datapoints.last() else {
            return AlarmState::InsufficientData;
        };
        let n = (self.evaluation_periods as usize).min(datapoints.len());
        let breaching = datapoints[datapoints.len() - n..]
            .iter()
            .flatten()
            .filter(|&&v| self.comparison.breaches(v, self.threshold))
            .count();
        if breaching >= self.datapoints_to_alarm as usize {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    }
}

/// Per target group, what the load balancer measured this minute for the response-time
/// and 5xx metrics (kept only for groups that a series needs).
#[derive(Clone, Debug)]
pub struct ResponseStats {
    /// Response times this minute, µs.
    pub(in crate::model) hist: Histogram<u64>,
    /// Σ response times this minute, ns.
    pub(in crate::model) sum_ns: u128,
    /// Responses answered by a target with a 5xx this minute.
    pub(in crate::model) target_5xx: u64,
}

impl ResponseStats {
    /// Empty statistics.
    pub(in crate::model) fn new() -> ResponseStats {
        ResponseStats {
            // 1 µs to an hour, 3 significant digits (as the metrics' latency histograms).
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            sum_ns: 0,
            target_5xx: 0,
        }
    }

    /// Records one response that took `ns`, a 5xx from the target if `target_5xx`.
    #[inline]
    pub(in crate::model) fn record(&mut self, ns: u64, target_5xx: bool) {
        self.hist.saturating_record((ns / 1000).max(1));
        self.sum_ns += u128::from(ns);
        self.target_5xx += u64::from(target_5xx);
    }
}

/// The CloudWatch model of one run: its series, its alarms, and what it needs to compute
/// the next minute's datapoints.
#[derive(Clone, Debug, Default)]
pub struct CloudWatch {
    /// `ingestion_delay`: from a minute's end to its datapoints' publication.
    pub ingestion_delay: SimDuration,
    /// Every series (those the scenario's policies and alarms watch).
    pub series: Vec<Series>,
    /// Every alarm.
    pub alarms: Vec<Alarm>,
    /// Minutes computed so far (minute `computed - 1` is the latest).
    pub computed: u32,
    /// Minutes published so far.
    pub published: u32,
    /// Per service, its usage meter at the start of the current minute.
    pub(in crate::model) usage_at: Vec<UsageMeter>,
    /// Per target group, requests routed before the current minute.
    pub(in crate::model) routed_at: Vec<u64>,
}

impl CloudWatch {
    /// Whether there is anything to compute (a series).
    pub fn active(&self) -> bool {
        !self.series.is_empty()
    }

    /// The index of the series of `service` for `spec`, added if new.
    pub(in crate::model) fn series_for(
        &mut self,
        service: ServiceId,
        target_group: TargetGroupId,
        spec: MetricSpec,
    ) -> usize {
        if let Some(i) = self
            .series
            .iter()
            .position(|s| s.service == service && s.spec == spec)
        {
            return i;
        }
        self.series.push(Series {
            service,
            target_group,
            spec,
            datapoints: Vec::new(),
        });
        self.series.len() - 1
    }

    /// The datapoints of `series` visible at publication `published` (minutes
    /// `0..published`).
    pub fn visible(&self, series: usize) -> &[Option<f64>] {
        let d = &self.series[series].datapoints;
        &d[..(self.published as usize).min(d.len())]
    }

    /// When minute `k`'s datapoints are published.
    pub fn publication_time(&self, k: u32) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(60 * (u64::from(k) + 1)) + self.ingestion_delay
    }
}

/// What one minute of a target group looked like, for [`datapoint`].
pub(in crate::model) struct MinuteOfGroup<'a> {
    /// Requests routed to it in the minute.
    pub routed: u64,
    /// Healthy targets at the minute's end.
    pub healthy: u32,
    /// Unhealthy targets at the minute's end.
    pub unhealthy: u32,
    /// Its response statistics in the minute, if kept.
    pub responses: Option<&'a ResponseStats>,
}

/// The datapoint of `spec` for one minute of a service (its usage over the minute,
/// `usage`) and of its target group (`group`); `None` when there is no data.
pub(in crate::model) fn datapoint(
    spec: MetricSpec,
    usage: &UsageMeter,
    group: &MinuteOfGroup<'_>,
) -> Option<f64> {
    let zero = UsageMeter::default();
    match spec.metric {
        MetricName::CpuUtilization => usage.cpu.utilization_pct_since(&zero.cpu),
        MetricName::MemoryUtilization => usage.memory_pct_since(&zero),
        MetricName::RequestCount => Some(group.routed as f64),
        MetricName::RequestCountPerTarget => {
            Some(group.routed as f64 / f64::from(group.healthy.max(1)))
        }
        MetricName::HealthyHostCount => Some(f64::from(group.healthy)),
        MetricName::UnHealthyHostCount => Some(f64::from(group.unhealthy)),
        MetricName::HttpCodeTarget5xxCount => {
            Some(group.responses.map_or(0, |r| r.target_5xx) as f64)
        }
        MetricName::TargetResponseTime => {
            let r = group.responses?;
            let n = r.hist.len();
            if n == 0 {
                return None;
            }
            Some(match spec.statistic {
                Statistic::Average => r.sum_ns as f64 / n as f64 / 1e9,
                Statistic::Minimum => r.hist.min() as f64 / 1e6,
                Statistic::Maximum => r.hist.max() as f64 / 1e6,
                Statistic::Percentile(p) => r.hist.value_at_quantile(p / 100.0) as f64 / 1e6,
                Statistic::Sum => r.sum_ns as f64 / 1e9,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(comparison: Comparison, threshold: f64, n: u32, m: u32) -> Alarm {
        Alarm {
            name: "a".into(),
            series: 0,
            comparison,
            threshold,
            evaluation_periods: n,
            datapoints_to_alarm: m,
            state: AlarmState::InsufficientData,
        }
    }

    #[test]
    fn three_of_three_above_the_target() {
        let a = alarm(Comparison::GreaterThanThreshold, 70.0, 3, 3);
        assert_eq!(a.evaluate(&[]), AlarmState::InsufficientData);
        assert_eq!(a.evaluate(&[Some(80.0), Some(80.0)]), AlarmState::Ok);
        assert_eq!(
            a.evaluate(&[Some(80.0), Some(80.0), Some(80.0)]),
            AlarmState::Alarm
        );
        // Exactly at the threshold does not breach GreaterThanThreshold.
        assert_eq!(
            a.evaluate(&[Some(80.0), Some(80.0), Some(70.0)]),
            AlarmState::Ok
        );
        // A missing datapoint in the window never breaches; a missing latest one is
        // INSUFFICIENT_DATA.
        assert_eq!(a.evaluate(&[Some(80.0), None, Some(80.0)]), AlarmState::Ok);
        assert_eq!(
            a.evaluate(&[Some(80.0), Some(80.0), Some(80.0), None]),
            AlarmState::InsufficientData
        );
    }

    #[test]
    fn statistics_parse_as_cloudwatch_spells_them() {
        assert_eq!(Statistic::parse("p99"), Some(Statistic::Percentile(99.0)));
        assert_eq!(Statistic::parse("p99.9"), Some(Statistic::Percentile(99.9)));
        assert_eq!(Statistic::parse("p101"), None);
        assert_eq!(Statistic::parse("average"), None);
        assert!(Statistic::Percentile(99.0).supported_for(MetricName::TargetResponseTime));
        assert!(!Statistic::Maximum.supported_for(MetricName::CpuUtilization));
        assert!(Statistic::Sum.supported_for(MetricName::RequestCountPerTarget));
    }
}
