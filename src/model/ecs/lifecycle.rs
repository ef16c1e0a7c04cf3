//! The life of an ECS task, and the service that keeps `desired_count` of them
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html>,
//! `../shared/spec/aws-behaviour.md` §2 and §6.7).
//!
//! **Start.** A task launched by its service walks PROVISIONING → PENDING → ACTIVATING →
//! RUNNING, each phase a draw from the service's [`LifecycleSpec`](crate::model::LifecycleSpec).
//! In ACTIVATING it is registered in its target group (`initial`); at RUNNING its CPU counts
//! as reserved; once its application listens (`app_start` later) the target turns `healthy`
//! and gets traffic. (Health checks will decide that instead; until they exist, a target is
//! healthy from the moment its application listens.) The initial `desired_count` tasks start
//! warm: RUNNING, registered and healthy at t = 0.
//!
//! **Stop.** A task stopped by its service walks DEACTIVATING (its target drains: no new
//! requests; deregistration completes when its last request ends, or when the target group's
//! `deregistration_delay` expires, and then its remaining requests end with a 502) →
//! STOPPING (SIGTERM; the application's shutdown, cut at `stop_timeout` by SIGKILL) →
//! DEPROVISIONING (its ENI and IP are released) → STOPPED. It stops serving when DEACTIVATING
//! ends: its CPU counts as reserved until then.
//!
//! **Crash.** A task whose process exits (a `task_crash` fault) ends its requests with a 502
//! (target closed), leaves its target group at once (`Target.InvalidState`) and goes to
//! DEPROVISIONING. (With health checks, the load balancer will instead notice it by failed
//! probes.)
//!
//! **Replacement.** Whenever a task stops counting towards the desired count (it crashed, or
//! its service began stopping it), the service launches new tasks until `desired_count` are
//! active (PROVISIONING to RUNNING): "If a task in a service stops, the scheduler launches a
//! new task to replace it" (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html>).
//! A replacement is a new task, with a new name (and, with the IP model, a new address).
//!
//! **Task-seconds** count, as Fargate bills, from the start of the image pull (PENDING) to
//! STOPPED (<https://aws.amazon.com/fargate/pricing/>); a warm task from t = 0.

use super::{Service, TaskState};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::model::ids::{ServiceId, TaskId};
use crate::model::observer::{LifecycleEvent, Observer, StopReason};
use crate::model::outcome::Cause;
use crate::model::request::draw;
use crate::model::spec::RevisionFailure;
use crate::model::world::{Event, World};

impl Service {
    /// A task of revision `rev` is launched: it counts towards the desired count, and is
    /// live until STOPPED.
    pub(in crate::model) fn count_launch(&mut self, rev: u16) {
        self.active += 1;
        self.rollout.active_by_revision[usize::from(rev)] += 1;
        self.rollout.live_by_revision[usize::from(rev)] += 1;
    }

    /// A task of revision `rev` stops counting towards the desired count (it is being
    /// stopped, or replaced).
    pub(in crate::model) fn count_inactive(&mut self, rev: u16) {
        self.active -= 1;
        self.rollout.active_by_revision[usize::from(rev)] -= 1;
    }

    /// Tasks counting towards the desired count (PROVISIONING to RUNNING).
    pub fn active(&self) -> u32 {
        self.active
    }

    /// The number of tasks it keeps (`desired_count`, changed by the fleet operations of
    /// [`Simulation`](crate::model::Simulation)).
    pub fn desired(&self) -> u32 {
        self.desired
    }
}

impl World {
    /// Moves `id` to `to` and reports it.
    pub(in crate::model) fn set_task_state<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        id: TaskId,
        to: TaskState,
    ) {
        let t = &mut self.tasks[id.index()];
        let from = t.state;
        if from == to {
            return;
        }
        let service = t.service;
        if from.is_active() && !to.is_active() && !t.replacing {
            self.services[service.index()].count_inactive(t.revision);
        }
        if from.is_active()
            && !to.is_active()
            && let Some(lease) = &t.lease
        {
            // No longer counted where ECS places the next task (its address is still held).
            let r = self.network.stop_counting(lease);
            debug_assert!(r.is_ok(), "{r:?}");
        }
        let t = &mut self.tasks[id.index()];
        t.state = to;
        if to == TaskState::Pending {
            // Fargate bills from the start of the image pull.
            self.start_billing(now, id);
        }
        let t = &mut self.tasks[id.index()];
        if to == TaskState::Stopped {
            self.services[service.index()].rollout.live_by_revision[usize::from(t.revision)] -= 1;
            t.ended = Some(now);
            if let Some(lease) = t.lease.take() {
                let r = self.network.release(lease);
                debug_assert!(r.is_ok(), "{r:?}");
            }
            self.stop_billing(now, id);
        }
        o.lifecycle(
            now,
            &LifecycleEvent::TaskStateChanged {
                task: id,
                service,
                from,
                to,
            },
            self,
        );
    }

    /// Schedules the end of `id`'s current phase after a draw from `phase`'s distribution.
    fn schedule_phase_end(&self, s: &mut Scheduler<Event>, id: TaskId, d: SimDuration) {
        let phase = self.tasks[id.index()].state;
        s.schedule_in(d, Event::TaskPhaseEnd { task: id, phase });
    }

    /// A draw of `service`'s lifecycle duration `which` for its task number `number`.
    fn lifecycle_draw(&self, service: ServiceId, which: Phase, number: u32) -> SimDuration {
        let svc = &self.services[service.index()];
        let (sampler, key) = &svc.lifecycle[which as usize];
        draw(sampler, *key, u64::from(number))
    }

    /// A draw of task `id`'s DEPROVISIONING.
    pub(in crate::model) fn deprovisioning_draw(&self, id: TaskId) -> SimDuration {
        let t = &self.tasks[id.index()];
        self.lifecycle_draw(t.service, Phase::Deprovisioning, t.number)
    }

    /// A draw of task `id`'s application start-up: its revision's, or its service's.
    fn app_start_draw(&self, id: TaskId) -> SimDuration {
        let t = &self.tasks[id.index()];
        let svc = &self.services[t.service.index()];
        match &svc.revisions[usize::from(t.revision)].app_start {
            Some((sampler, key)) => draw(sampler, *key, u64::from(t.number)),
            None => self.lifecycle_draw(t.service, Phase::AppStart, t.number),
        }
    }

    /// Launches a task of `service` that walks the lifecycle: PROVISIONING now, with a
    /// private IP from the network. With no free address the task stops at once
    /// (`InsufficientFreeAddressesInSubnet`) and the service retries after its back-off.
    pub(in crate::model) fn launch_cold<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
    ) -> TaskId {
        let now = s.now();
        let id = self.new_task(now, service);
        let lease = self.network.allocate(service);
        let t = &mut self.tasks[id.index()];
        t.state = TaskState::Provisioning;
        t.listening = false;
        t.lease = lease.as_ref().ok().copied();
        self.place_in_outage(id);
        let rev = self.tasks[id.index()].revision;
        self.services[service.index()].count_launch(rev);
        o.lifecycle(
            now,
            &LifecycleEvent::TaskLaunched { task: id, service },
            self,
        );
        if lease.is_err() {
            self.set_task_state(now, o, id, TaskState::Stopped);
            let svc = &mut self.services[service.index()];
            let retry = svc.throttle.next_delay();
            svc.retry_pending = true;
            o.lifecycle(
                now,
                &LifecycleEvent::TaskLaunchFailed {
                    task: id,
                    service,
                    retry_in: retry,
                },
                self,
            );
            s.schedule_in(retry, Event::ServiceRetry { service });
            self.task_failed(s, o, id);
            return id;
        }
        let number = self.tasks[id.index()].number;
        let d = self.lifecycle_draw(service, Phase::Provisioning, number);
        self.schedule_phase_end(s, id, d);
        id
    }

    /// `service`'s launch back-off is over: it launches what it lacks.
    pub(in crate::model) fn on_service_retry<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
    ) {
        self.services[service.index()].retry_pending = false;
        self.reconcile(s, o, service);
    }

    /// The phase `phase` of task `id` is over (stale if the task has moved on since).
    pub(in crate::model) fn on_task_phase_end<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
        phase: TaskState,
    ) {
        let now = s.now();
        let t = &self.tasks[id.index()];
        if t.state != phase {
            return;
        }
        let (service, number) = (t.service, t.number);
        match phase {
            TaskState::Provisioning => {
                self.set_task_state(now, o, id, TaskState::Pending);
                let d = self.lifecycle_draw(service, Phase::Pending, number);
                self.schedule_phase_end(s, id, d);
            }
            TaskState::Pending => {
                self.set_task_state(now, o, id, TaskState::Activating);
                self.register_target_as(now, o, id, false);
                let d = self.lifecycle_draw(service, Phase::Activating, number);
                self.schedule_phase_end(s, id, d);
            }
            TaskState::Activating => {
                self.tasks[id.index()].start_running(now);
                self.services[service.index()].running.push(id);
                self.set_task_state(now, o, id, TaskState::Running);
                self.spot_started(s, now, id);
                self.services[service.index()].throttle.reset();
                o.lifecycle(
                    now,
                    &LifecycleEvent::TaskStarted { task: id, service },
                    self,
                );
                let grace = self.services[service.index()].grace_period;
                if grace.is_zero() {
                    // A target found unhealthy while the task was ACTIVATING is acted on now.
                    self.on_grace_period_end(s, o, id);
                } else {
                    s.schedule_in(grace, Event::GracePeriodEnd { task: id });
                }
                // A task of a revision a deployment is replacing can be stopped now.
                self.roll(s, o, service);
                let d = self.app_start_draw(id);
                // The end of RUNNING's first part: the application listens.
                self.schedule_phase_end(s, id, d);
            }
            TaskState::Running => {
                // The application listens. Without health checks its target is healthy now;
                // with them, its next passing check decides.
                let t = &mut self.tasks[id.index()];
                if t.crashed {
                    return;
                }
                let svc = &self.services[service.index()];
                if svc.revisions[usize::from(t.revision)].failure == RevisionFailure::CrashOnStart {
                    // The application exits as it starts.
                    self.crash(s, o, id, StopReason::EssentialContainerExited);
                    return;
                }
                t.listening = true;
                if let Some((tg, _)) = t.target
                    && !self.target_groups[tg.index()].health.spec.enabled
                {
                    self.set_target_health(now, o, id, true);
                    self.target_healthy(s, o, id);
                }
            }
            TaskState::Stopping => {
                self.set_task_state(now, o, id, TaskState::Deprovisioning);
                let d = self.lifecycle_draw(service, Phase::Deprovisioning, number);
                self.schedule_phase_end(s, id, d);
            }
            TaskState::Deprovisioning => {
                self.set_task_state(now, o, id, TaskState::Stopped);
                // A deployment completes once its old tasks have stopped.
                self.roll(s, o, service);
            }
            TaskState::Deactivating | TaskState::Stopped => {}
        }
    }

    /// The service stops `id` gracefully: DEACTIVATING (its target drains), then the rest
    /// of the stop sequence; a replacement is launched at once if the service needs one.
    /// Does nothing to a task that is not RUNNING.
    pub(in crate::model) fn begin_stop<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let t = &self.tasks[id.index()];
        if t.state != TaskState::Running {
            return;
        }
        let service = t.service;
        self.set_task_state(now, o, id, TaskState::Deactivating);
        self.reconcile(s, o, service);
        match self.tasks[id.index()].target {
            Some((tg, _)) => {
                let delay = self.target_group_delay(tg);
                s.schedule_in(delay, Event::DeregistrationTimeout { task: id });
                self.deregister_target(now, o, id);
                if self.tasks[id.index()].target.is_none() {
                    // Nothing was in flight: the deregistration completed at once.
                    self.deactivated.push(id);
                    self.deferred = true;
                }
            }
            None => self.deactivated(s, o, id),
        }
        self.run_deactivated(s, o);
    }

    /// The service stops `id`, which has not reached RUNNING yet (a scale-in that takes a
    /// task still starting): its target, if it was registered (ACTIVATING), is removed at
    /// once (it never listened, so nothing is in flight to it), and it goes to
    /// DEPROVISIONING, then STOPPED. Does nothing to a task that is RUNNING or beyond.
    pub(in crate::model) fn cancel_launch<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let t = &self.tasks[id.index()];
        if t.state >= TaskState::Running {
            return;
        }
        let (service, number) = (t.service, t.number);
        self.end_requests_at(now, o, id, Cause::Elb502TargetClosed);
        self.remove_target(now, o, id);
        self.set_task_state(now, o, id, TaskState::Deprovisioning);
        let d = self.lifecycle_draw(service, Phase::Deprovisioning, number);
        self.schedule_phase_end(s, id, d);
    }

    /// `id`'s deregistration delay expired: requests still at it end with a 502 and its
    /// deregistration completes.
    pub(in crate::model) fn on_deregistration_timeout<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        if self.lb.nlb.is_some() {
            return self.nlb_deregistration_timeout(s, o, id);
        }
        if self.tasks[id.index()].state != TaskState::Deactivating {
            return; // drained before the delay
        }
        let now = s.now();
        self.end_requests_at(now, o, id, Cause::Elb502DeregistrationDelay);
        self.run_deactivated(s, o);
    }

    /// Runs the stop sequence of the tasks whose deregistration just completed.
    pub(in crate::model) fn run_deactivated<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
    ) {
        while let Some(id) = self.deactivated.pop() {
            self.deactivated(s, o, id);
        }
    }

    /// `id` is deregistered (or had no target): it stops serving, gets SIGTERM and shuts
    /// down (STOPPING).
    fn deactivated<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, id: TaskId) {
        let now = s.now();
        let t = &self.tasks[id.index()];
        if t.state != TaskState::Deactivating {
            return;
        }
        let (service, number) = (t.service, t.number);
        let reason = if t.spot_interrupted.is_some() {
            StopReason::SpotInterruption
        } else {
            StopReason::ServiceStop
        };
        self.retire(now, o, id, reason);
        self.set_task_state(now, o, id, TaskState::Stopping);
        let svc = &self.services[service.index()];
        let stop_timeout = svc.stop_timeout;
        let d = if self.tasks[id.index()].crashed {
            SimDuration::ZERO // nothing left to shut down
        } else if self.tasks[id.index()].hung_by.is_some() {
            stop_timeout // a hung application ignores SIGTERM: SIGKILL
        } else {
            self.lifecycle_draw(service, Phase::Shutdown, number)
                .min(stop_timeout)
        };
        self.schedule_phase_end(s, id, d);
    }

    /// `id` stops serving at `now`: it leaves its service's running tasks (its usage kept
    /// as the service's), then its remaining requests end with a 502 (target closed).
    pub(in crate::model) fn retire<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        id: TaskId,
        reason: StopReason,
    ) {
        let task = &mut self.tasks[id.index()];
        if task.stopped.is_none() && task.state >= TaskState::Running {
            task.advance(now);
            task.stop_serving(now);
            let (service, usage) = (task.service, task.usage());
            let svc = &mut self.services[service.index()];
            svc.running.retain(|&t| t != id);
            svc.retired += usage;
            o.lifecycle(
                now,
                &LifecycleEvent::TaskStopped {
                    task: id,
                    service,
                    reason,
                },
                self,
            );
        }
        self.end_requests_at(now, o, id, Cause::Elb502TargetClosed);
    }

    /// Ends every request at `id` with `cause`, in arrival order (a task still serving
    /// forgets them); completes the deregistration of a draining target this leaves idle.
    pub(in crate::model) fn end_requests_at<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        id: TaskId,
        cause: Cause,
    ) {
        let keys = self.requests.at_task(id);
        if keys.is_empty() {
            return;
        }
        // No load balancer (direct service discovery): the client's connection is reset.
        let cause = if self.lb.direct.is_some() {
            Cause::ConnectionFailed
        } else {
            cause
        };
        let task = &mut self.tasks[id.index()];
        if task.stopped.is_none() {
            task.advance(now);
            task.drop_requests();
        }
        let mut drained = None;
        for key in keys {
            let mut req = self.requests.remove(key);
            // An open WebSocket ended by anything but its own close is cut.
            let cause = if self.is_websocket(&req) {
                crate::model::clients::websocket_over(&mut req, now);
                Cause::WebsocketCut
            } else {
                cause
            };
            if self.request_over(now, o, &req, cause) {
                drained = Some((req.target_group, req.slot));
            }
        }
        if let Some((tg, slot)) = drained {
            self.complete_drain(now, o, tg, slot);
        }
    }

    /// Task `id`'s process exits (`reason`: a `task_crash` fault, or an out-of-memory
    /// kill): its requests end with a 502 and it accepts no more connections, but its target
    /// stays registered until ECS notices (`crash_detection` later) and stops it
    /// (DEACTIVATING: its target drains, at once as nothing is in flight), then launches a
    /// replacement. Meanwhile requests routed to it get a 502 and its health checks fail.
    /// The circuit breaker of a deployment of its revision counts it.
    pub(in crate::model) fn crash<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
        reason: StopReason,
    ) {
        let now = s.now();
        let service = self.tasks[id.index()].service;
        let t = &mut self.tasks[id.index()];
        t.crashed = true;
        t.listening = false;
        let number = t.number;
        self.retire(now, o, id, reason);
        let d = self.lifecycle_draw(service, Phase::CrashDetection, number);
        s.schedule_in(d, Event::CrashNoticed { task: id });
        self.task_failed(s, o, id);
    }

    /// ECS notices that `id` crashed: it stops it (its target drains at once: nothing is in
    /// flight) and launches a replacement.
    pub(in crate::model) fn on_crash_noticed<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        self.begin_stop(s, o, id);
    }

    /// Runs what the current handler left for after it: the stop sequence of tasks whose
    /// deregistration completed, and the health checks of new registrations.
    pub(in crate::model) fn run_deferred<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
    ) {
        loop {
            if let Some((tg, slot)) = self.new_targets.pop() {
                self.start_health_checks(s, tg, slot);
            } else if !self.probe_results.is_empty() {
                let (tg, slot, node, serial, cause) = self.probe_results.remove(0);
                self.probe_ended(s, o, tg, slot, node, serial, cause);
            } else if !self.deactivated.is_empty() {
                self.run_deactivated(s, o);
            } else if let Some(id) = self.oom_killed.pop() {
                self.oom_kill(s, o, id);
            } else if !self.propagating.is_empty() {
                self.schedule_propagations(s);
            } else if !self.wakeups.is_empty() {
                self.schedule_wakeups(s);
            } else if self.lb.nlb.as_ref().is_some_and(|n| !n.pending.is_empty()) {
                self.schedule_nlb_timeouts(s);
            } else {
                self.deferred = false;
                return;
            }
        }
    }

    /// ECS's reaction to `id`'s target turning unhealthy: once the service's health check
    /// grace period since RUNNING is over, it replaces the task, starting the replacement
    /// first and stopping the task once a replacement is healthy, as far as
    /// the service's `maximumPercent` (default 200 %) allows; with no headroom it stops the task at once
    /// ("A deep dive into Amazon ECS task health and task replacement",
    /// <https://aws.amazon.com/blogs/containers/a-deep-dive-into-amazon-ecs-task-health-and-task-replacement/>).
    pub(in crate::model) fn target_unhealthy<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let t = &self.tasks[id.index()];
        let service = t.service;
        let svc = &self.services[service.index()];
        if t.state != TaskState::Running || t.replacing || now < t.started + svc.grace_period {
            return;
        }
        let max = super::deployment::max_tasks(svc.desired, svc.rollout.config.maximum_percent);
        let live = self.tasks_not_stopping(service);
        let t = &mut self.tasks[id.index()];
        t.replacing = true;
        self.services[service.index()].count_inactive(t.revision);
        self.task_failed(s, o, id);
        if live < max {
            self.reconcile(s, o, service);
        } else {
            self.begin_stop(s, o, id);
        }
    }

    /// `id`'s health check grace period is over (or, with none, `id` reached RUNNING): ECS
    /// now acts on its target's verdict, so an unhealthy target's task is replaced.
    pub(in crate::model) fn on_grace_period_end<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let Some((tg, slot)) = self.tasks[id.index()].target else {
            return;
        };
        if self.target_groups[tg.index()].targets()[slot as usize].state
            == crate::model::elb::TargetState::Unhealthy
        {
            self.target_unhealthy(s, o, id);
        }
    }

    /// A target turned healthy: if its service is replacing unhealthy tasks, the oldest
    /// of them stops now.
    pub(in crate::model) fn target_healthy<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let service = self.tasks[id.index()].service;
        let old = self.services[service.index()]
            .running
            .iter()
            .copied()
            .find(|&t| {
                self.tasks[t.index()].replacing && self.tasks[t.index()].state == TaskState::Running
            });
        if let Some(old) = old {
            self.begin_stop(s, o, old);
        }
        if self.services[service.index()]
            .rollout
            .in_progress()
            .is_some()
        {
            self.roll(s, o, service);
        }
        if !self.blue_green.is_empty() {
            self.blue_green_target_healthy(s, o, service);
        }
    }

    /// Tasks of `service` launched and not yet being stopped (PROVISIONING to RUNNING,
    /// those being replaced included): what `maximumPercent` bounds.
    pub(in crate::model) fn tasks_not_stopping(&self, service: ServiceId) -> u32 {
        let svc = &self.services[service.index()];
        svc.active
            + svc
                .running
                .iter()
                .filter(|&&t| {
                    self.tasks[t.index()].replacing
                        && self.tasks[t.index()].state == TaskState::Running
                })
                .count() as u32
    }
}

/// The lifecycle durations a service draws, by index into its samplers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::model) enum Phase {
    Provisioning,
    Pending,
    Activating,
    AppStart,
    Shutdown,
    Deprovisioning,
    CrashDetection,
}

impl Phase {
    /// Every phase, in sampler order, with its name in draw purposes
    /// (`service/<name>/lifecycle/<name>`) and its field path in the spec.
    pub(in crate::model) const ALL: [(Phase, &'static str); 7] = [
        (Phase::Provisioning, "provisioning"),
        (Phase::Pending, "pending"),
        (Phase::Activating, "activating"),
        (Phase::AppStart, "app_start"),
        (Phase::Shutdown, "shutdown"),
        (Phase::Deprovisioning, "deprovisioning"),
        (Phase::CrashDetection, "crash_detection"),
    ];
}
