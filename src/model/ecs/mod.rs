//! The ECS side: services, their tasks (multi-core processor-sharing servers), CPU
//! accounting, and the handlers that launch and stop tasks and serve requests.

mod cpu;
mod task;

pub use cpu::CpuMeter;
pub use task::{CPU_UNITS_PER_VCPU, Task, TaskState};

use super::ModelError;
use super::dist::Sampler;
use super::ids::{ServiceId, TargetGroupId, TaskId};
use super::observer::{LifecycleEvent, Observer, StopReason};
use super::outcome::Cause;
use super::request::draw;
use super::spec::{TaskSpec, WorldSpec};
use super::world::{Event, World};
use crate::engine::{self, Scheduler, SimTime};

/// An ECS service: its task definition, its request CPU-time distribution and its tasks.
#[derive(Clone, Debug)]
pub struct Service {
    /// This service's id.
    pub id: ServiceId,
    /// Name from the scenario.
    pub name: String,
    /// The target group its tasks register in.
    pub target_group: TargetGroupId,
    /// Its task definition's size and the application's concurrency.
    pub task: TaskSpec,
    cpu_time: Sampler,
    /// Key `service/<name>/cpu_time` of the CPU times' keyed draws.
    cpu_time_key: u64,
    /// Running tasks, in launch order.
    running: Vec<TaskId>,
    /// CPU meters of its stopped tasks, summed.
    retired: CpuMeter,
    /// Tasks launched so far (names the next one).
    launched: u32,
}

impl Service {
    /// The services of `spec`, with no task yet.
    pub(in crate::model) fn build_all(spec: &WorldSpec) -> Result<Vec<Service>, ModelError> {
        let ntg = spec.target_groups.len();
        let mut services = Vec::with_capacity(spec.services.len());
        for (i, s) in spec.services.iter().enumerate() {
            if s.target_group >= ntg {
                return Err(ModelError::UnknownReference(format!(
                    "service {} registers in target group #{}, which does not exist",
                    s.name, s.target_group
                )));
            }
            services.push(Service {
                id: ServiceId(i as u32),
                name: s.name.clone(),
                target_group: TargetGroupId(s.target_group as u32),
                task: s.task,
                cpu_time: Sampler::new(&s.cpu_time, &format!("services.{}.cpu_time", s.name))?,
                cpu_time_key: engine::stream_key(
                    spec.seed,
                    &format!("service/{}/cpu_time", s.name),
                ),
                running: Vec::new(),
                retired: CpuMeter::default(),
                launched: 0,
            });
        }
        Ok(services)
    }

    /// Its running tasks, in launch order.
    pub fn running(&self) -> &[TaskId] {
        &self.running
    }
}

impl World {
    /// The CPU meter of `service`: its running tasks' (accounted up to their last
    /// accounting point; every tick and the end bring them to the current time) plus its
    /// stopped tasks'. The one source of CPU utilisation for outputs and policies.
    pub fn service_cpu(&self, service: ServiceId) -> CpuMeter {
        let s = &self.services[service.index()];
        s.running
            .iter()
            .fold(s.retired, |acc, t| acc + self.tasks[t.index()].cpu())
    }

    /// Launches a task of `service` at `now`: RUNNING, then registered in the service's
    /// target group.
    pub(in crate::model) fn launch_task<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        service: ServiceId,
    ) -> TaskId {
        let id = TaskId(self.tasks.len() as u32);
        let svc = &mut self.services[service.index()];
        let mut task = Task::new(
            id,
            format!("{}-{}", svc.name, svc.launched),
            service,
            svc.task.cpu,
            svc.task.max_concurrency,
            now,
        );
        task.memory_mib = svc.task.memory;
        svc.launched += 1;
        svc.running.push(id);
        self.tasks.push(task);
        o.lifecycle(
            now,
            &LifecycleEvent::TaskStarted { task: id, service },
            self,
        );
        self.register_target(now, o, id);
        id
    }

    /// Stops `task` at `now`, abruptly (a crash, a kill): it stops, then the load balancer
    /// sees its connections close (its requests end with a 502), then its target is removed.
    pub(in crate::model) fn stop_task<O: Observer>(&mut self, now: SimTime, o: &mut O, id: TaskId) {
        let task = &mut self.tasks[id.index()];
        if task.stopped.is_some() {
            return;
        }
        task.advance(now);
        let held = task.stop(now);
        let (service, target, cpu) = (task.service, task.target, task.cpu());
        let svc = &mut self.services[service.index()];
        svc.running.retain(|&t| t != id);
        svc.retired += cpu;
        o.lifecycle(
            now,
            &LifecycleEvent::TaskStopped {
                task: id,
                service,
                reason: StopReason::Killed,
            },
            self,
        );
        for (_, key) in held {
            let req = self.requests.remove(key);
            let cause = Cause::Elb502TargetClosed;
            self.lb.request_ended(&self.target_groups, now, &req, cause);
            o.request_finished(now, &req, cause);
        }
        if let Some((tg, slot)) = target {
            let mut changes = super::elb::Changes::default();
            self.target_groups[tg.index()].remove(slot, now, &mut changes);
            self.apply_target_changes(now, o, tg, changes);
        }
    }

    /// A routed request (store key `key`, its task set) reaches its task: draw its CPU time
    /// and admit it.
    #[inline]
    pub(in crate::model) fn serve<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        key: u32,
    ) {
        let now = s.now();
        let req = self.requests.get_mut(key);
        let Some(task_id) = req.task else { return };
        let task = &mut self.tasks[task_id.index()];
        let svc = &self.services[task.service.index()];
        req.work = draw(&svc.cpu_time, svc.cpu_time_key, req.seed);
        o.request_dispatched(now, req);
        task.advance(now);
        if task.admit(req.serial, key, req.work) {
            o.request_started(now, req);
        }
        reschedule(s, task);
    }

    /// A task's earliest request in service may be done.
    pub(in crate::model) fn on_completion<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        task_id: TaskId,
        generation: u64,
    ) {
        let now = s.now();
        let task = &mut self.tasks[task_id.index()];
        if task.generation != generation {
            return; // stale: the task rescheduled or stopped since
        }
        task.next_completion = SimTime::MAX;
        task.advance(now);
        // A task is one target, so at most one deregistration can complete here.
        let mut drained = None;
        while let Some((_, key)) = task.pop_finished() {
            let req = self.requests.remove(key);
            if self
                .lb
                .request_ended(&self.target_groups, now, &req, Cause::Ok)
            {
                drained = Some((req.target_group, req.slot));
            }
            o.request_finished(now, &req, Cause::Ok);
        }
        while let Some(key) = task.promote_waiting() {
            o.request_started(now, self.requests.get(key));
        }
        reschedule(s, task);
        if let Some((tg, slot)) = drained {
            self.complete_drain(now, o, tg, slot);
        }
    }
}

/// Keeps exactly one pending completion event per busy task, at the right time.
#[inline]
fn reschedule(s: &mut Scheduler<Event>, task: &mut Task) {
    let next = task.completion_time();
    if next != task.next_completion {
        task.generation = task.generation.wrapping_add(1);
        task.next_completion = next;
        if next != SimTime::MAX {
            s.schedule_at(
                next,
                Event::Completion {
                    task: task.id,
                    generation: task.generation,
                },
            );
        }
    }
}
