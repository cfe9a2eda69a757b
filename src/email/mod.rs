//! The email channel in the hub: one sync task per IMAP mailbox, the forwarded-mail listener,
//! and the sending half the dispatcher uses. Everything mail-specific (MIME, IMAP, SMTP) lives in
//! the connector crate; this module joins it to the desk (ingest, bounces) and the store.

pub mod check;
mod notice;
mod outbound;
mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;
use switchboard_connector_email::inbound::{InboundLimits, InboundSink};
use switchboard_connector_email::{
    parse_mail, Checkpoint, MailKind, MailSink, MailboxSync, ParseContext, SinkError, SmtpSender,
    ThreadTags,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::crypto::SecretBox;
use crate::desk::Desk;
use crate::domain::{now_millis, Id, Inbox, InboxPart};
use crate::store::{Store, StoreError};

pub use notice::Notice;
pub use outbound::{with_agent_signature, EmailOutbound};
pub use settings::{EmailInboxSettings, EmailSecrets, SettingsError};

/// What became of one mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    Stored {
        message_id: Id,
        created: bool,
    },
    /// A bounce that failed the outgoing messages it names.
    Bounced,
    /// Our own mail come back: dropped so that two mailboxes never answer each other forever.
    Loop,
}

pub struct EmailChannel {
    store: Arc<dyn Store>,
    desk: Desk,
    secrets: SecretBox,
    tags: ThreadTags,
    senders: Mutex<HashMap<Id, (String, Arc<SmtpSender>)>>,
}

impl EmailChannel {
    pub fn new(desk: Desk, secrets: SecretBox) -> Arc<Self> {
        let store = desk.store().clone();
        let tags = ThreadTags::new(secrets.subkey("switchboard email thread tags v1").to_vec());
        Arc::new(EmailChannel {
            store,
            desk,
            secrets,
            tags,
            senders: Mutex::new(HashMap::new()),
        })
    }

    pub fn tags(&self) -> &ThreadTags {
        &self.tags
    }

    /// Parses one raw mail for `inbox` and stores it (or settles the bounce it is). Only a
    /// database failure is an error; a mail that cannot be stored as parsed is stored raw.
    pub async fn accept_mail(&self, inbox: &Inbox, raw: &[u8]) -> Result<MailOutcome, StoreError> {
        let address = inbox
            .settings
            .get("address")
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_lowercase();
        let own = [address];
        let cx = ParseContext {
            tags: &self.tags,
            own_addresses: &own,
        };
        let parsed = parse_mail(raw, &cx);
        let kind = match &parsed.kind {
            MailKind::Customer if parsed.unreadable => "unreadable",
            MailKind::Customer => "customer",
            MailKind::Automatic => "automatic",
            MailKind::Bounce { .. } => "bounce",
            MailKind::Loop => "loop",
        };
        metrics::counter!("switchboard_email_received_total", "kind" => kind).increment(1);
        let mut message = parsed.message;
        match parsed.kind {
            MailKind::Loop => {
                tracing::info!(inbox = inbox.id, external_id = %message.external_id, "own mail came back: dropped");
                return Ok(MailOutcome::Loop);
            }
            MailKind::Bounce { original, reason } => {
                let bounced = self
                    .desk
                    .mark_bounced(inbox.workspace_id, inbox.id, &original, &reason)
                    .await?;
                if bounced {
                    return Ok(MailOutcome::Bounced);
                }
                // A bounce about nothing we know: kept, like any automatic mail.
                message.automatic = true;
            }
            MailKind::Customer | MailKind::Automatic => {}
        }
        let outcome = match self
            .desk
            .ingest(inbox.workspace_id, inbox.id, message)
            .await
        {
            Err(StoreError::Invalid(why)) => {
                tracing::warn!(inbox = inbox.id, %why, "mail refused by ingest: stored raw");
                let mut raw_mail = switchboard_connector_email::parse::unreadable(raw).message;
                raw_mail.text = format!("This email could not be stored as it was ({why}). The original is attached as original.eml.");
                self.desk
                    .ingest(inbox.workspace_id, inbox.id, raw_mail)
                    .await?
            }
            other => other?,
        };
        Ok(MailOutcome::Stored {
            message_id: outcome.message.id,
            created: outcome.created,
        })
    }

    /// Keeps one sync task running per email inbox with a mailbox, restarting a task when its
    /// settings change and stopping it when the inbox goes.
    pub async fn supervise(self: Arc<Self>, every: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut running: HashMap<Id, (String, JoinHandle<()>, watch::Sender<bool>)> =
            HashMap::new();
        loop {
            match self.store.email().email_inboxes().await {
                Ok(inboxes) => {
                    let mut seen = Vec::new();
                    for (inbox, sealed) in inboxes {
                        let settings = match EmailInboxSettings::load(
                            &inbox,
                            sealed.as_deref(),
                            &self.secrets,
                        ) {
                            Ok(s) => s,
                            Err(e) => {
                                tracing::warn!(inbox = inbox.id, error = %e, "email inbox not read");
                                continue;
                            }
                        };
                        let Some(imap) = settings.imap.clone() else {
                            continue;
                        };
                        seen.push(inbox.id);
                        let fingerprint = format!(
                            "{}|{}",
                            serde_json::to_string(&imap).unwrap_or_default(),
                            hex::encode(crate::auth::hash_token(imap.password.expose_secret()))
                        );
                        if let Some((old, task, _)) = running.get(&inbox.id) {
                            if *old == fingerprint && !task.is_finished() {
                                continue;
                            }
                        }
                        if let Some((_, task, stop)) = running.remove(&inbox.id) {
                            let _ = stop.send(true);
                            task.abort();
                        }
                        let (stop, stop_rx) = watch::channel(false);
                        let sink = Arc::new(MailboxSink {
                            channel: self.clone(),
                            mailbox: imap.mailbox.clone(),
                            inbox,
                        });
                        let id = sink.inbox.id;
                        let task = tokio::spawn(MailboxSync::new(imap).run(sink, stop_rx));
                        tracing::info!(inbox = id, "reading the inbox's mailbox");
                        running.insert(id, (fingerprint, task, stop));
                    }
                    running.retain(|id, (_, task, stop)| {
                        let keep = seen.contains(id);
                        if !keep {
                            let _ = stop.send(true);
                            task.abort();
                        }
                        keep
                    });
                }
                Err(e) => tracing::warn!(error = %e, "cannot list email inboxes"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => break,
            }
        }
        for (_, (_, task, stop)) in running {
            let _ = stop.send(true);
            task.abort();
        }
    }

    /// Serves forwarded mail on `listener` until shutdown.
    pub async fn serve_forwarded(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        limits: InboundLimits,
        shutdown: watch::Receiver<bool>,
    ) {
        let sink: Arc<dyn InboundSink> = Arc::new(ForwardedSink { channel: self });
        switchboard_connector_email::inbound::serve(listener, sink, limits, shutdown).await
    }

    fn sender_for(
        &self,
        inbox_id: Id,
        smtp: &switchboard_connector_email::SmtpSettings,
    ) -> Result<Arc<SmtpSender>, switchboard_connector_core::DeliveryError> {
        let fingerprint = format!(
            "{}|{}",
            serde_json::to_string(smtp).unwrap_or_default(),
            hex::encode(crate::auth::hash_token(
                smtp.password
                    .as_ref()
                    .map(ExposeSecret::expose_secret)
                    .unwrap_or("")
            ))
        );
        let mut senders = self.senders.lock().expect("sender cache lock");
        if let Some((old, sender)) = senders.get(&inbox_id) {
            if *old == fingerprint {
                return Ok(sender.clone());
            }
        }
        let sender = Arc::new(SmtpSender::new(smtp)?);
        senders.insert(inbox_id, (fingerprint, sender.clone()));
        Ok(sender)
    }
}

/// An inbox's mailbox as the IMAP sync sees it: checkpoints in the store, mail into ingest.
struct MailboxSink {
    channel: Arc<EmailChannel>,
    inbox: Inbox,
    mailbox: String,
}

#[async_trait::async_trait]
impl MailSink for MailboxSink {
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, SinkError> {
        let stored = self
            .channel
            .store
            .email()
            .checkpoint(self.inbox.id, &self.mailbox)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        Ok(stored.map(|(uid_validity, last_uid)| Checkpoint {
            uid_validity,
            last_uid,
        }))
    }

    async fn accept(&self, uid: u32, raw: &[u8]) -> Result<(), SinkError> {
        self.channel
            .accept_mail(&self.inbox, raw)
            .await
            .map(|_| ())
            .map_err(|e| SinkError(format!("mail UID {uid}: {e}")))
    }

    /// SQLite's single writer commits queued writes in the order they were queued, so mails
    /// started in UID order are stored in that order and share commits. PostgreSQL commits
    /// concurrent transactions independently: one at a time there, so that a reply never
    /// races past the mail it answers.
    fn concurrency(&self) -> usize {
        match self.channel.store.engine() {
            crate::store::Engine::Sqlite => 32,
            crate::store::Engine::Postgres => 1,
        }
    }

    async fn health(&self, problem: Option<String>) {
        let outcome = problem.map_or(Ok(()), Err);
        if let Err(e) = self
            .channel
            .desk
            .inbox_health(
                self.inbox.workspace_id,
                self.inbox.id,
                InboxPart::Mailbox,
                outcome,
            )
            .await
        {
            tracing::warn!(error = %e, inbox = self.inbox.id, "cannot record the mailbox's health");
        }
    }

    async fn save_checkpoint(&self, checkpoint: Checkpoint) -> Result<(), SinkError> {
        self.channel
            .store
            .email()
            .save_checkpoint(
                self.inbox.id,
                &self.mailbox,
                checkpoint.uid_validity,
                checkpoint.last_uid,
                now_millis(),
            )
            .await
            .map_err(|e| SinkError(e.to_string()))
    }
}

/// Forwarded mail: an address (plus tags ignored) names an email inbox.
struct ForwardedSink {
    channel: Arc<EmailChannel>,
}

#[async_trait::async_trait]
impl InboundSink for ForwardedSink {
    async fn route(&self, recipient: &str) -> Option<i64> {
        let (local, domain) = recipient.rsplit_once('@')?;
        let base = format!("{}@{domain}", local.split('+').next().unwrap_or(local));
        let inboxes = self.channel.store.email().email_inboxes().await.ok()?;
        inboxes
            .into_iter()
            .find(|(inbox, _)| {
                inbox
                    .settings
                    .get("address")
                    .and_then(|a| a.as_str())
                    .is_some_and(|a| a.eq_ignore_ascii_case(&base))
            })
            .map(|(inbox, _)| inbox.id)
    }

    async fn deliver(&self, inboxes: &[i64], raw: &[u8]) -> Result<(), SinkError> {
        let all = self
            .channel
            .store
            .email()
            .email_inboxes()
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        for id in inboxes {
            if let Some((inbox, _)) = all.iter().find(|(i, _)| i.id == *id) {
                self.channel
                    .accept_mail(inbox, raw)
                    .await
                    .map_err(|e| SinkError(e.to_string()))?;
            }
        }
        Ok(())
    }
}
