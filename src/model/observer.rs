//! What the model tells the outside world. The model never writes a file: it calls an
//! [`Observer`] (the metrics recorder, or a test's probe) at each request milestone, each
//! lifecycle change and each metrics interval. The observer is a type parameter, so the
//! calls are static and a no-op method costs nothing.

use super::World;
use super::ids::{ClientId, TargetGroupId, TaskId};
use super::outcome::Cause;
use crate::engine::{SimDuration, SimTime};

/// One request, as the observer sees it.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// Arrival order, from 0.
    pub serial: u64,
    /// Who sent it.
    pub client: ClientId,
    /// When it reached the load balancer.
    pub arrived: SimTime,
    /// Client ↔ load balancer round-trip time added to the latency the client sees.
    pub rtt: SimDuration,
    /// The target group the listener's action chose.
    pub target_group: TargetGroupId,
    /// The task serving it, once routed.
    pub task: Option<TaskId>,
    /// Target slot in the target group, once routed.
    pub slot: u32,
    /// CPU time it needs, ns at one vCPU (0 until routed).
    pub work: SimDuration,
}

impl Request {
    /// Latency as the client sees it if it ends at `now`: time at the load balancer plus
    /// the round trip.
    #[inline]
    pub fn latency_at(&self, now: SimTime) -> SimDuration {
        (now - self.arrived) + self.rtt
    }
}

/// A lifecycle change, written to `events.csv`.
#[derive(Clone, Debug)]
pub struct LifecycleEvent {
    /// Stable kind name (`task_running`, `target_registered`...).
    pub kind: &'static str,
    /// The task concerned, by name, if any.
    pub task: Option<String>,
    /// Free text in ECS service-event style.
    pub detail: String,
}

/// Receives the model's observations. Every method has an empty default.
pub trait Observer {
    /// The world is built; called once at t = 0 before any other method.
    #[inline]
    fn start(&mut self, _world: &World) {}
    /// A request reached the load balancer.
    #[inline]
    fn request_arrived(&mut self, _now: SimTime, _req: &Request) {}
    /// A request entered service at its task (it may have waited for a concurrency slot).
    #[inline]
    fn request_started(&mut self, _now: SimTime, _req: &Request) {}
    /// A request ended with `cause`. Called exactly once per request that ends.
    #[inline]
    fn request_finished(&mut self, _now: SimTime, _req: &Request, _cause: Cause) {}
    /// A lifecycle change.
    #[inline]
    fn lifecycle(&mut self, _now: SimTime, _event: &LifecycleEvent) {}
    /// The warm-up has ended (called once, at the warm-up time, even if it is 0); every
    /// task's accounting is up to `now`.
    #[inline]
    fn warmup_end(&mut self, _now: SimTime, _world: &World) {}
    /// The end of a metrics interval; every task's accounting is up to `now`.
    #[inline]
    fn interval(&mut self, _now: SimTime, _world: &World) {}
    /// The end of the run; every task's accounting is up to `now`.
    #[inline]
    fn finish(&mut self, _now: SimTime, _world: &World) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;
impl Observer for NoObserver {}
