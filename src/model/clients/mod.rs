//! Clients: the sources of requests, their arrival processes, and the arrival handler.
//!
//! Each client has three random streams, derived from the master seed and its name:
//! `client/<name>/arrivals` (the gaps between its requests), `client/<name>/requests` (one
//! seed per request, from which every random quantity of the request is drawn: see
//! [`request`](crate::model::request)) and the key `client/<name>/rtt` of its round-trip
//! times.

pub mod connections;
mod websocket;
pub(in crate::model) use websocket::websocket_over;

use super::ModelError;
use super::arrivals::ArrivalProcess;
use super::dist::Sampler;
use super::ids::ClientId;
use super::observer::Observer;
use super::request::{Request, draw};
use super::spec::WorldSpec;
use super::world::{Event, World};
use crate::engine::{self, Scheduler, SimDuration, SimRng, SimTime};

/// A client: its arrival process and its random streams.
#[derive(Clone, Debug)]
pub struct Client {
    /// This client's id.
    pub id: ClientId,
    /// Name from the scenario.
    pub name: String,
    process: ArrivalProcess,
    /// Stream `client/<name>/arrivals`.
    arrivals_rng: SimRng,
    /// Stream `client/<name>/requests`: one seed per request.
    requests_rng: SimRng,
    rtt: Sampler,
    /// Key `client/<name>/rtt`.
    rtt_key: u64,
    /// Index of the listener it sends to.
    pub listener: usize,
    /// Bytes of a request (as a duration's nanoseconds) and key
    /// `client/<name>/request_size`.
    request_size: (Sampler, u64),
    /// Bytes of a response (as a duration's nanoseconds) and key
    /// `client/<name>/response_size`.
    response_size: (Sampler, u64),
    /// Its connections, when modelled (keep-alive, or an HTTPS listener: see
    /// [`connections`]).
    pub(in crate::model) connections: Option<Box<connections::ClientConnections>>,
    /// Its requests are WebSockets: their open duration and key `client/<name>/websocket`
    /// (see `World::open_websocket`).
    pub(in crate::model) websocket: Option<Box<(Sampler, u64)>>,
}

impl Client {
    /// The clients of `spec`; `listeners` is the number of listeners.
    pub(in crate::model) fn build_all(
        spec: &WorldSpec,
        listeners: usize,
    ) -> Result<Vec<Client>, ModelError> {
        let seed = spec.seed;
        let mut clients = Vec::with_capacity(spec.clients.len());
        for (i, c) in spec.clients.iter().enumerate() {
            if c.listener >= listeners {
                return Err(ModelError::UnknownReference(format!(
                    "client {} sends to listener #{}, which does not exist",
                    c.name, c.listener
                )));
            }
            clients.push(Client {
                id: ClientId(i as u32),
                name: c.name.clone(),
                process: ArrivalProcess::new(&c.arrivals),
                arrivals_rng: engine::stream(seed, &format!("client/{}/arrivals", c.name)),
                requests_rng: engine::stream(seed, &format!("client/{}/requests", c.name)),
                rtt: Sampler::new(&c.rtt, &format!("clients.{}.rtt", c.name))?,
                rtt_key: engine::stream_key(seed, &format!("client/{}/rtt", c.name)),
                listener: c.listener,
                request_size: (
                    Sampler::new(&c.request_size, &format!("clients.{}.request_size", c.name))?,
                    engine::stream_key(seed, &format!("client/{}/request_size", c.name)),
                ),
                response_size: (
                    Sampler::new(
                        &c.response_size,
                        &format!("clients.{}.response_size", c.name),
                    )?,
                    engine::stream_key(seed, &format!("client/{}/response_size", c.name)),
                ),
                websocket: match &c.websocket {
                    None => None,
                    Some(d) => Some(Box::new((
                        Sampler::new(d, &format!("clients.{}.websocket.duration", c.name))?,
                        engine::stream_key(seed, &format!("client/{}/websocket", c.name)),
                    ))),
                },
                connections: connections::ClientConnections::build(
                    c.keep_alive,
                    spec.load_balancer.listeners[c.listener].protocol == "HTTPS",
                    u32::from(c.tls_handshake_round_trips),
                    spec.load_balancer.idle_timeout,
                ),
            });
        }
        Ok(clients)
    }
}

impl Client {
    /// A request of this client ended at `now`: its connection goes idle (if modelled).
    #[inline]
    pub(in crate::model) fn request_ended(&mut self, now: SimTime) {
        if let Some(c) = &mut self.connections {
            c.release(now);
        }
    }

    /// The client's connections, if modelled.
    pub fn connections(&self) -> Option<&connections::ClientConnections> {
        self.connections.as_deref()
    }

    /// The bytes of the request whose seed is `seed` (a keyed draw).
    #[inline]
    pub(in crate::model) fn request_bytes(&self, seed: u64) -> u64 {
        draw(&self.request_size.0, self.request_size.1, seed).0
    }

    /// The bytes of the response to the request whose seed is `seed` (a keyed draw).
    #[inline]
    pub(in crate::model) fn response_bytes(&self, seed: u64) -> u64 {
        draw(&self.response_size.0, self.response_size.1, seed).0
    }
}

impl World {
    /// Schedules every client's first arrival.
    pub(in crate::model) fn schedule_first_arrivals(&mut self, s: &mut Scheduler<Event>) {
        let end = self.end;
        for c in &mut self.clients {
            if let Some(t) = c.process.next_after(SimTime::ZERO, &mut c.arrivals_rng)
                && t <= end
            {
                s.schedule_at(t, Event::Arrival(c.id));
            }
        }
    }

    /// A request of client `c` reaches the load balancer: schedule the client's next one,
    /// draw this one's seed and round-trip time, and hand it to the load balancer.
    pub(in crate::model) fn on_arrival<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        c: ClientId,
    ) {
        use rand::Rng;
        let now = s.now();
        let client = &mut self.clients[c.index()];
        if let Some(t) = client.process.next_after(now, &mut client.arrivals_rng)
            && t <= self.end
        {
            s.schedule_at(t, Event::Arrival(c));
        }
        let seed = client.requests_rng.next_u64();
        let mut rtt = draw(&client.rtt, client.rtt_key, seed);
        if let Some(conns) = &mut client.connections {
            // A new connection's handshakes: round trips before the request is sent.
            rtt = SimDuration(rtt.0.saturating_mul(1 + u64::from(conns.acquire(now))));
        }
        let req = Request::new(
            self.next_serial,
            c,
            seed,
            now,
            rtt,
            self.lb.listener_target(client.listener),
        );
        self.next_serial += 1;
        self.cost.alb.arrived(now);
        o.request_arrived(now, &req);
        self.lb_receive(s, o, req);
    }
}
