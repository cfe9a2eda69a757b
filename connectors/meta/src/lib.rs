//! Meta's platform, as the WhatsApp Cloud API, Messenger and Instagram share it: one Graph API
//! client (versioned base URL, bearer tokens, Meta's error bodies and throttling codes), and the
//! webhook's two checks (the `hub.challenge` verify-token handshake and `X-Hub-Signature-256`).
//! What each product sends and receives lives in its own module beside these.
#![forbid(unsafe_code)]

pub mod graph;
pub mod messenger;
pub mod webhook;
pub mod whatsapp;

pub use graph::{Graph, GraphError};
pub use webhook::{verify_handshake, verify_signature, Handshake, SignatureError};
