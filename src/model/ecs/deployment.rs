//! Rolling deployments of an ECS service (deployment controller `ECS`), with the
//! deployment circuit breaker
//! (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html>,
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html>,
//! `../shared/spec/aws-behaviour.md` §6.1–§6.2 and modelling note 7).
//!
//! **Revisions.** A service's first task definition revision is the scenario's service;
//! each deployment brings a new one (its request profile, its application's start-up, or a
//! way to be broken). A task runs the revision it was launched with, to its end.
//!
//! **The rolling update.** With `D` = `desired_count`, at most floor(`D` ×
//! `maximumPercent` ÷ 100) tasks may be PROVISIONING to RUNNING (tasks being stopped do not
//! count: ECS's "RUNNING or PENDING state"), and at least ceil(`D` ×
//! `minimumHealthyPercent` ÷ 100) tasks must stay healthy, a task counting once its target
//! is `healthy` in the target group. Whenever something changes (the deployment starts, a
//! target turns healthy, a task stops counting), the service
//! 1. stops old-revision tasks that are not healthy, then as many healthy ones as keep the
//!    minimum (oldest first; each drains for the deregistration delay before SIGTERM), and
//! 2. launches new-revision tasks while it has fewer than `D` of them and the maximum allows.
//!
//! With the defaults (100 %, 200 %) this is "start `D` new tasks; as each turns healthy,
//! stop an old one". The deployment is COMPLETED once every old-revision task has
//! STOPPED (so the deregistration delay is part of a deployment's time, as ECS's best
//! practices guide says) and `D` new-revision tasks are healthy. A deployment that can
//! neither stop nor start a task (e.g. `desired_count` 1 with 100 % / 100 %) makes no
//! progress, as in ECS. While a deployment is in progress a task that stops is replaced
//! by one of the new revision (ECS's behaviour before November 2025, when it started
//! replacing a task with its own revision).
//!
//! **Circuit breaker.** Each task of the deployment's revision that fails counts: one that
//! fails to launch (no free address), one whose process exits (a crash), one that ECS
//! stops because its target failed its health checks. When the count reaches the threshold
//! (ceil(0.5 × `D`) clamped to [3, 200]) the deployment is FAILED and launches no more
//! tasks; with `rollback`, a deployment back to the last COMPLETED revision starts at once.
//! Without `rollback` the service then launches nothing (its tasks keep running) until a
//! later deployment. AWS's exception for a deployment that "has at least one successfully
//! running task" is ambiguous and not modelled.

use super::{Service, Step, StepKind, TaskState};
use crate::engine::{Scheduler, SimTime};
use crate::model::ModelError;
use crate::model::dist::Sampler;
use crate::model::elb::TargetState;
use crate::model::ids::{ServiceId, TaskId};
use crate::model::observer::{LifecycleEvent, Observer};
use crate::model::spec::{DeploymentConfigurationSpec, RevisionFailure, ServiceSpec, StepSpec};
use crate::model::world::{Event, World};

/// A task definition revision, ready to run.
#[derive(Clone, Debug)]
pub struct Revision {
    /// Its request profile.
    pub(in crate::model) steps: Box<[Step]>,
    /// The profile is one CPU step, requests use no memory and health checks no work: the
    /// fast path (the same model, with no step dispatch).
    pub(in crate::model) simple: bool,
    /// Its application's start-up, if it differs from the service's, with its draw key.
    pub(in crate::model) app_start: Option<(Sampler, u64)>,
    /// How it is broken, if it is.
    pub failure: RevisionFailure,
}

impl Revision {
    /// The revisions of service `s`: its own (`steps`, already built) and one per
    /// deployment. `plain` is true when the service's requests use no memory and its
    /// health checks no work; `key` makes the draw key of a purpose under the service.
    /// A deployment that keeps the profile shares the first revision's steps and keys, so
    /// both revisions draw the same work for a request (common random numbers).
    pub(in crate::model) fn build_all(
        s: &ServiceSpec,
        steps: Vec<Step>,
        plain: bool,
        ndeps: usize,
        key: &dyn Fn(&str) -> u64,
    ) -> Result<Box<[Revision]>, ModelError> {
        let simple_of = |steps: &[Step]| {
            plain
                && steps.len() == 1
                && steps[0].kind == StepKind::Cpu
                && steps[0].probability >= 1.0
        };
        let mut out = vec![Revision {
            simple: simple_of(&steps),
            steps: steps.into_boxed_slice(),
            app_start: None,
            failure: RevisionFailure::None,
        }];
        for (i, d) in s.deployments.iter().enumerate() {
            let r = &d.revision;
            let field = format!("deployments/{i}");
            let steps = match (&r.steps, &r.cpu_time) {
                (Some(st), _) => {
                    super::build_steps(st, &s.name, &format!("{field}/steps"), ndeps, key)?
                }
                (None, Some(c)) => super::build_steps(
                    &[StepSpec::Cpu(c.clone())],
                    &s.name,
                    &format!("{field}/cpu_time"),
                    ndeps,
                    key,
                )?,
                (None, None) => out[0].steps.clone(),
            };
            let app_start = match &r.app_start {
                Some(a) => Some((
                    Sampler::new(a, &format!("services.{}.{field}.app_start", s.name))?,
                    key(&format!("{field}/app_start")),
                )),
                None => None,
            };
            out.push(Revision {
                simple: simple_of(&steps),
                steps,
                app_start,
                failure: r.failure,
            });
        }
        Ok(out.into_boxed_slice())
    }
}

/// ECS's `rolloutState` of a deployment, plus lbsim's state for one replaced by a later
/// deployment before it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RolloutState {
    /// Replacing tasks.
    InProgress,
    /// Every task runs its revision, healthy.
    Completed,
    /// The circuit breaker stopped it.
    Failed,
    /// A later deployment started before it finished (ECS makes it `ACTIVE`, no longer
    /// `PRIMARY`).
    Superseded,
}

impl RolloutState {
    /// Its name in outputs (ECS's `rolloutState` spelling; `SUPERSEDED` is lbsim's).
    pub const fn name(self) -> &'static str {
        match self {
            RolloutState::InProgress => "IN_PROGRESS",
            RolloutState::Completed => "COMPLETED",
            RolloutState::Failed => "FAILED",
            RolloutState::Superseded => "SUPERSEDED",
        }
    }
}

/// One deployment of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The revision it deploys (0: the first).
    pub revision: u16,
    /// The revision the service ran before.
    pub from: u16,
    /// A rollback started by the circuit breaker.
    pub rollback: bool,
    /// When it started.
    pub started: SimTime,
    /// When it completed, failed or was superseded.
    pub ended: Option<SimTime>,
    /// Where it is.
    pub state: RolloutState,
    /// Its circuit breaker's failure count (tasks of its revision that failed).
    pub failures: u32,
    /// Its circuit breaker's threshold; 0 when the breaker is off.
    pub threshold: u32,
}

/// A service's deployments: its configuration and its history.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// ECS `deploymentConfiguration`.
    pub config: DeploymentConfigurationSpec,
    /// The revision new tasks run (the `PRIMARY` deployment's).
    pub(in crate::model) primary: u16,
    /// The last revision whose deployment completed (the first revision at the start).
    pub(in crate::model) stable: u16,
    /// Its deployments in start order; the last one may be in progress.
    history: Vec<Deployment>,
    /// Tasks counting towards the desired count, by revision.
    pub(in crate::model) active_by_revision: Vec<u32>,
    /// Tasks launched and not yet STOPPED, by revision.
    pub(in crate::model) live_by_revision: Vec<u32>,
    /// A rolling step is running: the launches and stops it makes do not start another.
    rolling: bool,
    /// When each deployment of the scenario starts.
    starts: Vec<SimTime>,
}

impl Rollout {
    /// The rollout state of service `s` at t = 0: its first revision, no deployment.
    pub(in crate::model) fn new(s: &ServiceSpec) -> Rollout {
        Rollout {
            config: s.deployment_configuration,
            primary: 0,
            stable: 0,
            history: Vec::new(),
            active_by_revision: vec![0; s.deployments.len() + 1],
            live_by_revision: vec![0; s.deployments.len() + 1],
            rolling: false,
            starts: s.deployments.iter().map(|d| d.at).collect(),
        }
    }

    /// Its deployments so far, in start order.
    pub fn deployments(&self) -> &[Deployment] {
        &self.history
    }

    /// The deployment in progress, if one is.
    pub fn in_progress(&self) -> Option<&Deployment> {
        self.history
            .last()
            .filter(|d| d.state == RolloutState::InProgress)
    }

    /// The revision new tasks run.
    pub fn primary(&self) -> u16 {
        self.primary
    }

    /// The last deployment failed and did not roll back: the service launches nothing.
    fn frozen(&self) -> bool {
        self.history
            .last()
            .is_some_and(|d| d.state == RolloutState::Failed)
    }
}

/// floor(`desired` × `percent` ÷ 100): the most tasks a deployment may run (ECS
/// `maximumPercent`, "rounded down to the nearest integer").
pub fn max_tasks(desired: u32, percent: u32) -> u32 {
    (u64::from(desired) * u64::from(percent) / 100) as u32
}

/// ceil(`desired` × `percent` ÷ 100): the fewest healthy tasks a deployment keeps (ECS
/// `minimumHealthyPercent`, "rounded up to the nearest integer").
pub fn min_healthy(desired: u32, percent: u32) -> u32 {
    (u64::from(desired) * u64::from(percent)).div_ceil(100) as u32
}

/// The circuit breaker's failure threshold for `desired` tasks: ceil(0.5 × `desired`),
/// clamped to [3, 200] (API reference `ServiceDeploymentCircuitBreaker`; the 2023 guide's
/// minimum was 10).
pub fn failure_threshold(desired: u32) -> u32 {
    desired.div_ceil(2).clamp(3, 200)
}

impl Service {
    /// Its deployments and their configuration.
    pub fn rollout(&self) -> &Rollout {
        &self.rollout
    }

    /// Its task definition revisions (0: the first).
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }
}

impl World {
    /// Schedules every service's deployments that start within the run.
    pub(in crate::model) fn schedule_deployments(&self, s: &mut Scheduler<Event>) {
        for svc in &self.services {
            for (i, &at) in svc.rollout.starts.iter().enumerate() {
                if at <= self.end {
                    s.schedule_at(
                        at,
                        Event::Deploy {
                            service: svc.id,
                            revision: (i + 1) as u16,
                        },
                    );
                }
            }
        }
    }

    /// `service`'s deployment to `revision` starts (a scenario's deployment, or the
    /// circuit breaker's rollback); a deployment still in progress is superseded.
    pub(in crate::model) fn on_deploy<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
        revision: u16,
        rollback: bool,
    ) {
        let now = s.now();
        let svc = &mut self.services[service.index()];
        let r = &mut svc.rollout;
        if let Some(d) = r.history.last_mut()
            && d.state == RolloutState::InProgress
        {
            d.state = RolloutState::Superseded;
            d.ended = Some(now);
        }
        let threshold = match r.config.circuit_breaker {
            Some(_) => failure_threshold(svc.desired),
            None => 0,
        };
        r.history.push(Deployment {
            revision,
            from: r.primary,
            rollback,
            started: now,
            ended: None,
            state: RolloutState::InProgress,
            failures: 0,
            threshold,
        });
        r.primary = revision;
        o.lifecycle(
            now,
            &LifecycleEvent::DeploymentStarted {
                service,
                revision,
                rollback,
            },
            self,
        );
        self.roll(s, o, service);
    }

    /// Launches tasks until `service` has what it needs: its desired count, or, during a
    /// deployment, the next rolling step. Nothing while its launch back-off runs, and
    /// nothing after a deployment failed without rollback.
    pub(in crate::model) fn reconcile<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
    ) {
        let r = &self.services[service.index()].rollout;
        if r.rolling || r.frozen() {
            return;
        }
        if r.in_progress().is_some() {
            self.roll(s, o, service);
            return;
        }
        loop {
            let svc = &self.services[service.index()];
            if svc.active >= svc.desired || svc.retry_pending {
                return;
            }
            self.launch_cold(s, o, service);
        }
    }

    /// Whether `id`'s target is `healthy` in its target group.
    pub(in crate::model) fn task_healthy(&self, id: TaskId) -> bool {
        self.tasks[id.index()].target.is_some_and(|(tg, slot)| {
            self.target_groups[tg.index()].targets()[slot as usize].state == TargetState::Healthy
        })
    }

    /// One rolling step of `service`'s deployment in progress (see the module's
    /// documentation): stop what the minimum allows, launch what the maximum allows, and
    /// complete the deployment when it is done.
    pub(in crate::model) fn roll<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
    ) {
        let svc = &self.services[service.index()];
        let Some(dep) = svc.rollout.in_progress() else {
            return;
        };
        if svc.rollout.rolling {
            return;
        }
        let new = dep.revision;
        let generation = svc.rollout.history.len();
        let desired = svc.desired;
        let cfg = svc.rollout.config;
        let max = max_tasks(desired, cfg.maximum_percent);
        let min = min_healthy(desired, cfg.minimum_healthy_percent);
        // 1. Old-revision tasks to stop: unhealthy ones first, then the oldest healthy
        // ones while the minimum stays healthy.
        let mut healthy = 0u32;
        let mut old: Vec<(bool, TaskId)> = Vec::new();
        for &t in &svc.running {
            let task = &self.tasks[t.index()];
            if task.state != TaskState::Running || task.replacing {
                continue;
            }
            let h = self.task_healthy(t);
            healthy += u32::from(h);
            if task.revision != new {
                old.push((h, t));
            }
        }
        old.sort_by_key(|&(h, _)| h); // stable: launch order within each group
        self.services[service.index()].rollout.rolling = true;
        for (h, t) in old {
            if h {
                if healthy <= min {
                    break;
                }
                healthy -= 1;
            }
            self.begin_stop(s, o, t);
        }
        // 2. New-revision tasks to launch (a launch that fails can trip the circuit
        // breaker: then this deployment is over and the next one, a rollback, rolls).
        loop {
            let svc = &self.services[service.index()];
            let fresh = svc.rollout.active_by_revision[usize::from(new)];
            if fresh >= desired || svc.retry_pending || self.tasks_not_stopping(service) >= max {
                break;
            }
            self.launch_cold(s, o, service);
            let r = &self.services[service.index()].rollout;
            if r.history.len() != generation || r.in_progress().is_none() {
                self.services[service.index()].rollout.rolling = false;
                self.roll(s, o, service);
                return;
            }
        }
        self.services[service.index()].rollout.rolling = false;
        // 3. Done? (Old tasks must have stopped: their deregistration delay is part of the
        // deployment's time, ECS-BP `deployment.html`.)
        let svc = &self.services[service.index()];
        let live = &svc.rollout.live_by_revision;
        let old_left = live.iter().sum::<u32>() - live[usize::from(new)];
        let new_healthy = svc
            .running
            .iter()
            .filter(|&&t| {
                let task = &self.tasks[t.index()];
                task.revision == new
                    && task.state == TaskState::Running
                    && !task.replacing
                    && self.task_healthy(t)
            })
            .count() as u32;
        if old_left == 0 && new_healthy >= desired {
            let now = s.now();
            let r = &mut self.services[service.index()].rollout;
            let d = r.history.last_mut().expect("a deployment in progress");
            d.state = RolloutState::Completed;
            d.ended = Some(now);
            r.stable = new;
            o.lifecycle(
                now,
                &LifecycleEvent::DeploymentCompleted {
                    service,
                    revision: new,
                },
                self,
            );
        }
    }

    /// Task `id` failed (it did not launch, its process exited, or ECS stops it as
    /// unhealthy): if it runs the revision of its service's deployment in progress, the
    /// circuit breaker counts it, and fails the deployment at its threshold (rolling back
    /// if it may).
    pub(in crate::model) fn task_failed<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let (service, revision) = {
            let t = &self.tasks[id.index()];
            (t.service, t.revision)
        };
        let r = &mut self.services[service.index()].rollout;
        let Some(d) = r.history.last_mut() else {
            return;
        };
        if d.state != RolloutState::InProgress || d.revision != revision {
            return;
        }
        d.failures += 1;
        if d.threshold == 0 || d.failures < d.threshold {
            return;
        }
        d.state = RolloutState::Failed;
        d.ended = Some(now);
        let failures = d.failures;
        let rollback = r.config.circuit_breaker.is_some_and(|c| c.rollback);
        let stable = r.stable;
        o.lifecycle(
            now,
            &LifecycleEvent::DeploymentFailed {
                service,
                revision,
                failures,
            },
            self,
        );
        if rollback && stable != revision {
            self.on_deploy(s, o, service, stable, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_rounding() {
        // maximumPercent rounds down, minimumHealthyPercent up (ECS-DG, service
        // definition parameters).
        assert_eq!(max_tasks(4, 200), 8);
        assert_eq!(max_tasks(3, 150), 4);
        assert_eq!(max_tasks(1, 150), 1);
        assert_eq!(min_healthy(4, 100), 4);
        assert_eq!(min_healthy(3, 50), 2);
        assert_eq!(min_healthy(1, 50), 1);
        assert_eq!(min_healthy(5, 0), 0);
    }

    #[test]
    fn circuit_breaker_threshold() {
        // ceil(0.5 × desired) clamped to [3, 200]: desired 25 → 13, 400+ → 200.
        assert_eq!(failure_threshold(1), 3);
        assert_eq!(failure_threshold(6), 3);
        assert_eq!(failure_threshold(7), 4);
        assert_eq!(failure_threshold(25), 13);
        assert_eq!(failure_threshold(400), 200);
        assert_eq!(failure_threshold(5000), 200);
    }
}
