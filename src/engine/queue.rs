//! The future-event list: a priority queue ordered by (time, insertion sequence).
//!
//! Events scheduled for the same instant pop in the order they were pushed (FIFO), which
//! makes every run reproducible without relying on the payload's ordering. Cancellation is
//! lazy: the queue never searches or removes; a handler recognises a stale event by the
//! generation it carries (see `model`).

use std::collections::VecDeque;

use super::time::SimTime;

/// A min-priority queue of events keyed by (time, insertion sequence).
///
/// A 4-ary heap (Johnson 1975; LaMarca & Ladner 1996 on cache-friendly d-ary heaps) with
/// keys and events in separate arrays: a key is `time << 64 | seq` in one `u128`, so
/// comparing two entries is one integer comparison and a node's four children's keys share
/// one 64-byte cache line. `push` and `pop` are O(log₄ n). Events are `Copy` (small `enum`s
/// of ids). The sequence counter is a `u64`, so it cannot wrap within any feasible run.
///
/// **Replace-top.** A discrete-event handler usually schedules a successor of the event it
/// is handling (the next arrival, the next completion). So `pop` leaves the root *vacant*
/// instead of restructuring at once, and the next `push` drops its key into the vacancy and
/// sifts it down: one sift instead of two (Python's `heapq.heapreplace`). If the next
/// operation is another `pop` or a `peek`, the vacancy is filled the ordinary way first.
/// The order of events is exactly that of an ordinary heap: only the work differs.
pub struct EventQueue<E> {
    keys: Vec<u128>,
    events: Vec<E>,
    next_seq: u64,
    /// The root has been handed out and not yet replaced.
    vacant: bool,
    /// FIFO lanes (see [`EventQueue::push_lane`]).
    lanes: Vec<VecDeque<(u128, E)>>,
    /// The smallest key at the front of a lane (`u128::MAX` if none), and its lane: one
    /// comparison per pop instead of a scan of the lanes.
    lane_min: (u128, usize),
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

const ARITY: usize = 4;

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            keys: Vec::new(),
            events: Vec::new(),
            next_seq: 0,
            vacant: false,
            lanes: Vec::new(),
            lane_min: (u128::MAX, usize::MAX),
        }
    }

    /// Recomputes [`EventQueue::lane_min`] after a lane's front changed.
    fn find_lane_min(&mut self) {
        self.lane_min = (u128::MAX, usize::MAX);
        for (i, l) in self.lanes.iter().enumerate() {
            if let Some(&(k, _)) = l.front()
                && k < self.lane_min.0
            {
                self.lane_min = (k, i);
            }
        }
    }

    /// Schedules `event` at `time` in FIFO lane `lane` (a small integer the model chooses).
    ///
    /// A lane is for events whose times never decrease in the order they are scheduled:
    /// a periodic check that reschedules itself one interval later, a fixed timeout. It is
    /// a queue, not a heap: O(1), and its events do not deepen the heap that every other
    /// event sifts through. The order of events is exactly that of [`EventQueue::push`]
    /// (time, then insertion sequence): an event earlier than the lane's last goes to the
    /// heap instead.
    #[inline]
    pub fn push_lane(&mut self, lane: usize, time: SimTime, event: E) {
        let key = (u128::from(time.0) << 64) | u128::from(self.next_seq);
        if lane >= self.lanes.len() {
            self.lanes.resize_with(lane + 1, VecDeque::new);
        }
        let l = &mut self.lanes[lane];
        if l.back().is_none_or(|b| b.0 <= key) {
            self.next_seq += 1;
            l.push_back((key, event));
            if key < self.lane_min.0 {
                self.lane_min = (key, lane);
            }
        } else {
            self.push(time, event);
        }
    }

    /// Schedules `event` at `time`. Among events at the same time, earlier pushes pop first.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let key = (u128::from(time.0) << 64) | u128::from(self.next_seq);
        self.next_seq += 1;
        if self.vacant {
            self.vacant = false;
            self.sift_down(0, key, event);
            return;
        }
        self.keys.push(key);
        self.events.push(event);
        let keys = self.keys.as_mut_slice();
        let events = &mut self.events[..keys.len()];
        // Sift up: move parents down into the hole until the key fits.
        let mut i = keys.len() - 1;
        while i > 0 {
            let p = (i - 1) / ARITY;
            let pk = keys[p];
            if pk <= key {
                break;
            }
            keys[i] = pk;
            events[i] = events[p];
            i = p;
        }
        keys[i] = key;
        events[i] = event;
    }

    /// Puts (`key`, `event`) in the hole at `hole`, moving smaller children up.
    #[inline]
    fn sift_down(&mut self, mut hole: usize, key: u128, event: E) {
        let keys = self.keys.as_mut_slice();
        let n = keys.len();
        let events = &mut self.events[..n];
        loop {
            let first = hole * ARITY + 1;
            if first >= n {
                break;
            }
            let (m, mk) = if first + ARITY <= n {
                // A full group of four: a two-round tournament.
                let c = &keys[first..first + ARITY];
                let (a, ka) = if c[1] < c[0] { (1, c[1]) } else { (0, c[0]) };
                let (b, kb) = if c[3] < c[2] { (3, c[3]) } else { (2, c[2]) };
                if kb < ka { (b, kb) } else { (a, ka) }
            } else {
                let children = &keys[first..n];
                let mut m = 0;
                let mut mk = children[0];
                for (j, &k) in children.iter().enumerate().skip(1) {
                    if k < mk {
                        m = j;
                        mk = k;
                    }
                }
                (m, mk)
            };
            if mk >= key {
                break;
            }
            keys[hole] = mk;
            events[hole] = events[first + m];
            hole = first + m;
        }
        keys[hole] = key;
        events[hole] = event;
    }

    /// Fills a vacant root with the last entry.
    #[inline]
    fn settle(&mut self) {
        if self.vacant {
            self.vacant = false;
            let (Some(k), Some(e)) = (self.keys.pop(), self.events.pop()) else {
                return;
            };
            if !self.keys.is_empty() {
                self.sift_down(0, k, e);
            }
        }
    }

    /// Removes and returns the earliest event if it is due at or before `end`.
    #[inline]
    pub fn pop_until(&mut self, end: SimTime) -> Option<(SimTime, E)> {
        self.settle();
        let heap = self.keys.first().copied().unwrap_or(u128::MAX);
        let (best, lane) = if self.lane_min.0 < heap {
            self.lane_min
        } else {
            (heap, usize::MAX)
        };
        let t = (best >> 64) as u64;
        if best == u128::MAX || t > end.0 {
            return None;
        }
        if lane != usize::MAX {
            let e = self.lanes[lane].pop_front().map(|(_, e)| (SimTime(t), e));
            self.find_lane_min();
            return e;
        }
        self.vacant = true;
        Some((SimTime(t), self.events[0]))
    }

    /// Removes and returns the earliest event, or `None` when the queue is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime::MAX)
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.settle();
        let lanes = self.lanes.iter().filter_map(|l| l.front().map(|e| e.0));
        let k = self.keys.first().copied().into_iter().chain(lanes).min()?;
        Some(SimTime((k >> 64) as u64))
    }

    /// Number of scheduled events, stale ones included.
    pub fn len(&self) -> usize {
        self.keys.len() - usize::from(self.vacant)
            + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
    fn matches_a_sorted_reference_on_random_operations() {
        // A deterministic pseudo-random mix of pushes and pops against a sorted Vec.
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut seq = 0u64;
        let mut now = 0u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 3 != 0 || reference.is_empty() {
                let t = now + (x >> 40) % 50;
                q.push(SimTime(t), seq);
                reference.push((t, seq));
                seq += 1;
            } else {
                reference.sort();
                let want = reference.remove(0);
                let (t, e) = q.pop().unwrap();
                assert_eq!((t.0, e), want);
                now = t.0;
            }
            assert_eq!(q.len(), reference.len());
        }
    }

    /// Lanes and the heap pop in one (time, sequence) order, whatever goes where: events
    /// pushed to a lane out of order fall back to the heap.
    #[test]
    fn lanes_match_a_sorted_reference_on_random_operations() {
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64, u64)> = Vec::new();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let (mut seq, mut now, mut payload) = (0u64, 0u64, 0u64);
        for _ in 0..40_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = now + (x >> 40) % 40;
            payload += 1;
            match x % 5 {
                0 | 1 => q.push(SimTime(t), payload),
                2 | 3 => q.push_lane(((x >> 8) % 3) as usize, SimTime(t), payload),
                _ => {
                    reference.sort();
                    if reference.is_empty() {
                        assert_eq!(q.pop(), None);
                    } else {
                        let want = reference.remove(0);
                        let (t, e) = q.pop().unwrap();
                        assert_eq!((t.0, e), (want.0, want.2));
                        now = t.0;
                    }
                    continue;
                }
            }
            reference.push((t, seq, payload));
            seq += 1;
            assert_eq!(q.len(), reference.len());
            assert_eq!(q.peek_time(), reference.iter().min().map(|e| SimTime(e.0)));
        }
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
