//! The `messages` webhook's JSON as Meta documents it: `entry[].changes[].value` with the
//! business number's `metadata`, the senders' `contacts`, customer `messages` and the `statuses`
//! of messages the business sent. Every part a field can lack is optional or defaulted, so a
//! payload with a kind of message the hub does not know still reads (and is kept as such).

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct WebhookPayload {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account's id.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: ChangeValue,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub phone_number_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Contact {
    pub profile: Option<Profile>,
    #[serde(default)]
    pub wa_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub id: String,
    /// Unix seconds, as a string: when the customer sent it.
    pub timestamp: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub context: Option<Context>,
    pub text: Option<Text>,
    pub image: Option<Media>,
    pub audio: Option<Media>,
    pub video: Option<Media>,
    pub document: Option<Media>,
    pub sticker: Option<Media>,
    pub location: Option<Location>,
    /// Shared contact cards, kept as Meta sent them (their shape has many optional parts).
    pub contacts: Option<Vec<serde_json::Value>>,
    pub reaction: Option<Reaction>,
    pub interactive: Option<Interactive>,
    /// A tap on a template's quick-reply button.
    pub button: Option<Button>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Context {
    /// The message this one answers.
    pub id: Option<String>,
    pub from: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Media {
    #[serde(default)]
    pub id: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    pub caption: Option<String>,
    /// Documents only.
    pub filename: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Location {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Reaction {
    #[serde(default)]
    pub message_id: String,
    /// Absent when the customer took their reaction back.
    pub emoji: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Interactive {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub button_reply: Option<Choice>,
    pub list_reply: Option<Choice>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Button {
    #[serde(default)]
    pub text: String,
    pub payload: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Status {
    /// The wamid our send answered.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    pub timestamp: Option<String>,
    pub recipient_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusError {
    #[serde(default)]
    pub code: i64,
    pub title: Option<String>,
    pub message: Option<String>,
    pub error_data: Option<ErrorData>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorData {
    pub details: Option<String>,
}
