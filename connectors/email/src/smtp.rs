//! Sending through the inbox's SMTP server with lettre: pooled connections, STARTTLS or implicit
//! TLS, and a cap on concurrent sends (lettre's pool size only bounds *idle* connections).

use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::DeliveryError;
use tokio::sync::Semaphore;

/// How a mail connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS, which must succeed (IMAP 143, submission 587).
    Starttls,
    /// No encryption: only for a server on the same host or a test.
    Plain,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    /// Zeroed when dropped and `[REDACTED]` in `Debug`, so logging the settings shows no secret.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub accept_invalid_certs: bool,
    /// The most mails in flight to this server at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    4
}

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    permits: Arc<Semaphore>,
    /// The server, for the log.
    host: String,
}

impl SmtpSender {
    pub fn new(settings: &SmtpSettings) -> Result<SmtpSender, DeliveryError> {
        SmtpSender::build(settings, None, Duration::from_secs(60))
    }

    /// Tries the settings without sending: connects (to `via` when given; TLS still checks the
    /// host's name), says EHLO, upgrades to TLS and signs in as a send would, each exchange
    /// within `step`. The error is the server's own answer where it gave one.
    pub async fn check(
        settings: &SmtpSettings,
        via: Option<IpAddr>,
        step: Duration,
    ) -> Result<(), String> {
        let sender = SmtpSender::build(settings, via, step).map_err(|e| e.to_string())?;
        // lettre's own timeout is per read and write; the whole check is held to a few steps.
        match tokio::time::timeout(step * 4, sender.transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("the SMTP server did not answer NOOP".into()),
            Ok(Err(e)) => Err(format!("SMTP: {e}")),
            Err(_) => Err("timed out talking to the SMTP server".into()),
        }
    }

    fn build(
        settings: &SmtpSettings,
        via: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<SmtpSender, DeliveryError> {
        let permanent = |e: lettre::transport::smtp::Error| DeliveryError::Permanent(e.to_string());
        let tls = || {
            TlsParameters::builder(settings.host.clone())
                .dangerous_accept_invalid_certs(settings.accept_invalid_certs)
                .build_rustls()
                .map_err(permanent)
        };
        let tls = match settings.security {
            Security::Tls => Tls::Wrapper(tls()?),
            Security::Starttls => Tls::Required(tls()?),
            Security::Plain => Tls::None,
        };
        let max = settings.max_connections.max(1);
        let server = via.map_or_else(|| settings.host.clone(), |ip| ip.to_string());
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(max));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        Ok(SmtpSender {
            transport: builder.build(),
            permits: Arc::new(Semaphore::new(max as usize)),
            host: settings.host.clone(),
        })
    }

    /// Hands one mail to the server. A 5xx answer fails it for good; anything else (4xx, a
    /// dropped connection, a timeout) is worth another try.
    #[tracing::instrument(skip_all, fields(host = %self.host))]
    pub async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| DeliveryError::Transient("the sender is shutting down".into()))?;
        match self.transport.send(message.clone()).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(format!("SMTP: {e}"))),
            Err(e) => Err(DeliveryError::Transient(format!("SMTP: {e}"))),
        }
    }
}
