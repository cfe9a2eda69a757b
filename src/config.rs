//! Settings: built-in defaults (config/default.toml), then an optional file, then environment
//! variables `SWITCHBOARD__SECTION__KEY`, then command-line flags. Secrets are wrapped so that
//! printing the settings never prints them.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// A value that must never be shown: `Debug` prints a placeholder, and the memory is zeroed
/// when dropped (`secrecy`). Reading it takes `expose`, which is easy to find in a review.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() { "\"\"" } else { "\"*****\"" })
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub dispatcher: DispatcherSettings,
    pub gateway: GatewaySettings,
    pub routing: RoutingSettings,
    pub widget: WidgetSettings,
    pub email: EmailSettings,
    pub log: LogSettings,
    pub outbound: OutboundSettings,
    pub attachments: AttachmentSettings,
    pub providers: ProviderSettings,
    pub contacts: ContactSettings,
}

/// Where the messaging providers' APIs are. The defaults are the providers' public addresses;
/// tests (and a deployment behind an egress proxy) point them elsewhere. Each must still pass
/// the outbound policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Twilio's REST API (Messages, media).
    pub twilio_api_url: String,
    /// Vonage's Messages API.
    pub vonage_api_url: String,
    /// Meta's Graph API (WhatsApp Cloud, Messenger, Instagram), without the version.
    pub graph_api_url: String,
    /// The Graph API version every call names (`v21.0`).
    pub graph_api_version: String,
    /// Telegram's Bot API.
    pub telegram_api_url: String,
    /// The largest media file a channel fetches from a provider for one message.
    pub max_media_bytes: usize,
}

/// How contacts' details are read.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSettings {
    /// The region (ISO 3166 code, `DE`) phone numbers without a country code are read in.
    /// Empty: such numbers are kept as the digits given, because a national number cannot be
    /// told from an international one without its plus, and a wrong guess joins strangers.
    pub default_region: String,
}

impl ContactSettings {
    pub fn phone_region(
        &self,
    ) -> Result<switchboard_connector_core::phone::PhoneRegion, ConfigError> {
        switchboard_connector_core::phone::PhoneRegion::parse(&self.default_region)
            .map_err(|e| ConfigError(format!("contacts.default_region: {e}")))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundSettings {
    /// Internal destinations outgoing HTTP may reach anyway: host names, IP addresses or CIDR
    /// networks. Everything else must be a public address.
    pub allow_hosts: Vec<String>,
}

impl OutboundSettings {
    pub fn policy(&self) -> Result<switchboard_egress::EgressPolicy, ConfigError> {
        switchboard_egress::EgressPolicy::new(&self.allow_hosts)
            .map_err(|e| ConfigError(e.to_string()))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSettings {
    /// Content types accepted for uploaded files (API channel, agent replies): `type/subtype`
    /// or `type/*`. Web chat visitors are held to `widget.attachment_types` instead.
    pub content_types: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// Read email inboxes' IMAP mailboxes (off: only forwarded mail comes in).
    pub imap_enabled: bool,
    /// How often the list of email inboxes is checked for new or changed mailboxes.
    pub supervise_secs: u64,
    /// Where forwarded mail is accepted over SMTP; empty turns the listener off.
    pub inbound_smtp_addr: String,
    /// The name the inbound listener greets with.
    pub hostname: String,
    pub max_message_bytes: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    pub enabled: bool,
    pub tick_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    pub replay_limit: i64,
    /// Recent events kept in memory per workspace (while it has consoles) for resuming consoles.
    pub replay_window: usize,
    pub send_queue: usize,
    pub ping_secs: u64,
    pub silence_secs: u64,
    pub presence_timeout_secs: u64,
    pub presence_check_secs: u64,
    pub refresh_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetSettings {
    pub max_message_bytes: usize,
    pub max_attachment_bytes: usize,
    pub attachment_types: Vec<String>,
    pub requests_per_minute: u32,
    /// A visitor token lasts this long after the widget last started a session.
    pub visitor_token_ttl_secs: u64,
    /// How long an identifier hash keeps a visitor verified; a JWT's `exp` bounds it further.
    pub verified_visitor_ttl_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub addr: String,
    pub public_url: String,
    pub data_dir: PathBuf,
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    /// Open client connections (HTTP and WebSocket) at most; 0: the open-files limit less a
    /// reserve for the database and connectors.
    pub max_connections: usize,
    /// Bearer token that /metrics asks for; empty: /metrics answers loopback clients only.
    #[serde(default)]
    pub metrics_token: Secret,
    /// Reverse proxies (IP addresses or CIDR networks) believed about `X-Forwarded-For`.
    pub trusted_proxies: Vec<String>,
}

impl ServerSettings {
    pub fn proxies(&self) -> Result<crate::edge::client_address::TrustedProxies, ConfigError> {
        crate::edge::client_address::TrustedProxies::new(&self.trusted_proxies)
            .map_err(|e| ConfigError(e.to_string()))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    pub sqlite_synchronous: String,
    pub group_commit_max: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub secret_key: Secret,
    pub session_ttl_hours: u64,
    pub login_attempts_per_minute: u32,
    pub login_max_failures: u32,
    pub login_account_address_max_failures: u32,
    pub login_account_max_failures: u32,
    pub login_window_secs: u64,
    pub login_known_address_days: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatcherSettings {
    pub poll_interval_ms: u64,
    pub batch: i64,
    pub concurrency: usize,
    pub lease_secs: i64,
    pub max_attempts: u32,
    pub base_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::load_with(file, config::Environment::default())
    }

    /// `load`, with the environment given (tests pass their own variables).
    fn load_with(
        file: Option<&Path>,
        environment: config::Environment,
    ) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            builder = builder.add_source(config::File::from(path).required(true));
        }
        builder
            .add_source(
                environment
                    .prefix("SWITCHBOARD")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("outbound.allow_hosts")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("attachments.content_types")
                    .with_list_parse_key("widget.attachment_types"),
            )
            .build()
            .and_then(|c| c.try_deserialize::<Settings>())
            .map_err(|e| ConfigError(e.to_string()))
            .and_then(|settings| {
                settings.outbound.policy()?;
                settings.server.proxies()?;
                settings.contacts.phone_region()?;
                Ok(settings)
            })
    }

    /// The database URL in force: the configured one, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}",
                self.server.data_dir.join("switchboard.db").display()
            )
        } else {
            self.database.url.expose().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_secrets_stay_hidden() {
        let mut settings = Settings::load(None).unwrap();
        assert_eq!(settings.server.addr, "127.0.0.1:8080");
        assert!(settings.database_url().ends_with("data/switchboard.db"));
        settings.database.url = Secret::new("postgres://sb:hunter2@db/sb");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn the_outbound_allow_list_comes_from_a_comma_separated_variable_and_is_checked() {
        let env = |value: &str| {
            config::Environment::default().source(Some(
                [(
                    "SWITCHBOARD__OUTBOUND__ALLOW_HOSTS".to_string(),
                    value.to_string(),
                )]
                .into(),
            ))
        };
        let settings = Settings::load_with(None, env("127.0.0.0/8,::1,crm.internal")).unwrap();
        assert_eq!(
            settings.outbound.allow_hosts,
            ["127.0.0.0/8", "::1", "crm.internal"]
        );
        assert!(Settings::load(None)
            .unwrap()
            .outbound
            .allow_hosts
            .is_empty());
        let level = config::Environment::default().source(Some(
            [(
                "SWITCHBOARD__LOG__LEVEL".to_string(),
                "info,sqlx=warn".to_string(),
            )]
            .into(),
        ));
        assert_eq!(
            Settings::load_with(None, level).unwrap().log.level,
            "info,sqlx=warn",
            "only list settings are split at commas"
        );
        let err = Settings::load_with(None, env("10.0.0.0/33")).unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
    }

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "[server]\naddr = \"0.0.0.0:9000\"\n").unwrap();
        assert_eq!(
            Settings::load(Some(&good)).unwrap().server.addr,
            "0.0.0.0:9000"
        );
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[server]\nadress = \"0.0.0.0:9000\"\n").unwrap();
        let err = Settings::load(Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("adress"), "{err}");
    }
}
