//! Twilio behind the SMS seam, and the same code for any channel whose addresses Twilio writes
//! with a prefix. The WhatsApp channel uses it for `provider: "twilio"` with
//! [`Prefix::WHATSAPP`]: [`set_up`] at setup, [`webhook`] as its route's handler (kind
//! `whatsapp`), [`sender`] for its replies. Settings kept: `provider`, `account_sid`, `from`;
//! sealed: the auth token, which also signs Twilio's webhooks.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::provider::StatusUpdate;
use switchboard_connector_core::{
    DeliveryError, InboundAttachment, InboundMessage, InboundSender, Outbound,
};
use switchboard_connector_twilio::webhook::{self as twilio_hook, Event, EMPTY_TWIML};
use switchboard_connector_twilio::{signature, InboundSms, Sender, TwilioOutbound};

pub use switchboard_connector_twilio::AddressPrefix as Prefix;

use super::{customer_phone, ingest_error, HookRequest, MediaKept, SmsProvider};
use crate::channels::hooks::{self, HookError, HookInbox};
use crate::channels::{ChannelContext, ChannelError, InboxSetup, SetupEnv, SetupInput};
use crate::limits;
use crate::store::ClaimedDelivery;

/// Twilio for inboxes whose addresses carry this prefix.
pub struct Twilio(pub Prefix);

/// What is sealed for a Twilio inbox.
#[derive(Serialize, Deserialize)]
pub struct TwilioSecrets {
    pub auth_token: String,
}

/// The setup fields Twilio reads besides `provider` and `from`.
pub const FIELDS: &[&str] = &["account_sid", "auth_token"];

/// Checks a Twilio setup (`account_sid`, `auth_token`, `from`) and makes the inbox's settings
/// and sealed secret.
pub fn set_up(
    env: &SetupEnv<'_>,
    input: &SetupInput,
    prefix: Prefix,
) -> Result<InboxSetup, ChannelError> {
    let need = |key: &str| -> Result<String, ChannelError> {
        input
            .text(key)?
            .map(|v| v.trim().to_string())
            .ok_or_else(|| ChannelError::Invalid(format!("Twilio inboxes need `{key}`")))
    };
    let account_sid = need("account_sid")?;
    if !switchboard_connector_twilio::is_sid(&account_sid, "AC") {
        return Err(ChannelError::Invalid(
            "`account_sid` must be AC followed by 32 hexadecimal digits".into(),
        ));
    }
    let auth_token = need("auth_token")?;
    limits::text("auth_token", &auth_token, limits::PASSWORD)?;
    if auth_token.len() != 32 || !auth_token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ChannelError::Invalid(
            "`auth_token` must be the account's 32-digit hexadecimal auth token".into(),
        ));
    }
    let from = need("from")?;
    let from = prefix.strip(&from).unwrap_or(&from).to_string();
    check_from(&from)?;
    let mut setup = InboxSetup::default();
    setup.add_settings(serde_json::json!({
        "provider": "twilio",
        "account_sid": account_sid,
        "from": from,
    }))?;
    hooks::seal_json(&mut setup, env, &TwilioSecrets { auth_token })?;
    Ok(setup)
}

/// A Twilio sender: a number in E.164 or a Messaging Service SID (without the address prefix).
pub fn check_from(from: &str) -> Result<(), ChannelError> {
    match Sender::parse(from) {
        Some(_) => Ok(()),
        None => Err(ChannelError::Invalid(format!(
            "`from` must be a number in E.164 (+14155550100) or a Messaging Service SID (MG…), not {from:?}"
        ))),
    }
}

/// Checks Twilio's signature over the called URL and the form, then stores what it carried: a
/// customer's message (with its media) or a status of one of ours. Answers empty TwiML after
/// the commit.
#[tracing::instrument(skip_all, fields(inbox = hook.inbox.id))]
pub async fn handle(
    ctx: &ChannelContext,
    hook: HookInbox<TwilioSecrets>,
    prefix: Prefix,
    request: HookRequest,
) -> Result<Response, HookError> {
    let given = request
        .headers
        .get(signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(HookError::Unauthorized)?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    if !signature::verify(&hook.secrets.auth_token, &request.url, &params, given) {
        return Err(HookError::Unauthorized);
    }
    match twilio_hook::parse(&params, prefix).map_err(|e| HookError::Invalid(e.to_string()))? {
        Event::Inbound(sms) => {
            let message = inbound_message(ctx, &hook, sms).await?;
            ctx.desk
                .ingest(hook.inbox.workspace_id, hook.inbox.id, message)
                .await
                .map_err(ingest_error)?;
        }
        Event::Status(callback) => {
            if let Some(status) = callback.status {
                let update = StatusUpdate {
                    provider_message_id: callback.message_sid,
                    status,
                    error: callback.error_code.map(|c| format!("Twilio error {c}")),
                };
                ctx.desk.provider_status(hook.inbox.id, update).await?;
            }
        }
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml")],
        EMPTY_TWIML,
    )
        .into_response())
}

async fn inbound_message(
    ctx: &ChannelContext,
    hook: &HookInbox<TwilioSecrets>,
    sms: InboundSms,
) -> Result<InboundMessage, HookError> {
    let bounded = |field: &str, value: &str, max| {
        limits::text(field, value, max).map_err(|e| HookError::Invalid(e.to_string()))
    };
    bounded("MessageSid", &sms.message_sid, limits::EXTERNAL_ID)?;
    let phone = customer_phone(&sms.from)?;
    let name = sms
        .profile_name
        .map(|n| n.chars().take(limits::NAME).collect::<String>());
    let mut media = MediaKept::default();
    for (n, file) in sms.media.iter().enumerate() {
        media.add(fetch_media(ctx, hook, n, file).await, &file.url)?;
    }
    let mut meta = serde_json::json!({ "to": sms.to });
    if !media.not_kept.is_empty() {
        meta["media_not_kept"] = media.not_kept.clone().into();
    }
    Ok(InboundMessage {
        external_id: sms.message_sid,
        sender: InboundSender {
            identities: vec![phone],
            name,
            phone: Some(sms.from),
            ..Default::default()
        },
        text: media.text(sms.body),
        attachments: media.attachments,
        meta: Some(meta),
        ..Default::default()
    })
}

/// One media file, fetched with the account's credentials when it is at Twilio's API (and
/// only then: a URL elsewhere gets no credentials). Twilio answers a media URL with a redirect
/// to its CDN, which is followed once, without credentials.
async fn fetch_media(
    ctx: &ChannelContext,
    hook: &HookInbox<TwilioSecrets>,
    n: usize,
    media: &switchboard_connector_twilio::Media,
) -> Result<InboundAttachment, HookError> {
    let refused =
        |e: switchboard_egress::Refused| HookError::Invalid(format!("a media URL is refused: {e}"));
    let api = ctx.settings.providers.twilio_api_url.trim_end_matches('/');
    let account_sid = hook.inbox.settings["account_sid"]
        .as_str()
        .unwrap_or_default();
    let at_twilio = media.url.starts_with(&format!("{api}/"));
    let request = |url: &str, authed: bool| -> Result<reqwest::RequestBuilder, HookError> {
        let request = ctx.http.get(url).map_err(refused)?;
        Ok(if authed {
            request.basic_auth(account_sid, Some(&hook.secrets.auth_token))
        } else {
            request
        })
    };
    let filename = format!(
        "media-{}.{}",
        n + 1,
        extension(media.content_type.as_deref())
    );
    let first = request(&media.url, at_twilio)?
        .send()
        .await
        .map_err(|e| HookError::Internal(format!("cannot fetch media: {e}")))?;
    let location = first
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| first.status().is_redirection())
        .map(|l| first.url().join(l))
        .transpose()
        .map_err(|e| HookError::Invalid(format!("a media redirect is not a URL: {e}")))?;
    drop(first);
    let request = match location {
        Some(cdn) => request(cdn.as_str(), false)?,
        None => request(&media.url, at_twilio)?,
    };
    hooks::fetch_media(ctx, request, filename, media.content_type.clone()).await
}

/// A file name ending for a media type, so agents' downloads open.
fn extension(content_type: Option<&str>) -> &'static str {
    match content_type.unwrap_or_default() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "video/3gpp" => "3gp",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/amr" => "amr",
        "text/vcard" | "text/x-vcard" => "vcf",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// The sender for a claimed delivery of a Twilio inbox whose addresses carry `prefix`.
pub fn sender(
    ctx: &ChannelContext,
    claimed: &ClaimedDelivery,
    prefix: Prefix,
) -> Result<Box<dyn Outbound>, DeliveryError> {
    let setting = |key: &str| {
        claimed.inbox.settings[key]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| DeliveryError::Permanent(format!("the inbox has no `{key}`")))
    };
    let secrets: TwilioSecrets = hooks::delivery_secrets(ctx, claimed, "auth token")?;
    let from = setting("from")?;
    let sender = Sender::parse(&from)
        .ok_or_else(|| DeliveryError::Permanent(format!("`from` {from:?} cannot send")))?;
    Ok(Box::new(TwilioOutbound {
        client: ctx.http.clone(),
        api_url: ctx.settings.providers.twilio_api_url.clone(),
        account_sid: setting("account_sid")?,
        auth_token: secrets.auth_token.into(),
        sender,
        prefix,
        status_callback: Some(hooks::webhook_url(&ctx.setup_env(), &claimed.inbox)),
    }))
}

#[async_trait::async_trait]
impl SmsProvider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn fields(&self) -> &'static [&'static str] {
        FIELDS
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        set_up(env, input, self.0)
    }

    fn check_from(&self, from: &str) -> Result<(), ChannelError> {
        check_from(self.0.strip(from).unwrap_or(from))
    }

    async fn webhook(
        &self,
        ctx: &ChannelContext,
        hook: HookInbox<serde_json::Value>,
        request: HookRequest,
    ) -> Result<Response, HookError> {
        let secrets = serde_json::from_value(hook.secrets)
            .map_err(|e| HookError::Internal(format!("the inbox's secrets: {e}")))?;
        let hook = HookInbox {
            inbox: hook.inbox,
            secrets,
        };
        handle(ctx, hook, self.0, request).await
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        sender(ctx, claimed, self.0)
    }
}
