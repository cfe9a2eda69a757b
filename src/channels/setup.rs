//! The words of inbox setup: a setup form's fields, what a creator gave (`SetupInput`), what a
//! channel makes of it (`InboxSetup`), and why it refused (`ChannelError`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::ToSchema;

use super::SetupEnv;
use crate::limits::LimitError;

/// One field of a channel's setup form, as the console draws it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SetupField {
    /// Where the value goes in the setup input; dots nest (`email.imap.host` is
    /// `{"email": {"imap": {"host": …}}}`).
    pub name: &'static str,
    pub label: &'static str,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub required: bool,
    /// Stored sealed and never shown again.
    pub secret: bool,
    pub help: Option<&'static str>,
    /// For `choice` fields: the values to pick from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<&'static str>,
    /// Only for inboxes of this `provider` (the console hides the field for the others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<&'static str>,
}

impl SetupField {
    pub fn new(name: &'static str, label: &'static str, field_type: FieldType) -> Self {
        SetupField {
            name,
            label,
            field_type,
            required: false,
            secret: field_type == FieldType::Password,
            help: None,
            options: Vec::new(),
            provider: None,
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn help(mut self, help: &'static str) -> Self {
        self.help = Some(help);
        self
    }

    pub fn options(mut self, options: &[&'static str]) -> Self {
        self.options = options.to_vec();
        self
    }

    /// Asked only of inboxes whose `provider` is `provider`.
    pub fn for_provider(mut self, provider: &'static str) -> Self {
        self.provider = Some(provider);
        self
    }

    /// The top-level key of the setup input this field lives under.
    pub fn key(&self) -> &'static str {
        self.name.split('.').next().unwrap_or(self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    /// Several lines of text.
    LongText,
    Email,
    Url,
    Number,
    Boolean,
    /// A secret typed once (shown as dots).
    Password,
    /// One of `options`.
    Choice,
}

/// What the creator of an inbox gave for its channel: the create body's channel fields merged
/// with its `settings` object.
#[derive(Clone, Debug, Default)]
pub struct SetupInput {
    fields: serde_json::Map<String, serde_json::Value>,
}

impl SetupInput {
    pub fn new(fields: serde_json::Map<String, serde_json::Value>) -> Self {
        SetupInput { fields }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value under `key`, read as `T`; `None` when absent or null.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ChannelError> {
        match self.fields.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| ChannelError::Invalid(format!("`{key}`: {e}"))),
        }
    }

    /// A text value the setup cannot do without, trimmed and held to `max` bytes; `missing`
    /// says what to do when it is absent or empty.
    pub fn required_text(
        &self,
        key: &str,
        max: usize,
        missing: impl FnOnce() -> String,
    ) -> Result<String, ChannelError> {
        let value = self
            .text(key)?
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ChannelError::Invalid(missing()))?;
        crate::limits::text(key, &value, max)?;
        Ok(value)
    }

    /// A text value under `key`, treating "" as absent (forms send empty fields).
    pub fn text(&self, key: &str) -> Result<Option<String>, ChannelError> {
        Ok(self.get::<String>(key)?.filter(|s| !s.is_empty()))
    }
}

/// What a channel made of a setup: the inbox row's settings and sealed secret, what the creator
/// is shown once, and the web chat's public key.
#[derive(Clone, Debug, Default)]
pub struct InboxSetup {
    /// Stored in the inbox row and shown with it: nothing secret.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Sealed with the hub's `SecretBox`; opened only by the channel's sender.
    pub sealed_secret: Option<Vec<u8>>,
    /// Shown to the creator once (a signing key the hub generated), never again.
    pub shown_once: Option<String>,
    /// The key a website's widget names the inbox by (web chat).
    pub website_token: Option<String>,
}

impl InboxSetup {
    /// A new random signing key: sealed for the channel, shown to the creator this once.
    pub fn generate_secret(&mut self, env: &SetupEnv<'_>) {
        let secret = crate::auth::random_token(32);
        self.sealed_secret = Some(env.secrets.seal(secret.as_bytes()));
        self.shown_once = Some(secret);
    }

    /// `value`'s fields into the settings; `value` must serialise to an object.
    pub fn add_settings(&mut self, value: impl Serialize) -> Result<(), ChannelError> {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::Object(map)) => {
                self.settings.extend(map);
                Ok(())
            }
            Ok(other) => Err(ChannelError::Internal(format!(
                "settings must be an object, not {other}"
            ))),
            Err(e) => Err(ChannelError::Internal(e.to_string())),
        }
    }
}

/// Why a channel refused a setup or a settings change.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The creator's input is wrong: a 422 that says what to fix.
    #[error("{0}")]
    Invalid(String),
    /// One field of the input is wrong (`field` is its path in the request body): a 422 that
    /// names it, so a form can show the reason beside it.
    #[error("`{field}`: {message}")]
    InvalidField { field: String, message: String },
    /// No channel is registered under this kind.
    #[error("unknown inbox kind {0:?}")]
    UnknownKind(String),
    /// Our fault (a channel broke its own rules): a 500, logged.
    #[error("channel setup failed: {0}")]
    Internal(String),
}

impl From<LimitError> for ChannelError {
    fn from(e: LimitError) -> Self {
        ChannelError::Invalid(e.to_string())
    }
}

impl From<ChannelError> for crate::edge::error::ApiError {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Internal(why) => crate::edge::error::ApiError::Internal(why),
            ChannelError::InvalidField { field, message } => {
                crate::edge::error::ApiError::InvalidField { field, message }
            }
            other => crate::edge::error::ApiError::Unprocessable(other.to_string()),
        }
    }
}
