//! The live gateway for agents' consoles: `/api/v1/ws` (protocol in docs/gateway.md). The hub
//! routes committed events in order to the sockets that may see them; each connection resumes
//! from the last event its console saw, relays typing and read markers, and keeps presence.

pub mod audience;
pub mod connection;
pub mod hub;
pub mod recent;
pub mod socket;

use std::sync::Arc;

use crate::desk::Desk;
use crate::signals::Signals;

/// What the console socket needs, taken from the composition's state (`axum::extract::FromRef`),
/// so the gateway never names another adapter's state.
#[derive(Clone)]
pub struct GatewayState {
    pub desk: Desk,
    pub hub: Arc<hub::ConsoleHub>,
    pub signals: Arc<Signals>,
    pub limits: connection::Limits,
}
