//! `least_outstanding_requests` (LOR): send to the target with the fewest requests in
//! flight from this load balancer node.
//!
//! AWS: "routes requests to the targets with the lowest number of outstanding requests";
//! suggested when requests vary in complexity or targets vary in capacity; not combinable
//! with slow start
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).
//! AWS does not document how ties are broken; here a tie is broken uniformly at random
//! with the target group's stream (no draw when there is no tie), so no target is favoured by
//! its registration order. With concurrency-1 targets this is join-the-shortest-queue
//! (Winston 1977).
//!
//! **Index.** Counts change by ±1, so targets sit in buckets by count with a pointer to the
//! lowest non-empty bucket (a bucket queue): choosing, dispatching and completing are O(1)
//! whatever the number of targets; there is no scan.

use super::RoutingPolicy;
use crate::engine::{SimRng, below};

/// Bucket queue of targets by outstanding count.
#[derive(Clone, Debug)]
pub struct LeastOutstandingRequests {
    /// `buckets[k]` holds the slots with `k` outstanding requests, in no particular order.
    buckets: Vec<Vec<u32>>,
    /// Position of each slot inside its bucket.
    pos: Vec<u32>,
    /// Lowest non-empty bucket.
    min: usize,
}

impl LeastOutstandingRequests {
    /// `targets` targets, all with 0 outstanding.
    pub fn new(targets: usize) -> Self {
        LeastOutstandingRequests {
            buckets: vec![(0..targets as u32).collect()],
            pos: (0..targets as u32).collect(),
            min: 0,
        }
    }

    fn insert(&mut self, slot: usize, count: usize) {
        if self.buckets.len() <= count {
            self.buckets.resize_with(count + 1, Vec::new);
        }
        let b = &mut self.buckets[count];
        self.pos[slot] = b.len() as u32;
        b.push(slot as u32);
    }
}

impl RoutingPolicy for LeastOutstandingRequests {
    #[inline]
    fn choose(&mut self, outstanding: &[u32], rng: &mut SimRng) -> usize {
        // Targets registered after construction (a fixed fleet registers all at start).
        while self.pos.len() < outstanding.len() {
            let slot = self.pos.len();
            self.pos.push(0);
            self.insert(slot, outstanding[slot] as usize);
            self.min = self.min.min(outstanding[slot] as usize);
        }
        let b = &self.buckets[self.min];
        debug_assert!(!b.is_empty());
        if b.len() == 1 {
            b[0] as usize
        } else {
            b[below(rng, b.len() as u32) as usize] as usize
        }
    }

    #[inline]
    fn outstanding_changed(&mut self, slot: usize, from: u32, to: u32) {
        if slot >= self.pos.len() {
            return; // not indexed yet: `choose` indexes it with its current count
        }
        let (from, to) = (from as usize, to as usize);
        let p = self.pos[slot] as usize;
        let b = &mut self.buckets[from];
        b.swap_remove(p);
        if let Some(&moved) = b.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        let emptied = b.is_empty();
        self.insert(slot, to);
        // Counts move by one, so the minimum moves to `to` when it drops below it or when
        // the old minimum's bucket has just emptied.
        if to < self.min || (from == self.min && emptied) {
            self.min = to;
        }
    }
}
