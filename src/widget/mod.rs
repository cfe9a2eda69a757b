//! The website chat channel: visitor sessions, identity verification, the visitor REST endpoints
//! and socket, and the widget script itself.

pub mod handlers;
pub mod hub;
pub mod identity;
pub mod resume;
pub mod settings;
pub mod socket;
pub mod token;
pub mod visitor;

pub use settings::WebChatSettings;
pub use token::{VisitorClaims, VisitorTokens};
