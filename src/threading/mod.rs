//! Which conversation an incoming message joins, and what joining does to it: pure rules over
//! what the store looked up, like `routing::decide`. The store loads a [`Snapshot`] inside the
//! ingest transaction, asks [`join`], and applies the [`Join`] in SQL in that same transaction.
//!
//! `redelivery` holds the rules for messages that share an external id: the same message
//! delivered again, another message reusing an id, and which of those a reply answers;
//! `replies` what an agent's emailed reply refers to so that it threads for the customer;
//! `scope` which inbox a reply in a conversation across channels goes out through.

pub mod redelivery;
pub mod replies;
pub mod scope;

use crate::domain::{ConversationScope, ConversationStatus, Id};

/// A conversation an arriving message could join, as the store found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub id: Id,
    pub status: ConversationStatus,
}

/// What the store knows about the conversations an arriving message could join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The conversation the message answers, in any status: one the channel proved (a signed
    /// reply address or marker) or the one of a stored message it references (In-Reply-To,
    /// References; see [`redelivery::answered`]).
    pub answered: Option<Found>,
    /// The contact's newest conversation in the inbox that is not resolved (of the message's
    /// thread key, when it has one). The store may leave it unlooked-up while `answered` is
    /// known, because [`join`] never looks at it then.
    pub open: Option<Found>,
    /// The contact's newest conversation that is not resolved in another contact-scoped inbox
    /// of the workspace. Looked up only when the arriving inbox is contact-scoped and nothing
    /// nearer (`answered`, `open`) was found.
    pub shared: Option<Found>,
    /// The arriving inbox's `conversation_scope`.
    pub scope: ConversationScope,
    /// Sent by a machine: an auto-reply, an out-of-office, or a bounce about nothing stored.
    pub automatic: bool,
}

/// Where an arriving message goes, and what that does to the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    /// Kept in this conversation, which stays as it is except for its last activity: an
    /// auto-reply wakes nobody, so it neither reopens the conversation nor makes it wait.
    Keep(Id),
    /// Joins this conversation, which becomes open and waits for an agent (its snooze ends).
    /// `reopened` when it was not open before: the change is told as an event.
    Wake { id: Id, reopened: bool },
    /// Starts a new open conversation, waiting for an agent.
    Start,
}

/// The conversation a message joins. The one it answers wins over the contact's open one:
/// replies keep their thread even from another address, and reopen it when it was resolved.
/// On a contact-scoped inbox, with neither of those, the contact's open conversation in
/// another contact-scoped inbox comes next: the person is one thread whichever channel they
/// use. A resolved conversation is joined only by a message that answers it; anything else
/// starts a new one (in the arriving inbox).
pub fn join(snapshot: &Snapshot) -> Join {
    let unresolved = |found: &Found| found.status != ConversationStatus::Resolved;
    let open = snapshot.open.filter(unresolved);
    let shared = match snapshot.scope {
        ConversationScope::Contact => snapshot.shared.filter(unresolved),
        ConversationScope::Inbox => None,
    };
    match snapshot.answered.or(open).or(shared) {
        None => Join::Start,
        Some(found) if snapshot.automatic => Join::Keep(found.id),
        Some(found) => Join::Wake {
            id: found.id,
            reopened: reopens(found.status),
        },
    }
}

/// Whether a customer's message changes a conversation's status: a snoozed or pending one needs
/// an agent now, a resolved one is asked again; only an open one stays as it is.
pub fn reopens(status: ConversationStatus) -> bool {
    status != ConversationStatus::Open
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const STATUSES: [ConversationStatus; 4] = [
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Snoozed,
        ConversationStatus::Resolved,
    ];

    fn found(id: Id, status: ConversationStatus) -> Option<Found> {
        Some(Found { id, status })
    }

    fn customer(answered: Option<Found>, open: Option<Found>) -> Snapshot {
        Snapshot {
            answered,
            open,
            shared: None,
            scope: ConversationScope::Inbox,
            automatic: false,
        }
    }

    /// A customer's message on a contact-scoped inbox, the contact having `shared` open in
    /// another one.
    fn across(open: Option<Found>, shared: Option<Found>) -> Snapshot {
        Snapshot {
            shared,
            scope: ConversationScope::Contact,
            ..customer(None, open)
        }
    }

    #[test]
    fn on_a_contact_scoped_inbox_a_message_joins_the_contacts_conversation_elsewhere() {
        assert_eq!(
            join(&across(None, found(9, ConversationStatus::Open))),
            Join::Wake {
                id: 9,
                reopened: false
            }
        );
        assert_eq!(
            join(&across(None, found(9, ConversationStatus::Snoozed))),
            Join::Wake {
                id: 9,
                reopened: true
            }
        );
    }

    #[test]
    fn an_inbox_scoped_inbox_never_joins_another_inboxs_conversation() {
        let own_inbox = Snapshot {
            scope: ConversationScope::Inbox,
            ..across(None, found(9, ConversationStatus::Open))
        };
        assert_eq!(join(&own_inbox), Join::Start);
    }

    #[test]
    fn the_contacts_open_conversation_in_the_same_inbox_comes_before_one_elsewhere() {
        assert_eq!(
            join(&across(
                found(7, ConversationStatus::Open),
                found(9, ConversationStatus::Open)
            )),
            Join::Wake {
                id: 7,
                reopened: false
            }
        );
    }

    #[test]
    fn a_resolved_conversation_elsewhere_is_not_joined() {
        assert_eq!(
            join(&across(None, found(9, ConversationStatus::Resolved))),
            Join::Start
        );
    }

    #[test]
    fn a_first_message_starts_a_conversation() {
        assert_eq!(join(&customer(None, None)), Join::Start);
    }

    #[test]
    fn a_message_joins_the_contacts_open_conversation() {
        assert_eq!(
            join(&customer(None, found(7, ConversationStatus::Open))),
            Join::Wake {
                id: 7,
                reopened: false
            }
        );
    }

    #[test]
    fn a_message_wakes_a_snoozed_or_pending_conversation() {
        for status in [ConversationStatus::Snoozed, ConversationStatus::Pending] {
            assert_eq!(
                join(&customer(None, found(7, status))),
                Join::Wake {
                    id: 7,
                    reopened: true
                }
            );
        }
    }

    #[test]
    fn a_reply_reopens_the_resolved_conversation_it_answers() {
        assert_eq!(
            join(&customer(
                found(3, ConversationStatus::Resolved),
                found(7, ConversationStatus::Open)
            )),
            Join::Wake {
                id: 3,
                reopened: true
            }
        );
    }

    #[test]
    fn a_new_message_after_resolution_starts_a_new_conversation() {
        assert_eq!(
            join(&customer(None, found(7, ConversationStatus::Resolved))),
            Join::Start
        );
    }

    #[test]
    fn an_auto_reply_is_kept_in_its_thread_without_reopening_it() {
        let out_of_office = Snapshot {
            automatic: true,
            ..customer(found(3, ConversationStatus::Resolved), None)
        };
        assert_eq!(join(&out_of_office), Join::Keep(3));
    }

    #[test]
    fn an_auto_reply_with_no_thread_starts_a_conversation() {
        let bounce = Snapshot {
            automatic: true,
            ..customer(None, None)
        };
        assert_eq!(join(&bounce), Join::Start);
    }

    fn any_found() -> impl Strategy<Value = Option<Found>> {
        proptest::option::of((1..100i64, 0..STATUSES.len()).prop_map(|(id, s)| Found {
            id,
            status: STATUSES[s],
        }))
    }

    fn any_snapshot() -> impl Strategy<Value = Snapshot> {
        (
            any_found(),
            any_found(),
            any_found(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(answered, open, shared, contact, automatic)| Snapshot {
                answered,
                open,
                shared,
                scope: if contact {
                    ConversationScope::Contact
                } else {
                    ConversationScope::Inbox
                },
                automatic,
            })
    }

    proptest! {
        #[test]
        fn the_answered_conversation_always_wins(s in any_snapshot()) {
            if let Some(answered) = s.answered {
                let joined = match join(&s) {
                    Join::Keep(id) | Join::Wake { id, .. } => Some(id),
                    Join::Start => None,
                };
                prop_assert_eq!(joined, Some(answered.id));
            }
        }

        #[test]
        fn an_auto_reply_never_changes_a_status(s in any_snapshot()) {
            let s = Snapshot { automatic: true, ..s };
            let woken = matches!(join(&s), Join::Wake { .. });
            prop_assert!(!woken, "an auto-reply woke a conversation");
        }

        #[test]
        fn a_resolved_conversation_is_joined_only_when_answered(s in any_snapshot()) {
            let s = Snapshot { shared: None, ..s };
            let joined = match join(&s) {
                Join::Keep(id) | Join::Wake { id, .. } => Some(id),
                Join::Start => None,
            };
            if let (Some(open), None) = (s.open, s.answered) {
                if open.status == ConversationStatus::Resolved {
                    prop_assert_eq!(joined, None);
                }
            }
        }

        #[test]
        fn a_wake_reopens_exactly_what_was_not_open(s in any_snapshot()) {
            if let Join::Wake { id, reopened } = join(&s) {
                let unresolved = |f: &Found| f.status != ConversationStatus::Resolved;
                let shared = s.shared.filter(|_| s.scope == ConversationScope::Contact);
                let from = s
                    .answered
                    .or(s.open.filter(unresolved))
                    .or(shared.filter(unresolved))
                    .expect("a woken conversation was found");
                prop_assert_eq!(from.id, id);
                prop_assert_eq!(reopened, from.status != ConversationStatus::Open);
            }
        }

        #[test]
        fn a_message_starts_a_conversation_only_when_none_is_joinable(s in any_snapshot()) {
            let unresolved = |f: Option<Found>| f.is_some_and(|o| o.status != ConversationStatus::Resolved);
            let joinable = s.answered.is_some()
                || unresolved(s.open)
                || (s.scope == ConversationScope::Contact && unresolved(s.shared));
            prop_assert_eq!(join(&s) == Join::Start, !joinable);
        }

        #[test]
        fn an_inbox_scoped_message_joins_only_its_own_inboxs_conversations(s in any_snapshot()) {
            let s = Snapshot { scope: ConversationScope::Inbox, ..s };
            let alone = Snapshot { shared: None, ..s };
            prop_assert_eq!(join(&s), join(&alone));
        }
    }
}
