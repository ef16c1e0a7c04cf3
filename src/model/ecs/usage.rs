//! Usage accounting beyond CPU: workers, requests waiting for a worker and memory, integrated
//! over time like [`CpuMeter`], so the mean of any span is a ratio of two differences.
//!
//! Memory follows ECS's `MemoryUtilization`: memory in use by the service's tasks ÷ the
//! memory reserved for them by their task definitions (`memory`), over RUNNING tasks
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html>).

use std::ops::{Add, AddAssign, Sub};

use super::cpu::CpuMeter;

/// Integrals over time of what a task (or a sum of tasks) uses, since its start. Every
/// field is monotone in time; `_ns` fields are a count × nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsageMeter {
    /// CPU in use and reserved.
    pub cpu: CpuMeter,
    /// ∫ running tasks dt, task·ns.
    pub running_ns: u128,
    /// ∫ busy workers dt, worker·ns.
    pub workers_busy_ns: u128,
    /// ∫ workers in the pools of tasks with a limited pool dt, worker·ns.
    pub workers_pool_ns: u128,
    /// ∫ running tasks with no worker limit dt, task·ns (worker utilisation is undefined
    /// over a span where this grows).
    pub unlimited_pool_ns: u128,
    /// ∫ requests waiting for a worker dt, request·ns.
    pub waiting_ns: u128,
    /// ∫ requests in a CPU step (on CPU or waiting for it) dt, request·ns.
    pub on_cpu_ns: u128,
    /// ∫ memory in use dt, KiB·ns.
    pub memory_used_kib_ns: u128,
    /// ∫ memory reserved (task definition `memory`) dt, KiB·ns.
    pub memory_reserved_kib_ns: u128,
}

impl UsageMeter {
    /// Memory in use ÷ memory reserved × 100 over the span since `earlier`, %; `None` when
    /// nothing was reserved (no task ran).
    pub fn memory_pct_since(&self, earlier: &UsageMeter) -> Option<f64> {
        let d = *self - *earlier;
        (d.memory_reserved_kib_ns > 0)
            .then(|| d.memory_used_kib_ns as f64 / d.memory_reserved_kib_ns as f64 * 100.0)
    }

    /// Busy workers ÷ workers × 100 over the span since `earlier`, %; `None` when no task
    /// ran or one ran with no worker limit.
    pub fn worker_pct_since(&self, earlier: &UsageMeter) -> Option<f64> {
        let d = *self - *earlier;
        (d.workers_pool_ns > 0 && d.unlimited_pool_ns == 0)
            .then(|| d.workers_busy_ns as f64 / d.workers_pool_ns as f64 * 100.0)
    }
}

impl Add for UsageMeter {
    type Output = UsageMeter;
    fn add(self, o: UsageMeter) -> UsageMeter {
        UsageMeter {
            cpu: self.cpu + o.cpu,
            running_ns: self.running_ns + o.running_ns,
            workers_busy_ns: self.workers_busy_ns + o.workers_busy_ns,
            workers_pool_ns: self.workers_pool_ns + o.workers_pool_ns,
            unlimited_pool_ns: self.unlimited_pool_ns + o.unlimited_pool_ns,
            waiting_ns: self.waiting_ns + o.waiting_ns,
            on_cpu_ns: self.on_cpu_ns + o.on_cpu_ns,
            memory_used_kib_ns: self.memory_used_kib_ns + o.memory_used_kib_ns,
            memory_reserved_kib_ns: self.memory_reserved_kib_ns + o.memory_reserved_kib_ns,
        }
    }
}

impl AddAssign for UsageMeter {
    fn add_assign(&mut self, o: UsageMeter) {
        *self = *self + o;
    }
}

impl Sub for UsageMeter {
    type Output = UsageMeter;
    /// The span between two readings (saturating at zero).
    fn sub(self, o: UsageMeter) -> UsageMeter {
        UsageMeter {
            cpu: self.cpu - o.cpu,
            running_ns: self.running_ns.saturating_sub(o.running_ns),
            workers_busy_ns: self.workers_busy_ns.saturating_sub(o.workers_busy_ns),
            workers_pool_ns: self.workers_pool_ns.saturating_sub(o.workers_pool_ns),
            unlimited_pool_ns: self.unlimited_pool_ns.saturating_sub(o.unlimited_pool_ns),
            waiting_ns: self.waiting_ns.saturating_sub(o.waiting_ns),
            on_cpu_ns: self.on_cpu_ns.saturating_sub(o.on_cpu_ns),
            memory_used_kib_ns: self.memory_used_kib_ns.saturating_sub(o.memory_used_kib_ns),
            memory_reserved_kib_ns: self
                .memory_reserved_kib_ns
                .saturating_sub(o.memory_reserved_kib_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_of_a_span_are_ratios_of_differences() {
        let a = UsageMeter {
            workers_busy_ns: 10,
            workers_pool_ns: 40,
            memory_used_kib_ns: 100,
            memory_reserved_kib_ns: 1000,
            ..Default::default()
        };
        let b = UsageMeter {
            workers_busy_ns: 30,
            workers_pool_ns: 80,
            memory_used_kib_ns: 400,
            memory_reserved_kib_ns: 2000,
            ..Default::default()
        };
        assert_eq!(b.worker_pct_since(&a), Some(50.0));
        assert_eq!(b.memory_pct_since(&a), Some(30.0));
        assert_eq!(a.memory_pct_since(&a), None);
        let unlimited = UsageMeter {
            unlimited_pool_ns: 5,
            ..b
        };
        assert_eq!(unlimited.worker_pct_since(&a), None);
    }
}
