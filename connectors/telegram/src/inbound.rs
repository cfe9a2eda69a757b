//! An update as the hub stores it: which chat (the contact), what was said, the files to fetch,
//! and the external id that makes a re-delivered update the same message.

use serde_json::json;
use switchboard_connector_core::{Identity, InboundMessage, InboundSender};

use crate::api::{Message, Update};

/// A file a message carries, to be fetched with `getFile` and the file URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRef {
    pub file_id: String,
    pub filename: String,
    /// What Telegram says it is (photos are always JPEG); `None` lets the download say.
    pub content_type: Option<String>,
    pub size: Option<u64>,
}

/// One update's message, ready for ingest once its files are fetched.
#[derive(Clone, Debug, PartialEq)]
pub struct TelegramInbound {
    pub message: InboundMessage,
    pub files: Vec<FileRef>,
}

/// The message an update carries, or `None` for updates with nothing a customer said (service
/// messages such as "joined the group", and update kinds the hub does not ask for).
///
/// An edit is stored as a message of its own, marked `edited` in its meta and naming the
/// message it edits: the store has no door to change a message's text, and agents should see
/// what the customer first wrote as well as the correction. Its external id carries the edit's
/// time, so each distinct edit is stored once however often it is delivered.
pub fn read_update(update: &Update) -> Option<TelegramInbound> {
    let (message, edited) = match (&update.message, &update.edited_message) {
        (Some(m), _) => (m, false),
        (None, Some(m)) => (m, true),
        (None, None) => return None,
    };
    let files = files_of(message);
    let words = message
        .text
        .clone()
        .or_else(|| message.caption.clone())
        .unwrap_or_default();
    let text = if words.trim().is_empty() && files.is_empty() {
        describe_other_content(message)?
    } else {
        words
    };
    let chat_id = message.chat.id.to_string();
    let original_id = format!("{chat_id}:{}", message.message_id);
    let external_id = match (edited, message.edit_date) {
        (true, Some(at)) => format!("{original_id}:edited:{at}"),
        (true, None) => format!("{original_id}:edited"),
        (false, _) => original_id.clone(),
    };
    let mut meta = json!({
        "telegram": {
            "chat_id": message.chat.id,
            "chat_type": message.chat.kind,
            "message_id": message.message_id,
            "username": message.from.as_ref().and_then(|u| u.username.clone())
                .or_else(|| message.chat.username.clone()),
        }
    });
    if edited {
        meta["edited"] = json!(true);
        meta["edit_of"] = json!(original_id);
    }
    Some(TelegramInbound {
        message: InboundMessage {
            external_id,
            sender: InboundSender {
                identities: vec![Identity::new(crate::IDENTITY_NAMESPACE, chat_id.clone())],
                name: sender_name(message),
                ..Default::default()
            },
            text,
            // A chat is one thread: its messages join one conversation while it is open.
            thread_key: Some(format!("telegram:{chat_id}")),
            meta: Some(meta),
            ..Default::default()
        },
        files,
    })
}

/// The person's name as Telegram shows it ("Ana Lima"), or the group's title.
fn sender_name(message: &Message) -> Option<String> {
    let person = message
        .from
        .as_ref()
        .filter(|u| !u.is_bot)
        .map(|u| match &u.last_name {
            Some(last) => format!("{} {last}", u.first_name),
            None => u.first_name.clone(),
        });
    person
        .or_else(|| message.chat.title.clone())
        .or_else(|| message.chat.first_name.clone())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
}

fn files_of(message: &Message) -> Vec<FileRef> {
    let mut files = Vec::new();
    // Telegram sends every size of a photo; the largest is the one worth keeping.
    if let Some(largest) = message
        .photo
        .iter()
        .flatten()
        .max_by_key(|p| u64::from(p.width) * u64::from(p.height))
    {
        files.push(FileRef {
            file_id: largest.file_id.clone(),
            filename: format!("photo-{}.jpg", largest.file_unique_id),
            content_type: Some("image/jpeg".into()),
            size: largest.file_size,
        });
    }
    let named = [
        (&message.document, "document", None),
        (&message.audio, "audio", None),
        (&message.voice, "voice", Some("ogg")),
        (&message.video, "video", Some("mp4")),
        (&message.video_note, "video-note", Some("mp4")),
        (&message.animation, "animation", Some("mp4")),
        (&message.sticker, "sticker", Some("webp")),
    ];
    for (file, what, extension) in named {
        let Some(file) = file else { continue };
        let filename = file.file_name.clone().unwrap_or_else(|| match extension {
            Some(ext) => format!("{what}-{}.{ext}", file.file_unique_id),
            None => format!("{what}-{}", file.file_unique_id),
        });
        files.push(FileRef {
            file_id: file.file_id.clone(),
            filename,
            content_type: file.mime_type.clone(),
            size: file.file_size,
        });
    }
    files
}

/// Words for what a customer sent that is neither text nor a file, so that it is not lost.
fn describe_other_content(message: &Message) -> Option<String> {
    if let Some(at) = &message.location {
        return Some(format!("[location: {}, {}]", at.latitude, at.longitude));
    }
    if let Some(contact) = &message.contact {
        let name = match &contact.last_name {
            Some(last) => format!("{} {last}", contact.first_name),
            None => contact.first_name.clone(),
        };
        return Some(format!("[contact: {name}, {}]", contact.phone_number));
    }
    let other = [
        (message.poll.is_some(), "[a poll]"),
        (message.venue.is_some(), "[a venue]"),
        (message.dice.is_some(), "[a dice roll]"),
    ];
    other
        .into_iter()
        .find(|(present, _)| *present)
        .map(|(_, words)| words.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(value: serde_json::Value) -> Update {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_private_text_message_names_its_chat_and_sender() {
        let read = read_update(&update(json!({
            "update_id": 10000,
            "message": {
                "message_id": 1365, "date": 1441645532,
                "from": {"id": 1111111, "is_bot": false, "first_name": "Ana", "last_name": "Lima", "username": "ana"},
                "chat": {"id": 1111111, "type": "private", "first_name": "Ana"},
                "text": "/start"
            }
        })))
        .unwrap();
        assert_eq!(read.message.external_id, "1111111:1365");
        assert_eq!(read.message.text, "/start");
        assert_eq!(read.message.sender.name.as_deref(), Some("Ana Lima"));
        assert_eq!(
            read.message.sender.identities,
            [Identity::new("telegram", "1111111")]
        );
        assert!(read.files.is_empty());
    }

    #[test]
    fn a_photo_keeps_its_largest_size_and_caption() {
        let read = read_update(&update(json!({
            "update_id": 2,
            "message": {
                "message_id": 7, "date": 1, "chat": {"id": -100, "type": "group", "title": "Shop"},
                "caption": "broken on arrival",
                "photo": [
                    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1000},
                    {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 90000},
                    {"file_id": "mid", "file_unique_id": "m", "width": 320, "height": 240}
                ]
            }
        })))
        .unwrap();
        assert_eq!(read.message.text, "broken on arrival");
        assert_eq!(read.message.sender.name.as_deref(), Some("Shop"));
        assert_eq!(read.files.len(), 1);
        assert_eq!(read.files[0].file_id, "big");
        assert_eq!(read.files[0].content_type.as_deref(), Some("image/jpeg"));
    }

    #[test]
    fn an_edit_is_a_message_of_its_own_marked_edited() {
        let read = read_update(&update(json!({
            "update_id": 3,
            "edited_message": {
                "message_id": 7, "date": 1, "edit_date": 99, "chat": {"id": 5, "type": "private"},
                "text": "fixed typo"
            }
        })))
        .unwrap();
        assert_eq!(read.message.external_id, "5:7:edited:99");
        let meta = read.message.meta.unwrap();
        assert_eq!(meta["edited"], true);
        assert_eq!(meta["edit_of"], "5:7");
    }

    #[test]
    fn a_location_is_kept_in_words_and_a_service_message_is_nothing() {
        let read = read_update(&update(json!({
            "update_id": 4,
            "message": {"message_id": 8, "date": 1, "chat": {"id": 5, "type": "private"},
                        "location": {"latitude": 52.5, "longitude": 13.4}}
        })))
        .unwrap();
        assert_eq!(read.message.text, "[location: 52.5, 13.4]");
        let joined = update(json!({
            "update_id": 5,
            "message": {"message_id": 9, "date": 1, "chat": {"id": -5, "type": "group"},
                        "new_chat_members": [{"id": 1, "is_bot": false, "first_name": "B"}]}
        }));
        assert!(read_update(&joined).is_none());
        assert!(read_update(&update(json!({"update_id": 6}))).is_none());
    }
}
