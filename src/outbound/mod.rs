//! Outgoing deliveries: the dispatcher works the outbox and hands each row to the sender its
//! inbox's channel names (`ChannelRegistry::sender`).

mod dispatcher;

pub use dispatcher::Dispatcher;
pub use switchboard_connector_core::backoff::backoff;
