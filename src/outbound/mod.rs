//! Outgoing deliveries: the dispatcher works the outbox and hands each row to the sender its
//! inbox's channel names (`ChannelRegistry::sender`).

mod backoff;
mod dispatcher;

pub use backoff::backoff;
pub use dispatcher::Dispatcher;
