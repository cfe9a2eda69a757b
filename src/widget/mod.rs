//! The website chat channel: visitor sessions, identity verification, the visitor REST endpoints
//! and socket, and the widget script itself.

pub mod conversations;
pub mod hub;
pub mod identity;
pub mod messages;
pub mod resume;
pub mod session;
pub mod settings;
pub mod socket;
pub mod token;
pub mod visitor;

pub use settings::WebChatSettings;
pub use token::{VisitorClaims, VisitorTokens};

use std::sync::Arc;

use crate::auth::Throttle;
use crate::config::WidgetSettings;
use crate::crypto::SecretBox;
use crate::desk::Desk;
use crate::signals::Signals;
use crate::store::Store;

/// What the visitor endpoints and socket need, taken from the composition's state
/// (`axum::extract::FromRef`), so the widget never names another adapter's state.
#[derive(Clone)]
pub struct WidgetState(pub Arc<Widget>);

pub struct Widget {
    pub desk: Desk,
    pub visitor_tokens: VisitorTokens,
    pub visitor_hub: Arc<hub::VisitorHub>,
    /// Per-visitor and per-address budget on the public widget endpoints.
    pub widget_throttle: Throttle,
    pub settings: WidgetSettings,
    pub signals: Arc<Signals>,
    /// Opens inboxes' sealed identity secrets.
    pub secrets: SecretBox,
}

impl std::ops::Deref for WidgetState {
    type Target = Widget;
    fn deref(&self) -> &Widget {
        &self.0
    }
}

impl Widget {
    /// The store, for reading; writes go through the desk.
    pub fn store(&self) -> &Arc<dyn Store> {
        self.desk.store()
    }
}
