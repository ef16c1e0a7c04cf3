//! `[load_balancer]` and `[[load_balancer.listeners]]`: type, name, processing time, idle
//! timeout, Availability Zones and cross-zone, direct service discovery, listener ports and
//! protocols; their actions and rules are checked in `rules`.

use super::{Ctx, IDLE_TIMEOUT, MAX_LISTENERS, PortIndex, TargetGroupIndex};
use crate::model::{DiscoverySpec, ListenerSpec, LoadBalancerSpec, MAX_DNS_ANSWERS};
use crate::scenario::file::{ListenerSection, LoadBalancerSection};

/// Longest `load_balancer.fin_propagation` (lbsim's bound: a second is far beyond any trip
/// inside a Region).
const MAX_FIN_PROPAGATION: crate::engine::SimDuration = crate::engine::SimDuration::from_secs(1);

/// Checks `[load_balancer]`; returns its spec and the listeners' indices by port (for the
/// clients that name a port). `zones` lists the network's Availability Zones.
pub(super) fn resolve(
    ctx: &mut Ctx,
    lb: &LoadBalancerSection,
    tg_index: &TargetGroupIndex,
    zones: &[String],
) -> (LoadBalancerSpec, PortIndex) {
    if lb.kind != "application" && lb.kind != "network" && lb.kind != "none" {
        ctx.bad(
            "load_balancer.type",
            format!(
                "\"{}\": allowed \"application\" (an ALB), \"network\" (an NLB) or \"none\" (direct service discovery)",
                lb.kind
            ),
        );
    }
    let network = lb.kind == "network";
    let availability_zones = availability_zones(ctx, lb, zones);
    let discovery = discovery(ctx, lb);
    if lb.cross_zone == Some(false) && lb.kind == "application" {
        ctx.bad(
            "load_balancer.cross_zone",
            "false: an ALB always has cross-zone load balancing on at the load balancer level (AWS); turn it off per target group with target_groups[].cross_zone = false",
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
        .map(|(i, l)| listener(ctx, i, l, &mut ports, network))
        .collect();
    // Actions and rules, once every port is known (a redirect names another listener's).
    for (i, l) in listeners.iter_mut().enumerate() {
        (l.default_action, l.rules) =
            super::rules::listener(ctx, i, &lb.listeners, &ports, tg_index);
    }
    super::rules::total(ctx, &lb.listeners);
    let processing_time = ctx.delay("load_balancer.processing_time", &lb.processing_time);
    let (idle_range, idle_default, idle_what) = if network {
        (
            super::nlb::IDLE_TIMEOUT,
            super::nlb::DEFAULT_IDLE_TIMEOUT,
            "the NLB's TCP idle timeout, AWS tcp.idle_timeout.seconds",
        )
    } else {
        (
            IDLE_TIMEOUT,
            crate::model::DEFAULT_IDLE_TIMEOUT,
            "AWS idle_timeout.timeout_seconds",
        )
    };
    let idle_timeout = lb.idle_timeout.unwrap_or(crate::scenario::file::SignedDur {
        negative: false,
        magnitude: idle_default,
    });
    ctx.signed_seconds_in(
        "load_balancer.idle_timeout",
        idle_timeout,
        idle_range.0,
        idle_range.1,
        idle_what,
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
        idle_timeout: idle_timeout.magnitude,
        availability_zones,
        // An NLB has cross-zone load balancing off by default (aws-behaviour §3.4).
        cross_zone: lb.cross_zone.unwrap_or(!network),
        discovery,
        fin_propagation: fin_propagation.min(MAX_FIN_PROPAGATION),
        network,
    };
    (spec, ports)
}

/// Checks `load_balancer.availability_zones`: distinct zones of the network (not with
/// `type = "none"`); returns their indices among `zones`.
fn availability_zones(ctx: &mut Ctx, lb: &LoadBalancerSection, zones: &[String]) -> Vec<u32> {
    let Some(names) = &lb.availability_zones else {
        return Vec::new();
    };
    let path = "load_balancer.availability_zones";
    if lb.kind == "none" {
        ctx.bad(
            path,
            "not with type = \"none\": there is no load balancer node",
        );
    }
    if names.len() > 32 {
        ctx.bad(
            path,
            format!("{} zones: allowed 1–32 (a load balancer node per zone; AWS Regions have at most 6)", names.len()),
        );
    }
    if names.is_empty() {
        ctx.bad(
            path,
            "empty: list one or more zones of the [[subnets]], or leave it out (one node)",
        );
    }
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match zones.iter().position(|z| z == n) {
            Some(z) if out.contains(&(z as u32)) => {
                ctx.bad(format!("{path}.{i}"), format!("\"{n}\" is listed twice"));
            }
            Some(z) => out.push(z as u32),
            None => ctx.bad(
                format!("{path}.{i}"),
                format!(
                    "\"{n}\" is not a zone of the network (its [[subnets]]'s zones: {})",
                    zones.join(", ")
                ),
            ),
        }
    }
    let unused: Vec<&str> = zones
        .iter()
        .enumerate()
        .filter(|&(z, _)| !out.is_empty() && !out.contains(&(z as u32)))
        .map(|(_, n)| n.as_str())
        .collect();
    if !unused.is_empty() {
        ctx.warnings.push(format!(
            "{path}: tasks in {} get no traffic: the load balancer is not enabled in that zone (AWS Target.NotInUse)",
            unused.join(", ")
        ));
    }
    out
}

/// Checks `load_balancer.service_discovery` (only with `type = "none"`, where it defaults
/// to a 60 s TTL and 8 answers).
fn discovery(ctx: &mut Ctx, lb: &LoadBalancerSection) -> Option<DiscoverySpec> {
    let path = "load_balancer.service_discovery";
    if lb.kind != "none" {
        if lb.service_discovery.is_some() {
            ctx.warnings.push(format!(
                "{path} is ignored: there is a load balancer (it applies with type = \"none\")"
            ));
        }
        return None;
    }
    if lb.processing_time.is_some() {
        ctx.warnings.push(
            "load_balancer.processing_time is ignored with type = \"none\" (no load balancer)"
                .into(),
        );
    }
    let sd = lb.service_discovery.clone().unwrap_or_default();
    let mut d = DiscoverySpec::default();
    if let Some(ttl) = sd.dns_ttl {
        ctx.whole_seconds(
            &format!("{path}.dns_ttl"),
            ttl.0,
            MAX_DNS_TTL,
            "the DNS record TTL",
        );
        d.dns_ttl = ttl.0.min(MAX_DNS_TTL);
    }
    if let Some(m) = sd.max_answers {
        if (1..=i64::from(MAX_DNS_ANSWERS)).contains(&m) {
            d.max_answers = m as u8;
        } else {
            ctx.bad(
                format!("{path}.max_answers"),
                format!("{m}: allowed 1–{MAX_DNS_ANSWERS} (Route 53 multivalue answers hold up to eight records)"),
            );
        }
    }
    Some(d)
}

/// Longest `service_discovery.dns_ttl` lbsim accepts: one day (Cloud Map accepts up to
/// 2147483647 s; a day is plenty for a simulation).
const MAX_DNS_TTL: crate::engine::SimDuration = crate::engine::SimDuration::from_secs(86_400);

/// Checks listener `i` and records its port in `ports`.
fn listener(
    ctx: &mut Ctx,
    i: usize,
    l: &ListenerSection,
    ports: &mut PortIndex,
    network: bool,
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
    if network && l.protocol != "TCP" && l.protocol != "TLS" {
        ctx.bad(
            format!("{p}.protocol"),
            format!(
                "\"{}\": an NLB (type = \"network\") listener must be \"TCP\" or \"TLS\"",
                l.protocol
            ),
        );
    } else if !network && l.protocol != "HTTP" && l.protocol != "HTTPS" {
        ctx.bad(
            format!("{p}.protocol"),
            format!(
                "\"{}\": must be \"HTTP\" or \"HTTPS\" (\"TCP\" and \"TLS\" need type = \"network\")",
                l.protocol
            ),
        );
    }
    ListenerSpec {
        port: l.port,
        protocol: l.protocol.clone(),
        ..Default::default()
    }
}
