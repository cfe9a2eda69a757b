//! "Test connection": an email inbox's IMAP and SMTP settings tried the way the mailbox sync
//! and a reply would use them, each answered with what its server said, for the console's
//! setup form. Nothing is read or sent.
//!
//! The hosts are the admin's to type, so a check is also a way to knock on any port from the
//! hub: like every outgoing call it reaches public addresses only, unless `outbound.allow_hosts`
//! names the host or its network, and it connects to the address it checked (no second lookup
//! a rebinding name could answer differently).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use switchboard_connector_email::{ImapSettings, MailboxSync, SmtpSender, SmtpSettings};
use switchboard_egress::EgressPolicy;
use utoipa::ToSchema;

use super::EmailInboxSettings;

/// No step of a check (lookup, connect, TLS, greeting, login, opening the mailbox) waits longer.
pub const STEP: Duration = Duration::from_secs(10);

/// What each server said.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ConnectionCheck {
    /// Reading the mailbox; absent when the inbox has no IMAP server (mail comes forwarded).
    pub imap: Option<CheckOutcome>,
    /// Sending replies; absent when the inbox has no SMTP server.
    pub smtp: Option<CheckOutcome>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CheckOutcome {
    pub ok: bool,
    /// The server's own answer when it refused or failed; what was found when it worked.
    pub message: String,
    /// IMAP, when it worked: how many mails the mailbox holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mails: Option<u32>,
}

impl CheckOutcome {
    fn failed(message: impl Into<String>) -> CheckOutcome {
        CheckOutcome {
            ok: false,
            message: message.into(),
            mails: None,
        }
    }
}

/// Tries the IMAP and SMTP servers the settings name (their passwords filled in), one after
/// the other.
pub async fn check(settings: &EmailInboxSettings, policy: &EgressPolicy) -> ConnectionCheck {
    let imap = match &settings.imap {
        Some(imap) => Some(check_imap(imap, policy).await),
        None => None,
    };
    let smtp = match &settings.smtp {
        Some(smtp) => Some(check_smtp(smtp, policy).await),
        None => None,
    };
    ConnectionCheck { imap, smtp }
}

#[tracing::instrument(skip_all, fields(host = %imap.host, port = imap.port))]
async fn check_imap(imap: &ImapSettings, policy: &EgressPolicy) -> CheckOutcome {
    let addrs = match reachable(policy, &imap.host, imap.port).await {
        Ok(addrs) => addrs,
        Err(why) => return CheckOutcome::failed(why),
    };
    match MailboxSync::new(imap.clone())
        .check(Some(&addrs), STEP)
        .await
    {
        Ok(found) => CheckOutcome {
            ok: true,
            message: format!(
                "signed in; the mailbox {} holds {} mails",
                found.mailbox, found.exists
            ),
            mails: Some(found.exists),
        },
        Err(e) => {
            tracing::info!(error = %e, "IMAP check failed");
            CheckOutcome::failed(e.to_string())
        }
    }
}

#[tracing::instrument(skip_all, fields(host = %smtp.host, port = smtp.port))]
async fn check_smtp(smtp: &SmtpSettings, policy: &EgressPolicy) -> CheckOutcome {
    let addrs = match reachable(policy, &smtp.host, smtp.port).await {
        Ok(addrs) => addrs,
        Err(why) => return CheckOutcome::failed(why),
    };
    let via = addrs.first().map(SocketAddr::ip);
    match SmtpSender::check(smtp, via, STEP).await {
        Ok(()) => CheckOutcome {
            ok: true,
            message: "connected and signed in; replies can go out".into(),
            mails: None,
        },
        Err(e) => {
            tracing::info!(error = %e, "SMTP check failed");
            CheckOutcome::failed(e)
        }
    }
}

/// The host's addresses that outgoing calls may reach, or why none.
async fn reachable(
    policy: &EgressPolicy,
    host: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim();
    let found = tokio::time::timeout(STEP, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| format!("looking up {host} timed out"))?
        .map_err(|e| format!("cannot look up {host}: {e}"))?
        .collect::<Vec<_>>();
    let allowed = policy
        .filter_resolved(host, found.iter().map(SocketAddr::ip))
        .map_err(|refused| refused.to_string())?;
    Ok(found
        .into_iter()
        .filter(|addr| allowed.contains(&addr.ip()))
        .collect())
}
