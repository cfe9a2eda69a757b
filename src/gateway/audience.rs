//! Who may hear of an event: a console's audience (its user, whether an admin, the inboxes it is
//! a member of) against what the event says about itself (its inbox, a read marker's reader,
//! a contact outside any inbox).

use std::sync::Arc;

use crate::domain::{Event, EventKind, Id};

/// Who a socket may hear about.
#[derive(Clone, Debug)]
pub struct Audience {
    pub user_id: Id,
    pub admin: bool,
    pub inboxes: Arc<[Id]>,
}

/// A read marker without the user it belongs to: the event is heard by nobody rather than
/// guessed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq}: a conversation.read without a `user_id`")]
pub struct MissingReader {
    pub seq: i64,
}

/// The one user a read marker is for (`conversation.read` goes to its reader only); None for
/// every other kind of event.
pub fn reader_of(event: &Event) -> Result<Option<Id>, MissingReader> {
    if event.kind != EventKind::ConversationRead {
        return Ok(None);
    }
    event
        .payload
        .get("user_id")
        .and_then(|v| v.as_i64())
        .map(Some)
        .ok_or(MissingReader { seq: event.seq })
}

/// Whether only owners and admins may hear of this event: a contact made outside any inbox (by
/// hand, or a website visitor who has not written yet) is seen through no inbox an agent is a
/// member of, as GET /api/v1/contacts/{id} says too.
pub fn admins_only(event: &Event) -> bool {
    event.inbox_id.is_none() && event.kind == EventKind::ContactCreated
}

/// What deciding who may hear of an event needs, read from it once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visibility {
    pub inbox_id: Option<Id>,
    /// For `conversation.read`: the only user who may hear of it.
    pub reader: Option<Id>,
    /// Owners and admins only (see [`admins_only`]).
    pub admins_only: bool,
}

impl Visibility {
    /// None (heard by nobody, logged) when the event lacks what deciding needs.
    pub fn of(event: &Event) -> Option<Visibility> {
        match reader_of(event) {
            Ok(reader) => Some(Visibility {
                inbox_id: event.inbox_id,
                reader,
                admins_only: admins_only(event),
            }),
            Err(e) => {
                tracing::error!(error = %e, "event withheld from every console");
                None
            }
        }
    }
}

impl Audience {
    pub fn sees(&self, event: &Event) -> bool {
        Visibility::of(event).is_some_and(|v| self.sees_visibility(&v))
    }

    pub fn sees_visibility(&self, v: &Visibility) -> bool {
        (self.admin || !v.admins_only) && self.sees_parts(v.inbox_id, v.reader)
    }

    /// `sees` from what it depends on: the event's inbox, and for a read marker its reader.
    pub fn sees_parts(&self, inbox_id: Option<Id>, reader: Option<Id>) -> bool {
        if let Some(reader) = reader {
            return reader == self.user_id;
        }
        match inbox_id {
            None => true,
            Some(inbox) => self.admin || self.inboxes.contains(&inbox),
        }
    }

    pub(super) fn sees_inbox(&self, inbox: Id) -> bool {
        self.admin || self.inboxes.contains(&inbox)
    }
}
