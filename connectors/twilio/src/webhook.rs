//! What Twilio posts to a messaging webhook, read from its form parameters. One URL takes both
//! kinds: a message a customer sent (it carries `Body` and `NumMedia`, status `received`) and a
//! status callback about a message we sent (`MessageStatus` other than `received`).

use switchboard_connector_core::provider::ProviderStatus;

use crate::AddressPrefix;

/// Twilio sends at most ten media files with one message.
pub const MAX_MEDIA: usize = 10;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("the webhook has no `{0}`")]
    Missing(&'static str),
    #[error("`{0}` is not valid: {1}")]
    Invalid(&'static str, String),
}

/// One media file of an MMS (or WhatsApp) message, held at Twilio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub url: String,
    pub content_type: Option<String>,
}

/// A message a customer sent to the inbox's number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundSms {
    /// `MessageSid`: the external id, the same on every re-delivery.
    pub message_sid: String,
    pub account_sid: Option<String>,
    /// The customer's number, without the address prefix.
    pub from: String,
    pub to: String,
    pub body: String,
    pub media: Vec<Media>,
    /// WhatsApp's profile name, when Twilio gives one.
    pub profile_name: Option<String>,
}

/// What became of a message we sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusCallback {
    pub message_sid: String,
    pub account_sid: Option<String>,
    /// `None` for the statuses the hub does not record (queued, accepted, sending, scheduled):
    /// the dispatcher already knows the message left.
    pub status: Option<ProviderStatus>,
    /// Twilio's `ErrorCode` (30003 "unreachable handset"…), when it gave one.
    pub error_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Inbound(InboundSms),
    Status(StatusCallback),
}

/// The value of the parameter `name`, when given and not empty.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// How a `MessageStatus` reads to the hub.
pub fn status(value: &str) -> Result<Option<ProviderStatus>, WebhookError> {
    Ok(match value {
        "queued" | "accepted" | "scheduled" | "sending" | "canceled" => None,
        "sent" => Some(ProviderStatus::Sent),
        "delivered" => Some(ProviderStatus::Delivered),
        "read" => Some(ProviderStatus::Read),
        "undelivered" | "failed" => Some(ProviderStatus::Failed),
        other => {
            return Err(WebhookError::Invalid(
                "MessageStatus",
                format!("unknown status {other:?}"),
            ))
        }
    })
}

/// Reads a webhook's (already verified) form parameters. `prefix` says which address family
/// the inbox speaks; an inbound message from another family is refused.
pub fn parse(params: &[(String, String)], prefix: AddressPrefix) -> Result<Event, WebhookError> {
    let message_sid = param(params, "MessageSid")
        .or_else(|| param(params, "SmsSid"))
        .ok_or(WebhookError::Missing("MessageSid"))?
        .to_string();
    let account_sid = param(params, "AccountSid").map(str::to_string);
    let message_status = param(params, "MessageStatus").or_else(|| param(params, "SmsStatus"));
    if let Some(value) = message_status.filter(|s| *s != "received") {
        return Ok(Event::Status(StatusCallback {
            message_sid,
            account_sid,
            status: status(value)?,
            error_code: param(params, "ErrorCode").map(str::to_string),
        }));
    }
    let address = |name: &'static str| -> Result<String, WebhookError> {
        let raw = param(params, name).ok_or(WebhookError::Missing(name))?;
        prefix.strip(raw).map(str::to_string).ok_or_else(|| {
            WebhookError::Invalid(name, format!("{raw:?} is not this inbox's kind of address"))
        })
    };
    let from = address("From")?;
    let to = address("To")?;
    let count = match param(params, "NumMedia") {
        None => 0,
        Some(n) => n
            .parse::<usize>()
            .map_err(|e| WebhookError::Invalid("NumMedia", e.to_string()))?,
    };
    if count > MAX_MEDIA {
        return Err(WebhookError::Invalid(
            "NumMedia",
            format!("{count} is more than Twilio's {MAX_MEDIA}"),
        ));
    }
    let media = (0..count)
        .map(|n| {
            let url = param(params, &format!("MediaUrl{n}"))
                .ok_or(WebhookError::Missing("MediaUrl{N}"))?;
            Ok(Media {
                url: url.to_string(),
                content_type: param(params, &format!("MediaContentType{n}")).map(str::to_string),
            })
        })
        .collect::<Result<Vec<_>, WebhookError>>()?;
    Ok(Event::Inbound(InboundSms {
        message_sid,
        account_sid,
        from,
        to,
        body: param(params, "Body").unwrap_or_default().to_string(),
        media,
        profile_name: param(params, "ProfileName").map(str::to_string),
    }))
}

/// What Twilio expects back from a messaging webhook that has nothing to say: empty TwiML.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_inbound_mms_reads_with_its_media() {
        let params = form(&[
            ("MessageSid", "MM00000000000000000000000000000001"),
            ("SmsStatus", "received"),
            ("From", "+14155550100"),
            ("To", "+14155550199"),
            ("Body", "a photo"),
            ("NumMedia", "1"),
            ("MediaUrl0", "https://api.twilio.com/m/ME1"),
            ("MediaContentType0", "image/jpeg"),
        ]);
        let Event::Inbound(sms) = parse(&params, AddressPrefix::SMS).unwrap() else {
            panic!("an inbound message")
        };
        assert_eq!(sms.from, "+14155550100");
        assert_eq!(sms.media[0].content_type.as_deref(), Some("image/jpeg"));
    }

    #[test]
    fn status_callbacks_are_told_apart_from_messages() {
        let params = form(&[
            ("MessageSid", "SM00000000000000000000000000000001"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
        ]);
        assert_eq!(
            parse(&params, AddressPrefix::SMS).unwrap(),
            Event::Status(StatusCallback {
                message_sid: "SM00000000000000000000000000000001".into(),
                account_sid: None,
                status: Some(ProviderStatus::Failed),
                error_code: Some("30003".into()),
            })
        );
        let queued = form(&[("MessageSid", "SM1"), ("MessageStatus", "queued")]);
        assert!(matches!(
            parse(&queued, AddressPrefix::SMS).unwrap(),
            Event::Status(StatusCallback { status: None, .. })
        ));
        let odd = form(&[("MessageSid", "SM1"), ("MessageStatus", "teleported")]);
        assert!(parse(&odd, AddressPrefix::SMS).is_err());
    }

    #[test]
    fn a_whatsapp_address_is_not_an_sms_number() {
        let params = form(&[
            ("MessageSid", "SM1"),
            ("From", "whatsapp:+14155550100"),
            ("To", "whatsapp:+14155550199"),
            ("Body", "hi"),
        ]);
        assert!(parse(&params, AddressPrefix::SMS).is_err());
        let Event::Inbound(msg) = parse(&params, AddressPrefix::WHATSAPP).unwrap() else {
            panic!("an inbound message")
        };
        assert_eq!(msg.from, "+14155550100");
    }

    #[test]
    fn missing_media_urls_and_silly_counts_are_refused() {
        let base = [
            ("MessageSid", "SM1"),
            ("From", "+14155550100"),
            ("To", "+14155550199"),
        ];
        let mut params = form(&base);
        params.push(("NumMedia".into(), "2".into()));
        params.push(("MediaUrl0".into(), "https://x".into()));
        assert_eq!(
            parse(&params, AddressPrefix::SMS),
            Err(WebhookError::Missing("MediaUrl{N}"))
        );
        let mut params = form(&base);
        params.push(("NumMedia".into(), "99".into()));
        assert!(parse(&params, AddressPrefix::SMS).is_err());
    }
}
