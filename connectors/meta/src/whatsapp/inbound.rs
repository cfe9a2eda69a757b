//! A `messages` webhook read into what the hub stores: each customer message as an
//! `InboundMessage` (external id = its wamid, the sender known by phone number so SMS and
//! WhatsApp from one number find one contact), the media it points at for the hub to fetch, and
//! each status as a `StatusUpdate`. Pure: no I/O, so every kind of message has a unit test.

use serde_json::{json, Value};
use switchboard_connector_core::provider::{ProviderStatus, StatusUpdate};
use switchboard_connector_core::{Identity, InboundMessage, InboundSender};

use super::payload::{self, ChangeValue, WebhookPayload};

/// Longest text kept from one message, in bytes: below the hub's 64 KiB cap, so that a huge
/// shared contact card is cut rather than refused (a refusal would be re-delivered forever).
const MAX_TEXT_BYTES: usize = 60 * 1024;
/// Longest profile name kept, in characters (the hub's name limit).
const MAX_NAME_CHARS: usize = 200;

/// What one webhook call carried for the inbox's phone number.
#[derive(Debug, Default)]
pub struct Notification {
    pub incoming: Vec<Incoming>,
    pub statuses: Vec<StatusUpdate>,
    /// Parts addressed to another phone number: not this inbox's to store.
    pub skipped: Vec<Skipped>,
}

/// A part of the payload left alone, for the log.
#[derive(Debug, PartialEq, Eq)]
pub struct Skipped {
    pub phone_number_id: String,
    pub messages: usize,
    pub statuses: usize,
}

/// One customer message, and the media file it points at (fetched by the hub, then attached).
#[derive(Debug)]
pub struct Incoming {
    pub message: InboundMessage,
    pub media: Option<MediaRef>,
}

/// A media file Meta holds for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub id: String,
    pub mime_type: Option<String>,
    pub filename: String,
}

/// The payload's parts for `phone_number_id`; parts for other numbers land in `skipped`.
pub fn read_notification(payload: WebhookPayload, phone_number_id: &str) -> Notification {
    let mut out = Notification::default();
    for change in payload.entry.into_iter().flat_map(|e| e.changes) {
        let value = change.value;
        let addressed_to = value
            .metadata
            .as_ref()
            .map(|m| m.phone_number_id.as_str())
            .unwrap_or_default();
        if addressed_to != phone_number_id {
            out.skipped.push(Skipped {
                phone_number_id: addressed_to.to_string(),
                messages: value.messages.len(),
                statuses: value.statuses.len(),
            });
            continue;
        }
        read_value(value, &mut out);
    }
    out
}

fn read_value(value: ChangeValue, out: &mut Notification) {
    for message in value.messages {
        let contact = value
            .contacts
            .iter()
            .find(|c| c.wa_id == message.from)
            .or(value.contacts.first());
        let wa_id = contact
            .map(|c| c.wa_id.as_str())
            .filter(|w| !w.is_empty())
            .unwrap_or(&message.from)
            .to_string();
        let name = contact
            .and_then(|c| c.profile.as_ref())
            .and_then(|p| p.name.as_deref())
            .map(|n| n.chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|n| !n.trim().is_empty());
        if message.id.is_empty() || wa_id.is_empty() {
            continue;
        }
        out.incoming.push(read_message(message, &wa_id, name));
    }
    for status in value.statuses {
        if let Some(update) = read_status(status) {
            out.statuses.push(update);
        }
    }
}

fn read_message(message: payload::Message, wa_id: &str, name: Option<String>) -> Incoming {
    let phone = format!("+{}", wa_id.trim_start_matches('+'));
    let mut details = json!({
        "type": message.kind,
        "from": wa_id,
    });
    if let Some(ts) = message
        .timestamp
        .as_deref()
        .and_then(|t| t.parse::<i64>().ok())
    {
        details["timestamp"] = json!(ts);
    }
    let mut references: Vec<String> = message
        .context
        .as_ref()
        .and_then(|c| c.id.clone())
        .into_iter()
        .collect();
    let mut media = None;
    let text = match message.kind.as_str() {
        "text" => message.text.map(|t| t.body).unwrap_or_default(),
        "image" | "audio" | "video" | "document" | "sticker" => {
            let part = match message.kind.as_str() {
                "image" => message.image,
                "audio" => message.audio,
                "video" => message.video,
                "document" => message.document,
                _ => message.sticker,
            }
            .unwrap_or_default();
            media = Some(MediaRef {
                filename: media_filename(&message.kind, &part),
                id: part.id,
                mime_type: part.mime_type,
            });
            part.caption.unwrap_or_default()
        }
        "location" => {
            let place = message.location.unwrap_or_default();
            details["location"] = json!({
                "latitude": place.latitude, "longitude": place.longitude,
                "name": place.name, "address": place.address, "url": place.url,
            });
            location_text(&place)
        }
        "contacts" => {
            let cards = message.contacts.unwrap_or_default();
            let text = cards.iter().map(vcard).collect::<Vec<_>>().join("\n");
            details["contacts"] = Value::Array(cards);
            text
        }
        "reaction" => {
            let reaction = message.reaction.unwrap_or_default();
            if !reaction.message_id.is_empty() {
                references.insert(0, reaction.message_id.clone());
            }
            details["reaction"] = json!({
                "message_id": reaction.message_id,
                "emoji": reaction.emoji,
                "removed": reaction.emoji.is_none(),
            });
            match reaction.emoji {
                Some(emoji) => format!("Reacted {emoji}"),
                None => "Took back a reaction".to_string(),
            }
        }
        "interactive" => {
            let interactive = message.interactive.unwrap_or_default();
            let choice = interactive
                .button_reply
                .or(interactive.list_reply)
                .unwrap_or_default();
            details["interactive"] = json!({
                "type": interactive.kind, "id": choice.id, "title": choice.title,
                "description": choice.description,
            });
            choice.title
        }
        "button" => {
            let button = message.button.unwrap_or_default();
            details["button"] = json!({"text": button.text, "payload": button.payload});
            button.text
        }
        other => format!("[a WhatsApp message of a kind the hub cannot show: {other}]"),
    };
    // Ingest refuses an empty message, and a refusal would be re-delivered for days.
    let text = if text.trim().is_empty() && media.is_none() {
        format!("[an empty WhatsApp {} message]", message.kind)
    } else {
        text
    };
    Incoming {
        message: InboundMessage {
            external_id: message.id,
            sender: InboundSender {
                identities: vec![Identity::phone(&phone)],
                name,
                phone: Some(phone),
                ..Default::default()
            },
            text: clamp(text, MAX_TEXT_BYTES),
            references,
            meta: Some(json!({ "whatsapp": details })),
            ..Default::default()
        },
        media,
    }
}

/// Meta names only documents; other files get a name from their kind and id.
fn media_filename(kind: &str, part: &payload::Media) -> String {
    if let Some(name) = part.filename.as_deref().filter(|n| !n.trim().is_empty()) {
        return name.chars().take(200).collect();
    }
    let extension = match part
        .mime_type
        .as_deref()
        .map(|m| m.split(';').next().unwrap_or(m).trim())
    {
        Some("image/jpeg") => "jpg",
        Some("image/png") => "png",
        Some("image/webp") => "webp",
        Some("audio/ogg") => "ogg",
        Some("audio/mpeg") => "mp3",
        Some("audio/mp4") | Some("audio/aac") => "m4a",
        Some("video/mp4") => "mp4",
        Some("video/3gpp") => "3gp",
        Some("application/pdf") => "pdf",
        _ => "bin",
    };
    let id: String = part
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    format!("{kind}-{id}.{extension}")
}

fn location_text(place: &payload::Location) -> String {
    let mut words: Vec<String> = [place.name.as_deref(), place.address.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .collect();
    if let (Some(lat), Some(lon)) = (place.latitude, place.longitude) {
        words.push(format!("({lat}, {lon})"));
    }
    format!("Location: {}", words.join(", "))
}

/// A shared contact as a vCard, from the parts agents use (name, phones, emails).
fn vcard(card: &Value) -> String {
    let mut lines = vec!["BEGIN:VCARD".to_string(), "VERSION:3.0".to_string()];
    let name = card["name"]["formatted_name"]
        .as_str()
        .or(card["name"]["first_name"].as_str())
        .unwrap_or("Unnamed contact");
    lines.push(format!("FN:{}", vcard_escape(name)));
    for phone in card["phones"].as_array().into_iter().flatten() {
        if let Some(number) = phone["phone"].as_str().or(phone["wa_id"].as_str()) {
            let kind = phone["type"].as_str().unwrap_or("CELL").to_uppercase();
            lines.push(format!(
                "TEL;TYPE={}:{}",
                vcard_escape(&kind),
                vcard_escape(number)
            ));
        }
    }
    for email in card["emails"].as_array().into_iter().flatten() {
        if let Some(address) = email["email"].as_str() {
            lines.push(format!("EMAIL:{}", vcard_escape(address)));
        }
    }
    if let Some(org) = card["org"]["company"].as_str() {
        lines.push(format!("ORG:{}", vcard_escape(org)));
    }
    lines.push("END:VCARD".to_string());
    lines.join("\n")
}

fn vcard_escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace(',', "\\,")
        .replace(';', "\\;")
}

fn read_status(status: payload::Status) -> Option<StatusUpdate> {
    let kind = match status.status.as_str() {
        "sent" => ProviderStatus::Sent,
        "delivered" => ProviderStatus::Delivered,
        "read" => ProviderStatus::Read,
        "failed" => ProviderStatus::Failed,
        // "deleted", "warning" and kinds to come move nothing.
        _ => return None,
    };
    if status.id.is_empty() {
        return None;
    }
    let error = status.errors.first().map(|e| {
        let words = e
            .error_data
            .as_ref()
            .and_then(|d| d.details.clone())
            .or(e.message.clone())
            .or(e.title.clone())
            .unwrap_or_default();
        clamp(format!("WhatsApp error {}: {words}", e.code), 500)
    });
    Some(StatusUpdate {
        provider_message_id: status.id,
        status: kind,
        error,
    })
}

/// `text` without NUL characters (which the store refuses), cut to at most `max` bytes on a
/// character boundary.
fn clamp(text: String, max: usize) -> String {
    let mut text = if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    };
    if text.len() > max {
        let mut at = max;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Value) -> Notification {
        let payload: WebhookPayload = serde_json::from_value(json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]
        }))
        .unwrap();
        read_notification(payload, "106540352242922")
    }

    fn with_message(message: Value) -> Value {
        json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
            "messages": [message]
        })
    }

    #[test]
    fn a_text_message_is_known_by_its_wamid_and_the_senders_phone() {
        let got = read(with_message(json!({
            "from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}
        })));
        let message = &got.incoming[0].message;
        assert_eq!(
            message.external_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        );
        assert_eq!(message.text, "Does it come in another color?");
        assert_eq!(
            message.sender.identities,
            [Identity::new("phone", "+16505551234")]
        );
        assert_eq!(message.sender.name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(
            message.meta.as_ref().unwrap()["whatsapp"]["timestamp"],
            1749416383
        );
        assert!(got.incoming[0].media.is_none());
    }

    #[test]
    fn another_phone_numbers_messages_are_skipped() {
        let mut value = with_message(
            json!({"from": "1", "id": "wamid.x", "type": "text", "text": {"body": "hi"}}),
        );
        value["metadata"]["phone_number_id"] = json!("999");
        let got = read(value);
        assert!(got.incoming.is_empty());
        assert_eq!(
            got.skipped,
            [Skipped {
                phone_number_id: "999".into(),
                messages: 1,
                statuses: 0
            }]
        );
    }

    #[test]
    fn an_image_points_at_its_media_and_keeps_its_caption() {
        let got = read(with_message(json!({
            "from": "16505551234", "id": "wamid.img", "type": "image",
            "image": {"caption": "The broken part", "mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"}
        })));
        let incoming = &got.incoming[0];
        assert_eq!(incoming.message.text, "The broken part");
        assert_eq!(
            incoming.media,
            Some(MediaRef {
                id: "1003383421387256".into(),
                mime_type: Some("image/jpeg".into()),
                filename: "image-1003383421387256.jpg".into()
            })
        );
    }

    #[test]
    fn a_location_a_contact_card_and_a_reaction_read_as_text_with_details() {
        let got = read(with_message(json!({
            "from": "16505551234", "id": "wamid.loc", "type": "location",
            "location": {"latitude": 37.483307, "longitude": 122.148981, "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto"}
        })));
        let message = &got.incoming[0].message;
        assert_eq!(
            message.text,
            "Location: Philz Coffee, 101 Forest Ave, Palo Alto, (37.483307, 122.148981)"
        );
        assert_eq!(
            message.meta.as_ref().unwrap()["whatsapp"]["location"]["latitude"],
            37.483307
        );

        let got = read(with_message(json!({
            "from": "16505551234", "id": "wamid.card", "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara"},
                          "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME", "wa_id": "19405551234"}],
                          "emails": [{"email": "bjohnson@example.com", "type": "WORK"}]}]
        })));
        let text = &got.incoming[0].message.text;
        assert!(
            text.starts_with("BEGIN:VCARD\nVERSION:3.0\nFN:Barbara J. Johnson\n"),
            "{text}"
        );
        assert!(
            text.contains("TEL;TYPE=HOME:+1 (940) 555-1234")
                && text.contains("EMAIL:bjohnson@example.com"),
            "{text}"
        );

        let got = read(with_message(json!({
            "from": "16505551234", "id": "wamid.react", "type": "reaction",
            "reaction": {"message_id": "wamid.ours", "emoji": "\u{1F44D}"}
        })));
        let message = &got.incoming[0].message;
        assert_eq!(message.text, "Reacted \u{1F44D}");
        assert_eq!(message.references, ["wamid.ours"]);
        assert_eq!(
            message.meta.as_ref().unwrap()["whatsapp"]["reaction"]["removed"],
            false
        );
    }

    #[test]
    fn an_interactive_reply_reads_as_its_title_and_answers_its_context() {
        let got = read(with_message(json!({
            "context": {"from": "15550783881", "id": "wamid.menu"},
            "from": "16505551234", "id": "wamid.tap", "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "priority_express", "title": "Express shipping", "description": "Next day"}}
        })));
        let message = &got.incoming[0].message;
        assert_eq!(message.text, "Express shipping");
        assert_eq!(message.references, ["wamid.menu"]);
        assert_eq!(
            message.meta.as_ref().unwrap()["whatsapp"]["interactive"]["id"],
            "priority_express"
        );
    }

    #[test]
    fn statuses_move_our_messages_and_carry_metas_words_when_failed() {
        let got = read(json!({
            "metadata": {"phone_number_id": "106540352242922"},
            "statuses": [
                {"id": "wamid.out1", "status": "delivered", "timestamp": "1750263773", "recipient_id": "16505551234"},
                {"id": "wamid.out2", "status": "failed", "recipient_id": "16505551234",
                 "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                             "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]},
                {"id": "wamid.out3", "status": "deleted"}
            ]
        }));
        assert_eq!(got.statuses.len(), 2);
        assert_eq!(got.statuses[0].status, ProviderStatus::Delivered);
        assert_eq!(got.statuses[1].status, ProviderStatus::Failed);
        assert!(got.statuses[1]
            .error
            .as_deref()
            .unwrap()
            .starts_with("WhatsApp error 131047: Message failed"));
    }

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(clamp("héllo".into(), 2), "h");
        assert_eq!(clamp("abc".into(), 5), "abc");
        assert_eq!(clamp("a\0b".into(), 5), "ab");
    }
}
