//! The email channel: an inbox with an address, read over IMAP or fed by forwarded mail, and
//! answered over SMTP. The mail work itself (sync, parsing, sending) is `crate::email`; this is
//! its face to the registry: the setup form, the sealed passwords, the sender and the tasks.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use switchboard_connector_core::{DeliveryError, Outbound};
use tokio::sync::watch;

use super::{
    Channel, ChannelContext, ChannelError, ChannelTasks, FieldType, InboxSetup, SetupEnv,
    SetupField, SetupInput,
};
use crate::domain::Inbox;
use crate::email as mail;
use crate::limits::{self, LimitError};
use crate::store::ClaimedDelivery;

/// The name under which the forwarded-mail listener's address is reported.
pub const FORWARDED_MAIL_LISTENER: &str = "forwarded_mail";

/// One per hub: the mail side is made from the hub's context when the channel starts (or first
/// sends), and keeps the SMTP pools and thread tags from then on.
#[derive(Default)]
pub struct EmailChannel {
    mail: OnceLock<Arc<mail::EmailChannel>>,
}

impl EmailChannel {
    /// The mail side of the registry's email channel, or a mail side of its own when the
    /// registry has none (mail can still be handed in, e.g. by tests).
    pub fn mail_side(
        registry: &super::ChannelRegistry,
        ctx: &ChannelContext,
    ) -> Arc<mail::EmailChannel> {
        match registry.find::<EmailChannel>() {
            Some(channel) => channel.mail(ctx).clone(),
            None => EmailChannel::default().mail(ctx).clone(),
        }
    }

    fn mail(&self, ctx: &ChannelContext) -> &Arc<mail::EmailChannel> {
        self.mail
            .get_or_init(|| mail::EmailChannel::new(ctx.desk.clone(), ctx.secrets.clone()))
    }
}

#[async_trait::async_trait]
impl Channel for EmailChannel {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn label(&self) -> &'static str {
        "Email"
    }

    fn setup_fields(&self) -> Vec<SetupField> {
        use FieldType::*;
        let security = ["tls", "starttls", "plain"];
        vec![
            SetupField::new("email.address", "Address", Email)
                .required()
                .help("The support address customers write to, e.g. support@example.com."),
            SetupField::new("email.display_name", "Display name", Text)
                .help("Shown after the agent's name in From: \"Ana | Acme Support\"."),
            SetupField::new("email.signature", "Signature", LongText)
                .help("Appended to every reply."),
            SetupField::new("email.imap.host", "IMAP server", Text)
                .help("The mailbox to read; leave empty when mail arrives only by forwarding."),
            SetupField::new("email.imap.port", "IMAP port", Number).help("993 for TLS."),
            SetupField::new("email.imap.security", "IMAP security", Choice).options(&security),
            SetupField::new("email.imap.username", "IMAP user name", Text),
            SetupField::new("email.imap.mailbox", "IMAP mailbox", Text).help("INBOX unless set."),
            SetupField::new("imap_password", "IMAP password", Password),
            SetupField::new("email.smtp.host", "SMTP server", Text)
                .help("The server replies go out through."),
            SetupField::new("email.smtp.port", "SMTP port", Number)
                .help("465 for TLS, 587 for STARTTLS."),
            SetupField::new("email.smtp.security", "SMTP security", Choice).options(&security),
            SetupField::new("email.smtp.username", "SMTP user name", Text),
            SetupField::new("smtp_password", "SMTP password", Password),
        ]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let email: mail::EmailInboxSettings = input.get("email")?.ok_or_else(|| {
            ChannelError::Invalid(
                "email inboxes need `email` settings (at least the `address`)".into(),
            )
        })?;
        let passwords = mail::EmailSecrets {
            imap_password: input.get("imap_password")?,
            smtp_password: input.get("smtp_password")?,
        };
        check_lengths(&email, &passwords)?;
        email
            .check()
            .map_err(|e| ChannelError::Invalid(e.to_string()))?;
        let mut setup = InboxSetup::default();
        setup.add_settings(&email)?;
        let plain =
            serde_json::to_vec(&passwords).map_err(|e| ChannelError::Internal(e.to_string()))?;
        setup.sealed_secret = Some(env.secrets.seal(&plain));
        Ok(setup)
    }

    /// A whole new set of email settings (`address`, `imap`, `smtp`…; passwords go in
    /// `secrets`), checked like a new inbox's.
    fn change_settings(
        &self,
        _env: &SetupEnv<'_>,
        _inbox: &Inbox,
        settings: serde_json::Value,
    ) -> Result<serde_json::Value, ChannelError> {
        let email: mail::EmailInboxSettings = serde_json::from_value(settings)
            .map_err(|e| ChannelError::Invalid(format!("invalid email inbox settings: {e}")))?;
        check_lengths(&email, &mail::EmailSecrets::default())?;
        email
            .check()
            .map_err(|e| ChannelError::Invalid(e.to_string()))?;
        // Serialised without passwords: they live only in the sealed secret.
        serde_json::to_value(&email).map_err(|e| ChannelError::Internal(e.to_string()))
    }

    /// The passwords typed now, else the saved ones for an unchanged server and user. A server
    /// or user that changed needs its password typed again: the saved one is never handed to
    /// another server.
    fn change_secrets(
        &self,
        env: &SetupEnv<'_>,
        inbox: &Inbox,
        settings: &serde_json::Value,
        saved: Option<&[u8]>,
        typed: &SetupInput,
    ) -> Result<Option<Vec<u8>>, ChannelError> {
        if let Some(key) = typed
            .keys()
            .find(|k| !matches!(*k, "imap_password" | "smtp_password"))
        {
            return Err(ChannelError::Invalid(format!(
                "`secrets.{key}`: email inboxes keep `imap_password` and `smtp_password`"
            )));
        }
        let new: mail::EmailInboxSettings = serde_json::from_value(settings.clone())
            .map_err(|e| ChannelError::Invalid(format!("invalid email inbox settings: {e}")))?;
        let old = mail::EmailInboxSettings::load(inbox, saved, env.secrets)
            .map_err(|e| ChannelError::Internal(e.to_string()))?;
        let typed = mail::EmailSecrets {
            imap_password: typed.get("imap_password")?,
            smtp_password: typed.get("smtp_password")?,
        };
        check_lengths(&new, &typed)?;
        let passwords = new.passwords(&typed, &old);
        let had = old.saved_passwords();
        let lost = [
            (
                "imap_password",
                "IMAP",
                new.imap.is_some() && had.imap_password.is_some(),
                &passwords.imap_password,
            ),
            (
                "smtp_password",
                "SMTP",
                new.smtp.is_some() && had.smtp_password.is_some(),
                &passwords.smtp_password,
            ),
        ];
        if let Some((field, server, ..)) = lost
            .into_iter()
            .find(|(_, _, had_one, now)| *had_one && now.is_none())
        {
            return Err(ChannelError::Invalid(format!(
                "`{field}`: the {server} server or user changed; type its password again \
                 (a saved password only goes to the server it was saved for)"
            )));
        }
        let plain =
            serde_json::to_vec(&passwords).map_err(|e| ChannelError::Internal(e.to_string()))?;
        Ok(Some(env.secrets.seal(&plain)))
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        Ok(Box::new(mail::EmailOutbound::for_delivery(
            self.mail(ctx),
            claimed,
        )?))
    }

    /// One sync task per IMAP mailbox (under a supervisor that follows inboxes coming and
    /// going), and the listener for mail forwarded over SMTP when it has an address.
    async fn start(
        &self,
        ctx: &ChannelContext,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<ChannelTasks> {
        let settings = &ctx.settings.email;
        let mail = self.mail(ctx);
        let mut started = ChannelTasks::default();
        if settings.imap_enabled {
            started.tasks.push(tokio::spawn(mail.clone().supervise(
                Duration::from_secs(settings.supervise_secs.max(1)),
                shutdown.clone(),
            )));
        }
        if !settings.inbound_smtp_addr.is_empty() {
            let listener = tokio::net::TcpListener::bind(&settings.inbound_smtp_addr)
                .await
                .with_context(|| {
                    format!(
                        "cannot listen for forwarded mail on {}",
                        settings.inbound_smtp_addr
                    )
                })?;
            let addr = listener.local_addr()?;
            let limits = switchboard_connector_email::inbound::InboundLimits {
                hostname: settings.hostname.clone(),
                max_message_bytes: settings.max_message_bytes,
                ..Default::default()
            };
            started.tasks.push(tokio::spawn(
                mail.clone().serve_forwarded(listener, limits, shutdown),
            ));
            started.listeners.push((FORWARDED_MAIL_LISTENER, addr));
        }
        Ok(started)
    }
}

/// An email inbox's texts, capped like every other stored text.
pub(crate) fn check_lengths(
    email: &mail::EmailInboxSettings,
    passwords: &mail::EmailSecrets,
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
    let imap = passwords.imap_password.as_deref();
    limits::optional("imap_password", imap, limits::TOKEN)?;
    limits::optional(
        "smtp_password",
        passwords.smtp_password.as_deref(),
        limits::TOKEN,
    )
}
