//! Clients: the sources of requests, their arrival processes, and the arrival handler.
//!
//! Each client has three random streams, derived from the master seed and its name:
//! `client/<name>/arrivals` (the gaps between its requests), `client/<name>/requests` (one
//! seed per request, from which every random quantity of the request is drawn: see
//! [`request`](crate::model::request)) and the key `client/<name>/rtt` of its round-trip
//! times. A request mix and a source pool add keyed draws of their own (see [`mix`]). A
//! closed-loop client also has `client/<name>/sessions` and the key `client/<name>/think`
//! (see [`users`]); an open-loop client with sessions the key `client/<name>/session`.

pub mod dns;
pub mod mix;
pub mod users;

pub mod connections;
pub mod timeout;
mod websocket;
pub(in crate::model) use websocket::websocket_over;

use super::ModelError;
use super::arrivals::ArrivalProcess;
use super::dist::Sampler;
use super::elb::NO_GROUP;
use super::ids::ClientId;
use super::observer::Observer;
use super::outcome::Cause;
use super::request::{Request, draw};
use super::spec::{ArrivalSpec, WorldSpec};
use super::world::{Event, World};
use crate::engine::{self, Scheduler, SimDuration, SimRng, SimTime};
use users::{NO_SESSION, Users};

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
    /// The request mix (one `GET /` entry if the scenario names none).
    pub mix: mix::Mix,
    /// The source address pool.
    pub sources: mix::SourcePool,
    /// No user mix and no source pool: its listener's rules see the same request every time.
    plain: bool,
    /// Its closed-loop users, if its arrivals are `closed_loop`.
    users: Option<Box<Users>>,
    /// Number of its first session over all clients (sessions are numbered densely).
    session_base: u32,
    /// Open loop: sessions its requests are spread over (0: none), and key
    /// `client/<name>/session` of the draw.
    sessions: (u32, u64),
    /// Its connections, when modelled (keep-alive, or an HTTPS listener: see
    /// [`connections`]).
    pub(in crate::model) connections: Option<Box<connections::ClientConnections>>,
    /// Its requests are WebSockets: their open duration and key `client/<name>/websocket`
    /// (see `World::open_websocket`).
    pub(in crate::model) websocket: Option<Box<(Sampler, u64)>>,
    /// Its `timeout`: how long it waits for a response before it gives up (460); `None`:
    /// it waits for ever (see [`timeout`]).
    pub(in crate::model) timeout: Option<SimDuration>,
}

impl Client {
    /// The clients of `spec`; `listeners` is the number of listeners.
    pub(in crate::model) fn build_all(
        spec: &WorldSpec,
        listeners: usize,
    ) -> Result<Vec<Client>, ModelError> {
        let seed = spec.seed;
        let mut clients = Vec::with_capacity(spec.clients.len());
        let mut session_base = 0u32;
        for (i, c) in spec.clients.iter().enumerate() {
            let users = match &c.arrivals {
                ArrivalSpec::ClosedLoop(cl) => Some(Box::new(Users::new(cl, &c.name, seed)?)),
                _ => None,
            };
            let sessions = if users.is_some() { 0 } else { c.sessions };
            let count = users.as_ref().map_or(sessions, |u| u.count());
            if c.timeout.is_some() && c.websocket.is_some() {
                return Err(ModelError::Unsupported(format!(
                    "client {}: a timeout does not apply to WebSocket clients",
                    c.name
                )));
            }
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
                mix: mix::Mix::new(seed, c)?,
                sources: mix::SourcePool::new(seed, c),
                plain: c.requests.is_empty() && c.source_ips.is_empty(),
                users,
                session_base,
                sessions: (
                    sessions,
                    engine::stream_key(seed, &format!("client/{}/session", c.name)),
                ),
                websocket: match &c.websocket {
                    None => None,
                    Some(d) => Some(Box::new((
                        Sampler::new(d, &format!("clients.{}.websocket.duration", c.name))?,
                        engine::stream_key(seed, &format!("client/{}/websocket", c.name)),
                    ))),
                },
                timeout: c.timeout,
                connections: connections::ClientConnections::build(
                    c.keep_alive,
                    matches!(
                        spec.load_balancer.listeners[c.listener].protocol.as_str(),
                        "HTTPS" | "TLS"
                    ),
                    u32::from(c.tls_handshake_round_trips),
                    spec.load_balancer.idle_timeout,
                ),
            });
            if spec.load_balancer.network
                && let Some(c) = clients
                    .last_mut()
                    .and_then(|c: &mut Client| c.connections.as_mut())
            {
                // An NLB follows each connection's life (`model::elb::network`).
                c.track_closes();
            }
            session_base = session_base.checked_add(count).ok_or_else(|| {
                ModelError::Unsupported("more than 4e9 sessions over all clients".into())
            })?;
        }
        Ok(clients)
    }
}

impl Client {
    /// Its closed-loop users, if its arrivals are `closed_loop`.
    pub fn users(&self) -> Option<&Users> {
        self.users.as_deref()
    }

    /// Sessions it has (closed loop: its users; open loop: `sessions.count`, or 0).
    pub fn session_count(&self) -> u32 {
        self.users.as_ref().map_or(self.sessions.0, |u| u.count())
    }

    /// The round-trip time of the request whose seed is `seed`, sent at `now` (a keyed
    /// draw), times the handshakes' round trips when it needs a new connection (see
    /// [`connections`]).
    #[inline]
    pub(in crate::model) fn round_trip(&mut self, seed: u64, now: SimTime) -> (SimDuration, bool) {
        let mut rtt = draw(&self.rtt, self.rtt_key, seed);
        let mut new = true;
        if let Some(conns) = &mut self.connections {
            // A new connection's handshakes: round trips before the request is sent (none
            // on a reused connection, and only there).
            let handshakes = conns.acquire(now);
            new = handshakes > 0;
            rtt = SimDuration(rtt.0.saturating_mul(1 + u64::from(handshakes)));
        }
        (rtt, new)
    }

    /// True if this client's requests take the plain path: no rules or mix to run (its
    /// listener forwards to one group), no connections, WebSockets or sessions (see
    /// [`World::plain`](crate::model::World)).
    pub(in crate::model) fn plain_path(&self, lb: &crate::model::elb::LoadBalancer) -> bool {
        self.plain
            && lb.listener_target(self.listener) != NO_GROUP
            && self.connections.is_none()
            && self.websocket.is_none()
            && self.timeout.is_none()
            && self.sessions.0 == 0
            && self.users.is_none()
    }

    /// A request of this client ended at `now`: its connection goes idle (if modelled).
    #[inline]
    pub(in crate::model) fn request_ended(&mut self, now: SimTime) {
        if let Some(c) = &mut self.connections {
            c.release(now);
        }
    }

    /// The client gave up on a request (its `timeout`): it closes the request's
    /// connection (if modelled), so its next request opens a new one.
    #[inline]
    pub(in crate::model) fn gave_up(&mut self) {
        if let Some(c) = &mut self.connections {
            c.abandon();
        }
    }

    /// Its `timeout`, if it has one (see [`timeout`]).
    pub fn timeout(&self) -> Option<SimDuration> {
        self.timeout
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
    /// Schedules every client's first arrival (a closed-loop client: each user's, staggered
    /// as [`users`] documents).
    pub(in crate::model) fn schedule_first_arrivals(&mut self, s: &mut Scheduler<Event>) {
        let end = self.end;
        for c in &mut self.clients {
            if let Some(u) = &c.users {
                let offsets = users::stagger(u.count(), u.mean_think, &mut c.arrivals_rng);
                for (user, d) in offsets.into_iter().enumerate() {
                    let t = SimTime::ZERO + d;
                    if t <= end {
                        s.schedule_at(
                            t,
                            Event::UserArrival {
                                client: c.id,
                                user: user as u32,
                            },
                        );
                    }
                }
                continue;
            }
            if let Some(t) = c.process.next_after(SimTime::ZERO, &mut c.arrivals_rng)
                && t <= end
            {
                s.schedule_at(t, Event::Arrival(c.id));
            }
        }
    }

    /// A request of client `c` reaches the load balancer: schedule the client's next one,
    /// draw this one's seed and round-trip time, and hand it to the load balancer.
    pub(in crate::model) fn on_arrival<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        c: ClientId,
    ) {
        let now = s.now();
        let client = &mut self.clients[c.index()];
        if let Some(t) = client.process.next_after(now, &mut client.arrivals_rng)
            && t <= self.end
        {
            s.schedule_at(t, Event::Arrival(c));
        }
        self.send::<O, PLAIN>(s, o, c, NO_SESSION);
    }

    /// Sends a request of client `c` now, in session `session` (an open-loop client with
    /// sessions draws one instead of [`NO_SESSION`]). `PLAIN`: the world is
    /// [`World::plain`](crate::model::World) (no sessions, rules, mix or connections).
    #[inline]
    fn send<O: Observer, const PLAIN: bool>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        c: ClientId,
        session: u32,
    ) {
        use rand::Rng;
        let now = s.now();
        let client = &mut self.clients[c.index()];
        let seed = client.requests_rng.next_u64();
        let mut session = session;
        if !PLAIN && client.sessions.0 > 0 {
            session = client.session_base + open_session(client.sessions, seed);
        }
        let listener = client.listener;
        let tg = self.lb.listener_target(listener);
        if !PLAIN && (tg == NO_GROUP || !client.plain) {
            return self.arrive_by_rules(s, o, c, seed, listener, 0, session, None);
        }
        let (rtt, new_connection) = if PLAIN {
            (draw(&client.rtt, client.rtt_key, seed), true)
        } else {
            client.round_trip(seed, now)
        };
        let serial = self.next_serial;
        self.next_serial += 1;
        // Built in its slot (no 152-byte copy).
        let key = self.requests.insert_with(|| {
            let mut req = Request::new(serial, c, seed, now, rtt, tg);
            req.listener = listener as u8;
            req.session = session;
            req
        });
        self.cost.alb.arrived(now, new_connection, 0);
        o.request_arrived(now, self.requests.get(key));
        self.lb_receive::<O, PLAIN>(s, o, key);
    }

    /// A request of client `c` (seed `seed`) reaches listener `listener` whose rules decide
    /// what happens to it, or the client has a request mix or a source pool: draw its mix
    /// entry, path and source address, run the listener's rules, and forward it (to the
    /// group a weighted forward draws), or answer it at once (a redirect the client follows
    /// one round trip later, after at most [`MAX_REDIRECTS`] redirects in a row; a fixed
    /// response). `hops` counts the redirects that led here; `rewritten` is the host, path
    /// and query a redirect on the way rewrote (see [`crate::model::elb::redirect`]).
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)] // the handler's context plus the request's identity
    pub(in crate::model) fn arrive_by_rules<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        c: ClientId,
        seed: u64,
        listener: usize,
        hops: u8,
        session: u32,
        rewritten: Option<Box<super::elb::redirect::Rewritten>>,
    ) {
        use super::elb::rules::Action;
        let now = s.now();
        let (rtt, new_connection) = {
            // Connections are modelled on the client's own listener (a redirect to another
            // listener pays no handshake: a documented simplification; it is billed as a
            // new connection, as it is one, to another port).
            let cl = &mut self.clients[c.index()];
            if listener == cl.listener {
                cl.round_trip(seed, now)
            } else {
                (draw(&cl.rtt, cl.rtt_key, seed), true)
            }
        };
        let client = &self.clients[c.index()];
        let entry = client.mix.entry_of(seed);
        let path = client.mix.path(entry, seed);
        let mut view = client.mix.view(entry, &path, client.sources.address(seed));
        if let Some(r) = &rewritten {
            view = r.view(view);
        }
        let l = &self.lb.listener_rules()[listener];
        let (rule, action) = l.decide(&view);
        let mut req = Request::new(self.next_serial, c, seed, now, rtt, NO_GROUP);
        req.listener = listener as u8;
        req.rule = rule;
        req.session = session;
        if client.mix.user {
            req.mix = entry;
        }
        self.next_serial += 1;
        self.cost
            .alb
            .arrived(now, new_connection, l.billed_rule_evaluations(rule));
        let mut sticky = super::elb::group_stickiness::NO_TABLE;
        let end = match action {
            Action::Forward(tg) => {
                req.target_group = *tg;
                None
            }
            Action::Weighted(w) => {
                // A sticky forward and a session: the cookie table decides, below (it
                // borrows the load balancer mutably); otherwise the weights.
                if w.cookie_table() != super::elb::group_stickiness::NO_TABLE
                    && session != NO_SESSION
                {
                    sticky = w.cookie_table();
                } else {
                    req.target_group = w.pick(seed);
                }
                None
            }
            Action::Redirect {
                listener: to,
                cause,
                rewrite,
            } => {
                // The followed request carries the rewritten host, path and query (or those
                // an earlier redirect rewrote).
                let next = match rewrite {
                    Some(rw) => Some(Box::new(rw.apply(&view, &l.protocol, l.port))),
                    None => rewritten.clone(),
                };
                Some((*cause, Some((*to, next))))
            }
            Action::Fixed { cause, .. } => Some((*cause, None)),
        };
        if sticky != super::elb::group_stickiness::NO_TABLE {
            // Target-group stickiness (`AWSALBTG`): the session's cookie, or the weights.
            req.target_group = self
                .lb
                .sticky_forward(listener, rule, sticky, session, seed, now);
        }
        o.request_arrived(now, &req);
        match end {
            None => {
                let key = self.requests.insert(req);
                self.lb_receive::<O, false>(s, o, key)
            }
            Some((cause, redirect)) => {
                self.alb_request_ended(now, &req, cause);
                if listener == self.clients[c.index()].listener {
                    self.clients[c.index()].request_ended(now);
                }
                let at = now + req.rtt;
                match redirect {
                    Some((to, rewritten)) if hops < MAX_REDIRECTS && at <= self.end => {
                        // The client follows it, in the same session: a closed-loop user
                        // waits for the redirected request, not for this answer.
                        let key = self
                            .redirects
                            .insert(super::elb::redirect::PendingRedirect {
                                seed,
                                session,
                                rewritten,
                            }) as u32;
                        s.schedule_at(
                            at,
                            Event::Redirected {
                                client: c,
                                listener: to,
                                hops: hops + 1,
                                key,
                            },
                        );
                    }
                    _ => self.session_ended(now, &req, cause),
                }
                o.request_finished(now, &req, cause);
            }
        }
    }

    /// User `user` of closed-loop client `c` sends its next request; starting a new session
    /// clears its cookies.
    pub(in crate::model) fn on_user_arrival<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        c: ClientId,
        user: u32,
    ) {
        let client = &mut self.clients[c.index()];
        let session = client.session_base + user;
        let Some(users) = client.users.as_mut() else {
            return;
        };
        if users.send(user) {
            self.lb.clear_cookies(session);
        }
        self.send::<O, false>(s, o, c, session);
    }

    /// Request `req` ended at `now` with `cause`: its session's cookies are written (sticky
    /// target groups, a sticky weighted forward's `AWSALBTG`), and a closed-loop user thinks and is woken for its next request.
    /// A predictable branch when no client has sessions.
    #[inline(always)]
    pub(in crate::model) fn session_ended(&mut self, now: SimTime, req: &Request, cause: Cause) {
        if self.sessions_on && req.session != NO_SESSION {
            self.session_ended_slow(now, req, cause);
        }
    }

    #[cold]
    #[inline(never)]
    fn session_ended_slow(&mut self, now: SimTime, req: &Request, cause: Cause) {
        session_end(
            SessionParts {
                lb: &mut self.lb,
                clients: &self.clients,
                wakeups: &mut self.wakeups,
                deferred: &mut self.deferred,
                end: self.end,
            },
            now,
            req,
            cause,
        );
    }

    /// Schedules the closed-loop users woken during the current handler.
    pub(in crate::model) fn schedule_wakeups(&mut self, s: &mut Scheduler<Event>) {
        for (at, client, user) in self.wakeups.drain(..) {
            s.schedule_at(at, Event::UserArrival { client, user });
        }
    }
}

/// The parts of the world a session's end touches (borrowed apart, for a caller that holds
/// a task).
pub(in crate::model) struct SessionParts<'a> {
    /// The load balancer (its cookie tables).
    pub lb: &'a mut super::elb::LoadBalancer,
    /// The clients.
    pub clients: &'a [Client],
    /// [`World`]'s `wakeups`.
    pub wakeups: &'a mut Vec<(SimTime, ClientId, u32)>,
    /// [`World`]'s `deferred`.
    pub deferred: &'a mut bool,
    /// The end of the run.
    pub end: SimTime,
}

/// [`World::session_ended`] on borrowed parts, for a request of a session.
#[cold]
#[inline(never)]
pub(in crate::model) fn session_end(
    p: SessionParts<'_>,
    now: SimTime,
    req: &Request,
    cause: Cause,
) {
    if req.session == NO_SESSION {
        return;
    }
    // A client that gave up got no response, hence no cookie.
    if cause != Cause::Elb460ClientClosed {
        if let Some(task) = req.task {
            p.lb.cookie_written(req.target_group, req.session, task, req.slot, now, cause);
        }
        p.lb.group_cookie_written(req, now);
    }
    let client = &p.clients[req.client.index()];
    if let Some(u) = &client.users {
        let think = draw(&u.think.0, u.think.1, req.seed);
        let at = now.checked_add(req.rtt + think).unwrap_or(SimTime::MAX);
        if at <= p.end {
            p.wakeups
                .push((at, req.client, req.session - client.session_base));
            *p.deferred = true;
        }
    }
}

/// The session, in `0..count`, of the open-loop request whose seed is `seed`: a keyed draw.
#[inline]
fn open_session((count, key): (u32, u64), seed: u64) -> u32 {
    rand::RngExt::random_range(&mut engine::keyed(key, seed), 0..count)
}

/// The CPU demand of one CPU step (`sampler`, `key`: the service's) of request `req`: the
/// service's draw, unless the request's mix entry overrides it ([`mix::MixEntrySpec::cpu_time`]).
#[inline(always)]
pub(in crate::model) fn cpu_demand(
    clients: &[Client],
    req: &Request,
    sampler: &super::dist::Sampler,
    key: u64,
) -> crate::engine::SimDuration {
    if req.mix == super::request::NO_MIX {
        draw(sampler, key, req.seed)
    } else {
        cpu_override(clients, req, sampler, key)
    }
}

/// [`cpu_demand`] for a request with a mix entry.
#[cold]
#[inline(never)]
fn cpu_override(
    clients: &[Client],
    req: &Request,
    sampler: &super::dist::Sampler,
    key: u64,
) -> crate::engine::SimDuration {
    match clients[req.client.index()].mix.cpu(req.mix) {
        Some((s, k)) => draw(s, *k, req.seed),
        None => draw(sampler, key, req.seed),
    }
}

/// Most redirects a client follows in a row (lbsim's choice; browsers stop at about 20,
/// curl at 50): beyond it the redirect is the request's last answer.
pub const MAX_REDIRECTS: u8 = 10;
