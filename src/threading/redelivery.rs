//! One external id, several messages: telling the same message delivered again from a different
//! message that reuses a stored one's id (old mail clients write one Message-ID on every mail),
//! and which of the messages sharing an id a reply that names it answers. Pure decisions; the
//! store's SQL (store/redelivery_sql.rs) looks the rows up and applies them.

use crate::domain::Id;

/// A stored message under the external id an arriving message carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: Id,
    pub content_key: Option<String>,
}

/// What an arriving message is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A message already stored, delivered again: nothing new is stored.
    Again(Id),
    /// A message of its own, to be stored under `external_id`. `shares` is the external id it
    /// came with when that id already names a different message.
    New {
        external_id: String,
        shares: Option<String>,
    },
}

/// The id a different message under a reused `external_id` is stored under: the id with the
/// message's content key after it, the same for every delivery of that message.
pub fn variant_id(external_id: &str, content_key: &str) -> String {
    format!("{external_id}#{content_key}")
}

/// Whether the message stored under the plain id is another message than the arriving one,
/// which then goes under [`variant_id`]. Only two known, different keys make it another: a
/// message stored before content keys were kept (or from a channel without them) is taken for
/// the same message, as it always was, so re-reading an old mailbox never duplicates it.
pub fn is_other(plain: &Stored, content_key: Option<&str>) -> bool {
    matches!((plain.content_key.as_deref(), content_key), (Some(stored), Some(arriving)) if stored != arriving)
}

/// `plain`: what is stored under the external id itself; `variant`: what is stored under the
/// message's [`variant_id`] (looked up only when `plain` [`is_other`]).
pub fn arrival(
    external_id: &str,
    content_key: Option<&str>,
    plain: Option<&Stored>,
    variant: Option<Id>,
) -> Arrival {
    match (plain, content_key) {
        (None, _) => Arrival::New {
            external_id: external_id.to_string(),
            shares: None,
        },
        (Some(stored), Some(key)) if is_other(stored, Some(key)) => match variant {
            Some(id) => Arrival::Again(id),
            None => Arrival::New {
                external_id: variant_id(external_id, key),
                shares: Some(external_id.to_string()),
            },
        },
        (Some(stored), _) => Arrival::Again(stored.id),
    }
}

/// A stored message that carries an id a reply references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referenced {
    pub message_id: Id,
    pub conversation_id: Id,
    /// The contact whose conversation that is.
    pub contact_id: Id,
    pub thread_key: Option<String>,
}

/// The conversation a reply joins when the id it references is carried by `candidates`.
///
/// The id alone cannot say which of several messages sharing it was answered, so the rule
/// looks at what else the reply carries: the conversation whose thread key (the subject
/// without its Re:/Fwd: prefixes) is the reply's wins, because a reply keeps the subject of
/// what it answers; without such a conversation the newest message wins, because people answer
/// the latest mail. With one candidate (an id used once) that one is the answer, as always.
///
/// Before all that, the sender's own conversations: someone who reuses another person's
/// Message-ID (with the same subject, even) must not draw that person's follow-ups into their
/// conversation, and so have the agents' answers mailed to them.
pub fn answered(
    candidates: &[Referenced],
    thread_key: Option<&str>,
    sender: Option<Id>,
) -> Option<Id> {
    let newest = |pick: &dyn Fn(&Referenced) -> bool| {
        candidates
            .iter()
            .filter(|c| pick(c))
            .max_by_key(|c| c.message_id)
            .map(|c| c.conversation_id)
    };
    let same_thread =
        |c: &Referenced| thread_key.is_some() && c.thread_key.as_deref() == thread_key;
    let own = |c: &Referenced| Some(c.contact_id) == sender;
    newest(&|c| own(c) && same_thread(c))
        .or_else(|| newest(&own))
        .or_else(|| newest(&same_thread))
        .or_else(|| newest(&|_| true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: Id, key: Option<&str>) -> Stored {
        Stored {
            id,
            content_key: key.map(str::to_string),
        }
    }

    #[test]
    fn a_new_external_id_is_stored_under_itself() {
        assert_eq!(
            arrival("m@x", Some("k1"), None, None),
            Arrival::New {
                external_id: "m@x".into(),
                shares: None
            }
        );
    }

    #[test]
    fn the_same_message_again_is_the_stored_one() {
        assert_eq!(
            arrival("m@x", Some("k1"), Some(&stored(7, Some("k1"))), None),
            Arrival::Again(7)
        );
        // No key on either side: the external id alone decides, as before content keys.
        assert_eq!(
            arrival("m@x", None, Some(&stored(7, Some("k1"))), None),
            Arrival::Again(7)
        );
        assert_eq!(
            arrival("m@x", Some("k2"), Some(&stored(7, None)), None),
            Arrival::Again(7)
        );
    }

    #[test]
    fn a_different_message_under_a_reused_id_is_stored_beside_it_once() {
        let plain = stored(7, Some("k1"));
        assert_eq!(
            arrival("m@x", Some("k2"), Some(&plain), None),
            Arrival::New {
                external_id: "m@x#k2".into(),
                shares: Some("m@x".into())
            }
        );
        assert_eq!(
            arrival("m@x", Some("k2"), Some(&plain), Some(9)),
            Arrival::Again(9)
        );
    }

    fn referenced(message_id: Id, conversation_id: Id, key: &str) -> Referenced {
        Referenced {
            message_id,
            conversation_id,
            contact_id: conversation_id + 1,
            thread_key: Some(key.into()),
        }
    }

    #[test]
    fn a_reply_joins_the_conversation_of_the_mail_it_answers() {
        let sharing = [
            referenced(1, 10, "email:printer offline"),
            referenced(2, 20, "email:toner order"),
            referenced(3, 30, "email:thanks"),
        ];
        assert_eq!(
            answered(&sharing, Some("email:toner order"), None),
            Some(20)
        );
        assert_eq!(
            answered(&sharing, Some("email:printer offline"), None),
            Some(10)
        );
        // A new subject says nothing: the latest mail is what was answered.
        assert_eq!(
            answered(&sharing, Some("email:something else"), None),
            Some(30)
        );
        assert_eq!(answered(&sharing, None, None), Some(30));
        assert_eq!(answered(&sharing[..1], Some("email:other"), None), Some(10));
        assert_eq!(answered(&[], Some("email:x"), None), None);
    }

    #[test]
    fn a_follow_up_stays_with_its_sender_when_someone_else_reused_the_id() {
        // The victim's mail (conversation 10, contact 11), then an attacker's mail under the same
        // Message-ID and subject (conversation 20, contact 21).
        let sharing = [
            referenced(1, 10, "email:my order"),
            referenced(2, 20, "email:my order"),
        ];
        assert_eq!(
            answered(&sharing, Some("email:my order"), Some(11)),
            Some(10)
        );
        assert_eq!(
            answered(&sharing, Some("email:my order"), Some(21)),
            Some(20)
        );
        // A colleague (another contact) still goes by subject, then by the latest.
        assert_eq!(
            answered(&sharing, Some("email:my order"), Some(99)),
            Some(20)
        );
        assert_eq!(answered(&sharing, Some("email:other"), Some(11)), Some(10));
    }
}
