//! Attachments as the web adapters take them in (a name, a type, and a URL or base64 bytes,
//! each checked) and hand them out (a download that never renders in our origin).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use switchboard_connector_core::AttachmentSource;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use crate::attachment_meta::{check_filename, content_type_allowed, parse_content_type, MetaError};
use crate::limits;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub filename: String,
    pub content_type: Option<String>,
    /// Either a URL where the file lives…
    pub url: Option<String>,
    /// …or the file itself, base64.
    pub data: Option<String>,
}

/// Turns attachment inputs into stored form: exactly one of `url` or `data` each.
pub fn parse_attachments(
    inputs: Vec<AttachmentInput>,
) -> ApiResult<Vec<(String, String, AttachmentSource)>> {
    if inputs.len() > 20 {
        return Err(ApiError::Unprocessable(
            "at most 20 attachments per message".into(),
        ));
    }
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let field = |name: &str, e: MetaError| {
                ApiError::Unprocessable(format!("`attachments[{i}].{name}` {e}"))
            };
            let filename = check_filename(&a.filename).map_err(|e| field("filename", e))?;
            // Browsers send "" for a file of unknown kind: bytes of no particular type.
            let content_type = match a.content_type.as_deref().filter(|t| !t.trim().is_empty()) {
                Some(raw) => parse_content_type(raw).map_err(|e| field("content_type", e))?,
                None => "application/octet-stream".into(),
            };
            let source = match (a.url, a.data) {
                (Some(url), None) => {
                    limits::text(&format!("attachments[{i}].url"), &url, limits::URL)?;
                    let parsed = url::Url::parse(&url).map_err(|e| {
                        ApiError::Unprocessable(format!("attachment url is not a URL: {e}"))
                    })?;
                    if !matches!(parsed.scheme(), "http" | "https") {
                        return Err(ApiError::Unprocessable(
                            "attachment url must be http or https".into(),
                        ));
                    }
                    // The parsed form: the URL parser drops line breaks and tabs that the raw
                    // input may carry, and the stored value becomes a Location header later.
                    AttachmentSource::Url(parsed.into())
                }
                (None, Some(data)) => AttachmentSource::Inline(
                    base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|_| {
                            ApiError::Unprocessable("attachment data is not base64".into())
                        })?,
                ),
                _ => {
                    return Err(ApiError::Unprocessable(
                        "each attachment needs exactly one of `url` or `data`".into(),
                    ))
                }
            };
            Ok((filename, content_type, source))
        })
        .collect()
}

/// Uploaded files' types must be on the operator's allow-list (`attachments.content_types`).
pub fn check_attachment_types(
    attachments: &[(String, String, AttachmentSource)],
    allowed: &[String],
) -> ApiResult<()> {
    for (i, (_, content_type, _)) in attachments.iter().enumerate() {
        if !content_type_allowed(content_type, allowed) {
            return Err(ApiError::Unprocessable(format!(
                "`attachments[{i}].content_type` {}",
                MetaError::NotAccepted(content_type.clone())
            )));
        }
    }
    Ok(())
}

/// An attachment's bytes as a download. Never rendered inline: an uploaded HTML file must not
/// run in our origin. Headers are rebuilt from the stored name and type, so a value stored with
/// a line break (before uploads were checked, or from another channel) still downloads.
pub fn file_response(attachment: &crate::domain::Attachment, data: Vec<u8>) -> Response {
    use crate::attachment_meta::{content_disposition, download_content_type};
    (
        [
            (
                header::CONTENT_TYPE,
                download_content_type(&attachment.content_type),
            ),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(&attachment.filename),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        data,
    )
        .into_response()
}
