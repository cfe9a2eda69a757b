//! Agent presence's SQL, compiled once per engine (see sql.rs).

use async_trait::async_trait;

use super::accounts_sql::user_by_id;
use super::events_sql::{append_events, PendingEvent};
use super::rows_sql::corrupt;
use super::{Db, EngineStore};
use crate::domain::*;
use crate::store::{PresenceStore, Result, StoreError};

#[async_trait]
impl PresenceStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn set_presence(
        &self,
        workspace_id: Id,
        user_id: Id,
        status: PresenceStatus,
        now: Millis,
    ) -> Result<Option<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                let before = sqlx::query_scalar::<Db, String>(
                    "SELECT status FROM agent_presence WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await?;
                sqlx::query::<Db>(
                    "INSERT INTO agent_presence (user_id, workspace_id, status, last_seen_at, \
                     changed_at) VALUES ($1, $2, $3, $4, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, \
                     last_seen_at = excluded.last_seen_at, \
                     changed_at = CASE WHEN agent_presence.status = excluded.status \
                                  THEN agent_presence.changed_at ELSE excluded.changed_at END",
                )
                .bind(user_id)
                .bind(workspace_id)
                .bind(status.as_str())
                .bind(now)
                .execute(&mut *c)
                .await?;
                if before.as_deref() == Some(status.as_str()) {
                    return Ok(None);
                }
                let presence = Presence {
                    user_id,
                    status,
                    last_seen_at: now,
                    changed_at: now,
                };
                let event = PendingEvent::presence(&presence);
                Ok(append_events(c, workspace_id, vec![event], now)
                    .await?
                    .pop())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(user = user_id))]
    async fn touch_presence(&self, user_id: Id, now: Millis) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>("UPDATE agent_presence SET last_seen_at = $2 WHERE user_id = $1")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn list_presence(&self, workspace_id: Id) -> Result<Vec<Presence>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, (i64, String, i64, i64)>(
            "SELECT user_id, status, last_seen_at, changed_at FROM agent_presence \
             WHERE workspace_id = $1 ORDER BY user_id",
        )
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(|(user_id, status, last_seen_at, changed_at)| {
            Ok(Presence {
                status: PresenceStatus::parse(&status)
                    .ok_or_else(|| corrupt("presence status", &status))?,
                user_id,
                last_seen_at,
                changed_at,
            })
        })
        .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn expire_presence(&self, stale_before: Millis, now: Millis) -> Result<Vec<Event>> {
        self.write(move |c| {
            Box::pin(async move {
                let stale = sqlx::query_as::<Db, (i64, i64, i64)>(
                    "UPDATE agent_presence SET status = 'offline', changed_at = $2 \
                     WHERE status <> 'offline' AND last_seen_at < $1 \
                     RETURNING user_id, workspace_id, last_seen_at",
                )
                .bind(stale_before)
                .bind(now)
                .fetch_all(&mut *c)
                .await?;
                let mut events = Vec::new();
                for (user_id, workspace_id, last_seen_at) in stale {
                    let presence = Presence {
                        user_id,
                        status: PresenceStatus::Offline,
                        last_seen_at,
                        changed_at: now,
                    };
                    let event = PendingEvent::presence(&presence);
                    events.extend(append_events(c, workspace_id, vec![event], now).await?);
                }
                Ok(events)
            })
        })
        .await
    }
}
