//! Attachment names and types with control characters are refused at upload, and a bad value
//! already stored still downloads, with headers rebuilt safe.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

fn file(filename: &str, content_type: &str) -> Value {
    json!({
        "filename": filename,
        "content_type": content_type,
        "data": base64::engine::general_purpose::STANDARD.encode(b"\x89PNG fake"),
    })
}

fn inbound(attachment: Value) -> Value {
    json!({"contact": {"identifier": "c1"}, "external_id": uuid_like(), "text": "see file", "attachments": [attachment]})
}

fn refused_naming(reply: Reply, field: &str, what: &str) {
    assert_eq!(reply.status, 422, "{what}: {}", reply.text);
    let message = reply.json["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("`{field}`")), "{what}: {message}");
}

/// Overwrites a stored attachment's name and type, as an older release or another channel
/// could have left them.
async fn corrupt_attachment(app: &TestApp, id: i64, filename: &str, content_type: &str) {
    use sqlx::Connection;
    let url = &app.db.url;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("UPDATE attachments SET filename = ?, content_type = ? WHERE id = ?")
            .bind(filename)
            .bind(content_type)
            .bind(id)
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("UPDATE attachments SET filename = $1, content_type = $2 WHERE id = $3")
            .bind(filename)
            .bind(content_type)
            .bind(id)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

on_both_engines! {
    async fn names_and_types_with_control_characters_are_refused_at_upload(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let path = format!("/api/v1/inboxes/{inbox}/messages");
        for (what, attachment, field) in [
            ("line break in name", file("evil\n.png", "image/png"), "attachments[0].filename"),
            ("header in type", file("a.png", "image/png\r\nSet-Cookie: session=stolen"), "attachments[0].content_type"),
            ("not a type", file("a.png", "png"), "attachments[0].content_type"),
            ("type off the allow-list", file("a.html", "text/html"), "attachments[0].content_type"),
            ("overlong name", file(&format!("{}.png", "a".repeat(300)), "image/png"), "attachments[0].filename"),
            ("disguised extension", file("invoice\u{202e}fdp.exe", "application/pdf"), "attachments[0].filename"),
        ] {
            refused_naming(app.post(&path, Some(&app.token), inbound(attachment)).await, field, what);
        }
        let listed = app.get("/api/v1/conversations", Some(&app.token)).await.json;
        assert_eq!(listed["data"].as_array().unwrap().len(), 0, "nothing stored");

        // Agent replies and visitors' uploads go through the same checks.
        let message = app.post(&path, Some(&app.token), inbound(file("ok.png", "image/png"))).await.expect_status(201).json;
        let conversation = message["conversation_id"].as_i64().unwrap();
        let reply = app
            .post(&format!("/api/v1/conversations/{conversation}/messages"), Some(&app.token),
                json!({"text": "here", "attachments": [file("a.png", "image/png\r\nX-Evil: 1")]}))
            .await;
        refused_naming(reply, "attachments[0].content_type", "agent reply");

        let chat = app
            .post("/api/v1/inboxes", Some(&app.token), json!({"name": "Chat", "kind": "web_chat"}))
            .await
            .expect_status(201)
            .json;
        let visitor = app
            .post("/widget/v1/sessions", None, json!({"website_token": chat["settings"]["website_token"]}))
            .await
            .expect_status(200)
            .json["visitor_token"]
            .as_str()
            .unwrap()
            .to_string();
        let upload = app
            .post("/widget/v1/messages", Some(&visitor),
                json!({"client_id": "u1", "text": "pic", "attachments": [file("cat\r\n.png", "image/png")]}))
            .await;
        refused_naming(upload, "attachments[0].filename", "visitor upload");
        app.stop().await;
    }

    async fn a_bad_stored_name_or_type_still_downloads_with_safe_headers(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let message = app
            .post(&format!("/api/v1/inboxes/{inbox}/messages"), Some(&app.token), inbound(file("ok.png", "image/png")))
            .await
            .expect_status(201)
            .json;
        let id = message["attachments"][0]["id"].as_i64().unwrap();
        corrupt_attachment(&app, id, "résumé\r\nSet-Cookie: a=b\".png", "image/png\r\nSet-Cookie: session=stolen").await;

        let download = app.http.get(format!("{}/api/v1/attachments/{id}", app.url)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(download.status(), 200);
        let headers = download.headers().clone();
        assert_eq!(headers["content-type"], "application/octet-stream");
        assert!(headers.get("set-cookie").is_none());
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"r_sum_Set-Cookie: a=b_.png\"; filename*=UTF-8''r%C3%A9sum%C3%A9Set-Cookie%3A%20a%3Db%22.png"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(download.bytes().await.unwrap().as_ref(), b"\x89PNG fake");
        app.stop().await;
    }

    async fn a_linked_attachment_stored_with_a_line_break_still_redirects(engine) {
        let app = spawn_app(engine).await;
        let (inbox, _) = app.api_inbox("CRM", None).await;
        let linked = json!({"filename": "spec.pdf", "content_type": "application/pdf", "url": "https://files.example/spec\n.pdf"});
        let message = app
            .post(&format!("/api/v1/inboxes/{inbox}/messages"), Some(&app.token), inbound(linked))
            .await
            .expect_status(201)
            .json;
        let id = message["attachments"][0]["id"].as_i64().unwrap();
        assert_eq!(message["attachments"][0]["url"], "https://files.example/spec.pdf", "stored parsed");
        // As an older release stored it: the raw input.
        {
            use sqlx::Connection;
            let sql_sqlite = "UPDATE attachments SET url = ? WHERE id = ?";
            let sql_pg = "UPDATE attachments SET url = $1 WHERE id = $2";
            let raw = "https://files.example/spec\r\n.pdf";
            if app.db.url.starts_with("sqlite:") {
                let mut conn = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
                sqlx::query(sql_sqlite).bind(raw).bind(id).execute(&mut conn).await.unwrap();
            } else {
                let mut conn = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
                sqlx::query(sql_pg).bind(raw).bind(id).execute(&mut conn).await.unwrap();
            }
        }
        let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let download = no_follow.get(format!("{}/api/v1/attachments/{id}", app.url)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(download.status(), 307);
        assert_eq!(download.headers()["location"], "https://files.example/spec.pdf");
        app.stop().await;
    }
}
