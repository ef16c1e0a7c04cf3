//! The future-event list: a priority queue ordered by (time, insertion sequence).
//!
//! Events scheduled for the same instant pop in the order they were pushed (FIFO), which
//! makes every run reproducible without relying on the payload's ordering. Cancellation is
//! lazy: the queue never searches or removes; a handler recognises a stale event by the
//! generation it carries (see `model`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::time::SimTime;

/// One scheduled event: when, the tie-breaking sequence number, and the payload.
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A min-priority queue of events keyed by (time, insertion sequence).
///
/// `push` is O(log n), `pop` O(log n). The sequence counter is a `u64`, so it cannot wrap
/// within any feasible run.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`. Among events at the same time, earlier pushes pop first.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            time: time.0,
            seq,
            event,
        });
    }

    /// Removes and returns the earliest event, or `None` when the queue is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|e| (SimTime(e.time), e.event))
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime(e.time))
    }

    /// Number of scheduled events, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), "a");
        q.push(SimTime(5), "early");
        q.push(SimTime(10), "b");
        q.push(SimTime(10), "c");
        q.push(SimTime(7), "mid");
        q.push(SimTime(10), "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (SimTime(5), "early"),
                (SimTime(7), "mid"),
                (SimTime(10), "a"),
                (SimTime(10), "b"),
                (SimTime(10), "c"),
                (SimTime(10), "d"),
            ]
        );
    }

    #[test]
    fn fifo_holds_across_interleaved_pops() {
        // Same-time events pushed after a pop still come after earlier same-time pushes.
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.push(SimTime(u64::from(i % 3)), i);
        }
        let mut last = (SimTime(0), 0u32);
        let mut seen = 0;
        while let Some((t, v)) = q.pop() {
            if seen > 0 && t == last.0 {
                assert!(v > last.1, "{v} popped after {} at the same time", last.1);
            }
            assert!(t >= last.0);
            last = (t, v);
            seen += 1;
        }
        assert_eq!(seen, 100);
    }
}
