//! A target group: registered targets, the load balancer node's outstanding-request counts,
//! and the routing algorithm.

use super::algorithms::{Router, RoutingPolicy};
use super::ids::{TargetGroupId, TaskId};
use super::spec::Algorithm;
use crate::engine::SimRng;

/// An ALB target group of target type `ip` (what Fargate tasks register as).
#[derive(Clone, Debug)]
pub struct TargetGroup {
    /// This group's id.
    pub id: TargetGroupId,
    /// Name from the scenario.
    pub name: String,
    /// The routing algorithm (`load_balancing.algorithm.type`).
    pub algorithm: Algorithm,
    targets: Vec<TaskId>,
    outstanding: Vec<u32>,
    router: Router,
    rng: SimRng,
}

impl TargetGroup {
    /// An empty target group; `rng` is its routing stream.
    pub fn new(id: TargetGroupId, name: String, algorithm: Algorithm, rng: SimRng) -> Self {
        TargetGroup {
            id,
            name,
            algorithm,
            targets: Vec::new(),
            outstanding: Vec::new(),
            router: Router::new(algorithm, 0),
            rng,
        }
    }

    /// Registers `task`; returns its slot.
    pub fn register(&mut self, task: TaskId) -> u32 {
        self.targets.push(task);
        self.outstanding.push(0);
        (self.targets.len() - 1) as u32
    }

    /// Rebuilds the router over the registered targets (call once registration at start is
    /// done, so index structures are built in one go).
    pub fn reset_router(&mut self) {
        self.router = Router::new(self.algorithm, self.targets.len());
    }

    /// Registered targets, by slot.
    pub fn targets(&self) -> &[TaskId] {
        &self.targets
    }

    /// Outstanding requests per slot, as the load balancer node counts them.
    pub fn outstanding(&self) -> &[u32] {
        &self.outstanding
    }

    /// Chooses a target for one request and counts it as outstanding; `None` when no target
    /// is registered.
    #[inline]
    pub fn dispatch(&mut self) -> Option<(u32, TaskId)> {
        if self.targets.is_empty() {
            return None;
        }
        let s = self.router.choose(&self.outstanding, &mut self.rng);
        let from = self.outstanding[s];
        self.outstanding[s] = from + 1;
        self.router.outstanding_changed(s, from, from + 1);
        Some((s as u32, self.targets[s]))
    }

    /// A request sent to `slot` has completed.
    #[inline]
    pub fn complete(&mut self, slot: u32) {
        let s = slot as usize;
        let from = self.outstanding[s];
        debug_assert!(from > 0);
        self.outstanding[s] = from.saturating_sub(1);
        self.router
            .outstanding_changed(s, from, self.outstanding[s]);
    }
}
