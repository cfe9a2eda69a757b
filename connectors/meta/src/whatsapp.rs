//! The WhatsApp Cloud API: what its `messages` webhook carries (customer messages and the
//! statuses of ours) read into the hub's words, sending text and template messages through
//! `POST /{phone_number_id}/messages`, and the business account's approved message templates.

mod inbound;
mod outbound;
mod payload;
mod templates;

pub use inbound::{read_notification, Incoming, MediaRef, Notification, Skipped};
pub use outbound::{TemplateSend, WhatsappSender, OUTSIDE_WINDOW_CODE};
pub use payload::WebhookPayload;
pub use templates::{list_templates, Template, TemplateError};

use crate::{Graph, GraphError};

/// Where a media file a customer sent can be downloaded (`GET /{media-id}` answers a short-lived
/// URL that itself needs the token). Checked against the inbox's phone number, as Meta offers.
pub async fn media_url(
    graph: &Graph,
    token: &str,
    media_id: &str,
    phone_number_id: &str,
) -> Result<String, GraphError> {
    let answer = graph
        .get(token, media_id, &[("phone_number_id", phone_number_id)])
        .await?;
    answer["url"]
        .as_str()
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .ok_or_else(|| GraphError::Unreadable(format!("media {media_id} came without a url")))
}
