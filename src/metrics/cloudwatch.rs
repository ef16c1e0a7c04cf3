//! `cloudwatch.csv` and `alarms.csv`: every published CloudWatch datapoint, and every
//! alarm's state after each publication, read from the model's CloudWatch (the same
//! figures the scaling policies act on).

use crate::engine::SimTime;
use crate::model::World;

use super::recorder::format_secs;

/// The header of `cloudwatch.csv`: one row per series per published minute.
pub const CLOUDWATCH_HEADER: [&str; 8] = [
    "time_s",
    "period_start_s",
    "service",
    "target_group",
    "namespace",
    "metric_name",
    "statistic",
    "value",
];

/// The header of `alarms.csv`: one row per alarm per publication.
pub const ALARMS_HEADER: [&str; 8] = [
    "time_s",
    "service",
    "alarm_name",
    "metric_name",
    "statistic",
    "comparison_operator",
    "threshold",
    "state",
];

/// A value as CloudWatch shows it: up to 6 decimals, no trailing zeros; empty for no data.
fn value(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) => {
            let s = format!("{v:.6}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_string()
        }
    }
}

/// The rows of `cloudwatch.csv` for minute `minute`, published at `now`.
pub fn datapoint_rows(now: SimTime, minute: u32, world: &World) -> Vec<[String; 8]> {
    let cw = world.cloudwatch();
    cw.series
        .iter()
        .map(|s| {
            let d = s.datapoints.get(minute as usize).copied().flatten();
            [
                format_secs(now),
                (u64::from(minute) * 60).to_string(),
                world.services()[s.service.index()].name.clone(),
                world.target_groups()[s.target_group.index()].name.clone(),
                s.spec.metric.namespace().to_string(),
                s.spec.metric.name().to_string(),
                s.spec.statistic.name(),
                value(d),
            ]
        })
        .collect()
}

/// The rows of `alarms.csv` after the publication at `now`.
pub fn alarm_rows(now: SimTime, world: &World) -> Vec<[String; 8]> {
    let cw = world.cloudwatch();
    cw.alarms
        .iter()
        .map(|a| {
            let s = &cw.series[a.series];
            [
                format_secs(now),
                world.services()[s.service.index()].name.clone(),
                a.name.clone(),
                s.spec.metric.name().to_string(),
                s.spec.statistic.name(),
                a.comparison.name().to_string(),
                value(Some(a.threshold)),
                a.state.name().to_string(),
            ]
        })
        .collect()
}
