//! Faults injected for a window of simulated time: a dependency down or slow. Each fault
//! is two events, its start and its end; the model emits a typed lifecycle event for each
//! so outputs can show the window.

use super::ModelError;
use super::ids::{DependencyId, FaultId, ServiceId};
use super::observer::{LifecycleEvent, Observer};
use super::spec::{FaultKind, FaultSpec, WorldSpec};
use super::world::{Event, World};
use crate::engine::{Scheduler, SimTime};

/// A fault of the run.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Its id (scenario order).
    pub id: FaultId,
    /// When it starts.
    pub start: SimTime,
    /// When it ends.
    pub end: SimTime,
    /// What it does.
    pub kind: FaultKind,
}

impl Fault {
    /// The faults of `spec`.
    pub(in crate::model) fn build_all(spec: &WorldSpec) -> Result<Vec<Fault>, ModelError> {
        spec.faults
            .iter()
            .enumerate()
            .map(|(i, f): (usize, &FaultSpec)| {
                match f.kind {
                    FaultKind::DependencyDown { dependency: dep }
                    | FaultKind::DependencySlow {
                        dependency: dep, ..
                    } if dep >= spec.dependencies.len() => {
                        return Err(ModelError::UnknownReference(format!(
                            "fault #{i} acts on dependency #{dep}, which does not exist"
                        )));
                    }
                    FaultKind::TaskCrash { service, .. } if service >= spec.services.len() => {
                        return Err(ModelError::UnknownReference(format!(
                            "fault #{i} acts on service #{service}, which does not exist"
                        )));
                    }
                    _ => {}
                }
                if let FaultKind::DependencySlow { factor, .. } = f.kind
                    && !(factor.is_finite() && factor > 0.0)
                {
                    return Err(ModelError::UnknownReference(format!(
                        "fault #{i}: slow-down factor {factor} must be finite and > 0"
                    )));
                }
                Ok(Fault {
                    id: FaultId(i as u32),
                    start: f.start,
                    end: f.start.checked_add(f.duration).unwrap_or(SimTime::MAX),
                    kind: f.kind,
                })
            })
            .collect()
    }

    /// The dependency it acts on, if it acts on one.
    pub fn dependency(&self) -> Option<DependencyId> {
        match self.kind {
            FaultKind::DependencyDown { dependency }
            | FaultKind::DependencySlow { dependency, .. } => Some(DependencyId(dependency as u32)),
            FaultKind::TaskCrash { .. } => None,
        }
    }

    /// True for a fault that happens at one instant (a crash): it has no end event.
    pub fn is_instant(&self) -> bool {
        matches!(self.kind, FaultKind::TaskCrash { .. })
    }
}

impl World {
    /// Schedules every fault's start and end that fall within the run.
    pub(in crate::model) fn schedule_faults(&self, s: &mut Scheduler<Event>) {
        for f in &self.faults {
            if f.start <= self.end {
                s.schedule_at(f.start, Event::FaultStart(f.id));
            }
            if f.end <= self.end && !f.is_instant() {
                s.schedule_at(f.end, Event::FaultEnd(f.id));
            }
        }
    }

    /// A fault starts (`started`) or ends.
    pub(in crate::model) fn on_fault<O: Observer>(
        &mut self,
        s: &mut Scheduler<Event>,
        o: &mut O,
        id: FaultId,
        started: bool,
    ) {
        let now = s.now();
        let fault = &self.faults[id.index()];
        let dep = fault.dependency().unwrap_or(DependencyId(0));
        let kind = fault.kind;
        let event = if started {
            LifecycleEvent::FaultStarted { fault: id }
        } else {
            LifecycleEvent::FaultEnded { fault: id }
        };
        o.lifecycle(now, &event, self);
        match (kind, started) {
            (FaultKind::DependencyDown { .. }, true) => {
                let queued = self.dependencies[dep.index()].go_down(now);
                for (key, serial) in queued {
                    if self.requests.live(key, serial).is_some() {
                        self.fail_queued_call(s, o, key, dep);
                    }
                }
                self.run_ready(s, o);
                self.reschedule_all(s);
            }
            (FaultKind::DependencyDown { .. }, false) => {
                self.dependencies[dep.index()].come_up();
            }
            (FaultKind::DependencySlow { factor, .. }, true) => {
                self.dependencies[dep.index()].set_slow(id, Some(factor));
            }
            (FaultKind::DependencySlow { .. }, false) => {
                self.dependencies[dep.index()].set_slow(id, None);
            }
            (FaultKind::TaskCrash { service, task }, _) => {
                self.crash_task(s, o, ServiceId(service as u32), task);
            }
        }
    }
}
