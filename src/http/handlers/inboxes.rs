//! Inboxes (channel instances) and their members. What each kind of inbox takes and keeps is
//! its channel's business (src/channels): these handlers ask the registry.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::ChannelKind;
use utoipa::ToSchema;

use super::{visible_inbox, AddMemberBody};
use crate::channels::{ChannelError, SetupEnv, SetupInput};
use crate::domain::{ConversationScope, Id, Inbox, InboxProblem, User};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::store::{AuditAction, NewInbox, NewInboxSetup, Principal};

/// An inbox with what is failing in its work now.
#[derive(Serialize, ToSchema)]
pub struct InboxWithHealth {
    #[serde(flatten)]
    pub inbox: Inbox,
    /// Empty while the inbox works: otherwise its mailbox or its sending fails, in the
    /// server's or provider's words, since when (until the next attempt that works).
    pub problems: Vec<InboxProblem>,
}

#[utoipa::path(get, path = "/api/v1/inboxes", tag = "inboxes", security(("bearer" = [])),
    responses((status = 200, description = "The inboxes the caller may see", body = Vec<InboxWithHealth>)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<InboxWithHealth>>> {
    let visible = who.visible_inboxes();
    let inboxes = state
        .store
        .list_inboxes(who.workspace_id(), visible.as_deref())
        .await?;
    let mut problems: HashMap<Id, Vec<InboxProblem>> = HashMap::new();
    for problem in state
        .store
        .inbox_problems(who.workspace_id(), visible.as_deref())
        .await?
    {
        problems.entry(problem.inbox_id).or_default().push(problem);
    }
    Ok(Json(
        inboxes
            .into_iter()
            .map(|inbox| InboxWithHealth {
                problems: problems.remove(&inbox.id).unwrap_or_default(),
                inbox,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    pub name: String,
    /// A kind `GET /api/v1/channels` lists: `email`, `web_chat`, `api`, `sms`, `whatsapp`,
    /// `messenger`, `instagram`, `telegram`.
    pub kind: String,
    /// SMS, WhatsApp, Messenger, Instagram and Telegram inboxes: who carries the messages
    /// (`twilio`, `vonage`, `meta`, `telegram`), as the channel's form lists them.
    #[serde(default)]
    pub provider: Option<String>,
    /// API inboxes: where replies are POSTed, signed with the inbox's secret.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Email inboxes: the address, mailbox (IMAP) and sending server (SMTP).
    #[serde(default)]
    pub email: Option<crate::email::EmailInboxSettings>,
    /// Email inboxes: the IMAP password, stored sealed and never shown again.
    #[serde(default)]
    pub imap_password: Option<String>,
    /// Email inboxes: the SMTP password, stored sealed and never shown again.
    #[serde(default)]
    pub smtp_password: Option<String>,
    /// The channel's setup fields as `GET /api/v1/channels` lists them (the fields above may
    /// come here too).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub settings: Option<serde_json::Map<String, serde_json::Value>>,
    /// `inbox` (the default): conversations of their own. `contact`: a customer's message joins
    /// their open conversation in any contact-scoped inbox of the workspace. Not for web chat.
    #[serde(default)]
    pub conversation_scope: Option<ConversationScope>,
}

impl CreateInbox {
    /// The channel's fields in one map: the named ones and `settings`. A field given both ways
    /// is refused rather than one silently winning.
    fn setup_input(&mut self) -> ApiResult<SetupInput> {
        let mut fields = self.settings.take().unwrap_or_default();
        let named = [
            (
                "provider",
                self.provider.take().map(serde_json::Value::from),
            ),
            // An empty callback URL has always meant none, on every kind.
            (
                "callback_url",
                self.callback_url
                    .take()
                    .filter(|u| !u.is_empty())
                    .map(serde_json::Value::from),
            ),
            (
                "email",
                self.email
                    .take()
                    .map(|e| serde_json::to_value(e).unwrap_or_default()),
            ),
            (
                "imap_password",
                self.imap_password.take().map(serde_json::Value::from),
            ),
            (
                "smtp_password",
                self.smtp_password.take().map(serde_json::Value::from),
            ),
        ];
        for (key, value) in named {
            let Some(value) = value else { continue };
            if fields.insert(key.to_string(), value).is_some() {
                return Err(ApiError::Unprocessable(format!(
                    "`{key}` is given both on its own and in `settings`"
                )));
            }
        }
        fields.retain(|_, v| !v.is_null());
        Ok(SetupInput::new(fields))
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInbox {
    #[serde(flatten)]
    pub inbox: Inbox,
    /// API inboxes: the HMAC-SHA256 key that signs callbacks. Web chat inboxes: the key the host
    /// site signs visitor identities with. Shown once, stored sealed.
    pub secret: Option<String>,
    /// Web chat inboxes: the tag to paste into the site.
    pub embed_snippet: Option<String>,
    /// Channels a provider calls back (SMS, WhatsApp, Messenger, Instagram, Telegram): the
    /// address to paste at the provider.
    pub webhook_url: Option<String>,
}

/// The channel's view of the hub's settings and secret box.
fn setup_env(state: &AppState) -> SetupEnv<'_> {
    SetupEnv {
        settings: &state.settings,
        secrets: &state.secrets,
    }
}

#[utoipa::path(post, path = "/api/v1/inboxes", tag = "inboxes", security(("bearer" = [])),
    request_body = CreateInbox,
    responses((status = 201, body = CreatedInbox), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(mut body): ApiJson<CreateInbox>,
) -> ApiResult<(StatusCode, Json<CreatedInbox>)> {
    let input = body.setup_input()?;
    if ChannelKind::parse(&body.kind).is_none() {
        return Err(ChannelError::UnknownKind(body.kind).into());
    }
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::Unprocessable(
            "`name` must be 1 to 200 characters".into(),
        ));
    }
    let env = setup_env(&state);
    let (kind, setup) = state.channels.set_up(&env, &body.kind, &input)?;
    let scope = body.conversation_scope.unwrap_or(ConversationScope::Inbox);
    check_scope(kind, scope)?;
    let inbox = state
        .store
        .set_up_inbox(NewInboxSetup {
            inbox: NewInbox {
                workspace_id: who.workspace_id(),
                name: name.to_string(),
                kind,
                settings: serde_json::Value::Object(setup.settings),
                sealed_secret: setup.sealed_secret,
            },
            website_token: setup.website_token,
        })
        .await?;
    // Nobody knows the new inbox's id before this answer, so no message can arrive between
    // the two writes.
    let inbox = match scope {
        ConversationScope::Inbox => inbox,
        scope => {
            state
                .store
                .set_conversation_scope(who.workspace_id(), inbox.id, scope)
                .await?
        }
    };
    // After the inbox's own commit, not in it: the audit log is the accounts store's.
    record_audit(
        &state,
        &who,
        AuditAction::InboxCreated,
        inbox.id,
        serde_json::json!({"name": inbox.name, "kind": inbox.kind}),
    )
    .await?;
    state
        .desk
        .inbox_changed(who.workspace_id(), inbox.id, "created")
        .await?;
    let embed_snippet = state.channels.embed_snippet(&env, &inbox);
    let webhook_url = state.channels.webhook_url(&env, &inbox);
    Ok((
        StatusCode::CREATED,
        Json(CreatedInbox {
            inbox,
            secret: setup.shown_once,
            embed_snippet,
            webhook_url,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInbox {
    pub name: Option<String>,
    /// The kind's settings, whole: for web chat see `WebChatSettings` (its website token cannot
    /// be changed); for API inboxes `{"callback_url": …}`.
    pub settings: Option<serde_json::Value>,
    /// `inbox` or `contact` (see `CreateInbox`). Conversations already open stay where they are.
    pub conversation_scope: Option<ConversationScope>,
    /// With `settings`: the channel's secret fields as its setup form names them (email:
    /// `imap_password`, `smtp_password`). Absent or empty keeps the saved one, for a server
    /// and user that did not change.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub secrets: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A web chat visitor sees the whole thread of their conversation: one that also held what
/// came by SMS or email would show them messages they never saw before (perhaps not theirs,
/// where a contact was joined by a typed address), so web chat keeps its conversations.
fn check_scope(kind: ChannelKind, scope: ConversationScope) -> ApiResult<()> {
    if kind == ChannelKind::WebChat && scope == ConversationScope::Contact {
        return Err(ApiError::Unprocessable(
            "`conversation_scope`: web chat inboxes keep their conversations to themselves \
             (\"inbox\"): a visitor would see what came by other channels"
                .into(),
        ));
    }
    Ok(())
}

#[utoipa::path(patch, path = "/api/v1/inboxes/{inbox_id}", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = UpdateInbox,
    responses((status = 200, body = Inbox), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<UpdateInbox>,
) -> ApiResult<Json<Inbox>> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    if body.name.is_some() {
        return Err(ApiError::Unprocessable(
            "renaming inboxes is not supported yet".into(),
        ));
    }
    let inbox = match body.conversation_scope {
        Some(scope) if scope != inbox.conversation_scope => {
            check_scope(inbox.kind, scope)?;
            let updated = state
                .store
                .set_conversation_scope(who.workspace_id(), inbox.id, scope)
                .await?;
            record_audit(
                &state,
                &who,
                AuditAction::InboxSettingsChanged,
                inbox.id,
                serde_json::json!({"keys": ["conversation_scope"]}),
            )
            .await?;
            updated
        }
        _ => inbox,
    };
    let Some(settings) = body.settings else {
        if body.secrets.is_some() {
            return Err(ApiError::Unprocessable(
                "`secrets` go with the `settings` they are for".into(),
            ));
        }
        return Ok(Json(inbox));
    };
    let env = setup_env(&state);
    let settings = state.channels.change_settings(&env, &inbox, settings)?;
    // Empty secret fields mean "keep": the console's password boxes start empty.
    let typed = SetupInput::new(
        body.secrets
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .collect(),
    );
    let saved = state
        .store
        .webhook_inbox(inbox.id)
        .await?
        .and_then(|(_, sealed)| sealed);
    let sealed =
        state
            .channels
            .change_secrets(&env, &inbox, &settings, saved.as_deref(), &typed)?;
    // Which settings were given, never their values (some are secret).
    let mut keys: Vec<String> = settings
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.extend(typed.keys().map(|k| format!("secrets.{k}")));
    let updated = state
        .store
        .widget()
        .update_inbox_settings(who.workspace_id(), inbox.id, settings, sealed)
        .await?;
    record_audit(
        &state,
        &who,
        AuditAction::InboxSettingsChanged,
        inbox.id,
        serde_json::json!({"keys": keys}),
    )
    .await?;
    state
        .desk
        .inbox_changed(who.workspace_id(), inbox.id, "settings")
        .await?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/api/v1/inboxes/{inbox_id}", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)),
    responses((status = 204, description = "Deleted with its members and settings"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Conversations came through it: they are kept, and so is the inbox", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
) -> ApiResult<StatusCode> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    state
        .desk
        .delete_inbox(who.workspace_id(), inbox.id)
        .await?;
    record_audit(
        &state,
        &who,
        AuditAction::InboxDeleted,
        inbox.id,
        serde_json::json!({"name": inbox.name, "kind": inbox.kind}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn record_audit(
    state: &AppState,
    who: &Principal,
    action: AuditAction,
    inbox_id: Id,
    details: serde_json::Value,
) -> ApiResult<()> {
    let entry = super::account::audit_by(who, action, "inbox", Some(inbox_id), details);
    Ok(state.store.accounts().record_audit(entry).await?)
}

/// One inbox, and for admins what they set the channel up with.
#[derive(Serialize, ToSchema)]
pub struct InboxDetails {
    #[serde(flatten)]
    pub inbox: Inbox,
    /// Web chat inboxes, for admins: the tag to paste into the site (it names the inbox by its
    /// public website token; the identity secret is never shown again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embed_snippet: Option<String>,
    /// What is failing in the inbox's work now (see `InboxWithHealth`).
    pub problems: Vec<InboxProblem>,
}

#[utoipa::path(get, path = "/api/v1/inboxes/{inbox_id}", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)),
    responses((status = 200, body = InboxDetails), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
) -> ApiResult<Json<InboxDetails>> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    // Setting the site up is an admin's job; agents work the conversations.
    let embed_snippet = who
        .is_admin()
        .then(|| state.channels.embed_snippet(&setup_env(&state), &inbox))
        .flatten();
    let problems = state
        .store
        .inbox_problems(who.workspace_id(), Some(&[inbox.id]))
        .await?;
    Ok(Json(InboxDetails {
        inbox,
        embed_snippet,
        problems,
    }))
}

#[utoipa::path(get, path = "/api/v1/inboxes/{inbox_id}/members", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)),
    responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
) -> ApiResult<Json<Vec<User>>> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    Ok(Json(
        state
            .store
            .list_inbox_members(who.workspace_id(), inbox.id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/inboxes/{inbox_id}/members", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = AddMemberBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<AddMemberBody>,
) -> ApiResult<StatusCode> {
    state
        .store
        .add_inbox_member(who.workspace_id(), inbox_id, body.user_id)
        .await?;
    record_audit(
        &state,
        &who,
        AuditAction::InboxMemberAdded,
        inbox_id,
        serde_json::json!({"user_id": body.user_id}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/inboxes/{inbox_id}/members/{user_id}", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path), ("user_id" = i64, Path)),
    responses(
        (status = 204, description = "The user is not a member (any more); their unresolved conversations of the inbox are back in the queue"),
        (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    who: Principal,
    ApiPath((inbox_id, user_id)): ApiPath<(Id, Id)>,
) -> ApiResult<StatusCode> {
    let removed = state
        .store
        .remove_inbox_member(who.workspace_id(), inbox_id, user_id)
        .await?;
    if !removed {
        return Ok(StatusCode::NO_CONTENT);
    }
    record_audit(
        &state,
        &who,
        AuditAction::InboxMemberRemoved,
        inbox_id,
        serde_json::json!({"user_id": user_id}),
    )
    .await?;
    state.gateway.hub.recheck_user(who.workspace_id(), user_id);
    // They can no longer see these conversations, so they can no longer answer them.
    state
        .desk
        .release_agent(
            who.workspace_id(),
            user_id,
            Some(inbox_id),
            "member_removed",
            "Back to the queue: the agent left the inbox",
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
