//! `[[target_groups]]`: names (AWS rules), routing algorithms, deregistration delays and
//! health checks (AWS's ranges; the timeout below the interval; the matcher's codes).

use super::{
    Ctx, HEALTH_CHECK_CODES, HEALTH_CHECK_INTERVAL, HEALTH_CHECK_THRESHOLD, HEALTH_CHECK_TIMEOUT,
    INITIAL_PASSES, MAX_DEREGISTRATION_DELAY, MAX_HEALTH_CHECK_PATH, MAX_PROPAGATION_LAG,
    MAX_TARGET_GROUPS, SLOW_START, TargetGroupIndex, secs,
};
use crate::engine::SimDuration;
use crate::model::{Algorithm, AnomalyMitigationSpec, HealthCheckSpec, TargetGroupSpec};
use crate::scenario::file::{HealthCheckSection, InitialPasses, TargetGroupSection};

/// Checks `[[target_groups]]`; returns their specs and their indices by name (for the
/// listeners and services that refer to them).
pub(super) fn resolve(
    ctx: &mut Ctx,
    groups: &[TargetGroupSection],
) -> (Vec<TargetGroupSpec>, TargetGroupIndex) {
    if groups.is_empty() || groups.len() > MAX_TARGET_GROUPS {
        ctx.bad(
            "target_groups",
            format!("needs 1–{MAX_TARGET_GROUPS} target groups (ALB quota)"),
        );
    }
    let index = ctx.unique(
        "target group",
        groups
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("target_groups.{i}.name"), t.name.as_str())),
    );
    let specs = groups
        .iter()
        .enumerate()
        .map(|(i, t)| target_group(ctx, i, t))
        .collect();
    (specs, index)
}

/// Checks target group `i`.
fn target_group(ctx: &mut Ctx, i: usize, t: &TargetGroupSection) -> TargetGroupSpec {
    ctx.name(
        &format!("target_groups.{i}.name"),
        &t.name,
        "target group",
        32,
        false,
    );
    let algorithm = match Algorithm::ALL.iter().find(|a| a.name() == t.algorithm) {
        Some(a) => *a,
        None => {
            let names: Vec<_> = Algorithm::ALL.iter().map(|a| a.name()).collect();
            ctx.bad(
                format!("target_groups.{i}.algorithm"),
                format!(
                    "unknown algorithm \"{}\"; allowed: {}",
                    t.algorithm,
                    names.join(", ")
                ),
            );
            Algorithm::RoundRobin
        }
    };
    ctx.whole_seconds(
        &format!("target_groups.{i}.deregistration_delay"),
        t.deregistration_delay.0,
        MAX_DEREGISTRATION_DELAY,
        "AWS deregistration_delay.timeout_seconds",
    );
    let health_check = health_check(
        ctx,
        &format!("target_groups.{i}.health_check"),
        &t.health_check,
    );
    let slow_start = slow_start(ctx, i, t, algorithm);
    let lag = t
        .deregistration_propagation_lag
        .map_or(crate::engine::SimDuration::ZERO, |d| d.0);
    if lag > MAX_PROPAGATION_LAG {
        ctx.bad(
            format!("target_groups.{i}.deregistration_propagation_lag"),
            format!(
                "{}: too long; allowed 0s–{} (an lbsim parameter, not an AWS setting: users report a few seconds)",
                secs(lag),
                secs(MAX_PROPAGATION_LAG)
            ),
        );
    }
    let port = match t.port {
        None => crate::model::DEFAULT_TARGET_PORT,
        Some(p) if (1..=65535).contains(&p) => p as u16,
        Some(p) => {
            ctx.bad(
                format!("target_groups.{i}.port"),
                format!("{p}: allowed 1–65535 (AWS target group Port)"),
            );
            crate::model::DEFAULT_TARGET_PORT
        }
    };
    let anomaly_mitigation = anomaly_mitigation(ctx, i, t, algorithm);
    let response_time_decay = response_time_decay(ctx, i, t, algorithm);
    TargetGroupSpec {
        name: t.name.clone(),
        algorithm,
        deregistration_delay: t.deregistration_delay.0,
        health_check,
        slow_start,
        deregistration_propagation_lag: lag.min(MAX_PROPAGATION_LAG),
        port,
        anomaly_mitigation,
        response_time_decay,
        stickiness: super::stickiness::resolve(
            ctx,
            &format!("target_groups.{i}.stickiness"),
            &t.stickiness,
        ),
        cross_zone: cross_zone(ctx, i, t),
        // Set by `nlb::check` (an NLB attribute).
        connection_termination: false,
    }
}

/// Checks target group `i`'s `cross_zone`: `true`, `false` or
/// `"use_load_balancer_configuration"` (AWS's values of
/// `load_balancing.cross_zone.enabled`; `None` for the last, the default).
fn cross_zone(ctx: &mut Ctx, i: usize, t: &TargetGroupSection) -> Option<bool> {
    use crate::scenario::file::CrossZone;
    match &t.cross_zone {
        None => None,
        Some(CrossZone::Enabled(b)) => Some(*b),
        Some(CrossZone::Text(v)) => match v.as_str() {
            "use_load_balancer_configuration" => None,
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                ctx.bad(
                    format!("target_groups.{i}.cross_zone"),
                    format!(
                        "\"{v}\": allowed true, false or \"use_load_balancer_configuration\" (AWS load_balancing.cross_zone.enabled)"
                    ),
                );
                None
            }
        },
    }
}

/// The range of `response_time_decay` (lbsim's).
const RESPONSE_TIME_DECAY: (SimDuration, SimDuration) =
    (SimDuration::from_millis(100), SimDuration::from_secs(3600));

/// Checks target group `i`'s `response_time_decay`: 100 ms–1 h, only with
/// `least_response_time`.
fn response_time_decay(
    ctx: &mut Ctx,
    i: usize,
    t: &TargetGroupSection,
    algorithm: Algorithm,
) -> SimDuration {
    let Some(d) = t.response_time_decay.map(|d| d.0) else {
        return crate::model::DEFAULT_RESPONSE_TIME_DECAY;
    };
    let p = format!("target_groups.{i}.response_time_decay");
    let (lo, hi) = RESPONSE_TIME_DECAY;
    if algorithm != Algorithm::LeastResponseTime {
        ctx.bad(
            p,
            format!(
                "only with algorithm = \"least_response_time\" (this group's is \"{}\"): remove it or change the algorithm",
                algorithm.name()
            ),
        );
    } else if d < lo || d > hi {
        ctx.bad(
            p,
            format!(
                "{}: allowed {}–{} (the decay time of the latency average; an lbsim parameter, Finagle's decayTime, default 10s)",
                secs(d),
                secs(lo),
                secs(hi)
            ),
        );
    } else {
        return d;
    }
    crate::model::DEFAULT_RESPONSE_TIME_DECAY
}

/// Checks target group `i`'s `anomaly_mitigation` (only with `weighted_random`, as AWS:
/// "anomaly mitigation is supported only by the weighted random routing algorithm") and its
/// `anomaly_mitigation_parameters` (lbsim's ranges).
fn anomaly_mitigation(
    ctx: &mut Ctx,
    i: usize,
    t: &TargetGroupSection,
    algorithm: Algorithm,
) -> Option<AnomalyMitigationSpec> {
    let on = t.anomaly_mitigation.unwrap_or(false);
    let p = format!("target_groups.{i}");
    if on && algorithm != Algorithm::WeightedRandom {
        ctx.bad(
            format!("{p}.anomaly_mitigation"),
            format!(
                "only with algorithm = \"weighted_random\" (this group's is \"{}\"; AWS load_balancing.algorithm.anomaly_mitigation exists only with weighted_random)",
                algorithm.name()
            ),
        );
        return None;
    }
    let Some(a) = &t.anomaly_mitigation_parameters else {
        return on.then(AnomalyMitigationSpec::default);
    };
    let pp = format!("{p}.anomaly_mitigation_parameters");
    if !on {
        ctx.bad(
            pp,
            "only with anomaly_mitigation = true: set it, or remove these parameters",
        );
        return None;
    }
    let d = AnomalyMitigationSpec::default();
    let interval = match a.interval.map(|v| v.0) {
        None => d.interval,
        Some(v) if v >= SimDuration::from_secs(1) && v <= SimDuration::from_secs(600) => v,
        Some(v) => {
            ctx.bad(
                format!("{pp}.interval"),
                format!("{}: allowed 1s–10m (an lbsim parameter)", secs(v)),
            );
            d.interval
        }
    };
    let min_requests = match a.min_requests {
        None => d.min_requests,
        Some(n) if (1..=100_000).contains(&n) => n as u32,
        Some(n) => {
            ctx.bad(
                format!("{pp}.min_requests"),
                format!("{n}: allowed 1–100000 (an lbsim parameter)"),
            );
            d.min_requests
        }
    };
    let mut real =
        |field: &str, v: Option<f64>, default: f64, ok: fn(f64) -> bool, allowed: &str| match v {
            None => default,
            Some(x) if x.is_finite() && ok(x) => x,
            Some(x) => {
                ctx.bad(
                    format!("{pp}.{field}"),
                    format!("{x}: allowed {allowed} (an lbsim parameter)"),
                );
                default
            }
        };
    let margin = real(
        "margin",
        a.margin,
        d.margin,
        |x| (0.0..=1.0).contains(&x),
        "0–1",
    );
    let factor = real(
        "factor",
        a.factor,
        d.factor,
        |x| (1.0..=1000.0).contains(&x),
        "1–1000",
    );
    let cut = real(
        "cut",
        a.cut,
        d.cut,
        |x| x > 0.0 && x < 1.0,
        "above 0 and below 1",
    );
    let floor = real(
        "floor",
        a.floor,
        d.floor,
        |x| (0.001..=1.0).contains(&x),
        "0.001–1",
    );
    let restore = real(
        "restore",
        a.restore,
        d.restore,
        |x| x > 1.0 && x <= 100.0,
        "above 1, at most 100",
    );
    Some(AnomalyMitigationSpec {
        interval,
        min_requests,
        margin,
        factor,
        cut,
        floor,
        restore,
    })
}

/// Checks target group `i`'s `slow_start`: 0 (off), or 30–900 whole seconds with an
/// algorithm that can ramp. AWS rejects slow start with `least_outstanding_requests`
/// ("You can't enable slow start mode with least outstanding requests") and with
/// `weighted_random` (its AWS page lists slow start among what it does not support;
/// aws-behaviour §3.1 marks this unverified, and lbsim follows the stricter reading);
/// `power_of_two_choices` is load-aware like LOR, so lbsim rejects it too.
fn slow_start(
    ctx: &mut Ctx,
    i: usize,
    t: &TargetGroupSection,
    algorithm: Algorithm,
) -> crate::engine::SimDuration {
    let Some(d) = t.slow_start.map(|d| d.0).filter(|d| !d.is_zero()) else {
        return crate::engine::SimDuration::ZERO;
    };
    let p = format!("target_groups.{i}.slow_start");
    let (lo, hi) = SLOW_START;
    if !ctx.whole_seconds_in(
        &p,
        d,
        lo,
        hi,
        "AWS slow_start.duration_seconds; or \"0s\" to turn slow start off",
    ) {
        return crate::engine::SimDuration::ZERO;
    }
    match algorithm {
        Algorithm::RoundRobin | Algorithm::Random => d,
        other => {
            ctx.bad(
                p,
                format!(
                    "{}: slow start does not work with algorithm = \"{}\" (AWS rejects slow start with least_outstanding_requests and weighted_random); use round_robin or random, or slow_start = \"0s\"",
                    secs(d),
                    other.name()
                ),
            );
            crate::engine::SimDuration::ZERO
        }
    }
}

/// The `matcher` forms, for messages.
const MATCHER_FORMS: &str = "HTTP codes 200–499 written like \"200\", \"200,202\", \"200-299\" or \"200,300-399\" (AWS Matcher.HttpCode)";

/// Checks the `health_check` table at `p`; a field left out takes
/// [`HealthCheckSpec::default`]'s value (AWS's default).
fn health_check(ctx: &mut Ctx, p: &str, h: &HealthCheckSection) -> HealthCheckSpec {
    let d = HealthCheckSpec::default();
    let path = match &h.path {
        None => d.path,
        Some(path) => {
            let allowed = format!(
                "allowed: a path starting with \"/\", at most {MAX_HEALTH_CHECK_PATH} characters (AWS HealthCheckPath)"
            );
            if !path.starts_with('/') {
                ctx.bad(
                    format!("{p}.path"),
                    format!("\"{path}\" does not start with \"/\"; {allowed}"),
                );
            } else if path.chars().count() > MAX_HEALTH_CHECK_PATH {
                ctx.bad(
                    format!("{p}.path"),
                    format!("{} characters: too long; {allowed}", path.chars().count()),
                );
            }
            path.clone()
        }
    };
    let interval = h.interval.map_or(d.interval, |v| v.magnitude);
    let interval_ok = h.interval.is_none_or(|v| {
        let (lo, hi) = HEALTH_CHECK_INTERVAL;
        ctx.signed_seconds_in(
            &format!("{p}.interval"),
            v,
            lo,
            hi,
            "AWS HealthCheckIntervalSeconds",
        )
    });
    let timeout = h.timeout.map_or(d.timeout, |v| v.magnitude);
    let timeout_ok = h.timeout.is_none_or(|v| {
        let (lo, hi) = HEALTH_CHECK_TIMEOUT;
        ctx.signed_seconds_in(
            &format!("{p}.timeout"),
            v,
            lo,
            hi,
            "AWS HealthCheckTimeoutSeconds, and less than the interval",
        )
    });
    if interval_ok && timeout_ok && timeout >= interval {
        let why = "AWS rejects a health check timeout ≥ its interval";
        if h.timeout.is_some() {
            let (lo, hi) = HEALTH_CHECK_TIMEOUT;
            ctx.bad(
                format!("{p}.timeout"),
                format!(
                    "{} is not less than interval = {}: {why}; allowed {}–{} in whole seconds, and less than the interval",
                    secs(timeout),
                    secs(interval),
                    secs(lo),
                    secs(hi)
                ),
            );
        } else {
            let (lo, hi) = HEALTH_CHECK_INTERVAL;
            ctx.bad(
                format!("{p}.interval"),
                format!(
                    "{} is not more than timeout = {} (its default): {why}; allowed {}–{} in whole seconds, and more than the timeout (or set a shorter timeout)",
                    secs(interval),
                    secs(timeout),
                    secs(lo),
                    secs(hi)
                ),
            );
        }
    }
    let (lo, hi) = HEALTH_CHECK_THRESHOLD;
    let mut threshold = |field: &str, v: Option<i64>, what: &str, default: u32| match v {
        None => default,
        Some(n) if (lo..=hi).contains(&n) => n as u32,
        Some(n) => {
            ctx.bad(
                format!("{p}.{field}"),
                format!("{n}: allowed {lo}–{hi} ({what})"),
            );
            default
        }
    };
    let healthy_threshold = threshold(
        "healthy_threshold",
        h.healthy_threshold,
        "AWS HealthyThresholdCount",
        d.healthy_threshold,
    );
    let unhealthy_threshold = threshold(
        "unhealthy_threshold",
        h.unhealthy_threshold,
        "AWS UnhealthyThresholdCount",
        d.unhealthy_threshold,
    );
    let initial_passes = match &h.initial_passes {
        None => d.initial_passes,
        Some(InitialPasses::Count(n)) if INITIAL_PASSES.0 <= *n && *n <= INITIAL_PASSES.1 => {
            *n as u32
        }
        Some(InitialPasses::Named(s)) if s == "healthy_threshold" => healthy_threshold,
        Some(bad) => {
            let (lo, hi) = INITIAL_PASSES;
            let found = match bad {
                InitialPasses::Count(n) => n.to_string(),
                InitialPasses::Named(s) => format!("\"{s}\""),
            };
            ctx.bad(
                format!("{p}.initial_passes"),
                format!(
                    "{found}: allowed {lo}–{hi} or \"healthy_threshold\" (passes a new target needs: an lbsim parameter)"
                ),
            );
            d.initial_passes
        }
    };
    let matcher = match &h.matcher {
        None => d.matcher,
        Some(m) => parse_matcher(&m.0).unwrap_or_else(|e| {
            ctx.bad(
                format!("{p}.matcher"),
                format!("\"{}\": {e}; allowed: {MATCHER_FORMS}", m.0),
            );
            Vec::new()
        }),
    };
    HealthCheckSpec {
        enabled: h.enabled.unwrap_or(d.enabled),
        path,
        interval,
        timeout,
        healthy_threshold,
        unhealthy_threshold,
        matcher,
        initial_passes,
        tcp: false, // set by `nlb::check`
    }
}

/// Parses a `matcher` (`"200"`, `"200,202"`, `"200-299"`, `"200,300-399"`) into inclusive
/// ranges of codes, in the order written.
///
/// # Errors
/// What is wrong, naming the bad part.
fn parse_matcher(s: &str) -> Result<Vec<(u16, u16)>, String> {
    if s.trim().is_empty() {
        return Err("no codes".into());
    }
    let (lo, hi) = HEALTH_CHECK_CODES;
    let code = |c: &str| -> Result<u16, String> {
        let c = c.trim();
        if c.is_empty() || !c.chars().all(|ch| ch.is_ascii_digit()) {
            return Err(format!("\"{c}\" is not an HTTP code"));
        }
        match c.parse::<u16>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => Err(format!("{c} is not a code from {lo} to {hi}")),
        }
    };
    s.split(',')
        .map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return Err("an empty part between commas".to_string());
            }
            match part.split_once('-') {
                None => code(part).map(|c| (c, c)),
                Some((a, b)) => {
                    let (a, b) = (code(a)?, code(b)?);
                    if a > b {
                        return Err(format!(
                            "the range \"{part}\" is reversed: its first code must not be above its last"
                        ));
                    }
                    Ok((a, b))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_matcher;

    #[test]
    fn matchers_are_codes_and_ranges() {
        assert_eq!(parse_matcher("200"), Ok(vec![(200, 200)]));
        assert_eq!(parse_matcher("200,202"), Ok(vec![(200, 200), (202, 202)]));
        assert_eq!(parse_matcher("200-299"), Ok(vec![(200, 299)]));
        assert_eq!(
            parse_matcher(" 200, 300-399 "),
            Ok(vec![(200, 200), (300, 399)])
        );
        assert_eq!(parse_matcher("499-499"), Ok(vec![(499, 499)]));
        for bad in [
            "", "600", "199", "abc", "300-200", "200,", "200-", "-200", "2x0", "99999",
        ] {
            assert!(parse_matcher(bad).is_err(), "{bad}");
        }
        assert!(parse_matcher("200-300-400").is_err());
    }
}
