//! `events.csv`: the model's typed lifecycle events, worded like ECS service events
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html>)
//! and ELB target health changes. The wording lives here, in the output layer; the model
//! only emits [`LifecycleEvent`]s.

use crate::engine::SimTime;
use crate::model::{FaultKind, LifecycleEvent, StopReason, TargetState, TaskState, World};

/// The header of `events.csv`.
pub const EVENTS_HEADER: [&str; 7] = [
    "time_s",
    "kind",
    "service",
    "task",
    "target_group",
    "reason",
    "detail",
];

/// ", at <IP> in <AZ>" for a task with an address, or nothing.
fn address(world: &World, t: &crate::model::Task) -> String {
    match &t.lease {
        Some(l) => format!(
            ", at {} in {}",
            crate::model::ecs::network::format_ip(l.ip),
            world.network().az_name(l.az)
        ),
        None => String::new(),
    }
}

/// " on FARGATE_SPOT" for a task on Fargate Spot, or nothing (`FARGATE`, the default, is
/// not named, as with the `FARGATE` launch type).
fn on_provider(t: &crate::model::Task) -> String {
    match t.capacity_provider {
        crate::model::CapacityProvider::Fargate => String::new(),
        p => format!(" on {}", p.name()),
    }
}

/// A target as the load balancer knows it (target type `ip`): `<IP>:<port>`, or
/// `<task name>:<port>` for a task with no address.
fn target_address(
    world: &World,
    task: crate::model::TaskId,
    tg: crate::model::TargetGroupId,
) -> String {
    let port = world.target_groups()[tg.index()].port;
    let t = &world.tasks()[task.index()];
    match &t.lease {
        Some(l) => format!("{}:{port}", crate::model::ecs::network::format_ip(l.ip)),
        None => format!("{}:{port}", t.name),
    }
}

/// One row of `events.csv`, in [`EVENTS_HEADER`] order; `None` for an event that has no
/// row of its own (a task's move to RUNNING, whose `task_running` row follows it).
pub fn event_row(now: SimTime, event: &LifecycleEvent, world: &World) -> Option<[String; 7]> {
    if let LifecycleEvent::TaskStateChanged {
        to: TaskState::Running,
        ..
    } = event
    {
        return None;
    }
    let task_name = |t: crate::model::TaskId| world.tasks()[t.index()].name.clone();
    let service_of = |t: crate::model::TaskId| {
        let s = world.tasks()[t.index()].service;
        world.services()[s.index()].name.clone()
    };
    let (kind, service, task, tg, reason, detail) = match *event {
        LifecycleEvent::TaskLaunchFailed {
            task,
            service,
            retry_in,
        } => {
            let svc = world.services()[service.index()].name.clone();
            let t = &world.tasks()[task.index()];
            let detail = format!(
                "(service {svc}) was unable to place a task: (task {}) stopped in PROVISIONING \
                 (no free address in any subnet); the service retries in {} s.",
                t.name,
                retry_in.as_secs_f64()
            );
            (
                "task_launch_failed",
                svc,
                t.name.clone(),
                String::new(),
                crate::model::ecs::network::INSUFFICIENT_FREE_ADDRESSES,
                detail,
            )
        }
        LifecycleEvent::TaskLaunched { task, service } => {
            let svc = world.services()[service.index()].name.clone();
            let t = &world.tasks()[task.index()];
            let revision = if world.services()[service.index()].revisions().len() > 1 {
                format!(" of task definition {}", task_definition(&svc, t.revision))
            } else {
                String::new()
            };
            let detail = format!(
                "(service {svc}) has started 1 tasks: (task {}){revision}{} with {} CPU units \
                 and {} MiB{}.",
                t.name,
                on_provider(t),
                t.cpu_units,
                t.memory_mib,
                address(world, t)
            );
            (
                "task_launched",
                svc,
                t.name.clone(),
                String::new(),
                "",
                detail,
            )
        }
        LifecycleEvent::TaskStateChanged {
            task,
            service,
            from,
            to,
        } => {
            let svc = world.services()[service.index()].name.clone();
            let t = &world.tasks()[task.index()];
            let detail = format!("(task {}) is {} (was {}).", t.name, to.name(), from.name());
            (
                "task_state",
                svc,
                t.name.clone(),
                String::new(),
                to.name(),
                detail,
            )
        }
        LifecycleEvent::TaskStarted { task, service } => {
            let svc = world.services()[service.index()].name.clone();
            let t = &world.tasks()[task.index()];
            let detail = if t.launched < now {
                format!(
                    "(task {}) is RUNNING{} with {} CPU units and {} MiB, {:.3} s after its launch.",
                    t.name,
                    on_provider(t),
                    t.cpu_units,
                    t.memory_mib,
                    (now - t.launched).as_secs_f64()
                )
            } else {
                format!(
                    "(service {svc}) has started 1 tasks: (task {}){} with {} CPU units and {} MiB{}.",
                    t.name,
                    on_provider(t),
                    t.cpu_units,
                    t.memory_mib,
                    address(world, t)
                )
            };
            (
                "task_running",
                svc,
                t.name.clone(),
                String::new(),
                "",
                detail,
            )
        }
        LifecycleEvent::TaskStopped {
            task,
            service,
            reason,
        } => {
            let svc = world.services()[service.index()].name.clone();
            let why = match reason {
                StopReason::Killed => "Killed",
                StopReason::EssentialContainerExited => "EssentialContainerExited",
                StopReason::ServiceStop => "ServiceStop",
                StopReason::OutOfMemory => "OutOfMemoryError",
                StopReason::SpotInterruption => "SpotInterruption",
            };
            let detail = format!(
                "(service {svc}) has stopped 1 running tasks: (task {}).",
                task_name(task)
            );
            (
                "task_stopped",
                svc,
                task_name(task),
                String::new(),
                why,
                detail,
            )
        }
        LifecycleEvent::SpotInterrupted { task, service } => {
            let svc = world.services()[service.index()].name.clone();
            let t = &world.tasks()[task.index()];
            let detail = format!(
                "(task {}) on FARGATE_SPOT received a two-minute Spot interruption warning \
                 (ECS Task State Change, stopCode SpotInterruption: \"{}\"); (service {svc}) \
                 is stopping it and launching a replacement; it is terminated at {} s at the latest.",
                t.name,
                StopReason::SpotInterruption.ecs_reason(),
                format_event_time(now + crate::model::SPOT_INTERRUPTION_WARNING)
            );
            (
                "task_spot_interrupted",
                svc,
                t.name.clone(),
                String::new(),
                "SpotInterruption",
                detail,
            )
        }
        LifecycleEvent::TargetStateChanged {
            task,
            target_group,
            from,
            to,
            reason,
        } => {
            let svc = service_of(task);
            let tg = world.target_groups()[target_group.index()].name.clone();
            let name = task_name(task);
            let code = reason.map(|r| r.code()).unwrap_or("");
            let (kind, detail) = match (from, to) {
                (TargetState::Unused, TargetState::Initial) => (
                    "target_registered",
                    format!(
                        "(service {svc}) registered 1 targets in (target-group {tg}): {}.",
                        target_address(world, task, target_group)
                    ),
                ),
                (_, TargetState::Draining) => (
                    "target_draining",
                    format!(
                        "(service {svc}) has begun draining connections on 1 tasks: target {name} in (target-group {tg})."
                    ),
                ),
                (_, TargetState::Unused) => (
                    "target_deregistered",
                    format!("(service {svc}) deregistered 1 targets in (target-group {tg})."),
                ),
                (_, state) => (
                    match state {
                        TargetState::Healthy => "target_healthy",
                        TargetState::Unhealthy => "target_unhealthy",
                        _ => "target_initial",
                    },
                    format!(
                        "target {name} in (target-group {tg}) is {} (was {}).",
                        state.name(),
                        from.name()
                    ),
                ),
            };
            (kind, svc, name, tg, code, detail)
        }
        LifecycleEvent::TargetAnomaly {
            task,
            target_group,
            anomalous,
        } => {
            let tg = world.target_groups()[target_group.index()].name.clone();
            let name = task_name(task);
            let (kind, state, what) = if anomalous {
                (
                    "target_anomalous",
                    "Anomalous",
                    "its error ratio stands out from its peers'; anomaly mitigation cuts its weight",
                )
            } else {
                (
                    "target_normal",
                    "Normal",
                    "its error ratio is back in line; anomaly mitigation restores its weight gradually",
                )
            };
            (
                kind,
                service_of(task),
                name.clone(),
                tg.clone(),
                state,
                format!("target {name} in (target-group {tg}) is {state}: {what}."),
            )
        }
        LifecycleEvent::MemoryExceeded {
            task,
            used_kib,
            limit_kib,
            ..
        } => (
            "task_memory_exceeded",
            service_of(task),
            task_name(task),
            String::new(),
            "",
            format!(
                "(task {}) uses {} MiB, more than its memory of {} MiB ({}).",
                task_name(task),
                mib(used_kib),
                mib(limit_kib),
                if world.services()[world.tasks()[task.index()].service.index()].oom_kill() {
                    "OutOfMemoryError: Container killed due to memory usage"
                } else {
                    "ECS would stop it with OutOfMemoryError; memory.oom_kill is off"
                }
            ),
        ),
        LifecycleEvent::MemoryRecovered {
            task,
            peak_kib,
            limit_kib,
            ..
        } => (
            "task_memory_recovered",
            service_of(task),
            task_name(task),
            String::new(),
            "",
            format!(
                "(task {}) is back within its memory of {} MiB; peak {} MiB.",
                task_name(task),
                mib(limit_kib),
                mib(peak_kib)
            ),
        ),
        LifecycleEvent::FaultStarted { fault, task }
        | LifecycleEvent::FaultEnded { fault, task } => {
            let f = &world.faults()[fault.index()];
            let dep = f
                .dependency()
                .map(|d| world.dependencies()[d.index()].name.as_str())
                .unwrap_or("");
            let svc = f
                .service()
                .map(|s| world.services()[s.index()].name.clone())
                .unwrap_or_default();
            let started = matches!(event, LifecycleEvent::FaultStarted { .. });
            // The task struck, or the position that named no task.
            let random = f.mean_time_between_failures();
            let who = |nth: u32| match (task, random) {
                (Some(t), None) => format!("task {}", task_name(t)),
                (Some(t), Some(m)) => format!(
                    "task {} (drawn at random; mean time between failures {} s)",
                    task_name(t),
                    m.as_secs_f64()
                ),
                (None, None) => format!("task #{nth} (oldest first; the service has no such task)"),
                (None, Some(_)) => "no task (the service has none serving)".to_string(),
            };
            let what = match f.kind {
                FaultKind::DependencyDown { .. } => format!("dependency {dep} is down"),
                FaultKind::DependencySlow { factor, .. } => {
                    format!("dependency {dep} is slow (latency × {factor})")
                }
                FaultKind::TaskCrash { task, .. } => {
                    format!("{} of service {svc} crashes", who(task))
                }
                FaultKind::TaskHang { task, .. } => format!(
                    "{} of service {svc} hangs (accepts connections, answers nothing)",
                    who(task)
                ),
                FaultKind::TaskSlow { task, factor, .. } => format!(
                    "{} of service {svc} runs its CPU {factor} × slower",
                    who(task)
                ),
                FaultKind::AppErrors { fraction, .. } => format!(
                    "service {svc} answers {}% of its responses with a 500",
                    fraction * 100.0
                ),
                FaultKind::AzOutage { availability_zone } => format!(
                    "Availability Zone {} is unreachable",
                    world.network().az_name(availability_zone)
                ),
            };
            let detail = if started {
                format!("fault {}: {what}.", fault.0)
            } else {
                format!("fault {}: over ({what} until now).", fault.0)
            };
            (
                if started {
                    "fault_started"
                } else {
                    "fault_ended"
                },
                svc,
                task.map(task_name).unwrap_or_default(),
                String::new(),
                "",
                detail,
            )
        }
        LifecycleEvent::DeploymentStarted {
            service,
            revision,
            rollback,
        } => {
            let svc = &world.services()[service.index()];
            let d = svc
                .rollout()
                .deployments()
                .last()
                .expect("the deployment that started");
            let detail = if rollback {
                format!(
                    "(service {}) is rolling back to task definition {}.",
                    svc.name,
                    task_definition(&svc.name, revision)
                )
            } else {
                format!(
                    "(service {}) has begun a deployment from task definition {} to {} \
                     (minimumHealthyPercent {} %, maximumPercent {} %).",
                    svc.name,
                    task_definition(&svc.name, d.from),
                    task_definition(&svc.name, revision),
                    svc.rollout().config.minimum_healthy_percent,
                    svc.rollout().config.maximum_percent
                )
            };
            (
                "deployment_started",
                svc.name.clone(),
                String::new(),
                String::new(),
                if rollback { "ROLLBACK" } else { "" },
                detail,
            )
        }
        LifecycleEvent::DeploymentCompleted { service, revision } => {
            let svc = &world.services()[service.index()];
            let detail = format!(
                "(service {}) deployment to task definition {} completed; (service {}) has \
                 reached a steady state.",
                svc.name,
                task_definition(&svc.name, revision),
                svc.name
            );
            (
                "deployment_completed",
                svc.name.clone(),
                String::new(),
                String::new(),
                "COMPLETED",
                detail,
            )
        }
        LifecycleEvent::ScalingActivity {
            service,
            from,
            to,
            cause,
        } => {
            let svc = world.services()[service.index()].name.clone();
            let target = world.scalable_targets()[service.index()].as_ref();
            let alarm_name = |a: u32| world.cloudwatch().alarms[a as usize].name.clone();
            let (reason, why) = match (cause, target) {
                (
                    crate::model::autoscaling::ScalingCause::TargetTracking { policy, alarm },
                    Some(t),
                ) => (
                    t.target_tracking[usize::from(policy)].spec.name.clone(),
                    format!(
                        "monitor alarm {} in state ALARM triggered policy {}",
                        alarm_name(alarm),
                        t.target_tracking[usize::from(policy)].spec.name
                    ),
                ),
                (
                    crate::model::autoscaling::ScalingCause::StepScaling { policy, alarm },
                    Some(t),
                ) => (
                    t.step_scaling[usize::from(policy)].spec.name.clone(),
                    format!(
                        "monitor alarm {} in state ALARM triggered policy {}",
                        alarm_name(alarm),
                        t.step_scaling[usize::from(policy)].spec.name
                    ),
                ),
                (crate::model::autoscaling::ScalingCause::Scheduled { action }, Some(t)) => (
                    t.scheduled_actions[usize::from(action)].name.clone(),
                    format!(
                        "scheduled action {} set the capacity bounds to {}–{}",
                        t.scheduled_actions[usize::from(action)].name,
                        t.min,
                        t.max
                    ),
                ),
                (_, None) => (String::new(), "a scaling policy".to_string()),
            };
            let verb = if to > from {
                "Scaling out"
            } else {
                "Scaling in"
            };
            let detail = format!(
                "{verb}: {why} changing the desired capacity from {from} to {to}. \
                 Successfully set desired count to {to}. Change successfully fulfilled by ecs."
            );
            return Some([
                format_event_time(now),
                "scaling_activity".to_string(),
                svc,
                String::new(),
                String::new(),
                reason,
                detail,
            ]);
        }
        LifecycleEvent::ScalableTargetUpdated { service, action } => {
            let svc = world.services()[service.index()].name.clone();
            let (name, min, max) = world.scalable_targets()[service.index()].as_ref().map_or(
                (String::new(), 0, 0),
                |t| {
                    (
                        t.scheduled_actions[usize::from(action)].name.clone(),
                        t.min,
                        t.max,
                    )
                },
            );
            let detail = format!(
                "scheduled action {name} set the scalable target of (service {svc}): \
                 min capacity {min}, max capacity {max}."
            );
            (
                "scheduled_action",
                svc,
                String::new(),
                String::new(),
                "",
                detail,
            )
        }
        LifecycleEvent::DeploymentFailed {
            service,
            revision,
            failures,
        } => {
            let svc = &world.services()[service.index()];
            let detail = format!(
                "(service {}) deployment to task definition {} failed: the circuit breaker \
                 counted {failures} failed tasks (its threshold).",
                svc.name,
                task_definition(&svc.name, revision)
            );
            (
                "deployment_failed",
                svc.name.clone(),
                String::new(),
                String::new(),
                "FAILED",
                detail,
            )
        }
        LifecycleEvent::BlueGreen { deployment, change } => {
            blue_green_row(world, usize::from(deployment), change)
        }
    };
    Some([
        format_event_time(now),
        kind.to_string(),
        service,
        task,
        tg,
        reason.to_string(),
        detail,
    ])
}

/// The columns of a blue/green deployment's row: `blue_green_started`, `traffic_shifted`
/// (`detail` gives both weights), `task_set_terminated`, and at the end
/// `blue_green_succeeded`, `blue_green_rolled_back` or `blue_green_failed` (CodeDeploy's
/// words in `detail`).
fn blue_green_row(
    world: &World,
    d: usize,
    change: crate::model::ecs::blue_green::BlueGreenChange,
) -> (&'static str, String, String, String, &'static str, String) {
    use crate::model::ecs::blue_green::{BlueGreenChange, BlueGreenState};
    let bg = &world.blue_green()[d];
    let svc = |i: usize| &world.services()[i];
    let (blue, green) = (svc(bg.spec.blue_service), svc(bg.spec.green_service));
    let group =
        |s: &crate::model::Service| world.target_groups()[s.target_group.index()].name.clone();
    match change {
        BlueGreenChange::Started => (
            "blue_green_started",
            green.name.clone(),
            String::new(),
            group(green),
            "",
            format!(
                "blue/green deployment #{d} from task set (service {}) to (service {}) started, \
                 {}; termination wait {} min.",
                blue.name,
                green.name,
                bg.spec.config_name,
                bg.spec.termination_wait.0 / 60_000_000_000
            ),
        ),
        BlueGreenChange::TrafficShifted { green_percent } => (
            "traffic_shifted",
            green.name.clone(),
            String::new(),
            group(green),
            // Green's share only falls to 0 on a rollback.
            if green_percent == 0 { "ROLLBACK" } else { "" },
            format!(
                "production traffic: {} {} %, {} {} %.",
                group(blue),
                100 - green_percent,
                group(green),
                green_percent
            ),
        ),
        BlueGreenChange::TaskSetTerminated { service } => {
            let s = svc(service.index());
            (
                "task_set_terminated",
                s.name.clone(),
                String::new(),
                group(s),
                "",
                format!("(service {}) task set terminated: desired count 0.", s.name),
            )
        }
        BlueGreenChange::Ended => {
            let (kind, reason, what) = match bg.state {
                BlueGreenState::Succeeded => (
                    "blue_green_succeeded",
                    "SUCCEEDED",
                    "succeeded: the original task set was terminated".to_string(),
                ),
                BlueGreenState::RolledBack => (
                    "blue_green_rolled_back",
                    "ROLLED_BACK",
                    format!(
                        "was rolled back: alarm {} is in ALARM",
                        bg.alarm
                            .map(|a| world.cloudwatch().alarms[a].name.clone())
                            .unwrap_or_default()
                    ),
                ),
                _ => (
                    "blue_green_failed",
                    "FAILED",
                    format!(
                        "failed: the replacement task set was not steady within {} min",
                        crate::model::ecs::blue_green::READY_TIMEOUT.0 / 60_000_000_000
                    ),
                ),
            };
            (
                kind,
                green.name.clone(),
                String::new(),
                group(green),
                reason,
                format!("blue/green deployment #{d} {what}."),
            )
        }
    }
}

/// ECS's name of `service`'s task definition revision `revision` (0-based): `name:1` for
/// the first.
pub fn task_definition(service: &str, revision: u16) -> String {
    format!("{service}:{}", u32::from(revision) + 1)
}

/// KiB as MiB with up to 3 decimals, no trailing zeros.
fn mib(kib: u64) -> String {
    let s = format!("{:.3}", kib as f64 / 1024.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Event times with nanosecond precision (events are exact instants), no trailing zeros.
pub fn format_event_time(t: SimTime) -> String {
    let ns = t.0;
    if ns % 1_000_000_000 == 0 {
        (ns / 1_000_000_000).to_string()
    } else {
        let s = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_are_exact_without_trailing_zeros() {
        assert_eq!(format_event_time(SimTime(0)), "0");
        assert_eq!(format_event_time(SimTime(20_000_000_000)), "20");
        assert_eq!(format_event_time(SimTime(10_120_000_000)), "10.12");
        assert_eq!(
            format_event_time(SimTime(86_400_000_000_001)),
            "86400.000000001"
        );
    }
}
