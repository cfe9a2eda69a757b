//! The store's part for the agents' console: what a row of the inbox list shows beyond the
//! conversation itself, and the counts beside each view.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Result;
use crate::domain::Id;

/// What the inbox list shows for a conversation besides its own fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ConversationSummary {
    pub conversation_id: Id,
    pub contact_name: Option<String>,
    /// The latest customer-visible message (not notes or activity lines), cut to a preview.
    pub last_message: Option<String>,
    pub last_message_direction: Option<String>,
    /// Customer messages after the user's read marker.
    pub unread: i64,
}

/// How many open conversations each view of the inbox list holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ViewCounts {
    pub mine: i64,
    pub unassigned: i64,
    pub all: i64,
    /// (inbox id, open conversations)
    #[schema(schema_with = pairs_of_inbox_and_count)]
    pub by_inbox: Vec<(Id, i64)>,
    /// (status, conversations) over every status.
    #[schema(schema_with = pairs_of_status_and_count)]
    pub by_status: Vec<(String, i64)>,
}

/// A list of two-element arrays. Spelled with `items` and a length, not as a tuple
/// (`prefixItems` with `items: false`), which several OpenAPI tools read as the old array form
/// of `items` and refuse.
fn pairs(member: utoipa::openapi::schema::SchemaType, description: &str) -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder};
    let pair = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(member))
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new()
        .items(pair)
        .description(Some(description))
        .build()
}

fn pairs_of_inbox_and_count() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    pairs(
        SchemaType::Type(Type::Integer),
        "[inbox id, open conversations] pairs",
    )
}

fn pairs_of_status_and_count() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    pairs(
        SchemaType::from_iter([Type::String, Type::Integer]),
        "[status, conversations] pairs over every status",
    )
}

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Summaries of the given conversations for `user_id` (ids of other workspaces are ignored).
    async fn summaries(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_ids: &[Id],
    ) -> Result<Vec<ConversationSummary>>;
    async fn view_counts(
        &self,
        workspace_id: Id,
        user_id: Id,
        visible_inboxes: Option<&[Id]>,
    ) -> Result<ViewCounts>;
}
