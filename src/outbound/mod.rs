//! Outgoing deliveries: the dispatcher works the outbox, and `connectors` picks the sending half
//! of each inbox's channel.

mod connectors;
mod dispatcher;

pub use dispatcher::Dispatcher;
pub use switchboard_connector_core::backoff::backoff;
