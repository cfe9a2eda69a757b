//! Ingest's SQL: a batch of inbound messages stored in one transaction, each conversation chosen
//! by `crate::threading`. Compiled once per engine (see sql.rs).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use switchboard_connector_core::{AttachmentSource, InboundMessage};

use super::contacts_sql::{
    contact_by_id, find_contact, touch_contacts, ContactTouch, KnownIdentities,
};
use super::conversations_sql::conversation_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::inboxes_sql::inbox_by_id;
use super::joining_sql::{snapshot, KeptConversations, OpenConversations};
use super::messages_sql::{
    insert_attachment, insert_messages, message_by_id, AttachmentRef, NewMessage,
};
use super::rows_sql::{ConversationRow, CONVERSATION_COLS};
use super::{redelivery_sql, Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{Engine, IngestOutcome, IngestRequest, IngestStore, Result, StoreError};
use crate::threading::redelivery::{self, Arrival};
use crate::threading::{self, Join};

/// The outcome for a message delivered again: the stored message, nothing new.
async fn seen_again(c: &mut Conn, workspace_id: Id, id: Id) -> Result<IngestOutcome> {
    let message = message_by_id(c, id).await?;
    let conversation = conversation_by_id(c, workspace_id, message.conversation_id)
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    Ok(IngestOutcome {
        message,
        conversation,
        created: false,
        events: Vec::new(),
    })
}

/// One message stored, its events not yet appended: a batch appends all of its events at its
/// end, so the workspace's event counter is locked once per batch and for the shortest time.
struct Staged {
    message: Message,
    conversation: Joined,
    created: bool,
    pending: Vec<PendingEvent>,
    /// A new message not yet written: the batch writes its new messages together.
    unwritten: Option<Unwritten>,
}

/// What writing a new message needs beside its row: the external id it shares with another.
struct Unwritten {
    shares: Option<String>,
}

/// The conversation a message joined: its row as written, or one the batch writes at its end.
enum Joined {
    Row(Conversation),
    Kept(Id),
}

impl Staged {
    /// A message stored before: nothing new to tell but what finding its sender made (a
    /// contact created for a sender first seen with a message delivered twice in one batch).
    fn again(outcome: IngestOutcome, pending: Vec<PendingEvent>) -> Staged {
        Staged {
            message: outcome.message,
            conversation: Joined::Row(outcome.conversation),
            created: false,
            pending,
            unwritten: None,
        }
    }
}

/// A message on its way through a batch: after the first pass it is either known to be stored
/// already, or its sender's contact is known and it waits to be stored.
enum Step {
    Done(Box<Staged>),
    Sender(Sender),
}

/// A message whose sender's contact the first pass found.
struct Sender {
    contact_id: Id,
    /// The external id it is stored under and the one it shares; `None` when another message
    /// of the batch has the same external id, and it is decided after that one.
    arrival: Option<(String, Option<String>)>,
    /// What finding the contact made: its creation.
    pending: Vec<PendingEvent>,
}

/// The batch's first pass for one message: stored already, or its sender's contact (found or
/// created; the batch touches and locks the contacts it found together, after this pass).
/// `looked_up` says whether the message's external id was looked up for the batch (`taken`:
/// which of those are stored).
async fn find_sender(
    c: &mut Conn,
    known: &mut KnownIdentities,
    taken: &HashSet<(Id, String)>,
    looked_up: bool,
    request: &IngestRequest,
) -> Result<Step> {
    let IngestRequest {
        workspace_id,
        inbox_id,
        ref message,
        received_at: now,
    } = *request;
    let arrival = if !looked_up {
        None
    } else if taken.contains(&(inbox_id, message.external_id.clone())) {
        Some(redelivery_sql::arrival(c, inbox_id, message).await?)
    } else {
        // Not stored: what `arrival` answers without a stored message, without asking.
        Some(redelivery::arrival(
            &message.external_id,
            message.content_key.as_deref(),
            None,
            None,
        ))
    };
    let arrival = match arrival {
        Some(Arrival::Again(id)) => {
            let outcome = seen_again(c, workspace_id, id).await?;
            return Ok(Step::Done(Box::new(Staged::again(outcome, Vec::new()))));
        }
        Some(Arrival::New {
            external_id,
            shares,
        }) => Some((external_id, shares)),
        None => None,
    };
    let (contact_id, contact_created) =
        find_contact(c, known, workspace_id, &message.sender, now).await?;
    let mut pending = Vec::new();
    if contact_created {
        let contact = contact_by_id(c, workspace_id, contact_id)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        pending.push(PendingEvent {
            kind: EventKind::ContactCreated,
            inbox_id: Some(inbox_id),
            conversation_id: None,
            payload: serde_json::to_value(&contact).unwrap_or_default(),
        });
    }
    Ok(Step::Sender(Sender {
        contact_id,
        arrival,
        pending,
    }))
}

/// The batch's second pass for one message whose sender is known: the conversation it joins
/// (started, woken or kept), the message row, its attachments, and its events.
async fn store_message(
    c: &mut Conn,
    inbox: &Inbox,
    request: &IngestRequest,
    sender: Sender,
    open: &mut OpenConversations,
    kept: &mut KeptConversations,
) -> Result<Staged> {
    let Sender {
        contact_id,
        arrival,
        mut pending,
    } = sender;
    let IngestRequest {
        workspace_id,
        inbox_id,
        ref message,
        received_at: now,
    } = *request;
    let (external_id, shares) = match arrival {
        Some(decided) => decided,
        // The batch's earlier message of this external id is stored now: asked after it.
        None => match redelivery_sql::arrival(c, inbox_id, message).await? {
            Arrival::Again(id) => {
                let outcome = seen_again(c, workspace_id, id).await?;
                return Ok(Staged::again(outcome, pending));
            }
            Arrival::New {
                external_id,
                shares,
            } => (external_id, shares),
        },
    };

    let snapshot = snapshot(c, inbox, message, contact_id, open, kept).await?;
    let conversation = match threading::join(&snapshot) {
        // Its status stays (`open` knows it as it is): written with the batch's others.
        Join::Keep(id) => {
            kept.keep(id, now, false);
            Joined::Kept(id)
        }
        Join::Wake {
            id,
            reopened: false,
        } => {
            kept.keep(id, now, true);
            Joined::Kept(id)
        }
        Join::Wake { id, reopened: true } => {
            let conversation = touched_conversation(
                c,
                "UPDATE conversations SET last_activity_at = $2, \
                 waiting_since = COALESCE(waiting_since, $2), status = 'open', \
                 snoozed_until = NULL WHERE id = $1",
                id,
                now,
            )
            .await?;
            pending.push(PendingEvent::conversation(
                EventKind::ConversationUpdated,
                &conversation,
            ));
            open.joined(&conversation, None);
            kept.written(&conversation);
            Joined::Row(conversation)
        }
        Join::Start => {
            let row = sqlx::query_as::<Db, ConversationRow>(&format!(
                "INSERT INTO conversations (workspace_id, inbox_id, contact_id, status, subject, \
                 thread_key, created_at, last_activity_at, waiting_since) \
                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, $6) RETURNING {CONVERSATION_COLS}"
            ))
            .bind(workspace_id)
            .bind(inbox_id)
            .bind(contact_id)
            .bind(&message.subject)
            .bind(&message.thread_key)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            let conversation = Conversation::try_from(row)?;
            pending.push(PendingEvent::conversation(
                EventKind::ConversationCreated,
                &conversation,
            ));
            open.joined(&conversation, Some(message.thread_key.as_deref()));
            Joined::Row(conversation)
        }
    };
    let conversation_id = match &conversation {
        Joined::Row(row) => row.id,
        Joined::Kept(id) => *id,
    };

    // The row as it will be written, with the batch's others (`write_messages`).
    let unwritten = Message {
        id: 0,
        workspace_id,
        conversation_id,
        inbox_id,
        channel: inbox.kind,
        direction: Direction::Incoming,
        sender_kind: SenderKind::Contact,
        sender_id: Some(contact_id),
        text: message.text.clone(),
        html: message.html.clone(),
        external_id: Some(external_id),
        status: DeliveryStatus::Received,
        error: None,
        attachments: Vec::new(),
        created_at: now,
        meta: message.meta.clone(),
    };
    Ok(Staged {
        message: unwritten,
        unwritten: Some(Unwritten { shares }),
        conversation,
        created: true,
        pending,
    })
}

/// Marks the conversation active now (with `update`'s other changes) and returns its row.
async fn touched_conversation(
    c: &mut Conn,
    update: &str,
    id: Id,
    now: Millis,
) -> Result<Conversation> {
    let row =
        sqlx::query_as::<Db, ConversationRow>(&format!("{update} RETURNING {CONVERSATION_COLS}"))
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *c)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
    Conversation::try_from(row)
}

/// Stores a batch of messages in the caller's transaction and then appends all of their
/// events: one counter reservation and one multi-row insert per workspace. A message that fails
/// fails the batch (its partial writes must not commit); the caller then stores the messages one
/// batch each, so a bad one gets its own error and takes nobody with it.
///
/// What every message needs looked up is looked up for the whole batch in one query each:
/// which external ids are stored, the contacts the senders are known by, the contacts'
/// conversations that are not resolved. Two passes: every sender's contact first (found or
/// created in `lock_order`, then all touched, and on PostgreSQL locked, in one statement), then
/// every message's conversation and row, each in the batch's order.
async fn ingest_batch(c: &mut Conn, requests: &[IngestRequest]) -> Result<Vec<IngestOutcome>> {
    // A batch usually comes through one inbox (a mailbox, a webhook burst, one API client):
    // it is read once.
    let mut inboxes: Vec<Inbox> = Vec::new();
    let order = lock_order(requests);
    let mut inbox_of = Vec::with_capacity(requests.len());
    for &i in &order {
        let request = &requests[i];
        let known = inboxes
            .iter()
            .position(|b| b.id == request.inbox_id && b.workspace_id == request.workspace_id);
        inbox_of.push(match known {
            Some(at) => at,
            None => {
                let inbox = inbox_by_id(c, request.workspace_id, request.inbox_id)
                    .await?
                    .ok_or(StoreError::NotFound("inbox"))?;
                inboxes.push(inbox);
                inboxes.len() - 1
            }
        });
    }

    // A second message of an external id the batch carries already is decided after the
    // first is stored, by asking the database then.
    let mut seen = HashSet::new();
    let looked_up: Vec<bool> = order
        .iter()
        .map(|&i| seen.insert((requests[i].inbox_id, &requests[i].message.external_id)))
        .collect();
    let keys = || {
        order
            .iter()
            .zip(&looked_up)
            .filter(|(_, &first)| first)
            .map(|(&i, _)| {
                (
                    requests[i].inbox_id,
                    requests[i].message.external_id.as_str(),
                )
            })
    };
    let taken = redelivery_sql::stored_among(c, keys()).await?;
    let mut known = KnownIdentities::look_up(
        c,
        order
            .iter()
            .map(|&i| (requests[i].workspace_id, &requests[i].message.sender)),
    )
    .await?;
    let mut steps = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        steps.push(find_sender(c, &mut known, &taken, looked_up[k], &requests[i]).await?);
    }
    // Every sender's contact touched (and on PostgreSQL locked) in one statement.
    let touches = order
        .iter()
        .zip(&steps)
        .filter_map(|(&i, step)| match step {
            Step::Sender(Sender { contact_id, .. }) => Some(ContactTouch::new(
                *contact_id,
                &requests[i].message.sender,
                requests[i].received_at,
            )),
            Step::Done(_) => None,
        })
        .collect();
    touch_contacts(c, touches).await?;

    // Under the contacts' locks a concurrent delivery of the same message has either committed
    // (and we answer with it) or not started. SQLite's one writer runs no concurrent delivery,
    // so there the first look stands.
    if EngineStore::ENGINE == Engine::Postgres {
        let now_taken = redelivery_sql::stored_among(c, keys()).await?;
        for (k, &i) in order.iter().enumerate() {
            let request = &requests[i];
            let key = (request.inbox_id, request.message.external_id.clone());
            let Step::Sender(Sender { arrival, .. }) = &mut steps[k] else {
                continue;
            };
            if arrival.is_some() && now_taken.contains(&key) {
                // Asked again in the second pass, after the batch's locks.
                *arrival = None;
            }
        }
    }

    let pairs: Vec<(Id, Id)> = order
        .iter()
        .zip(&steps)
        .filter_map(|(&i, step)| match step {
            Step::Sender(Sender { contact_id, .. }) => Some((requests[i].inbox_id, *contact_id)),
            Step::Done(_) => None,
        })
        .collect();
    let mut open = OpenConversations::look_up(c, &pairs).await?;
    let mut kept = KeptConversations::default();
    let mut staged: Vec<Staged> = Vec::with_capacity(order.len());
    for ((step, &i), &at) in steps.into_iter().zip(&order).zip(&inbox_of) {
        // What this message's arrival or references are asked of must be written first: an
        // earlier message of the batch with the same external id, or one it answers.
        let asks_of_unwritten = match &step {
            Step::Sender(Sender { arrival: None, .. }) => true,
            Step::Sender(_) => answers_unwritten(&requests[i].message, &staged),
            Step::Done(_) => false,
        };
        if asks_of_unwritten {
            write_messages(c, requests, &order, &mut staged).await?;
        }
        staged.push(match step {
            Step::Done(staged) => *staged,
            Step::Sender(sender) => {
                store_message(c, &inboxes[at], &requests[i], sender, &mut open, &mut kept).await?
            }
        });
    }
    write_messages(c, requests, &order, &mut staged).await?;
    kept.write(c).await?;

    // Events per workspace in the order the messages were stored (a conversation's creation
    // before the messages that joined it), handed back to the message that made them.
    let mut workspaces: Vec<Id> = requests.iter().map(|r| r.workspace_id).collect();
    workspaces.sort_unstable();
    workspaces.dedup();
    let now = requests.iter().map(|r| r.received_at).max().unwrap_or(0);
    let mut events: Vec<Vec<Event>> = vec![Vec::new(); staged.len()];
    for workspace_id in workspaces {
        let mine: Vec<usize> = (0..staged.len())
            .filter(|&k| requests[order[k]].workspace_id == workspace_id)
            .collect();
        let counts: Vec<usize> = mine.iter().map(|&k| staged[k].pending.len()).collect();
        let mut pending = Vec::new();
        for &k in &mine {
            pending.append(&mut staged[k].pending);
        }
        let mut appended = append_events(c, workspace_id, pending, now)
            .await?
            .into_iter();
        for (&k, count) in mine.iter().zip(counts) {
            events[k] = appended.by_ref().take(count).collect();
        }
    }
    let mut outcomes: Vec<Option<IngestOutcome>> = (0..requests.len()).map(|_| None).collect();
    for ((s, events), &i) in staged.into_iter().zip(events).zip(&order) {
        let conversation = match s.conversation {
            Joined::Row(row) => row,
            Joined::Kept(id) => kept.row(id)?,
        };
        outcomes[i] = Some(IngestOutcome {
            message: s.message,
            conversation,
            created: s.created,
            events,
        });
    }
    Ok(outcomes.into_iter().flatten().collect())
}

/// Whether `message` references a message of the batch not written yet.
fn answers_unwritten(message: &InboundMessage, staged: &[Staged]) -> bool {
    let unwritten = || staged.iter().filter(|s| s.unwritten.is_some());
    message.references.iter().take(50).any(|reference| {
        unwritten().any(|s| {
            s.message.external_id.as_deref() == Some(reference.as_str())
                || s.unwritten.as_ref().and_then(|u| u.shares.as_deref()) == Some(reference)
        })
    })
}

/// Writes the batch's new messages not written yet, in one statement, then what each keeps
/// beside its row (its content key, its attachments), and tells of each.
async fn write_messages(
    c: &mut Conn,
    requests: &[IngestRequest],
    order: &[usize],
    staged: &mut [Staged],
) -> Result<()> {
    let waiting: Vec<usize> = (0..staged.len())
        .filter(|&k| staged[k].unwritten.is_some())
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewMessage> = waiting
        .iter()
        .map(|&k| {
            let m = &staged[k].message;
            NewMessage {
                workspace_id: m.workspace_id,
                conversation_id: m.conversation_id,
                // The inbox it came through, which in a conversation across channels may not be
                // the conversation's own: its label, and where its external id is unique.
                inbox_id: m.inbox_id,
                direction: m.direction,
                sender_kind: m.sender_kind,
                sender_id: m.sender_id,
                text: &m.text,
                html: m.html.as_deref(),
                external_id: m.external_id.as_deref(),
                status: m.status,
                meta: m.meta.as_ref(),
                created_at: m.created_at,
            }
        })
        .collect();
    let ids = insert_messages(c, &rows).await?;
    drop(rows);
    for (&k, id) in waiting.iter().zip(ids) {
        // Only a concurrent delivery under the same external id (from a *different* sender
        // identity, or a different message reusing the id) can get here; the caller retries
        // and finds the stored message, or stores this one beside it, on the first check.
        let id = id.ok_or(StoreError::Conflict(
            "message with this external id already exists",
        ))?;
        let message = &requests[order[k]].message;
        let s = &mut staged[k];
        let shares = s.unwritten.take().and_then(|u| u.shares);
        s.message.id = id;
        redelivery_sql::record(c, id, message.content_key.as_deref(), shares.as_deref()).await?;
        for attachment in &message.attachments {
            let (url, data) = match &attachment.source {
                AttachmentSource::Url(url) => (Some(url.as_str()), None),
                AttachmentSource::Inline(bytes) => (None, Some(bytes.as_slice())),
            };
            let new = AttachmentRef {
                filename: &attachment.filename,
                content_type: &attachment.content_type,
                url,
                data,
            };
            let stored =
                insert_attachment(c, s.message.workspace_id, id, &new, s.message.created_at)
                    .await?;
            s.message.attachments.push(stored);
        }
        s.pending
            .push(PendingEvent::message(EventKind::MessageCreated, &s.message));
    }
    Ok(())
}

/// The order a batch's messages are stored in. PostgreSQL runs batches side by side, and two
/// that lock the same two contacts in opposite orders would deadlock (PostgreSQL notices after a
/// second and refuses one); stored by sender, every batch takes contacts in one order. Each
/// sender's messages keep theirs. SQLite's one writer runs one batch at a time: as they came.
fn lock_order(requests: &[IngestRequest]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    if EngineStore::ENGINE == Engine::Postgres {
        order.sort_by_key(|&i| sender_key(&requests[i].message));
    }
    order
}

/// What finds a sender's contact first (see `resolve_contact`).
fn sender_key(message: &InboundMessage) -> (&str, &str) {
    let sender = &message.sender;
    match sender.identities.first() {
        Some(identity) => (identity.namespace.as_str(), identity.identifier.as_str()),
        None => match (&sender.email, &sender.phone) {
            (Some(email), _) => ("email", email.as_str()),
            (None, Some(phone)) => ("phone", phone.as_str()),
            (None, None) => ("", ""),
        },
    }
}

#[async_trait]
impl IngestStore for EngineStore {
    #[tracing::instrument(skip_all, fields(messages = requests.len()))]
    async fn ingest_batch(&self, requests: Arc<Vec<IngestRequest>>) -> Result<Vec<IngestOutcome>> {
        self.write(move |c| Box::pin(async move { ingest_batch(c, &requests).await }))
            .await
    }
}
