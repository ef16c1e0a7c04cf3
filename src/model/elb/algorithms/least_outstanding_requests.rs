//! `least_outstanding_requests` (LOR): send to the target with the fewest requests in
//! flight from this load balancer node.
//!
//! AWS: "routes requests to the targets with the lowest number of outstanding requests";
//! suggested when requests vary in complexity or targets vary in capacity; not combinable
//! with slow start
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#modify-routing-algorithm>).
//! AWS does not document how ties are broken; here a tie is broken uniformly at random
//! with the node's routing stream (no draw when there is no tie), so no target is favoured
//! by its registration order. With concurrency-1 targets this is join-the-shortest-queue
//! (Winston 1977).
//!
//! **Index.** Counts change by ±1, so the routable targets sit in buckets by count with a
//! pointer to the lowest non-empty bucket (a bucket queue): choosing, dispatching and
//! completing are O(1) whatever the number of targets; there is no scan. A target that
//! leaves the routable list leaves the index (its count still changes as its requests end,
//! unseen); one that joins enters the bucket of its current count.

use super::{Candidates, RoutingPolicy};
use crate::engine::{SimRng, below};

/// Position of a slot that is not in the index.
const NONE: u32 = u32::MAX;

/// Bucket queue of the routable targets by outstanding count.
#[derive(Clone, Debug, Default)]
pub struct LeastOutstandingRequests {
    /// `buckets[k]` holds the indexed slots with `k` outstanding requests, in no order.
    buckets: Vec<Vec<u32>>,
    /// Position of each slot inside its bucket, or `NONE` when the slot is not indexed.
    pos: Vec<u32>,
    /// Lowest non-empty bucket (meaningless when `len == 0`).
    min: usize,
    /// Slots in the index.
    len: usize,
}

impl LeastOutstandingRequests {
    #[inline]
    fn insert(&mut self, slot: u32, count: usize) {
        if self.buckets.len() <= count {
            self.buckets.resize_with(count + 1, Vec::new);
        }
        let b = &mut self.buckets[count];
        self.pos[slot as usize] = b.len() as u32;
        b.push(slot);
    }

    /// Takes `slot` out of bucket `count`; true if the bucket is now empty.
    #[inline]
    fn take(&mut self, slot: u32, count: usize) -> bool {
        let p = self.pos[slot as usize] as usize;
        let b = &mut self.buckets[count];
        b.swap_remove(p);
        if let Some(&moved) = b.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        b.is_empty()
    }

    #[inline]
    fn indexed(&self, slot: u32) -> bool {
        self.pos.get(slot as usize).is_some_and(|&p| p != NONE)
    }
}

impl RoutingPolicy for LeastOutstandingRequests {
    #[inline]
    fn choose(&mut self, _c: &Candidates<'_>, rng: &mut SimRng) -> u32 {
        let b = &self.buckets[self.min];
        debug_assert!(!b.is_empty());
        if b.len() == 1 {
            b[0]
        } else {
            b[below(rng, b.len() as u32) as usize]
        }
    }

    #[inline]
    fn outstanding_changed(&mut self, slot: u32, from: u32, to: u32) {
        if !self.indexed(slot) {
            return; // not routable: its count is read again when it joins
        }
        let (from, to) = (from as usize, to as usize);
        let emptied = self.take(slot, from);
        self.insert(slot, to);
        // Counts move by one, so the minimum moves to `to` when it drops below it or when
        // the old minimum's bucket has just emptied.
        if to < self.min || (from == self.min && emptied) {
            self.min = to;
        }
    }

    fn routable_changed(&mut self, slot: u32, _index: usize, added: bool, c: &Candidates<'_>) {
        let count = c.outstanding[slot as usize] as usize;
        if self.pos.len() <= slot as usize {
            self.pos.resize(slot as usize + 1, NONE);
        }
        if added {
            debug_assert!(!self.indexed(slot));
            self.insert(slot, count);
            self.min = if self.len == 0 {
                count
            } else {
                self.min.min(count)
            };
            self.len += 1;
        } else {
            debug_assert!(self.indexed(slot));
            let emptied = self.take(slot, count);
            self.pos[slot as usize] = NONE;
            self.len -= 1;
            if emptied && count == self.min && self.len > 0 {
                // The rarest case: scan up to the next non-empty bucket.
                self.min = (count..self.buckets.len())
                    .find(|&k| !self.buckets[k].is_empty())
                    .unwrap_or(0);
            }
        }
    }
}
