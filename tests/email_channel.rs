//! The email channel against a real Postfix and Dovecot: a thread of ten mails between a
//! customer's mail client and an agent stays one conversation whatever the client does to its
//! headers, bounces fail the reply they name, forwarded mail comes in over SMTP, and every mail
//! of the MIME corpus (five of them sharing one Message-ID) is stored once, also across kill -9.

mod common;
#[path = "common/mail_lab.rs"]
mod mail_lab;

use std::time::Duration;

use common::*;
use mail_lab::{header, MailLab};
use serde_json::{json, Value};

const SUPPORT: &str = "support@support.test";
const CUSTOMER: &str = "customer@customer.test";

async fn email_inbox(app: &TestApp, lab: &MailLab, address: &str) -> i64 {
    let created = app
        .post(
            "/api/v1/inboxes",
            Some(&app.token),
            json!({"name": "Support mail", "kind": "email", "email": lab.inbox_settings(address),
                   "imap_password": format!("{}-pass", address.split('@').next().unwrap())}),
        )
        .await
        .expect_status(201)
        .json;
    assert!(
        created["settings"]["imap"].get("password").is_none(),
        "passwords are never shown"
    );
    created["id"].as_i64().unwrap()
}

async fn spawn(engine: Engine) -> TestApp {
    spawn_app_with(engine, |s| {
        s.email.supervise_secs = 1;
        s.routing.enabled = false;
    })
    .await
}

/// The items of one page of a list endpoint, as the owner sees them.
async fn items(app: &TestApp, path: &str) -> Vec<Value> {
    app.get(path, Some(&app.token))
        .await
        .expect_status(200)
        .json["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The inbox's conversations, newest activity first.
async fn conversations(app: &TestApp, inbox: i64) -> Vec<Value> {
    items(
        app,
        &format!("/api/v1/conversations?inbox={inbox}&limit=100"),
    )
    .await
}

async fn messages(app: &TestApp, conversation: i64) -> Vec<Value> {
    items(
        app,
        &format!("/api/v1/conversations/{conversation}/messages?limit=200"),
    )
    .await
}

/// Waits until `check` holds for the inbox's conversations.
async fn wait_until(
    app: &TestApp,
    inbox: i64,
    what: &str,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    for _ in 0..300 {
        let list = conversations(app, inbox).await;
        if check(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "timed out waiting for {what}: {:#?}",
        conversations(app, inbox).await
    );
}

/// The conversation's mails, either way: activity lines ("… replied and was assigned") are not
/// mails and are left out.
async fn mails(app: &TestApp, conversation: i64) -> Vec<Value> {
    let mut list = messages(app, conversation).await;
    list.retain(|m| m["direction"] != "activity");
    list
}

/// Waits until the conversation holds at least `at_least` mails.
async fn message_count(app: &TestApp, conversation: i64, at_least: usize) -> Vec<Value> {
    for _ in 0..300 {
        let list = mails(app, conversation).await;
        if list.len() >= at_least {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "conversation {conversation} never reached {at_least} mails: {:#?}",
        messages(app, conversation).await
    );
}

async fn agent_replies(app: &TestApp, conversation: i64, text: &str) -> Value {
    app.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(&app.token),
        json!({"text": text}),
    )
    .await
    .expect_status(201)
    .json
}

/// The customer's client answers `agent_mail` in one of the ways real clients and providers do.
fn customer_answer(agent_mail: &str, n: usize, style: &str) -> (String, Vec<String>) {
    let agent_id = header(agent_mail, "Message-ID").unwrap();
    let references = header(agent_mail, "References").unwrap_or_default();
    let reply_to = header(agent_mail, "Reply-To").unwrap();
    let subject = header(agent_mail, "Subject").unwrap();
    // The quoted history carries the agent's HTML, hidden marker and all.
    let quoted_html = agent_mail
        .split("<body>")
        .nth(1)
        .and_then(|b| b.split("</body>").next())
        .map(|b| b.replace("=\r\n", "").replace("=3D", "="))
        .unwrap_or_default();
    let id = format!("<answer-{n}@customer.test>");
    let (to, threading, subject) = match style {
        // A well-behaved client: In-Reply-To, References, Reply-To honoured.
        "polite" => (reply_to, format!("In-Reply-To: {agent_id}\r\nReferences: {references} {agent_id}\r\n"), subject),
        // A client that drops References and In-Reply-To but answers the Reply-To address.
        "no-references" => (reply_to, String::new(), subject),
        // A provider that rewrote the agent's Message-ID: the customer's client refers to an id
        // we never issued, writes to the plain address, and only the quoted marker is left.
        "rewritten-ids" => (
            SUPPORT.to_string(),
            format!("In-Reply-To: <rewritten-{n}@provider.test>\r\nReferences: <rewritten-{n}@provider.test>\r\n"),
            subject,
        ),
        // Everything lost but the quote, and the customer changed the subject.
        _ => (SUPPORT.to_string(), String::new(), format!("Another question ({n})")),
    };
    let raw = format!(
        "From: Bob Customer <{CUSTOMER}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n{threading}\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnswer number {n}.\r\n\r\nOn Mon, Acme wrote:\r\n> earlier\r\n\
         --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Answer number {n}.</p><blockquote>{quoted_html}</blockquote>\r\n--alt--\r\n"
    );
    (raw, vec![to])
}

on_both_engines! {
    async fn a_thread_of_ten_mails_stays_one_conversation(engine) {
        let lab = MailLab::start(None);
        let app = spawn(engine).await;
        let inbox = email_inbox(&app, &lab, SUPPORT).await;

        lab.send(CUSTOMER, &[SUPPORT], &format!(
            "From: Bob Customer <{CUSTOMER}>\r\nTo: {SUPPORT}\r\nSubject: Order 42 arrived broken\r\n\
             Message-ID: <first@customer.test>\r\n\r\nThe vase was in pieces.\r\n")).await;
        let list = wait_until(&app, inbox, "the first mail", |l| l.len() == 1).await;
        let conversation = list[0]["id"].as_i64().unwrap();
        assert_eq!(list[0]["subject"], "Order 42 arrived broken");

        let styles = ["polite", "no-references", "rewritten-ids", "subject-changed"];
        for round in 0..5 {
            agent_replies(&app, conversation, &format!("Reply number {round} from **Olive**.")).await;
            let mails = lab.wait_for_mail(CUSTOMER, round + 1).await;
            let agent_mail = &mails[round];
            // What the customer's client sees: our name, our threading, one stable Message-ID.
            let parsed = switchboard_connector_email::parse_mail(agent_mail.as_bytes(), &switchboard_connector_email::ParseContext {
                tags: &switchboard_connector_email::ThreadTags::new(b"other".to_vec()), own_addresses: &[] });
            assert_eq!(parsed.message.sender.name.as_deref(), Some("Olive Owner | Acme Support"));
            assert!(header(agent_mail, "In-Reply-To").is_some(), "{agent_mail}");
            assert!(header(agent_mail, "References").is_some(), "{agent_mail}");
            assert!(header(agent_mail, "Subject").unwrap().starts_with("Re: Order 42"));
            assert!(agent_mail.contains("text/plain") && agent_mail.contains("text/html"));
            if round == 4 {
                break;
            }
            let (answer, to) = customer_answer(agent_mail, round, styles[round]);
            let to: Vec<&str> = to.iter().map(String::as_str).collect();
            lab.send(CUSTOMER, &to, &answer).await;
            message_count(&app, conversation, 2 * round + 3).await;
        }
        let thread = message_count(&app, conversation, 10).await;
        assert_eq!(thread.len(), 10, "five mails each way: {thread:#?}");
        assert_eq!(conversations(&app, inbox).await.len(), 1, "the thread never split");
        assert_eq!(thread.iter().filter(|m| m["direction"] == "incoming").count(), 5);
        // Every reply went out and kept its Message-ID as its external id.
        for _ in 0..100 {
            let all_sent = messages(&app, conversation).await.iter()
                .filter(|m| m["direction"] == "outgoing").all(|m| m["status"] == "sent");
            if all_sent { break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let thread = mails(&app, conversation).await;
        for m in thread.iter().filter(|m| m["direction"] == "outgoing") {
            assert_eq!(m["status"], "sent", "{m}");
            assert!(m["external_id"].as_str().unwrap().starts_with("sb-"), "{m}");
        }
        // The customer's words, not the quoted history, are the visible text.
        assert_eq!(thread[2]["text"], "Answer number 0.");

        // A new subject with no references from the same customer is a new conversation.
        lab.send(CUSTOMER, &[SUPPORT], &format!(
            "From: {CUSTOMER}\r\nTo: {SUPPORT}\r\nSubject: Invoice for October\r\nMessage-ID: <new@customer.test>\r\n\r\nWhere is it?\r\n")).await;
        wait_until(&app, inbox, "a second conversation", |l| l.len() == 2).await;
        app.stop().await;
    }

    // Every message of the MIME corpus (and the generated giants) is stored once, whole,
    // however broken it is; a second delivery of the same bytes stores nothing new.
    async fn the_mime_corpus_is_stored_whole_and_once(engine) {
        use switchboard::email::MailOutcome;
        let app = spawn(engine).await;
        let created = app
            .post("/api/v1/inboxes", Some(&app.token), json!({"name": "Corpus", "kind": "email",
                "email": {"address": "support@acme.test"}}))
            .await
            .expect_status(201)
            .json;
        let state = app.app.as_ref().unwrap().state().clone();
        let inbox = state.store.get_inbox(app.workspace_id, created["id"].as_i64().unwrap()).await.unwrap().unwrap();
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime");
        let large = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("python3").arg(corpus.join("make_corpus.py"))
            .arg("--large").arg(large.path()).status().unwrap();
        assert!(made.success());
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&corpus).unwrap()
            .chain(std::fs::read_dir(large.path()).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        assert!(files.len() >= 70);
        let mut ids = std::collections::HashSet::new();
        for file in &files {
            let raw = std::fs::read(file).unwrap();
            let first = state.email.accept_mail(&inbox, &raw).await
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let MailOutcome::Stored { message_id, created } = first else {
                panic!("{}: {first:?}", file.display());
            };
            assert!(created, "{}", file.display());
            assert!(ids.insert(message_id), "{}: two mails became one message", file.display());
            let again = state.email.accept_mail(&inbox, &raw).await.unwrap();
            assert_eq!(again, MailOutcome::Stored { message_id, created: false }, "{}", file.display());
        }
        app.stop().await;
    }

    // The MIME corpus in a real Dovecot mailbox, spread among filler mail so the sync takes a
    // while; Switchboard is killed with SIGKILL mid-sync and started again on the same data.
    // Every corpus mail (the five sharing one Message-ID too) is stored exactly once.
    async fn the_corpus_read_over_imap_is_stored_once_across_a_kill_minus_nine(engine) {
        const FILLER: i64 = 1_000;
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime");
        let mut files: Vec<String> = std::fs::read_dir(&corpus).unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| p.display().to_string())
            .collect();
        files.sort();
        let total = FILLER + files.len() as i64;
        let lab = MailLab::start(None);
        let mut args = vec!["marketing@support.test".to_string(), FILLER.to_string()];
        args.extend(files.iter().cloned());
        lab.run("mix", &args.iter().map(String::as_str).collect::<Vec<_>>());

        let db = TestDatabase::new(engine).await;
        let env = [
            ("SWITCHBOARD__EMAIL__SUPERVISE_SECS", "1"),
            ("SWITCHBOARD__ROUTING__ENABLED", "false"),
        ];
        let (mut server, url) = start_server(db.dir.path(), &db.url, &env).await;
        let http = reqwest::Client::new();
        let token = login(&http, &url).await;
        let mut settings = lab.inbox_settings("marketing@support.test");
        settings["imap"]["batch_messages"] = json!(25);
        let created: Value = http
            .post(format!("{url}/api/v1/inboxes"))
            .bearer_auth(&token)
            .json(&json!({"name": "Old mail", "kind": "email", "email": settings, "imap_password": "marketing-pass"}))
            .send().await.unwrap().json().await.unwrap();
        assert!(created["id"].is_i64(), "{created}");

        let incoming = "SELECT COUNT(*) FROM messages WHERE direction = 'incoming'";
        let seen = wait_for_count(&db.url, incoming, total / 2, Duration::from_secs(120)).await;
        assert!(seen < total, "still syncing when killed ({seen} of {total} stored)");
        server.start_kill().unwrap(); // SIGKILL, mid-batch
        server.wait().await.unwrap();
        let (mut server, _url) = start_server(db.dir.path(), &db.url, &env).await;

        let stored = wait_for_count(&db.url, incoming, total, Duration::from_secs(180)).await;
        tokio::time::sleep(Duration::from_secs(2)).await; // nothing may arrive twice after the last
        let after = count(&db.url, incoming, None).await;
        let distinct_ids = "SELECT COUNT(DISTINCT external_id) FROM messages WHERE direction = 'incoming'";
        let distinct = count(&db.url, distinct_ids, None).await;
        assert_eq!((stored, after, distinct), (total, total, total), "every mail once");

        // The worst a crash can leave: every mail committed, the checkpoint not moved at all.
        // Killed again and started with the checkpoint wiped, the server reads every mail once
        // more, and stores none of them twice.
        server.start_kill().unwrap();
        server.wait().await.unwrap();
        execute(&db.url, "UPDATE mailbox_checkpoints SET last_uid = 0").await;
        let (_server, _url) = start_server(db.dir.path(), &db.url, &env).await;
        let read_to = "SELECT COALESCE(MAX(last_uid), 0) FROM mailbox_checkpoints";
        assert_eq!(wait_for_count(&db.url, read_to, total, Duration::from_secs(180)).await, total);
        let again = (count(&db.url, incoming, None).await, count(&db.url, distinct_ids, None).await);
        assert_eq!(again, (total, total), "every mail once, also read twice");
        // Each corpus mail by its Message-ID: stored as often as the corpus holds it.
        let tags = switchboard_connector_email::ThreadTags::new(b"test".to_vec());
        let cx = switchboard_connector_email::ParseContext { tags: &tags, own_addresses: &[] };
        let mut by_id = std::collections::BTreeMap::<String, i64>::new();
        for file in &files {
            let id = switchboard_connector_email::parse_mail(&std::fs::read(file).unwrap(), &cx).message.external_id;
            if !id.starts_with("sha256:") {
                *by_id.entry(id).or_default() += 1;
            }
        }
        assert_eq!(by_id.get("0000000000@oldclient.customer.test"), Some(&5));
        for (id, times) in &by_id {
            let found = count(&db.url, "SELECT COUNT(*) FROM messages WHERE external_id = $1 OR shared_external_id = $1", Some(id)).await;
            assert_eq!(found, *times, "{id}");
        }
    }

    // An old client writes one Message-ID on five different mails: each is stored, each only
    // once however often and by whichever road it comes again, and replies that name the
    // shared Message-ID join the conversation of the mail they answer.
    async fn mails_that_reuse_a_message_id_are_each_kept_and_each_answered(engine) {
        use switchboard::email::MailOutcome;
        let app = spawn(engine).await;
        let created = app
            .post("/api/v1/inboxes", Some(&app.token), json!({"name": "Old clients", "kind": "email",
                "email": {"address": "support@acme.test"}}))
            .await
            .expect_status(201)
            .json;
        let state = app.app.as_ref().unwrap().state().clone();
        let inbox = state.store.get_inbox(app.workspace_id, created["id"].as_i64().unwrap()).await.unwrap().unwrap();
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime");
        let stored = |outcome: MailOutcome| match outcome {
            MailOutcome::Stored { message_id, created } => (message_id, created),
            other => panic!("{other:?}"),
        };
        let mut ids = Vec::new();
        for n in 1..=5 {
            let raw = std::fs::read(corpus.join(format!("reused-message-id-{n}.eml"))).unwrap();
            let (id, created) = stored(state.email.accept_mail(&inbox, &raw).await.unwrap());
            assert!(created, "mail {n} is a mail of its own");
            ids.push(id);
            // The same bytes again (an IMAP re-read, an SMTP retry): nothing new.
            assert_eq!(stored(state.email.accept_mail(&inbox, &raw).await.unwrap()), (id, false));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 5);
        // The copy a relay forwarded: its own trace fields, LF line endings. The same mail.
        let raw = String::from_utf8(std::fs::read(corpus.join("reused-message-id-3.eml")).unwrap()).unwrap();
        let forwarded = format!("Received: from relay.acme.test by switchboard; Mon, 2 Nov 2026 10:00:00 +0100\n\
            X-Spam-Status: No\n{}", raw.replace("\r\n", "\n"));
        let (id, created) = stored(state.email.accept_mail(&inbox, forwarded.as_bytes()).await.unwrap());
        assert!(!created, "a forwarded copy of mail 3 is mail 3");

        let conversation_of = |subject: &'static str| {
            let app = &app;
            async move {
                conversations(app, inbox.id).await.into_iter()
                    .find(|c| c["subject"] == subject)
                    .unwrap_or_else(|| panic!("no conversation {subject:?}"))["id"].as_i64().unwrap()
            }
        };
        let toner = conversation_of("Toner order").await;
        assert!(messages(&app, toner).await.iter().any(|m| m["id"] == id));
        // A colleague (not the author, so no open conversation of theirs to fall back on)
        // answers mail 3 by its Message-ID: the reply joins mail 3's conversation.
        let reply = "From: Carol <carol@oldclient.customer.test>\r\nTo: support@acme.test\r\n\
            Subject: Re: Toner order\r\nMessage-ID: <carol.1@oldclient.customer.test>\r\n\
            In-Reply-To: <0000000000@oldclient.customer.test>\r\n\r\nMake it three cartridges.\r\n";
        stored(state.email.accept_mail(&inbox, reply.as_bytes()).await.unwrap());
        let texts: Vec<String> = messages(&app, toner).await.iter()
            .map(|m| m["text"].as_str().unwrap().to_string()).collect();
        assert!(texts.iter().any(|t| t == "Make it three cartridges."), "{texts:?}");
        // With a subject of its own the reference cannot tell: it answers the latest mail.
        let reply = "From: Carol <carol@oldclient.customer.test>\r\nTo: support@acme.test\r\n\
            Subject: One more thing\r\nMessage-ID: <carol.2@oldclient.customer.test>\r\n\
            References: <0000000000@oldclient.customer.test>\r\n\r\nAnd some paper.\r\n";
        stored(state.email.accept_mail(&inbox, reply.as_bytes()).await.unwrap());
        let thanks = conversation_of("Thanks").await;
        assert!(messages(&app, thanks).await.iter().any(|m| m["text"] == "And some paper."));

        // An agent's answer in mail 3's conversation names the Message-ID the client knows.
        let thread = state.store.email().thread(app.workspace_id, toner).await.unwrap();
        assert_eq!(thread.last_incoming.as_deref(), Some("carol.1@oldclient.customer.test"));
        assert_eq!(thread.message_ids, vec!["0000000000@oldclient.customer.test", "carol.1@oldclient.customer.test"]);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_fails_the_reply_it_names() {
    let lab = MailLab::start(None);
    let app = spawn(Engine::Sqlite).await;
    let inbox = email_inbox(&app, &lab, SUPPORT).await;
    // A customer whose mailbox is gone: Postfix accepts our reply, then bounces it to us.
    lab.send("someone@gone.test", &[SUPPORT], "From: someone@gone.test\r\nTo: support@support.test\r\nSubject: Hello\r\nMessage-ID: <g1@customer.test>\r\n\r\nHi\r\n").await;
    let list = wait_until(&app, inbox, "the mail", |l| l.len() == 1).await;
    let conversation = list[0]["id"].as_i64().unwrap();
    let reply = agent_replies(&app, conversation, "Hello there").await;
    for _ in 0..300 {
        let thread = messages(&app, conversation).await;
        let ours = thread.iter().find(|m| m["id"] == reply["id"]).unwrap();
        if ours["status"] == "failed" {
            assert!(
                ours["error"].as_str().unwrap().starts_with("bounced:"),
                "{ours}"
            );
            // The bounce itself is not a customer message.
            assert_eq!(
                thread
                    .iter()
                    .filter(|m| m["direction"] == "incoming")
                    .count(),
                1
            );
            app.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the reply was never marked bounced: {:#?}\n{}",
        messages(&app, conversation).await,
        lab.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_mail_comes_in_through_the_mta() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.email.inbound_smtp_addr = "127.0.0.1:0".into();
        s.routing.enabled = false;
    })
    .await;
    let port = app
        .app
        .as_ref()
        .unwrap()
        .forwarded_mail_addr()
        .unwrap()
        .port();
    let lab = MailLab::start(Some(port));
    let created = app
        .post(
            "/api/v1/inboxes",
            Some(&app.token),
            json!({"name": "Forwarded", "kind": "email",
            "email": {"address": "help@inbound.test"}}),
        )
        .await
        .expect_status(201)
        .json;
    let inbox = created["id"].as_i64().unwrap();
    // The customer writes to the company; its MTA relays the domain to Switchboard.
    lab.send(CUSTOMER, &["help@inbound.test"], &format!(
        "From: Bob <{CUSTOMER}>\r\nTo: help@inbound.test\r\nSubject: Forwarded question\r\nMessage-ID: <fw1@customer.test>\r\n\r\nDoes forwarding work?\r\n")).await;
    let list = wait_until(&app, inbox, "the forwarded mail", |l| l.len() == 1).await;
    let thread = messages(&app, list[0]["id"].as_i64().unwrap()).await;
    assert_eq!(thread[0]["text"], "Does forwarding work?");
    // An address no inbox owns is refused at RCPT, so the sender's MTA keeps and reports it.
    let refused = mail_lab::send_smtp(
        port,
        CUSTOMER,
        &["nobody@inbound.test"],
        "Subject: x\r\n\r\ny\r\n",
    )
    .await;
    assert!(
        refused.unwrap_err().starts_with("550"),
        "unknown addresses are refused"
    );
    app.stop().await;
}

/// One number read straight from the database, whichever engine (the server may be dead);
/// 0 while the schema is not there yet.
async fn count(database_url: &str, sql: &str, bind: Option<&str>) -> i64 {
    use sqlx::Connection;
    macro_rules! run {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(database_url).await.unwrap();
            let mut q = sqlx::query_scalar::<_, i64>(sql);
            if let Some(b) = bind {
                q = q.bind(b.to_string());
            }
            q.fetch_one(&mut c).await.unwrap_or(0)
        }};
    }
    if database_url.starts_with("sqlite:") {
        run!(sqlx::SqliteConnection)
    } else {
        run!(sqlx::PgConnection)
    }
}

async fn execute(database_url: &str, sql: &str) {
    use sqlx::Connection;
    if database_url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

async fn wait_for_count(database_url: &str, sql: &str, at_least: i64, within: Duration) -> i64 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let n = count(database_url, sql, None).await;
        if n >= at_least || tokio::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mails in the store, and distinct external ids among them, read straight from the database.
async fn stored_mail(database_url: &str) -> (i64, i64) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
    sqlx::query_as::<_, (i64, i64)>(
        "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM messages WHERE direction = 'incoming'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap_or((0, 0))
}

async fn wait_for_stored(database_url: &str, at_least: i64, within: Duration) -> (i64, i64) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let counts = stored_mail(database_url).await;
        if counts.0 >= at_least || tokio::time::Instant::now() > deadline {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Dovecot restarted mid-sync, then Switchboard killed with SIGKILL mid-sync and started again:
/// every mail of the mailbox ends up stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_and_crashes_mid_sync_store_every_mail_exactly_once() {
    const MAILS: i64 = 3_000;
    let lab = MailLab::start(None);
    lab.run("fill", &["marketing@support.test", &MAILS.to_string()]);
    let db = TestDatabase::new(Engine::Sqlite).await;
    let env = [
        ("SWITCHBOARD__EMAIL__SUPERVISE_SECS", "1"),
        ("SWITCHBOARD__ROUTING__ENABLED", "false"),
    ];
    let (mut server, url) = start_server(db.dir.path(), &db.url, &env).await;
    let http = reqwest::Client::new();
    let token = login(&http, &url).await;
    let mut settings = lab.inbox_settings("marketing@support.test");
    settings["imap"]["batch_messages"] = json!(25);
    let created: Value = http
        .post(format!("{url}/api/v1/inboxes"))
        .bearer_auth(&token)
        .json(&json!({"name": "Campaign replies", "kind": "email", "email": settings, "imap_password": "marketing-pass"}))
        .send().await.unwrap().json().await.unwrap();
    assert!(created["id"].is_i64(), "{created}");

    // Dovecot goes away in the middle of the sync and comes back.
    let (seen, _) = wait_for_stored(&db.url, 300, Duration::from_secs(60)).await;
    assert!(
        (300..MAILS).contains(&seen),
        "the sync is under way ({seen} stored)"
    );
    lab.run("restart-imap", &[]);

    // Then Switchboard itself dies without warning, mid-batch.
    let (seen, _) = wait_for_stored(&db.url, seen + 600, Duration::from_secs(60)).await;
    assert!(seen < MAILS, "still syncing when killed ({seen} stored)");
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let (_server, _url) = start_server(db.dir.path(), &db.url, &env).await;

    let (total, distinct) = wait_for_stored(&db.url, MAILS, Duration::from_secs(120)).await;
    // A moment more: nothing may arrive twice after the last mail.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (total_after, distinct_after) = stored_mail(&db.url).await;
    assert_eq!((total, distinct), (MAILS, MAILS), "every mail once");
    assert_eq!(
        (total_after, distinct_after),
        (MAILS, MAILS),
        "and nothing after"
    );
}

/// Dovecot forgets its UIDs (a restored backup, a rebuilt index): UIDVALIDITY changes, the
/// mailbox is read again from the start, and nothing already stored is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uidvalidity_change_rereads_the_mailbox_without_duplicates() {
    let lab = MailLab::start(None);
    lab.run("fill", &["marketing@support.test", "40"]);
    let app = spawn(Engine::Sqlite).await;
    let inbox = email_inbox(&app, &lab, "marketing@support.test").await;
    let store = app.store();
    let count = |store: std::sync::Arc<dyn switchboard::store::Store>| async move {
        store.email().checkpoint(inbox, "INBOX").await.unwrap()
    };
    let mut first = None;
    for _ in 0..300 {
        first = count(store.clone()).await;
        if first.is_some_and(|(_, uid)| uid == 40) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (validity, _) = first.expect("the mailbox was read");

    // Dovecot loses its UID list and index, and new mail arrives while it is down.
    lab.run("kill-imap", &[]);
    let maildir = lab.dir.path().join("mail/support.test/marketing");
    for entry in std::fs::read_dir(&maildir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("dovecot") {
            let _ = std::fs::remove_file(&path);
        }
    }
    std::thread::sleep(Duration::from_millis(1100)); // UIDVALIDITY is a timestamp: make it move
    lab.run("start-imap", &[]);
    lab.send(CUSTOMER, &["marketing@support.test"], &format!(
        "From: {CUSTOMER}\r\nTo: marketing@support.test\r\nSubject: After the rebuild\r\nMessage-ID: <after@customer.test>\r\n\r\nNew mail.\r\n")).await;

    for _ in 0..400 {
        if let Some((v, uid)) = count(store.clone()).await {
            if v != validity && uid >= 41 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (new_validity, last) = count(store.clone()).await.unwrap();
    assert_ne!(
        new_validity, validity,
        "Dovecot gave the mailbox a new UIDVALIDITY"
    );
    assert_eq!(
        last, 41,
        "all 41 mails read again under the new UIDVALIDITY"
    );
    let list = conversations(&app, inbox).await;
    let mut incoming = 0;
    for c in &list {
        incoming += messages(&app, c["id"].as_i64().unwrap())
            .await
            .iter()
            .filter(|m| m["direction"] == "incoming")
            .count();
    }
    assert_eq!(incoming, 41, "40 old mails once each, and the new one");
    app.stop().await;
}

/// What a mailbox sync hands over, kept in memory.
#[derive(Default)]
struct Collected {
    mails: std::sync::Mutex<Vec<(u32, usize)>>,
    checkpoint: std::sync::Mutex<Option<switchboard_connector_email::Checkpoint>>,
}

#[async_trait::async_trait]
impl switchboard_connector_email::MailSink for Collected {
    async fn checkpoint(
        &self,
    ) -> Result<
        Option<switchboard_connector_email::Checkpoint>,
        switchboard_connector_email::SinkError,
    > {
        Ok(*self.checkpoint.lock().unwrap())
    }
    async fn accept(
        &self,
        uid: u32,
        raw: &[u8],
    ) -> Result<(), switchboard_connector_email::SinkError> {
        self.mails.lock().unwrap().push((uid, raw.len()));
        Ok(())
    }
    async fn save_checkpoint(
        &self,
        c: switchboard_connector_email::Checkpoint,
    ) -> Result<(), switchboard_connector_email::SinkError> {
        *self.checkpoint.lock().unwrap() = Some(c);
        Ok(())
    }
}

/// IMAPS and STARTTLS against Dovecot's self-signed certificate: refused by default (the
/// certificate is not trusted), read in full when the admin accepts it; a wrong password is a
/// clear login error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailboxes_are_read_over_tls_and_starttls() {
    use switchboard_connector_email::{ImapSettings, MailboxSync, Security};
    let lab = MailLab::start(None);
    lab.run("fill", &["marketing@support.test", "30"]);
    let settings = |port: u16, security: Security, accept: bool, password: &str| -> ImapSettings {
        serde_json::from_value(json!({"host": "127.0.0.1", "port": port, "security": security,
            "username": "marketing@support.test", "accept_invalid_certs": accept, "batch_messages": 7}))
            .map(|mut s: ImapSettings| { s.password = password.into(); s })
            .unwrap()
    };
    for (port, security) in [
        (lab.imaps_port, Security::Tls),
        (lab.imap_port, Security::Starttls),
    ] {
        let untrusted = MailboxSync::new(settings(port, security, false, "marketing-pass"))
            .sync_once(&Collected::default())
            .await;
        assert!(
            untrusted.is_err(),
            "{security:?}: a self-signed certificate is not trusted by default"
        );

        let sink = Collected::default();
        let report = MailboxSync::new(settings(port, security, true, "marketing-pass"))
            .sync_once(&sink)
            .await
            .unwrap();
        assert_eq!(report.fetched, 30, "{security:?}");
        let uids: Vec<u32> = sink.mails.lock().unwrap().iter().map(|(u, _)| *u).collect();
        assert_eq!(
            uids,
            (1..=30).collect::<Vec<_>>(),
            "{security:?}: in order, each once"
        );
        assert_eq!(sink.checkpoint.lock().unwrap().unwrap().last_uid, 30);
        // Nothing new: a second pass reads nothing.
        let again = MailboxSync::new(settings(port, security, true, "marketing-pass"))
            .sync_once(&sink)
            .await
            .unwrap();
        assert_eq!(again.fetched, 0);
    }
    let wrong = MailboxSync::new(settings(lab.imaps_port, Security::Tls, true, "nope"))
        .sync_once(&Collected::default())
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("refused the login"), "{wrong}");
}

/// Mails of one batch are stored concurrently but in order: a chain of replies fetched together
/// (each answering the one before, each with a new subject) still lands in one conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_replies_fetched_in_one_batch_stays_one_thread() {
    let lab = MailLab::start(None);
    let new = lab.dir.path().join("mail/support.test/marketing/new");
    for i in 0..60 {
        let parent = if i == 0 {
            String::new()
        } else {
            format!("In-Reply-To: <chain-{}@customer.test>\r\n", i - 1)
        };
        let raw = format!(
            "From: Person {i} <p{i}@customer.test>\r\nTo: marketing@support.test\r\nSubject: Point {i}\r\n\
             Message-ID: <chain-{i}@customer.test>\r\n{parent}\r\nReply number {i}.\r\n");
        std::fs::write(new.join(format!("1700000000.M{i:03}P1.lab")), raw).unwrap();
    }
    let _ = std::process::Command::new("chown")
        .arg("-R")
        .arg("mail:mail")
        .arg(&new)
        .status();
    let app = spawn(Engine::Sqlite).await;
    let inbox = email_inbox(&app, &lab, "marketing@support.test").await;
    let list = wait_until(&app, inbox, "the chain", |l| {
        l.len() == 1 && l[0]["summary"]["last_message"] == "Reply number 59."
    })
    .await;
    let thread = messages(&app, list[0]["id"].as_i64().unwrap()).await;
    assert_eq!(thread.len(), 60);
    let texts: Vec<&str> = thread.iter().map(|m| m["text"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..60).map(|i| format!("Reply number {i}.")).collect();
    assert_eq!(texts, expected, "stored in mailbox order");
    app.stop().await;
}
