//! Listener rules and actions (`[[load_balancer.listeners.rules]]`, `default_action`), and a
//! client's request mix (`[[clients.requests]]`) and source pool (`source_ips`), against
//! AWS's limits (ALB-UG `load-balancer-limits.html`, `load-balancer-listeners.html`,
//! `rule-condition-types.html`):
//! - rule priority 1–50000, unique per listener; at most 100 rules per load balancer
//!   (default rules excluded);
//! - at most one each of `host_header`, `http_request_method`, `path_pattern`,
//!   `source_ip` (IPv4 or IPv6 CIDR blocks; the file format's lists are one condition each); at most 3 values per
//!   condition, 5 condition values and 5 wildcards per rule, 128 characters per value;
//! - a weighted forward: 1–5 target groups, weights 0–999 not all 0, group stickiness 1 s–7
//!   days;
//! - a redirect: 301 or 302, to a listener of this load balancer, never HTTPS→HTTP; `host`
//!   and `path` 1–128 characters, `query` 0–128, a path starting with `/`, each with only
//!   the `#{...}` keywords AWS allows it; to its own listener only if it changes the host
//!   or the path (AWS: change at least one of protocol, host, port or path);
//! - a fixed response: a 2XX, 4XX or 5XX code, one of AWS's content types, a body of at most
//!   1024 characters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Ctx, PortIndex, TargetGroupIndex};
use crate::engine::SimDuration;
use crate::model::{
    ActionSpec, ConditionsSpec, GroupStickinessSpec, HttpHeaderCondition, IpCidr, Ipv4Cidr,
    Ipv6Cidr, MixEntrySpec, QueryStringPair, RewriteSpec, RuleSpec, WeightedTargetGroup,
};
use crate::scenario::file::{
    ActionSection, ConditionsSection, ListenerSection, MixEntrySection, RuleSection,
};

/// Most rules per load balancer, default rules excluded (ALB quota, adjustable: 100).
pub const MAX_RULES: usize = 100;
/// Most values per condition (AWS: 3).
pub const MAX_CONDITION_VALUES: usize = 3;
/// Most condition values per rule (AWS: 5).
pub const MAX_RULE_VALUES: usize = 5;
/// Most wildcards per rule (AWS: 5).
pub const MAX_RULE_WILDCARDS: usize = 5;
/// Longest condition value (AWS: 128 characters).
pub const MAX_VALUE_LEN: usize = 128;
/// Most target groups per forward action (AWS: 5).
pub const MAX_FORWARD_GROUPS: usize = 5;
/// Highest weight of a target group in a forward action (AWS: 0–999).
pub const MAX_WEIGHT: i64 = 999;
/// Shortest and longest target-group stickiness (AWS `TargetGroupStickinessConfig`:
/// 1–604800 s).
pub const GROUP_STICKINESS: (SimDuration, SimDuration) =
    (SimDuration::from_secs(1), SimDuration::from_secs(604_800));
/// Content types of a fixed response (AWS `FixedResponseActionConfig.ContentType`).
pub const CONTENT_TYPES: [&str; 5] = [
    "text/plain",
    "text/css",
    "text/html",
    "application/javascript",
    "application/json",
];
/// Longest fixed-response body (AWS: 1024 characters).
pub const MAX_MESSAGE_BODY: usize = 1024;
/// Most entries in a client's request mix (lbsim's cap).
pub const MAX_MIX_ENTRIES: usize = 1000;

/// Checks listener `i`'s default action and rules (`listeners` are all of them, `ports`
/// their indices by port); returns (default action, rules).
pub(super) fn listener(
    ctx: &mut Ctx,
    i: usize,
    listeners: &[ListenerSection],
    ports: &PortIndex,
    tg_index: &TargetGroupIndex,
) -> (ActionSpec, Vec<RuleSpec>) {
    let p = format!("load_balancer.listeners.{i}");
    let default = action(
        ctx,
        &format!("{p}.default_action"),
        &listeners[i].default_action,
        i,
        listeners,
        ports,
        tg_index,
    );
    let rules = &listeners[i].rules;
    let mut seen = std::collections::BTreeMap::new();
    let rules = rules
        .iter()
        .enumerate()
        .map(|(j, r)| {
            let rp = format!("{p}.rules.{j}");
            if let Some(k) = seen.insert(r.priority, j) {
                ctx.bad(
                    format!("{rp}.priority"),
                    format!(
                        "{}: rule {k} of this listener has the same priority; priorities must be unique per listener",
                        r.priority
                    ),
                );
            }
            rule(ctx, &rp, r, i, listeners, ports, tg_index)
        })
        .collect();
    (default, rules)
}

/// Checks that the load balancer has at most [`MAX_RULES`] rules in all.
pub(super) fn total(ctx: &mut Ctx, listeners: &[ListenerSection]) {
    let n: usize = listeners.iter().map(|l| l.rules.len()).sum();
    if n > MAX_RULES {
        ctx.bad(
            "load_balancer.listeners",
            format!(
                "{n} rules in all: at most {MAX_RULES} per load balancer, default rules excluded (ALB quota \"Rules per Application Load Balancer\")"
            ),
        );
    }
}

/// Checks rule `r` at `p`.
fn rule(
    ctx: &mut Ctx,
    p: &str,
    r: &RuleSection,
    i: usize,
    listeners: &[ListenerSection],
    ports: &PortIndex,
    tg_index: &TargetGroupIndex,
) -> RuleSpec {
    if !(1..=50_000).contains(&r.priority) {
        ctx.bad(
            format!("{p}.priority"),
            format!("{}: must be 1–50000 (AWS rule priority)", r.priority),
        );
    }
    RuleSpec {
        priority: r.priority.clamp(1, 50_000) as u32,
        conditions: conditions(ctx, &format!("{p}.conditions"), &r.conditions),
        action: action(
            ctx,
            &format!("{p}.action"),
            &r.action,
            i,
            listeners,
            ports,
            tg_index,
        ),
    }
}

/// Checks a rule's conditions at `p` against AWS's limits.
fn conditions(ctx: &mut Ctx, p: &str, c: &ConditionsSection) -> ConditionsSpec {
    let values = |ctx: &mut Ctx, field: &str, v: &[String]| {
        if v.len() > MAX_CONDITION_VALUES {
            ctx.bad(
                format!("{p}.{field}"),
                format!(
                    "{} values: at most {MAX_CONDITION_VALUES} per condition (AWS limit)",
                    v.len()
                ),
            );
        }
        for (k, s) in v.iter().enumerate() {
            value(ctx, &format!("{p}.{field}.{k}"), s);
        }
    };
    values(ctx, "path_pattern", &c.path_pattern);
    values(ctx, "host_header", &c.host_header);
    values(ctx, "http_request_method", &c.http_request_method);
    for (k, m) in c.http_request_method.iter().enumerate() {
        if m.is_empty()
            || !m
                .chars()
                .all(|ch| ch.is_ascii_alphabetic() || ch == '-' || ch == '_')
        {
            ctx.bad(
                format!("{p}.http_request_method.{k}"),
                format!(
                    "\"{m}\": a method is letters, hyphens and underscores, matched exactly (case-sensitive, no wildcards)"
                ),
            );
        }
    }
    for (k, s) in c.path_pattern.iter().enumerate() {
        if !s.starts_with('/') && !s.starts_with('*') {
            ctx.bad(
                format!("{p}.path_pattern.{k}"),
                format!("\"{s}\": a path pattern starts with \"/\" (or a wildcard)"),
            );
        }
    }
    let mut source_ip = Vec::new();
    values(ctx, "source_ip", &c.source_ip);
    for (k, s) in c.source_ip.iter().enumerate() {
        match parse_block(s) {
            Ok(b) => source_ip.push(b),
            Err(m) => ctx.bad(format!("{p}.source_ip.{k}"), m),
        }
    }
    let mut http_header = Vec::new();
    for (k, h) in c.http_header.iter().enumerate() {
        let hp = format!("{p}.http_header.{k}");
        if h.name.is_empty() || h.name.len() > 40 || h.name.contains(['*', '?', ' ', ':']) {
            ctx.bad(
                format!("{hp}.name"),
                format!(
                    "\"{}\": a header name is 1–40 characters, with no wildcards, spaces or colons",
                    h.name
                ),
            );
        }
        if h.values.is_empty() {
            ctx.bad(format!("{hp}.values"), "needs 1–3 values");
        }
        values(ctx, &format!("http_header.{k}.values"), &h.values);
        http_header.push(HttpHeaderCondition {
            name: h.name.clone(),
            values: h.values.clone(),
        });
    }
    if c.query_string.len() > MAX_CONDITION_VALUES {
        ctx.bad(
            format!("{p}.query_string"),
            format!(
                "{} pairs: at most {MAX_CONDITION_VALUES} per condition (AWS limit)",
                c.query_string.len()
            ),
        );
    }
    let mut query_string = Vec::new();
    for (k, q) in c.query_string.iter().enumerate() {
        if let Some(key) = &q.key {
            value(ctx, &format!("{p}.query_string.{k}.key"), key);
        }
        value(ctx, &format!("{p}.query_string.{k}.value"), &q.value);
        query_string.push(QueryStringPair {
            key: q.key.clone(),
            value: q.value.clone(),
        });
    }
    let spec = ConditionsSpec {
        path_pattern: c.path_pattern.clone(),
        host_header: c.host_header.clone(),
        http_request_method: c.http_request_method.clone(),
        source_ip,
        http_header,
        query_string,
    };
    let n = spec.values();
    if n > MAX_RULE_VALUES {
        ctx.bad(
            p,
            format!(
                "{n} condition values: at most {MAX_RULE_VALUES} per rule (AWS limit \"condition values per rule\")"
            ),
        );
    }
    let w = spec.wildcards();
    if w > MAX_RULE_WILDCARDS {
        ctx.bad(
            p,
            format!("{w} wildcards (* and ?): at most {MAX_RULE_WILDCARDS} per rule (AWS limit)"),
        );
    }
    spec
}

/// Checks one condition value's length.
fn value(ctx: &mut Ctx, p: &str, s: &str) {
    let n = s.chars().count();
    if n == 0 || n > MAX_VALUE_LEN {
        ctx.bad(
            p,
            format!("\"{s}\": a condition value is 1–{MAX_VALUE_LEN} characters (AWS limit)"),
        );
    }
}

/// Parses an IPv4 block `a.b.c.d/len` (prefix 0–32) or an IPv6 block `x:x::/len` (prefix
/// 0–128), with no host bits set, for a `source_ip` condition or a client's `source_ips`; a
/// bare address is a `/32` (IPv4) or a `/128` (IPv6). The address is parsed by
/// [`std::net::IpAddr`]'s parser.
///
/// # Errors
/// A message naming the value and what is allowed.
pub fn parse_block(s: &str) -> Result<IpCidr, String> {
    let example = "write an IPv4 or IPv6 CIDR block like \"203.0.113.0/24\" or \"2001:db8::/32\"";
    let (addr, len) = match s.trim().split_once('/') {
        Some((a, l)) => (a.trim(), Some(l.trim())),
        None => (s.trim(), None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("\"{s}\" is not an IPv4 or IPv6 address: {example}"))?;
    let (family, max) = match addr {
        IpAddr::V4(_) => ("IPv4", 32u8),
        IpAddr::V6(_) => ("IPv6", 128u8),
    };
    let len: u8 = match len.map(str::parse::<u8>) {
        None => max,
        Some(Ok(l)) if l <= max => l,
        _ => {
            return Err(format!(
                "\"{s}\": the prefix length of an {family} block must be 0–{max}; {example}"
            ));
        }
    };
    let b = match addr {
        IpAddr::V4(a) => IpCidr::V4(Ipv4Cidr::new(a, len)),
        IpAddr::V6(a) => IpCidr::V6(Ipv6Cidr::new(a, len)),
    };
    let network = match b {
        IpCidr::V4(c) if !c.is_network_address() => {
            Some(Ipv4Addr::from_bits(c.network()).to_string())
        }
        IpCidr::V6(c) if !c.is_network_address() => {
            Some(Ipv6Addr::from_bits(c.network()).to_string())
        }
        _ => None,
    };
    if let Some(n) = network {
        return Err(format!("\"{s}\": host bits are set (write \"{n}/{len}\")"));
    }
    Ok(b)
}

/// Checks an action at `p` of listener `i`.
fn action(
    ctx: &mut Ctx,
    p: &str,
    a: &ActionSection,
    i: usize,
    listeners: &[ListenerSection],
    ports: &PortIndex,
    tg_index: &TargetGroupIndex,
) -> ActionSpec {
    match a {
        ActionSection::Forward {
            target_group,
            target_groups,
            stickiness,
        } => match (target_group, target_groups) {
            (Some(tg), None) => {
                if stickiness.is_some() {
                    ctx.bad(
                        format!("{p}.stickiness"),
                        "target-group stickiness needs a weighted forward (target_groups = [...])",
                    );
                }
                ActionSpec::Forward {
                    target_group: ctx.target_group(&format!("{p}.target_group"), tg, tg_index),
                }
            }
            (None, Some(groups)) => {
                if groups.is_empty() || groups.len() > MAX_FORWARD_GROUPS {
                    ctx.bad(
                        format!("{p}.target_groups"),
                        format!(
                            "{} target groups: a forward has 1–{MAX_FORWARD_GROUPS} (AWS limit)",
                            groups.len()
                        ),
                    );
                }
                let mut seen = std::collections::BTreeSet::new();
                let target_groups: Vec<WeightedTargetGroup> = groups
                    .iter()
                    .enumerate()
                    .map(|(k, g)| {
                        let gp = format!("{p}.target_groups.{k}");
                        if !seen.insert(g.target_group.as_str()) {
                            ctx.bad(
                                format!("{gp}.target_group"),
                                format!("\"{}\" appears twice in this forward", g.target_group),
                            );
                        }
                        if !(0..=MAX_WEIGHT).contains(&g.weight) {
                            ctx.bad(
                                format!("{gp}.weight"),
                                format!("{}: must be 0–{MAX_WEIGHT} (AWS limit)", g.weight),
                            );
                        }
                        WeightedTargetGroup {
                            target_group: ctx.target_group(
                                &format!("{gp}.target_group"),
                                &g.target_group,
                                tg_index,
                            ),
                            weight: g.weight.clamp(0, MAX_WEIGHT) as u32,
                        }
                    })
                    .collect();
                if !groups.is_empty() && groups.iter().all(|g| g.weight <= 0) {
                    ctx.bad(
                        format!("{p}.target_groups"),
                        "every weight is 0: at least one target group needs a positive weight",
                    );
                }
                let stickiness = stickiness.as_ref().map(|s| {
                    let (lo, hi) = GROUP_STICKINESS;
                    ctx.whole_seconds_in(
                        &format!("{p}.stickiness.duration"),
                        s.duration.0,
                        lo,
                        hi,
                        "AWS TargetGroupStickinessConfig DurationSeconds, 1s–7d",
                    );
                    GroupStickinessSpec {
                        enabled: s.enabled,
                        duration: s.duration.0,
                    }
                });
                ActionSpec::WeightedForward {
                    target_groups,
                    stickiness,
                }
            }
            _ => {
                ctx.bad(
                    p,
                    "a forward names exactly one of target_group = \"name\" or target_groups = [{ target_group = \"name\", weight = 1 }, ...]",
                );
                ActionSpec::Forward { target_group: 0 }
            }
        },
        ActionSection::Redirect {
            protocol,
            port,
            status_code,
            host,
            path,
            query,
        } => {
            use crate::model::elb::redirect::{Component, check};
            for (field, value, component) in [
                ("host", host, Component::Host),
                ("path", path, Component::Path),
                ("query", query, Component::Query),
            ] {
                if let Some(v) = value
                    && let Err(m) = check(component, v)
                {
                    ctx.bad(format!("{p}.{field}"), m);
                }
            }
            let rewrite = RewriteSpec {
                host: host.clone(),
                path: path.clone(),
                query: query.clone(),
            };
            if *status_code != 301 && *status_code != 302 {
                ctx.bad(
                    format!("{p}.status_code"),
                    format!("{status_code}: a redirect is 301 or 302 (AWS HTTP_301, HTTP_302)"),
                );
            }
            let me = &listeners[i];
            let port = port.unwrap_or(me.port);
            let to = match ports.get(&port) {
                Some(&to) => to,
                None => {
                    ctx.bad(
                        format!("{p}.port"),
                        format!(
                            "{port}: no listener of this load balancer is on that port (the model follows redirects to its own listeners only)"
                        ),
                    );
                    i
                }
            };
            let protocol = protocol.as_deref().unwrap_or(&listeners[to].protocol);
            if protocol != "HTTP" && protocol != "HTTPS" {
                ctx.bad(
                    format!("{p}.protocol"),
                    format!("\"{protocol}\": must be \"HTTP\" or \"HTTPS\""),
                );
            } else if me.protocol == "HTTPS" && protocol == "HTTP" {
                ctx.bad(
                    format!("{p}.protocol"),
                    "a redirect cannot go from HTTPS to HTTP (AWS rule)",
                );
            } else if protocol != listeners[to].protocol {
                ctx.bad(
                    format!("{p}.protocol"),
                    format!(
                        "\"{protocol}\": the listener on port {port} is {}",
                        listeners[to].protocol
                    ),
                );
            }
            if to == i && ports.contains_key(&port) && !rewrite.changes_host_or_path() {
                ctx.bad(
                    p,
                    "the redirect points to its own listener with the same host and path: the client would loop; change at least one of protocol, port, host or path (AWS rule)",
                );
            }
            ActionSpec::Redirect {
                listener: to,
                status_code: u16::try_from(*status_code).unwrap_or(301),
                rewrite,
            }
        }
        ActionSection::FixedResponse {
            status_code,
            content_type,
            message_body,
        } => {
            if !matches!(status_code / 100, 2 | 4 | 5) || !(200..=599).contains(status_code) {
                ctx.bad(
                    format!("{p}.status_code"),
                    format!("{status_code}: a fixed response is 2XX, 4XX or 5XX (AWS rule)"),
                );
            }
            if let Some(t) = content_type
                && !CONTENT_TYPES.contains(&t.as_str())
            {
                ctx.bad(
                    format!("{p}.content_type"),
                    format!("\"{t}\": must be one of {}", CONTENT_TYPES.join(", ")),
                );
            }
            if let Some(b) = message_body
                && b.chars().count() > MAX_MESSAGE_BODY
            {
                ctx.bad(
                    format!("{p}.message_body"),
                    format!(
                        "{} characters: at most {MAX_MESSAGE_BODY} (AWS limit)",
                        b.chars().count()
                    ),
                );
            }
            ActionSpec::FixedResponse {
                status_code: u16::try_from(*status_code).unwrap_or(500),
            }
        }
    }
}

/// Checks client `p`'s request mix and source pool.
pub(super) fn mix(
    ctx: &mut Ctx,
    p: &str,
    entries: &[MixEntrySection],
    source_ips: &[String],
) -> (Vec<MixEntrySpec>, Vec<IpCidr>) {
    if entries.len() > MAX_MIX_ENTRIES {
        ctx.bad(
            format!("{p}.requests"),
            format!("{} entries: at most {MAX_MIX_ENTRIES}", entries.len()),
        );
    }
    let mix = entries
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let ep = format!("{p}.requests.{k}");
            if !(e.weight.is_finite() && e.weight > 0.0) {
                ctx.bad(
                    format!("{ep}.weight"),
                    format!("{}: a weight is a finite number > 0", e.weight),
                );
            }
            if e.method.is_empty() || !e.method.chars().all(|c| c.is_ascii_alphabetic()) {
                ctx.bad(
                    format!("{ep}.method"),
                    format!("\"{}\": a method is letters, like \"GET\"", e.method),
                );
            }
            if !e.path.starts_with('/') {
                ctx.bad(
                    format!("{ep}.path"),
                    format!("\"{}\": a path starts with \"/\"", e.path),
                );
            }
            if e.path.contains('?') {
                ctx.bad(
                    format!("{ep}.path"),
                    format!(
                        "\"{}\": put the query string in query = {{ key = \"value\" }}",
                        e.path
                    ),
                );
            }
            if e.path.matches('{').count() != e.path.matches('}').count() {
                ctx.bad(
                    format!("{ep}.path"),
                    format!("\"{}\": a templated segment is written {{name}}", e.path),
                );
            }
            MixEntrySpec {
                weight: e.weight,
                method: e.method.clone(),
                host: e.host.clone(),
                path: e.path.clone(),
                query: e
                    .query
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                headers: e
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                cpu_time: e
                    .cpu_time
                    .as_ref()
                    .map(|d| ctx.required_delay(&format!("{ep}.cpu_time"), d)),
            }
        })
        .collect();
    let ips = source_ips
        .iter()
        .enumerate()
        .filter_map(|(k, s)| match parse_block(s) {
            Ok(b) => Some(b),
            Err(m) => {
                ctx.bad(format!("{p}.source_ips.{k}"), m);
                None
            }
        })
        .collect();
    (mix, ips)
}
