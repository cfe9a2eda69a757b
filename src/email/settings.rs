//! An email inbox's settings: its address and servers in the inbox row, its passwords sealed
//! beside them. Passwords are never in the settings the API shows.

use serde::{Deserialize, Serialize};
use switchboard_connector_email::{ImapSettings, SmtpSettings};
use utoipa::ToSchema;

use crate::crypto::SecretBox;
use crate::domain::Inbox;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInboxSettings {
    /// The support address customers write to, e.g. support@example.com.
    pub address: String,
    /// Shown after the agent's name in From: "Ana | Acme Support".
    #[serde(default)]
    pub display_name: Option<String>,
    /// Appended to every reply, as text (and as HTML with line breaks).
    #[serde(default)]
    pub signature: Option<String>,
    /// The mailbox to read; none when mail arrives only by forwarding.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub imap: Option<ImapSettings>,
    /// The server replies go out through.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub smtp: Option<SmtpSettings>,
}

/// What is sealed: the passwords.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct EmailSecrets {
    #[serde(default)]
    pub imap_password: Option<String>,
    #[serde(default)]
    pub smtp_password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid email inbox settings: {0}")]
    Invalid(String),
    #[error("cannot open the inbox's sealed passwords: {0}")]
    Sealed(String),
}

impl EmailInboxSettings {
    pub fn check(&self) -> Result<(), SettingsError> {
        let invalid = |m: &str| Err(SettingsError::Invalid(m.into()));
        if crate::domain::EmailAddress::parse(&self.address).is_err() {
            return invalid("`address` must be an email address");
        }
        if let Some(imap) = &self.imap {
            if imap.host.trim().is_empty() || imap.port == 0 || imap.username.is_empty() {
                return invalid("`imap` needs `host`, `port` and `username`");
            }
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() || smtp.port == 0 {
                return invalid("`smtp` needs `host` and `port`");
            }
        }
        Ok(())
    }

    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("switchboard.local", |(_, d)| d)
    }

    /// Whether `self` reads the same mailbox account as `saved` (server, port and user), so
    /// that `saved`'s password may be used for it.
    pub fn same_imap_account(&self, saved: &EmailInboxSettings) -> bool {
        match (&self.imap, &saved.imap) {
            (Some(new), Some(old)) => {
                same_account((&new.host, new.port), (&old.host, old.port))
                    && new.username == old.username
            }
            _ => false,
        }
    }

    /// The same for the sending server.
    pub fn same_smtp_account(&self, saved: &EmailInboxSettings) -> bool {
        match (&self.smtp, &saved.smtp) {
            (Some(new), Some(old)) => {
                same_account((&new.host, new.port), (&old.host, old.port))
                    && new.username == old.username
            }
            _ => false,
        }
    }

    /// The passwords these settings hold (loaded with `load`), an empty one as none.
    pub fn saved_passwords(&self) -> EmailSecrets {
        use secrecy::ExposeSecret;
        let kept = |p: &str| (!p.is_empty()).then(|| p.to_string());
        EmailSecrets {
            imap_password: self
                .imap
                .as_ref()
                .and_then(|i| kept(i.password.expose_secret())),
            smtp_password: self
                .smtp
                .as_ref()
                .and_then(|s| s.password.as_ref())
                .and_then(|p| kept(p.expose_secret())),
        }
    }

    /// The passwords for these settings: those typed now, else the saved ones (`saved`, loaded
    /// with its passwords) where the server and user are the saved ones. A saved password never
    /// goes to another server: with a changed server and nothing typed, there is none.
    pub fn passwords(&self, typed: &EmailSecrets, saved: &EmailInboxSettings) -> EmailSecrets {
        let kept = saved.saved_passwords();
        let typed_or = |typed: &Option<String>, same: bool, saved: Option<String>| match typed
            .as_ref()
            .filter(|p| !p.is_empty())
        {
            Some(p) => Some(p.clone()),
            None if same => saved,
            None => None,
        };
        EmailSecrets {
            imap_password: typed_or(
                &typed.imap_password,
                self.same_imap_account(saved),
                kept.imap_password,
            ),
            smtp_password: typed_or(
                &typed.smtp_password,
                self.same_smtp_account(saved),
                kept.smtp_password,
            ),
        }
    }

    /// These settings with `passwords` filled in, as the sync and the sender take them.
    pub fn with_passwords(mut self, passwords: &EmailSecrets) -> EmailInboxSettings {
        if let (Some(imap), Some(p)) = (&mut self.imap, &passwords.imap_password) {
            imap.password = p.clone().into();
        }
        if let (Some(smtp), Some(p)) = (&mut self.smtp, &passwords.smtp_password) {
            smtp.password = Some(p.clone().into());
        }
        self
    }

    /// The settings of `inbox` with their passwords filled in from the sealed secret.
    pub fn load(
        inbox: &Inbox,
        sealed: Option<&[u8]>,
        secrets: &SecretBox,
    ) -> Result<EmailInboxSettings, SettingsError> {
        let mut settings: EmailInboxSettings = serde_json::from_value(inbox.settings.clone())
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        let passwords: EmailSecrets = match sealed {
            Some(sealed) => {
                let plain = secrets
                    .open(sealed)
                    .map_err(|e| SettingsError::Sealed(e.to_string()))?;
                serde_json::from_slice(&plain).map_err(|e| SettingsError::Sealed(e.to_string()))?
            }
            None => EmailSecrets::default(),
        };
        if let Some(imap) = &mut settings.imap {
            imap.password = passwords.imap_password.clone().unwrap_or_default().into();
        }
        if let Some(smtp) = &mut settings.smtp {
            smtp.password = passwords.smtp_password.clone().map(Into::into);
        }
        Ok(settings)
    }
}

/// Whether two servers are one: the host compared as DNS does (case and surrounding blanks
/// aside), and the port.
fn same_account(new: (&str, u16), old: (&str, u16)) -> bool {
    new.0.trim().eq_ignore_ascii_case(old.0.trim()) && new.1 == old.1
}
