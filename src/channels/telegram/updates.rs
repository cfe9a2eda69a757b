//! One update into the hub, the same way whether a webhook or a long poll brought it: read it,
//! fetch its files from Telegram, and ingest it (once per external id, whatever the retries).

use switchboard_connector_core::InboundAttachment;
use switchboard_connector_telegram::api::Update;
use switchboard_connector_telegram::{read_update, BotApi, BotApiError, FileRef};

use crate::attachment_meta::{check_filename, content_type_allowed};
use crate::channels::hooks::{self, HookError};
use crate::channels::ChannelContext;
use crate::domain::Inbox;

/// Stores what the update carries; `Ok` only once it is committed (or was already), so the
/// caller may then acknowledge it to Telegram. Updates with nothing a customer said are
/// acknowledged without storing anything.
pub(crate) async fn ingest_update(
    ctx: &ChannelContext,
    inbox: &Inbox,
    api: &BotApi,
    update: &Update,
) -> Result<(), HookError> {
    let Some(read) = read_update(update) else {
        tracing::debug!(
            inbox = inbox.id,
            update = update.update_id,
            "nothing to store"
        );
        return Ok(());
    };
    let mut message = read.message;
    let mut missing = Vec::new();
    let allowed = &ctx.settings.attachments.content_types;
    for file in &read.files {
        match fetch_file(ctx, api, file).await? {
            // Customers' files are held to the operator's allow-list like uploaded ones.
            Some(attachment) if !content_type_allowed(&attachment.content_type, allowed) => missing
                .push(format!(
                    "[{}: a {} file, not accepted here]",
                    attachment.filename, attachment.content_type
                )),
            Some(attachment) => message.attachments.push(attachment),
            None => missing.push(format!("[{}: too large to keep]", file.filename)),
        }
    }
    // A file Telegram will not hand over (over its 20 MB bot limit), too large for the hub or
    // of a refused type is named in the text rather than losing the whole message.
    for note in missing {
        if !message.text.is_empty() {
            message.text.push('\n');
        }
        message.text.push_str(&note);
    }
    ctx.desk
        .ingest(inbox.workspace_id, inbox.id, message)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Invalid(why) => HookError::Invalid(why),
            other => HookError::from(other),
        })?;
    Ok(())
}

/// The file's bytes, or `None` when it is too large to be had; transient failures are errors
/// (the update is then delivered again).
async fn fetch_file(
    ctx: &ChannelContext,
    api: &BotApi,
    file: &FileRef,
) -> Result<Option<InboundAttachment>, HookError> {
    let cap = ctx.settings.providers.max_media_bytes as u64;
    if file.size.is_some_and(|size| size > cap) {
        return Ok(None);
    }
    let described = match api.get_file(&file.file_id).await {
        Ok(described) => described,
        Err(BotApiError::Refused { status, .. })
            if (400..500).contains(&status) && status != 429 =>
        {
            return Ok(None)
        }
        Err(e) => return Err(HookError::Internal(format!("getFile: {e}"))),
    };
    let path = described
        .file_path
        .ok_or_else(|| HookError::Internal("getFile answered no file_path".into()))?;
    let request = ctx
        .http
        .get(&api.file_url(&path))
        .map_err(|e| HookError::Internal(format!("the file address is not allowed: {e}")))?;
    // Telegram passes the sender's file name on as given: keep its last part, if it is a
    // name at all (no controls).
    let base = file.filename.rsplit(['/', '\\']).next().unwrap_or_default();
    let filename = check_filename(base).unwrap_or_else(|_| "file".into());
    match hooks::fetch_media(ctx, request, filename, file.content_type.clone()).await {
        Ok(attachment) => Ok(Some(attachment)),
        Err(HookError::Invalid(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
