//! What the model tells the outside world. The model never writes a file nor words a
//! message: it calls an [`Observer`] (the metrics recorder, or a test's probe) at each
//! request milestone, each typed [`LifecycleEvent`] and each metrics interval. The observer
//! is a type parameter, so the calls are static and a no-op method costs nothing.

use super::World;
use super::dependencies::CallEnd;
use super::ecs::TaskState;
use super::elb::{TargetReason, TargetState};
use super::ids::{FaultId, ServiceId, TargetGroupId, TaskId};
use super::outcome::Cause;
use super::request::Request;
use crate::engine::SimTime;

/// Why a task stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StopReason {
    /// Stopped at once by a caller (a kill): its requests in flight ended with
    /// [`Cause::Elb502TargetClosed`].
    Killed,
    /// Its process exited (a crash): ECS's "Essential container in task exited".
    EssentialContainerExited,
    /// Its service stopped it (ECS's "Task stopped by the service"): it drained first.
    ServiceStop,
    /// It used more memory than its task definition's `memory` and its service has
    /// `memory.oom_kill`: the kernel killed its container, as a crash (ECS's
    /// "OutOfMemoryError: Container killed due to memory usage",
    /// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html>).
    OutOfMemory,
    /// It ran on `FARGATE_SPOT` and AWS took the capacity back: ECS's stop code
    /// `SpotInterruption`, "Your Spot Task was interrupted."
    /// (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html>).
    SpotInterruption,
}

impl StopReason {
    /// ECS's wording of the stop reason (`stoppedReason`).
    pub const fn ecs_reason(self) -> &'static str {
        match self {
            StopReason::Killed => "Task stopped by user",
            StopReason::EssentialContainerExited => "Essential container in task exited",
            StopReason::ServiceStop => "Task stopped by the service",
            StopReason::OutOfMemory => "OutOfMemoryError: Container killed due to memory usage",
            StopReason::SpotInterruption => "Your Spot Task was interrupted.",
        }
    }
}

/// A change in the fleet, typed; the output layer words it (ECS service-event style in
/// `events.csv`). Names are looked up in the [`World`] passed alongside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleEvent {
    /// A service launched a task that walks the lifecycle (PROVISIONING now).
    TaskLaunched {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
    },
    /// A task launch failed in PROVISIONING: no subnet had a free address
    /// (`InsufficientFreeAddressesInSubnet`); the task is STOPPED and the service retries
    /// after `retry_in`.
    TaskLaunchFailed {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
        /// The service's back-off before its next launch.
        retry_in: crate::engine::SimDuration,
    },
    /// A task moved from one lifecycle state to the next (ECS `lastStatus`).
    TaskStateChanged {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
        /// State before.
        from: TaskState,
        /// State after.
        to: TaskState,
    },
    /// A task reached RUNNING (its CPU counts as reserved from now).
    TaskStarted {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
    },
    /// A task stopped serving (reserves no CPU from now): killed, crashed, or its
    /// deregistration completed. Its lifecycle goes on ([`LifecycleEvent::TaskStateChanged`]).
    TaskStopped {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
        /// Why.
        reason: StopReason,
    },
    /// A target changed state in a target group. Registration is a change from `unused`
    /// to `initial`; deregistration starts with `draining` and completes with `unused`.
    TargetStateChanged {
        /// The task registered as the target.
        task: TaskId,
        /// The target group.
        target_group: TargetGroupId,
        /// State before.
        from: TargetState,
        /// State after.
        to: TargetState,
        /// AWS's reason code for the new state (`healthy` has none).
        reason: Option<TargetReason>,
    },
    /// A task's memory in use went above its task definition's `memory`. With its
    /// service's `oom_kill` the task is then killed ([`StopReason::OutOfMemory`]);
    /// otherwise the model only records it.
    MemoryExceeded {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
        /// Memory in use, KiB.
        used_kib: u64,
        /// Its `memory`, KiB.
        limit_kib: u64,
    },
    /// A task's memory in use came back within its `memory`.
    MemoryRecovered {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
        /// The highest memory in use during the excursion, KiB.
        peak_kib: u64,
        /// Its `memory`, KiB.
        limit_kib: u64,
    },
    /// A fault started (see [`World::faults`]), or struck again (a random fault).
    FaultStarted {
        /// The fault.
        fault: FaultId,
        /// The task it struck, for a fault that acts on one task (none when the service had
        /// no such task: the fault then does nothing).
        task: Option<TaskId>,
    },
    /// A fault ended (for a fault that acts on one task: its window on that task).
    FaultEnded {
        /// The fault.
        fault: FaultId,
        /// The task it acted on, as in [`LifecycleEvent::FaultStarted`].
        task: Option<TaskId>,
    },
    /// A deployment of a service to a task definition revision started (a scenario's
    /// deployment, or the circuit breaker's rollback).
    DeploymentStarted {
        /// The service.
        service: ServiceId,
        /// The revision it deploys (0: the service's first).
        revision: u16,
        /// A rollback after a failed deployment.
        rollback: bool,
    },
    /// A deployment completed: every task runs its revision and is healthy.
    DeploymentCompleted {
        /// The service.
        service: ServiceId,
        /// The revision.
        revision: u16,
    },
    /// Application Auto Scaling set a service's desired count (a scaling activity).
    ScalingActivity {
        /// The service.
        service: ServiceId,
        /// Desired count before.
        from: u32,
        /// Desired count after.
        to: u32,
        /// Which policy or scheduled action did it.
        cause: super::autoscaling::ScalingCause,
    },
    /// A scheduled action set a service's scalable target's bounds (read them from
    /// [`World::scalable_targets`]).
    ScalableTargetUpdated {
        /// The service.
        service: ServiceId,
        /// The action, in its scalable target's `scheduled_actions`.
        action: u16,
    },
    /// A `FARGATE_SPOT` task got its two-minute interruption warning: its service begins
    /// stopping it now (its target drains) and launches a replacement; it is terminated
    /// [`SPOT_INTERRUPTION_WARNING`](crate::model::SPOT_INTERRUPTION_WARNING) later.
    SpotInterrupted {
        /// The task.
        task: TaskId,
        /// Its service.
        service: ServiceId,
    },
    /// Anomaly detection (a `weighted_random` group with anomaly mitigation) judged a
    /// target `Anomalous` (its weight is being cut) or `Normal` again (its weight is being
    /// restored); see `model::elb::anomaly`.
    TargetAnomaly {
        /// The task registered as the target.
        task: TaskId,
        /// The target group.
        target_group: TargetGroupId,
        /// True: `Anomalous`; false: `Normal`.
        anomalous: bool,
    },
    /// The circuit breaker failed a deployment: `failures` tasks of its revision failed.
    DeploymentFailed {
        /// The service.
        service: ServiceId,
        /// The revision.
        revision: u16,
        /// The failure count, at the threshold.
        failures: u32,
    },
    /// A blue/green deployment changed (read it from [`World::blue_green`]).
    BlueGreen {
        /// The deployment (index in the scenario's `[[blue_green]]`).
        deployment: u16,
        /// What changed.
        change: super::ecs::blue_green::BlueGreenChange,
    },
}

/// Receives the model's observations. Every method has an empty default.
pub trait Observer {
    /// The world is built, with no task yet; called once at t = 0 before any other method.
    /// The initial tasks then start with [`LifecycleEvent::TaskStarted`] events at t = 0.
    #[inline]
    fn start(&mut self, _world: &World) {}
    /// A request reached the load balancer.
    #[inline]
    fn request_arrived(&mut self, _now: SimTime, _req: &Request) {}
    /// A request was routed to a target and reached its task (`req.task`, `req.slot` and
    /// `req.memory_kib` are set).
    #[inline]
    fn request_dispatched(&mut self, _now: SimTime, _req: &Request) {}
    /// A request got a worker at its task (it may have waited for one).
    #[inline]
    fn request_started(&mut self, _now: SimTime, _req: &Request) {}
    /// A request ended with `cause`. Called exactly once per request that ends.
    #[inline]
    fn request_finished(&mut self, _now: SimTime, _req: &Request, _cause: Cause) {}
    /// A call to a dependency ended (calls of requests that ended before their call
    /// returned, because their task stopped, are not reported).
    #[inline]
    fn call_finished(&mut self, _now: SimTime, _call: &CallEnd) {}
    /// Load balancer node `node` checks the health of `task`'s target in `target_group`
    /// now (the check is sent; a task that does not listen fails it at once). Health checks
    /// are not client requests: the request callbacks never see them.
    #[inline]
    fn health_probe(
        &mut self,
        _now: SimTime,
        _target_group: super::ids::TargetGroupId,
        _node: u8,
        _task: super::ids::TaskId,
    ) {
    }
    /// A lifecycle change; `world` is already in the new state.
    #[inline]
    fn lifecycle(&mut self, _now: SimTime, _event: &LifecycleEvent, _world: &World) {}
    /// CloudWatch published minute `minute`'s datapoints (`[60·minute s, 60·(minute+1) s)`)
    /// and its alarms evaluated them: read them from [`World::cloudwatch`].
    #[inline]
    fn cloudwatch_published(&mut self, _now: SimTime, _minute: u32, _world: &World) {}
    /// The warm-up has ended (called once, at the warm-up time, even if it is 0); every
    /// task's accounting is up to `now`.
    #[inline]
    fn warmup_end(&mut self, _now: SimTime, _world: &World) {}
    /// The end of a metrics interval; every task's accounting is up to `now`.
    #[inline]
    fn interval(&mut self, _now: SimTime, _world: &World) {}
    /// The end of the run; every task's accounting is up to `now`.
    #[inline]
    fn finish(&mut self, _now: SimTime, _world: &World) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;
impl Observer for NoObserver {}
