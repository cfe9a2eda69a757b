//! Invitations: an admin invites an agent by name, email and role; the hub makes the user with
//! no password and a one-time link (mailed through the workspace's email inbox when it has one
//! that sends, else handed to the admin to pass on). Following the link sets a password and
//! signs in. Every way a link can fail (wrong, used, replaced, expired, its user disabled)
//! gets the same answer, so the answer tells an attacker nothing.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::account::audit_by;
use super::auth::{start_session, TokenResponse};
use super::people::{manageable_user, new_member, password_hash};
use crate::auth::{hash_token, random_token};
use crate::domain::{now_millis, Id, Millis, Role, User};
use crate::email::Notice;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ClientIp};
use crate::http::AppState;
use crate::store::{AuditAction, NewAuditEntry, NewInvitation, NewUser, Principal};

/// How long an invitation link works.
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

const TOKEN_PREFIX: &str = "sbi_";

/// The longest token worth looking at (ours are 64 characters).
const TOKEN_CHARS: usize = 200;

/// A fresh token, `sbi_<selector>.<verifier>`, and what is stored of it: the selector finds the
/// invitation, the hash of the whole token proves it.
fn new_invitation_token() -> (String, NewInvitation) {
    let selector = random_token(12);
    let token = format!("{TOKEN_PREFIX}{selector}.{}", random_token(32));
    let expires_at = now_millis() + INVITATION_TTL.as_millis() as i64;
    let invitation = NewInvitation {
        selector,
        token_hash: hash_token(&token),
        expires_at,
    };
    (token, invitation)
}

fn selector_of(token: &str) -> Option<&str> {
    let (selector, verifier) = token.strip_prefix(TOKEN_PREFIX)?.split_once('.')?;
    (!selector.is_empty() && !verifier.is_empty()).then_some(selector)
}

/// Where the invited person chooses their password: the console's invitation page.
fn invitation_link(state: &AppState, token: &str) -> String {
    let server = &state.settings.server;
    let base = if server.public_url.is_empty() {
        format!("http://{}", server.addr)
    } else {
        server.public_url.trim_end_matches('/').to_string()
    };
    format!("{base}/#/invitation/{token}")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteUser {
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationSent {
    /// The invited user (`invited: true` until they set a password).
    pub user: User,
    /// The link went out by mail, through one of the workspace's email inboxes; it is then not
    /// in this answer.
    pub mailed: bool,
    /// The one-time link to hand over, when it was not mailed. Shown once; only its hash is kept.
    pub link: Option<String>,
    /// The token the link carries (for a console that builds the link on its own address).
    pub token: Option<String>,
    pub expires_at: Millis,
    /// Why the mail could not be sent, when an email inbox was there but its server refused.
    pub mail_error: Option<String>,
}

/// Mails the link when the workspace can, else puts it in the answer.
async fn hand_over(
    state: &AppState,
    who: &Principal,
    user: User,
    token: String,
    expires_at: Millis,
) -> InvitationSent {
    let link = invitation_link(state, &token);
    let notice = Notice {
        to_name: Some(user.name.clone()),
        to: user.email.clone(),
        subject: format!("{} invited you to Switchboard", who.user.name),
        text: format!(
            "Hello {},\n\n{} invited you to answer customers with them in Switchboard. \
             Choose your password here to sign in:\n\n{link}\n\n\
             The link works once, for 7 days.\n",
            user.name, who.user.name
        ),
    };
    let (mailed, mail_error) = match state.email.send_notice(who.workspace_id(), notice).await {
        Ok(mailed) => (mailed, None),
        Err(e) => {
            tracing::warn!(error = %e, "the invitation could not be mailed");
            (false, Some(e.to_string()))
        }
    };
    InvitationSent {
        user,
        mailed,
        link: (!mailed).then_some(link),
        token: (!mailed).then_some(token),
        expires_at,
        mail_error,
    }
}

#[utoipa::path(post, path = "/api/v1/invitations", tag = "people", security(("bearer" = [])),
    request_body = InviteUser,
    responses(
        (status = 201, description = "Invited: mailed, or the link to hand over", body = InvitationSent),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Agents; an owner invited by someone who is not one", body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<InviteUser>,
) -> ApiResult<(StatusCode, Json<InvitationSent>)> {
    let (email, name) = new_member(&who, &body.email, &body.name, body.role)?;
    let (token, invitation) = new_invitation_token();
    let expires_at = invitation.expires_at;
    let audit = audit_by(
        &who,
        AuditAction::UserInvited,
        "user",
        None,
        serde_json::json!({"email": email.as_str(), "role": body.role}),
    );
    let user = state
        .store
        .invitations()
        .invite_user(
            NewUser {
                workspace_id: who.workspace_id(),
                email,
                name,
                role: body.role,
                password_hash: String::new(),
            },
            invitation,
            audit,
        )
        .await?;
    let sent = hand_over(&state, &who, user, token, expires_at).await;
    Ok((StatusCode::CREATED, Json(sent)))
}

#[utoipa::path(post, path = "/api/v1/users/{user_id}/invitation", tag = "people", security(("bearer" = [])),
    params(("user_id" = i64, Path)),
    responses(
        (status = 200, description = "A new link; the old one no longer works", body = InvitationSent),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Agents; oneself; an owner, unless the caller is one", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The user has already set a password, or is disabled", body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(user_id): ApiPath<Id>,
) -> ApiResult<Json<InvitationSent>> {
    let target = manageable_user(&state, &who, user_id, "invite").await?;
    if target.disabled {
        return Err(ApiError::Conflict(
            "this user is disabled: enable them before inviting them again".into(),
        ));
    }
    if !target.invited {
        return Err(ApiError::Conflict(
            "this user has already set a password: there is no invitation to send".into(),
        ));
    }
    let (token, invitation) = new_invitation_token();
    let expires_at = invitation.expires_at;
    let audit = audit_by(
        &who,
        AuditAction::UserInvited,
        "user",
        Some(user_id),
        serde_json::json!({"email": target.email, "again": true}),
    );
    state
        .store
        .invitations()
        .renew_invitation(who.workspace_id(), user_id, invitation, audit)
        .await?;
    Ok(Json(
        hand_over(&state, &who, target, token, expires_at).await,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The token of the invitation link (`…/#/invitation/<token>`).
    pub token: String,
    /// At least 8 characters.
    pub password: String,
}

#[utoipa::path(post, path = "/api/v1/auth/accept-invitation", tag = "auth",
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "The password is set and the invited user signed in", body = TokenResponse),
        (status = 400, body = ErrorBody),
        (status = 401, description = "The link does not work (one answer for wrong, used, replaced and expired links)", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "The password does not fit the rules", body = ErrorBody),
        (status = 429, description = "Too many attempts; see the Retry-After header (seconds)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> ApiResult<Json<TokenResponse>> {
    crate::limits::text("token", &body.token, TOKEN_CHARS)?;
    crate::limits::text("password", &body.password, crate::limits::PASSWORD)?;
    let selector = selector_of(&body.token);
    // Guessing links is held to the login budgets: per address, and per link.
    let attempt = state
        .limiter
        .reserve(&format!("invitation:{}", selector.unwrap_or("")), ip)
        .map_err(ApiError::TooManyRequests)?;
    let now = now_millis();
    let invitation = match selector {
        Some(selector) => state.store.invitations().invitation(selector).await?,
        None => None,
    };
    let given = hash_token(&body.token);
    let invitation = invitation
        .filter(|i| bool::from(i.token_hash.ct_eq(&given)))
        .filter(|i| i.expires_at > now);
    let user = match &invitation {
        Some(i) => state.store.get_user(i.workspace_id, i.user_id).await?,
        None => None,
    };
    let (Some(selector), Some(user)) = (selector, user.filter(|u| u.invited && !u.disabled)) else {
        attempt.failed();
        return Err(ApiError::InvitationInvalid);
    };
    // The link is right: a password that does not fit is the person's typo, not a guess.
    attempt.succeeded();
    let password_hash = password_hash(body.password).await?;
    let audit = NewAuditEntry {
        workspace_id: user.workspace_id,
        actor: Some((user.id, user.name.clone())),
        action: AuditAction::UserInvitationAccepted,
        target_kind: "user",
        target_id: Some(user.id),
        details: serde_json::json!({}),
    };
    let user = state
        .store
        .invitations()
        .accept_invitation(selector, password_hash, now, audit)
        .await?
        .ok_or(ApiError::InvitationInvalid)?;
    Ok(Json(start_session(&state, user).await?))
}
