//! Application Auto Scaling of an ECS service's `DesiredCount`: target tracking, step
//! scaling and scheduled actions (`../shared/spec/aws-behaviour.md` §7).
//!
//! A service with `auto_scaling` is a *scalable target* with `min_capacity` and
//! `max_capacity`. Its policies read the [`CloudWatch`](super::cloudwatch) datapoints when a
//! minute is published, decide, and the world applies the decision by setting the service's
//! desired count (ECS then launches tasks, or stops tasks as it does on scale-in, which drain
//! for the target group's deregistration delay). The decisions are pure functions of the
//! policies' state and the published datapoints, in [`policy`].
//!
//! **Target tracking** (AAS-UG `application-auto-scaling-target-tracking.html`) creates two
//! alarms per policy: *high*, `GreaterThanThreshold` the target on 3 of 3 one-minute
//! datapoints, which scales out; *low*, `LessThanThreshold` 0.9 × the target on 15 of 15,
//! which scales in. AWS fixes these counts; lbsim exposes them as advanced what-if
//! parameters, documented as not configurable in AWS.
//!
//! **Capacity.** AWS publishes no exact formula: it "adds or removes capacity proportional to
//! the metric", rounding up on scale-out and removing on scale-in only what keeps the metric
//! under the target. lbsim uses the standard model of that description:
//! `desired = ceil(current × metric ÷ target)` (the latest datapoint), clamped to
//! `[min_capacity, max_capacity]`; a scale-out only if it is above the current desired count,
//! a scale-in only if below.
//!
//! **Cooldowns** (default 300 s each for ECS). During a policy's scale-out cooldown, the
//! capacity its scale-out added counts towards the next calculation: lbsim computes the next
//! desired count from the capacity *before* that scale-out (the fleet the metric describes),
//! so only a larger scale-out happens ("to continuously (but not excessively) scale out").
//! The scale-in cooldown blocks scale-in; a scale-out cancels it. `disable_scale_in` turns
//! the low alarm's action off.
//!
//! **Several policies:** scale out if any policy wants to, scale in only if every policy
//! with scale-in enabled wants to, and the largest desired count wins. **During a
//! deployment** (a rolling update in progress) scale-in is suspended; scale-out goes on.
//!
//! **Step scaling** (AAS-UG `application-auto-scaling-step-scaling-policies.html`): a
//! CloudWatch alarm of the user's; while it is in `ALARM`, at each publication, the
//! aggregate (`metric_aggregation_type`) of the datapoints in its window is compared with
//! its threshold and the step adjustment whose bounds contain the difference applies:
//! `ChangeInCapacity`, `ExactCapacity` or `PercentChangeInCapacity` (rounded as AWS
//! documents: above 1 down, between 0 and 1 to 1, between −1 and 0 to −1, below −1 up; at
//! least `min_adjustment_magnitude`). Its `cooldown` works as target tracking's: a larger
//! scale-out only, no scale-in.
//!
//! **Scheduled actions** set `min_capacity` and/or `max_capacity` at a time (once, or daily
//! at a time of day, t = 0 being 00:00); the desired count is clamped into the new range at
//! once, whatever the cooldowns (AAS-UG `application-auto-scaling-scheduled-scaling.html`).

pub mod policy;
mod scaler;

use super::cloudwatch::{Alarm, AlarmState, Comparison, MetricSpec};
use super::ids::ServiceId;
use crate::engine::{SimDuration, SimTime};

/// A service's `auto_scaling`: its scalable target and policies.
#[derive(Clone, Debug)]
pub struct AutoScalingSpec {
    /// `MinCapacity`: the fewest tasks the policies set (0 or more).
    pub min_capacity: u32,
    /// `MaxCapacity`: the most tasks the policies set.
    pub max_capacity: u32,
    /// Target tracking policies.
    pub target_tracking: Vec<TargetTrackingSpec>,
    /// Step scaling policies.
    pub step_scaling: Vec<StepScalingSpec>,
    /// Scheduled actions.
    pub scheduled_actions: Vec<ScheduledActionSpec>,
}

/// A target tracking policy.
#[derive(Clone, Debug)]
pub struct TargetTrackingSpec {
    /// The policy's name.
    pub name: String,
    /// `TargetValue`, in the metric's unit (% for CPU and memory, requests per target per
    /// minute for `ALBRequestCountPerTarget`).
    pub target_value: f64,
    /// The metric it tracks (a predefined one, or a customized one).
    pub metric: MetricSpec,
    /// `ScaleOutCooldown`, default 300 s.
    pub scale_out_cooldown: SimDuration,
    /// `ScaleInCooldown`, default 300 s.
    pub scale_in_cooldown: SimDuration,
    /// `DisableScaleIn`, default false.
    pub disable_scale_in: bool,
    /// Datapoints (of as many) above the target that raise the high alarm: 3 in AWS, not
    /// configurable there (a what-if parameter).
    pub high_alarm_datapoints: u32,
    /// Datapoints (of as many) below the low threshold that raise the low alarm: 15 in
    /// AWS, not configurable there (a what-if parameter).
    pub low_alarm_datapoints: u32,
    /// The low alarm's threshold as a fraction of the target: 0.9 ("usually more than 10 %
    /// lower"), not configurable in AWS (a what-if parameter).
    pub low_alarm_ratio: f64,
}

impl TargetTrackingSpec {
    /// A policy tracking `metric` at `target_value` with AWS's defaults.
    pub fn new(name: &str, metric: MetricSpec, target_value: f64) -> TargetTrackingSpec {
        TargetTrackingSpec {
            name: name.into(),
            target_value,
            metric,
            scale_out_cooldown: SimDuration::from_secs(300),
            scale_in_cooldown: SimDuration::from_secs(300),
            disable_scale_in: false,
            high_alarm_datapoints: 3,
            low_alarm_datapoints: 15,
            low_alarm_ratio: 0.9,
        }
    }
}

/// A CloudWatch alarm of a step scaling policy (period: one minute).
#[derive(Clone, Debug)]
pub struct AlarmSpec {
    /// Metric and statistic.
    pub metric: MetricSpec,
    /// `Threshold`, in the metric's unit.
    pub threshold: f64,
    /// `ComparisonOperator`.
    pub comparison: Comparison,
    /// `EvaluationPeriods`, minutes.
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm`, at most `evaluation_periods`.
    pub datapoints_to_alarm: u32,
}

/// `AdjustmentType` of a step scaling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add the adjustment (negative: remove).
    ChangeInCapacity,
    /// Set the capacity to the adjustment.
    ExactCapacity,
    /// Add the adjustment as a percentage of the current capacity.
    PercentChangeInCapacity,
}

/// `MetricAggregationType` of a step scaling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    /// The mean of the window's datapoints (default).
    Average,
    /// The smallest.
    Minimum,
    /// The largest.
    Maximum,
}

/// One `StepAdjustment`: bounds relative to the alarm's threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepAdjustmentSpec {
    /// `MetricIntervalLowerBound` (none: −∞).
    pub lower_bound: Option<f64>,
    /// `MetricIntervalUpperBound` (none: +∞).
    pub upper_bound: Option<f64>,
    /// `ScalingAdjustment`.
    pub scaling_adjustment: i64,
}

/// A step scaling policy.
#[derive(Clone, Debug)]
pub struct StepScalingSpec {
    /// The policy's name.
    pub name: String,
    /// The alarm that invokes it.
    pub alarm: AlarmSpec,
    /// How `scaling_adjustment` is read.
    pub adjustment_type: AdjustmentType,
    /// Its steps.
    pub step_adjustments: Vec<StepAdjustmentSpec>,
    /// `MinAdjustmentMagnitude` (`PercentChangeInCapacity` only; 0: none).
    pub min_adjustment_magnitude: u32,
    /// `Cooldown`, default 300 s (lbsim's choice: AWS's default was not found).
    pub cooldown: SimDuration,
    /// `MetricAggregationType`, default `Average`.
    pub metric_aggregation_type: Aggregation,
}

/// When a scheduled action runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Once, at this time.
    At(SimTime),
    /// Every day at this time of day (t = 0 is 00:00).
    Daily(SimDuration),
}

/// A scheduled action: new bounds at a time.
#[derive(Clone, Debug)]
pub struct ScheduledActionSpec {
    /// The action's name.
    pub name: String,
    /// When.
    pub schedule: Schedule,
    /// The new `MinCapacity`, if it changes.
    pub min_capacity: Option<u32>,
    /// The new `MaxCapacity`, if it changes.
    pub max_capacity: Option<u32>,
}

/// A target tracking policy at run time.
#[derive(Clone, Debug)]
pub struct TargetTracking {
    /// Its spec.
    pub spec: TargetTrackingSpec,
    /// Its series, in [`super::cloudwatch::CloudWatch::series`].
    pub series: usize,
    /// Its high alarm, in [`super::cloudwatch::CloudWatch::alarms`].
    pub high: usize,
    /// Its low alarm.
    pub low: usize,
    /// The end of its scale-out cooldown.
    pub scale_out_until: SimTime,
    /// The desired count before the scale-out that started the cooldown.
    pub scale_out_base: u32,
    /// The end of its scale-in cooldown.
    pub scale_in_until: SimTime,
}

/// A step scaling policy at run time.
#[derive(Clone, Debug)]
pub struct StepScaling {
    /// Its spec.
    pub spec: StepScalingSpec,
    /// Its alarm, in [`super::cloudwatch::CloudWatch::alarms`].
    pub alarm: usize,
    /// The end of its cooldown.
    pub cooldown_until: SimTime,
    /// The desired count before the scaling that started the cooldown.
    pub cooldown_base: u32,
}

/// A service's scalable target at run time: its bounds and its policies.
#[derive(Clone, Debug)]
pub struct ScalableTarget {
    /// The service.
    pub service: ServiceId,
    /// `MinCapacity` now (scheduled actions change it).
    pub min: u32,
    /// `MaxCapacity` now.
    pub max: u32,
    /// Target tracking policies.
    pub target_tracking: Vec<TargetTracking>,
    /// Step scaling policies.
    pub step_scaling: Vec<StepScaling>,
    /// Scheduled actions.
    pub scheduled_actions: Vec<ScheduledActionSpec>,
}

/// Why a scaling activity happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingCause {
    /// A target tracking policy's alarm (index in the CloudWatch model).
    TargetTracking {
        /// The policy, in [`ScalableTarget::target_tracking`].
        policy: u16,
        /// The alarm in `ALARM` that invoked it.
        alarm: u32,
    },
    /// A step scaling policy's alarm.
    StepScaling {
        /// The policy, in [`ScalableTarget::step_scaling`].
        policy: u16,
        /// Its alarm.
        alarm: u32,
    },
    /// A scheduled action changed the bounds and the desired count was clamped into them.
    Scheduled {
        /// The action, in [`ScalableTarget::scheduled_actions`].
        action: u16,
    },
}

/// Builds the scalable targets of `services` (index: service), registering their series
/// and alarms in `cw`. `names` gives each service's name and target group.
pub(in crate::model) fn build(
    specs: &[Option<AutoScalingSpec>],
    names: &[(String, super::ids::TargetGroupId)],
    cw: &mut super::cloudwatch::CloudWatch,
) -> Vec<Option<ScalableTarget>> {
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let spec = spec.as_ref()?;
            let service = ServiceId(i as u32);
            let (name, tg) = &names[i];
            let target_tracking = spec
                .target_tracking
                .iter()
                .map(|p| {
                    let series = cw.series_for(service, *tg, p.metric);
                    let high = cw.alarms.len();
                    let alarm_name = |side: &str| {
                        format!(
                            "TargetTracking-service/default/{name}-Alarm{side}-{}",
                            p.name
                        )
                    };
                    cw.alarms.push(Alarm {
                        name: alarm_name("High"),
                        series,
                        comparison: Comparison::GreaterThanThreshold,
                        threshold: p.target_value,
                        evaluation_periods: p.high_alarm_datapoints,
                        datapoints_to_alarm: p.high_alarm_datapoints,
                        state: AlarmState::InsufficientData,
                    });
                    cw.alarms.push(Alarm {
                        name: alarm_name("Low"),
                        series,
                        comparison: Comparison::LessThanThreshold,
                        threshold: p.target_value * p.low_alarm_ratio,
                        evaluation_periods: p.low_alarm_datapoints,
                        datapoints_to_alarm: p.low_alarm_datapoints,
                        state: AlarmState::InsufficientData,
                    });
                    TargetTracking {
                        spec: p.clone(),
                        series,
                        high,
                        low: high + 1,
                        scale_out_until: SimTime::ZERO,
                        scale_out_base: 0,
                        scale_in_until: SimTime::ZERO,
                    }
                })
                .collect();
            let step_scaling = spec
                .step_scaling
                .iter()
                .map(|p| {
                    let series = cw.series_for(service, *tg, p.alarm.metric);
                    let alarm = cw.alarms.len();
                    cw.alarms.push(Alarm {
                        name: format!("{name}-{}", p.name),
                        series,
                        comparison: p.alarm.comparison,
                        threshold: p.alarm.threshold,
                        evaluation_periods: p.alarm.evaluation_periods,
                        datapoints_to_alarm: p.alarm.datapoints_to_alarm,
                        state: AlarmState::InsufficientData,
                    });
                    StepScaling {
                        spec: p.clone(),
                        alarm,
                        cooldown_until: SimTime::ZERO,
                        cooldown_base: 0,
                    }
                })
                .collect();
            Some(ScalableTarget {
                service,
                min: spec.min_capacity,
                max: spec.max_capacity,
                target_tracking,
                step_scaling,
                scheduled_actions: spec.scheduled_actions.clone(),
            })
        })
        .collect()
}
