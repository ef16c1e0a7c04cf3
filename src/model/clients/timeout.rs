//! Client timeouts: a client that gives up on a request it has waited too long for.
//!
//! A client with `timeout` (a load tester's or an HTTP library's request timeout) waits at
//! most that long for each response, counted from when it sent the request to when the
//! response reaches it. If the response has not reached it by then, it closes its
//! connection, and the request ends for it with **460**: the code an ALB logs when "the
//! client closed the connection with the load balancer before the idle timeout period
//! elapsed", which happens when "the client timeout period is shorter than the load
//! balancer's idle timeout"
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html#http-460-issues>).
//! CloudWatch counts it in `HTTPCode_ELB_4XX_Count`; in lbsim's outputs it is the outcome
//! `elb_460_client_closed`.
//!
//! **When.** A request's latency as the client sees it at the load balancer's time `t` is
//! `t − arrived + rtt` ([`Request::latency_at`]), so the client's deadline, in the load
//! balancer's time, is `arrived + timeout − rtt` (at the earliest `arrived`): a response
//! the load balancer sends later reaches the client after it gave up. The request ends then,
//! and its recorded latency (`error_latency_ms.elb_460_client_closed`) is the client's
//! timeout (its `rtt` if the timeout is shorter than the round trip). It is not counted in
//! the successes' percentiles. A closed-loop user thinks and sends its next request, as a
//! load tester does after a timeout. The client's connection is closed (with `keep_alive`,
//! the next request opens a new one and pays its handshakes); a sticky target group writes
//! no cookie (no response reached the client).
//!
//! **The work is not shed.** A request still at the load balancer (its processing time not
//! over) is never routed. A request at its target stays there: the target keeps working on
//! it, through its CPU steps, waits and dependency calls, with its worker and memory,
//! exactly as if the client were still waiting (an application does not notice a closed
//! connection until it writes its response). That is the point: timeouts do not lower a
//! server's load, and retries after them raise it. The load balancer, though, lets go of it
//! at the timeout, as an ALB closes the target connection of a request whose client left:
//! it no longer counts it outstanding (`least_outstanding_requests` sees a busy target as
//! free), its routing policy gets the 460 as feedback, its connection to the target is not
//! reused, and a draining target whose only requests are abandoned ones completes its
//! deregistration. When the target is done, nothing more is accounted: the request ended
//! once, at the timeout. It is marked by the [`CLIENT_GONE`] bit of its serial, so
//! `Request` keeps its size.
//!
//! **Cost.** A scenario without `timeout` schedules nothing and tests one flag per
//! request arrival. With it, each request that goes to a target group gets one timer event,
//! in a FIFO lane of its client (times rise with arrivals when the round-trip time is
//! fixed; a timer earlier than the lane's last goes to the heap), ignored when it fires
//! after the request ended (its serial no longer matches). A request moved to a new store
//! key (a fault freezes it, see `model::faults`) gets its timer again under the new key.

use super::super::observer::Observer;
use super::super::outcome::Cause;
use super::super::request::{CLIENT_GONE, Request};
use super::super::world::{Event, World};
use crate::engine::{Scheduler, SimDuration, SimTime};

/// Shortest client `timeout` a scenario may set: 1 ms.
pub const MIN_TIMEOUT: SimDuration = SimDuration::from_millis(1);
/// Longest client `timeout` a scenario may set: 1 h (longer than the ALB's default idle
/// timeout of 60 s and than any load tester's default; the ALB's idle timeout can be set to
/// 4000 s).
pub const MAX_TIMEOUT: SimDuration = SimDuration::from_secs(3600);

/// When the client of `req` (with `timeout`) gives up on it, in the load balancer's time:
/// `arrived + timeout − rtt`, at the earliest `arrived`.
#[inline]
pub(in crate::model) fn deadline(req: &Request, timeout: SimDuration) -> SimTime {
    req.arrived
        .checked_add(SimDuration(timeout.0.saturating_sub(req.rtt.0)))
        .unwrap_or(SimTime::MAX)
}

impl World {
    /// Request `key` (stored, not ended) reached the load balancer: if its client has a
    /// `timeout`, its timer is set (in its client's lane). Call only when some client has
    /// one.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn arm_client_timeout(&mut self, s: &mut Scheduler<Event>, key: u32) {
        let req = self.requests.get(key);
        let client = req.client.index();
        let Some(timeout) = self.clients[client].timeout else {
            return;
        };
        let at = deadline(req, timeout);
        if at > self.end {
            return;
        }
        let serial = req.serial;
        let now = s.now();
        let ev = Event::ClientTimeout { key, serial };
        if req.arrived == now {
            // Health checks use lanes 0..2·groups.
            let lane = 2 * self.target_groups.len() + client;
            s.schedule_lane(lane, at - now, ev);
        } else {
            s.schedule_at(at.max(now), ev);
        }
    }

    /// The timeout of request `serial` (store key `key`) expires: if it has not ended, its
    /// client gives up on it (460). A request still at the load balancer ends there; one at
    /// its target ends for the client and stays at the target, marked [`CLIENT_GONE`].
    pub(in crate::model) fn on_client_timeout<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
    ) {
        let Some(req) = self.requests.live(key, serial) else {
            return; // it ended before: stale
        };
        if req.serial & CLIENT_GONE != 0 {
            return;
        }
        let now = s.now();
        let cause = Cause::Elb460ClientClosed;
        let (ended, drained) = if req.task.is_none() {
            // Still being processed: the load balancer never routes it (its `Forward` is
            // stale now).
            (self.requests.remove(key), false)
        } else {
            // At its target, which keeps it: the load balancer lets go of it.
            let copy = *req;
            req.serial |= CLIENT_GONE;
            self.abandoned += 1;
            if let Some(t) = copy.task {
                self.tasks[t.index()].abandoned += 1;
            }
            let drained = self
                .lb
                .request_ended::<false>(&self.target_groups, now, &copy, cause);
            (copy, drained)
        };
        self.alb_request_ended(now, &ended, cause);
        self.session_ended(now, &ended, cause);
        self.clients[ended.client.index()].gave_up();
        o.request_finished(now, &ended, cause);
        if drained {
            self.complete_drain(now, o, ended.target_group, ended.slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{ClientId, TargetGroupId};

    /// The deadline leaves room for the response's way back: latency at the deadline is
    /// the timeout; a timeout shorter than the round trip gives up on arrival.
    #[test]
    fn the_deadline_makes_the_latency_the_timeout() {
        let r = Request::new(
            0,
            ClientId(0),
            0,
            SimTime(1_000_000_000),
            SimDuration::from_millis(40),
            TargetGroupId(0),
        );
        let d = deadline(&r, SimDuration::from_secs(2));
        assert_eq!(d, SimTime(2_960_000_000));
        assert_eq!(r.latency_at(d), SimDuration::from_secs(2));
        assert_eq!(deadline(&r, SimDuration::from_millis(10)), r.arrived);
    }
}
