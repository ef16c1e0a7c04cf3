//! Simulated time: integer nanoseconds.
//!
//! [`SimTime`] is an instant since the start of the simulation and [`SimDuration`] a span
//! between two instants, both `u64` nanoseconds (about 584 years of range). Arithmetic is
//! exact; floats appear only at the edges ([`SimDuration::from_secs_f64`] when a sampled
//! distribution value enters the engine, [`SimTime::as_secs_f64`] when a value is written out).

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the simulation started (t = 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// t = 0, the start of every simulation.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable instant; used as "never".
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since t = 0.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since t = 0, as a float (for output only).
    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// The span from `earlier` to `self`; zero if `earlier` is later (never negative).
    #[inline]
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, or `None` on overflow of the `u64` nanosecond range.
    #[inline]
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(v) => Some(SimTime(v)),
            None => None,
        }
    }
}

impl SimDuration {
    /// A zero-length span.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span.
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// A span of `ns` nanoseconds.
    #[inline]
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// A span of `us` microseconds (saturating).
    #[inline]
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us.saturating_mul(1_000))
    }
    /// A span of `ms` milliseconds (saturating).
    #[inline]
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms.saturating_mul(1_000_000))
    }
    /// A span of `s` seconds (saturating).
    #[inline]
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(NANOS_PER_SEC))
    }

    /// Converts seconds to the nearest nanosecond (halves round up). Negative and NaN
    /// values give zero, values beyond the range saturate at [`SimDuration::MAX`].
    #[inline]
    pub fn from_secs_f64(s: f64) -> Self {
        // `as` saturates and maps NaN and negatives to 0; adding ½ then truncating rounds
        // without a call to the libm `round` (baseline x86-64 has no rounding instruction).
        SimDuration((s * NANOS_PER_SEC as f64 + 0.5) as u64)
    }

    /// Nanoseconds in the span.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span in seconds, as a float (for output and for sampling edges).
    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// The span in milliseconds, as a float (for output).
    #[inline]
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// True for a zero-length span.
    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl From<std::time::Duration> for SimDuration {
    /// Converts a wall-clock style duration (as parsed from "250ms"), saturating at
    /// [`SimDuration::MAX`].
    fn from(d: std::time::Duration) -> Self {
        SimDuration(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    /// Saturates at [`SimTime::MAX`] ("never") instead of wrapping.
    #[inline]
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// Saturates at zero: a span is never negative.
    #[inline]
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl AddAssign for SimDuration {
    #[inline]
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    #[inline]
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for SimTime {
    /// Seconds with nanosecond precision, e.g. `12.000000500s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}s",
            self.0 / NANOS_PER_SEC,
            self.0 % NANOS_PER_SEC
        )
    }
}

impl fmt::Display for SimDuration {
    /// Humane form, e.g. `250ms`, `1h 30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = std::time::Duration::from_nanos(self.0);
        write!(f, "{}", humantime::format_duration(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_is_exact_and_saturating() {
        let t = SimTime(5) + SimDuration::from_millis(2);
        assert_eq!(t.as_nanos(), 2_000_005);
        assert_eq!(SimTime(3) - SimTime(10), SimDuration::ZERO);
        assert_eq!(SimTime::MAX + SimDuration(1), SimTime::MAX);
        assert_eq!(SimTime(10).checked_add(SimDuration(u64::MAX)), None);
    }

    #[test]
    fn float_edges_round_to_nearest_nanosecond() {
        assert_eq!(SimDuration::from_secs_f64(0.010).as_nanos(), 10_000_000);
        assert_eq!(SimDuration::from_secs_f64(1.4e-9).as_nanos(), 1);
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30), SimDuration::MAX);
    }

    #[test]
    fn display() {
        assert_eq!(SimTime(1_500_000_000).to_string(), "1.500000000s");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
    }
}
