//! The email channel: reading mailboxes over IMAP, sending over SMTP, accepting forwarded mail
//! over SMTP, and turning MIME into messages that thread the way people expect.
//!
//! Like every connector this crate never touches the hub's store: it hands parsed mail to a
//! [`MailSink`] and gets its checkpoints back from it, so it can be tested against a real IMAP
//! server with nothing else running.
#![forbid(unsafe_code)]

pub mod compose;
pub mod fingerprint;
mod header_block;
pub mod html;
pub mod imap;
pub mod inbound;
pub mod parse;
pub mod quote;
pub mod smtp;
mod thread;
mod tls;

pub use compose::{compose, Draft, DraftAttachment};
pub use imap::{Checkpoint, ImapSettings, MailSink, MailboxSync, SinkError, SyncReport};
pub use parse::{parse_mail, MailKind, ParseContext, ParsedMail};
pub use smtp::{Security, SmtpSender, SmtpSettings};
pub use thread::ThreadTags;
