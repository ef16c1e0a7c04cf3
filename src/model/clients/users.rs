//! Closed-loop users and sessions.
//!
//! **Closed loop** (`arrivals = { process = "closed_loop", users = N, think_time = Z,
//! session_length = L }`), as a load-testing tool's virtual users: each of the `N` users
//! sends a request, waits for its response *whatever the outcome* (an error is a response
//! too), thinks, and sends the next. So slow responses lower the offered load, and the
//! throughput follows the interactive response-time law `X = N / (R + Z̄)` (Little's law
//! over the whole loop; Lazowska et al., *Quantitative System Performance*, 1984, §3.3.3),
//! where `R` is the mean response time the user sees and `Z̄` the mean think time.
//!
//! Timing. A request reaches the load balancer at `t`; it ends there at `t'`; the user sees
//! the response at `t' + rtt/2` (its latency is `t' − t + rtt`, as for any client), thinks
//! `Z` (a keyed draw from the request's seed, key `client/<name>/think`), and its next
//! request reaches the load balancer `rtt/2` later: at `t' + rtt + Z`.
//!
//! Start. Users start staggered: user `i`'s first request reaches the load balancer at a
//! uniform draw in `[0, Z̄)` (stream `client/<name>/arrivals`, users in order), so the
//! population does not arrive as one burst at t = 0 (all at 0 when `Z̄` is 0).
//!
//! Sessions. Each user is one session at a time: a session is `L` requests (a draw from
//! `session_length`, at least 1, from the stream `client/<name>/sessions` when the session
//! starts; unset: one session for the whole run). After the last request of a session the
//! user thinks and starts a new session, with no cookies (a new browser, a new login):
//! stickiness starts over.
//!
//! **Open-loop sessions** (`sessions = { count = K }` on a client with an open arrival
//! process): each request belongs to one of `K` sessions, drawn uniformly (a keyed draw
//! from the request's seed, key `client/<name>/session`), which keep their cookies for the
//! whole run.
//!
//! Sessions are numbered densely over all clients (client after client, each from its
//! base), so a sticky table is a `Vec` by session number.

use super::super::dist::Sampler;
use super::super::spec::DistSpec;
use crate::engine::{SimDuration, SimRng};

/// The most users of one closed-loop client, and the most sessions of one open-loop client.
pub const MAX_USERS: u32 = 1_000_000;

/// A request that belongs to no session (`Request.session`).
pub const NO_SESSION: u32 = u32::MAX;

/// `arrivals = { process = "closed_loop", ... }`.
#[derive(Clone, Debug)]
pub struct ClosedLoopSpec {
    /// Users (each one session at a time), 1 to [`MAX_USERS`].
    pub users: u32,
    /// Think time between a response and the user's next request.
    pub think_time: DistSpec,
    /// Requests per session: the distribution's values (nanoseconds of a [`DistSpec`]) are
    /// read as numbers of requests, rounded, at least 1. `None`: one session per user for
    /// the whole run.
    pub session_length: Option<DistSpec>,
}

impl ClosedLoopSpec {
    /// The most requests per second the users can send: `N / Z̄`, the interactive
    /// response-time law with a response time of 0, with `Z̄` floored at 1 ms (users that
    /// do not think are bounded by their response times, unknown before the run).
    pub fn max_rate_rps(&self) -> f64 {
        let z = self.think_time.mean().as_secs_f64().max(1e-3);
        f64::from(self.users) / z
    }
}

/// The running state of a closed-loop client's users.
#[derive(Clone, Debug)]
pub struct Users {
    /// Think time, and key `client/<name>/think` of its keyed draws.
    pub(super) think: (Sampler, u64),
    /// Mean think time (the users' start is staggered over it).
    pub(super) mean_think: SimDuration,
    /// Requests per session (nanoseconds read as a count), if sessions end.
    session_length: Option<Sampler>,
    /// Stream `client/<name>/sessions`: session lengths.
    sessions_rng: SimRng,
    /// Per user, requests left in its current session (0: its next request starts one).
    remaining: Vec<u32>,
    /// Sessions started so far, by all users.
    pub sessions_started: u64,
}

impl Users {
    /// The users of `spec`, named `name` for errors, with their streams.
    pub(super) fn new(
        spec: &ClosedLoopSpec,
        name: &str,
        seed: u64,
    ) -> Result<Users, super::super::ModelError> {
        Ok(Users {
            think: (
                Sampler::new(&spec.think_time, &format!("clients.{name}.think_time"))?,
                crate::engine::stream_key(seed, &format!("client/{name}/think")),
            ),
            mean_think: spec.think_time.mean(),
            session_length: spec
                .session_length
                .as_ref()
                .map(|d| Sampler::new(d, &format!("clients.{name}.session_length")))
                .transpose()?,
            sessions_rng: crate::engine::stream(seed, &format!("client/{name}/sessions")),
            remaining: vec![0; spec.users as usize],
            sessions_started: 0,
        })
    }

    /// Number of users.
    pub fn count(&self) -> u32 {
        self.remaining.len() as u32
    }

    /// User `user` sends a request: returns true if it starts a new session (its cookies
    /// must go), drawing the session's length.
    pub(super) fn send(&mut self, user: u32) -> bool {
        let r = &mut self.remaining[user as usize];
        let new = *r == 0;
        if new {
            self.sessions_started += 1;
            *r = match &self.session_length {
                None => u32::MAX,
                Some(s) => {
                    let n = s.sample(&mut self.sessions_rng);
                    (n.0 as f64).round().clamp(1.0, f64::from(u32::MAX - 1)) as u32
                }
            };
        }
        if *r != u32::MAX {
            *r -= 1;
        }
        new
    }
}

/// The first-arrival offset of each of `n` users: uniform in `[0, mean_think)`.
pub(super) fn stagger(n: u32, mean_think: SimDuration, rng: &mut SimRng) -> Vec<SimDuration> {
    (0..n)
        .map(|_| {
            SimDuration((super::super::dist::unit_f64(rng) * mean_think.0 as f64).floor() as u64)
        })
        .collect()
}
