//! Accounts' SQL: users, sign-in, sessions and API tokens, passwords and the audit log.
//! Compiled once per engine (see sql.rs).

use async_trait::async_trait;
use sqlx::FromRow;

use super::rows_sql::{corrupt, is_unique_violation, UserRow, USER_COLS};
use super::{Conn, Db, EngineStore};
use crate::domain::*;
use crate::store::{
    AccountStore, ApiToken, AuditAction, AuditEntry, Credentials, NewAuditEntry, NewToken, NewUser,
    Page, Principal, Result, Revoke, StoreError, UserPatch, TOKEN_TOUCH_EVERY_MS,
};

pub(super) async fn user_by_id(
    c: &mut Conn,
    workspace_id: Id,
    user_id: Id,
) -> Result<Option<User>> {
    sqlx::query_as::<Db, UserRow>(&format!(
        "SELECT {USER_COLS} FROM users WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(user_id)
    .fetch_optional(&mut *c)
    .await?
    .map(User::try_from)
    .transpose()
}

pub(super) async fn insert_user(c: &mut Conn, user: &NewUser) -> Result<User> {
    let row = sqlx::query_as::<Db, UserRow>(&format!(
        "INSERT INTO users (workspace_id, email, name, role, password_hash, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLS}"
    ))
    .bind(user.workspace_id)
    .bind(user.email.as_str())
    .bind(&user.name)
    .bind(user.role.as_str())
    .bind(&user.password_hash)
    .bind(now_millis())
    .fetch_one(&mut *c)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict("a user with this email already exists")
        } else {
            e.into()
        }
    })?;
    User::try_from(row)
}

pub(super) async fn insert_audit(
    c: &mut Conn,
    entry: &NewAuditEntry,
    target_id: Option<Id>,
) -> Result<()> {
    let (actor_id, actor_name) = match &entry.actor {
        Some((id, name)) => (Some(*id), name.clone()),
        None => (None, "command line".to_string()),
    };
    sqlx::query::<Db>(
        "INSERT INTO audit_log (workspace_id, actor_id, actor_name, action, target_kind, \
         target_id, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.workspace_id)
    .bind(actor_id)
    .bind(actor_name)
    .bind(entry.action.as_str())
    .bind(entry.target_kind)
    .bind(entry.target_id.or(target_id))
    .bind(entry.details.to_string())
    .bind(now_millis())
    .execute(&mut *c)
    .await?;
    Ok(())
}

async fn delete_tokens(c: &mut Conn, user_id: Id, which: Revoke) -> Result<u64> {
    let done = match which {
        Revoke::Everything => {
            sqlx::query::<Db>("DELETE FROM tokens WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *c)
                .await?
        }
        Revoke::SessionsExcept(keep) => {
            sqlx::query::<Db>(
                "DELETE FROM tokens WHERE user_id = $1 AND kind = 'session' AND id <> $2",
            )
            .bind(user_id)
            .bind(keep.unwrap_or(0))
            .execute(&mut *c)
            .await?
        }
        Revoke::AllExcept(keep) => {
            sqlx::query::<Db>("DELETE FROM tokens WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(&mut *c)
                .await?
        }
    };
    Ok(done.rows_affected())
}

#[derive(FromRow)]
struct ApiTokenRow {
    id: i64,
    name: String,
    token_prefix: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> ApiToken {
        ApiToken {
            id: r.id,
            name: r.name,
            prefix: r.token_prefix.unwrap_or_default(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }
    }
}

const API_TOKEN_COLS: &str = "id, name, token_prefix, created_at, last_used_at, expires_at";

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    actor_id: Option<i64>,
    actor_name: String,
    action: String,
    target_kind: String,
    target_id: Option<i64>,
    details: String,
    created_at: i64,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<AuditEntry> {
        Ok(AuditEntry {
            action: AuditAction::parse(&r.action)
                .ok_or_else(|| corrupt("audit action", &r.action))?,
            id: r.id,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            target_kind: r.target_kind,
            target_id: r.target_id,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            created_at: r.created_at,
        })
    }
}

#[async_trait]
impl AccountStore for EngineStore {
    #[tracing::instrument(skip_all, fields(workspace = user.workspace_id))]
    async fn create_user(&self, user: NewUser) -> Result<User> {
        self.write(move |c| Box::pin(async move { insert_user(c, &user).await }))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn get_user(&self, workspace_id: Id, user_id: Id) -> Result<Option<User>> {
        let mut c = self.reader().await?;
        user_by_id(&mut c, workspace_id, user_id).await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn list_users(&self, workspace_id: Id) -> Result<Vec<User>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, UserRow>(&format!(
            "SELECT {USER_COLS} FROM users WHERE workspace_id = $1 ORDER BY id"
        ))
        .bind(workspace_id)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn credentials_by_email(&self, email: &EmailAddress) -> Result<Option<Credentials>> {
        let mut c = self.reader().await?;
        let row = sqlx::query_as::<Db, (i64, i64, String)>(
            "SELECT id, workspace_id, password_hash FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(&mut *c)
        .await?;
        let Some((id, workspace_id, password_hash)) = row else {
            return Ok(None);
        };
        let user = user_by_id(&mut c, workspace_id, id)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        Ok(Some(Credentials {
            user,
            password_hash,
        }))
    }

    #[tracing::instrument(skip_all, fields(user = token.user_id))]
    async fn create_token(&self, token: NewToken) -> Result<Id> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query_scalar::<Db, i64>(
                    "INSERT INTO tokens (workspace_id, user_id, kind, name, token_hash, \
                     created_at, expires_at) \
                     SELECT workspace_id, id, $2, $3, $4, $5, $6 FROM users WHERE id = $1 \
                     RETURNING id",
                )
                .bind(token.user_id)
                .bind(token.kind.as_str())
                .bind(&token.name)
                .bind(&token.hash)
                .bind(now_millis())
                .bind(token.expires_at)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::NotFound("user"))
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn principal_by_token(&self, hash: &[u8], now: Millis) -> Result<Option<Principal>> {
        if let Some(known) = self.principals.get(hash, now) {
            return Ok(Some(known));
        }
        let generation = self.principals.generation();
        let mut c = self.reader().await?;
        // Expired tokens and disabled users' tokens open nothing (disabling also deletes them;
        // this holds even for one issued in a race with the disabling).
        let row = sqlx::query_as::<Db, (i64, i64, i64, Option<i64>, Option<i64>)>(
            "SELECT id, workspace_id, user_id, last_used_at, expires_at FROM tokens \
             WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?;
        let Some((token_id, workspace_id, user_id, token_last_used_at, expires_at)) = row else {
            return Ok(None);
        };
        let Some(user) = user_by_id(&mut c, workspace_id, user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(None);
        };
        let member_inboxes = sqlx::query_scalar::<Db, i64>(
            "SELECT inbox_id FROM inbox_members WHERE user_id = $1 ORDER BY inbox_id",
        )
        .bind(user_id)
        .fetch_all(&mut *c)
        .await?;
        let principal = Principal {
            user,
            token_id,
            token_last_used_at,
            member_inboxes,
        };
        self.principals
            .keep(hash, &principal, expires_at, generation);
        Ok(Some(principal))
    }

    #[tracing::instrument(skip_all, fields(token = token_id))]
    async fn delete_token(&self, token_id: Id) -> Result<()> {
        self.write_access(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>("DELETE FROM tokens WHERE id = $1")
                    .bind(token_id)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
        })
        .await
    }
    #[tracing::instrument(skip_all, fields(workspace = user.workspace_id))]
    async fn create_user_audited(&self, user: NewUser, audit: NewAuditEntry) -> Result<User> {
        self.write(move |c| {
            Box::pin(async move {
                let user = insert_user(c, &user).await?;
                insert_audit(c, &audit, Some(user.id)).await?;
                Ok(user)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user = token.user_id))]
    async fn create_api_token(
        &self,
        token: NewToken,
        prefix: String,
        audit: NewAuditEntry,
    ) -> Result<ApiToken> {
        self.write(move |c| {
            Box::pin(async move {
                let row = sqlx::query_as::<Db, ApiTokenRow>(&format!(
                    "INSERT INTO tokens (workspace_id, user_id, kind, name, token_hash, \
                     created_at, expires_at, token_prefix) \
                     SELECT workspace_id, id, 'api', $2, $3, $4, $5, $6 FROM users WHERE id = $1 \
                     RETURNING {API_TOKEN_COLS}"
                ))
                .bind(token.user_id)
                .bind(&token.name)
                .bind(&token.hash)
                .bind(now_millis())
                .bind(token.expires_at)
                .bind(&prefix)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::NotFound("user"))?;
                insert_audit(c, &audit, Some(row.id)).await?;
                Ok(row.into())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user = user_id))]
    async fn api_tokens(&self, user_id: Id, now: Millis) -> Result<Vec<ApiToken>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_as::<Db, ApiTokenRow>(&format!(
            "SELECT {API_TOKEN_COLS} FROM tokens WHERE user_id = $1 AND kind = 'api' \
             AND (expires_at IS NULL OR expires_at > $2) ORDER BY id DESC"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(ApiToken::from)
        .collect())
    }

    #[tracing::instrument(skip_all, fields(user = user_id, token = token_id))]
    async fn revoke_api_token(
        &self,
        user_id: Id,
        token_id: Id,
        audit: NewAuditEntry,
    ) -> Result<bool> {
        self.write_access(move |c| {
            Box::pin(async move {
                let done = sqlx::query::<Db>(
                    "DELETE FROM tokens WHERE id = $1 AND user_id = $2 AND kind = 'api'",
                )
                .bind(token_id)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_audit(c, &audit, Some(token_id)).await?;
                Ok(true)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user = user_id))]
    async fn revoke_tokens(
        &self,
        user_id: Id,
        which: Revoke,
        audit: Option<NewAuditEntry>,
    ) -> Result<u64> {
        self.write_access(move |c| {
            Box::pin(async move {
                let revoked = delete_tokens(c, user_id, which).await?;
                if let Some(audit) = audit {
                    insert_audit(c, &audit, Some(user_id)).await?;
                }
                Ok(revoked)
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user = user_id))]
    async fn set_password(
        &self,
        user_id: Id,
        password_hash: String,
        revoke: Revoke,
        audit: NewAuditEntry,
    ) -> Result<()> {
        self.write_access(move |c| {
            Box::pin(async move {
                let done = sqlx::query::<Db>("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(&password_hash)
                    .execute(&mut *c)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("user"));
                }
                delete_tokens(c, user_id, revoke).await?;
                insert_audit(c, &audit, Some(user_id)).await
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id, user = user_id))]
    async fn update_user(
        &self,
        workspace_id: Id,
        user_id: Id,
        patch: UserPatch,
        audit: Vec<NewAuditEntry>,
        now: Millis,
    ) -> Result<User> {
        self.write_access(move |c| {
            Box::pin(async move {
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                if let Some(role) = patch.role {
                    sqlx::query::<Db>("UPDATE users SET role = $2 WHERE id = $1")
                        .bind(user_id)
                        .bind(role.as_str())
                        .execute(&mut *c)
                        .await?;
                }
                match patch.disabled {
                    Some(true) => {
                        sqlx::query::<Db>(
                            "UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE id = $1",
                        )
                        .bind(user_id)
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                        delete_tokens(c, user_id, Revoke::Everything).await?;
                    }
                    Some(false) => {
                        sqlx::query::<Db>("UPDATE users SET disabled_at = NULL WHERE id = $1")
                            .bind(user_id)
                            .execute(&mut *c)
                            .await?;
                    }
                    None => {}
                }
                for entry in &audit {
                    insert_audit(c, entry, Some(user_id)).await?;
                }
                user_by_id(c, workspace_id, user_id)
                    .await?
                    .ok_or(StoreError::NotFound("user"))
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn record_audit(&self, entry: NewAuditEntry) -> Result<()> {
        self.write(move |c| Box::pin(async move { insert_audit(c, &entry, None).await }))
            .await
    }

    #[tracing::instrument(skip_all, fields(workspace = workspace_id))]
    async fn audit_log(&self, workspace_id: Id, page: &Page) -> Result<Vec<AuditEntry>> {
        let mut c = self.reader().await?;
        sqlx::query_as::<Db, AuditRow>(
            "SELECT id, actor_id, actor_name, action, target_kind, target_id, details, \
             created_at FROM audit_log WHERE workspace_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(workspace_id)
        .bind(page.after.map_or(i64::MAX, |(_, id)| id))
        .bind(page.limit)
        .fetch_all(&mut *c)
        .await?
        .into_iter()
        .map(AuditEntry::try_from)
        .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(token = token_id))]
    async fn touch_token(&self, token_id: Id, now: Millis) -> Result<()> {
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "UPDATE tokens SET last_used_at = $2 WHERE id = $1 \
                     AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(token_id)
                .bind(now)
                .bind(now - TOKEN_TOUCH_EVERY_MS)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn remember_login_address(
        &self,
        account: &str,
        address: &str,
        now: Millis,
    ) -> Result<()> {
        let (account, address) = (account.to_string(), address.to_string());
        self.write(move |c| {
            Box::pin(async move {
                sqlx::query::<Db>(
                    "INSERT INTO login_addresses (account, address, last_seen) VALUES ($1, $2, $3) \
                     ON CONFLICT (account, address) DO UPDATE SET last_seen = excluded.last_seen",
                )
                .bind(&account)
                .bind(&address)
                .bind(now)
                .execute(&mut *c)
                .await?;
                Ok(())
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn login_addresses(&self, since: Millis) -> Result<Vec<(String, String, Millis)>> {
        let mut c = self.reader().await?;
        Ok(sqlx::query_as::<Db, (String, String, i64)>(
            "SELECT account, address, last_seen FROM login_addresses WHERE last_seen >= $1 \
             ORDER BY last_seen DESC LIMIT 50000",
        )
        .bind(since)
        .fetch_all(&mut *c)
        .await?)
    }
}
