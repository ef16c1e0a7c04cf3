//! `type = "network"` (a Network Load Balancer): what an NLB has that an ALB has not
//! (TCP health checks, `connection_termination`, its idle timeout's range, cross-zone off by
//! default) and what it has not (HTTP rules and actions, routing algorithms, slow start,
//! stickiness by cookie, WebSockets as such). Sources: the NLB user guide
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/>), `aws-behaviour.md`
//! §1, §2.1, §3.4; the model is `model::elb::network`.

use super::{Ctx, secs};
use crate::engine::SimDuration;
use crate::model::{Algorithm, LoadBalancerSpec, TargetGroupSpec};
use crate::scenario::file::{ActionSection, ScenarioFile};

/// Shortest and longest NLB TCP idle timeout (AWS `tcp.idle_timeout.seconds`: 60–6000 s).
pub const IDLE_TIMEOUT: (SimDuration, SimDuration) =
    (SimDuration::from_secs(60), SimDuration::from_secs(6000));

/// The NLB's default TCP idle timeout: 350 s
/// (<https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html>).
pub const DEFAULT_IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(350);

/// The default `HealthCheckTimeoutSeconds` of a TCP health check: 10 s (AWS
/// `CreateTargetGroup`: "For target groups with a protocol of TCP, TLS or HTTPS, the default
/// is 10 seconds").
pub const TCP_HEALTH_CHECK_TIMEOUT: SimDuration = SimDuration::from_secs(10);

/// Checks the NLB-only and ALB-only fields of `file` against `lb.network`, and completes
/// the target groups' specs (TCP health checks, `connection_termination`).
pub(super) fn check(
    ctx: &mut Ctx,
    file: &ScenarioFile,
    lb: &LoadBalancerSpec,
    groups: &mut [TargetGroupSpec],
) {
    let network = lb.network;
    for (i, (t, spec)) in file.target_groups.iter().zip(groups.iter_mut()).enumerate() {
        let p = format!("target_groups.{i}");
        let h = &t.health_check;
        let tcp = match h.protocol.as_deref() {
            None => network,
            Some("HTTP") => false,
            Some("TCP") if network => true,
            Some("TCP") => {
                ctx.bad(
                    format!("{p}.health_check.protocol"),
                    "\"TCP\": an ALB target group checks over HTTP; TCP health checks need type = \"network\"",
                );
                false
            }
            Some(other) => {
                ctx.bad(
                    format!("{p}.health_check.protocol"),
                    format!("\"{other}\": allowed \"HTTP\" or \"TCP\" (AWS HealthCheckProtocol; TCP with type = \"network\")"),
                );
                false
            }
        };
        if tcp {
            for (field, set) in [("path", h.path.is_some()), ("matcher", h.matcher.is_some())] {
                if set {
                    ctx.bad(
                        format!("{p}.health_check.{field}"),
                        "not with a TCP health check (the NLB default): it opens a connection and sends no HTTP request; set health_check.protocol = \"HTTP\" to check a path",
                    );
                }
            }
            spec.health_check.tcp = true;
            if h.timeout.is_none() && spec.health_check.interval > TCP_HEALTH_CHECK_TIMEOUT {
                spec.health_check.timeout = TCP_HEALTH_CHECK_TIMEOUT;
            }
        }
        match t.connection_termination {
            Some(_) if !network => ctx.bad(
                format!("{p}.connection_termination"),
                "only with type = \"network\" (an NLB target group attribute; an ALB has none)",
            ),
            Some(on) => spec.connection_termination = on,
            None => {}
        }
        if !network {
            continue;
        }
        let nlb = "an NLB (type = \"network\")";
        if spec.algorithm != Algorithm::RoundRobin {
            ctx.bad(
                format!("{p}.algorithm"),
                format!(
                    "\"{}\": {nlb} has no routing algorithm: it binds each connection to a target by a flow hash; leave algorithm out",
                    spec.algorithm.name()
                ),
            );
        }
        if !spec.slow_start.is_zero() {
            ctx.bad(
                format!("{p}.slow_start"),
                format!(
                    "{}: {nlb} has no slow start; leave it out",
                    secs(spec.slow_start)
                ),
            );
        }
        if t.stickiness.is_some() {
            ctx.bad(
                format!("{p}.stickiness"),
                format!("{nlb} has no cookie stickiness (its source-IP stickiness is not modelled); leave it out"),
            );
        }
        if t.anomaly_mitigation.is_some() || t.anomaly_mitigation_parameters.is_some() {
            ctx.bad(
                format!("{p}.anomaly_mitigation"),
                format!("{nlb} has no anomaly mitigation (an ALB weighted_random feature)"),
            );
        }
    }
    if !network {
        return;
    }
    for (i, l) in file.load_balancer.listeners.iter().enumerate() {
        let p = format!("load_balancer.listeners.{i}");
        if !l.rules.is_empty() {
            ctx.bad(
                format!("{p}.rules"),
                "an NLB listener has no rules (no HTTP: it forwards TCP connections); leave them out",
            );
        }
        match &l.default_action {
            ActionSection::Forward {
                target_group: Some(_),
                target_groups: None,
                stickiness: None,
            } => {}
            ActionSection::Forward { .. } => ctx.bad(
                format!("{p}.default_action"),
                "an NLB listener forwards to one target group: { type = \"forward\", target_group = \"NAME\" }",
            ),
            _ => ctx.bad(
                format!("{p}.default_action.type"),
                "an NLB listener only forwards (no redirect nor fixed_response: those are HTTP); { type = \"forward\", target_group = \"NAME\" }",
            ),
        }
    }
    for (i, c) in file.clients.iter().enumerate() {
        if c.websocket.is_some() {
            ctx.bad(
                format!("clients.{i}.websocket"),
                "not with type = \"network\": lbsim models WebSockets through an ALB only",
            );
        }
        if c.timeout.is_some() {
            ctx.bad(
                format!("clients.{i}.timeout"),
                "not with type = \"network\": a client that gives up is an ALB's 460; lbsim models client timeouts through an ALB or direct discovery only",
            );
        }
    }
    for (i, s) in file.services.iter().enumerate() {
        if s.keep_alive_timeout.is_some() {
            ctx.warnings.push(format!(
                "services.{i}.keep_alive_timeout is ignored with type = \"network\": an NLB passes the client's connection through, it keeps no connection of its own to the target"
            ));
        }
    }
    if file.load_balancer.processing_time.is_some() {
        ctx.warnings.push(
            "load_balancer.processing_time is ignored with type = \"network\": an NLB forwards packets, it does not parse requests"
                .into(),
        );
    }
}
