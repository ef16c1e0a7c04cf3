//! Load balancer nodes per Availability Zone, and cross-zone load balancing.
//!
//! **Nodes.** AWS runs one load balancer node per enabled Availability Zone; the load
//! balancer's DNS name resolves to the nodes' addresses, so clients spread over them, and
//! each node routes on its own: "each load balancer node distributes its share of the
//! traffic across the registered targets" with its own algorithm state
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/how-elastic-load-balancing-works.html>,
//! `../shared/spec/aws-behaviour.md` §3.1, §3.4). With `load_balancer.availability_zones`
//! set, lbsim builds one node per listed zone, each with its own router per target group
//! (round-robin position, outstanding counts, random stream: node 0 keeps the stream
//! `target_group/<name>/routing`, node `n` ≥ 1 uses `target_group/<name>/routing/node<n>`).
//! Without it (the default) there is one node that sees every target, as before.
//!
//! **Which node a request reaches.** DNS gives the nodes' addresses in turn, so each node
//! gets an equal share of the clients; lbsim draws the node per request, uniformly, with a
//! keyed draw from the request's seed (key `load_balancer/<name>/dns`): a model of many
//! clients (or connections) each resolving the name, not of one long-lived connection.
//!
//! **Cross-zone.** With cross-zone load balancing on (the ALB default), every node routes
//! over the targets of all enabled zones. A target group can turn it off
//! (`load_balancing.cross_zone.enabled = false`,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#cross-zone-load-balancing>):
//! then a node routes only to the targets in its own zone (a task's zone is its subnet's).
//! So uneven zones load their targets unevenly: with 2 tasks in one zone and 1 in the
//! other, the lone task gets half the requests.
//!
//! **Zones not enabled.** A target in a zone the load balancer is not enabled in gets no
//! traffic, cross-zone or not (AWS reason `Target.NotInUse`: "Target is in an Availability
//! Zone that is not enabled for the load balancer",
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html>);
//! lbsim still checks its health and shows its state as the checks find it.
//!
//! **Fail-open per zone.** With cross-zone off, the target group's health thresholds apply
//! per zone (aws-behaviour §1.3, ALB-UG `target-group-health.html`): a node whose zone has
//! no healthy target routes to its zone's unhealthy ones (fail open within the zone). A node
//! whose zone has no registered target at all answers 503 (`elb_503_no_targets`): lbsim
//! does not model DNS failover (`target_group_health.dns_failover`, off by default), which
//! would take the zone's node out of DNS.
//!
//! **Health checks.** Every node checks every registered target
//! (`elb::health`), so the probe rate per target grows with the number of
//! nodes, as AWS documents ("each load balancer node ... sends health checks"). The target
//! group's state, which routing reads, follows node 0's verdicts.

use super::{LbNode, LoadBalancer, TargetGroupRouter, TargetState};
use crate::engine::{self, SimTime};
use crate::model::ids::{NodeId, TargetGroupId};
use crate::model::spec::WorldSpec;
use crate::model::world::World;

/// What [`LoadBalancer::build`] needs of the nodes: the nodes, the key of their DNS draw,
/// and, when the load balancer lists its zones, per target group whether cross-zone load
/// balancing is on.
pub(super) struct Nodes {
    pub(super) nodes: Vec<LbNode>,
    pub(super) dns_key: u64,
    /// Empty without `availability_zones` (one node that sees every target).
    pub(super) zonal: Vec<bool>,
}

/// The nodes of `spec`'s load balancer: one per zone of `load_balancer.availability_zones`,
/// or one node (zone 0) when it is empty.
pub(super) fn build(spec: &WorldSpec) -> Nodes {
    let seed = spec.seed;
    let lb = &spec.load_balancer;
    let zones: Vec<u32> = if lb.availability_zones.is_empty() {
        vec![0]
    } else {
        lb.availability_zones.clone()
    };
    let nodes = zones
        .iter()
        .enumerate()
        .map(|(n, &zone)| LbNode {
            id: NodeId(n as u8),
            zone,
            routers: spec
                .target_groups
                .iter()
                .map(|t| {
                    let name = if n == 0 {
                        format!("target_group/{}/routing", t.name)
                    } else {
                        format!("target_group/{}/routing/node{n}", t.name)
                    };
                    TargetGroupRouter::for_group(t, engine::stream(seed, &name))
                })
                .collect(),
        })
        .collect();
    let listed = !lb.availability_zones.is_empty();
    Nodes {
        nodes,
        dns_key: engine::stream_key(seed, &format!("load_balancer/{}/dns", lb.name)),
        zonal: if listed {
            spec.target_groups
                .iter()
                .map(|t| t.cross_zone.unwrap_or(lb.cross_zone))
                .collect()
        } else {
            Vec::new()
        },
    }
}

impl LoadBalancer {
    /// The node request `seed` reaches: a uniform keyed draw over the nodes (DNS spreads
    /// clients evenly over the nodes' addresses).
    #[inline]
    pub(in crate::model) fn pick_node(&self, seed: u64) -> NodeId {
        let mut rng = engine::keyed(self.dns_key, seed);
        NodeId(rand::RngExt::random_range(&mut rng, 0..self.nodes.len() as u32) as u8)
    }

    /// Counts a request that a client sent straight to `tg`'s `slot` (direct service
    /// discovery) as node 0's, so that its end is accounted as a routed request's.
    pub(in crate::model) fn count_direct(&mut self, tg: TargetGroupId, slot: u32) {
        self.nodes[0].routers[tg.index()].count(slot);
    }

    /// True if the load balancer lists its zones (`availability_zones`): its nodes route
    /// to the targets of enabled zones only, each group with or without cross-zone.
    #[inline]
    pub fn zonal(&self) -> bool {
        !self.zonal.is_empty()
    }

    /// True if target group `tg` has cross-zone load balancing on (always, for a load
    /// balancer that does not list its zones).
    pub fn cross_zone(&self, tg: TargetGroupId) -> bool {
        self.zonal.get(tg.index()).copied().unwrap_or(true)
    }
}

impl LbNode {
    /// The Availability Zone of this node (an index into the network's zones; 0 for the
    /// single node of a load balancer without `availability_zones`).
    pub fn zone(&self) -> u32 {
        self.zone
    }
}

impl World {
    /// Recomputes every node's routable targets of target group `tg` when the load
    /// balancer lists its zones. A node's scope is the enabled zones (cross-zone on) or its
    /// own zone (off); it routes to the targets in its scope that are healthy (or draining
    /// while their deregistration propagates), or to its scope's unhealthy ones when none
    /// there is healthy (fail open: per zone with cross-zone off). Targets in a zone that
    /// is not enabled get nothing (AWS `Target.NotInUse`: "Target is in an Availability Zone
    /// that is not enabled for the load balancer").
    pub(in crate::model) fn refresh_zonal(&mut self, tg: TargetGroupId, now: SimTime) {
        let cross = self.lb.cross_zone(tg);
        let group = &self.target_groups[tg.index()];
        let tasks = &self.tasks;
        let zone_of = |slot: usize| {
            tasks[group.targets()[slot].task.index()]
                .lease
                .map(|l| l.az)
        };
        let zones = self.network.availability_zones().len();
        let mut healthy = vec![0u32; zones];
        for (slot, t) in group.targets().iter().enumerate() {
            if t.state == TargetState::Healthy
                && let Some(z) = zone_of(slot)
            {
                healthy[z as usize] += 1;
            }
        }
        let enabled: Vec<u32> = self.lb.nodes.iter().map(|n| n.zone).collect();
        let all: u32 = enabled.iter().map(|&z| healthy[z as usize]).sum();
        for node in &mut self.lb.nodes {
            let in_scope = |z: Option<u32>| match z {
                Some(z) if cross => enabled.contains(&z),
                Some(z) => z == node.zone,
                None => false,
            };
            let open = if cross {
                all == 0
            } else {
                healthy[node.zone as usize] == 0
            };
            for (slot, t) in group.targets().iter().enumerate() {
                let routable = in_scope(zone_of(slot))
                    && (t.propagating
                        || t.state == TargetState::Healthy
                        || (t.state == TargetState::Unhealthy && open));
                node.routers[tg.index()].set_routable(slot as u32, routable, t.weight, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::spec::{LoadBalancerSpec, TargetGroupSpec};

    fn spec(zones: Vec<u32>, lb_cross: bool, tg_cross: Option<bool>) -> WorldSpec {
        WorldSpec {
            load_balancer: LoadBalancerSpec {
                availability_zones: zones,
                cross_zone: lb_cross,
                ..Default::default()
            },
            target_groups: vec![TargetGroupSpec {
                cross_zone: tg_cross,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// One node by default (which sees every target); one per zone when zones are listed,
    /// each group's cross-zone from its own setting first, then the load balancer's.
    #[test]
    fn nodes_and_cross_zone_resolution() {
        let n = build(&spec(Vec::new(), true, Some(false)));
        assert_eq!(n.nodes.len(), 1);
        assert!(n.zonal.is_empty());
        let n = build(&spec(vec![0, 2], true, None));
        assert_eq!(n.nodes.len(), 2);
        assert_eq!(n.nodes[1].zone, 2);
        assert_eq!(n.zonal, [true]);
        assert_eq!(build(&spec(vec![1], true, Some(false))).zonal, [false]);
        assert_eq!(build(&spec(vec![0, 1], false, None)).zonal, [false]);
        assert_eq!(build(&spec(vec![0, 1], false, Some(true))).zonal, [true]);
    }

    /// The DNS draw spreads requests evenly over the nodes and depends only on the seed.
    #[test]
    fn dns_spreads_requests_evenly() {
        let n = build(&spec(vec![0, 1, 2], true, None));
        let lb = LoadBalancer {
            name: "alb".into(),
            processing: crate::model::dist::Sampler::Deterministic(Default::default()),
            processing_key: 0,
            listener_targets: Vec::new(),
            nodes: n.nodes,
            responses: Vec::new(),
            dns_key: n.dns_key,
            zonal: n.zonal,
            extra: true,
            direct: None,
            listeners: Vec::new(),
            sticky: Vec::new(),
            group_sticky: Vec::new(),
            connections: None,
            nlb: None,
        };
        let mut counts = [0u32; 3];
        for seed in 0..30_000u64 {
            counts[lb.pick_node(seed).index()] += 1;
            assert_eq!(lb.pick_node(seed), lb.pick_node(seed));
        }
        // Binomial(30000, 1/3): sd ≈ 82; 5 sd.
        for c in counts {
            assert!((f64::from(c) - 10_000.0).abs() < 410.0, "{counts:?}");
        }
    }
}
