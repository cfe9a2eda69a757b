//! The HTTP layer's one error type. Each variant says its status; clients get a JSON body
//! `{"error": {"code", "message"}}`. Internal causes are logged, never sent.

use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad UTF-8, bad cursor).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or one that is unknown or expired.
    #[error("authentication required")]
    Unauthorized,
    /// 401 with the reason the credentials were refused (a forged identity, say).
    #[error("{0}")]
    UnauthorizedBecause(String),
    /// 401 `invitation_invalid`: an invitation link that is mistyped, used, replaced or expired
    /// (one answer for all four, so a guesser learns nothing).
    #[error("this invitation link does not work: it may be mistyped, used already, replaced by a newer invitation or older than 7 days. Ask an admin to send a new invitation.")]
    InvitationInvalid,
    /// 403: known user, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 403 `wrong_password`: the current password given to change it is not the user's.
    #[error("the current password is wrong")]
    WrongPassword,
    /// 404: no such thing in the caller's workspace.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405: the path exists, the method does not (the `Allow` header lists those it takes).
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// 409: a uniqueness rule.
    #[error("{0}")]
    Conflict(String),
    /// 413
    #[error("request body is too large")]
    PayloadTooLarge,
    /// 415
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 422: well-formed but wrong (unknown field, missing field, invalid value).
    #[error("{0}")]
    Unprocessable(String),
    /// 422 about one field, named in the body's `error.field` (a path such as
    /// `settings.prechat.fields[1].name`).
    #[error("`{field}`: {message}")]
    InvalidField { field: String, message: String },
    /// 429
    #[error("too many attempts; try again in {} seconds", .0.as_secs().max(1))]
    TooManyRequests(Duration),
    /// 503: a dependency (the database) is not answering.
    #[error("service unavailable")]
    Unavailable,
    /// 500: logged with its cause; the client sees a generic message.
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: &'static str,
    pub message: String,
    /// With some 422s: the path of the field the message is about, in the request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized
            | ApiError::UnauthorizedBecause(_)
            | ApiError::InvitationInvalid => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::WrongPassword => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) | ApiError::InvalidField { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized | ApiError::UnauthorizedBecause(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::WrongPassword => "wrong_password",
            ApiError::InvitationInvalid => "invitation_invalid",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unprocessable(_) | ApiError::InvalidField { .. } => "unprocessable",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// This 401 with the reason spelled out.
    pub fn with_reason(self, reason: String) -> Self {
        match self {
            ApiError::Unauthorized => ApiError::UnauthorizedBecause(reason),
            other => other,
        }
    }

    pub fn forbidden(what: &str) -> Self {
        ApiError::Forbidden(what.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: match &self {
                    ApiError::InvalidField { field, .. } => Some(field.clone()),
                    _ => None,
                },
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::TooManyRequests(wait) = &self {
            if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if matches!(
            self,
            ApiError::Unauthorized | ApiError::UnauthorizedBecause(_)
        ) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<crate::limits::LimitError> for ApiError {
    fn from(e: crate::limits::LimitError) -> Self {
        ApiError::Unprocessable(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(what) => ApiError::Conflict(what.to_string()),
            StoreError::Invalid(why) => ApiError::Unprocessable(why),
            StoreError::Database(sqlx::Error::PoolTimedOut) => ApiError::Unavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
