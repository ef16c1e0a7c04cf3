//! `[[clients]]`: names, ports, round-trip times, and arrival processes (Poisson,
//! deterministic, a rate schedule, or a replayed trace).

use super::{Ctx, MAX_CLIENTS, MAX_RATE_RPS, PortIndex};
use crate::engine::{SimDuration, SimTime};
use crate::model::{
    ArrivalSpec, ClientSpec, DEFAULT_REQUEST_SIZE, DEFAULT_RESPONSE_SIZE, DistSpec, RateProfile,
    RateSegment,
};
use crate::scenario::file::{
    ArrivalsSection, ByteAmount, ClientSection, Dur, MemoryDistSection, RequestCount, Shape,
};
use crate::scenario::trace;

/// Stands in for arrivals that could not be resolved (the scenario is rejected anyway).
const FALLBACK: ArrivalSpec = ArrivalSpec::Poisson { rate_rps: 1.0 };

/// Checks `[[clients]]`; `ports` maps listener ports to listener indices; `run` is the
/// simulated duration (a trace that ends before it is a warning).
pub(super) fn resolve(
    ctx: &mut Ctx,
    clients: &[ClientSection],
    ports: &PortIndex,
    run: SimDuration,
) -> Vec<ClientSpec> {
    if clients.is_empty() || clients.len() > MAX_CLIENTS {
        ctx.bad("clients", format!("needs 1–{MAX_CLIENTS} [[clients]]"));
    }
    ctx.unique(
        "client",
        clients
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("clients.{i}.name"), c.name.as_str())),
    );
    clients
        .iter()
        .enumerate()
        .map(|(i, c)| client(ctx, i, c, ports, run))
        .collect()
}

/// Checks client `i`.
fn client(
    ctx: &mut Ctx,
    i: usize,
    c: &ClientSection,
    ports: &PortIndex,
    run: SimDuration,
) -> ClientSpec {
    let p = format!("clients.{i}");
    ctx.name(&format!("{p}.name"), &c.name, "client", 64, true);
    let listener = match c.port {
        None => 0,
        Some(port) => match ports.get(&port) {
            Some(&l) => l,
            None => {
                ctx.bad(format!("{p}.port"), format!("no listener on port {port}"));
                0
            }
        },
    };
    let (requests, source_ips) = super::rules::mix(ctx, &p, &c.requests, &c.source_ips);
    let arrivals = arrivals(ctx, &format!("{p}.arrivals"), &c.arrivals, run);
    let sessions = match &c.sessions {
        None => 0,
        Some(_) if matches!(arrivals, ArrivalSpec::ClosedLoop(_)) => {
            ctx.bad(
                format!("{p}.sessions"),
                "closed-loop users are sessions already: remove `sessions` (or use an open arrival process)",
            );
            0
        }
        Some(sc) => users(ctx, &format!("{p}.sessions.count"), sc.count, "sessions"),
    };
    let keep_alive = c.keep_alive.as_ref().map(|k| {
        if !(1..=1_000_000).contains(&k.requests) {
            ctx.bad(
                format!("{p}.keep_alive.requests"),
                format!("{}: allowed 1–1000000", k.requests),
            );
        }
        if k.idle.0 > crate::engine::SimDuration::from_secs(86_400) {
            ctx.bad(format!("{p}.keep_alive.idle"), "too long; allowed 0s–1d");
        }
        (
            k.requests.clamp(1, 1_000_000) as u32,
            k.idle.0.min(crate::engine::SimDuration::from_secs(86_400)),
        )
    });
    let tls = c.tls_handshake_round_trips.unwrap_or(1);
    if !(1..=2).contains(&tls) {
        ctx.bad(
            format!("{p}.tls_handshake_round_trips"),
            format!("{tls}: allowed 1 (TLS 1.3) or 2 (TLS 1.2)"),
        );
    }
    let websocket = c
        .websocket
        .as_ref()
        .map(|w| ctx.required_delay(&format!("{p}.websocket.duration"), &w.duration));
    let timeout = c.timeout.map(|t| {
        use crate::model::clients::timeout::{MAX_TIMEOUT, MIN_TIMEOUT};
        if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&t.0) {
            ctx.bad(format!("{p}.timeout"), format!("{}: allowed 1ms–1h", t.0));
        }
        if websocket.is_some() {
            ctx.bad(
                format!("{p}.timeout"),
                "does not apply to a WebSocket client (`websocket` is set): remove one",
            );
        }
        t.0.clamp(MIN_TIMEOUT, MAX_TIMEOUT)
    });
    ClientSpec {
        requests,
        source_ips,
        timeout: if websocket.is_some() { None } else { timeout },
        websocket,
        keep_alive,
        tls_handshake_round_trips: tls.clamp(1, 2) as u8,
        name: c.name.clone(),
        arrivals,
        sessions,
        rtt: ctx.delay(&format!("{p}.rtt"), &c.rtt),
        listener,
        request_size: size(
            ctx,
            &format!("{p}.request_size"),
            &c.request_size,
            DEFAULT_REQUEST_SIZE,
        ),
        response_size: size(
            ctx,
            &format!("{p}.response_size"),
            &c.response_size,
            DEFAULT_RESPONSE_SIZE,
        ),
    }
}

/// Checks an optional request or response size at `path` (unset: `default` bytes).
fn size(ctx: &mut Ctx, path: &str, s: &Option<ByteAmount>, default: u64) -> DistSpec {
    match s {
        None => DistSpec::Deterministic(SimDuration(default)),
        Some(b) => ctx.byte_amount(path, b, default),
    }
}

/// Checks an `arrivals` table at `path`; `run` is the simulated duration.
fn arrivals(ctx: &mut Ctx, path: &str, a: &ArrivalsSection, run: SimDuration) -> ArrivalSpec {
    match a {
        ArrivalsSection::Poisson { rate_rps } => {
            rate(ctx, path, *rate_rps);
            ArrivalSpec::Poisson {
                rate_rps: *rate_rps,
            }
        }
        ArrivalsSection::Deterministic { rate_rps } => {
            rate(ctx, path, *rate_rps);
            ArrivalSpec::Deterministic {
                rate_rps: *rate_rps,
            }
        }
        ArrivalsSection::Schedule {
            shape,
            points,
            repeat,
        } => schedule(ctx, path, *shape, points, *repeat),
        ArrivalsSection::ClosedLoop {
            users: n,
            think_time,
            session_length,
        } => ArrivalSpec::ClosedLoop(crate::model::ClosedLoopSpec {
            users: users(ctx, &format!("{path}.users"), *n, "users"),
            think_time: ctx.required_delay(&format!("{path}.think_time"), think_time),
            session_length: session_length
                .as_ref()
                .map(|l| requests(ctx, &format!("{path}.session_length"), l)),
        }),
        ArrivalsSection::Trace {
            file,
            scale,
            start,
            duration,
            looped,
        } => {
            ctx.positive_finite(&format!("{path}.scale"), *scale, 1e6, "(a multiplier)");
            if let Some(d) = duration
                && d.0.is_zero()
            {
                ctx.bad(
                    format!("{path}.duration"),
                    "must be > 0 (or omitted: to the end of the trace)",
                );
                return FALLBACK;
            }
            let full = ctx.base.join(file);
            let t = match trace::read_trace(&full) {
                Ok(t) => t,
                Err(e) => {
                    ctx.bad_data(format!("{path}.file"), &e);
                    return FALLBACK;
                }
            };
            let peak = t.rps.iter().copied().fold(0.0, f64::max);
            if peak * scale > MAX_RATE_RPS {
                ctx.bad(
                    format!("{path}.scale"),
                    format!(
                        "{scale}: the trace's highest rate {peak} requests/s × scale = {} requests/s, above the cap of {MAX_RATE_RPS} requests/s",
                        peak * scale
                    ),
                );
                return FALLBACK;
            }
            match trace::window(&t, start.0, duration.map(|d| d.0), *scale, *looped) {
                Ok(p) => {
                    let covered = p
                        .segments
                        .last()
                        .map_or(SimDuration::ZERO, |s| s.end - SimTime::ZERO);
                    if !looped && covered < run {
                        ctx.warnings.push(format!(
                            "{}: the trace covers 0–{} of the {} run ({path}); the rate is 0 after {} (set loop = true to repeat it)",
                            full.display(),
                            covered,
                            run,
                            covered
                        ));
                    }
                    ArrivalSpec::Profile(p)
                }
                Err(m) => {
                    ctx.bad(format!("{path}.start"), m);
                    FALLBACK
                }
            }
        }
    }
}

/// Checks a number of users or sessions at `path`: 1 to [`MAX_USERS`](crate::model::MAX_USERS).
fn users(ctx: &mut Ctx, path: &str, n: i64, what: &str) -> u32 {
    let max = crate::model::MAX_USERS;
    if !(1..=i64::from(max)).contains(&n) {
        ctx.bad(path, format!("{n}: allowed 1–{max} {what}"));
        return 1;
    }
    n as u32
}

/// The most requests per session.
const MAX_SESSION_REQUESTS: f64 = 1e9;

/// Checks a number of requests per session at `path` (a number ≥ 1, or a distribution
/// whose mean is ≥ 1) and resolves it into a distribution whose nanoseconds are requests.
fn requests(ctx: &mut Ctx, path: &str, r: &RequestCount) -> DistSpec {
    let n = |ctx: &mut Ctx, path: &str, v: f64, low: f64| -> SimDuration {
        if !(v.is_finite() && v >= low && v <= MAX_SESSION_REQUESTS) {
            ctx.bad(
                path,
                format!("{v}: must be ≥ {low} and ≤ {MAX_SESSION_REQUESTS} requests"),
            );
            return SimDuration(1);
        }
        SimDuration(v.round() as u64)
    };
    match r {
        RequestCount::Constant(v) => DistSpec::Deterministic(n(ctx, path, *v, 1.0)),
        RequestCount::Dist(d) => match d {
            MemoryDistSection::Deterministic { value } => {
                DistSpec::Deterministic(n(ctx, &format!("{path}.value"), *value, 1.0))
            }
            MemoryDistSection::Exponential { mean } => DistSpec::Exponential {
                mean: n(ctx, &format!("{path}.mean"), *mean, 1.0),
            },
            MemoryDistSection::Uniform { min, max } => {
                let lo = n(ctx, &format!("{path}.min"), *min, 1.0);
                let hi = n(ctx, &format!("{path}.max"), *max, 1.0);
                if max < min {
                    ctx.bad(
                        format!("{path}.max"),
                        format!("{max} is below min = {min}: need min ≤ max"),
                    );
                }
                DistSpec::Uniform { min: lo, max: hi }
            }
            MemoryDistSection::Lognormal { mean, cv } => {
                ctx.cv(path, *cv);
                DistSpec::LogNormal {
                    mean: n(ctx, &format!("{path}.mean"), *mean, 1.0),
                    cv: *cv,
                }
            }
            MemoryDistSection::Gamma { mean, cv } => {
                ctx.cv(path, *cv);
                DistSpec::Gamma {
                    mean: n(ctx, &format!("{path}.mean"), *mean, 1.0),
                    cv: *cv,
                }
            }
            MemoryDistSection::Pareto { mean, alpha } => {
                ctx.alpha(path, *alpha);
                DistSpec::Pareto {
                    mean: n(ctx, &format!("{path}.mean"), *mean, 1.0),
                    alpha: *alpha,
                }
            }
        },
    }
}

/// Checks a constant arrival rate (Poisson or deterministic) at `{path}.rate_rps`.
fn rate(ctx: &mut Ctx, path: &str, rate_rps: f64) {
    ctx.positive_finite(
        &format!("{path}.rate_rps"),
        rate_rps,
        MAX_RATE_RPS,
        "requests/s",
    );
}

/// Checks a rate schedule: at least one point, the first at 0s, rates in range, times
/// increasing, and two points or more to repeat.
fn schedule(
    ctx: &mut Ctx,
    path: &str,
    shape: Shape,
    points: &[(Dur, f64)],
    repeat: bool,
) -> ArrivalSpec {
    let pp = format!("{path}.points");
    if points.is_empty() {
        ctx.bad(
            pp,
            "needs at least one [time, rps] point, starting at \"0s\"",
        );
        return FALLBACK;
    }
    if !points[0].0.0.is_zero() {
        ctx.bad(format!("{pp}.0"), "the first point must be at \"0s\"");
    }
    let mut ok = true;
    for (i, (t, r)) in points.iter().enumerate() {
        if !(r.is_finite() && *r >= 0.0 && *r <= MAX_RATE_RPS) {
            ctx.bad(
                format!("{pp}.{i}"),
                format!(
                    "rate {}: must be ≥ 0 and ≤ {MAX_RATE_RPS} requests/s",
                    trace::short(*r)
                ),
            );
            ok = false;
        }
        if i > 0 && t.0 <= points[i - 1].0.0 {
            ctx.bad(
                format!("{pp}.{i}"),
                format!(
                    "time {} is not after the previous point's {}: times must increase",
                    t.0,
                    points[i - 1].0.0
                ),
            );
            ok = false;
        }
    }
    if repeat && points.len() < 2 {
        ctx.bad(
            format!("{path}.repeat"),
            "a repeating schedule needs at least two points (the last one's time is the period)",
        );
        ok = false;
    }
    if !ok {
        return FALLBACK;
    }
    ArrivalSpec::Profile(schedule_profile(shape, points, repeat))
}

/// The rate profile of a schedule. Step: each rate holds until the next point; the last
/// one holds to the end, or to the last point's time when repeating. Linear: rates are
/// interpolated between points; the last one holds after the last point.
fn schedule_profile(shape: Shape, points: &[(Dur, f64)], repeat: bool) -> RateProfile {
    let mut segs = Vec::new();
    for w in points.windows(2) {
        let ((t0, r0), (t1, r1)) = (w[0], w[1]);
        segs.push(RateSegment {
            start: SimTime::ZERO + t0.0,
            end: SimTime::ZERO + t1.0,
            rate_start_rps: r0,
            rate_end_rps: if shape == Shape::Linear { r1 } else { r0 },
        });
    }
    let (tl, rl) = points[points.len() - 1];
    if !repeat {
        segs.push(RateSegment {
            start: SimTime::ZERO + tl.0,
            end: SimTime::MAX,
            rate_start_rps: rl,
            rate_end_rps: rl,
        });
    }
    RateProfile {
        segments: segs.into(),
        period: repeat.then_some(tl.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    /// A one-client scenario with the given `arrivals` table.
    fn load(arrivals: &str) -> Result<crate::scenario::Scenario, crate::scenario::ScenarioErrors> {
        let text = format!(
            r#"
            simulation = {{ duration = "10s" }}
            clients = [{{ name = "c", arrivals = {arrivals} }}]
            load_balancer = {{ listeners = [{{ port = 80, default_action = {{ type = "forward", target_group = "tg" }} }}] }}
            target_groups = [{{ name = "tg" }}]
            services = [{{ name = "s", target_group = "tg", desired_count = 1, request = {{ cpu_time = "1ms" }} }}]
            "#
        );
        crate::scenario::load_str(std::path::Path::new("t.toml"), &text, &[])
    }

    #[test]
    fn deterministic_arrivals_resolve_and_their_rate_is_checked() {
        let s = load(r#"{ process = "deterministic", rate_rps = 10.0 }"#).unwrap();
        assert!(matches!(
            s.spec.clients[0].arrivals,
            ArrivalSpec::Deterministic { rate_rps } if rate_rps == 10.0
        ));
        for bad in ["0.0", "-1.0", "1e8"] {
            let e = load(&format!(
                r#"{{ process = "deterministic", rate_rps = {bad} }}"#
            ))
            .unwrap_err();
            assert_eq!(e.0.len(), 1, "{e}");
            assert_eq!(
                e.0[0].field.as_deref(),
                Some("clients.0.arrivals.rate_rps"),
                "{e}"
            );
            assert!(
                e.0[0]
                    .message
                    .contains("must be > 0 and ≤ 10000000 requests/s"),
                "{e}"
            );
        }
    }

    #[test]
    fn step_schedule_holds_last_rate() {
        let p = schedule_profile(
            Shape::Step,
            &[
                (Dur(SimDuration::ZERO), 5.0),
                (Dur(SimDuration::from_secs(10)), 7.0),
            ],
            false,
        );
        assert_eq!(p.segments.len(), 2);
        assert_eq!(p.segments[0].rate_end_rps, 5.0);
        assert_eq!(p.segments[1].end, SimTime::MAX);
        assert_eq!(p.period, None);
    }
}
