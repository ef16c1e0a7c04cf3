//! Requests in flight: what the model knows of each, and the store that holds them.
//!
//! **Identity.** A request is named by its `serial` (arrival order, never reused). The store
//! reuses keys as requests end, so an event that refers to a request
//! carries both its key (to find it in O(1)) and its serial (to check it is still the same
//! request): an event for a request that has ended is stale and ignored, even if a newer
//! request sits under the same key.
//!
//! **Randomness.** Every random quantity that belongs to a request (its round-trip time, the
//! load balancer's processing time, its CPU time at whichever task serves it) is a
//! [keyed draw](crate::engine::keyed) from the request's `seed`, drawn from its client's
//! stream `client/<name>/requests` when it arrives. So the quantity depends only on the
//! master seed, the client and the request's place in that client's arrivals: two
//! configurations that differ in algorithm, fleet or timing see the same requests, whether or
//! not a request was refused before (common random numbers).

use super::dist::Sampler;
use super::ids::{ClientId, NodeId, TargetGroupId, TaskId};
use crate::engine::{SimDuration, SimTime, keyed};

/// [`Request::mix`] of a request whose client has no request mix.
pub const NO_MIX: u16 = u16::MAX;

/// A bit of [`Request::serial`] set when the request's client gave up on it (its
/// `timeout` expired, see [`crate::model::clients::timeout`]): the request has ended for
/// the client and its observers (460), but its target keeps working on it, and when the
/// target is done only the target's side is accounted (the load balancer's counts, a
/// drain), never a second end. Client serials count arrivals and never reach this bit;
/// health checks use the top bit ([`crate::model::elb::health::PROBE_SERIAL`]). Events
/// that refer to a request compare serials without it (see [`Requests::live`]).
pub const CLIENT_GONE: u64 = 1 << 62;

/// Where a request's current call is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CallState {
    /// Not in a call.
    #[default]
    None,
    /// Waiting for a pooled connection (holds none).
    Pool,
    /// Holding a connection, queued for the dependency's capacity.
    Queued,
    /// Holding a connection, being served.
    Served,
}

/// One request, as the model and its observers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Arrival order over all clients, from 0; never reused.
    pub serial: u64,
    /// Who sent it.
    pub client: ClientId,
    /// The seed of its keyed draws (drawn at arrival from `client/<name>/requests`).
    pub seed: u64,
    /// When it reached the load balancer.
    pub arrived: SimTime,
    /// Client ↔ load balancer round-trip time added to the latency the client sees.
    pub rtt: SimDuration,
    /// The target group the listener's action chose.
    pub target_group: TargetGroupId,
    /// The load balancer node that handles it.
    pub node: NodeId,
    /// The task serving it, once routed.
    pub task: Option<TaskId>,
    /// Target slot in the target group, once routed.
    pub slot: u32,
    /// When it was routed to its target (meaningless before).
    pub dispatched: SimTime,
    /// CPU time of the CPU steps it has begun, ns at one vCPU (0 until its first CPU step
    /// begins; its whole CPU time once it has ended successfully).
    pub work: SimDuration,
    /// Memory it uses at its task from its dispatch to its end, KiB (0 before).
    pub memory_kib: u32,
    /// The profile step it is in (or waits to begin); the number of steps once done.
    pub step: u16,
    /// Down-epoch of the dependency serving its current call when the call began service.
    pub call_epoch: u32,
    /// When its current call step began.
    pub call_began: SimTime,
    /// Where its current call is (for a timeout).
    pub call_state: CallState,
    /// Its entry in its client's request mix, or [`NO_MIX`] if the client has none.
    pub mix: u16,
    /// Index of the listener it reached.
    pub listener: u8,
    /// Index of the rule that handled it in its listener's priority order (the number of
    /// rules for the default rule).
    pub rule: u8,
    /// Time its current (or last) call waited for a connection and capacity.
    pub call_queued: SimDuration,
    /// When it got a worker at its task (meaningless before).
    pub admitted: SimTime,
    /// When its current step, or the current part of a call (queued or served), began.
    pub phase_start: SimTime,
    /// Time spent in CPU steps: on CPU plus waiting for CPU (processor sharing).
    pub cpu_wall: SimDuration,
    /// Time spent in wait steps.
    pub waits: SimDuration,
    /// Time its calls spent waiting for a pooled connection or for the dependency's
    /// capacity.
    pub calls_queued: SimDuration,
    /// Time its calls spent being served by dependencies.
    pub calls: SimDuration,
    /// Its session (numbered densely over all clients), or
    /// [`NO_SESSION`](crate::model::clients::users::NO_SESSION): see
    /// [`crate::model::clients::users`]. Fits the struct's padding (no growth).
    pub session: u32,
}

impl Request {
    /// A request that has just arrived at `arrived`, not routed yet: every later field
    /// (task, work, memory, phases) at its initial value.
    pub fn new(
        serial: u64,
        client: ClientId,
        seed: u64,
        arrived: SimTime,
        rtt: SimDuration,
        target_group: TargetGroupId,
    ) -> Request {
        Request {
            serial,
            client,
            seed,
            arrived,
            rtt,
            target_group,
            node: NodeId(0),
            task: None,
            slot: 0,
            dispatched: arrived,
            work: SimDuration::ZERO,
            memory_kib: 0,
            step: 0,
            call_epoch: 0,
            call_began: arrived,
            call_state: CallState::None,
            mix: NO_MIX,
            listener: 0,
            rule: 0,
            call_queued: SimDuration::ZERO,
            admitted: arrived,
            phase_start: arrived,
            cpu_wall: SimDuration::ZERO,
            waits: SimDuration::ZERO,
            calls_queued: SimDuration::ZERO,
            calls: SimDuration::ZERO,
            session: u32::MAX,
        }
    }

    /// The placeholder of a vacant slot of [`Requests`].
    fn vacant() -> Request {
        Request::new(
            VACANT,
            ClientId(0),
            0,
            SimTime::ZERO,
            SimDuration::ZERO,
            TargetGroupId(0),
        )
    }

    /// Latency as the client sees it if it ends at `now`: time at the load balancer plus
    /// the round trip.
    #[inline]
    pub fn latency_at(&self, now: SimTime) -> SimDuration {
        (now - self.arrived) + self.rtt
    }

    /// A draw from `sampler` for this request and the purpose `key`
    /// ([`stream_key`](crate::engine::stream_key) of the purpose's stream name). A
    /// deterministic sampler draws nothing.
    #[inline]
    pub fn draw(&self, sampler: &Sampler, key: u64) -> SimDuration {
        draw(sampler, key, self.seed)
    }
}

/// A draw from `sampler` keyed by `key` and a request's `seed`. A deterministic sampler
/// (the usual case for delays) costs a comparison: no generator is made.
#[inline(always)]
pub fn draw(sampler: &Sampler, key: u64, seed: u64) -> SimDuration {
    match sampler {
        Sampler::Deterministic(v) => *v,
        _ => draw_random(sampler, key, seed),
    }
}

#[inline]
fn draw_random(sampler: &Sampler, key: u64, seed: u64) -> SimDuration {
    sampler.sample(&mut keyed(key, seed))
}

/// The requests in flight, by key: a vector of requests with a free list of vacant keys
/// (a freed key is handed out again first, last freed first out: the order `slab` used, so
/// keys, and every output, are as before).
///
/// Not a `Slab`: a request is 152 bytes, and the hot path builds it in its slot
/// ([`Requests::insert_with`]) and ends it by reference ([`Requests::free`]), where moving
/// it in and out by value cost two 152-byte `memcpy` calls per request (measured with
/// `benches/callgrind.py`). A vacant slot holds a request whose `serial` is
/// [`VACANT`], which no request has.
#[derive(Clone, Debug, Default)]
pub struct Requests {
    entries: Vec<Request>,
    /// The first vacant key (`entries.len()` when none): each vacant slot's `slot` field
    /// holds the next vacant key, as `slab` chains them.
    next: u32,
    len: u32,
}

/// The `serial` of a vacant slot of [`Requests`].
pub const VACANT: u64 = u64::MAX;

impl Requests {
    /// Stores a request; returns its key.
    #[inline]
    pub fn insert(&mut self, req: Request) -> u32 {
        self.insert_with(|| req)
    }

    /// Stores the request `make` builds, written straight into its slot; returns its key.
    #[inline(always)]
    pub fn insert_with(&mut self, make: impl FnOnce() -> Request) -> u32 {
        let key = self.next;
        if key as usize == self.entries.len() {
            self.entries.push(Request::vacant());
            self.next = key + 1;
        } else {
            self.next = self.entries[key as usize].slot;
        }
        self.len += 1;
        self.entries[key as usize] = make();
        debug_assert!(self.entries[key as usize].serial != VACANT);
        key
    }

    /// The request under `key`. Panics (in debug builds) if there is none: for keys held
    /// by the model's own structures (a task's queues), which never outlive their request.
    #[inline]
    pub fn get(&self, key: u32) -> &Request {
        let r = &self.entries[key as usize];
        debug_assert!(r.serial != VACANT, "request key {key} is vacant");
        r
    }

    /// The request under `key` if it is still request `serial` (an event's reference);
    /// `None` if that request has ended. The [`CLIENT_GONE`] bit is ignored on both sides:
    /// a request whose client gave up is still the same request at its target.
    #[inline]
    pub fn live(&mut self, key: u32, serial: u64) -> Option<&mut Request> {
        self.entries
            .get_mut(key as usize)
            .filter(|r| (r.serial ^ serial) & !CLIENT_GONE == 0)
    }

    /// Mutable access by key (see [`Requests::get`]).
    #[inline]
    pub fn get_mut(&mut self, key: u32) -> &mut Request {
        let r = &mut self.entries[key as usize];
        debug_assert!(r.serial != VACANT, "request key {key} is vacant");
        r
    }

    /// Removes and returns the request under `key`.
    #[inline]
    pub fn remove(&mut self, key: u32) -> Request {
        let r = *self.get(key);
        self.free(key);
        r
    }

    /// Removes the request under `key`, which the caller has finished reading.
    #[inline]
    pub fn free(&mut self, key: u32) {
        let r = &mut self.entries[key as usize];
        debug_assert!(r.serial != VACANT, "request key {key} freed twice");
        r.serial = VACANT;
        r.slot = self.next;
        self.next = key;
        self.len -= 1;
    }

    /// Requests in flight.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when none is in flight.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The requests in flight with their keys, in key order.
    fn iter(&self) -> impl Iterator<Item = (usize, &Request)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, r)| r.serial != VACANT)
    }

    /// Keys of the requests at `task` (dispatched to it, not ended), in arrival order.
    pub fn at_task(&self, task: TaskId) -> Vec<u32> {
        let mut v: Vec<(u64, u32)> = self
            .iter()
            .filter(|(_, r)| r.task == Some(task))
            .map(|(k, r)| (r.serial & !CLIENT_GONE, k as u32))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, k)| k).collect()
    }

    /// Keys of the requests not routed yet (at the load balancer), for tests.
    #[cfg(test)]
    pub(crate) fn unrouted(&self) -> Vec<u32> {
        self.iter()
            .filter(|(_, r)| r.task.is_none())
            .map(|(k, _)| k as u32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    /// A request is copied into and out of the store: the session id fits the padding
    /// that was there (152 bytes with or without it).
    #[test]
    fn a_request_is_152_bytes() {
        assert_eq!(std::mem::size_of::<super::Request>(), 152);
    }
}
