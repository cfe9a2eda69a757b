//! Working a conversation: replies and notes, status and labels, assignment, read markers and
//! the customer's rating.

use super::Desk;
use crate::domain::{now_millis, Conversation, Id, Inbox, Message};
use crate::routing::RoutingPolicy;
use crate::store::{Actor, Assignment, ConversationPatch, NewReply, Principal, StoreError};
use crate::threading::scope;

type Result<T> = std::result::Result<T, StoreError>;

/// A reply as stored: `created` is false when it was a retry of one stored before (the same
/// client id), which is answered with that message and changes nothing.
pub struct Replied {
    pub message: Message,
    pub created: bool,
}

impl Replied {
    fn from((message, events): (Message, Vec<crate::domain::Event>)) -> Self {
        Replied {
            message,
            created: !events.is_empty(),
        }
    }
}

impl Desk {
    /// A reply (queued for delivery, the dispatcher woken) or a private note.
    #[tracing::instrument(skip_all, fields(workspace = reply.workspace_id, conversation = reply.conversation_id, author = reply.author.user_id, private = reply.private))]
    pub async fn reply(&self, mut reply: NewReply) -> Result<Replied> {
        let private = reply.private;
        reply.assign_to_author = self.assigns_on_reply(&reply).await?;
        let posted = self.store().post_reply(reply).await?;
        self.publish(&posted.1);
        let replied = Replied::from(posted);
        if !private && replied.created {
            self.dispatch_wake().notify_one();
        }
        Ok(replied)
    }

    /// A reply that goes out through `via` (checked with [`Desk::reply_inbox`]).
    #[tracing::instrument(skip_all, fields(workspace = reply.workspace_id, conversation = reply.conversation_id, author = reply.author.user_id, via))]
    pub async fn reply_via(&self, mut reply: NewReply, via: Id) -> Result<Replied> {
        reply.assign_to_author = self.assigns_on_reply(&reply).await?;
        let posted = self.store().post_reply_via(reply, via).await?;
        self.publish(&posted.1);
        let replied = Replied::from(posted);
        if replied.created {
            self.dispatch_wake().notify_one();
        }
        Ok(replied)
    }

    /// Whether this reply should make its unassigned conversation the author's: a reply, not a
    /// note, in an inbox whose routing policy assigns on reply (the default).
    async fn assigns_on_reply(&self, reply: &NewReply) -> Result<bool> {
        if reply.private {
            return Ok(false);
        }
        let store = self.store();
        let Some(conversation) = store
            .get_conversation(reply.workspace_id, reply.conversation_id)
            .await?
        else {
            return Ok(false);
        };
        if conversation.assignee_id.is_some() {
            return Ok(false);
        }
        let policy = store
            .routing()
            .policy(reply.workspace_id, conversation.inbox_id)
            .await?
            .and_then(|p| serde_json::from_str::<RoutingPolicy>(&p).ok())
            .unwrap_or_default();
        Ok(policy.assign_on_reply)
    }

    /// The inbox a reply in `conversation` goes out through: `via` when the agent picked one and
    /// it may carry the reply (a contact-scoped inbox the agent sees that reaches the contact;
    /// `StoreError::Invalid` saying why not), else the one the customer last wrote through.
    pub async fn reply_inbox(
        &self,
        who: &Principal,
        conversation: &Conversation,
        via: Option<Id>,
    ) -> Result<Inbox> {
        let store = self.store();
        let workspace_id = conversation.workspace_id;
        let Some(requested) = via else {
            let last = store
                .last_incoming_inbox(workspace_id, conversation.id)
                .await?;
            let id = scope::reply_inbox(conversation.inbox_id, last);
            return store
                .get_inbox(workspace_id, id)
                .await?
                .ok_or(StoreError::NotFound("inbox"));
        };
        let home = store
            .get_inbox(workspace_id, conversation.inbox_id)
            .await?
            .ok_or(StoreError::NotFound("inbox"))?;
        let picked = store.get_inbox(workspace_id, requested).await?;
        let candidate = match &picked {
            None => None,
            Some(inbox) => Some(scope::PickedInbox {
                id: inbox.id,
                kind: inbox.kind,
                scope: inbox.conversation_scope,
                visible: who.can_see_inbox(inbox.id),
                reaches_contact: self.reaches_contact(conversation.contact_id, inbox).await?,
            }),
        };
        scope::check_via(home.id, home.conversation_scope, requested, candidate)
            .map_err(|refused| StoreError::Invalid(refused.to_string()))?;
        picked.ok_or(StoreError::NotFound("inbox"))
    }

    /// Whether `inbox` can deliver to the contact: an identity of theirs it reaches, or they
    /// have written through it before.
    async fn reaches_contact(&self, contact_id: Id, inbox: &Inbox) -> Result<bool> {
        let contact = self
            .store()
            .get_contact(inbox.workspace_id, contact_id)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        if contact
            .identities
            .iter()
            .any(|i| scope::reaches(inbox.kind, inbox.id, &i.namespace))
        {
            return Ok(true);
        }
        self.store()
            .wrote_through(inbox.workspace_id, contact_id, inbox.id)
            .await
    }

    /// Status, snooze, priority and labels.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id, actor = actor.user_id))]
    pub async fn update_conversation(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        patch: ConversationPatch,
        actor: Actor,
    ) -> Result<Conversation> {
        let (updated, events) = self
            .store()
            .update_conversation(workspace_id, conversation_id, patch, actor)
            .await?;
        self.publish(&events);
        Ok(updated)
    }

    /// Gives the conversation to an agent and/or a team (None takes it back).
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id, assignee = ?to.assignee_id, team = ?to.team_id, actor = actor.user_id))]
    pub async fn assign(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        to: Assignment,
        actor: Actor,
    ) -> Result<Conversation> {
        let (updated, events) = self
            .store()
            .assign_conversation(workspace_id, conversation_id, to, actor)
            .await?;
        self.publish(&events);
        Ok(updated)
    }

    /// An agent has read the conversation up to `message_id`.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id, conversation = conversation_id))]
    pub async fn mark_read(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        message_id: Id,
    ) -> Result<()> {
        let events = self
            .store()
            .gateway()
            .mark_read(
                workspace_id,
                user_id,
                conversation_id,
                message_id,
                now_millis(),
            )
            .await?;
        self.publish(&events);
        Ok(())
    }

    /// The visitor has seen the agents' messages up to `up_to`.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id))]
    pub async fn mark_read_by_contact(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        up_to: Id,
    ) -> Result<()> {
        let events = self
            .store()
            .widget()
            .mark_read_by_contact(workspace_id, conversation_id, up_to, now_millis())
            .await?;
        self.publish(&events);
        Ok(())
    }

    /// The customer rates a resolved conversation, once.
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, conversation = conversation_id, score))]
    pub async fn rate(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        score: i64,
        comment: Option<String>,
    ) -> Result<()> {
        let events = self
            .store()
            .widget()
            .rate_conversation(workspace_id, conversation_id, score, comment, now_millis())
            .await?;
        self.publish(&events);
        Ok(())
    }
}
