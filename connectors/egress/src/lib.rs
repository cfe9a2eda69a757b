//! Outgoing HTTP for every connector and the hub: one client that reaches the public internet
//! only (checked on the URL and again after DNS resolution), follows no redirects, and opens to
//! internal addresses only where the operator's allow-list names them.
#![forbid(unsafe_code)]

mod address;
mod client;
mod policy;

pub use address::internal_reason;
pub use client::{refusal, BuildError, ClientOptions, GuardedClient};
pub use policy::{BadAllowEntry, EgressPolicy, Refused};
