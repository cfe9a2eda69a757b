//! Scenario webhook-ingest: customer messages arriving through each provider's webhook, signed
//! the way the provider signs them (Twilio's `X-Twilio-Signature`, Meta's
//! `X-Hub-Signature-256`), by C concurrent clients, each call timed until it is answered: a
//! webhook answers only after ingest committed. The API channel takes the same messages on the
//! same server in the same run, so what each channel's checks and parsing cost is the ratio.
//! Vonage's webhooks carry an HS256 JWT with the body's hash; Telegram's carry the secret token
//! the hub handed Telegram's `setWebhook`, which a small stand-in for the Bot API here catches.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sha2::Digest;
use tokio::task::JoinSet;
use tokio::time::{Duration, Instant};

use super::Ctx;
use crate::api::{self, Api};
use crate::report::Row;
use crate::server::{Server, SwitchboardOptions};
use crate::stats::Latency;

/// The address Twilio would call; it signs this URL, so the hub is told it is its own.
const PUBLIC_URL: &str = "https://hub.bench.invalid";
const CONTACTS: usize = 100;

const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "0123456789abcdef0123456789abcdef";
const TWILIO_NUMBER: &str = "+14155550199";
const META_SECRET: &str = "bench-app-secret";
const PHONE_NUMBER_ID: &str = "106540352242922";
const WABA_ID: &str = "102290129340398";
const PAGE_ID: &str = "104998392238791";
const VONAGE_APPLICATION: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const VONAGE_SECRET: &str = "bench-signature-secret-0123456789";
const VONAGE_NUMBER: &str = "+447700900000";
const TELEGRAM_TOKEN: &str = "123456789:AAbenchbenchbenchbenchbenchbenchbenc";

/// One channel's door, and how a provider calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Api,
    TwilioSms,
    WhatsappCloud,
    Messenger,
    VonageSms,
    Telegram,
}

impl Channel {
    const ALL: [Channel; 6] = [
        Channel::Api,
        Channel::TwilioSms,
        Channel::VonageSms,
        Channel::WhatsappCloud,
        Channel::Messenger,
        Channel::Telegram,
    ];

    fn label(self) -> &'static str {
        match self {
            Channel::Api => "API channel (bearer token, JSON)",
            Channel::TwilioSms => "SMS, Twilio webhook (form, HMAC-SHA1 of URL + params)",
            Channel::WhatsappCloud => "WhatsApp Cloud webhook (JSON, HMAC-SHA256)",
            Channel::Messenger => "Messenger webhook (JSON, HMAC-SHA256)",
            Channel::VonageSms => "SMS, Vonage webhook (JSON, HS256 JWT with the body's hash)",
            Channel::Telegram => "Telegram webhook (JSON, secret-token header)",
        }
    }

    /// The create body of this channel's inbox.
    fn inbox(self, ctx: &Ctx) -> Result<Value> {
        Ok(match self {
            Channel::Api => json!({"name": "API", "kind": "api"}),
            Channel::TwilioSms => json!({"name": "Texts", "kind": "sms", "provider": "twilio",
                "settings": {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
                             "from": TWILIO_NUMBER}}),
            Channel::WhatsappCloud => json!({"name": "WhatsApp", "kind": "whatsapp",
                "provider": "meta", "settings": {"phone_number_id": PHONE_NUMBER_ID,
                "business_account_id": WABA_ID, "access_token": "bench-token",
                "app_secret": META_SECRET}}),
            Channel::Messenger => json!({"name": "Page", "kind": "messenger", "provider": "meta",
                "settings": {"page_id": PAGE_ID, "page_access_token": "bench-token",
                             "app_secret": META_SECRET}}),
            Channel::VonageSms => {
                // The test suite's throwaway application key: setup checks that it is one.
                let key = ctx
                    .paths
                    .root
                    .join("tests/support/fake_vonage/application_key.pem");
                let key = std::fs::read_to_string(&key)
                    .with_context(|| format!("reading {}", key.display()))?;
                json!({"name": "Vonage texts", "kind": "sms", "provider": "vonage",
                    "settings": {"application_id": VONAGE_APPLICATION, "private_key": key,
                                 "signature_secret": VONAGE_SECRET, "from": VONAGE_NUMBER}})
            }
            Channel::Telegram => json!({"name": "Bot", "kind": "telegram", "provider": "telegram",
                "settings": {"bot_token": TELEGRAM_TOKEN, "mode": "webhook"}}),
        })
    }

    /// The request a provider (or an integration) makes for message `n` from contact `who`;
    /// `secret` is the inbox's webhook secret where the hub chose one (Telegram).
    fn request(
        self,
        api: &Api,
        inbox: i64,
        secret: &str,
        n: usize,
        who: usize,
    ) -> Result<reqwest::RequestBuilder> {
        let base = format!("http://{}", api.addr()?);
        let http = api.http();
        let text = format!("bench message {n}");
        Ok(match self {
            Channel::Api => http
                .post(format!("{base}/api/v1/inboxes/{inbox}/messages"))
                .bearer_auth(api.token())
                .json(&json!({"contact": {"identifier": format!("c{who}")},
                              "external_id": format!("api-{n}"), "text": text})),
            Channel::TwilioSms => {
                let path = format!("/hooks/sms/{inbox}");
                let sid = format!("SM{n:032x}");
                let params: Vec<(String, String)> = [
                    ("MessageSid", sid.as_str()),
                    ("SmsSid", sid.as_str()),
                    ("AccountSid", TWILIO_SID),
                    ("From", &format!("+1555{who:07}")),
                    ("To", TWILIO_NUMBER),
                    ("Body", &text),
                    ("NumMedia", "0"),
                    ("SmsStatus", "received"),
                    ("ApiVersion", "2010-04-01"),
                ]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
                let signature = switchboard_connector_twilio::signature::sign(
                    TWILIO_TOKEN,
                    &format!("{PUBLIC_URL}{path}"),
                    &params,
                );
                http.post(format!("{base}{path}"))
                    .header("x-twilio-signature", signature)
                    .form(&params)
            }
            Channel::WhatsappCloud => {
                let from = format!("1555{who:07}");
                let body = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID,
                    "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
                        "contacts": [{"profile": {"name": format!("Customer {who}")}, "wa_id": from}],
                        "messages": [{"from": from, "id": format!("wamid.bench{n}"),
                            "timestamp": (crate::stats::now_nanos() / 1_000_000_000).to_string(),
                            "type": "text", "text": {"body": text}}]}}]}]});
                signed(http, format!("{base}/hooks/whatsapp/{inbox}"), &body)
            }
            Channel::Messenger => {
                let body = json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1,
                    "messaging": [{"sender": {"id": format!("{}", 6_000_000_000_u64 + who as u64)},
                        "recipient": {"id": PAGE_ID}, "timestamp": 1,
                        "message": {"mid": format!("m_bench{n}"), "text": text}}]}]});
                signed(http, format!("{base}/hooks/messenger/{inbox}"), &body)
            }
            Channel::VonageSms => {
                let body = serde_json::to_vec(&json!({"channel": "sms",
                    "message_uuid": format!("aaaaaaaa-0000-4000-8000-{n:012}"),
                    "to": VONAGE_NUMBER.trim_start_matches('+'), "from": format!("1555{who:07}"),
                    "timestamp": "2026-12-01T12:00:00Z", "text": text,
                    "sms": {"num_messages": "1"}, "message_type": "text"}))?;
                let claims = json!({"iat": 1_700_000_000, "jti": format!("bench-{n}"),
                    "iss": "Vonage", "application_id": VONAGE_APPLICATION,
                    "payload_hash": hex::encode(sha2::Sha256::digest(&body))});
                let token = jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
                    &claims,
                    &jsonwebtoken::EncodingKey::from_secret(VONAGE_SECRET.as_bytes()),
                )?;
                http.post(format!("{base}/hooks/sms/{inbox}"))
                    .bearer_auth(token)
                    .header("content-type", "application/json")
                    .body(body)
            }
            Channel::Telegram => {
                let chat = 700_000_000 + who as i64;
                http.post(format!("{base}/hooks/telegram/{inbox}"))
                    .header("x-telegram-bot-api-secret-token", secret)
                    .json(&json!({"update_id": n, "message": {"message_id": n,
                        "from": {"id": chat, "is_bot": false, "first_name": format!("Customer {who}")},
                        "chat": {"id": chat, "type": "private", "first_name": format!("Customer {who}")},
                        "date": 1_764_590_400, "text": text}}))
            }
        })
    }
}

/// A JSON body signed as Meta signs it.
fn signed(http: &reqwest::Client, url: String, body: &Value) -> reqwest::RequestBuilder {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let signature = switchboard_connector_meta::webhook::sign(META_SECRET.as_bytes(), &bytes);
    http.post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(bytes)
}

struct Measured {
    messages: usize,
    per_sec: f64,
    answer: Latency,
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let scenario = "webhook-ingest";
    let bot_api = BotApi::start().await?;
    let server = Server::switchboard(
        &ctx.paths,
        scenario,
        SwitchboardOptions {
            env: vec![
                ("SWITCHBOARD__SERVER__PUBLIC_URL".into(), PUBLIC_URL.into()),
                (
                    "SWITCHBOARD__PROVIDERS__TELEGRAM_API_URL".into(),
                    bot_api.url.clone(),
                ),
                (
                    "SWITCHBOARD__OUTBOUND__ALLOW_HOSTS".into(),
                    "127.0.0.1".into(),
                ),
            ],
            ..Default::default()
        },
    )
    .await?;
    let api = Api::login(server.addr).await?;
    let mut measured = Vec::new();
    for channel in Channel::ALL {
        let inbox = api
            .create_inbox_from(&channel.inbox(ctx)?)
            .await
            .with_context(|| format!("setting up {channel:?}"))?;
        let inbox = api::inbox_id(&inbox)?;
        let secret = match channel {
            Channel::Telegram => bot_api.secret_token().await?,
            _ => String::new(),
        };
        let secret = Arc::new(secret);
        measured.push((channel, measure(ctx, &api, channel, inbox, secret).await?));
    }
    server.stop().await?;
    let api_rate = measured[0].1.per_sec;
    let clients = ctx.mode.ingest_clients();
    Ok(measured
        .into_iter()
        .map(|(channel, m)| {
            let ratio = m.per_sec / api_rate;
            Row::new(scenario, channel.label(), m.per_sec, "msg/s").note(format!(
                "{} messages, {clients} clients, each answered after commit; {:.2}x the API \
                 channel; answer p50/p99 {:.2}/{:.2} ms",
                m.messages,
                ratio,
                m.answer.quantile_ms(0.5),
                m.answer.quantile_ms(0.99)
            ))
        })
        .collect())
}

/// C clients in a closed loop, a warm-up of one message per contact first (so each run after
/// it joins open conversations, as a busy inbox does).
async fn measure(
    ctx: &Ctx,
    api: &Api,
    channel: Channel,
    inbox: i64,
    secret: Arc<String>,
) -> Result<Measured> {
    for who in 0..CONTACTS {
        send(channel.request(api, inbox, &secret, 1_000_000 + who, who)?).await?;
    }
    let clients = ctx.mode.ingest_clients();
    let messages = ctx.mode.ingest_messages();
    let api = Arc::new(api.clone());
    let started = Instant::now();
    let mut set = JoinSet::new();
    for client in 0..clients {
        let api = api.clone();
        let secret = secret.clone();
        set.spawn(async move {
            let mut latency = Latency::default();
            for n in (client..messages).step_by(clients) {
                let at = Instant::now();
                send(channel.request(&api, inbox, &secret, n, n % CONTACTS)?).await?;
                latency.record_micros(at.elapsed().as_micros() as u64);
            }
            anyhow::Ok(latency)
        });
    }
    let mut answer = Latency::default();
    while let Some(done) = set.join_next().await {
        answer.merge(&done??);
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Measured {
        messages,
        per_sec: messages as f64 / secs,
        answer,
    })
}

/// Sends and insists on a 2xx: a refused webhook would measure nothing.
async fn send(request: reqwest::RequestBuilder) -> Result<()> {
    let response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("HTTP {status}: {body}");
    }
    Ok(())
}

/// A stand-in for the one Bot API method the hub calls for a webhook inbox, `setWebhook`: it
/// answers `{"ok": true}` and keeps the secret token the hub chose, which Telegram would send
/// back on every update. HTTP/1.1, one request per connection.
struct BotApi {
    url: String,
    tokens: Arc<std::sync::Mutex<Vec<String>>>,
}

impl BotApi {
    async fn start() -> Result<BotApi> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = tokens.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    // Headers, then as much body as Content-Length says.
                    let complete = |r: &[u8]| -> bool {
                        let text = String::from_utf8_lossy(r);
                        let Some((head, body)) = text.split_once("\r\n\r\n") else {
                            return false;
                        };
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0usize);
                        body.len() >= length
                    };
                    while !complete(&request) {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
                    if let Some(token) = serde_json::from_str::<Value>(body)
                        .ok()
                        .and_then(|v| v["secret_token"].as_str().map(str::to_owned))
                    {
                        seen.lock().expect("not poisoned").push(token);
                    }
                    let answer = r#"{"ok":true,"result":true}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Ok(BotApi { url, tokens })
    }

    /// The secret token of the webhook the hub set, once it has (its supervisor looks for new
    /// inboxes every few seconds).
    async fn secret_token(&self) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(token) = self.tokens.lock().expect("not poisoned").last().cloned() {
                return Ok(token);
            }
            if Instant::now() > deadline {
                bail!("the hub never called setWebhook for the Telegram inbox");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
