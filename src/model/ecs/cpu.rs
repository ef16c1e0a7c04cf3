//! CPU accounting: the one place where CPU utilisation is computed, read by the metrics
//! recorder (and, later, by the CloudWatch model that autoscaling reads).
//!
//! ECS defines a service's `CPUUtilization` as "the total CPU units in use by the tasks in the
//! service ÷ the total CPU units reserved for the tasks in the service", over RUNNING tasks
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html>).
//! A [`CpuMeter`] holds both integrals over time, so the utilisation of any span is the ratio
//! of two differences, exactly, whatever tasks started or stopped inside it.

use std::ops::{Add, AddAssign, Sub};

/// ∫ CPU units in use dt and ∫ CPU units reserved dt, in CPU-unit·ns, since the start of the
/// run (or of a task). Monotone in time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuMeter {
    /// ∫ CPU units in use dt, CPU-unit·ns (1024 units = 1 vCPU).
    pub busy_unit_ns: u128,
    /// ∫ CPU units reserved by RUNNING tasks dt, CPU-unit·ns.
    pub reserved_unit_ns: u128,
}

impl CpuMeter {
    /// Utilisation over the span since `earlier` (a reading of the same meter), in %:
    /// `Δbusy ÷ Δreserved × 100`; `None` when nothing was reserved in between (no task ran).
    pub fn utilization_pct_since(&self, earlier: &CpuMeter) -> Option<f64> {
        let d = *self - *earlier;
        d.utilization_pct()
    }

    /// `busy ÷ reserved × 100`, `None` when nothing was reserved.
    pub fn utilization_pct(&self) -> Option<f64> {
        (self.reserved_unit_ns > 0)
            .then(|| self.busy_unit_ns as f64 / self.reserved_unit_ns as f64 * 100.0)
    }
}

impl Add for CpuMeter {
    type Output = CpuMeter;
    fn add(self, o: CpuMeter) -> CpuMeter {
        CpuMeter {
            busy_unit_ns: self.busy_unit_ns + o.busy_unit_ns,
            reserved_unit_ns: self.reserved_unit_ns + o.reserved_unit_ns,
        }
    }
}

impl AddAssign for CpuMeter {
    fn add_assign(&mut self, o: CpuMeter) {
        *self = *self + o;
    }
}

impl Sub for CpuMeter {
    type Output = CpuMeter;
    /// The span between two readings (saturating at zero).
    fn sub(self, o: CpuMeter) -> CpuMeter {
        CpuMeter {
            busy_unit_ns: self.busy_unit_ns.saturating_sub(o.busy_unit_ns),
            reserved_unit_ns: self.reserved_unit_ns.saturating_sub(o.reserved_unit_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utilisation_of_a_span_is_a_ratio_of_differences() {
        let a = CpuMeter {
            busy_unit_ns: 100,
            reserved_unit_ns: 400,
        };
        let b = CpuMeter {
            busy_unit_ns: 400,
            reserved_unit_ns: 1000,
        };
        assert_eq!(b.utilization_pct_since(&a), Some(50.0));
        assert_eq!(a.utilization_pct_since(&a), None);
        assert_eq!((a + b).busy_unit_ns, 500);
    }
}
