//! The Bot API's objects, as far as the hub reads them (serde ignores the rest): `Update`,
//! `Message` and what a message carries, `File`, and the envelope every method answers in.

use serde::Deserialize;

/// One incoming update. At most one of the optional parts is present.
#[derive(Clone, Debug, Deserialize)]
pub struct Update {
    /// Increases by one per update: `getUpdates` confirms everything below the offset it is
    /// given, which is how polling resumes.
    pub update_id: i64,
    pub message: Option<Message>,
    pub edited_message: Option<Message>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Message {
    /// Unique inside its chat only.
    pub message_id: i64,
    pub date: i64,
    pub chat: Chat,
    pub from: Option<User>,
    /// Set on an `edited_message`: when it was last edited.
    pub edit_date: Option<i64>,
    pub text: Option<String>,
    /// The words under a photo, document, video…
    pub caption: Option<String>,
    /// The same photo in several sizes.
    pub photo: Option<Vec<PhotoSize>>,
    pub document: Option<MediaFile>,
    pub audio: Option<MediaFile>,
    pub voice: Option<MediaFile>,
    pub video: Option<MediaFile>,
    pub video_note: Option<MediaFile>,
    pub animation: Option<MediaFile>,
    pub sticker: Option<MediaFile>,
    pub location: Option<Location>,
    pub contact: Option<SharedContact>,
    pub poll: Option<serde_json::Value>,
    pub venue: Option<serde_json::Value>,
    pub dice: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_unique_id: String,
    pub width: u32,
    pub height: u32,
    pub file_size: Option<u64>,
}

/// A document, voice note, video, sticker…: the fields they share.
#[derive(Clone, Debug, Deserialize)]
pub struct MediaFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_size: Option<u64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SharedContact {
    pub phone_number: String,
    pub first_name: String,
    pub last_name: Option<String>,
}

/// What `getFile` answers: where the file can be downloaded for the next hour.
#[derive(Clone, Debug, Deserialize)]
pub struct File {
    pub file_id: String,
    pub file_size: Option<u64>,
    pub file_path: Option<String>,
}

/// What `sendMessage` answers, as far as the receipt needs it.
#[derive(Clone, Debug, Deserialize)]
pub struct SentMessage {
    pub message_id: i64,
    pub chat: SentChat,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SentChat {
    pub id: i64,
}

/// Every method's answer: `ok` with a `result`, or an `error_code` and `description`, and
/// for flood control `parameters.retry_after` (seconds; Telegram sends no Retry-After header).
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub ok: bool,
    pub result: Option<T>,
    pub error_code: Option<u16>,
    pub description: Option<String>,
    pub parameters: Option<ResponseParameters>,
}

#[derive(Debug, Deserialize)]
pub struct ResponseParameters {
    pub retry_after: Option<u64>,
    pub migrate_to_chat_id: Option<i64>,
}
