//! The scale engine: PostgreSQL. Each write is its own transaction on a pooled connection;
//! PostgreSQL folds concurrent commits into shared WAL flushes by itself, and row locks (see the
//! lock order in `sql.rs`) keep concurrent ingest correct across processes and nodes.

use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use super::{inbox_cache, Engine, InboxCache, PrincipalCache, Result, StoreOptions};

type Db = sqlx::Postgres;
type EngineStore = PgStore;

// Deliberately compiled once per engine: the same SQL with this engine's concrete types.
#[allow(clippy::duplicate_mod)]
#[path = "sql.rs"]
mod sql;

pub struct PgStore {
    pool: PgPool,
    principals: PrincipalCache,
    inboxes: InboxCache,
}

impl PgStore {
    const ENGINE: Engine = Engine::Postgres;

    pub async fn connect(url: &str, options: &StoreOptions) -> Result<PgStore> {
        let connect: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect.application_name("switchboard"))
            .await?;
        // Several nodes may start at once: the migrator takes an advisory lock on PostgreSQL.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            pool,
            principals: PrincipalCache::default(),
            inboxes: inbox_cache(),
        })
    }

    async fn reader(&self) -> Result<sqlx::pool::PoolConnection<Db>> {
        Ok(self.pool.acquire().await?)
    }

    async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        let mut tx = self.pool.begin().await?;
        let value = op(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }
}
