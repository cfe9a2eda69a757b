//! Outgoing deliveries: the dispatcher works the outbox, and `connectors` picks the sending half
//! of each inbox's channel.

mod backoff;
mod connectors;
mod dispatcher;

pub use backoff::backoff;
pub use dispatcher::Dispatcher;
