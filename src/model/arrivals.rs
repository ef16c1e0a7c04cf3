//! Arrival processes: homogeneous Poisson, and non-homogeneous Poisson (NHPP) following a
//! piecewise rate profile (a schedule or a replayed trace).
//!
//! The NHPP is generated exactly by inversion of the cumulative rate
//! (Çinlar's method; see Lewis & Shedler, "Simulation of nonhomogeneous Poisson processes
//! by thinning", Naval Res. Logistics Quarterly 26(3), 1979, §1): draw `E ~ Exp(1)` and find
//! the earliest `t'` with `Λ(t') − Λ(t) = E`, walking the segments forward. Every draw is
//! used, so there is no rejection and the cost per arrival is O(1) amortised.

use rand::Rng;

use super::dist::{ns_to_duration, standard_exponential};
use super::spec::{ArrivalSpec, RateProfile, RateSegment};
use crate::engine::{NANOS_PER_SEC, SimTime};

/// The running state of one client's arrival process.
#[derive(Clone, Debug)]
pub enum ArrivalProcess {
    /// Poisson: exponential gaps with this mean, in ns.
    Poisson {
        /// Mean gap between arrivals, ns.
        mean_gap_ns: f64,
    },
    /// Deterministic: the `k`-th arrival at `round(k · 1e9 / rate)` ns.
    Deterministic {
        /// Arrival rate, requests/s.
        rate_rps: f64,
        /// Index of the next arrival, from 1.
        next_k: u64,
    },
    /// NHPP following a profile.
    Profile {
        /// The rate profile.
        profile: RateProfile,
        /// Index of the segment holding the current time (a cursor, so that the walk is
        /// amortised O(1)).
        cursor: usize,
        /// Start of the current repetition of a periodic profile, ns.
        cycle_start: u64,
    },
    /// Closed loop: no arrival process of its own (its users send when their previous
    /// response is in and they have thought; see [`crate::model::clients::users`]).
    ClosedLoop,
}

impl ArrivalProcess {
    /// The initial state of a process.
    pub fn new(spec: &ArrivalSpec) -> ArrivalProcess {
        match spec {
            ArrivalSpec::Poisson { rate_rps } => ArrivalProcess::Poisson {
                mean_gap_ns: NANOS_PER_SEC as f64 / rate_rps,
            },
            ArrivalSpec::Deterministic { rate_rps } => ArrivalProcess::Deterministic {
                rate_rps: *rate_rps,
                next_k: 1,
            },
            ArrivalSpec::Profile(p) => ArrivalProcess::Profile {
                profile: p.clone(),
                cursor: 0,
                cycle_start: 0,
            },
            ArrivalSpec::ClosedLoop(_) => ArrivalProcess::ClosedLoop,
        }
    }

    /// The time of the first arrival after `now`, or `None` if no arrival will ever come
    /// (a non-periodic profile whose rate stays 0 to its end).
    #[inline(always)]
    pub fn next_after<R: Rng + ?Sized>(&mut self, now: SimTime, rng: &mut R) -> Option<SimTime> {
        match self {
            ArrivalProcess::Poisson { mean_gap_ns } => {
                let e = standard_exponential(rng);
                Some(now + ns_to_duration(*mean_gap_ns * e))
            }
            ArrivalProcess::Deterministic { rate_rps, next_k } => {
                // Computed from k each time (no accumulated rounding drift); skips any
                // arrival at or before `now` (only the first call can see one).
                loop {
                    let t = ns_to_duration(*next_k as f64 * NANOS_PER_SEC as f64 / *rate_rps);
                    *next_k += 1;
                    if t.0 > now.0 || t.0 == u64::MAX {
                        return (t.0 != u64::MAX).then_some(SimTime(t.0));
                    }
                }
            }
            ArrivalProcess::Profile {
                profile,
                cursor,
                cycle_start,
            } => {
                let e = standard_exponential(rng);
                invert(profile, cursor, cycle_start, now.0, e).map(SimTime)
            }
            ArrivalProcess::ClosedLoop => None,
        }
    }
}

/// Finds the earliest `t ≥ now` (ns, absolute) with `∫_now^t rate = e`. Advances the cursor.
fn invert(
    profile: &RateProfile,
    cursor: &mut usize,
    cycle_start: &mut u64,
    now: u64,
    mut e: f64,
) -> Option<u64> {
    let segs: &[RateSegment] = &profile.segments;
    let mut t = now;
    // A full cycle with zero total rate would loop forever; count the segments visited.
    let mut visited_without_rate = 0usize;
    loop {
        let Some(seg) = segs.get(*cursor) else {
            // Past the last segment.
            match profile.period {
                Some(p) if p.0 > 0 => {
                    *cycle_start = cycle_start.checked_add(p.0)?;
                    *cursor = 0;
                    continue;
                }
                _ => return None,
            }
        };
        let seg_start = *cycle_start + seg.start.0;
        let seg_end = cycle_start.checked_add(seg.end.0)?;
        if t >= seg_end {
            *cursor += 1;
            continue;
        }
        let t0 = t.max(seg_start);
        // Rate at t0 and slope, per second.
        let len_s = (seg.end.0 - seg.start.0) as f64 / NANOS_PER_SEC as f64;
        let slope = (seg.rate_end_rps - seg.rate_start_rps) / len_s;
        let off_s = (t0 - seg_start) as f64 / NANOS_PER_SEC as f64;
        let r0 = seg.rate_start_rps + slope * off_s;
        let rest_s = (seg_end - t0) as f64 / NANOS_PER_SEC as f64;
        // Integrated rate over the rest of the segment.
        let area = r0 * rest_s + 0.5 * slope * rest_s * rest_s;
        if area > e {
            // Solve r0·x + slope·x²/2 = e for the smallest x ≥ 0, in a form that is stable
            // for slope → 0: x = 2e / (r0 + sqrt(r0² + 2·slope·e)).
            let disc = (r0 * r0 + 2.0 * slope * e).max(0.0);
            let denom = r0 + disc.sqrt();
            let x = if denom > 0.0 { 2.0 * e / denom } else { rest_s };
            let dt = ns_to_duration(x * NANOS_PER_SEC as f64).0.min(seg_end - t0);
            return Some(t0 + dt);
        }
        if area > 0.0 {
            e -= area;
            visited_without_rate = 0;
        } else {
            visited_without_rate += 1;
            if visited_without_rate > segs.len() + 1 {
                return None;
            }
        }
        t = seg_end;
        *cursor += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{SimDuration, stream};
    use std::sync::Arc;

    fn seg(a: u64, b: u64, r0: f64, r1: f64) -> RateSegment {
        RateSegment {
            start: SimTime(a * NANOS_PER_SEC),
            end: SimTime(b * NANOS_PER_SEC),
            rate_start_rps: r0,
            rate_end_rps: r1,
        }
    }

    fn count_per_window(p: RateProfile, horizon_s: u64, window_s: u64) -> Vec<u64> {
        let mut a = ArrivalProcess::new(&ArrivalSpec::Profile(p));
        let mut rng = stream(1, "t");
        let mut counts = vec![0u64; (horizon_s / window_s) as usize];
        let mut t = SimTime::ZERO;
        while let Some(n) = a.next_after(t, &mut rng) {
            if n.0 >= horizon_s * NANOS_PER_SEC {
                break;
            }
            counts[(n.0 / (window_s * NANOS_PER_SEC)) as usize] += 1;
            t = n;
        }
        counts
    }

    #[test]
    fn step_profile_counts_match_rates() {
        // 100 rps for 100 s, 0 for 100 s, 400 rps for 100 s.
        let p = RateProfile {
            segments: Arc::from(vec![
                seg(0, 100, 100.0, 100.0),
                seg(100, 200, 0.0, 0.0),
                seg(200, 300, 400.0, 400.0),
            ]),
            period: None,
        };
        let c = count_per_window(p, 400, 100);
        // Poisson counts: mean 10000 (sd 100) and 40000 (sd 200); 5 sd tolerance.
        assert!((c[0] as f64 - 10_000.0).abs() < 500.0, "{c:?}");
        assert_eq!(c[1], 0);
        assert!((c[2] as f64 - 40_000.0).abs() < 1000.0, "{c:?}");
        assert_eq!(c[3], 0, "non-periodic profile ends");
    }

    #[test]
    fn linear_ramp_and_periodic_repeat() {
        // Ramp 0 -> 200 rps over 100 s (expected 10000 arrivals), repeating.
        let p = RateProfile {
            segments: Arc::from(vec![seg(0, 100, 0.0, 200.0)]),
            period: Some(SimDuration::from_secs(100)),
        };
        let c = count_per_window(p, 300, 50);
        // First half of the ramp: ∫0^50 2t dt = 2500; second half 7500.
        for cycle in 0..3 {
            let (a, b) = (c[2 * cycle] as f64, c[2 * cycle + 1] as f64);
            assert!((a - 2500.0).abs() < 5.0 * 50.0, "{c:?}");
            assert!((b - 7500.0).abs() < 5.0 * 87.0, "{c:?}");
        }
    }

    #[test]
    fn deterministic_arrivals_are_exact_and_do_not_drift() {
        let mut a = ArrivalProcess::new(&ArrivalSpec::Deterministic { rate_rps: 3.0 });
        let mut rng = stream(1, "t");
        let mut t = SimTime::ZERO;
        let mut got = Vec::new();
        for _ in 0..3_000_000 {
            t = a.next_after(t, &mut rng).unwrap();
            got.push(t.0);
        }
        assert_eq!(&got[..3], &[333_333_333, 666_666_667, 1_000_000_000]);
        // One million seconds later, still on the grid: no accumulated rounding.
        assert_eq!(got[2_999_999], 1_000_000 * NANOS_PER_SEC);
        // It draws nothing from its stream.
        assert_eq!(rng, stream(1, "t"));
    }

    #[test]
    fn all_zero_periodic_profile_ends_instead_of_looping() {
        let p = RateProfile {
            segments: Arc::from(vec![seg(0, 60, 0.0, 0.0)]),
            period: Some(SimDuration::from_secs(60)),
        };
        let mut a = ArrivalProcess::new(&ArrivalSpec::Profile(p));
        assert_eq!(a.next_after(SimTime::ZERO, &mut stream(1, "t")), None);
    }
}
