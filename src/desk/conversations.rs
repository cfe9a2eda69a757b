//! Working a conversation: replies and notes, status and labels, assignment, read markers and
//! the customer's rating.

use super::Desk;
use crate::domain::{now_millis, Conversation, Id, Message};
use crate::store::{Actor, Assignment, ConversationPatch, NewReply, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

impl Desk {
    /// A reply (queued for delivery, the dispatcher woken) or a private note.
    #[tracing::instrument(skip_all, fields(workspace = reply.workspace_id, conversation = reply.conversation_id, author = reply.author.user_id, private = reply.private))]
    pub async fn reply(&self, reply: NewReply) -> Result<Message> {
        let private = reply.private;
        let (message, events) = self.store().post_reply(reply).await?;
        self.publish(&events);
        if !private {
            self.dispatch_wake().notify_one();
        }
        Ok(message)
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
