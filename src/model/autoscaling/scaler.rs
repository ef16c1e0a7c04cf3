//! The world's side of CloudWatch and Application Auto Scaling: computing each minute's
//! datapoints, publishing them after the ingestion delay, evaluating the alarms, applying
//! the policies' decisions, running scheduled actions, and ECS's scale-in.

use super::{ScalingCause, Schedule, policy};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::model::cloudwatch::{self, MinuteOfGroup, PERIOD};
use crate::model::ecs::TaskState;
use crate::model::elb::TargetState;
use crate::model::ids::{ServiceId, TaskId};
use crate::model::observer::{LifecycleEvent, Observer};
use crate::model::world::{Event, World};

/// One day.
const DAY: SimDuration = SimDuration::from_secs(86_400);

impl World {
    /// Schedules the first CloudWatch minute (if a series exists) and the scheduled actions.
    pub(in crate::model) fn schedule_scaling(&self, s: &mut Scheduler<Event>) {
        if self.cloudwatch.active() && SimTime::ZERO + PERIOD < self.end {
            s.schedule_at(SimTime::ZERO + PERIOD, Event::CloudWatchMinute);
        }
        for (i, t) in self.scaling.iter().enumerate() {
            let Some(t) = t else { continue };
            for (a, action) in t.scheduled_actions.iter().enumerate() {
                let at = match action.schedule {
                    Schedule::At(at) => at,
                    Schedule::Daily(tod) => SimTime::ZERO + tod,
                };
                if at <= self.end {
                    s.schedule_at(
                        at,
                        Event::ScheduledAction {
                            service: ServiceId(i as u32),
                            action: a as u16,
                        },
                    );
                }
            }
        }
    }

    /// The end of a CloudWatch minute: computes its datapoints and schedules their
    /// publication (or publishes them now, with no ingestion delay), then the next minute.
    pub(in crate::model) fn on_cloudwatch_minute<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
    ) {
        let now = s.now();
        self.account_all(now);
        let usage: Vec<_> = (0..self.services.len())
            .map(|i| {
                let u = self.service_usage(ServiceId(i as u32));
                (u - self.cloudwatch.usage_at[i], u)
            })
            .collect();
        let routed: Vec<u64> = (0..self.target_groups.len())
            .map(|g| self.lb.routed(crate::model::ids::TargetGroupId(g as u32)))
            .collect();
        let cw = &mut self.cloudwatch;
        for series in &mut cw.series {
            let g = series.target_group.index();
            let group = &self.target_groups[g];
            let minute = MinuteOfGroup {
                routed: routed[g] - cw.routed_at[g],
                healthy: group.count(TargetState::Healthy),
                unhealthy: group.count(TargetState::Unhealthy),
                responses: self.lb.responses(series.target_group),
            };
            let d = cloudwatch::datapoint(series.spec, &usage[series.service.index()].0, &minute);
            series.datapoints.push(d);
        }
        for (i, (_, u)) in usage.into_iter().enumerate() {
            cw.usage_at[i] = u;
        }
        cw.routed_at = routed;
        self.lb.reset_responses();
        let minute = cw.computed;
        cw.computed += 1;
        if cw.ingestion_delay.is_zero() {
            self.on_cloudwatch_publish(s, o, minute);
        } else {
            s.schedule_in(cw.ingestion_delay, Event::CloudWatchPublish { minute });
        }
        let next = now + PERIOD;
        if next < self.end {
            s.schedule_at(next, Event::CloudWatchMinute);
        }
    }

    /// Minute `minute`'s datapoints are published: the alarms evaluate, the observer sees
    /// them, and each scalable target's policies act.
    pub(in crate::model) fn on_cloudwatch_publish<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        minute: u32,
    ) {
        let now = s.now();
        let cw = &mut self.cloudwatch;
        cw.published = minute + 1;
        for a in 0..cw.alarms.len() {
            let state = cw.alarms[a].evaluate(cw.visible(cw.alarms[a].series));
            cw.alarms[a].state = state;
        }
        o.cloudwatch_published(now, minute, self);
        if !self.blue_green.is_empty() {
            self.blue_green_alarms(s, o);
        }
        for i in 0..self.scaling.len() {
            let service = ServiceId(i as u32);
            let Some(mut target) = self.scaling[i].take() else {
                continue;
            };
            let deploying = self.services[i].rollout.in_progress().is_some();
            let desired = self.services[i].desired;
            let tt =
                policy::target_tracking(&mut target, &self.cloudwatch, desired, now, deploying);
            self.scaling[i] = Some(target);
            if let Some((n, cause)) = tt {
                self.set_desired_count(s, o, service, n, cause);
            }
            let steps = self.scaling[i].as_ref().map_or(0, |t| t.step_scaling.len());
            for p in 0..steps {
                let Some(mut target) = self.scaling[i].take() else {
                    break;
                };
                let deploying = self.services[i].rollout.in_progress().is_some();
                let desired = self.services[i].desired;
                let d =
                    policy::step_scaling(&mut target, p, &self.cloudwatch, desired, now, deploying);
                self.scaling[i] = Some(target);
                if let Some((n, cause)) = d {
                    self.set_desired_count(s, o, service, n, cause);
                }
            }
        }
    }

    /// Scheduled action `action` of `service` runs: new bounds, and the desired count
    /// clamped into them at once. A daily action schedules its next run.
    pub(in crate::model) fn on_scheduled_action<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
        action: u16,
    ) {
        let now = s.now();
        let Some(t) = self.scaling[service.index()].as_mut() else {
            return;
        };
        let a = &t.scheduled_actions[usize::from(action)];
        if let Some(min) = a.min_capacity {
            t.min = min;
        }
        if let Some(max) = a.max_capacity {
            t.max = max;
        }
        if t.min > t.max {
            // AWS refuses such an action; validation keeps them out of scenarios, and a
            // pair of actions that crosses the bounds keeps the newest one's bound.
            if a.min_capacity.is_some() {
                t.max = t.min;
            } else {
                t.min = t.max;
            }
        }
        if let Schedule::Daily(_) = a.schedule
            && now + DAY <= self.end
        {
            s.schedule_at(now + DAY, Event::ScheduledAction { service, action });
        }
        let (min, max) = (t.min, t.max);
        let desired = self.services[service.index()].desired;
        let n = desired.clamp(min, max);
        o.lifecycle(
            now,
            &LifecycleEvent::ScalableTargetUpdated { service, action },
            self,
        );
        if n != desired {
            self.set_desired_count(s, o, service, n, ScalingCause::Scheduled { action });
        }
    }

    /// Sets `service`'s desired count to `n` (a scaling activity, for `cause`): ECS launches
    /// what it lacks, or stops what it has too many of (see [`World::shed`]).
    pub(in crate::model) fn set_desired_count<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
        n: u32,
        cause: ScalingCause,
    ) {
        let now = s.now();
        let from = self.services[service.index()].desired;
        if n == from {
            return;
        }
        self.services[service.index()].desired = n;
        o.lifecycle(
            now,
            &LifecycleEvent::ScalingActivity {
                service,
                from,
                to: n,
                cause,
            },
            self,
        );
        if n > from {
            self.reconcile(s, o, service);
        } else {
            self.shed(s, o, service);
        }
    }

    /// ECS's scale-in: while `service` has more tasks counting towards its desired count
    /// than desired, it stops one from the Availability Zone with the most of them (ECS
    /// balances zones on stop, ECS-DG `ecs_services.html`; ties: the first zone), the most
    /// recently launched there (lbsim's choice: AWS does not say which task within a zone;
    /// a task still starting is cancelled, a RUNNING one drains for the deregistration
    /// delay).
    pub(in crate::model) fn shed<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
    ) {
        loop {
            let svc = &self.services[service.index()];
            if svc.active() <= svc.desired() {
                return;
            }
            let zones = self.network.availability_zones().len() as u32;
            let az = (0..zones)
                .max_by_key(|&z| (self.network.live(service, z), std::cmp::Reverse(z)))
                .unwrap_or(0);
            let candidate = |t: &&crate::model::ecs::Task| {
                t.service == service && t.state.is_active() && !t.replacing
            };
            let victim: Option<TaskId> = self
                .tasks
                .iter()
                .rev()
                .filter(candidate)
                .find(|t| t.lease.is_some_and(|l| l.az == az))
                .or_else(|| self.tasks.iter().rev().find(candidate))
                .map(|t| t.id);
            let Some(victim) = victim else { return };
            if self.tasks[victim.index()].state == TaskState::Running {
                self.begin_stop(s, o, victim);
            } else {
                self.cancel_launch(s, o, victim);
            }
        }
    }
}
