//! Typed indices of the model's entities. Entities live in `Vec`s and refer to each other
//! by these ids, never by pointers, so a [`World`](super::World) is plain `Send` data.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The position of the entity in its `Vec`.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A client (a source of requests), in scenario order.
    ClientId
);
id_type!(
    /// A target group, in scenario order.
    TargetGroupId
);
id_type!(
    /// An ECS service, in scenario order.
    ServiceId
);
id_type!(
    /// An ECS task, numbered in launch order across all services.
    TaskId
);
/// A load balancer node (one per enabled Availability Zone; see `model::elb::nodes`).
/// Routing state (round-robin position, outstanding counts) belongs to a node. A `u8`:
/// a Region has at most a handful of zones, and it keeps a request at 152 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u8);

impl NodeId {
    /// The position of the node in its `Vec`.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
id_type!(
    /// A dependency (a database, a cache, an API the services call), in scenario order.
    DependencyId
);
id_type!(
    /// A fault, in scenario order.
    FaultId
);
