//! The channel's background work: a supervisor that follows the Telegram inboxes of every
//! workspace (picking up ones made, changed or removed since start), registers each webhook
//! inbox's webhook, and runs one long-poll task per polling inbox.
//!
//! Where a poll resumes: Telegram keeps it. An update is confirmed only when `getUpdates` is
//! next called with an offset above its id, and the task moves its offset past an update only
//! after ingest committed it; so a hub that stops (or crashes) at any point resumes, on any
//! node, from the first update it had not stored, and the few it may see again are the same
//! messages (ingest keys on the external id). Nothing is kept in the store for it.

use std::collections::HashMap;
use std::time::Duration;

use switchboard_connector_core::backoff::backoff;
use switchboard_connector_core::ChannelKind;
use switchboard_connector_telegram::{BotApi, BotApiError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{bot_api, mode_of, updates, Mode, TelegramSecrets};
use crate::channels::hooks::{self, HookError};
use crate::channels::ChannelContext;
use crate::domain::{Id, Inbox};

/// How long one `getUpdates` waits for an update (Telegram holds the request open).
const LONG_POLL: Duration = Duration::from_secs(25);
const RETRY_BASE: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// A running inbox task; dropped (inbox removed or changed, supervisor stopped), it stops.
struct Running {
    mode: Mode,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(super) async fn supervise(
    ctx: ChannelContext,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut running: HashMap<Id, Running> = HashMap::new();
    loop {
        match telegram_inboxes(&ctx).await {
            Ok(inboxes) => {
                running.retain(|id, _| inboxes.iter().any(|i| i.id == *id));
                for inbox in inboxes {
                    let Some(mode) = mode_of(&inbox) else {
                        continue;
                    };
                    // A webhook task ends once Telegram took the webhook; a poll never does
                    // unless it panicked, when it is started again.
                    let current = running.get(&inbox.id).is_some_and(|r| {
                        r.mode == mode && (mode == Mode::Webhook || !r.task.is_finished())
                    });
                    if current {
                        continue;
                    }
                    running.remove(&inbox.id);
                    match start_inbox(&ctx, &inbox, mode, shutdown.clone()).await {
                        Ok(task) => {
                            running.insert(inbox.id, Running { mode, task });
                        }
                        Err(e) => {
                            tracing::warn!(inbox = inbox.id, error = %e, "Telegram inbox not started")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list Telegram inboxes"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Every Telegram inbox of every workspace.
async fn telegram_inboxes(ctx: &ChannelContext) -> Result<Vec<Inbox>, crate::store::StoreError> {
    let store = ctx.desk.store();
    let mut found = Vec::new();
    for workspace in store.list_workspaces().await? {
        let inboxes = store.list_inboxes(workspace.id, None).await?;
        found.extend(
            inboxes
                .into_iter()
                .filter(|i| i.kind == ChannelKind::Telegram),
        );
    }
    Ok(found)
}

async fn start_inbox(
    ctx: &ChannelContext,
    inbox: &Inbox,
    mode: Mode,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let hook = hooks::webhook_inbox::<TelegramSecrets>(ctx, inbox.id, ChannelKind::Telegram)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let api = bot_api(ctx, &hook.secrets)?;
    Ok(match mode {
        Mode::Webhook => {
            let url = hooks::webhook_url(&ctx.setup_env(), inbox);
            tokio::spawn(register_webhook(
                api,
                inbox.id,
                url,
                hook.secrets.secret_token,
                shutdown,
            ))
        }
        Mode::Polling => tokio::spawn(poll(ctx.clone(), hook.inbox, api, shutdown)),
    })
}

/// Tells Telegram where this inbox's webhook is, until it has taken it.
async fn register_webhook(
    api: BotApi,
    inbox: Id,
    url: String,
    secret_token: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failures = 0;
    loop {
        match api.set_webhook(&url, &secret_token).await {
            Ok(()) => {
                tracing::info!(inbox, %url, "Telegram webhook set");
                return;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(inbox, error = %e, "cannot set the Telegram webhook; retrying");
            }
        }
        if wait(backoff(failures, RETRY_BASE, RETRY_MAX), &mut shutdown).await {
            return;
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    Api(#[from] BotApiError),
    #[error("update {update}: {error}")]
    Ingest { update: i64, error: HookError },
}

/// Long-polls one inbox's bot until the hub stops.
async fn poll(ctx: ChannelContext, inbox: Inbox, api: BotApi, mut shutdown: watch::Receiver<bool>) {
    // `None`: Telegram answers from its first unconfirmed update (see the module's note).
    let mut offset: Option<i64> = None;
    let mut webhook_removed = false;
    let mut failures = 0;
    loop {
        let step = async {
            if !webhook_removed {
                api.delete_webhook().await?;
                webhook_removed = true;
            }
            for update in api.get_updates(offset, LONG_POLL).await? {
                match updates::ingest_update(&ctx, &inbox, &api, &update).await {
                    Ok(()) => {}
                    // Ingest refused it as bad input: retrying cannot help, and holding the
                    // offset would stop every later message of the bot.
                    Err(HookError::Invalid(why)) => {
                        tracing::error!(inbox = inbox.id, update = update.update_id, %why,
                            "a Telegram update cannot be stored; skipped")
                    }
                    Err(error) => {
                        return Err(PollError::Ingest {
                            update: update.update_id,
                            error,
                        })
                    }
                }
                offset = Some(update.update_id + 1);
            }
            Ok::<(), PollError>(())
        };
        let outcome = tokio::select! {
            outcome = step => outcome,
            _ = shutdown.changed() => return,
        };
        match outcome {
            Ok(()) => failures = 0,
            Err(e) => {
                // Someone set a webhook again (another hub, an admin): remove it once more.
                if matches!(&e, PollError::Api(api_error) if api_error.is_conflict()) {
                    webhook_removed = false;
                }
                failures += 1;
                tracing::warn!(inbox = inbox.id, error = %e, failures, "Telegram poll failed; retrying");
                if wait(backoff(failures, RETRY_BASE, RETRY_MAX), &mut shutdown).await {
                    return;
                }
            }
        }
    }
}

/// Sleeps `how_long`; true when the hub is stopping instead.
async fn wait(how_long: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(how_long) => false,
        _ = shutdown.changed() => true,
    }
}
