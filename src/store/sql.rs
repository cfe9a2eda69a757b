//! Every room's SQL, written once in the dialect SQLite and PostgreSQL share (`$n` parameters,
//! `RETURNING`, `ON CONFLICT`, row-value comparison) and compiled once per engine: each engine's
//! module includes this file with its own `Db` and `EngineStore`, so types stay concrete.
//!
//! Lock order inside writing transactions is always: contact row, conversation row, workspace
//! event counter last (`events_sql::append_events`).

use async_trait::async_trait;

use super::{Db, EngineStore};
use crate::store::{
    AccountStore, CannedStore, ConsoleStore, EmailStore, Engine, GatewayStore, ProfileStore,
    Result, RoutingStore, Store, WidgetStore,
};

type Conn = <Db as sqlx::Database>::Connection;

#[path = "accounts_sql.rs"]
mod accounts_sql;
#[path = "canned_sql.rs"]
mod canned_sql;
#[path = "console_sql.rs"]
mod console_sql;
#[path = "contacts_sql.rs"]
mod contacts_sql;
#[path = "conversations_sql.rs"]
mod conversations_sql;
#[path = "email_sql.rs"]
mod email_sql;
#[path = "events_sql.rs"]
mod events_sql;
#[path = "gateway_sql.rs"]
mod gateway_sql;
#[path = "inboxes_sql.rs"]
mod inboxes_sql;
#[path = "ingest_sql.rs"]
mod ingest_sql;
#[path = "invitations_sql.rs"]
mod invitations_sql;
#[path = "joining_sql.rs"]
mod joining_sql;
#[path = "messages_sql.rs"]
mod messages_sql;
#[path = "outbox_sql.rs"]
mod outbox_sql;
#[path = "presence_sql.rs"]
mod presence_sql;
#[path = "profile_sql.rs"]
mod profile_sql;
#[path = "redelivery_sql.rs"]
mod redelivery_sql;
#[path = "reply_clients_sql.rs"]
mod reply_clients_sql;
#[path = "routing_sql.rs"]
mod routing_sql;
#[path = "rows_sql.rs"]
mod rows_sql;
#[path = "widget_sql.rs"]
mod widget_sql;
#[path = "workspaces_sql.rs"]
mod workspaces_sql;

impl EngineStore {
    /// A write that may change what a token opens (see principals.rs): the principals this
    /// process remembers are forgotten once it has committed (or failed).
    async fn write_access<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> futures::future::BoxFuture<'c, Result<T>>
            + Send
            + 'static,
    {
        // An inbox's deletion is among them: the inboxes are forgotten too.
        let result = self.write_inbox(op).await;
        self.principals.forget_all();
        result
    }

    /// A write to an inbox's row (its settings, its scope): the inboxes this process remembers
    /// are forgotten once it has committed (or failed).
    async fn write_inbox<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> futures::future::BoxFuture<'c, Result<T>>
            + Send
            + 'static,
    {
        let result = self.write(op).await;
        self.inboxes.forget_all();
        result
    }
}

#[async_trait]
impl Store for EngineStore {
    fn engine(&self) -> Engine {
        Self::ENGINE
    }

    fn widget(&self) -> &dyn WidgetStore {
        self
    }

    fn gateway(&self) -> &dyn GatewayStore {
        self
    }

    fn routing(&self) -> &dyn RoutingStore {
        self
    }

    fn console(&self) -> &dyn ConsoleStore {
        self
    }

    fn canned(&self) -> &dyn CannedStore {
        self
    }

    fn profiles(&self) -> &dyn ProfileStore {
        self
    }

    fn email(&self) -> &dyn EmailStore {
        self
    }

    fn accounts(&self) -> &dyn AccountStore {
        self
    }

    fn invitations(&self) -> &dyn crate::store::InvitationStore {
        self
    }

    async fn ping(&self) -> Result<()> {
        let mut c = self.reader().await?;
        sqlx::query::<Db>("SELECT 1").execute(&mut *c).await?;
        Ok(())
    }
}
