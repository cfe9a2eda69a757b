//! The client id an agent's console sends with a reply: checked at the edge, and fingerprinted
//! with what the request asked for, so the store can tell a retry from a different message that
//! reuses the id.

use sha2::{Digest, Sha256};

use super::conversations::ReplyBody;
use crate::http::error::{ApiError, ApiResult};
use crate::limits;
use crate::store::ReplyClient;

/// `client_id` is 1 to 64 characters of letters, digits and `-_.:` (a UUID fits).
pub fn reply_client(body: &ReplyBody) -> ApiResult<Option<ReplyClient>> {
    let Some(id) = &body.client_id else {
        return Ok(None);
    };
    let well_formed = !id.is_empty()
        && id.len() <= limits::CLIENT_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if !well_formed {
        return Err(ApiError::Unprocessable(format!(
            "`client_id` must be 1 to {} letters, digits or `-_.:`",
            limits::CLIENT_ID
        )));
    }
    Ok(Some(ReplyClient {
        id: id.clone(),
        fingerprint: fingerprint(body),
    }))
}

/// Everything the reply asks for but its client id, hashed: a retry repeats it exactly.
fn fingerprint(body: &ReplyBody) -> String {
    let attachments: Vec<_> = body
        .attachments
        .iter()
        .map(|a| (&a.filename, &a.content_type, &a.url, &a.data))
        .collect();
    let asked = serde_json::json!({
        "text": body.text.trim_end(),
        "html": body.html,
        "private": body.private,
        "attachments": attachments,
        "cc": body.cc,
        "bcc": body.bcc,
        "template": body.template,
        "via_inbox_id": body.via_inbox_id,
    });
    let digest = Sha256::digest(asked.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
