//! Meta's Messenger Platform, as Facebook Messenger and Instagram Messaging share it: the
//! webhook's `entry[].messaging[]` events read into what the hub acts on (a customer's message,
//! an echo of the page's own, a delivery, a read), the reply window and its human-agent tag,
//! and the Send API (`POST /{page_id}/messages`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::graph::{Graph, GraphError};

/// One webhook call's body: `{"object": "page" | "instagram", "entry": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// What one page (or Instagram professional account) got: `id` is that page's or account's id.
#[derive(Debug, Deserialize)]
pub struct Entry {
    pub id: String,
    #[serde(default)]
    pub messaging: Vec<Messaging>,
}

#[derive(Debug, Deserialize)]
pub struct Party {
    pub id: String,
}

/// One `messaging[]` item: who, when, and one of the event bodies.
#[derive(Debug, Deserialize)]
pub struct Messaging {
    pub sender: Party,
    pub recipient: Party,
    #[serde(default)]
    pub timestamp: i64,
    message: Option<RawMessage>,
    delivery: Option<RawDelivery>,
    read: Option<RawRead>,
}

#[derive(Debug, Deserialize)]
struct RawMessage {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    is_deleted: bool,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
    quick_reply: Option<RawQuickReply>,
    reply_to: Option<RawReplyTo>,
}

#[derive(Debug, Deserialize)]
struct RawAttachment {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<RawPayload>,
}

#[derive(Debug, Deserialize)]
struct RawPayload {
    url: Option<String>,
    /// Instagram `story_mention` attachments name the story too.
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawQuickReply {
    payload: String,
}

#[derive(Debug, Deserialize)]
struct RawReplyTo {
    mid: Option<String>,
    story: Option<RawStory>,
}

#[derive(Debug, Deserialize)]
struct RawStory {
    url: Option<String>,
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawDelivery {
    #[serde(default)]
    mids: Vec<String>,
    #[serde(default)]
    watermark: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RawRead {
    watermark: Option<i64>,
    /// Instagram's `messaging_seen` names the message read.
    mid: Option<String>,
}

/// What a `messaging[]` item means to the hub.
#[derive(Debug, PartialEq)]
pub enum MessagingEvent {
    /// The customer wrote.
    Customer(CustomerMessage),
    /// A copy of a message the page itself sent (from the hub, or from Meta's own inbox by
    /// someone outside the hub): never a customer's message.
    Echo { mid: String },
    /// The customer's device has these messages (`mids`; older clients send only the
    /// watermark: every message up to it).
    Delivered {
        mids: Vec<String>,
        watermark: Option<i64>,
    },
    /// The customer read the page's messages: every one up to `watermark` (Messenger), or the
    /// one named (Instagram's `messaging_seen`).
    Read(ReadMark),
    /// Something the hub does not act on (a postback, a reaction, an unsent message…).
    Ignored(&'static str),
}

#[derive(Debug, PartialEq, Eq)]
pub enum ReadMark {
    Watermark(i64),
    Message(String),
}

/// A customer's message as the hub keeps it.
#[derive(Debug, Default, PartialEq)]
pub struct CustomerMessage {
    pub mid: String,
    /// The customer's page-scoped id (PSID) or Instagram-scoped id (IGSID).
    pub from: String,
    pub text: String,
    /// Files Meta holds (image, video, audio, file) at their `payload.url`, to fetch now.
    pub media: Vec<Media>,
    /// What is only linked, never fetched (shared posts, reels, fallbacks, stickers); an
    /// Instagram story's media must not be stored at all.
    pub links: Vec<Link>,
    /// The payload of the quick-reply button the customer tapped.
    pub quick_reply: Option<String>,
    /// The Instagram story this message mentions or answers.
    pub story: Option<Story>,
    /// The message this one answers (a swipe-reply), by its mid.
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Meta's attachment type: `image`, `video`, `audio` or `file`.
    pub kind: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub kind: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub kind: StoryKind,
    pub url: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoryKind {
    /// The customer mentioned the account in their story.
    Mention,
    /// The customer answered one of the account's stories.
    Reply,
}

impl StoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoryKind::Mention => "story_mention",
            StoryKind::Reply => "story_reply",
        }
    }
}

impl Messaging {
    /// What this item means, seen from the page or account `own_id`.
    pub fn event(&self, own_id: &str) -> MessagingEvent {
        if let Some(message) = &self.message {
            // Instagram sends the account's own messages under `messages` too, with `is_echo`;
            // an item sent *by* the page is an echo whatever its flag says.
            if message.is_echo || self.sender.id == own_id {
                return MessagingEvent::Echo {
                    mid: message.mid.clone(),
                };
            }
            if message.is_deleted {
                return MessagingEvent::Ignored("an unsent message");
            }
            return MessagingEvent::Customer(self.customer_message(message));
        }
        if let Some(delivery) = &self.delivery {
            return MessagingEvent::Delivered {
                mids: delivery.mids.clone(),
                watermark: delivery.watermark,
            };
        }
        if let Some(read) = &self.read {
            return match (&read.mid, read.watermark) {
                (Some(mid), _) => MessagingEvent::Read(ReadMark::Message(mid.clone())),
                (None, Some(watermark)) => MessagingEvent::Read(ReadMark::Watermark(watermark)),
                (None, None) => MessagingEvent::Ignored("a read receipt naming nothing"),
            };
        }
        MessagingEvent::Ignored("an event the hub does not keep")
    }

    fn customer_message(&self, message: &RawMessage) -> CustomerMessage {
        let mut out = CustomerMessage {
            mid: message.mid.clone(),
            from: self.sender.id.clone(),
            text: message.text.clone().unwrap_or_default(),
            quick_reply: message.quick_reply.as_ref().map(|q| q.payload.clone()),
            reply_to: message.reply_to.as_ref().and_then(|r| r.mid.clone()),
            ..Default::default()
        };
        if let Some(story) = message.reply_to.as_ref().and_then(|r| r.story.as_ref()) {
            out.story = Some(Story {
                kind: StoryKind::Reply,
                url: story.url.clone(),
                id: story.id.clone(),
            });
        }
        for attachment in &message.attachments {
            let url = attachment.payload.as_ref().and_then(|p| p.url.clone());
            match (attachment.kind.as_str(), url) {
                ("story_mention", url) => {
                    out.story = Some(Story {
                        kind: StoryKind::Mention,
                        url,
                        id: attachment.payload.as_ref().and_then(|p| p.id.clone()),
                    });
                }
                ("image" | "video" | "audio" | "file", Some(url)) => out.media.push(Media {
                    kind: attachment.kind.clone(),
                    url,
                }),
                (kind, Some(url)) => out.links.push(Link {
                    kind: kind.to_string(),
                    url,
                }),
                (_, None) => {}
            }
        }
        out
    }
}

/// Reads a webhook body (already signature-checked).
pub fn parse(body: &[u8]) -> Result<Notification, serde_json::Error> {
    serde_json::from_slice(body)
}

/// How long after the customer's last message the page may still answer: freely within 24
/// hours (`RESPONSE`), with the `HUMAN_AGENT` tag within 7 days (Messenger and Instagram both
/// allow it for a person's reply), and not at all after that.
pub const STANDARD_WINDOW: Duration = Duration::from_secs(24 * 3600);
pub const HUMAN_AGENT_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a reply may go out, by the time since the customer last wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyWindow {
    /// `messaging_type: RESPONSE`.
    Open,
    /// `messaging_type: MESSAGE_TAG`, `tag: HUMAN_AGENT`.
    HumanAgent,
    /// No message may be sent until the customer writes again.
    Closed,
}

impl ReplyWindow {
    /// `since_customer` is `None` when the customer never wrote: nothing may be sent.
    pub fn after(since_customer: Option<Duration>) -> ReplyWindow {
        match since_customer {
            Some(d) if d < STANDARD_WINDOW => ReplyWindow::Open,
            Some(d) if d < HUMAN_AGENT_WINDOW => ReplyWindow::HumanAgent,
            _ => ReplyWindow::Closed,
        }
    }
}

/// The longest text one Send API message takes: Messenger counts characters, Instagram bytes.
pub const MESSENGER_MAX_TEXT_CHARS: usize = 2000;
pub const INSTAGRAM_MAX_TEXT_BYTES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Graph(#[from] GraphError),
    /// The reply window has closed: Meta would refuse, so nothing is sent.
    #[error("the customer last wrote more than 7 days ago (or never): Meta allows no reply until they write again")]
    WindowClosed,
    #[error("the Send API answered without a message_id")]
    NoMessageId,
}

/// The Send API of one page: `POST /{page_id}/messages` with the page access token.
pub struct SendApi {
    graph: Graph,
    page_id: String,
    token: String,
}

impl SendApi {
    pub fn new(graph: Graph, page_id: String, token: String) -> SendApi {
        SendApi {
            graph,
            page_id,
            token,
        }
    }

    /// Sends `text` to `recipient` (a PSID or IGSID) as the window allows, answering Meta's
    /// `message_id`.
    pub async fn send_text(
        &self,
        recipient: &str,
        text: &str,
        window: ReplyWindow,
    ) -> Result<String, SendError> {
        let mut body = json!({
            "recipient": {"id": recipient},
            "message": {"text": text},
        });
        match window {
            ReplyWindow::Open => body["messaging_type"] = json!("RESPONSE"),
            ReplyWindow::HumanAgent => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!("HUMAN_AGENT");
            }
            ReplyWindow::Closed => return Err(SendError::WindowClosed),
        }
        let answer = self
            .graph
            .post(&self.token, &format!("{}/messages", self.page_id), &body)
            .await?;
        answer["message_id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or(SendError::NoMessageId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value, own: &str) -> MessagingEvent {
        let item: Messaging = serde_json::from_value(json).unwrap();
        item.event(own)
    }

    #[test]
    fn a_text_with_a_quick_reply_is_the_customers() {
        let got = event(
            json!({"sender": {"id": "PSID-1"}, "recipient": {"id": "PAGE"}, "timestamp": 1,
                   "message": {"mid": "m_1", "text": "Red", "quick_reply": {"payload": "COLOR_RED"}}}),
            "PAGE",
        );
        assert_eq!(
            got,
            MessagingEvent::Customer(CustomerMessage {
                mid: "m_1".into(),
                from: "PSID-1".into(),
                text: "Red".into(),
                quick_reply: Some("COLOR_RED".into()),
                ..Default::default()
            })
        );
    }

    #[test]
    fn echoes_are_never_customer_messages() {
        let flagged = json!({"sender": {"id": "PAGE"}, "recipient": {"id": "PSID-1"},
            "message": {"mid": "m_2", "is_echo": true, "app_id": 1517776481860111_i64, "text": "hi"}});
        assert_eq!(
            event(flagged, "PAGE"),
            MessagingEvent::Echo { mid: "m_2".into() }
        );
        let unflagged = json!({"sender": {"id": "IGID"}, "recipient": {"id": "IGSID"},
            "message": {"mid": "m_3", "text": "hi"}});
        assert!(matches!(
            event(unflagged, "IGID"),
            MessagingEvent::Echo { .. }
        ));
    }

    #[test]
    fn media_is_fetched_but_stories_and_shares_are_only_linked() {
        let got = event(
            json!({"sender": {"id": "IGSID"}, "recipient": {"id": "IGID"},
                "message": {"mid": "m_4", "attachments": [
                    {"type": "image", "payload": {"url": "https://cdn/img.jpg"}},
                    {"type": "story_mention", "payload": {"url": "https://cdn/story", "id": "st1"}},
                    {"type": "share", "payload": {"url": "https://ig/p/1"}}]}}),
            "IGID",
        );
        let MessagingEvent::Customer(m) = got else {
            panic!("{got:?}")
        };
        assert_eq!(m.media.len(), 1);
        assert_eq!(m.media[0].url, "https://cdn/img.jpg");
        assert_eq!(m.links[0].kind, "share");
        let story = m.story.unwrap();
        assert_eq!(story.kind, StoryKind::Mention);
        assert_eq!(story.url.as_deref(), Some("https://cdn/story"));
    }

    #[test]
    fn deliveries_and_reads_are_told_apart() {
        assert_eq!(
            event(
                json!({"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"},
                       "delivery": {"mids": ["m_9"], "watermark": 1458668856253_i64}}),
                "PAGE"
            ),
            MessagingEvent::Delivered {
                mids: vec!["m_9".into()],
                watermark: Some(1458668856253)
            }
        );
        assert_eq!(
            event(
                json!({"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"},
                       "read": {"watermark": 1458668856253_i64}}),
                "PAGE"
            ),
            MessagingEvent::Read(ReadMark::Watermark(1458668856253))
        );
        assert_eq!(
            event(
                json!({"sender": {"id": "IGSID"}, "recipient": {"id": "IGID"},
                       "read": {"mid": "m_7"}}),
                "IGID"
            ),
            MessagingEvent::Read(ReadMark::Message("m_7".into()))
        );
        assert!(matches!(
            event(
                json!({"sender": {"id": "PSID"}, "recipient": {"id": "PAGE"},
                       "postback": {"title": "Start", "payload": "GET_STARTED"}}),
                "PAGE"
            ),
            MessagingEvent::Ignored(_)
        ));
    }

    #[test]
    fn the_reply_window_opens_a_day_then_a_week_with_the_human_agent_tag() {
        let hours = |h: u64| Some(Duration::from_secs(h * 3600));
        assert_eq!(ReplyWindow::after(hours(0)), ReplyWindow::Open);
        assert_eq!(ReplyWindow::after(hours(23)), ReplyWindow::Open);
        assert_eq!(ReplyWindow::after(hours(24)), ReplyWindow::HumanAgent);
        assert_eq!(
            ReplyWindow::after(hours(7 * 24 - 1)),
            ReplyWindow::HumanAgent
        );
        assert_eq!(ReplyWindow::after(hours(7 * 24)), ReplyWindow::Closed);
        assert_eq!(ReplyWindow::after(None), ReplyWindow::Closed);
    }
}
