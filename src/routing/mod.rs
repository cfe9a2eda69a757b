//! The routing engine: which agent gets which conversation. `decide` holds the rules as pure
//! logic over a snapshot; `engine` loads snapshots from the store and applies decisions there,
//! atomically, so several routers (several nodes) never over-assign.

pub mod decide;
pub mod engine;
pub mod policy;

pub use decide::{Agent, Conversation, Decision, Reason, Snapshot};
pub use policy::{Mode, Priority, RoutingPolicy};

#[cfg(test)]
mod properties;
