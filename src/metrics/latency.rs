//! Latency accumulators: an auto-resizing HDR histogram for percentiles, with an exact sum,
//! minimum and maximum beside it.

use hdrhistogram::Histogram;

use super::round_to;
use super::summary::LatencySummary;

/// Lowest latency the histograms tell apart, ns (1 µs); values below are still counted.
const HIST_LOW_NS: u64 = 1_000;
/// Initial highest latency, ns (1 min). The histograms grow automatically beyond it, to any
/// `u64` (about 584 years).
const HIST_HIGH_NS: u64 = 60_000_000_000;
/// Significant digits kept by the histograms (relative error ≤ 0.1 %).
const HIST_SIGFIG: u8 = 3;

/// Latencies of a set of responses.
///
/// Percentiles come from an auto-resizing HDR histogram with 3 significant digits (any
/// `u64` of nanoseconds fits: nothing is clamped), capped at the exact maximum (so a run of
/// equal values reports them exactly); the mean and maximum are exact.
#[derive(Clone, Debug)]
pub struct LatencyAcc {
    hist: Histogram<u64>,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for LatencyAcc {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyAcc {
    /// An empty accumulator.
    pub fn new() -> Self {
        let mut hist = Histogram::new_with_bounds(HIST_LOW_NS, HIST_HIGH_NS, HIST_SIGFIG)
            .expect("valid histogram bounds");
        hist.auto(true);
        LatencyAcc {
            hist,
            sum_ns: 0,
            max_ns: 0,
        }
    }

    /// Records one latency, ns.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        if ns <= self.hist.high() {
            self.hist.saturating_record(ns);
        } else {
            self.record_beyond(ns);
        }
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// A value above the current range: the histogram grows to hold it. Every `u64` fits
    /// on a 64-bit target (tested); growth can fail only where `usize` is narrower, and there
    /// the value is recorded at the highest trackable one.
    #[cold]
    #[inline(never)]
    fn record_beyond(&mut self, ns: u64) {
        if self.hist.record(ns).is_err() {
            self.hist.saturating_record(ns);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Empties it.
    pub fn reset(&mut self) {
        self.hist.reset();
        self.sum_ns = 0;
        self.max_ns = 0;
    }

    /// Adds every value of `other`.
    pub fn add(&mut self, other: &LatencyAcc) {
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms accept any histogram of the same precision");
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Σ of the recorded latencies, ns (exact).
    pub fn sum_ns(&self) -> u128 {
        self.sum_ns
    }

    /// Mean, ms; `None` when empty.
    pub fn mean_ms(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_ns as f64 / n as f64 / 1e6)
    }

    /// Exact maximum, ms.
    pub fn max_ms(&self) -> Option<f64> {
        (self.count() > 0).then(|| self.max_ns as f64 / 1e6)
    }

    /// The `q`-quantile (0 < q ≤ 1), ms: the histogram's value (the highest value
    /// equivalent to it at 3 significant digits), capped at the exact maximum.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        (self.count() > 0).then(|| self.hist.value_at_quantile(q).min(self.max_ns) as f64 / 1e6)
    }

    /// The distribution as rows of `(latency_ms, count, cumulative_fraction)`: one row per
    /// histogram bucket that holds any latency (3 significant digits; `latency_ms` is the
    /// bucket's highest value, capped at the largest latency recorded), in increasing
    /// order. `cumulative_fraction` is the share of latencies at or below `latency_ms`
    /// (0–1, the last row 1). Empty with no latency.
    pub fn cdf_rows(&self) -> Vec<(f64, u64, f64)> {
        let n = self.count();
        let mut rows = Vec::new();
        let mut seen = 0u64;
        for v in self.hist.iter_recorded() {
            let c = v.count_since_last_iteration();
            seen += c;
            let ms = v.value_iterated_to().min(self.max_ns) as f64 / 1e6;
            rows.push((round_to(ms, 6), c, round_to(seen as f64 / n as f64, 9)));
        }
        rows
    }

    /// The summary of `summary.json`, rounded to the microsecond; `None` when empty.
    pub fn summary(&self) -> Option<LatencySummary> {
        let r = |x: Option<f64>| round_to(x.unwrap_or(0.0), 3);
        (self.count() > 0).then(|| LatencySummary {
            count: self.count(),
            mean: r(self.mean_ms()),
            p50: r(self.quantile_ms(0.5)),
            p90: r(self.quantile_ms(0.9)),
            p99: r(self.quantile_ms(0.99)),
            p99_9: r(self.quantile_ms(0.999)),
            max: r(self.max_ms()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_hour_latencies_are_not_clamped() {
        let mut a = LatencyAcc::new();
        let two_hours = 7_200_000_000_000u64;
        for i in 0..1000 {
            a.record(two_hours + i * 1_000_000_000);
        }
        let s = a.summary().unwrap();
        assert!((s.p50 / 7_700_000.0 - 1.0).abs() < 0.002, "{s:?}");
        assert_eq!(s.max, 8_199_000.0);
        assert!(s.p99 <= s.max && s.p99 > 8_100_000.0, "{s:?}");
    }

    #[test]
    fn equal_values_are_reported_exactly() {
        let mut a = LatencyAcc::new();
        for _ in 0..10 {
            a.record(50_000_000);
        }
        let s = a.summary().unwrap();
        assert_eq!((s.p50, s.p99, s.max, s.mean), (50.0, 50.0, 50.0, 50.0));
    }

    #[test]
    fn the_whole_range_of_simulated_time_is_recorded() {
        let mut a = LatencyAcc::new();
        a.record(u64::MAX);
        a.record(5);
        assert_eq!(a.count(), 2);
        let top = a.quantile_ms(1.0).unwrap();
        assert!((top / (u64::MAX as f64 / 1e6) - 1.0).abs() < 1e-3, "{top}");
        // Below the 1 µs resolution.
        assert!(a.quantile_ms(0.5).unwrap() < 0.001);
    }
}
