//! The routing rules: which agent gets which conversation. `decide` holds the rules as pure
//! logic over a snapshot; `snapshot` builds one from what the store holds. The desk
//! (`desk::routing`) loads the data and applies decisions in the store, atomically, so several
//! routers (several nodes) never over-assign.

pub mod decide;
pub mod policy;
pub mod snapshot;

pub use decide::{Agent, Conversation, Decision, Reason, Snapshot};
pub use policy::{Mode, Priority, RoutingPolicy};

#[cfg(test)]
mod properties;
