//! Client-side connections: keep-alive (several requests per connection) and the cost of
//! opening one (TCP and, on an HTTPS listener, TLS handshakes in round trips).
//!
//! A client that sets neither `keep_alive` nor sends to an HTTPS listener builds none of
//! this (today's behaviour: a request's `rtt` is all the network time it pays, any TCP
//! handshake folded in).
//!
//! **Handshakes.** A new connection costs round trips before its first request: one for
//! TCP (only counted when the client sets `keep_alive`, so that a reused connection saves
//! it; without `keep_alive` it stays folded into `rtt`, as before), plus
//! `tls_handshake_round_trips` on an HTTPS listener: 1 with TLS 1.3, 2 with TLS 1.2 (RFC
//! 8446 §2, <https://www.rfc-editor.org/rfc/rfc8446#section-2>). An ALB HTTPS listener
//! negotiates either: its default security policy `ELBSecurityPolicy-TLS13-1-2-2021-06`
//! offers TLS 1.3 and 1.2
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html>);
//! lbsim's default is 1 (a modern client negotiates TLS 1.3). The round trips, each the
//! request's own drawn `rtt`, are added to the latency the client sees (the model does not
//! delay the request's arrival at the load balancer).
//!
//! **Keep-alive.** With `keep_alive = { requests, idle }` a client reuses an idle
//! connection for its next request while the connection has carried fewer than `requests`
//! requests and has been idle less than `idle` and less than the load balancer's
//! `idle_timeout` (the ALB closes a client connection idle that long,
//! <https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout>).
//! A client in lbsim stands for many users; its connections form one pool, reused most
//! recently used first (like a browser's or an HTTP library's pool). Which busy connection
//! a response frees is not tracked per request (so `Request` stays the same size): the
//! response frees the connection taken last. Behind an NLB (`type = "network"`), where a
//! connection is bound to one target, each connection has an id and a request frees its
//! own ([`ClientConnections::release_conn`], see `model::elb::network`).

use crate::engine::{SimDuration, SimTime};

/// A client's connections to the load balancer.
#[derive(Clone, Debug)]
pub struct ClientConnections {
    /// `keep_alive`: most requests per connection, and the client's idle timeout, already
    /// capped by the load balancer's idle timeout (`None`: a new connection per request).
    keep_alive: Option<(u32, SimDuration)>,
    /// Round trips a new connection pays before its first request.
    handshake: u32,
    /// Idle connections: when each went idle, how many requests it has carried and its id,
    /// oldest first.
    idle: Vec<(SimTime, u32, u64)>,
    /// Busy connections' request counts and ids, in the order they were taken.
    busy: Vec<(u32, u64)>,
    /// The id of the connection the last [`ClientConnections::acquire`] gave.
    last: u64,
    /// With [`ClientConnections::track_closes`]: the ids of the idle connections found
    /// closed (idle too long) since the last [`ClientConnections::take_closed`].
    closed: Option<Vec<u64>>,
    /// Connections opened so far.
    opened: u64,
    /// Requests sent on a reused connection so far.
    reused: u64,
}

impl ClientConnections {
    /// The connections of a client with `keep_alive` (most requests, idle timeout),
    /// sending to a listener that is HTTPS if `https`, negotiating TLS in `tls_round_trips`
    /// round trips, behind a load balancer with `lb_idle_timeout`; `None` when there is
    /// nothing to model (no keep-alive, plain HTTP).
    pub fn build(
        keep_alive: Option<(u32, SimDuration)>,
        https: bool,
        tls_round_trips: u32,
        lb_idle_timeout: SimDuration,
    ) -> Option<Box<ClientConnections>> {
        if keep_alive.is_none() && !https {
            return None;
        }
        let tls = if https { tls_round_trips } else { 0 };
        Some(Box::new(ClientConnections {
            keep_alive: keep_alive.map(|(n, idle)| (n.max(1), idle.min(lb_idle_timeout))),
            handshake: tls + u32::from(keep_alive.is_some()),
            idle: Vec::new(),
            busy: Vec::new(),
            last: 0,
            closed: None,
            opened: 0,
            reused: 0,
        }))
    }

    /// A request sent at `now` takes a connection; returns the round trips it pays before
    /// it is sent (0 on a reused connection).
    pub fn acquire(&mut self, now: SimTime) -> u32 {
        let Some((_, idle_timeout)) = self.keep_alive else {
            self.opened += 1;
            return self.handshake;
        };
        if let Some(&(since, uses, id)) = self.idle.last() {
            if now - since < idle_timeout {
                self.idle.pop();
                self.busy.push((uses + 1, id));
                self.last = id;
                self.reused += 1;
                return 0;
            }
            // The newest idle connection is closed: so is every older one.
            if let Some(closed) = &mut self.closed {
                closed.extend(self.idle.iter().map(|&(_, _, id)| id));
            }
            self.idle.clear();
        }
        self.busy.push((1, self.opened));
        self.last = self.opened;
        self.opened += 1;
        self.handshake
    }

    /// A request's response reached the client at `now` (or it ended otherwise): its
    /// connection goes idle, unless it has carried its `requests`.
    pub fn release(&mut self, now: SimTime) {
        let Some((max, _)) = self.keep_alive else {
            return;
        };
        if let Some((uses, id)) = self.busy.pop()
            && uses < max
        {
            self.idle.push((now, uses, id));
        }
    }

    /// With keep-alive, the id of the connection the last [`ClientConnections::acquire`]
    /// gave (ids count the connections opened, from 0); `None` without keep-alive (a new
    /// connection per request).
    pub fn kept_alive(&self) -> Option<u64> {
        self.keep_alive.map(|_| self.last)
    }

    /// Connection `id`'s request ended at `now`: it goes idle unless it has carried its
    /// `requests` or `keep` is false (it was closed or reset); true if it stays open.
    pub fn release_conn(&mut self, now: SimTime, id: u64, keep: bool) -> bool {
        let Some((max, _)) = self.keep_alive else {
            return false;
        };
        let Some(i) = self.busy.iter().rposition(|&(_, c)| c == id) else {
            return false;
        };
        let (uses, _) = self.busy.remove(i);
        let open = keep && uses < max;
        if open {
            self.idle.push((now, uses, id));
        }
        open
    }

    /// Records the ids of the idle connections found closed, for
    /// [`ClientConnections::take_closed`] (an NLB follows its connections).
    pub fn track_closes(&mut self) {
        self.closed = Some(Vec::new());
    }

    /// The ids of the idle connections found closed since the last call.
    pub fn take_closed(&mut self) -> Vec<u64> {
        self.closed.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Forgets idle connection `id` (the load balancer closed it).
    pub fn close(&mut self, id: u64) {
        self.idle.retain(|&(_, _, c)| c != id);
    }

    /// The client gave up on a request (its timeout): it closes the request's connection,
    /// which carries nothing more (the connection taken last, as for
    /// [`ClientConnections::release`]).
    pub fn abandon(&mut self) {
        self.busy.pop();
    }

    /// Connections opened so far.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Requests sent on a reused connection so far.
    pub fn reused(&self) -> u64 {
        self.reused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(ms)
    }

    #[test]
    fn plain_http_without_keep_alive_models_nothing() {
        assert!(ClientConnections::build(None, false, 1, SimDuration::from_secs(60)).is_none());
    }

    /// HTTPS without keep-alive: every request pays the TLS round trips (2 for TLS 1.2).
    #[test]
    fn https_without_keep_alive_pays_tls_every_time() {
        let mut c = ClientConnections::build(None, true, 2, SimDuration::from_secs(60)).unwrap();
        for t in 0..3 {
            assert_eq!(c.acquire(at(t)), 2);
            c.release(at(t));
        }
        assert_eq!((c.opened(), c.reused()), (3, 0));
    }

    /// Keep-alive over HTTPS with TLS 1.3: the first request pays TCP + TLS, the next ones
    /// nothing, until the connection has carried 3 requests or sat idle 30 s.
    #[test]
    fn keep_alive_reuses_until_the_request_limit_or_idle_timeout() {
        let mut c = ClientConnections::build(
            Some((3, SimDuration::from_secs(30))),
            true,
            1,
            SimDuration::from_secs(60),
        )
        .unwrap();
        let mut paid = Vec::new();
        for t in [0, 10, 20, 30, 40, 31_000] {
            paid.push(c.acquire(at(t)));
            c.release(at(t + 5));
        }
        assert_eq!(paid, [2, 0, 0, 2, 0, 2]);
    }

    /// The load balancer's idle timeout closes a client connection first if shorter.
    #[test]
    fn the_load_balancer_idle_timeout_caps_the_client_idle() {
        let mut c = ClientConnections::build(
            Some((100, SimDuration::from_secs(300))),
            false,
            1,
            SimDuration::from_secs(60),
        )
        .unwrap();
        c.acquire(at(0));
        c.release(at(0));
        assert_eq!(c.acquire(at(59_999)), 0);
        c.release(at(60_000));
        assert_eq!(c.acquire(at(120_000)), 1);
    }
}
