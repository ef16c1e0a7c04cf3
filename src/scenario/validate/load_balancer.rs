//! `[load_balancer]` and `[[load_balancer.listeners]]`: type, name, processing time, idle
//! timeout, listener ports and protocols; their actions and rules are checked in `rules`.

use super::{Ctx, IDLE_TIMEOUT, MAX_LISTENERS, PortIndex, TargetGroupIndex};
use crate::model::{ListenerSpec, LoadBalancerSpec};
use crate::scenario::file::{ListenerSection, LoadBalancerSection};

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
    let mut listeners: Vec<ListenerSpec> = lb
        .listeners
        .iter()
        .enumerate()
        .map(|(i, l)| listener(ctx, i, l, &mut ports))
        .collect();
    // Actions and rules, once every port is known (a redirect names another listener's).
    for (i, l) in listeners.iter_mut().enumerate() {
        (l.default_action, l.rules) =
            super::rules::listener(ctx, i, &lb.listeners, &ports, tg_index);
    }
    super::rules::total(ctx, &lb.listeners);
    let processing_time = ctx.delay("load_balancer.processing_time", &lb.processing_time);
    ctx.signed_seconds_in(
        "load_balancer.idle_timeout",
        lb.idle_timeout,
        IDLE_TIMEOUT.0,
        IDLE_TIMEOUT.1,
        "AWS idle_timeout.timeout_seconds",
    );
    let spec = LoadBalancerSpec {
        name: lb.name.clone(),
        processing_time,
        listeners,
        idle_timeout: lb.idle_timeout.magnitude,
    };
    (spec, ports)
}

/// Checks listener `i` and records its port in `ports`.
fn listener(ctx: &mut Ctx, i: usize, l: &ListenerSection, ports: &mut PortIndex) -> ListenerSpec {
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
    ListenerSpec {
        port: l.port,
        protocol: l.protocol.clone(),
        ..Default::default()
    }
}
