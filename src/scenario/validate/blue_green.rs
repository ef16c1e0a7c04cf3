//! `[[blue_green]]`: blue/green deployments with CodeDeploy-style traffic shifting (CodeDeploy's
//! names, units and ranges: `deployment-configurations.html`, API
//! `BlueInstanceTerminationOption`, `TimeBasedCanary`, `TimeBasedLinear`;
//! `../shared/spec/aws-behaviour.md` §6.3). Resolves the listener, rule and services, checks
//! that the forward is a weighted forward over exactly the blue and green services' target
//! groups with green at weight 0, and sets the green service's initial `desired_count` to 0
//! when the deployment launches its tasks later.

use std::collections::BTreeSet;

use super::{Ctx, PortIndex, ServiceIndex};
use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::model::ecs::blue_green::{
    BlueGreenSpec, DEFAULT_TERMINATION_WAIT, MAX_TERMINATION_WAIT, PREDEFINED, TrafficRouting,
};
use crate::model::{ActionSpec, LoadBalancerSpec, ServiceSpec};
use crate::scenario::file::{BlueGreenSection, DeploymentConfigSection};

/// Longest custom `interval` (lbsim's range: CodeDeploy documents none; two days, as the
/// termination wait's maximum).
pub const MAX_INTERVAL: SimDuration = SimDuration::from_secs(2880 * 60);

/// One minute, in ns.
const MINUTE_NS: u64 = 60 * NANOS_PER_SEC;

/// Checks every `[[blue_green]]` and resolves it; `lb` is `load_balancer.type` and the
/// resolved load balancer.
pub(super) fn resolve(
    ctx: &mut Ctx,
    sections: &[BlueGreenSection],
    (lb_type, lb): (&str, &LoadBalancerSpec),
    ports: &PortIndex,
    services: &mut [ServiceSpec],
    svc_index: &ServiceIndex,
    run: SimDuration,
) -> Vec<BlueGreenSpec> {
    let mut used_services = BTreeSet::new();
    let mut used_forwards = BTreeSet::new();
    let mut out = Vec::new();
    for (i, b) in sections.iter().enumerate() {
        let p = format!("blue_green.{i}");
        if lb_type != "application" {
            ctx.bad(
                p.clone(),
                "blue/green traffic shifting needs a load balancer (type = \"application\")",
            );
            continue;
        }
        let (blue, _) = ctx.service(&format!("{p}.blue_service"), &b.blue_service, svc_index);
        let (green, green_count) =
            ctx.service(&format!("{p}.green_service"), &b.green_service, svc_index);
        let known =
            svc_index.contains_key(&b.blue_service) && svc_index.contains_key(&b.green_service);
        if known && blue == green {
            ctx.bad(
                format!("{p}.green_service"),
                "the blue and green services must differ",
            );
        }
        for (field, s) in [("blue_service", blue), ("green_service", green)] {
            if !known || (field == "green_service" && blue == green) {
                break;
            }
            if !used_services.insert(s) {
                ctx.bad(
                    format!("{p}.{field}"),
                    format!(
                        "service \"{}\" is already in another [[blue_green]]",
                        services[s].name
                    ),
                );
            }
            if services[s].auto_scaling.is_some() || !services[s].deployments.is_empty() {
                ctx.bad(
                    format!("{p}.{field}"),
                    format!(
                        "service \"{}\" has auto_scaling or [[services.deployments]]: not \
                         modelled with a blue/green deployment",
                        services[s].name
                    ),
                );
            }
        }
        if known && green_count == 0 {
            ctx.bad(
                format!("{p}.green_service"),
                format!(
                    "service \"{}\" has desired_count 0: the green task set needs 1 or more tasks",
                    b.green_service
                ),
            );
        }
        // The listener and its forward.
        let listener = match b.listener {
            None => 0,
            Some(port) => match ports.get(&port) {
                Some(&l) => l,
                None => {
                    let known: Vec<String> = ports.keys().map(u16::to_string).collect();
                    ctx.bad(
                        format!("{p}.listener"),
                        format!("no listener on port {port} (known: {})", known.join(", ")),
                    );
                    continue;
                }
            },
        };
        let Some(l) = lb.listeners.get(listener) else {
            continue;
        };
        let (rule, action) = match b.rule {
            None => (None, &l.default_action),
            Some(priority) => match l.rules.iter().find(|r| i64::from(r.priority) == priority) {
                Some(r) => (
                    Some(l.rules.iter().filter(|o| o.priority < r.priority).count()),
                    &r.action,
                ),
                None => {
                    let known: Vec<String> =
                        l.rules.iter().map(|r| r.priority.to_string()).collect();
                    ctx.bad(
                        format!("{p}.rule"),
                        format!(
                            "listener {} has no rule with priority {priority} (priorities: {})",
                            l.port,
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                    continue;
                }
            },
        };
        let what = match rule {
            None => format!("listener {}'s default action", l.port),
            Some(_) => format!(
                "listener {}'s rule {}",
                l.port,
                b.rule.expect("a rule was given")
            ),
        };
        let rp = if b.rule.is_some() {
            format!("{p}.rule")
        } else {
            format!("{p}.listener")
        };
        if !used_forwards.insert((listener, rule)) {
            ctx.bad(
                rp.clone(),
                format!("{what} is already shifted by another [[blue_green]]"),
            );
        }
        let mut slots = (0, 1);
        if known {
            let (btg, gtg) = (services[blue].target_group, services[green].target_group);
            match action {
                ActionSpec::WeightedForward { target_groups, .. }
                    if target_groups.len() == 2
                        && btg != gtg
                        && target_groups.iter().any(|w| w.target_group == btg)
                        && target_groups.iter().any(|w| w.target_group == gtg) =>
                {
                    let bs = target_groups
                        .iter()
                        .position(|w| w.target_group == btg)
                        .expect("present");
                    slots = (bs, 1 - bs);
                    if target_groups[1 - bs].weight != 0 {
                        ctx.bad(
                            rp.clone(),
                            format!(
                                "{what}: the green service's target group has weight {}; \
                                 give it 0 (production traffic starts on blue)",
                                target_groups[1 - bs].weight
                            ),
                        );
                    }
                }
                _ => ctx.bad(
                    rp.clone(),
                    format!(
                        "{what} must be a weighted forward (`target_groups = [...]`) over \
                         exactly two target groups: the blue service's and the green \
                         service's, which must differ"
                    ),
                ),
            }
        }
        // When, how, how long.
        let at = b.at.map_or(SimDuration::ZERO, |d| d.0);
        if at >= run {
            ctx.bad(
                format!("{p}.at"),
                format!(
                    "{}: allowed \"0s\" to before the end of the run (simulation.duration, {})",
                    super::secs(at),
                    super::secs(run)
                ),
            );
        }
        let (config_name, routing) = config(ctx, &p, b.deployment_config.as_ref());
        let termination_wait = match b.termination_wait {
            None => DEFAULT_TERMINATION_WAIT,
            Some(d) => {
                whole_minutes(
                    ctx,
                    &format!("{p}.termination_wait"),
                    d.0,
                    SimDuration::ZERO,
                    MAX_TERMINATION_WAIT,
                    "CodeDeploy terminationWaitTimeInMinutes",
                );
                d.0
            }
        };
        let alarm = b
            .alarm
            .as_ref()
            .map(|a| super::autoscaling::alarm(ctx, &format!("{p}.alarm"), a));
        let launch_green = !at.is_zero();
        if known && launch_green {
            services[green].desired_count = 0;
        }
        out.push(BlueGreenSpec {
            listener,
            rule,
            blue_slot: slots.0,
            green_slot: slots.1,
            blue_service: blue,
            green_service: green,
            green_count,
            launch_green,
            at: SimTime::ZERO + at,
            config_name,
            routing,
            termination_wait,
            alarm,
        });
    }
    out
}

/// The deployment configuration: its name and traffic routing.
fn config(ctx: &mut Ctx, p: &str, c: Option<&DeploymentConfigSection>) -> (String, TrafficRouting) {
    let cp = format!("{p}.deployment_config");
    match c {
        None => (PREDEFINED[0].0.to_string(), PREDEFINED[0].1),
        Some(DeploymentConfigSection::Predefined(name)) => {
            match PREDEFINED.iter().find(|(n, _)| n == name) {
                Some(&(n, r)) => (n.to_string(), r),
                None => {
                    let known: Vec<&str> = PREDEFINED.iter().map(|(n, _)| *n).collect();
                    ctx.bad(
                        cp,
                        format!(
                            "\"{name}\" is not a CodeDeploy ECS configuration: use one of {}, \
                             or {{ type = \"canary\" | \"linear\", percent, interval }}",
                            known.join(", ")
                        ),
                    );
                    (name.clone(), TrafficRouting::AllAtOnce)
                }
            }
        }
        Some(DeploymentConfigSection::Custom(c)) => {
            let percent = if (1..=99).contains(&c.percent) {
                c.percent as u32
            } else {
                ctx.bad(
                    format!("{cp}.percent"),
                    format!(
                        "{}: allowed 1–99 (CodeDeploy canaryPercentage / linearPercentage, an \
                         integer)",
                        c.percent
                    ),
                );
                10
            };
            whole_minutes(
                ctx,
                &format!("{cp}.interval"),
                c.interval.0,
                SimDuration::from_secs(60),
                MAX_INTERVAL,
                "CodeDeploy canaryInterval / linearInterval, integer minutes",
            );
            let interval = c.interval.0.max(SimDuration::from_secs(60));
            match c.kind.as_str() {
                "canary" => (
                    "Custom".into(),
                    TrafficRouting::Canary { percent, interval },
                ),
                "linear" => (
                    "Custom".into(),
                    TrafficRouting::Linear { percent, interval },
                ),
                other => {
                    ctx.bad(
                        format!("{cp}.type"),
                        format!(
                            "\"{other}\": use \"canary\" (TimeBasedCanary) or \"linear\" \
                             (TimeBasedLinear)"
                        ),
                    );
                    ("Custom".into(), TrafficRouting::AllAtOnce)
                }
            }
        }
    }
}

/// Checks that `d` is a whole number of minutes in `[min, max]`.
fn whole_minutes(
    ctx: &mut Ctx,
    path: &str,
    d: SimDuration,
    min: SimDuration,
    max: SimDuration,
    what: &str,
) {
    let allowed = format!(
        "allowed {}–{} min in whole minutes ({what})",
        min.0 / MINUTE_NS,
        max.0 / MINUTE_NS
    );
    let shown = d.0 as f64 / MINUTE_NS as f64;
    if d < min || d > max {
        ctx.bad(path, format!("{shown} min: out of range; {allowed}"));
    } else if d.0 % MINUTE_NS != 0 {
        ctx.bad(
            path,
            format!("{shown} min: not a whole number of minutes; {allowed}"),
        );
    }
}
