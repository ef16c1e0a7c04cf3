//! Load-balancer-to-target connections: keep-alive, reuse, and the keep-alive race.
//!
//! An ALB keeps its connections to targets open and reuses them for later requests. Either
//! end may close an idle one: the load balancer after its `idle_timeout` (default 60 s,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout>),
//! the application after its own keep-alive timeout (Node.js `server.keepAliveTimeout`,
//! default 5 s, <https://nodejs.org/api/http.html#serverkeepalivetimeout>). When the
//! application's is shorter, it closes connections the load balancer still counts as open;
//! a request sent on one just as the target closes it (before the FIN reaches the load
//! balancer) gets a 502: "The target closed the connection with a TCP RST or a TCP FIN
//! while the load balancer had an outstanding request to the target"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-502-issues>).
//! AWS's advice is a target keep-alive timeout *longer* than the idle timeout
//! (`../shared/spec/aws-behaviour.md` §5).
//!
//! **Model.** Per (load balancer node, target) a stack of idle connections, each known by
//! when it went idle (the end of its last response). A request routed to a target takes
//! the connection that went idle last, or opens a new one; it gives it back when its target
//! answers (any other ending closes it). With `K` the target's keep-alive timeout, `I` the
//! idle timeout and `f` the load balancer's `fin_propagation`, a connection idle for `d`:
//! - `d < min(K, I)`: open, reused;
//! - `K ≤ d < K + f` and `K < I`: the target closed it, the load balancer does not know
//!   yet: the request ends with [`Cause::Elb502KeepAliveRace`](crate::model::Cause);
//! - otherwise closed by one end, known to the load balancer: a new connection.
//!
//! AWS does not publish which idle connection a node reuses; lbsim takes the most recently
//! used (last in, first out), as NGINX's upstream keep-alive cache does
//! (<https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive>) and most
//! HTTP client pools do. The stack is then ordered by idle time, so only its top needs a
//! look: when the top is closed, every connection under it is too. Opening a connection
//! costs no time in the model (a TCP handshake inside a VPC is well under a millisecond).
//!
//! A scenario where no service sets `keep_alive_timeout` builds none of this: the load
//! balancer then pays nothing per request and no race happens (today's behaviour).

use crate::engine::{SimDuration, SimTime};
use crate::model::ids::{NodeId, TaskId};
use crate::model::outcome::Cause;
use crate::model::spec::WorldSpec;

/// What a request routed to a target finds in its node's pool of connections to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    /// An open idle connection, reused.
    Reused,
    /// None usable: a new connection.
    Opened,
    /// The connection that went idle last was closed by the target less than
    /// `fin_propagation` ago: the request is sent on it and fails (502).
    Race,
}

/// Every node's pools of idle connections to targets, and the timeouts that close them.
#[derive(Clone, Debug)]
pub struct TargetConnections {
    /// Per service (by index): its application's keep-alive timeout (`None`: longer than
    /// the idle timeout).
    keep_alive: Vec<Option<SimDuration>>,
    /// The load balancer's `idle_timeout`.
    idle_timeout: SimDuration,
    /// The load balancer's `fin_propagation`.
    fin_propagation: SimDuration,
    /// Per node, per task (by index): when each idle connection went idle, oldest first.
    pools: Vec<Vec<Vec<SimTime>>>,
    /// Connections opened so far.
    opened: u64,
    /// Requests sent on a reused connection so far.
    reused: u64,
    /// Keep-alive races so far.
    races: u64,
}

impl TargetConnections {
    /// The connections of `spec` with `nodes` load balancer nodes; `None` when no service
    /// sets a keep-alive timeout (nothing to model).
    pub fn build(spec: &WorldSpec, nodes: usize) -> Option<Box<TargetConnections>> {
        if spec.services.iter().all(|s| s.keep_alive_timeout.is_none()) {
            return None;
        }
        Some(Box::new(TargetConnections {
            keep_alive: spec.services.iter().map(|s| s.keep_alive_timeout).collect(),
            idle_timeout: spec.load_balancer.idle_timeout,
            fin_propagation: spec.load_balancer.fin_propagation,
            pools: vec![Vec::new(); nodes],
            opened: 0,
            reused: 0,
            races: 0,
        }))
    }

    /// A request of `node` routed at `now` to `task`, of service index `service`, takes a
    /// connection (see the [module](self) for the rule).
    pub fn acquire(
        &mut self,
        node: NodeId,
        task: TaskId,
        service: usize,
        now: SimTime,
    ) -> Acquired {
        let pools = &mut self.pools[node.index()];
        let Some(pool) = pools.get_mut(task.index()) else {
            self.opened += 1;
            return Acquired::Opened;
        };
        let Some(&since) = pool.last() else {
            self.opened += 1;
            return Acquired::Opened;
        };
        let idle = now - since;
        let keep_alive = self.keep_alive[service].unwrap_or(SimDuration::MAX);
        if keep_alive.is_zero() {
            // "Connection: close" after each response: the load balancer knows.
            pool.clear();
            self.opened += 1;
            return Acquired::Opened;
        }
        if idle < keep_alive.min(self.idle_timeout) {
            pool.pop();
            self.reused += 1;
            return Acquired::Reused;
        }
        // The newest is closed (or closing), so is every older one.
        pool.clear();
        if keep_alive < self.idle_timeout
            && idle
                < SimDuration(keep_alive.0.saturating_add(self.fin_propagation.0))
                    .min(self.idle_timeout)
        {
            self.races += 1;
            Acquired::Race
        } else {
            self.opened += 1;
            Acquired::Opened
        }
    }

    /// Request `node`'s request to `task` ended at `now` with `cause`: a response from the
    /// target ([`Cause::Ok`], [`Cause::Target5xx`]) leaves its connection open and idle
    /// (a target that keeps nothing alive closes it at once: [`TargetConnections::acquire`]
    /// never reuses it); any other ending closed it.
    pub fn release(&mut self, node: NodeId, task: TaskId, cause: Cause, now: SimTime) {
        if !matches!(cause, Cause::Ok | Cause::Target5xx) {
            return;
        }
        let pools = &mut self.pools[node.index()];
        if pools.len() <= task.index() {
            pools.resize_with(task.index() + 1, Vec::new);
        }
        pools[task.index()].push(now);
    }

    /// Closes every connection of every node to `task` (its task stopped).
    pub fn close_all(&mut self, task: TaskId) {
        for pools in &mut self.pools {
            if let Some(p) = pools.get_mut(task.index()) {
                *p = Vec::new();
            }
        }
    }

    /// Connections opened so far (CloudWatch `NewConnectionCount` counts the client side;
    /// this is the target side).
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Requests sent on a reused connection so far.
    pub fn reused(&self) -> u64 {
        self.reused
    }

    /// Requests that met the keep-alive race so far.
    pub fn races(&self) -> u64 {
        self.races
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::spec::{LoadBalancerSpec, ServiceSpec};

    fn conns(keep_alive: Option<SimDuration>, idle: u64) -> Box<TargetConnections> {
        let spec = WorldSpec {
            load_balancer: LoadBalancerSpec {
                idle_timeout: SimDuration::from_secs(idle),
                ..Default::default()
            },
            services: vec![ServiceSpec {
                keep_alive_timeout: keep_alive,
                ..Default::default()
            }],
            ..Default::default()
        };
        TargetConnections::build(&spec, 1).unwrap()
    }

    const N: NodeId = NodeId(0);
    const T: TaskId = TaskId(0);

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn no_keep_alive_timeout_builds_nothing() {
        assert!(TargetConnections::build(&WorldSpec::default(), 1).is_none());
    }

    /// 5 s keep-alive, 60 s idle timeout, 1 ms FIN: reuse before 5 s, a race in
    /// [5 s, 5.001 s), a new connection after.
    #[test]
    fn the_race_window_follows_the_target_keep_alive() {
        let mut c = conns(Some(SimDuration::from_secs(5)), 60);
        assert_eq!(c.acquire(N, T, 0, at(0)), Acquired::Opened);
        c.release(N, T, Cause::Ok, at(10));
        assert_eq!(c.acquire(N, T, 0, at(5009)), Acquired::Reused);
        c.release(N, T, Cause::Ok, at(5010));
        assert_eq!(c.acquire(N, T, 0, at(10_010)), Acquired::Race);
        // The raced connection is gone.
        assert_eq!(c.acquire(N, T, 0, at(10_010)), Acquired::Opened);
        c.release(N, T, Cause::Ok, at(10_020));
        assert_eq!(c.acquire(N, T, 0, at(15_021)), Acquired::Opened);
        assert_eq!((c.opened(), c.reused(), c.races()), (3, 1, 1));
    }

    /// A keep-alive longer than the idle timeout (65 s vs 60 s): the load balancer closes
    /// first, never a race.
    #[test]
    fn a_longer_keep_alive_never_races() {
        let mut c = conns(Some(SimDuration::from_secs(65)), 60);
        c.release(N, T, Cause::Ok, at(0));
        assert_eq!(c.acquire(N, T, 0, at(59_999)), Acquired::Reused);
        for gap in [60_000, 65_000, 65_000 + 1] {
            c.release(N, T, Cause::Ok, at(0));
            assert_eq!(c.acquire(N, T, 0, at(gap)), Acquired::Opened, "{gap}");
        }
    }

    /// Two requests at once hold two connections; the later-released one is reused first
    /// (LIFO), and an ELB error closes its connection.
    #[test]
    fn connections_are_reused_last_in_first_out() {
        let mut c = conns(Some(SimDuration::from_secs(5)), 60);
        c.release(N, T, Cause::Ok, at(0));
        c.release(N, T, Cause::Ok, at(1000));
        c.release(N, T, Cause::Elb502TargetClosed, at(2000));
        // The top went idle at 1 s: 5.5 s later it is closed, and so is the one under it.
        assert_eq!(c.acquire(N, T, 0, at(6500)), Acquired::Opened);
        assert_eq!(c.acquire(N, T, 0, at(6500)), Acquired::Opened);
        c.release(N, T, Cause::Ok, at(7000));
        c.release(N, T, Cause::Ok, at(8000));
        assert_eq!(c.acquire(N, T, 0, at(12_500)), Acquired::Reused);
        assert_eq!(c.acquire(N, T, 0, at(12_500)), Acquired::Opened);
    }

    #[test]
    fn zero_keep_alive_opens_a_connection_per_request() {
        let mut c = conns(Some(SimDuration::ZERO), 60);
        c.release(N, T, Cause::Ok, at(0));
        assert_eq!(c.acquire(N, T, 0, at(0)), Acquired::Opened);
    }
}
