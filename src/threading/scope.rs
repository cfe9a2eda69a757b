//! Replies in conversations that span channels: which inbox a reply goes out through, whether
//! an inbox an agent picks may carry it, and which of the contact's identities that inbox can
//! deliver to. Pure rules; the store loads what they look at.

use switchboard_connector_core::ChannelKind;

use crate::domain::{ConversationScope, Id};

/// The inbox a reply goes out through when the agent names none: the one the customer last
/// wrote through (they are reading there), else the conversation's own.
pub fn reply_inbox(conversation_inbox: Id, last_incoming: Option<Id>) -> Id {
    last_incoming.unwrap_or(conversation_inbox)
}

/// Whether an identity in `namespace` is one an inbox of `kind` delivers to. Channels key
/// people by their kind's name (`telegram`), by a namespace of their own under it
/// (`messenger:{page}`, and `api:{inbox}` for one API inbox only), or by a shared one:
/// `phone` for SMS and WhatsApp, `email` for email.
pub fn reaches(kind: ChannelKind, inbox_id: Id, namespace: &str) -> bool {
    let own = kind.as_str();
    if namespace == own {
        return true;
    }
    if let Some(rest) = namespace
        .strip_prefix(own)
        .and_then(|r| r.strip_prefix(':'))
    {
        // An API inbox's identifiers mean something only to its own integration.
        return kind != ChannelKind::Api || rest == inbox_id.to_string();
    }
    match kind {
        ChannelKind::Sms | ChannelKind::Whatsapp => namespace == "phone",
        ChannelKind::Email => namespace == "email",
        _ => false,
    }
}

/// What the store found about an inbox an agent asked a reply to go out through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PickedInbox {
    pub id: Id,
    pub kind: ChannelKind,
    pub scope: ConversationScope,
    /// The agent is a member of it (or sees every inbox).
    pub visible: bool,
    /// The contact has an identity it [`reaches`], or has written through it before.
    pub reaches_contact: bool,
}

/// Why a picked inbox cannot carry the reply: each is the agent's to fix, a 422.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ViaRefused {
    #[error("`via_inbox_id`: inbox {0} is not an inbox of this workspace")]
    Unknown(Id),
    #[error("`via_inbox_id`: this conversation's inbox keeps its conversations to itself (conversation_scope \"inbox\"): its replies go out through it")]
    ConversationNotShared,
    #[error("`via_inbox_id`: inbox {0} keeps its conversations to itself (conversation_scope \"inbox\")")]
    NotShared(Id),
    #[error("`via_inbox_id`: you are not a member of inbox {0}")]
    NotVisible(Id),
    #[error("`via_inbox_id`: the contact has no identity inbox {0} can deliver to")]
    NoIdentity(Id),
}

/// Whether `picked` (`None`: no such inbox in the workspace) may carry a reply in a
/// conversation of `conversation_inbox`, whose scope is `conversation_scope`. The conversation's
/// own inbox always may; another only when both share conversations by contact, the agent may
/// see it, and it can reach the contact.
pub fn check_via(
    conversation_inbox: Id,
    conversation_scope: ConversationScope,
    requested: Id,
    picked: Option<PickedInbox>,
) -> Result<(), ViaRefused> {
    let picked = picked.ok_or(ViaRefused::Unknown(requested))?;
    if !picked.visible {
        return Err(ViaRefused::NotVisible(picked.id));
    }
    if picked.id == conversation_inbox {
        return Ok(());
    }
    if conversation_scope != ConversationScope::Contact {
        return Err(ViaRefused::ConversationNotShared);
    }
    if picked.scope != ConversationScope::Contact {
        return Err(ViaRefused::NotShared(picked.id));
    }
    if !picked.reaches_contact {
        return Err(ViaRefused::NoIdentity(picked.id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whatsapp(id: Id) -> PickedInbox {
        PickedInbox {
            id,
            kind: ChannelKind::Whatsapp,
            scope: ConversationScope::Contact,
            visible: true,
            reaches_contact: true,
        }
    }

    #[test]
    fn a_reply_goes_where_the_customer_last_wrote() {
        assert_eq!(reply_inbox(1, Some(2)), 2);
        assert_eq!(reply_inbox(1, None), 1);
    }

    #[test]
    fn sms_and_whatsapp_deliver_to_phone_numbers_and_email_to_addresses() {
        assert!(reaches(ChannelKind::Sms, 3, "phone"));
        assert!(reaches(ChannelKind::Whatsapp, 3, "phone"));
        assert!(reaches(ChannelKind::Email, 3, "email"));
        assert!(!reaches(ChannelKind::Email, 3, "phone"));
        assert!(!reaches(ChannelKind::Telegram, 3, "phone"));
        assert!(reaches(ChannelKind::Telegram, 3, "telegram"));
        assert!(reaches(ChannelKind::Messenger, 3, "messenger:page-1"));
    }

    #[test]
    fn an_api_inbox_reaches_only_its_own_integrations_ids() {
        assert!(reaches(ChannelKind::Api, 3, "api:3"));
        assert!(!reaches(ChannelKind::Api, 3, "api:4"));
        assert!(!reaches(ChannelKind::Api, 3, "apiary"));
    }

    #[test]
    fn a_contact_scoped_inbox_that_reaches_the_contact_may_carry_the_reply() {
        assert_eq!(
            check_via(1, ConversationScope::Contact, 2, Some(whatsapp(2))),
            Ok(())
        );
    }

    #[test]
    fn the_conversations_own_inbox_always_may() {
        let own = PickedInbox {
            scope: ConversationScope::Inbox,
            reaches_contact: false,
            ..whatsapp(1)
        };
        assert_eq!(check_via(1, ConversationScope::Inbox, 1, Some(own)), Ok(()));
    }

    #[test]
    fn every_other_pick_is_refused_with_its_reason() {
        let refused = |scope, picked| check_via(1, scope, 2, picked).unwrap_err();
        let contact = ConversationScope::Contact;
        assert_eq!(refused(contact, None), ViaRefused::Unknown(2));
        assert_eq!(
            refused(ConversationScope::Inbox, Some(whatsapp(2))),
            ViaRefused::ConversationNotShared
        );
        let own_scope = PickedInbox {
            scope: ConversationScope::Inbox,
            ..whatsapp(2)
        };
        assert_eq!(refused(contact, Some(own_scope)), ViaRefused::NotShared(2));
        let hidden = PickedInbox {
            visible: false,
            ..whatsapp(2)
        };
        assert_eq!(refused(contact, Some(hidden)), ViaRefused::NotVisible(2));
        let strangers = PickedInbox {
            reaches_contact: false,
            ..whatsapp(2)
        };
        assert_eq!(refused(contact, Some(strangers)), ViaRefused::NoIdentity(2));
    }
}
