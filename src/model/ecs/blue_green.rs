//! Blue/green deployments with CodeDeploy-style traffic shifting (the ECS deployment
//! controller `CODE_DEPLOY`; `../shared/spec/aws-behaviour.md` §6.3,
//! <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-bluegreen.html>,
//! <https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html>).
//!
//! **Shape.** The *blue* (original) task set is one service, the *green* (replacement) task
//! set another, each registered in its own target group; a listener's weighted `forward`
//! (its default action or a rule's) names exactly these two groups. Before the deployment
//! production traffic goes to blue (green's weight is 0).
//!
//! **Timeline.** At `at` the deployment starts: green's tasks are launched (they walk the
//! task lifecycle and must pass their health checks), or, with `at = 0`, they are the
//! green service's initial tasks, warm and healthy at once. CodeDeploy waits for the green
//! task set to be steady (every one of its `desired_count` tasks `healthy` in its target
//! group) for up to [`READY_TIMEOUT`] (1 h); otherwise the deployment is `FAILED` and green
//! is stopped. Once green is steady, traffic shifts by the deployment configuration, each
//! step changing the forward's weights (blue `100 − p`, green `p`) at its simulated time
//! ([`World::set_forward_weights`] from an event of the model):
//! - `CodeDeployDefault.ECSAllAtOnce`: 100 % at once;
//! - canary (`ECSCanary10Percent5Minutes`, `ECSCanary10Percent15Minutes`, or custom
//!   `TimeBasedCanary`): `p` %, then 100 % `interval` later;
//! - linear (`ECSLinear10PercentEvery1Minutes`, `ECSLinear10PercentEvery3Minutes`, or
//!   custom `TimeBasedLinear`): `p` %, `2p` %, ... every `interval`, the last step 100 %.
//!
//! After the last step CodeDeploy waits `termination_wait` (its
//! `terminationWaitTimeInMinutes`, default 60, at most 2880) and then terminates the blue task
//! set: the blue service's desired count goes to 0 and its tasks drain for their target
//! group's deregistration delay, as any task ECS stops. The deployment is then `SUCCEEDED`.
//!
//! **Rollback.** With an `alarm` (CloudWatch, on the green service's metrics), a publication
//! that finds it in `ALARM` at any time from the start until blue's termination rolls the
//! deployment back: production traffic returns to 100 % blue at once, the green task set is
//! stopped (its tasks drain), and the deployment is `ROLLED_BACK` (CodeDeploy "stops the
//! deployment" on an alarm and, with automatic rollback, redeploys the original task set,
//! which is still running here).
//!
//! Not modelled: the test listener, lifecycle hooks, a scaling event during the shift (§6.3:
//! "traffic keeps shifting for 5 min"), and auto scaling or rolling deployments of the two
//! services (validation refuses them).

use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::model::autoscaling::AlarmSpec;
use crate::model::cloudwatch::AlarmState;
use crate::model::ids::ServiceId;
use crate::model::observer::{LifecycleEvent, Observer};
use crate::model::world::{Event, World};

/// How long CodeDeploy waits for the green task set to be steady before it fails the
/// deployment: 1 hour (§6.3, "CodeDeploy waits up to 1 h for green to reach steady state").
pub const READY_TIMEOUT: SimDuration = SimDuration::from_secs(3600);

/// Default `termination_wait` (CodeDeploy `terminationWaitTimeInMinutes`): 60 minutes ("by
/// default the blue task set is terminated 1 hour after rerouting", §6.3).
pub const DEFAULT_TERMINATION_WAIT: SimDuration = SimDuration::from_secs(3600);

/// Longest `termination_wait`: 2880 minutes ("The maximum setting is 2880 minutes (2 days)",
/// CodeDeploy API `BlueInstanceTerminationOption`).
pub const MAX_TERMINATION_WAIT: SimDuration = SimDuration::from_secs(2880 * 60);

/// A CodeDeploy deployment configuration's traffic routing (`TrafficRoutingConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficRouting {
    /// `AllAtOnce`: every request to green in one step.
    AllAtOnce,
    /// `TimeBasedCanary`: `percent` % to green, then the rest `interval` later.
    Canary {
        /// `canaryPercentage`, 1–99.
        percent: u32,
        /// `canaryInterval` (whole minutes).
        interval: SimDuration,
    },
    /// `TimeBasedLinear`: `percent` % more every `interval` until 100 %.
    Linear {
        /// `linearPercentage`, 1–99.
        percent: u32,
        /// `linearInterval` (whole minutes).
        interval: SimDuration,
    },
}

/// CodeDeploy's predefined ECS deployment configurations, by name (`deployment-configurations.html`).
pub const PREDEFINED: [(&str, TrafficRouting); 5] = [
    ("CodeDeployDefault.ECSAllAtOnce", TrafficRouting::AllAtOnce),
    (
        "CodeDeployDefault.ECSCanary10Percent5Minutes",
        TrafficRouting::Canary {
            percent: 10,
            interval: SimDuration::from_secs(300),
        },
    ),
    (
        "CodeDeployDefault.ECSCanary10Percent15Minutes",
        TrafficRouting::Canary {
            percent: 10,
            interval: SimDuration::from_secs(900),
        },
    ),
    (
        "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
        TrafficRouting::Linear {
            percent: 10,
            interval: SimDuration::from_secs(60),
        },
    ),
    (
        "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
        TrafficRouting::Linear {
            percent: 10,
            interval: SimDuration::from_secs(180),
        },
    ),
];

impl TrafficRouting {
    /// Its steps: (offset from the start of the shift, green's percentage from then on);
    /// the last is 100 %.
    pub fn steps(self) -> Vec<(SimDuration, u32)> {
        match self {
            TrafficRouting::AllAtOnce => vec![(SimDuration::ZERO, 100)],
            TrafficRouting::Canary { percent, interval } => {
                vec![(SimDuration::ZERO, percent), (interval, 100)]
            }
            TrafficRouting::Linear { percent, interval } => {
                let percent = percent.max(1);
                let n = 100u32.div_ceil(percent);
                (0..n)
                    .map(|k| {
                        (
                            SimDuration(interval.0 * u64::from(k)),
                            (percent * (k + 1)).min(100),
                        )
                    })
                    .collect()
            }
        }
    }
}

/// One blue/green deployment of a scenario (`[[blue_green]]`), resolved.
#[derive(Clone, Debug)]
pub struct BlueGreenSpec {
    /// The listener (index in the scenario) whose weighted forward is shifted.
    pub listener: usize,
    /// Its rule (index in priority order); `None`: the default action.
    pub rule: Option<usize>,
    /// The blue group's position in the forward's target groups.
    pub blue_slot: usize,
    /// The green group's position.
    pub green_slot: usize,
    /// The blue (original) service.
    pub blue_service: usize,
    /// The green (replacement) service.
    pub green_service: usize,
    /// Green's task count (its service's `desired_count`), launched at `at` if `launch_green`.
    pub green_count: u32,
    /// Whether the deployment launches green's tasks at `at` (false: they are the green
    /// service's initial tasks).
    pub launch_green: bool,
    /// When the deployment starts.
    pub at: SimTime,
    /// The deployment configuration's name (a predefined one, or `Custom`).
    pub config_name: String,
    /// Its traffic routing.
    pub routing: TrafficRouting,
    /// `terminationWaitTimeInMinutes`: from the last shift to blue's termination.
    pub termination_wait: SimDuration,
    /// The rollback alarm, on the green service's metrics.
    pub alarm: Option<AlarmSpec>,
}

/// Where a blue/green deployment is (CodeDeploy's deployment status, with lbsim's finer
/// in-progress states).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlueGreenState {
    /// Before `at`.
    Pending,
    /// Green's tasks are starting: waiting for them to be healthy.
    WaitingForGreen,
    /// Shifting production traffic.
    Shifting,
    /// Every request goes to green; waiting `termination_wait` before terminating blue.
    TerminationWait,
    /// Blue was terminated.
    Succeeded,
    /// The alarm fired: traffic went back to blue and green was stopped.
    RolledBack,
    /// Green was not steady within [`READY_TIMEOUT`].
    Failed,
}

impl BlueGreenState {
    /// Its name in outputs: `PENDING`, `IN_PROGRESS`, `SUCCEEDED`, `ROLLED_BACK`, `FAILED`.
    pub const fn name(self) -> &'static str {
        match self {
            BlueGreenState::Pending => "PENDING",
            BlueGreenState::WaitingForGreen
            | BlueGreenState::Shifting
            | BlueGreenState::TerminationWait => "IN_PROGRESS",
            BlueGreenState::Succeeded => "SUCCEEDED",
            BlueGreenState::RolledBack => "ROLLED_BACK",
            BlueGreenState::Failed => "FAILED",
        }
    }

    /// Started and not over.
    pub const fn in_progress(self) -> bool {
        matches!(
            self,
            BlueGreenState::WaitingForGreen
                | BlueGreenState::Shifting
                | BlueGreenState::TerminationWait
        )
    }
}

/// What a [`Event::BlueGreen`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlueGreenStep {
    /// The deployment starts.
    Start,
    /// Traffic step `k` (index in [`TrafficRouting::steps`]) is due.
    Shift(u16),
    /// [`READY_TIMEOUT`] after the start: green must be steady by now.
    ReadyTimeout,
    /// `termination_wait` after the last shift: blue is terminated.
    Terminate,
}

/// A change of a blue/green deployment, for the observer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlueGreenChange {
    /// It started.
    Started,
    /// The forward's weights changed: green now gets `green_percent` %.
    TrafficShifted {
        /// Green's share, %.
        green_percent: u32,
    },
    /// A task set was terminated: its service's desired count went to 0.
    TaskSetTerminated {
        /// The service.
        service: ServiceId,
    },
    /// It ended (`Succeeded`, `RolledBack` or `Failed`).
    Ended,
}

/// A blue/green deployment at run time.
#[derive(Clone, Debug)]
pub struct BlueGreen {
    /// Its spec.
    pub spec: BlueGreenSpec,
    /// Its steps (see [`TrafficRouting::steps`]).
    pub steps: Vec<(SimDuration, u32)>,
    /// Where it is.
    pub state: BlueGreenState,
    /// When it started.
    pub started: Option<SimTime>,
    /// When traffic started shifting (green steady).
    pub shift_started: Option<SimTime>,
    /// When the last step sent every request to green.
    pub shifted: Option<SimTime>,
    /// When it ended.
    pub ended: Option<SimTime>,
    /// Every weight change: (when, green's percentage).
    pub shifts: Vec<(SimTime, u32)>,
    /// Green's percentage now.
    pub green_percent: u32,
    /// The next traffic step.
    next_step: u16,
    /// Its rollback alarm, in [`crate::model::cloudwatch::CloudWatch::alarms`].
    pub alarm: Option<usize>,
}

impl BlueGreen {
    /// A deployment of `spec`, pending; `alarm`: its alarm's index.
    pub(in crate::model) fn new(spec: BlueGreenSpec, alarm: Option<usize>) -> BlueGreen {
        BlueGreen {
            steps: spec.routing.steps(),
            spec,
            state: BlueGreenState::Pending,
            started: None,
            shift_started: None,
            shifted: None,
            ended: None,
            shifts: Vec::new(),
            green_percent: 0,
            next_step: 0,
            alarm,
        }
    }
}

/// Builds the blue/green deployments of `spec`, registering their rollback alarms (on the
/// green service's series) in `cw`. `names` gives each service's name and target group.
pub(in crate::model) fn build(
    spec: &crate::model::WorldSpec,
    names: &[(String, crate::model::ids::TargetGroupId)],
    cw: &mut crate::model::cloudwatch::CloudWatch,
) -> Vec<BlueGreen> {
    spec.blue_green
        .iter()
        .map(|b| {
            let alarm = b.alarm.as_ref().map(|a| {
                let (name, tg) = &names[b.green_service];
                let series = cw.series_for(ServiceId(b.green_service as u32), *tg, a.metric);
                cw.alarms.push(crate::model::cloudwatch::Alarm {
                    name: format!("{name}-rollback"),
                    series,
                    comparison: a.comparison,
                    threshold: a.threshold,
                    evaluation_periods: a.evaluation_periods,
                    datapoints_to_alarm: a.datapoints_to_alarm,
                    state: AlarmState::InsufficientData,
                });
                cw.alarms.len() - 1
            });
            BlueGreen::new(b.clone(), alarm)
        })
        .collect()
}

impl World {
    /// The blue/green deployments, in scenario order.
    pub fn blue_green(&self) -> &[BlueGreen] {
        &self.blue_green
    }

    /// Schedules the start of every blue/green deployment within the run.
    pub(in crate::model) fn schedule_blue_green(&self, s: &mut Scheduler<Event>) {
        for (i, d) in self.blue_green.iter().enumerate() {
            if d.spec.at <= self.end {
                s.schedule_at(
                    d.spec.at,
                    Event::BlueGreen {
                        deployment: i as u16,
                        step: BlueGreenStep::Start,
                    },
                );
            }
        }
    }

    /// A blue/green event: see the module's documentation. A step that no longer applies
    /// (the deployment rolled back or moved on) is stale and ignored.
    pub(in crate::model) fn on_blue_green<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        d: u16,
        step: BlueGreenStep,
    ) {
        let now = s.now();
        let i = usize::from(d);
        let state = self.blue_green[i].state;
        match step {
            BlueGreenStep::Start if state == BlueGreenState::Pending => {
                let bg = &mut self.blue_green[i];
                bg.state = BlueGreenState::WaitingForGreen;
                bg.started = Some(now);
                let green = ServiceId(bg.spec.green_service as u32);
                let (launch, count) = (bg.spec.launch_green, bg.spec.green_count);
                self.notify(now, o, d, BlueGreenChange::Started);
                if launch {
                    self.services[green.index()].desired = count;
                    self.reconcile(s, o, green);
                }
                if now + READY_TIMEOUT <= self.end {
                    s.schedule_at(
                        now + READY_TIMEOUT,
                        Event::BlueGreen {
                            deployment: d,
                            step: BlueGreenStep::ReadyTimeout,
                        },
                    );
                }
                self.blue_green_check_ready(s, o, d);
            }
            BlueGreenStep::Shift(k)
                if state == BlueGreenState::Shifting && self.blue_green[i].next_step == k =>
            {
                self.blue_green_shift(s, o, d);
            }
            BlueGreenStep::ReadyTimeout if state == BlueGreenState::WaitingForGreen => {
                let green = ServiceId(self.blue_green[i].spec.green_service as u32);
                self.terminate_task_set(s, o, d, green);
                self.end_blue_green(now, o, d, BlueGreenState::Failed);
            }
            BlueGreenStep::Terminate if state == BlueGreenState::TerminationWait => {
                let blue = ServiceId(self.blue_green[i].spec.blue_service as u32);
                self.terminate_task_set(s, o, d, blue);
                self.end_blue_green(now, o, d, BlueGreenState::Succeeded);
            }
            _ => {}
        }
    }

    /// A target of `service` turned healthy: a deployment waiting for it as its green task
    /// set checks whether green is steady now.
    pub(in crate::model) fn blue_green_target_healthy<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        service: ServiceId,
    ) {
        for d in 0..self.blue_green.len() {
            let bg = &self.blue_green[d];
            if bg.state == BlueGreenState::WaitingForGreen
                && bg.spec.green_service == service.index()
            {
                self.blue_green_check_ready(s, o, d as u16);
            }
        }
    }

    /// CloudWatch published: a deployment in progress whose alarm is in `ALARM` rolls back.
    pub(in crate::model) fn blue_green_alarms<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
    ) {
        for d in 0..self.blue_green.len() {
            let bg = &self.blue_green[d];
            let firing = bg
                .alarm
                .is_some_and(|a| self.cloudwatch.alarms[a].state == AlarmState::Alarm);
            if firing && bg.state.in_progress() {
                self.roll_back_blue_green(s, o, d as u16);
            }
        }
    }

    /// Green is steady when every one of its `green_count` tasks is healthy: then the
    /// first traffic step runs.
    fn blue_green_check_ready<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, d: u16) {
        let bg = &self.blue_green[usize::from(d)];
        if bg.state != BlueGreenState::WaitingForGreen {
            return;
        }
        let green = &self.services[bg.spec.green_service];
        let healthy = green
            .running
            .iter()
            .filter(|&&t| self.task_healthy(t))
            .count() as u32;
        if healthy < bg.spec.green_count {
            return;
        }
        let bg = &mut self.blue_green[usize::from(d)];
        bg.state = BlueGreenState::Shifting;
        bg.shift_started = Some(s.now());
        self.blue_green_shift(s, o, d);
    }

    /// Runs deployment `d`'s next traffic step and schedules the one after it, or, after
    /// the last, blue's termination.
    fn blue_green_shift<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, d: u16) {
        let now = s.now();
        let bg = &mut self.blue_green[usize::from(d)];
        let k = usize::from(bg.next_step);
        let percent = bg.steps[k].1;
        bg.next_step += 1;
        if k + 1 < bg.steps.len() {
            let at = bg.shift_started.expect("shifting") + bg.steps[k + 1].0;
            if at <= self.end {
                s.schedule_at(
                    at,
                    Event::BlueGreen {
                        deployment: d,
                        step: BlueGreenStep::Shift(bg.next_step),
                    },
                );
            }
        } else {
            bg.state = BlueGreenState::TerminationWait;
            bg.shifted = Some(now);
            let at = now + bg.spec.termination_wait;
            if at <= self.end {
                s.schedule_at(
                    at,
                    Event::BlueGreen {
                        deployment: d,
                        step: BlueGreenStep::Terminate,
                    },
                );
            }
        }
        self.set_green_percent(now, o, d, percent);
    }

    /// Sets the forward's weights: green `percent`, blue `100 − percent`.
    fn set_green_percent<O: Observer>(&mut self, now: SimTime, o: &mut O, d: u16, percent: u32) {
        let bg = &mut self.blue_green[usize::from(d)];
        bg.green_percent = percent;
        bg.shifts.push((now, percent));
        let spec = &bg.spec;
        let mut weights = [0u32; 2];
        weights[spec.blue_slot] = 100 - percent;
        weights[spec.green_slot] = percent;
        let (listener, rule) = (spec.listener, spec.rule);
        let done = self.set_forward_weights(listener, rule, &weights);
        debug_assert!(done.is_ok(), "validated forward: {done:?}");
        self.notify(
            now,
            o,
            d,
            BlueGreenChange::TrafficShifted {
                green_percent: percent,
            },
        );
    }

    /// The alarm fired: traffic back to blue, green stopped.
    fn roll_back_blue_green<O: Observer>(&mut self, s: &mut Scheduler<Event>, o: &mut O, d: u16) {
        let now = s.now();
        let bg = &self.blue_green[usize::from(d)];
        let green = ServiceId(bg.spec.green_service as u32);
        if bg.green_percent > 0 {
            self.set_green_percent(now, o, d, 0);
        }
        self.terminate_task_set(s, o, d, green);
        self.end_blue_green(now, o, d, BlueGreenState::RolledBack);
    }

    /// Terminates `service`'s task set: desired count 0, its tasks stop (RUNNING ones drain
    /// for the deregistration delay).
    fn terminate_task_set<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        d: u16,
        service: ServiceId,
    ) {
        self.services[service.index()].desired = 0;
        self.notify(
            s.now(),
            o,
            d,
            BlueGreenChange::TaskSetTerminated { service },
        );
        self.shed(s, o, service);
    }

    /// Deployment `d` is over, in `state`.
    fn end_blue_green<O: Observer>(
        &mut self,
        now: SimTime,
        o: &mut O,
        d: u16,
        state: BlueGreenState,
    ) {
        let bg = &mut self.blue_green[usize::from(d)];
        bg.state = state;
        bg.ended = Some(now);
        self.notify(now, o, d, BlueGreenChange::Ended);
    }

    /// Tells the observer.
    fn notify<O: Observer>(&self, now: SimTime, o: &mut O, d: u16, change: BlueGreenChange) {
        o.lifecycle(
            now,
            &LifecycleEvent::BlueGreen {
                deployment: d,
                change,
            },
            self,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(steps: &[(SimDuration, u32)]) -> Vec<(u64, u32)> {
        steps
            .iter()
            .map(|&(t, p)| (t.0 / 1_000_000_000, p))
            .collect()
    }

    #[test]
    fn predefined_configurations_step_as_codedeploy_documents() {
        let by = |n: &str| PREDEFINED.iter().find(|(m, _)| *m == n).unwrap().1.steps();
        assert_eq!(pct(&by("CodeDeployDefault.ECSAllAtOnce")), [(0, 100)]);
        assert_eq!(
            pct(&by("CodeDeployDefault.ECSCanary10Percent5Minutes")),
            [(0, 10), (300, 100)]
        );
        assert_eq!(
            pct(&by("CodeDeployDefault.ECSCanary10Percent15Minutes")),
            [(0, 10), (900, 100)]
        );
        let linear = pct(&by("CodeDeployDefault.ECSLinear10PercentEvery3Minutes"));
        assert_eq!(linear.len(), 10);
        assert_eq!(linear[0], (0, 10));
        assert_eq!(linear[9], (27 * 60, 100));
    }

    #[test]
    fn a_linear_step_that_does_not_divide_100_ends_at_100() {
        let steps = TrafficRouting::Linear {
            percent: 30,
            interval: SimDuration::from_secs(60),
        }
        .steps();
        assert_eq!(pct(&steps), [(0, 30), (60, 60), (120, 90), (180, 100)]);
    }
}
