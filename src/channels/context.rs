//! What a channel may use of the hub: the setup environment (settings and the secret box) and,
//! at run time, the desk's doors and the guarded HTTP client; and what a channel's
//! start-up hands back.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::crypto::SecretBox;
use crate::desk::Desk;

/// Enough to check and seal an inbox's settings: no store, so setup stays a pure step that the
/// CLI can use as well as the API.
#[derive(Clone, Copy)]
pub struct SetupEnv<'a> {
    pub settings: &'a Settings,
    pub secrets: &'a SecretBox,
}

/// The hub's parts a running channel uses. Cheap to clone (all shared handles).
#[derive(Clone)]
pub struct ChannelContext {
    /// The application layer's doors (ingest, delivery outcomes): a channel never writes to
    /// the store or publishes by itself.
    pub desk: Desk,
    pub secrets: SecretBox,
    pub settings: Arc<Settings>,
    /// The one client outgoing HTTP goes through, held to the operator's allow-list.
    pub http: switchboard_egress::GuardedClient,
}

impl ChannelContext {
    pub fn setup_env(&self) -> SetupEnv<'_> {
        SetupEnv {
            settings: &self.settings,
            secrets: &self.secrets,
        }
    }
}

/// What a channel started: its tasks, and the addresses of listeners it opened, by name (the
/// email channel's `forwarded_mail`), so that tests and operators can find them.
#[derive(Default)]
pub struct ChannelTasks {
    pub tasks: Vec<JoinHandle<()>>,
    pub listeners: Vec<(&'static str, SocketAddr)>,
}

impl ChannelTasks {
    pub fn extend(&mut self, other: ChannelTasks) {
        self.tasks.extend(other.tasks);
        self.listeners.extend(other.listeners);
    }
}
