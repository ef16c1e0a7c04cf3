//! `[[services]]`: names, target groups, desired counts, Fargate task sizes (valid CPU and
//! memory pairs), concurrency limits and per-request CPU time.

use super::{Ctx, MAX_CONCURRENCY, MAX_DESIRED_COUNT, TargetGroupIndex};
use crate::model::{ServiceSpec, TaskSpec};
use crate::scenario::file::{ServiceSection, TaskSection};

/// Valid Fargate (CPU units, memory MiB) pairs, from
/// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size>:
/// for a valid `cpu`, the (min MiB, max MiB, step MiB) of its memory sizes; `None` for
/// any other `cpu`. (256 CPU units allow only 512, 1024 and 2048 MiB: see
/// [`fargate_pair_is_valid`].)
pub fn fargate_memory_range(cpu: u32) -> Option<(u32, u32, u32)> {
    // (min MiB, max MiB, step MiB)
    match cpu {
        256 => Some((512, 2048, 512)),
        512 => Some((1024, 4096, 1024)),
        1024 => Some((2048, 8192, 1024)),
        2048 => Some((4096, 16384, 1024)),
        4096 => Some((8192, 30720, 1024)),
        8192 => Some((16384, 61440, 4096)),
        16384 => Some((32768, 122880, 8192)),
        _ => None,
    }
}

/// True when `memory` is a valid Fargate memory size for `cpu`.
pub fn fargate_pair_is_valid(cpu: u32, memory: u32) -> bool {
    match fargate_memory_range(cpu) {
        // 256 CPU units allow 512, 1024 and 2048 MiB only.
        Some((lo, hi, _)) if cpu == 256 => [lo, 1024, hi].contains(&memory),
        Some((lo, hi, step)) => memory >= lo && memory <= hi && (memory - lo) % step == 0,
        None => false,
    }
}

/// Checks `[[services]]`; `tg_index` maps target group names to indices.
pub(super) fn resolve(
    ctx: &mut Ctx,
    services: &[ServiceSection],
    tg_index: &TargetGroupIndex,
) -> Vec<ServiceSpec> {
    ctx.unique(
        "service",
        services
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("services.{i}.name"), s.name.as_str())),
    );
    services
        .iter()
        .enumerate()
        .map(|(i, s)| service(ctx, i, s, tg_index))
        .collect()
}

/// Checks service `i`.
fn service(
    ctx: &mut Ctx,
    i: usize,
    s: &ServiceSection,
    tg_index: &TargetGroupIndex,
) -> ServiceSpec {
    let p = format!("services.{i}");
    ctx.name(&format!("{p}.name"), &s.name, "service", 255, true);
    let tg = ctx.target_group(&format!("{p}.target_group"), &s.target_group, tg_index);
    if s.desired_count > MAX_DESIRED_COUNT {
        ctx.bad(
            format!("{p}.desired_count"),
            format!(
                "{}: must be 0–{MAX_DESIRED_COUNT} (ECS tasks-per-service quota)",
                s.desired_count
            ),
        );
    }
    let task = task(ctx, &p, &s.task);
    let cpu_time = ctx.required_delay(&format!("{p}.request.cpu_time"), &s.request.cpu_time);
    ServiceSpec {
        name: s.name.clone(),
        target_group: tg,
        desired_count: s.desired_count,
        task,
        cpu_time,
        ..Default::default()
    }
}

/// Checks the `task` table of the service at `p`: a Fargate CPU and memory pair, and the
/// concurrency limit.
fn task(ctx: &mut Ctx, p: &str, t: &TaskSection) -> TaskSpec {
    if fargate_memory_range(t.cpu).is_none() {
        ctx.bad(format!("{p}.task.cpu"), format!("{}: Fargate task CPU must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 CPU units (1024 = 1 vCPU)", t.cpu));
    } else if !fargate_pair_is_valid(t.cpu, t.memory) {
        let (lo, hi, step) = fargate_memory_range(t.cpu).expect("checked");
        let allowed = if t.cpu == 256 {
            "512, 1024 or 2048".to_string()
        } else {
            format!("{lo}–{hi} in steps of {step}")
        };
        ctx.bad(
            format!("{p}.task.memory"),
            format!(
                "{} MiB is not valid with cpu = {} on Fargate: allowed {allowed} MiB",
                t.memory, t.cpu
            ),
        );
    }
    if t.max_concurrency > MAX_CONCURRENCY {
        ctx.bad(
            format!("{p}.task.max_concurrency"),
            format!(
                "{}: must be 0 (no limit) to {MAX_CONCURRENCY}",
                t.max_concurrency
            ),
        );
    }
    TaskSpec {
        cpu: t.cpu,
        memory: t.memory,
        max_concurrency: t.max_concurrency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fargate_pairs() {
        assert!(fargate_pair_is_valid(256, 512));
        assert!(fargate_pair_is_valid(256, 2048));
        assert!(!fargate_pair_is_valid(256, 1536));
        assert!(fargate_pair_is_valid(1024, 2048));
        assert!(!fargate_pair_is_valid(1024, 1024));
        assert!(fargate_pair_is_valid(4096, 30720));
        assert!(!fargate_pair_is_valid(4096, 31744));
        assert!(fargate_pair_is_valid(8192, 20480));
        assert!(!fargate_pair_is_valid(8192, 17408));
        assert!(fargate_pair_is_valid(16384, 122880));
        assert!(!fargate_pair_is_valid(1000, 2048));
    }
}
