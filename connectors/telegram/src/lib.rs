//! The Telegram channel's protocol side: the Bot API's updates (as a webhook delivers them or
//! `getUpdates` long-polls them) turned into inbound messages, and agents' replies sent with
//! `sendMessage`. It speaks only connectors/core types; the hub's channel folder
//! (src/channels/telegram) joins it to ingest and the dispatcher.
//!
//! Telegram does not sign webhook bodies: a webhook proves itself with the `secret_token` given
//! to `setWebhook`, echoed in `X-Telegram-Bot-Api-Secret-Token` (checked by the hub).
#![forbid(unsafe_code)]

pub mod api;
pub mod client;
pub mod inbound;
pub mod outbound;
pub mod token;

pub use client::{BotApi, BotApiError, OutgoingFile};
pub use inbound::{read_update, FileRef, TelegramInbound};
pub use outbound::TelegramOutbound;
pub use token::{BotToken, TokenError};

/// The header a webhook call carries the inbox's secret token in.
pub const SECRET_TOKEN_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The contact identity namespace: a Telegram chat id.
pub const IDENTITY_NAMESPACE: &str = "telegram";

/// The update kinds the hub asks for (`allowed_updates`): customers' messages and their edits.
pub const ALLOWED_UPDATES: [&str; 2] = ["message", "edited_message"];
