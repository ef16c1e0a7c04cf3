//! The discrete-event engine: simulated time, the future-event list, the run loop and
//! random-number streams.
//!
//! The engine knows nothing of load balancers. A model defines one `enum` of events and a
//! [`Handler`] that matches on it; the engine pops events in (time, insertion sequence)
//! order and hands them over. Cancellation is lazy: an event carries the generation of
//! what it refers to and the handler ignores stale ones.

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::EventQueue;
pub use rng::{KeyedRng, SimRng, below, keyed, stream, stream_key, stream_seed};
pub use time::{NANOS_PER_SEC, SimDuration, SimTime};

/// The clock and the future-event list of one simulation.
///
/// `E` is the model's event type (small and `Copy`). The clock only moves forward: it advances to each
/// popped event's time.
pub struct Scheduler<E> {
    now: SimTime,
    queue: EventQueue<E>,
    handled: u64,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    /// A scheduler at t = 0 with nothing scheduled.
    pub fn new() -> Self {
        Scheduler {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            handled: 0,
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time`. A time in the past is treated as "now" (the clock
    /// never goes backwards); a debug build asserts that it does not happen.
    #[inline]
    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        debug_assert!(time >= self.now, "event scheduled in the past");
        self.queue.push(time.max(self.now), event);
    }

    /// Schedules `event` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.queue.push(self.now + delay, event);
    }

    /// Schedules `event` after `delay` in FIFO lane `lane`: for events whose times never
    /// decrease within the lane (a periodic check, a fixed timeout), kept out of the heap.
    /// The order of events is the same as with [`Scheduler::schedule_in`].
    #[inline]
    pub fn schedule_lane(&mut self, lane: usize, delay: SimDuration, event: E) {
        self.queue.push_lane(lane, self.now + delay, event);
    }

    /// Pops the next event if it is due at or before `end`, advancing the clock to it.
    #[inline]
    pub fn next_until(&mut self, end: SimTime) -> Option<E> {
        let (t, e) = self.queue.pop_until(end)?;
        self.now = t;
        self.handled += 1;
        Some(e)
    }

    /// Moves the clock forward to `t` without handling anything (used to close a run at
    /// its end time). Never moves it backwards.
    pub fn advance_to(&mut self, t: SimTime) {
        self.now = self.now.max(t);
    }

    /// Events popped so far, stale ones included (the engine's unit of work).
    pub fn events_handled(&self) -> u64 {
        self.handled
    }
}

/// A model that reacts to events: one exhaustive `match` over its event `enum`.
pub trait Handler {
    /// The model's event type.
    type Event: Copy;
    /// Handles one event at `sched.now()`; may schedule more.
    fn handle(&mut self, sched: &mut Scheduler<Self::Event>, event: Self::Event);
}

/// Runs `handler` until no event is due at or before `end`, then sets the clock to `end`.
/// Returns the number of events handled by this call.
pub fn run_until<H: Handler>(
    sched: &mut Scheduler<H::Event>,
    handler: &mut H,
    end: SimTime,
) -> u64 {
    run_batch(sched, handler, end, u64::MAX)
}

/// Runs at most `max_events` events due at or before `end`. Returns how many it handled;
/// fewer than `max_events` means nothing is left before `end`, and the clock is then set to
/// `end`. Lets a caller run in batches and look at the model between them (progress, limits,
/// interruption) at event boundaries, at the cost of one counter per event.
pub fn run_batch<H: Handler>(
    sched: &mut Scheduler<H::Event>,
    handler: &mut H,
    end: SimTime,
    max_events: u64,
) -> u64 {
    let mut n = 0;
    while n < max_events {
        match sched.next_until(end) {
            Some(ev) => {
                handler.handle(sched, ev);
                n += 1;
            }
            None => {
                sched.advance_to(end);
                break;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy model: each `Tick(generation)` reschedules itself, and a `Reset` bumps the generation
    /// so the pending tick becomes stale (lazy cancellation).
    #[derive(Clone, Copy)]
    enum Ev {
        Tick(u32),
        Reset,
    }
    struct Toy {
        generation: u32,
        log: Vec<(u64, u32)>,
    }
    impl Handler for Toy {
        type Event = Ev;
        fn handle(&mut self, s: &mut Scheduler<Ev>, e: Ev) {
            match e {
                Ev::Tick(g) if g != self.generation => {} // stale: ignored
                Ev::Tick(g) => {
                    self.log.push((s.now().0, g));
                    s.schedule_in(SimDuration(10), Ev::Tick(g));
                }
                Ev::Reset => {
                    self.generation += 1;
                    s.schedule_in(SimDuration(3), Ev::Tick(self.generation));
                }
            }
        }
    }

    #[test]
    fn stale_generations_are_ignored_and_clock_stops_at_end() {
        let mut s = Scheduler::new();
        let mut toy = Toy {
            generation: 0,
            log: vec![],
        };
        s.schedule_at(SimTime(0), Ev::Tick(0));
        s.schedule_at(SimTime(15), Ev::Reset);
        let n = run_until(&mut s, &mut toy, SimTime(40));
        assert_eq!(toy.log, vec![(0, 0), (10, 0), (18, 1), (28, 1), (38, 1)]);
        // ticks at 0,10,20(stale),18,28,38 + reset = 7 popped
        assert_eq!(n, 7);
        assert_eq!(s.now(), SimTime(40));
    }

    #[test]
    fn batches_handle_the_same_events_as_one_run() {
        let run = |batch: Option<u64>| {
            let mut s = Scheduler::new();
            let mut toy = Toy {
                generation: 0,
                log: vec![],
            };
            s.schedule_at(SimTime(0), Ev::Tick(0));
            s.schedule_at(SimTime(15), Ev::Reset);
            match batch {
                None => {
                    run_until(&mut s, &mut toy, SimTime(40));
                }
                Some(b) => {
                    let mut calls = 0;
                    while run_batch(&mut s, &mut toy, SimTime(40), b) == b {
                        calls += 1;
                        assert!(s.now() <= SimTime(40));
                    }
                    // Full batches only: 7 events in batches of b.
                    assert_eq!(calls, 7 / b);
                }
            }
            (toy.log, s.now(), s.events_handled())
        };
        let whole = run(None);
        for b in [1, 2, 3, 7, 100] {
            assert_eq!(run(Some(b)), whole, "batch {b}");
        }
    }
}
