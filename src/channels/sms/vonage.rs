//! Vonage (Messages API) behind the SMS seam. Settings kept: `provider`, `application_id`,
//! `from`; sealed: the application's private key (signs API calls) and the account's signature
//! secret (signs Vonage's webhooks).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchboard_connector_core::provider::StatusUpdate;
use switchboard_connector_core::{DeliveryError, InboundMessage, InboundSender, Outbound};
use switchboard_connector_vonage::webhook::{self as vonage_hook, Event};
use switchboard_connector_vonage::{ApplicationKey, VonageOutbound};

use super::{customer_phone, ingest_error, HookRequest, MediaKept, SmsProvider};
use crate::channels::hooks::{self, HookError, HookInbox};
use crate::channels::{ChannelContext, ChannelError, InboxSetup, SetupEnv, SetupInput};
use crate::limits;
use crate::store::ClaimedDelivery;

pub struct Vonage;

/// What is sealed for a Vonage inbox.
#[derive(Serialize, Deserialize)]
struct VonageSecrets {
    private_key: String,
    signature_secret: String,
}

/// The shortest signature secret taken: Vonage's own are longer, and a short one could be
/// guessed offline from one signed webhook.
const MIN_SIGNATURE_SECRET: usize = 16;

fn is_uuid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[async_trait::async_trait]
impl SmsProvider for Vonage {
    fn name(&self) -> &'static str {
        "vonage"
    }

    fn fields(&self) -> &'static [&'static str] {
        &["application_id", "private_key", "signature_secret"]
    }

    fn set_up(&self, env: &SetupEnv<'_>, input: &SetupInput) -> Result<InboxSetup, ChannelError> {
        let need = |key: &str| -> Result<String, ChannelError> {
            input
                .text(key)?
                .map(|v| v.trim().to_string())
                .ok_or_else(|| ChannelError::Invalid(format!("Vonage inboxes need `{key}`")))
        };
        let application_id = need("application_id")?;
        if !is_uuid(&application_id) {
            return Err(ChannelError::Invalid(
                "`application_id` must be the application's UUID".into(),
            ));
        }
        let private_key = need("private_key")?;
        limits::text("private_key", &private_key, limits::TOKEN)?;
        ApplicationKey::from_pem(&private_key)
            .map_err(|e| ChannelError::Invalid(format!("`private_key`: {e}")))?;
        let signature_secret = need("signature_secret")?;
        limits::text("signature_secret", &signature_secret, limits::PASSWORD)?;
        if signature_secret.len() < MIN_SIGNATURE_SECRET {
            return Err(ChannelError::Invalid(format!(
                "`signature_secret` must be at least {MIN_SIGNATURE_SECRET} characters"
            )));
        }
        let from = need("from")?;
        self.check_from(&from)?;
        let mut setup = InboxSetup::default();
        setup.add_settings(serde_json::json!({
            "provider": "vonage",
            "application_id": application_id,
            "from": from,
        }))?;
        hooks::seal_json(
            &mut setup,
            env,
            &VonageSecrets {
                private_key,
                signature_secret,
            },
        )?;
        Ok(setup)
    }

    fn check_from(&self, from: &str) -> Result<(), ChannelError> {
        if switchboard_connector_vonage::is_sender(from) {
            return Ok(());
        }
        Err(ChannelError::Invalid(format!(
            "`from` must be a number in E.164 (+447700900000) or a sender id of up to 11 letters and digits, not {from:?}"
        )))
    }

    #[tracing::instrument(skip_all, fields(inbox = hook.inbox.id))]
    async fn webhook(
        &self,
        ctx: &ChannelContext,
        hook: HookInbox<serde_json::Value>,
        request: HookRequest,
    ) -> Result<Response, HookError> {
        let secrets: VonageSecrets = serde_json::from_value(hook.secrets)
            .map_err(|e| HookError::Internal(format!("the inbox's secrets: {e}")))?;
        let authorization = request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        vonage_hook::verify(
            secrets.signature_secret.as_bytes(),
            authorization,
            &request.body,
        )
        .map_err(|_| HookError::Unauthorized)?;
        let inbox = hook.inbox;
        match vonage_hook::parse(&request.body).map_err(|e| HookError::Invalid(e.to_string()))? {
            Event::Inbound(sms) => {
                let invalid = |e: limits::LimitError| HookError::Invalid(e.to_string());
                limits::text("message_uuid", &sms.message_uuid, limits::EXTERNAL_ID)
                    .map_err(invalid)?;
                let phone = customer_phone(&sms.from)?;
                let mut media = MediaKept::default();
                if let Some((kind, url)) = &sms.media {
                    // Vonage's media links are signed URLs of their own: no credentials go.
                    let fetched = match ctx.http.get(url) {
                        Ok(request) => hooks::fetch_media(ctx, request, kind.clone(), None).await,
                        Err(e) => Err(HookError::Invalid(format!("a media URL is refused: {e}"))),
                    };
                    media.add(fetched, url)?;
                }
                let mut meta = serde_json::json!({ "to": sms.to, "channel": sms.channel });
                if !media.not_kept.is_empty() {
                    meta["media_not_kept"] = media.not_kept.clone().into();
                }
                let message = InboundMessage {
                    external_id: sms.message_uuid,
                    sender: InboundSender {
                        identities: vec![phone],
                        phone: Some(sms.from),
                        ..Default::default()
                    },
                    text: media.text(sms.text),
                    attachments: media.attachments,
                    meta: Some(meta),
                    ..Default::default()
                };
                ctx.desk
                    .ingest(inbox.workspace_id, inbox.id, message)
                    .await
                    .map_err(ingest_error)?;
            }
            Event::Status(report) => {
                let update = StatusUpdate {
                    provider_message_id: report.message_uuid,
                    status: report.status,
                    error: report.error,
                };
                ctx.desk.provider_status(inbox.id, update).await?;
            }
            Event::Ignored => {}
        }
        Ok(StatusCode::OK.into_response())
    }

    fn sender(
        &self,
        ctx: &ChannelContext,
        claimed: &ClaimedDelivery,
    ) -> Result<Box<dyn Outbound>, DeliveryError> {
        let setting = |key: &str| {
            claimed.inbox.settings[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| DeliveryError::Permanent(format!("the inbox has no `{key}`")))
        };
        let secrets: VonageSecrets = hooks::delivery_secrets(ctx, claimed, "private key")?;
        let key = ApplicationKey::from_pem(&secrets.private_key)
            .map_err(|e| DeliveryError::Permanent(format!("the inbox's private key: {e}")))?;
        Ok(Box::new(VonageOutbound {
            client: ctx.http.clone(),
            api_url: ctx.settings.providers.vonage_api_url.clone(),
            application_id: setting("application_id")?,
            key,
            from: setting("from")?,
        }))
    }
}
