//! WebSockets: a client whose `websocket = { duration }` is set sends only WebSocket
//! upgrades ([AWS: WebSockets on an ALB](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#listener-configuration)).
//!
//! **Model.** The upgrade is routed once, by the target group's algorithm, like any request;
//! the connection then stays on that target until it closes. It is a request in flight there
//! for its whole life: it counts as outstanding at the load balancer (so
//! `least_outstanding_requests` sees it) and holds its target's drain. It uses no worker and
//! no CPU at its task (an event-loop server holds an idle socket for free; the upgrade's own
//! CPU, a fraction of a millisecond, is neglected), and no memory.
//!
//! **End.** It ends `websocket_closed` (HTTP 101, a success) at its duration, drawn per
//! request (key `client/<name>/websocket`, a keyed draw from the request's seed). It ends
//! `websocket_cut` when anything else ends the requests at its target: its draining
//! target's `deregistration_delay` expires (AWS closes the connections still open then:
//! [AWS: deregistration delay](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay)),
//! or its task stops or crashes. So a WebSocket never blocks a drain for longer than the
//! delay. Its latency (`latency_ms`) is its open time plus the round trip; the latency breakdown
//! counts the open time as a wait.
//!
//! **Limits.** The load balancer's `idle_timeout` is not applied to an open WebSocket (its
//! duration is taken to include the traffic or pings that keep it open). A WebSocket routed
//! to a task that does not answer (hung, its zone down) is not opened: it waits like a
//! request and ends at the timeout (504); so does an open one whose task hangs or whose zone
//! goes down.

use crate::engine::{Scheduler, SimTime};
use crate::model::elb::health::is_probe;
use crate::model::observer::Observer;
use crate::model::outcome::Cause;
use crate::model::request::Request;
use crate::model::world::{Event, World};

impl World {
    /// Whether `req` (a client request, not a health check) is a WebSocket.
    #[inline]
    pub(in crate::model) fn is_websocket(&self, req: &Request) -> bool {
        !is_probe(req.serial) && self.clients[req.client.index()].websocket.is_some()
    }

    /// Request `key`, a WebSocket upgrade just routed to a task that answers, opens: it
    /// stays on its target (in flight, outstanding) and closes at its drawn duration.
    #[cold]
    #[inline(never)]
    pub(in crate::model) fn open_websocket<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        let now = s.now();
        let req = self.requests.get_mut(key);
        let Some(ws) = &self.clients[req.client.index()].websocket else {
            return;
        };
        let duration = req.draw(&ws.0, ws.1);
        req.admitted = now;
        req.phase_start = now;
        o.request_dispatched(now, req);
        o.request_started(now, req);
        let serial = req.serial;
        if let Some(at) = now.checked_add(duration)
            && at <= self.end
        {
            s.schedule_at(at, Event::WebsocketEnd { key, serial });
        }
    }

    /// WebSocket `serial` (store key `key`) reaches its duration: it closes
    /// (`websocket_closed`), unless it was cut before.
    pub(in crate::model) fn on_websocket_end<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
        serial: u64,
    ) {
        if self.requests.live(key, serial).is_none() {
            return;
        }
        let now = s.now();
        let mut req = self.requests.remove(key);
        websocket_over(&mut req, now);
        if self.request_over(now, o, &req, Cause::WebsocketClosed) {
            self.complete_drain(now, o, req.target_group, req.slot);
        }
    }
}

/// A WebSocket ends at `now`: its open time counts as a wait in its latency breakdown.
#[inline]
pub(in crate::model) fn websocket_over(req: &mut Request, now: SimTime) {
    req.waits = now - req.phase_start;
}
