//! ECS capacity provider strategies over `FARGATE` and `FARGATE_SPOT`, and Fargate Spot
//! interruptions (<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html>,
//! `../shared/spec/aws-behaviour.md` §6.6).
//!
//! **Placement.** Each task a service launches gets a capacity provider from the service's
//! strategy (see [`CapacityProviderStrategyItemSpec`] for the rule): the `base` first, then
//! the rest by `weight`. A replacement is placed by the same rule, so an interrupted Spot
//! task is replaced on Spot (ECS does not fall back to on-demand).
//!
//! **Interruption.** AWS takes a Spot task's capacity back with a two-minute warning, sent
//! "as a task state change event to Amazon EventBridge and a SIGTERM signal to the running
//! task"; a service "receives the interruption signal and attempts to launch additional
//! tasks on Fargate Spot". lbsim has the service begin stopping the task at the warning as
//! any service stop (`World::begin_stop`: its target drains for the target group's
//! deregistration delay, then SIGTERM and the shutdown, cut at `stop_timeout`) and launch
//! its replacement at once; at warning + 120 s ([`SPOT_INTERRUPTION_WARNING`]) the task is
//! terminated whatever remains: requests still at its draining target end with a 502
//! ([`Cause::Elb502TargetClosed`](crate::model::Cause::Elb502TargetClosed)), its target is
//! removed, and it goes to DEPROVISIONING, then STOPPED. With a deregistration delay under
//! 120 s the stop sequence usually ends first, and the cut does nothing.
//! (AWS sends SIGTERM with the warning; lbsim sends it when the drain ends, as in any
//! service stop: the model's application keeps serving its requests in flight until then,
//! as a well-behaved server does after SIGTERM.)
//!
//! **When.** Scheduled interruptions (`at`) strike the oldest running Spot tasks of the
//! service, `count` at each instant. Random ones give each Spot task, from when it reaches
//! RUNNING, an exponentially distributed lifetime of mean `mean_time_between`, drawn keyed
//! by the task's number under `service/<name>/spot/interruptions`: the draw depends on the
//! seed and the task alone, and no other stream moves.

use super::{Service, TaskState};
use crate::engine::{self, Scheduler, SimTime};
use crate::model::ModelError;
use crate::model::dist::Sampler;
use crate::model::ids::{ServiceId, TaskId};
use crate::model::observer::{LifecycleEvent, Observer, StopReason};
use crate::model::request::draw;
use crate::model::spec::{
    CapacityProvider, CapacityProviderStrategyItemSpec, DistSpec, SPOT_INTERRUPTION_WARNING,
    ServiceSpec,
};
use crate::model::world::{Event, World};

/// A service's capacity provider strategy and Spot interruptions, ready to run.
#[derive(Clone, Debug, Default)]
pub(in crate::model) struct SpotState {
    /// The strategy (empty: every task on `FARGATE`).
    strategy: Vec<CapacityProviderStrategyItemSpec>,
    /// Scheduled interruptions: when, and how many tasks each.
    at: Vec<SimTime>,
    count: u32,
    /// Random interruptions: each Spot task's lifetime, and the key of its draws.
    lifetime: Option<(Sampler, u64)>,
    /// Interruption warnings so far.
    pub(in crate::model) interruptions: u32,
}

impl SpotState {
    /// The strategy and interruptions of service `s` under master seed `seed`.
    pub(in crate::model) fn build(seed: u64, s: &ServiceSpec) -> Result<SpotState, ModelError> {
        let bad = |what: String| {
            Err(ModelError::UnknownReference(format!(
                "services.{}.capacity_provider_strategy: {what}",
                s.name
            )))
        };
        let strategy = &s.capacity_provider_strategy;
        if !strategy.is_empty() && strategy.iter().all(|i| i.weight == 0) {
            return bad("no item has a weight above 0".into());
        }
        if strategy.iter().filter(|i| i.base > 0).count() > 1 {
            return bad("more than one item has a base".into());
        }
        let i = &s.spot_interruptions;
        let lifetime = match i.mean_time_between {
            None => None,
            Some(mean) if mean.is_zero() => {
                return bad("spot interruptions' mean_time_between is 0".into());
            }
            Some(mean) => Some((
                Sampler::new(
                    &DistSpec::Exponential { mean },
                    &format!("services.{}.spot.interruptions.mean_time_between", s.name),
                )?,
                engine::stream_key(seed, &format!("service/{}/spot/interruptions", s.name)),
            )),
        };
        Ok(SpotState {
            strategy: strategy.clone(),
            at: i.at.clone(),
            count: i.count.max(1),
            lifetime,
            interruptions: 0,
        })
    }
}

impl Service {
    /// Fargate Spot interruption warnings its tasks received so far.
    pub fn spot_interruptions(&self) -> u32 {
        self.spot.interruptions
    }

    /// Its capacity provider strategy (empty: every task on `FARGATE`).
    pub fn capacity_provider_strategy(&self) -> &[CapacityProviderStrategyItemSpec] {
        &self.spot.strategy
    }
}

/// The provider of the next task of a service whose tasks counting towards its desired
/// count number `counts[i]` on the provider of `strategy[i]`: the base first, then the
/// lowest (count beyond base) ÷ weight, ties to the earlier item (see
/// [`CapacityProviderStrategyItemSpec`]). `FARGATE` for an empty strategy.
pub fn place(strategy: &[CapacityProviderStrategyItemSpec], counts: &[u32]) -> CapacityProvider {
    if let Some((item, _)) = strategy
        .iter()
        .zip(counts)
        .find(|(item, n)| **n < item.base)
    {
        return item.capacity_provider;
    }
    let mut best: Option<(u64, u64, CapacityProvider)> = None;
    for (item, &n) in strategy.iter().zip(counts) {
        if item.weight == 0 {
            continue;
        }
        let (excess, w) = (
            u64::from(n.saturating_sub(item.base)),
            u64::from(item.weight),
        );
        // excess / w < best_excess / best_w, in integers.
        if best.is_none_or(|(be, bw, _)| excess * bw < be * w) {
            best = Some((excess, w, item.capacity_provider));
        }
    }
    best.map_or(CapacityProvider::Fargate, |b| b.2)
}

impl World {
    /// The capacity provider of `service`'s next task, by its strategy.
    pub(in crate::model) fn place_provider(&self, service: ServiceId) -> CapacityProvider {
        let strategy = &self.services[service.index()].spot.strategy;
        if strategy.len() <= 1 {
            return strategy
                .first()
                .map_or(CapacityProvider::Fargate, |i| i.capacity_provider);
        }
        let mut counts = vec![0u32; strategy.len()];
        for t in &self.tasks {
            if t.service == service && t.state.is_active() && !t.replacing {
                for (c, item) in counts.iter_mut().zip(strategy) {
                    if item.capacity_provider == t.capacity_provider {
                        *c += 1;
                    }
                }
            }
        }
        place(strategy, &counts)
    }

    /// Schedules every service's scheduled Spot interruptions within the run, and the
    /// random interruptions of the Spot tasks running now (the initial, warm tasks).
    pub(in crate::model) fn schedule_spot_interruptions(&self, s: &mut Scheduler<Event>) {
        let now = s.now();
        for svc in &self.services {
            for &t in svc.running() {
                self.spot_started(s, now, t);
            }
            for &at in &svc.spot.at {
                if at <= self.end {
                    s.schedule_at(
                        at,
                        Event::SpotInterruptions {
                            service: svc.id,
                            count: svc.spot.count,
                        },
                    );
                }
            }
        }
    }

    /// Task `id` reached RUNNING: on `FARGATE_SPOT` with random interruptions, its
    /// interruption is drawn and scheduled.
    pub(in crate::model) fn spot_started(
        &self,
        s: &mut Scheduler<Event>,
        now: SimTime,
        id: TaskId,
    ) {
        let t = &self.tasks[id.index()];
        if t.capacity_provider != CapacityProvider::FargateSpot {
            return;
        }
        if let Some((sampler, key)) = &self.services[t.service.index()].spot.lifetime {
            let life = draw(sampler, *key, u64::from(t.number));
            if let Some(at) = now.checked_add(life).filter(|&at| at <= self.end) {
                s.schedule_at(at, Event::SpotInterruption { task: id });
            }
        }
    }

    /// `count` of `service`'s running Spot tasks, the oldest first, get their interruption
    /// warning.
    pub(in crate::model) fn on_spot_interruptions<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
        count: u32,
    ) {
        let victims: Vec<TaskId> = self.services[service.index()]
            .running()
            .iter()
            .copied()
            .filter(|&t| {
                let t = &self.tasks[t.index()];
                t.capacity_provider == CapacityProvider::FargateSpot
                    && t.state == TaskState::Running
                    && t.spot_interrupted.is_none()
            })
            .take(count as usize)
            .collect();
        for t in victims {
            self.interrupt_spot(s, o, t);
        }
    }

    /// Spot task `id` gets its two-minute warning, if it is still RUNNING: its service
    /// begins stopping it (a replacement is launched) and its termination is scheduled.
    pub(in crate::model) fn interrupt_spot<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let t = &mut self.tasks[id.index()];
        if t.state != TaskState::Running || t.spot_interrupted.is_some() {
            return;
        }
        t.spot_interrupted = Some(now);
        let service = t.service;
        self.services[service.index()].spot.interruptions += 1;
        o.lifecycle(
            now,
            &LifecycleEvent::SpotInterrupted { task: id, service },
            self,
        );
        s.schedule_in(
            SPOT_INTERRUPTION_WARNING,
            Event::SpotTermination { task: id },
        );
        self.begin_stop(s, o, id);
    }

    /// Two minutes after its warning, Spot task `id` is terminated if its stop sequence has
    /// not reached DEPROVISIONING: its requests end with a 502 (target closed), its target
    /// is removed, and it goes to DEPROVISIONING.
    pub(in crate::model) fn on_spot_termination<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: TaskId,
    ) {
        let now = s.now();
        let t = &self.tasks[id.index()];
        if !matches!(t.state, TaskState::Deactivating | TaskState::Stopping) {
            return;
        }
        self.retire(now, o, id, StopReason::SpotInterruption);
        self.remove_target(now, o, id);
        if self.tasks[id.index()].state == TaskState::Deactivating {
            self.set_task_state(now, o, id, TaskState::Stopping);
        }
        self.set_task_state(now, o, id, TaskState::Deprovisioning);
        let d = self.deprovisioning_draw(id);
        s.schedule_in(
            d,
            Event::TaskPhaseEnd {
                task: id,
                phase: TaskState::Deprovisioning,
            },
        );
    }
}
