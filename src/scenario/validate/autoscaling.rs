//! `[services.auto_scaling]` and `[cloudwatch]`: the scalable target's bounds, target
//! tracking and step scaling policies with their metrics and alarms, scheduled actions
//! (Application Auto Scaling's names, units and ranges: AAS API Reference
//! `API_RegisterScalableTarget`, `API_PutScalingPolicy`, `API_PutScheduledAction`;
//! CloudWatch `API_PutMetricAlarm`).

use super::{Ctx, MAX_DESIRED_COUNT};
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::model::autoscaling::{
    AdjustmentType, Aggregation, AlarmSpec, AutoScalingSpec, Schedule, ScheduledActionSpec,
    StepAdjustmentSpec, StepScalingSpec, TargetTrackingSpec,
};
use crate::model::cloudwatch::{Comparison, MetricName, MetricSpec, Statistic};
use crate::scenario::file::{
    AlarmSection, AutoScalingSection, CloudWatchSection, MetricSection, ScheduledActionSection,
    StepScalingSection, TargetTrackingSection,
};

/// Longest cooldown (lbsim's cap: AWS documents none; a day is far beyond any use).
const MAX_COOLDOWN: SimDuration = SimDuration::from_secs(86_400);
/// Longest CloudWatch ingestion delay (lbsim's cap).
const MAX_INGESTION_DELAY: SimDuration = SimDuration::from_secs(600);
/// Most policies or scheduled actions of each kind per service.
const MAX_POLICIES: usize = 50;
/// Most step adjustments per policy (AAS: 20).
const MAX_STEPS: usize = 20;
/// Most evaluation periods of a one-minute alarm (CloudWatch: periods × period ≤ 1 day).
const MAX_EVALUATION_PERIODS: i64 = 1440;

/// The predefined metrics of target tracking for ECS, by name.
pub const PREDEFINED_METRICS: [(&str, MetricName, Statistic); 3] = [
    (
        "ECSServiceAverageCPUUtilization",
        MetricName::CpuUtilization,
        Statistic::Average,
    ),
    (
        "ECSServiceAverageMemoryUtilization",
        MetricName::MemoryUtilization,
        Statistic::Average,
    ),
    (
        "ALBRequestCountPerTarget",
        MetricName::RequestCountPerTarget,
        Statistic::Sum,
    ),
];

/// Checks `[cloudwatch]`: its ingestion delay.
pub(super) fn cloudwatch(ctx: &mut Ctx, c: &CloudWatchSection) -> SimDuration {
    match c.ingestion_delay {
        None => SimDuration::from_secs(60),
        Some(d) if d.0 <= MAX_INGESTION_DELAY => d.0,
        Some(d) => {
            ctx.bad(
                "cloudwatch.ingestion_delay",
                format!(
                    "{}: allowed 0s–600s (lbsim's range; AWS publishes no figure)",
                    d.0
                ),
            );
            SimDuration::from_secs(60)
        }
    }
}

/// Checks service `p`'s `auto_scaling`, given its `desired_count` and the run's length.
pub(super) fn auto_scaling(
    ctx: &mut Ctx,
    p: &str,
    a: &AutoScalingSection,
    desired: u32,
    run: SimDuration,
) -> AutoScalingSpec {
    let max_count = i64::from(MAX_DESIRED_COUNT);
    let bound = |ctx: &mut Ctx, name: &str, v: i64| -> u32 {
        if (0..=max_count).contains(&v) {
            v as u32
        } else {
            ctx.bad(
                format!("{p}.{name}"),
                format!("{v}: allowed 0–{max_count} (Application Auto Scaling {name}, tasks)"),
            );
            0
        }
    };
    let min_capacity = bound(ctx, "min_capacity", a.min_capacity);
    let max_capacity = bound(ctx, "max_capacity", a.max_capacity);
    if min_capacity > max_capacity {
        ctx.bad(
            format!("{p}.max_capacity"),
            format!("{max_capacity}: must be at least min_capacity ({min_capacity})"),
        );
    } else if !(min_capacity..=max_capacity).contains(&desired) {
        ctx.bad(
            format!("{p}.min_capacity"),
            format!(
                "the service's desired_count ({desired}) must be within min_capacity–max_capacity \
                 ({min_capacity}–{max_capacity})"
            ),
        );
    }
    for (what, n) in [
        ("target_tracking", a.target_tracking.len()),
        ("step_scaling", a.step_scaling.len()),
        ("scheduled_actions", a.scheduled_actions.len()),
    ] {
        if n > MAX_POLICIES {
            ctx.bad(
                format!("{p}.{what}"),
                format!("{n} entries: at most {MAX_POLICIES}"),
            );
        }
    }
    let names = a
        .target_tracking
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("{p}.target_tracking.{i}.name"), t.name.as_str()))
        .chain(
            a.step_scaling
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("{p}.step_scaling.{i}.name"), t.name.as_str())),
        );
    ctx.unique("policy", names);
    ctx.unique(
        "scheduled action",
        a.scheduled_actions
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("{p}.scheduled_actions.{i}.name"), t.name.as_str())),
    );
    let target_tracking = a
        .target_tracking
        .iter()
        .enumerate()
        .map(|(i, t)| target_tracking(ctx, &format!("{p}.target_tracking.{i}"), t))
        .collect();
    let step_scaling = a
        .step_scaling
        .iter()
        .enumerate()
        .map(|(i, t)| step_scaling(ctx, &format!("{p}.step_scaling.{i}"), t))
        .collect();
    let scheduled_actions = a
        .scheduled_actions
        .iter()
        .enumerate()
        .map(|(i, t)| scheduled_action(ctx, &format!("{p}.scheduled_actions.{i}"), t, run))
        .collect();
    AutoScalingSpec {
        min_capacity,
        max_capacity,
        target_tracking,
        step_scaling,
        scheduled_actions,
    }
}

/// A cooldown: whole seconds, 0s–1d, default 300 s.
fn cooldown(ctx: &mut Ctx, path: &str, v: Option<crate::scenario::file::SignedDur>) -> SimDuration {
    match v {
        None => SimDuration::from_secs(300),
        Some(v) => {
            ctx.signed_seconds_in(
                path,
                v,
                SimDuration::ZERO,
                MAX_COOLDOWN,
                "Application Auto Scaling cooldown; lbsim caps it at a day",
            );
            v.magnitude
        }
    }
}

/// A whole number in `lo..=hi`, or `default` when absent.
fn count(
    ctx: &mut Ctx,
    path: &str,
    v: Option<i64>,
    default: u32,
    lo: i64,
    hi: i64,
    what: &str,
) -> u32 {
    match v {
        None => default,
        Some(v) if (lo..=hi).contains(&v) => v as u32,
        Some(v) => {
            ctx.bad(path, format!("{v}: allowed {lo}–{hi} ({what})"));
            default
        }
    }
}

/// A metric and statistic by CloudWatch names.
fn metric(
    ctx: &mut Ctx,
    p: &str,
    name: &str,
    namespace: Option<&str>,
    statistic: &str,
) -> MetricSpec {
    let known: Vec<&str> = MetricName::ALL.iter().map(|(_, n)| *n).collect();
    let Some(&(metric, _)) = MetricName::ALL.iter().find(|(_, n)| *n == name) else {
        ctx.bad(
            format!("{p}.metric_name"),
            format!(
                "\"{name}\" is not a metric lbsim publishes (known: {})",
                known.join(", ")
            ),
        );
        return MetricSpec {
            metric: MetricName::CpuUtilization,
            statistic: Statistic::Average,
        };
    };
    if let Some(ns) = namespace
        && ns != metric.namespace()
    {
        ctx.bad(
            format!("{p}.namespace"),
            format!("\"{ns}\": {name} is in namespace {}", metric.namespace()),
        );
    }
    let statistic = match Statistic::parse(statistic) {
        Some(s) if s.supported_for(metric) => s,
        _ => {
            ctx.bad(
                format!("{p}.statistic"),
                format!(
                    "\"{statistic}\": lbsim computes {} for {name} (pNN: a percentile 0–100, e.g. p99)",
                    metric.statistics().join(", ")
                ),
            );
            Statistic::Average
        }
    };
    MetricSpec { metric, statistic }
}

/// Checks a target tracking policy.
fn target_tracking(ctx: &mut Ctx, p: &str, t: &TargetTrackingSection) -> TargetTrackingSpec {
    ctx.name(&format!("{p}.name"), &t.name, "policy", 255, true);
    let metric = match (&t.predefined_metric_type, &t.customized_metric) {
        (Some(name), None) => match PREDEFINED_METRICS.iter().find(|(n, _, _)| n == name) {
            Some(&(_, metric, statistic)) => MetricSpec { metric, statistic },
            None => {
                let known: Vec<&str> = PREDEFINED_METRICS.iter().map(|(n, _, _)| *n).collect();
                ctx.bad(
                    format!("{p}.predefined_metric_type"),
                    format!(
                        "\"{name}\" is not a predefined metric of ECS target tracking (known: {})",
                        known.join(", ")
                    ),
                );
                MetricSpec {
                    metric: MetricName::CpuUtilization,
                    statistic: Statistic::Average,
                }
            }
        },
        (None, Some(m)) => custom(ctx, &format!("{p}.customized_metric"), m),
        _ => {
            ctx.bad(
                p.to_string(),
                "give exactly one of predefined_metric_type and customized_metric",
            );
            MetricSpec {
                metric: MetricName::CpuUtilization,
                statistic: Statistic::Average,
            }
        }
    };
    if !(t.target_value.is_finite() && t.target_value > 0.0 && t.target_value <= 1e15) {
        ctx.bad(
            format!("{p}.target_value"),
            format!(
                "{}: must be > 0 and ≤ 1e15, in the metric's unit",
                t.target_value
            ),
        );
    }
    let ratio = match t.low_alarm_ratio {
        None => 0.9,
        Some(r) if r.is_finite() && (0.5..=1.0).contains(&r) => r,
        Some(r) => {
            ctx.bad(
                format!("{p}.low_alarm_ratio"),
                format!("{r}: allowed 0.5–1 (not configurable in AWS, which uses about 0.9)"),
            );
            0.9
        }
    };
    TargetTrackingSpec {
        name: t.name.clone(),
        target_value: t.target_value,
        metric,
        scale_out_cooldown: cooldown(
            ctx,
            &format!("{p}.scale_out_cooldown"),
            t.scale_out_cooldown,
        ),
        scale_in_cooldown: cooldown(ctx, &format!("{p}.scale_in_cooldown"), t.scale_in_cooldown),
        disable_scale_in: t.disable_scale_in,
        high_alarm_datapoints: count(
            ctx,
            &format!("{p}.high_alarm_datapoints"),
            t.high_alarm_datapoints,
            3,
            1,
            60,
            "not configurable in AWS, which uses 3",
        ),
        low_alarm_datapoints: count(
            ctx,
            &format!("{p}.low_alarm_datapoints"),
            t.low_alarm_datapoints,
            15,
            1,
            60,
            "not configurable in AWS, which uses 15",
        ),
        low_alarm_ratio: ratio,
    }
}

/// A customized metric.
fn custom(ctx: &mut Ctx, p: &str, m: &MetricSection) -> MetricSpec {
    metric(ctx, p, &m.metric_name, m.namespace.as_deref(), &m.statistic)
}

/// Checks a CloudWatch alarm (period one minute) at `ap`: its metric, comparison,
/// threshold, evaluation periods and datapoints to alarm (CloudWatch `PutMetricAlarm`).
pub(super) fn alarm(ctx: &mut Ctx, ap: &str, a: &AlarmSection) -> AlarmSpec {
    let metric = metric(
        ctx,
        ap,
        &a.metric_name,
        a.namespace.as_deref(),
        &a.statistic,
    );
    let comparison = match Comparison::ALL
        .iter()
        .find(|(_, n)| *n == a.comparison_operator)
    {
        Some(&(c, _)) => c,
        None => {
            let known: Vec<&str> = Comparison::ALL.iter().map(|(_, n)| *n).collect();
            ctx.bad(
                format!("{ap}.comparison_operator"),
                format!(
                    "\"{}\": use one of {}",
                    a.comparison_operator,
                    known.join(", ")
                ),
            );
            Comparison::GreaterThanThreshold
        }
    };
    if !a.threshold.is_finite() {
        ctx.bad(
            format!("{ap}.threshold"),
            format!("{}: must be a finite number", a.threshold),
        );
    }
    let evaluation_periods = count(
        ctx,
        &format!("{ap}.evaluation_periods"),
        Some(a.evaluation_periods),
        1,
        1,
        MAX_EVALUATION_PERIODS,
        "CloudWatch EvaluationPeriods of one minute: at most a day",
    );
    let datapoints_to_alarm = count(
        ctx,
        &format!("{ap}.datapoints_to_alarm"),
        a.datapoints_to_alarm,
        evaluation_periods,
        1,
        i64::from(evaluation_periods),
        "CloudWatch DatapointsToAlarm: at most evaluation_periods",
    );
    AlarmSpec {
        metric,
        threshold: a.threshold,
        comparison,
        evaluation_periods,
        datapoints_to_alarm,
    }
}

/// Checks a step scaling policy and its alarm.
fn step_scaling(ctx: &mut Ctx, p: &str, t: &StepScalingSection) -> StepScalingSpec {
    ctx.name(&format!("{p}.name"), &t.name, "policy", 255, true);
    let alarm = alarm(ctx, &format!("{p}.alarm"), &t.alarm);
    let adjustment_type = match t.adjustment_type.as_str() {
        "ChangeInCapacity" => AdjustmentType::ChangeInCapacity,
        "ExactCapacity" => AdjustmentType::ExactCapacity,
        "PercentChangeInCapacity" => AdjustmentType::PercentChangeInCapacity,
        other => {
            ctx.bad(
                format!("{p}.adjustment_type"),
                format!(
                    "\"{other}\": use ChangeInCapacity, ExactCapacity or PercentChangeInCapacity"
                ),
            );
            AdjustmentType::ChangeInCapacity
        }
    };
    let sp = format!("{p}.step_adjustments");
    if t.step_adjustments.is_empty() || t.step_adjustments.len() > MAX_STEPS {
        ctx.bad(
            sp.clone(),
            format!("{} steps: give 1–{MAX_STEPS}", t.step_adjustments.len()),
        );
    }
    let mut steps = Vec::new();
    for (i, s) in t.step_adjustments.iter().enumerate() {
        let (lo, hi) = (s.metric_interval_lower_bound, s.metric_interval_upper_bound);
        if lo.is_some_and(|v| !v.is_finite()) || hi.is_some_and(|v| !v.is_finite()) {
            ctx.bad(
                format!("{sp}.{i}"),
                "bounds must be finite numbers (leave one out for ∞)",
            );
        }
        if let (Some(l), Some(h)) = (lo, hi)
            && l >= h
        {
            ctx.bad(
                format!("{sp}.{i}.metric_interval_upper_bound"),
                format!("{h}: must be above metric_interval_lower_bound ({l})"),
            );
        }
        if lo.is_none() && hi.is_none() {
            ctx.bad(
                format!("{sp}.{i}"),
                "give at least one of metric_interval_lower_bound and metric_interval_upper_bound",
            );
        }
        if adjustment_type == AdjustmentType::ExactCapacity && s.scaling_adjustment < 0 {
            ctx.bad(
                format!("{sp}.{i}.scaling_adjustment"),
                format!("{}: an ExactCapacity must be ≥ 0", s.scaling_adjustment),
            );
        }
        if s.scaling_adjustment.abs() > 100_000 {
            ctx.bad(
                format!("{sp}.{i}.scaling_adjustment"),
                format!("{}: allowed −100000–100000", s.scaling_adjustment),
            );
        }
        steps.push(StepAdjustmentSpec {
            lower_bound: lo,
            upper_bound: hi,
            scaling_adjustment: s.scaling_adjustment,
        });
    }
    for (which, open) in [
        (
            "lower",
            steps.iter().filter(|s| s.lower_bound.is_none()).count(),
        ),
        (
            "upper",
            steps.iter().filter(|s| s.upper_bound.is_none()).count(),
        ),
    ] {
        if open > 1 {
            ctx.bad(
                sp.clone(),
                format!("{open} steps have no {which} bound: at most one may (AWS rule)"),
            );
        }
    }
    let mut sorted: Vec<_> = steps.iter().collect();
    sorted.sort_by(|a, b| {
        a.lower_bound
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.lower_bound.unwrap_or(f64::NEG_INFINITY))
    });
    for w in sorted.windows(2) {
        if w[0].upper_bound.unwrap_or(f64::INFINITY) > w[1].lower_bound.unwrap_or(f64::NEG_INFINITY)
        {
            ctx.bad(
                sp.clone(),
                "step adjustments overlap: their intervals must not (AWS rule)",
            );
            break;
        }
    }
    let min_adjustment_magnitude = match t.min_adjustment_magnitude {
        None => 0,
        Some(_) if adjustment_type != AdjustmentType::PercentChangeInCapacity => {
            ctx.bad(
                format!("{p}.min_adjustment_magnitude"),
                "applies to PercentChangeInCapacity only",
            );
            0
        }
        v => count(
            ctx,
            &format!("{p}.min_adjustment_magnitude"),
            v,
            0,
            1,
            i64::from(MAX_DESIRED_COUNT),
            "MinAdjustmentMagnitude, tasks",
        ),
    };
    let metric_aggregation_type = match t.metric_aggregation_type.as_deref() {
        None | Some("Average") => Aggregation::Average,
        Some("Minimum") => Aggregation::Minimum,
        Some("Maximum") => Aggregation::Maximum,
        Some(other) => {
            ctx.bad(
                format!("{p}.metric_aggregation_type"),
                format!("\"{other}\": use Average, Minimum or Maximum"),
            );
            Aggregation::Average
        }
    };
    StepScalingSpec {
        name: t.name.clone(),
        alarm,
        adjustment_type,
        step_adjustments: steps,
        min_adjustment_magnitude,
        cooldown: cooldown(ctx, &format!("{p}.cooldown"), t.cooldown),
        metric_aggregation_type,
    }
}

/// Parses `"HH:MM"` or `"HH:MM:SS"` into a time of day.
fn time_of_day(s: &str) -> Option<SimDuration> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let n: Vec<u64> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
    (h < 24 && m < 60 && sec < 60).then(|| SimDuration::from_secs(h * 3600 + m * 60 + sec))
}

/// Checks a scheduled action.
fn scheduled_action(
    ctx: &mut Ctx,
    p: &str,
    a: &ScheduledActionSection,
    run: SimDuration,
) -> ScheduledActionSpec {
    ctx.name(&format!("{p}.name"), &a.name, "scheduled action", 255, true);
    let schedule = match (&a.at, &a.daily_at) {
        (Some(at), None) => {
            if at.0 > run {
                ctx.bad(
                    format!("{p}.at"),
                    format!(
                        "{}: after the end of the run ({} s)",
                        at.0,
                        run.0 / NANOS_PER_SEC
                    ),
                );
            }
            Schedule::At(SimTime::ZERO + at.0)
        }
        (None, Some(d)) => {
            match time_of_day(d) {
                Some(t) => Schedule::Daily(t),
                None => {
                    ctx.bad(
                    format!("{p}.daily_at"),
                    format!("\"{d}\": write a time of day as \"HH:MM\" or \"HH:MM:SS\" (00:00–23:59:59)"),
                );
                    Schedule::Daily(SimDuration::ZERO)
                }
            }
        }
        _ => {
            ctx.bad(p.to_string(), "give exactly one of at and daily_at");
            Schedule::At(SimTime::ZERO)
        }
    };
    let max_count = i64::from(MAX_DESIRED_COUNT);
    let mut bound = |name: &str, v: Option<i64>| -> Option<u32> {
        let v = v?;
        if (0..=max_count).contains(&v) {
            Some(v as u32)
        } else {
            ctx.bad(
                format!("{p}.{name}"),
                format!("{v}: allowed 0–{max_count} (tasks)"),
            );
            None
        }
    };
    let min_capacity = bound("min_capacity", a.min_capacity);
    let max_capacity = bound("max_capacity", a.max_capacity);
    if a.min_capacity.is_none() && a.max_capacity.is_none() {
        ctx.bad(p.to_string(), "give min_capacity, max_capacity or both");
    }
    if let (Some(lo), Some(hi)) = (min_capacity, max_capacity)
        && lo > hi
    {
        ctx.bad(
            format!("{p}.max_capacity"),
            format!("{hi}: must be at least min_capacity ({lo})"),
        );
    }
    ScheduledActionSpec {
        name: a.name.clone(),
        schedule,
        min_capacity,
        max_capacity,
    }
}

#[cfg(test)]
mod tests {
    use super::time_of_day;
    use crate::engine::SimDuration;

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day("08:30"), Some(SimDuration::from_secs(30_600)));
        assert_eq!(
            time_of_day("23:59:59"),
            Some(SimDuration::from_secs(86_399))
        );
        assert_eq!(time_of_day("24:00"), None);
        assert_eq!(time_of_day("8:30"), None);
    }
}
