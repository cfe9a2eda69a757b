//! Inboxes (channel instances), their members, and the API channel's inbound endpoint.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::{
    ChannelKind, Identity, InboundAttachment, InboundMessage, InboundSender,
};
use utoipa::ToSchema;

use super::{visible_inbox, AddMemberBody};
use crate::domain::{Id, Inbox, Message, User};
use crate::edge::attachments::{check_attachment_types, parse_attachments, AttachmentInput};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::AppState;
use crate::limits::{self, LimitError};
use crate::store::{AuditAction, NewInbox, Principal};

#[utoipa::path(get, path = "/api/v1/inboxes", tag = "inboxes", security(("bearer" = [])),
    responses((status = 200, description = "The inboxes the caller may see", body = Vec<Inbox>)))]
pub async fn list(State(state): State<AppState>, who: Principal) -> ApiResult<Json<Vec<Inbox>>> {
    let visible = who.visible_inboxes();
    Ok(Json(
        state
            .store
            .list_inboxes(who.workspace_id(), visible.as_deref())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInbox {
    pub name: String,
    /// `api`, `email`, `web_chat`, `sms`, `whatsapp`, `messenger`, `instagram`, `telegram`.
    pub kind: String,
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
}

/// A callback URL must be http(s) and must not name an internal address outright (unless the
/// operator allows it). Names are checked again when each callback resolves: DNS can change.
fn check_callback_url(state: &AppState, url: &str) -> ApiResult<()> {
    limits::text("callback_url", url, limits::URL)?;
    let parsed = url::Url::parse(url)
        .map_err(|e| ApiError::Unprocessable(format!("`callback_url` is not a URL: {e}")))?;
    let policy = state
        .settings
        .outbound
        .policy()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    policy
        .check_url(&parsed)
        .map_err(|e| ApiError::Unprocessable(format!("`callback_url` is not allowed: {e}")))
}

/// An email inbox's texts, capped like every other stored text.
fn check_email_lengths(
    email: &crate::email::EmailInboxSettings,
    imap_password: &Option<String>,
    smtp_password: &Option<String>,
) -> Result<(), LimitError> {
    limits::text("email.address", &email.address, limits::EMAIL)?;
    limits::optional(
        "email.display_name",
        email.display_name.as_deref(),
        limits::NAME,
    )?;
    limits::optional(
        "email.signature",
        email.signature.as_deref(),
        limits::SIGNATURE,
    )?;
    if let Some(imap) = &email.imap {
        limits::text("email.imap.host", &imap.host, limits::IDENTIFIER)?;
        limits::text("email.imap.username", &imap.username, limits::IDENTIFIER)?;
        limits::text("email.imap.mailbox", &imap.mailbox, limits::IDENTIFIER)?;
    }
    if let Some(smtp) = &email.smtp {
        limits::text("email.smtp.host", &smtp.host, limits::IDENTIFIER)?;
        limits::optional(
            "email.smtp.username",
            smtp.username.as_deref(),
            limits::IDENTIFIER,
        )?;
    }
    limits::optional("imap_password", imap_password.as_deref(), limits::TOKEN)?;
    limits::optional("smtp_password", smtp_password.as_deref(), limits::TOKEN)
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
}

/// The one tag a site owner pastes to get the widget.
pub fn embed_snippet(state: &AppState, inbox: &Inbox) -> Option<String> {
    let token = inbox.settings.get("website_token")?.as_str()?;
    let base = if state.settings.server.public_url.is_empty() {
        format!("http://{}", state.settings.server.addr)
    } else {
        state
            .settings
            .server
            .public_url
            .trim_end_matches('/')
            .to_string()
    };
    Some(format!(
        r#"<script src="{base}/widget.js" data-website-token="{token}" async></script>"#
    ))
}

#[utoipa::path(post, path = "/api/v1/inboxes", tag = "inboxes", security(("bearer" = [])),
    request_body = CreateInbox,
    responses((status = 201, body = CreatedInbox), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<CreateInbox>,
) -> ApiResult<(StatusCode, Json<CreatedInbox>)> {
    let kind = ChannelKind::parse(&body.kind)
        .ok_or_else(|| ApiError::Unprocessable(format!("unknown inbox kind {:?}", body.kind)))?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::Unprocessable(
            "`name` must be 1 to 200 characters".into(),
        ));
    }
    let mut settings = serde_json::Map::new();
    if let Some(url) = body.callback_url.filter(|u| !u.is_empty()) {
        if kind != ChannelKind::Api {
            return Err(ApiError::Unprocessable(
                "only API inboxes take a `callback_url`".into(),
            ));
        }
        check_callback_url(&state, &url)?;
        settings.insert("callback_url".into(), url.into());
    }
    let website_token =
        (kind == ChannelKind::WebChat).then(|| format!("wt_{}", crate::auth::random_token(18)));
    if let Some(token) = &website_token {
        let chat = crate::widget::WebChatSettings {
            website_token: token.clone(),
            ..Default::default()
        };
        let serde_json::Value::Object(map) = serde_json::to_value(chat).unwrap_or_default() else {
            unreachable!("settings serialize to an object")
        };
        settings.extend(map);
    }
    let mut sealed_email = None;
    match (kind, body.email) {
        (ChannelKind::Email, Some(email)) => {
            check_email_lengths(&email, &body.imap_password, &body.smtp_password)?;
            email
                .check()
                .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
            let serde_json::Value::Object(map) = serde_json::to_value(&email).unwrap_or_default()
            else {
                unreachable!("settings serialize to an object")
            };
            settings.extend(map);
            let passwords = crate::email::EmailSecrets {
                imap_password: body.imap_password,
                smtp_password: body.smtp_password,
            };
            let plain = serde_json::to_vec(&passwords).unwrap_or_default();
            sealed_email = Some(state.secrets.seal(&plain));
        }
        (ChannelKind::Email, None) => {
            return Err(ApiError::Unprocessable(
                "email inboxes need `email` settings (at least the `address`)".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(ApiError::Unprocessable(
                "only email inboxes take `email` settings".into(),
            ))
        }
        (_, None) => {}
    }
    let secret = matches!(kind, ChannelKind::Api | ChannelKind::WebChat)
        .then(|| crate::auth::random_token(32));
    let inbox = state
        .store
        .create_inbox(NewInbox {
            workspace_id: who.workspace_id(),
            name: name.to_string(),
            kind,
            settings: serde_json::Value::Object(settings),
            sealed_secret: sealed_email
                .or_else(|| secret.as_ref().map(|s| state.secrets.seal(s.as_bytes()))),
        })
        .await?;
    if let Some(token) = &website_token {
        state
            .store
            .widget()
            .set_website_token(inbox.id, token)
            .await?;
    }
    // After the inbox's own commit, not in it: inbox creation is spread over several stores.
    record_audit(
        &state,
        &who,
        AuditAction::InboxCreated,
        inbox.id,
        serde_json::json!({"name": inbox.name, "kind": inbox.kind}),
    )
    .await?;
    let embed_snippet = embed_snippet(&state, &inbox);
    Ok((
        StatusCode::CREATED,
        Json(CreatedInbox {
            inbox,
            secret,
            embed_snippet,
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
    let Some(settings) = body.settings else {
        return Ok(Json(inbox));
    };
    let settings = match inbox.kind {
        ChannelKind::WebChat => {
            let mut chat: crate::widget::WebChatSettings = serde_json::from_value(settings)
                .map_err(|e| ApiError::Unprocessable(format!("invalid web chat settings: {e}")))?;
            chat.website_token =
                crate::widget::WebChatSettings::from_inbox(&inbox.settings).website_token;
            chat.validate().map_err(ApiError::Unprocessable)?;
            serde_json::to_value(chat).map_err(|e| ApiError::Internal(e.to_string()))?
        }
        ChannelKind::Api => {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct ApiSettings {
                callback_url: Option<String>,
            }
            let api: ApiSettings = serde_json::from_value(settings.clone())
                .map_err(|e| ApiError::Unprocessable(format!("invalid API inbox settings: {e}")))?;
            if let Some(url) = api.callback_url.as_deref().filter(|u| !u.is_empty()) {
                check_callback_url(&state, url)?;
            }
            settings
        }
        other => {
            return Err(ApiError::Unprocessable(format!(
                "{other} inboxes have no settings to change here yet"
            )))
        }
    };
    // Which settings were given, never their values (some are secret).
    let keys: Vec<String> = settings
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let updated = state
        .store
        .widget()
        .update_inbox_settings(who.workspace_id(), inbox.id, settings)
        .await?;
    record_audit(
        &state,
        &who,
        AuditAction::InboxSettingsChanged,
        inbox.id,
        serde_json::json!({"keys": keys}),
    )
    .await?;
    Ok(Json(updated))
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

#[utoipa::path(get, path = "/api/v1/inboxes/{inbox_id}", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)),
    responses((status = 200, body = Inbox), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
) -> ApiResult<Json<Inbox>> {
    Ok(Json(visible_inbox(&state, &who, inbox_id).await?))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundContact {
    /// Your system's id for this person; messages with the same one join the same contact.
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundMessageBody {
    pub contact: InboundContact,
    /// Your id for this message. Sending the same one again answers the stored message.
    pub external_id: String,
    #[serde(default)]
    pub text: String,
    pub html: Option<String>,
    pub subject: Option<String>,
    /// Keeps messages with the same key in one conversation while it is open.
    pub thread_key: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

/// Every text an integration can store through the inbound endpoint, capped (`text` is held
/// to its cap by the ingest door).
fn check_inbound(body: &InboundMessageBody) -> Result<(), LimitError> {
    let contact = &body.contact;
    limits::optional(
        "contact.identifier",
        contact.identifier.as_deref(),
        limits::IDENTIFIER,
    )?;
    limits::optional("contact.name", contact.name.as_deref(), limits::NAME)?;
    limits::optional("contact.email", contact.email.as_deref(), limits::EMAIL)?;
    limits::optional("contact.phone", contact.phone.as_deref(), limits::PHONE)?;
    limits::text("external_id", &body.external_id, limits::EXTERNAL_ID)?;
    limits::optional("subject", body.subject.as_deref(), limits::SUBJECT)?;
    limits::optional("thread_key", body.thread_key.as_deref(), limits::IDENTIFIER)?;
    body.html
        .as_deref()
        .map_or(Ok(()), |h| limits::bytes("html", h, limits::HTML_BYTES))
}

/// The API channel's door: any system can hand the hub a customer message.
#[utoipa::path(post, path = "/api/v1/inboxes/{inbox_id}/messages", tag = "inboxes", security(("bearer" = [])),
    params(("inbox_id" = i64, Path)), request_body = InboundMessageBody,
    responses(
        (status = 201, description = "Stored", body = Message),
        (status = 200, description = "Already stored under this external id", body = Message),
        (status = 422, body = ErrorBody)))]
pub async fn inbound_message(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(inbox_id): ApiPath<Id>,
    ApiJson(body): ApiJson<InboundMessageBody>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let inbox = visible_inbox(&state, &who, inbox_id).await?;
    if inbox.kind != ChannelKind::Api {
        return Err(ApiError::Unprocessable(format!(
            "this endpoint takes messages for API inboxes; inbox {} is {}",
            inbox.id, inbox.kind
        )));
    }
    check_inbound(&body)?;
    let contact = body.contact;
    let mut identities = Vec::new();
    if let Some(id) = contact
        .identifier
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        // Scoped to the inbox: two integrations may use the same ids for different people.
        identities.push(Identity::new(format!("api:{}", inbox.id), id));
    }
    if let Some(email) = &contact.email {
        crate::domain::EmailAddress::parse(email).map_err(ApiError::Unprocessable)?;
    }
    if identities.is_empty() && contact.email.is_none() && contact.phone.is_none() {
        return Err(ApiError::Unprocessable(
            "`contact` needs an `identifier`, `email` or `phone`".into(),
        ));
    }
    let attachments = parse_attachments(body.attachments)?;
    check_attachment_types(&attachments, &state.settings.attachments.content_types)?;
    let attachments = attachments
        .into_iter()
        .map(|(filename, content_type, source)| InboundAttachment {
            filename,
            content_type,
            source,
        })
        .collect();
    let message = InboundMessage {
        external_id: body.external_id,
        sender: InboundSender {
            identities,
            name: contact.name,
            email: contact.email,
            phone: contact.phone,
        },
        text: body.text,
        html: body.html,
        subject: body.subject,
        attachments,
        thread_key: body.thread_key,
        ..Default::default()
    };
    let outcome = state
        .desk
        .ingest(who.workspace_id(), inbox.id, message)
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome.message)))
}
