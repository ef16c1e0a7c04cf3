//! `[load_balancer]` and `[[load_balancer.listeners]]`: type, name, processing time, idle
//! timeout, listener ports, protocols and default actions.

use super::{Ctx, IDLE_TIMEOUT, MAX_LISTENERS, PortIndex, TargetGroupIndex};
use crate::model::{ActionSpec, ListenerSpec, LoadBalancerSpec};
use crate::scenario::file::{ActionSection, ListenerSection, LoadBalancerSection};

/// Longest `load_balancer.fin_propagation` (lbsim's bound: a second is far beyond any trip
/// inside a Region).
const MAX_FIN_PROPAGATION: crate::engine::SimDuration = crate::engine::SimDuration::from_secs(1);

/// Checks `[load_balancer]`; returns its spec and the listeners' indices by port (for the
/// clients that name a port).
pub(super) fn resolve(
    ctx: &mut Ctx,
    lb: &LoadBalancerSection,
    tg_index: &TargetGroupIndex,
) -> (LoadBalancerSpec, PortIndex) {
    if lb.kind != "application" {
        ctx.bad(
            "load_balancer.type",
            format!(
                "\"{}\": only \"application\" (an ALB) is supported",
                lb.kind
            ),
        );
    }
    ctx.name("load_balancer.name", &lb.name, "load balancer", 32, false);
    if lb.listeners.is_empty() || lb.listeners.len() > MAX_LISTENERS {
        ctx.bad("load_balancer.listeners", format!("needs 1–{MAX_LISTENERS} listeners (ALB quota), e.g. [[load_balancer.listeners]] port = 80"));
    }
    let mut ports = PortIndex::new();
    let listeners = lb
        .listeners
        .iter()
        .enumerate()
        .map(|(i, l)| listener(ctx, i, l, &mut ports, tg_index))
        .collect();
    let processing_time = ctx.delay("load_balancer.processing_time", &lb.processing_time);
    ctx.signed_seconds_in(
        "load_balancer.idle_timeout",
        lb.idle_timeout,
        IDLE_TIMEOUT.0,
        IDLE_TIMEOUT.1,
        "AWS idle_timeout.timeout_seconds",
    );
    let fin_propagation = lb
        .fin_propagation
        .map_or(crate::model::DEFAULT_FIN_PROPAGATION, |d| d.0);
    if fin_propagation > MAX_FIN_PROPAGATION {
        ctx.bad(
            "load_balancer.fin_propagation",
            format!(
                "{}: too long; allowed 0s–1s (an lbsim parameter, not an AWS setting: a one-way trip inside a Region, about 1ms)",
                super::secs(fin_propagation)
            ),
        );
    }
    let spec = LoadBalancerSpec {
        name: lb.name.clone(),
        processing_time,
        listeners,
        idle_timeout: lb.idle_timeout.magnitude,
        fin_propagation: fin_propagation.min(MAX_FIN_PROPAGATION),
    };
    (spec, ports)
}

/// Checks listener `i` and records its port in `ports`.
fn listener(
    ctx: &mut Ctx,
    i: usize,
    l: &ListenerSection,
    ports: &mut PortIndex,
    tg_index: &TargetGroupIndex,
) -> ListenerSpec {
    let p = format!("load_balancer.listeners.{i}");
    if l.port == 0 {
        ctx.bad(format!("{p}.port"), "0: must be 1–65535");
    }
    if ports.insert(l.port, i).is_some() {
        ctx.bad(
            format!("{p}.port"),
            format!("port {} is used by two listeners", l.port),
        );
    }
    if l.protocol != "HTTP" && l.protocol != "HTTPS" {
        ctx.bad(
            format!("{p}.protocol"),
            format!("\"{}\": must be \"HTTP\" or \"HTTPS\"", l.protocol),
        );
    }
    let ActionSection::Forward { target_group } = &l.default_action;
    let tg = ctx.target_group(
        &format!("{p}.default_action.target_group"),
        target_group,
        tg_index,
    );
    ListenerSpec {
        port: l.port,
        protocol: l.protocol.clone(),
        default_action: ActionSpec::Forward { target_group: tg },
    }
}
