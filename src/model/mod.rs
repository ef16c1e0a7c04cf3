//! The domain: clients, the load balancer (listeners, target groups, routing algorithms)
//! and ECS services whose tasks are processor-sharing servers.
//!
//! Build a [`Simulation`] from a [`WorldSpec`] (usually made by `scenario`) and an
//! [`Observer`] (usually `metrics::Recorder`), then [`Simulation::run`] it. The model
//! never touches files; it reports through the observer.
//!
//! AWS behaviour follows the Elastic Load Balancing and ECS documentation cited on each
//! item; queueing behaviour follows the textbook models named on [`task`].

pub mod algorithms;
pub mod arrivals;
pub mod dist;
pub mod ids;
pub mod observer;
pub mod outcome;
pub mod spec;
pub mod target_group;
pub mod task;
mod world;

pub use ids::{ClientId, ServiceId, TargetGroupId, TaskId};
pub use observer::{LifecycleEvent, NoObserver, Observer, Request};
pub use outcome::Cause;
pub use spec::*;
pub use target_group::TargetGroup;
pub use task::Task;
pub use world::{Client, Event, LoadBalancer, RunStats, Service, Simulation, World};

/// Why a [`WorldSpec`] cannot be built. `scenario` validation catches these first with
/// file and field; this is the model's own guard so that it never panics.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A distribution parameter outside its domain.
    #[error("{what}: {why}")]
    InvalidDistribution {
        /// Which distribution (e.g. `services.web.cpu_time`).
        what: String,
        /// What is wrong.
        why: String,
    },
    /// An index that points at nothing.
    #[error("{0}")]
    UnknownReference(String),
}
