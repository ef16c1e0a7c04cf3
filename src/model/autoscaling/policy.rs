//! The decisions of a scalable target's policies, as pure functions of their state, the
//! published datapoints and the service's desired count (see the parent module for the
//! rules and their sources). Each function that decides also starts the cooldowns its
//! decision starts; the caller applies the new desired count.

use super::{AdjustmentType, Aggregation, ScalableTarget, ScalingCause, StepAdjustmentSpec};
use crate::engine::SimTime;
use crate::model::cloudwatch::{AlarmState, CloudWatch};

/// `ceil(x)`, forgiving the rounding error of a product that should be a whole number
/// (4 × 70 ÷ 70 must give 4, not 5).
fn ceil(x: f64) -> u32 {
    let c = (x - 1e-9).ceil();
    if c <= 0.0 {
        0
    } else {
        c.min(f64::from(u32::MAX)) as u32
    }
}

/// What one target tracking policy wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wish {
    /// Nothing.
    Hold,
    /// A larger desired count.
    Out(u32),
    /// A smaller desired count.
    In(u32),
}

/// The target tracking decision of `t` at `now`: a new desired count and its cause, if the
/// policies together change it. Scale-in is off while `deploying`.
pub fn target_tracking(
    t: &mut ScalableTarget,
    cw: &CloudWatch,
    desired: u32,
    now: SimTime,
    deploying: bool,
) -> Option<(u32, ScalingCause)> {
    if t.target_tracking.is_empty() {
        return None;
    }
    let (min, max) = (t.min, t.max);
    let wishes: Vec<Wish> = t
        .target_tracking
        .iter()
        .map(|p| {
            let latest = cw.visible(p.series).last().copied().flatten();
            let Some(metric) = latest else {
                return Wish::Hold;
            };
            let target = p.spec.target_value;
            if cw.alarms[p.high].state == AlarmState::Alarm {
                let base = if now < p.scale_out_until {
                    p.scale_out_base
                } else {
                    desired
                };
                let n = ceil(f64::from(base) * metric / target).clamp(min, max);
                if n > desired {
                    return Wish::Out(n);
                }
            } else if cw.alarms[p.low].state == AlarmState::Alarm
                && !p.spec.disable_scale_in
                && now >= p.scale_in_until
            {
                let n = ceil(f64::from(desired) * metric / target).clamp(min, max);
                if n < desired {
                    return Wish::In(n);
                }
            }
            Wish::Hold
        })
        .collect();
    let out = wishes
        .iter()
        .enumerate()
        .filter_map(|(i, w)| match w {
            Wish::Out(n) => Some((*n, i)),
            _ => None,
        })
        .max_by_key(|&(n, i)| (n, std::cmp::Reverse(i)));
    if let Some((n, i)) = out {
        let p = &mut t.target_tracking[i];
        if now >= p.scale_out_until {
            p.scale_out_base = desired;
        }
        p.scale_out_until = now + p.spec.scale_out_cooldown;
        let alarm = p.high as u32;
        // A scale-out cancels every scale-in cooldown.
        for p in &mut t.target_tracking {
            p.scale_in_until = now;
        }
        return Some((
            n,
            ScalingCause::TargetTracking {
                policy: i as u16,
                alarm,
            },
        ));
    }
    if deploying {
        return None;
    }
    // Scale in only if every policy with scale-in enabled wants to; the largest wins.
    let mut n_in = None;
    for (p, w) in t.target_tracking.iter().zip(&wishes) {
        if p.spec.disable_scale_in {
            continue;
        }
        match w {
            Wish::In(n) => n_in = Some(n_in.map_or(*n, |m: u32| m.max(*n))),
            _ => return None,
        }
    }
    let n = n_in?;
    let i = t
        .target_tracking
        .iter()
        .zip(&wishes)
        .position(|(_, w)| *w == Wish::In(n))
        .expect("the largest wish is some policy's");
    let alarm = t.target_tracking[i].low as u32;
    for p in &mut t.target_tracking {
        if !p.spec.disable_scale_in {
            p.scale_in_until = now + p.spec.scale_in_cooldown;
        }
    }
    Some((
        n,
        ScalingCause::TargetTracking {
            policy: i as u16,
            alarm,
        },
    ))
}

/// AWS's rounding of a `PercentChangeInCapacity` adjustment: above 1 down, between 0 and
/// 1 up to 1, between −1 and 0 down to −1, below −1 up (towards zero).
pub fn round_percent_change(x: f64) -> i64 {
    if x > 1.0 {
        x.floor() as i64
    } else if x > 0.0 {
        1
    } else if x < -1.0 {
        x.ceil() as i64
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// The step whose bounds contain `breach` (the aggregate minus the threshold): above the
/// threshold the lower bound is inclusive and the upper exclusive, below it the reverse.
pub fn find_step(steps: &[StepAdjustmentSpec], breach: f64) -> Option<&StepAdjustmentSpec> {
    steps.iter().find(|s| {
        let lo = s.lower_bound.unwrap_or(f64::NEG_INFINITY);
        let hi = s.upper_bound.unwrap_or(f64::INFINITY);
        if breach >= 0.0 {
            lo <= breach && breach < hi
        } else {
            lo < breach && breach <= hi
        }
    })
}

/// The step scaling decision of `t`'s policy `i` at `now` (a new desired count and its
/// cause), with the desired count `desired`. Scale-in is off while `deploying`.
pub fn step_scaling(
    t: &mut ScalableTarget,
    i: usize,
    cw: &CloudWatch,
    desired: u32,
    now: SimTime,
    deploying: bool,
) -> Option<(u32, ScalingCause)> {
    let (min, max) = (t.min, t.max);
    let p = &mut t.step_scaling[i];
    let alarm = &cw.alarms[p.alarm];
    if alarm.state != AlarmState::Alarm {
        return None;
    }
    let visible = cw.visible(alarm.series);
    let window = &visible[visible
        .len()
        .saturating_sub(alarm.evaluation_periods as usize)..];
    let values: Vec<f64> = window.iter().flatten().copied().collect();
    if values.is_empty() {
        return None;
    }
    let value = match p.spec.metric_aggregation_type {
        Aggregation::Average => values.iter().sum::<f64>() / values.len() as f64,
        Aggregation::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
        Aggregation::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    };
    let step = find_step(&p.spec.step_adjustments, value - alarm.threshold)?;
    let in_cooldown = now < p.cooldown_until;
    let base = if in_cooldown {
        p.cooldown_base
    } else {
        desired
    };
    let adj = step.scaling_adjustment;
    let raw = match p.spec.adjustment_type {
        AdjustmentType::ChangeInCapacity => i64::from(base) + adj,
        AdjustmentType::ExactCapacity => adj,
        AdjustmentType::PercentChangeInCapacity => {
            let mut change = round_percent_change(f64::from(base) * adj as f64 / 100.0);
            let mag = i64::from(p.spec.min_adjustment_magnitude);
            if change != 0 && change.abs() < mag {
                change = mag * change.signum();
            }
            i64::from(base) + change
        }
    };
    let n = raw.clamp(i64::from(min), i64::from(max)) as u32;
    let scale_out = n > desired;
    if n == desired || (!scale_out && (in_cooldown || deploying)) {
        return None;
    }
    if !in_cooldown {
        p.cooldown_base = desired;
    }
    p.cooldown_until = now + p.spec.cooldown;
    Some((
        n,
        ScalingCause::StepScaling {
            policy: i as u16,
            alarm: p.alarm as u32,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_change_rounds_as_aws_documents() {
        assert_eq!(round_percent_change(2.5), 2);
        assert_eq!(round_percent_change(0.3), 1);
        assert_eq!(round_percent_change(-0.3), -1);
        assert_eq!(round_percent_change(-2.5), -2);
        assert_eq!(round_percent_change(0.0), 0);
    }

    #[test]
    fn step_bounds_are_inclusive_towards_the_threshold() {
        let steps = [
            StepAdjustmentSpec {
                lower_bound: Some(0.0),
                upper_bound: Some(10.0),
                scaling_adjustment: 1,
            },
            StepAdjustmentSpec {
                lower_bound: Some(10.0),
                upper_bound: None,
                scaling_adjustment: 3,
            },
            StepAdjustmentSpec {
                lower_bound: None,
                upper_bound: Some(0.0),
                scaling_adjustment: -1,
            },
        ];
        assert_eq!(find_step(&steps, 0.0).unwrap().scaling_adjustment, 1);
        assert_eq!(find_step(&steps, 9.99).unwrap().scaling_adjustment, 1);
        assert_eq!(find_step(&steps, 10.0).unwrap().scaling_adjustment, 3);
        assert_eq!(find_step(&steps, -0.5).unwrap().scaling_adjustment, -1);
    }

    #[test]
    fn ceil_forgives_rounding_of_whole_products() {
        assert_eq!(ceil(4.0 * 70.0 / 70.0), 4);
        assert_eq!(ceil(4.0 * 70.1 / 70.0), 5);
        assert_eq!(ceil(0.0), 0);
    }
}
