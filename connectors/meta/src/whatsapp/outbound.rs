//! Agents' replies out through `POST /{phone_number_id}/messages`: free text, or an approved
//! template (what the reply's meta names) with its body parameters. The receipt is the wamid
//! Meta answers, which its status webhooks name later.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchboard_connector_core::{DeliveryError, DeliveryReceipt, Outbound, OutboundDelivery};

use crate::{Graph, GraphError};

/// Meta's "re-engagement message" error: more than 24 hours since the customer last wrote, so
/// only a template may go. Retrying cannot help.
pub const OUTSIDE_WINDOW_CODE: i64 = 131047;

/// WhatsApp's limit on a text message's body, in characters.
const MAX_TEXT_CHARS: usize = 4096;

/// A template to send, as a reply's meta carries it (`{"template": {…}}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    #[serde(default)]
    pub parameters: Vec<String>,
}

impl TemplateSend {
    /// The template a reply's meta names, if it names one.
    pub fn from_meta(meta: Option<&Value>) -> Result<Option<TemplateSend>, String> {
        match meta.and_then(|m| m.get("template")) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| format!("`template`: {e}")),
        }
    }
}

/// Sends one inbox's replies.
pub struct WhatsappSender {
    graph: Graph,
    token: String,
    phone_number_id: String,
}

impl WhatsappSender {
    pub fn new(graph: Graph, token: String, phone_number_id: String) -> WhatsappSender {
        WhatsappSender {
            graph,
            token,
            phone_number_id,
        }
    }
}

/// The customer's WhatsApp id: their phone number's digits (Meta's `to` takes no `+`).
fn recipient(delivery: &OutboundDelivery) -> Result<String, DeliveryError> {
    delivery
        .recipient
        .iter()
        .find(|i| i.namespace == "phone")
        .map(|i| {
            i.identifier
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|digits| !digits.is_empty())
        .ok_or_else(|| {
            DeliveryError::Permanent("the contact has no phone number to send to".into())
        })
}

/// The `messages` request's body for this delivery.
pub fn message_body(delivery: &OutboundDelivery, to: &str) -> Result<Value, DeliveryError> {
    let template =
        TemplateSend::from_meta(delivery.meta.as_ref()).map_err(DeliveryError::Permanent)?;
    if let Some(template) = template {
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": {"name": template.name, "language": {"code": template.language}},
        });
        if !template.parameters.is_empty() {
            let parameters: Vec<Value> = template
                .parameters
                .iter()
                .map(|p| json!({"type": "text", "text": p}))
                .collect();
            body["template"]["components"] = json!([{"type": "body", "parameters": parameters}]);
        }
        return Ok(body);
    }
    if delivery.text.trim().is_empty() {
        return Err(DeliveryError::Permanent(
            "a WhatsApp reply needs text or a template".into(),
        ));
    }
    if delivery.text.chars().count() > MAX_TEXT_CHARS {
        return Err(DeliveryError::Permanent(format!(
            "WhatsApp text messages hold at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": false, "body": delivery.text},
    }))
}

#[async_trait::async_trait]
impl Outbound for WhatsappSender {
    #[tracing::instrument(skip_all, fields(message = delivery.message_id, attempt = delivery.attempt))]
    async fn deliver(&self, delivery: &OutboundDelivery) -> Result<DeliveryReceipt, DeliveryError> {
        let to = recipient(delivery)?;
        let body = message_body(delivery, &to)?;
        let path = format!("{}/messages", self.phone_number_id);
        let answer = self
            .graph
            .post(&self.token, &path, &body)
            .await
            .map_err(refusal)?;
        let wamid = answer["messages"][0]["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                // Meta took it, so trying again could send it twice: fail it, loudly.
                DeliveryError::Permanent("Meta accepted the message without naming its id".into())
            })?;
        Ok(DeliveryReceipt {
            provider_message_id: Some(wamid.to_string()),
        })
    }
}

fn refusal(e: GraphError) -> DeliveryError {
    if e.code() == Some(OUTSIDE_WINDOW_CODE) {
        return DeliveryError::Permanent(format!(
            "the customer last wrote more than 24 hours ago, so WhatsApp takes only an approved \
             template now ({e})"
        ));
    }
    e.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_connector_core::Identity;

    fn delivery(text: &str, meta: Option<Value>) -> OutboundDelivery {
        OutboundDelivery {
            delivery_id: "d-1".into(),
            message_id: 1,
            conversation_id: 1,
            inbox_id: 1,
            recipient: vec![Identity::phone("+16505551234")],
            recipient_name: None,
            text: text.into(),
            html: None,
            sender_name: None,
            attempt: 1,
            created_at: String::new(),
            meta,
        }
    }

    #[test]
    fn a_text_reply_goes_to_the_customers_number_without_its_plus() {
        let d = delivery("On its way!", None);
        let to = recipient(&d).unwrap();
        assert_eq!(to, "16505551234");
        let body = message_body(&d, &to).unwrap();
        assert_eq!(body["type"], "text");
        assert_eq!(body["text"]["body"], "On its way!");
        assert_eq!(body["messaging_product"], "whatsapp");
    }

    #[test]
    fn a_template_reply_names_its_language_and_body_parameters() {
        let meta = json!({"template": {"name": "order_update", "language": "en_US", "parameters": ["Mina", "#1234"]}});
        let body = message_body(&delivery("", Some(meta)), "16505551234").unwrap();
        assert_eq!(body["type"], "template");
        assert_eq!(body["template"]["language"]["code"], "en_US");
        assert_eq!(
            body["template"]["components"][0]["parameters"][1]["text"],
            "#1234"
        );
    }

    #[test]
    fn the_re_engagement_error_fails_the_message_saying_why() {
        let e = GraphError::Refused {
            status: 400,
            code: OUTSIDE_WINDOW_CODE,
            subcode: None,
            message: "Re-engagement message".into(),
            retry_after: None,
        };
        match refusal(e) {
            DeliveryError::Permanent(why) => assert!(why.contains("more than 24 hours"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
