//! An agent's own email signature, as the customer's mail client receives it through a real
//! Postfix: under the reply's text, above the inbox's signature, in the text part and the HTML
//! part; a reply sent before the signature changed keeps the one it was written with.

mod common;
#[path = "common/mail_lab.rs"]
mod mail_lab;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use mail_lab::MailLab;
use serde_json::json;

const SUPPORT: &str = "support@support.test";
const CUSTOMER: &str = "customer@customer.test";

/// The decoded body of the mail's first part of `content_type` (lettre writes 7bit,
/// quoted-printable or base64, whichever fits).
fn part(mail: &str, content_type: &str) -> String {
    let mail = mail.replace("\r\n", "\n");
    let start = mail
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part in:\n{mail}"));
    let rest = &mail[start..];
    let (headers, body) = rest.split_once("\n\n").unwrap();
    // The part ends at the next MIME boundary (not at the signature's own "-- " line).
    let boundary = mail
        .split("boundary=\"")
        .nth(1)
        .and_then(|b| b.split('"').next())
        .expect("a multipart mail");
    let body = body.split(&format!("\n--{boundary}")).next().unwrap();
    let encoding = headers.to_lowercase();
    if encoding.contains("content-transfer-encoding: base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else if encoding.contains("content-transfer-encoding: quoted-printable") {
        let soft = body.replace("=\n", "");
        let mut out = Vec::new();
        let bytes = soft.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let (b'=', Some(b)) = (bytes[i], hex) {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_string()
    }
}

async fn wait_until_sent(app: &TestApp, conversation: i64, message: i64) {
    for _ in 0..200 {
        let m = app.settled_message(conversation, message).await;
        if m["status"] == "sent" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {message} was never sent");
}

on_both_engines! {
    async fn the_agents_signature_goes_under_their_email_reply_in_text_and_html(engine) {
        let lab = MailLab::start(None);
        let app = spawn_app_with(engine, |s| {
            s.email.supervise_secs = 1;
            s.routing.enabled = false;
        })
        .await;
        let mut settings = lab.inbox_settings(SUPPORT);
        settings["signature"] = json!("Acme Support · acme.test");
        let inbox = app
            .post("/api/v1/inboxes", Some(&app.token), json!({"name": "Support mail", "kind": "email",
                "email": settings, "imap_password": "support-pass"}))
            .await
            .expect_status(201)
            .json["id"]
            .as_i64()
            .unwrap();
        app.send(reqwest::Method::PATCH, "/api/v1/me", Some(&app.token),
            json!({"email_signature": "Olive Owner\nHead of support <olive@acme.test>"}))
            .await
            .expect_status(200);

        lab.send(CUSTOMER, &[SUPPORT], &format!(
            "From: Bob <{CUSTOMER}>\r\nTo: {SUPPORT}\r\nSubject: Broken vase\r\n\
             Message-ID: <vase@customer.test>\r\n\r\nThe vase was in pieces.\r\n")).await;
        let mut conversation = None;
        for _ in 0..300 {
            let list = app.get(&format!("/api/v1/conversations?inbox={inbox}"), Some(&app.token)).await.json;
            if let Some(id) = list["data"][0]["id"].as_i64() {
                conversation = Some(id);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let conversation = conversation.expect("the customer's mail arrived");
        let reply = app.post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
            json!({"text": "A new vase is on its way."}))
            .await
            .expect_status(201)
            .json;
        assert_eq!(reply["text"], "A new vase is on its way.", "the stored text is the agent's words alone");

        let mails = lab.wait_for_mail(CUSTOMER, 1).await;
        let text = part(&mails[0], "text/plain");
        assert!(text.starts_with(
            "A new vase is on its way.\n\n-- \nOlive Owner\nHead of support <olive@acme.test>\n\nAcme Support · acme.test"),
            "the text part: reply, then the agent's signature, then the inbox's:\n{text}");
        let html = part(&mails[0], "text/html");
        let reply_at = html.find("A new vase is on its way.").expect("the reply in the HTML");
        let agent_at = html.find("Olive Owner<br>Head of support &lt;olive@acme.test&gt;")
            .unwrap_or_else(|| panic!("the agent's signature, escaped, in the HTML:\n{html}"));
        let inbox_at = html.find("Acme Support · acme.test").expect("the inbox's signature in the HTML");
        assert!(reply_at < agent_at && agent_at < inbox_at, "{html}");
        wait_until_sent(&app, conversation, reply["id"].as_i64().unwrap()).await;

        // Without a signature of their own, only the inbox's is left; a note carries none.
        app.send(reqwest::Method::PATCH, "/api/v1/me", Some(&app.token), json!({"email_signature": ""}))
            .await
            .expect_status(200);
        app.post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
            json!({"text": "Tracking number follows."}))
            .await
            .expect_status(201);
        let mails = lab.wait_for_mail(CUSTOMER, 2).await;
        let text = part(&mails[1], "text/plain");
        assert!(text.starts_with("Tracking number follows.\n\n-- \nAcme Support · acme.test"), "{text}");
        assert!(!text.contains("Olive Owner\n"), "{text}");
        app.stop().await;
    }
}
