//! Mail the hub writes itself to a person rather than to a conversation (an invitation to join
//! the workspace), sent through one of the workspace's email inboxes the way replies go out:
//! the inbox's own address and SMTP server, with its sealed password.

use switchboard_connector_core::DeliveryError;
use switchboard_connector_email::compose::text_to_html;
use switchboard_connector_email::{compose, Draft};

use super::{EmailChannel, EmailInboxSettings};
use crate::domain::Id;

/// One mail to one person.
pub struct Notice {
    pub to_name: Option<String>,
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl EmailChannel {
    /// Sends `notice` through the first email inbox of the workspace that has an SMTP server;
    /// `Ok(false)` when it has none, so the caller can hand the words over another way.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    pub async fn send_notice(
        &self,
        workspace_id: Id,
        notice: Notice,
    ) -> Result<bool, DeliveryError> {
        let inboxes = self
            .store
            .email()
            .email_inboxes()
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        for (inbox, sealed) in inboxes {
            if inbox.workspace_id != workspace_id {
                continue;
            }
            let settings = match EmailInboxSettings::load(&inbox, sealed.as_deref(), &self.secrets)
            {
                Ok(settings) => settings,
                Err(e) => {
                    tracing::warn!(inbox = inbox.id, error = %e, "email inbox cannot send");
                    continue;
                }
            };
            let Some(smtp) = settings.smtp.as_ref() else {
                continue;
            };
            let sender = self.sender_for(inbox.id, smtp)?;
            let draft = Draft {
                message_id: format!(
                    "sb-notice-{}@{}",
                    crate::auth::random_token(12),
                    settings.domain()
                ),
                from_name: Some(settings.display_name.clone().unwrap_or(inbox.name.clone())),
                from_address: settings.address.clone(),
                reply_to: None,
                to: vec![(notice.to_name, notice.to)],
                cc: Vec::new(),
                bcc: Vec::new(),
                subject: notice.subject,
                in_reply_to: None,
                references: Vec::new(),
                html: format!(
                    "<!doctype html><html><body>{}</body></html>",
                    text_to_html(&notice.text)
                ),
                text: notice.text,
                attachments: Vec::new(),
                // Sent by the hub, not a person: an auto-responder must not answer it.
                automatic: true,
            };
            let mail = compose(&draft).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
            sender.send(&mail).await?;
            return Ok(true);
        }
        Ok(false)
    }
}
