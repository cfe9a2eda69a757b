//! `POST /widget/v1/sessions`: a visitor arrives. The website token names the inbox, the site may
//! vouch for who the visitor is (a signed identity), and the visitor gets a signed visitor token.

use std::net::IpAddr;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchboard_connector_core::InboundSender;
use utoipa::ToSchema;

use super::identity::{verify_identifier_hash, verify_jwt, IdentityError, VerifiedIdentity};
use super::resume;
use super::settings::Prechat;
use super::token::TokenError;
use super::WidgetState;
use super::{VisitorClaims, WebChatSettings};
use crate::domain::{now_millis, EmailAddress, Id};
use crate::edge::error::{ApiError, ApiResult, ErrorBody};
use crate::edge::extract::{ApiJson, ClientIp};
use crate::limits::{self, LimitError};
use crate::store::Unverified;

pub(super) fn throttled(state: &WidgetState, keys: Vec<String>) -> ApiResult<()> {
    state
        .widget_throttle
        .hit(&keys)
        .map_err(ApiError::TooManyRequests)
}

pub(super) fn ip_key(ip: Option<IpAddr>) -> String {
    format!("ip:{}", ip.map_or("unknown".into(), |ip| ip.to_string()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    pub identifier: String,
    pub identifier_hash: Option<String>,
    pub jwt: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub website_token: String,
    pub visitor_token: Option<String>,
    pub identity: Option<IdentityInput>,
    pub locale: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionVisitor {
    pub contact_id: Id,
    pub name: Option<String>,
    pub email: Option<String>,
    pub verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AttachmentLimits {
    pub max_bytes: usize,
    pub content_types: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInbox {
    pub name: String,
    pub greeting: Option<String>,
    pub away_message: Option<String>,
    /// Inside business hours.
    pub online: bool,
    pub prechat: Prechat,
    pub color: String,
    pub attachments: AttachmentLimits,
    pub csat: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub visitor_token: String,
    pub visitor: SessionVisitor,
    pub inbox: SessionInbox,
}

fn identity_error(e: IdentityError) -> ApiError {
    match e {
        IdentityError::Required => ApiError::Forbidden(e.to_string()),
        other => ApiError::Unauthorized.with_reason(other.to_string()),
    }
}

/// Checks what the host site vouched for, with the inbox's identity secret. An identifier hash
/// covers the identifier alone: the name and email beside it are not vouched for.
fn verify_identity(
    state: &WidgetState,
    sealed_secret: Option<&[u8]>,
    input: &IdentityInput,
) -> Result<VerifiedIdentity, ApiError> {
    let secret = sealed_secret
        .ok_or_else(|| ApiError::Internal("web chat inbox without identity secret".into()))
        .and_then(|s| {
            state
                .secrets
                .open(s)
                .map_err(|e| ApiError::Internal(e.to_string()))
        })?;
    match (&input.jwt, &input.identifier_hash) {
        (Some(jwt), _) => {
            let who = verify_jwt(&secret, jwt).map_err(identity_error)?;
            if who.identifier != input.identifier {
                return Err(identity_error(IdentityError::BadSignature));
            }
            // Signed by the site, and still stored: held to the same caps as typed values.
            limits::optional("identity.jwt.name", who.name.as_deref(), limits::NAME)?;
            limits::optional("identity.jwt.email", who.email.as_deref(), limits::EMAIL)?;
            Ok(who)
        }
        (None, Some(hash)) => {
            verify_identifier_hash(&secret, &input.identifier, hash).map_err(identity_error)?;
            Ok(VerifiedIdentity {
                identifier: input.identifier.clone(),
                name: None,
                email: None,
                expires_at: None,
            })
        }
        (None, None) => Err(identity_error(IdentityError::BadSignature)),
    }
}

/// Starts or resumes a visitor's session.
#[utoipa::path(post, path = "/widget/v1/sessions", tag = "widget", request_body = SessionRequest,
    responses((status = 200, body = SessionResponse),
        (status = 401, description = "Forged visitor token or identity", body = ErrorBody),
        (status = 403, description = "Origin not allowed, or a verified identity is required", body = ErrorBody),
        (status = 404, description = "Unknown website token", body = ErrorBody),
        (status = 422, description = "A field is invalid or longer than its cap", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn session(
    State(state): State<WidgetState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<SessionRequest>,
) -> ApiResult<Json<SessionResponse>> {
    throttled(&state, vec![format!("session:{}", ip_key(ip))])?;
    check_session_input(&body)?;
    let (inbox, sealed) = state
        .store()
        .widget()
        .inbox_by_website_token(body.website_token.trim())
        .await?
        .ok_or(ApiError::NotFound("website token"))?;
    let settings = WebChatSettings::from_inbox(&inbox.settings);
    if !settings.origin_allowed(super::visitor::origin(&headers)) {
        return Err(ApiError::forbidden("this site may not embed the widget"));
    }
    let verified = match &body.identity {
        Some(input) => Some(verify_identity(&state, sealed.as_deref(), input)?),
        None if settings.require_identity_verification => {
            return Err(identity_error(IdentityError::Required))
        }
        None => None,
    };
    let now = now_millis();
    let previous = match &body.visitor_token {
        Some(token) => match state.visitor_tokens.verify(token, now) {
            Ok(claims) if claims.inbox_id != inbox.id => {
                return Err(
                    ApiError::Unauthorized.with_reason("visitor token of another inbox".into())
                );
            }
            Ok(claims) => Some(claims),
            // An expired token names nobody: the browser starts afresh.
            Err(TokenError::Expired) => None,
            Err(e) => return Err(ApiError::Unauthorized.with_reason(e.to_string())),
        },
        None => None,
    };
    // A browser keeps its visitor id while the same person comes back; a verified identity
    // decides the contact across devices.
    let visitor_id = previous
        .filter(|p| resume::continues(p, verified.as_ref()))
        .map(|p| p.visitor_id)
        .unwrap_or_else(|| crate::auth::random_token(16));
    if let Some(email) = verified.as_ref().and_then(|v| v.email.as_deref()) {
        EmailAddress::parse(email).map_err(ApiError::Unprocessable)?;
    }
    let sender = InboundSender {
        identities: resume::claimed_identities(inbox.id, &visitor_id, verified.as_ref()),
        name: verified.as_ref().and_then(|v| v.name.clone()),
        email: verified.as_ref().and_then(|v| v.email.clone()),
        phone: None,
    };
    // Unsigned name and email beside an identifier hash are the visitor's word, like a form's.
    let typed = body
        .identity
        .as_ref()
        .map_or_else(Unverified::default, |i| Unverified {
            name: i.name.clone(),
            email: i.email.clone().filter(|e| EmailAddress::parse(e).is_ok()),
            ..Default::default()
        });
    let contact = state
        .desk
        .find_or_create_contact(inbox.workspace_id, sender, typed)
        .await?;
    let expires_at = state.visitor_tokens.expiry(
        now,
        verified.is_some(),
        verified.as_ref().and_then(|v| v.expires_at),
    );
    let claims = VisitorClaims {
        workspace_id: inbox.workspace_id,
        inbox_id: inbox.id,
        contact_id: contact.id,
        visitor_id,
        verified: verified.map(|v| v.identifier),
        issued_at: now,
        expires_at: Some(expires_at),
    };
    let limits = &state.settings;
    Ok(Json(SessionResponse {
        visitor_token: state.visitor_tokens.issue(&claims),
        visitor: SessionVisitor {
            contact_id: contact.id,
            name: contact.name,
            email: contact.email,
            verified: claims.verified.is_some(),
        },
        inbox: SessionInbox {
            name: inbox.name,
            online: settings.is_open(jiff::Timestamp::now()),
            greeting: settings.greeting,
            away_message: settings.away_message,
            prechat: settings.prechat,
            color: settings.color,
            attachments: AttachmentLimits {
                max_bytes: limits.max_attachment_bytes,
                content_types: limits.attachment_types.clone(),
            },
            csat: settings.csat,
        },
    }))
}

fn check_session_input(body: &SessionRequest) -> Result<(), LimitError> {
    limits::optional("locale", body.locale.as_deref(), limits::LOCALE)?;
    let Some(identity) = &body.identity else {
        return Ok(());
    };
    limits::text(
        "identity.identifier",
        &identity.identifier,
        limits::IDENTIFIER,
    )?;
    limits::optional("identity.name", identity.name.as_deref(), limits::NAME)?;
    limits::optional("identity.email", identity.email.as_deref(), limits::EMAIL)?;
    limits::optional(
        "identity.identifier_hash",
        identity.identifier_hash.as_deref(),
        limits::TOKEN,
    )?;
    limits::optional("identity.jwt", identity.jwt.as_deref(), limits::TOKEN)
}
