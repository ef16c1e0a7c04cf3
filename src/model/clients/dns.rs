//! Direct service discovery: no load balancer, clients resolve the service's DNS name to
//! task IPs (ECS service discovery with Cloud Map, `[load_balancer] type = "none"`).
//!
//! **Records.** ECS registers each task of the service in Cloud Map, one `A` record per
//! task IP, and removes it when the task stops
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html>).
//! lbsim's records are the target group's routable targets: a task is in DNS from the time
//! its application listens (no ELB health checks run: a task is healthy once it listens,
//! as with ECS's default container health) until its deregistration starts (it stops, is
//! scaled in or replaced). When no record is healthy, every registered record is returned
//! (lbsim's fail-open, as for the load balancer).
//!
//! **Answers.** A query returns up to `max_answers` (at most 8) records chosen at random:
//! Route 53 multivalue answer routing, which Cloud Map uses, "responds to DNS queries with
//! up to eight healthy records selected at random"
//! (<https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-multivalue.html>).
//! The choice is a keyed draw from the seed of the request that made the query (key
//! `load_balancer/<name>/dns_answer`).
//!
//! **Caches.** Each client (a `[[clients]]` entry: one resolver, e.g. a calling service's
//! tasks sharing a resolver) caches an answer for the records' TTL (`dns_ttl`, default
//! 60 s, Cloud Map's default for ECS) and queries again at its first request after the
//! TTL. An empty answer is not cached. Each request picks one of the cached IPs uniformly
//! (keyed draw, key `load_balancer/<name>/dns_pick`).
//!
//! **Stale IPs.** A request to an IP whose task has gone (stopped, crashed, replaced: a new
//! task gets a new IP) ends at once with `connection_failed` (status 0: no HTTP response):
//! the client's connection is refused or reset. lbsim ends it at once, without a client
//! connect timeout. So after a task is replaced, requests keep failing until the caches
//! expire, then stop. A task whose deregistration has started but not completed (its target
//! is `draining`) still accepts the connections of clients that cached its IP and serves
//! them, as an application finishing its work after ECS took it out of DNS does; once its
//! deregistration completes, its connections fail. A task in an unreachable zone or whose
//! application does not listen (it crashed) fails too.
//!
//! **No load balancer.** No processing time, one hop less, no ALB-hours nor LCUs (the cost
//! report's ALB lines are zero), no ELB health checks.

use super::super::ids::{NodeId, TaskId};
use super::super::observer::Observer;
use super::super::outcome::Cause;
use super::super::spec::{DiscoverySpec, HealthCheckSpec, WorldSpec};
use super::super::world::{Event, World};
use crate::engine::{self, Scheduler, SimDuration, SimTime};

/// One cached record: a task and the IP it had when the answer was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    task: TaskId,
    ip: u32,
}

/// One client's cache.
#[derive(Clone, Debug, Default)]
struct Cache {
    /// When the cached answer expires (queried again at the first request from then on).
    expires: SimTime,
    records: Vec<Record>,
}

/// The DNS side of direct service discovery: settings and every client's cache.
#[derive(Clone, Debug)]
pub struct Dns {
    ttl: SimDuration,
    max_answers: u8,
    /// Key `load_balancer/<name>/dns_answer`.
    answer_key: u64,
    /// Key `load_balancer/<name>/dns_pick`.
    pick_key: u64,
    /// Per client (by id).
    caches: Vec<Cache>,
}

impl Dns {
    /// The DNS of `spec`'s clients with the settings `d`.
    pub(in crate::model) fn new(spec: &WorldSpec, d: DiscoverySpec) -> Dns {
        let name = &spec.load_balancer.name;
        Dns {
            ttl: d.dns_ttl,
            max_answers: d.max_answers.clamp(1, crate::model::spec::MAX_DNS_ANSWERS),
            answer_key: engine::stream_key(spec.seed, &format!("load_balancer/{name}/dns_answer")),
            pick_key: engine::stream_key(spec.seed, &format!("load_balancer/{name}/dns_pick")),
            caches: vec![Cache::default(); spec.clients.len()],
        }
    }
}

/// The health checks a target group of `spec` runs: `hc`, or none when there is no load
/// balancer (direct service discovery: a task is healthy once its application listens).
pub(in crate::model) fn health_check(spec: &WorldSpec, hc: &HealthCheckSpec) -> HealthCheckSpec {
    let mut hc = hc.clone();
    if spec.load_balancer.discovery.is_some() {
        hc.enabled = false;
    }
    hc
}

impl World {
    /// A request of a client with direct service discovery: resolve (or use the cache),
    /// pick an IP, and connect to its task, or fail with `connection_failed`.
    pub(in crate::model) fn direct_receive<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        let now = s.now();
        let req = self.requests.get(key);
        let tg = req.target_group;
        let Some(dns) = self.lb.direct.as_deref_mut() else {
            return;
        };
        let cache = &mut dns.caches[req.client.index()];
        if cache.expires <= now || cache.records.is_empty() {
            let group = &self.target_groups[tg.index()];
            let mut records: Vec<Record> = group
                .targets()
                .iter()
                .enumerate()
                .filter(|&(slot, _)| group.is_routable(slot as u32))
                .filter_map(|(_, t)| {
                    self.tasks[t.task.index()].lease.map(|l| Record {
                        task: t.task,
                        ip: l.ip,
                    })
                })
                .collect();
            let k = records.len().min(usize::from(dns.max_answers));
            let mut rng = engine::keyed(dns.answer_key, req.seed);
            for i in 0..k {
                let j = rand::RngExt::random_range(&mut rng, i..records.len());
                records.swap(i, j);
            }
            records.truncate(k);
            cache.records = records;
            cache.expires = now + dns.ttl;
        }
        let n = cache.records.len();
        let record = (n > 0).then(|| {
            let mut rng = engine::keyed(dns.pick_key, req.seed);
            cache.records[rand::RngExt::random_range(&mut rng, 0..n)]
        });
        let task = record.and_then(|r| {
            let t = &self.tasks[r.task.index()];
            let reachable = t.lease.map(|l| l.ip) == Some(r.ip) && t.accepts() && !t.unreachable;
            match t.target {
                Some((g, slot)) if reachable && g == tg => Some((r.task, slot)),
                _ => None,
            }
        });
        let Some((task, slot)) = task else {
            let req = self.requests.remove(key);
            self.session_ended(now, &req, Cause::ConnectionFailed);
            self.clients[req.client.index()].request_ended(now);
            o.request_finished(now, &req, Cause::ConnectionFailed);
            return;
        };
        self.lb.count_direct(tg, slot);
        let req = self.requests.get_mut(key);
        req.node = NodeId(0);
        req.task = Some(task);
        req.slot = slot;
        req.dispatched = now;
        if self.timeouts_on {
            self.arm_client_timeout(s, key);
        }
        self.serve(s, o, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The settings are kept, `max_answers` within 1–8, and health checks are off only
    /// without a load balancer.
    #[test]
    fn settings_and_health_checks() {
        let mut spec = WorldSpec::default();
        let hc = HealthCheckSpec::default();
        assert!(health_check(&spec, &hc).enabled);
        spec.load_balancer.discovery = Some(DiscoverySpec {
            dns_ttl: SimDuration::from_secs(5),
            max_answers: 20,
        });
        assert!(!health_check(&spec, &hc).enabled);
        let d = Dns::new(&spec, spec.load_balancer.discovery.unwrap());
        assert_eq!(d.max_answers, 8);
        assert_eq!(d.ttl, SimDuration::from_secs(5));
    }
}
