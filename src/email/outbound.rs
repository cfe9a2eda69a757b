//! The sending half of an email inbox: an agent's reply as a mail that threads in the customer's
//! client and brings their answer back to the same conversation.

use std::sync::Arc;

use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};
use switchboard_connector_email::compose::text_to_html;
use switchboard_connector_email::{compose, html, Draft, DraftAttachment};

use super::{EmailChannel, EmailInboxSettings};
use crate::store::ClaimedDelivery;

pub struct EmailOutbound {
    channel: Arc<EmailChannel>,
    workspace_id: i64,
    inbox_name: String,
    settings: EmailInboxSettings,
}

impl EmailOutbound {
    pub fn for_delivery(
        channel: &Arc<EmailChannel>,
        claimed: &ClaimedDelivery,
    ) -> Result<EmailOutbound, DeliveryError> {
        let settings = EmailInboxSettings::load(
            &claimed.inbox,
            claimed.sealed_secret.as_deref(),
            &channel.secrets,
        )
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        Ok(EmailOutbound {
            channel: channel.clone(),
            workspace_id: claimed.workspace_id,
            inbox_name: claimed.inbox.name.clone(),
            settings,
        })
    }

    /// The mail for `delivery`, as it will be sent (every retry builds the same one).
    pub async fn draft(&self, delivery: &OutboundDelivery) -> Result<Draft, DeliveryError> {
        let store = self.channel.store.email();
        let transient = |e: crate::store::StoreError| DeliveryError::Transient(e.to_string());
        let thread = store
            .thread(self.workspace_id, delivery.conversation_id)
            .await
            .map_err(transient)?;
        // The contact's own addresses (where its mail came from) before the display address,
        // which may be only what a visitor typed: the hub never mails an address nobody proved.
        let identities: Vec<&str> = delivery
            .recipient
            .iter()
            .filter(|i| i.namespace == "email")
            .map(|i| i.identifier.as_str())
            .collect();
        let shown = thread.contact_email.as_deref().map(str::to_lowercase);
        let to = shown
            .as_deref()
            .filter(|e| identities.contains(e))
            .or_else(|| identities.first().copied())
            .or(thread.contact_email.as_deref())
            .map(str::to_string)
            .ok_or_else(|| DeliveryError::Permanent("the contact has no email address".into()))?;
        let copies = |field: &str| -> Vec<String> {
            delivery
                .meta
                .as_ref()
                .and_then(|m| m.get("email"))
                .and_then(|e| e.get(field))
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        };
        let s = &self.settings;
        let team = s
            .display_name
            .clone()
            .unwrap_or_else(|| self.inbox_name.clone());
        let from_name = match &delivery.sender_name {
            // Parentheses would make clients show an encoded word; a bar reads the same everywhere.
            Some(agent) => format!("{agent} | {team}"),
            None => team,
        };
        let subject = match thread.subject.as_deref().map(str::trim) {
            Some(s) if s.to_lowercase().starts_with("re:") => s.to_string(),
            Some(s) if !s.is_empty() => format!("Re: {s}"),
            _ => format!("Re: your message to {}", self.inbox_name),
        };
        // References: the first mail and the latest ones, as RFC 5322 suggests for long threads.
        let mut references = thread.message_ids.clone();
        if references.len() > 20 {
            let first = references[0].clone();
            references = std::iter::once(first)
                .chain(references[references.len() - 19..].iter().cloned())
                .collect();
        }
        let mut text = delivery.text.clone();
        let mut body_html = match &delivery.html {
            Some(h) => html::sanitize(h),
            None => text_to_html(&delivery.text),
        };
        if let Some(signature) = signature_block(agent_signature(delivery), s.signature.as_deref())
        {
            text.push_str("\n\n-- \n");
            text.push_str(&signature);
            body_html.push_str("<div class=\"signature\">-- <br>");
            body_html.push_str(&html::escape(&signature).replace('\n', "<br>"));
            body_html.push_str("</div>");
        }
        body_html.push_str(&self.channel.tags.html_marker(delivery.conversation_id));
        let attachments = store
            .attachment_data(delivery.message_id)
            .await
            .map_err(transient)?
            .into_iter()
            .map(|a| DraftAttachment {
                filename: a.filename,
                content_type: a.content_type,
                data: a.data,
            })
            .collect();
        Ok(Draft {
            message_id: self.channel.tags.message_id(
                delivery.message_id,
                delivery.conversation_id,
                s.domain(),
            ),
            from_name: Some(from_name),
            from_address: s.address.clone(),
            reply_to: Some(
                self.channel
                    .tags
                    .reply_address(&s.address, delivery.conversation_id),
            ),
            to: vec![(thread.contact_name.clone(), to)],
            cc: copies("cc"),
            bcc: copies("bcc"),
            subject,
            in_reply_to: thread.last_incoming.clone(),
            references,
            text,
            html: format!("<!doctype html><html><body>{body_html}</body></html>"),
            attachments,
            automatic: false,
        })
    }
}

/// The reply's `meta` with the agent's own signature in it (under `email.signature`), kept with
/// the message so that a retry, or a later change of signature, sends the same mail.
pub fn with_agent_signature(
    meta: Option<serde_json::Value>,
    signature: Option<String>,
) -> Option<serde_json::Value> {
    let Some(signature) = signature.filter(|s| !s.trim().is_empty()) else {
        return meta;
    };
    let mut meta = match meta {
        Some(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let email = meta.entry("email").or_insert_with(|| serde_json::json!({}));
    if let Some(email) = email.as_object_mut() {
        email.insert("signature".into(), signature.into());
    }
    Some(serde_json::Value::Object(meta))
}

fn agent_signature(delivery: &OutboundDelivery) -> Option<&str> {
    delivery
        .meta
        .as_ref()?
        .get("email")?
        .get("signature")?
        .as_str()
}

/// What goes under the reply's text after the `-- ` line: the agent's own signature, then the
/// inbox's (the team's), each only if it says something.
fn signature_block(agent: Option<&str>, inbox: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [agent, inbox]
        .into_iter()
        .flatten()
        .map(str::trim_end)
        .filter(|s| !s.trim().is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[async_trait::async_trait]
impl Outbound for EmailOutbound {
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let smtp = self.settings.smtp.as_ref().ok_or_else(|| {
            DeliveryError::Permanent("the email inbox has no SMTP server to send with".into())
        })?;
        let sender = self.channel.sender_for(delivery.inbox_id, smtp)?;
        let draft = self.draft(delivery).await?;
        let mail = compose(&draft).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        sender.send(&mail).await?;
        Ok(DeliveryReceipt {
            provider_message_id: Some(draft.message_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_agents_signature_comes_before_the_inboxes() {
        assert_eq!(
            signature_block(Some("Ana\nSupport lead"), Some("Acme Support")).as_deref(),
            Some("Ana\nSupport lead\n\nAcme Support")
        );
        assert_eq!(signature_block(None, Some("Acme")).as_deref(), Some("Acme"));
        assert_eq!(signature_block(Some("  \n"), None), None);
    }

    #[test]
    fn the_signature_joins_the_copies_already_in_the_meta() {
        let meta = Some(json!({"email": {"cc": ["a@example.com"], "bcc": []}}));
        assert_eq!(
            with_agent_signature(meta, Some("Ana".into())),
            Some(json!({"email": {"cc": ["a@example.com"], "bcc": [], "signature": "Ana"}}))
        );
        assert_eq!(with_agent_signature(None, None), None);
        assert_eq!(
            with_agent_signature(None, Some("Ana".into())),
            Some(json!({"email": {"signature": "Ana"}}))
        );
    }
}
