//! The domain: clients, the load balancer (listeners, target groups, target states,
//! routing algorithms) and ECS services whose tasks are processor-sharing servers.
//!
//! Build a [`Simulation`] from a [`WorldSpec`] (usually made by `scenario`) and an
//! [`Observer`] (usually `metrics::Recorder`), then [`Simulation::run`] it. The model
//! never touches files nor words messages; it reports through the observer, with typed
//! [`LifecycleEvent`]s.
//!
//! Layout, by subsystem (each keeps its entities and its handlers; [`world`](World) holds
//! the one event `enum` and its one `match`):
//! - `clients`: arrival processes and the arrival handler;
//! - [`elb`]: the load balancer, its nodes, target groups and their targets' states, routing
//!   algorithms;
//! - [`ecs`]: services, tasks (workers, processor-sharing CPU, memory), request profiles
//!   and usage accounting;
//! - [`dependencies`]: shared backends (databases, caches, APIs) and the call step;
//! - [`faults`]: faults injected for a window (a dependency down or slow);
//! - [`request`]: requests in flight, their identity and their keyed random draws.
//!
//! AWS behaviour follows the Elastic Load Balancing and ECS documentation cited on each
//! item; queueing behaviour follows the textbook models named on [`Task`].

pub mod arrivals;
pub mod autoscaling;
pub mod clients;
pub mod cloudwatch;
pub mod cost;
pub mod dependencies;
pub mod dist;
pub mod ecs;
pub mod elb;
pub mod estimate;
pub mod faults;
pub mod ids;
pub mod observer;
pub mod outcome;
pub mod request;
pub mod spec;
mod world;

pub use clients::Client;
pub use cost::{CostReport, PricingSpec};
pub use dependencies::{CallEnd, CallOutcome, Dependency, DependencyMeter};
pub use ecs::{CpuMeter, Service, Step, StepKind, Task, TaskState, UsageMeter};
pub use elb::algorithms;
pub use elb::{LbNode, LoadBalancer, TargetGroup, TargetReason, TargetState};
pub use faults::Fault;
pub use ids::{ClientId, DependencyId, FaultId, NodeId, ServiceId, TargetGroupId, TaskId};
pub use observer::{LifecycleEvent, NoObserver, Observer, StopReason};
pub use outcome::Cause;
pub use request::{CallState, Request};
pub use spec::*;
pub use world::{DEFAULT_MAX_IN_FLIGHT, Event, RunStats, RunStop, Simulation, World};

/// Why a [`WorldSpec`] cannot be built or an operation cannot apply. `scenario` validation
/// catches spec problems first with file and field; this is the model's own guard so that
/// it never panics.
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
    /// A combination of settings the model does not support (the `scenario` module
    /// rejects these first, with better messages).
    #[error("{0}")]
    Unsupported(String),
    /// The subnets cannot form a network (the `scenario` module checks these first).
    #[error(transparent)]
    Network(#[from] ecs::network::NetworkError),
}
