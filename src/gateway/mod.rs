//! The live gateway for agents' consoles: `/api/v1/ws` (protocol in docs/gateway.md). The hub
//! routes committed events in order to the sockets that may see them; each connection resumes
//! from the last event its console saw, relays typing and read markers, and keeps presence.

pub mod connection;
pub mod hub;
pub mod presence;
pub mod recent;
pub mod socket;
