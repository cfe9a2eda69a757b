//! One update into the hub, the same way whether a webhook or a long poll brought it: read it,
//! fetch its files from Telegram, and ingest it (once per external id, whatever the retries).

use switchboard_connector_core::InboundAttachment;
use switchboard_connector_telegram::api::Update;
use switchboard_connector_telegram::{read_update, BotApi, BotApiError, FileRef};

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
    for file in &read.files {
        match fetch_file(ctx, api, file).await? {
            Some(attachment) => message.attachments.push(attachment),
            None => missing.push(file.filename.clone()),
        }
    }
    // A file Telegram will not hand over (over its 20 MB bot limit) or too large for the hub
    // is named in the text rather than losing the whole message.
    for name in missing {
        if !message.text.is_empty() {
            message.text.push('\n');
        }
        message
            .text
            .push_str(&format!("[{name}: too large to keep]"));
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
    match hooks::fetch_media(
        ctx,
        request,
        file.filename.clone(),
        file.content_type.clone(),
    )
    .await
    {
        Ok(attachment) => Ok(Some(attachment)),
        Err(HookError::Invalid(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
