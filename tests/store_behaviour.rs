//! The store's behaviour, the same suite on SQLite and PostgreSQL: whatever engine is behind
//! `Store`, callers see the same results.

mod common;

use std::sync::Arc;

use common::*;
use switchboard::domain::*;
use switchboard::store::*;
use switchboard_connector_core::{ChannelKind, Identity, InboundMessage};

use common::inbound as message;

async fn setup(store: &Arc<dyn Store>) -> (Workspace, Inbox, User) {
    let (ws, inbox) = workspace_with_inbox(store).await;
    let agent = store
        .create_user(NewUser {
            workspace_id: ws.id,
            email: EmailAddress::parse(&format!("agent{}@acme.example", ws.id)).unwrap(),
            name: "Ada Agent".into(),
            role: Role::Agent,
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    (ws, inbox, agent)
}

async fn ingest(
    store: &Arc<dyn Store>,
    ws: &Workspace,
    inbox: &Inbox,
    m: InboundMessage,
) -> IngestOutcome {
    store
        .ingest(IngestRequest {
            workspace_id: ws.id,
            inbox_id: inbox.id,
            message: m,
            received_at: now_millis(),
        })
        .await
        .unwrap()
}

fn resolve() -> ConversationPatch {
    ConversationPatch {
        status: Some(ConversationStatus::Resolved),
        snoozed_until: None,
        priority: None,
        labels: None,
    }
}

fn actor(user: &User) -> Actor {
    Actor {
        user_id: user.id,
        name: user.name.clone(),
    }
}

on_both_engines! {
    async fn event_sequence_numbers_are_dense_and_ordered_under_concurrent_writes(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        let (other_ws, other_inbox, _) = setup(&store).await;
        let writes = (0..40).map(|i| {
            let store = store.clone();
            let (ws, inbox) = if i % 4 == 0 { (other_ws.clone(), other_inbox.clone()) } else { (ws.clone(), inbox.clone()) };
            tokio::spawn(async move {
                ingest(&store, &ws, &inbox, message(&format!("m{i}"), &format!("p{}", i % 5), "hi")).await
            })
        });
        for write in futures::future::join_all(writes).await {
            write.unwrap();
        }
        for workspace in [&ws, &other_ws] {
            let events = store.events_after(workspace.id, 0, 10_000).await.unwrap();
            let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
            let dense: Vec<i64> = (1..=events.len() as i64).collect();
            assert_eq!(seqs, dense, "per-workspace sequence numbers have no gaps and no repeats");
            assert!(events.iter().all(|e| e.workspace_id == workspace.id));
        }
        let tail = store.events_after(ws.id, 10, 5).await.unwrap();
        assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![11, 12, 13, 14, 15]);
    }

    async fn nothing_crosses_workspaces(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        let (other, _, _) = setup(&store).await;
        let stored = ingest(&store, &ws, &inbox, message("m1", "ana", "secret")).await;
        assert!(store.get_conversation(other.id, stored.conversation.id).await.unwrap().is_none());
        assert!(store.get_inbox(other.id, inbox.id).await.unwrap().is_none());
        assert!(store.get_contact(other.id, stored.conversation.contact_id).await.unwrap().is_none());
        assert!(store.list_messages(other.id, stored.conversation.id, &Page { after: None, limit: 50 }).await.unwrap().is_empty());
        let listed = store.list_conversations(other.id, &ConversationFilter::default(), &Page { after: None, limit: 50 }).await.unwrap();
        assert!(listed.is_empty());
        let err = store
            .ingest(IngestRequest { workspace_id: other.id, inbox_id: inbox.id, message: message("m2", "x", "y"), received_at: now_millis() })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound("inbox")), "{err}");
    }

    async fn one_person_on_two_channels_is_one_contact(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        let known = store
            .create_contact(NewContact {
                workspace_id: ws.id,
                name: Some("Bea".into()),
                email: Some("bea@example.org".into()),
                phone: None,
                attributes: serde_json::json!({"plan": "pro"}),
                identities: vec![Identity::email("bea@example.org")],
            })
            .await
            .unwrap();
        let mut m = message("m1", "bea-crm-id", "hello");
        m.sender.email = Some("Bea@Example.org".into());
        let stored = ingest(&store, &ws, &inbox, m).await;
        assert_eq!(stored.conversation.contact_id, known.id, "the email identity joins the known contact");
        let contact = store.get_contact(ws.id, known.id).await.unwrap().unwrap();
        let mut identities: Vec<_> = contact.identities.iter().map(|i| format!("{}:{}", i.namespace, i.identifier)).collect();
        identities.sort();
        assert_eq!(identities, vec!["email:bea@example.org", "test:bea-crm-id"]);
        assert_eq!(contact.attributes["plan"], "pro");
    }

    async fn a_resolved_conversation_stays_closed_and_the_next_message_opens_a_new_one(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        let first = ingest(&store, &ws, &inbox, message("m1", "cy", "one")).await;
        let same = ingest(&store, &ws, &inbox, message("m2", "cy", "two")).await;
        assert_eq!(first.conversation.id, same.conversation.id);

        let patch = ConversationPatch { status: Some(ConversationStatus::Resolved), ..Default::default() };
        let (resolved, events) = store.update_conversation(ws.id, first.conversation.id, patch, actor(&agent)).await.unwrap();
        assert_eq!(resolved.status, ConversationStatus::Resolved);
        assert!(resolved.resolved_at.is_some());
        assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["message.created", "conversation.updated"]);
        let thread = store.list_messages(ws.id, first.conversation.id, &Page { after: None, limit: 50 }).await.unwrap();
        assert_eq!(thread.last().unwrap().direction, Direction::Activity);
        assert!(thread.last().unwrap().text.contains("Ada Agent"));

        let next = ingest(&store, &ws, &inbox, message("m3", "cy", "three")).await;
        assert_ne!(next.conversation.id, first.conversation.id);
        assert_eq!(next.conversation.contact_id, first.conversation.contact_id);
    }

    async fn a_customer_writing_again_wakes_a_snoozed_conversation(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        let first = ingest(&store, &ws, &inbox, message("m1", "di", "one")).await;
        let patch = ConversationPatch { status: Some(ConversationStatus::Snoozed), snoozed_until: Some(now_millis() + 3_600_000), ..Default::default() };
        store.update_conversation(ws.id, first.conversation.id, patch, actor(&agent)).await.unwrap();
        let again = ingest(&store, &ws, &inbox, message("m2", "di", "hello?")).await;
        assert_eq!(again.conversation.id, first.conversation.id);
        assert_eq!(again.conversation.status, ConversationStatus::Open);
        assert_eq!(again.conversation.snoozed_until, None);
        assert!(again.events.iter().any(|e| e.kind == "conversation.updated"));
    }

    async fn thread_keys_keep_separate_threads_apart(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        let mut a = message("m1", "ed", "about invoice");
        a.thread_key = Some("invoice".into());
        let mut b = message("m2", "ed", "about login");
        b.thread_key = Some("login".into());
        let mut a2 = message("m3", "ed", "invoice again");
        a2.thread_key = Some("invoice".into());
        let a = ingest(&store, &ws, &inbox, a).await;
        let b = ingest(&store, &ws, &inbox, b).await;
        let a2 = ingest(&store, &ws, &inbox, a2).await;
        assert_ne!(a.conversation.id, b.conversation.id);
        assert_eq!(a.conversation.id, a2.conversation.id);
    }

    async fn conversations_page_by_recent_activity_without_gaps_or_repeats(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        for i in 0..7 {
            ingest(&store, &ws, &inbox, message(&format!("m{i}"), &format!("person{i}"), "hi")).await;
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.list_conversations(ws.id, &ConversationFilter::default(), &Page { after, limit: 3 }).await.unwrap();
            if page.is_empty() { break; }
            after = page.last().map(|c| (c.last_activity_at, c.id));
            seen.extend(page.iter().map(|c| c.id));
        }
        let mut sorted = seen.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen.len(), 7);
        assert_eq!(seen, sorted, "newest first, each once");
        let only_visible = ConversationFilter { visible_inboxes: Some(vec![]), ..Default::default() };
        assert!(store.list_conversations(ws.id, &only_visible, &Page { after: None, limit: 50 }).await.unwrap().is_empty());
    }

    async fn assignment_goes_only_to_agents_who_can_see_the_inbox(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        let stored = ingest(&store, &ws, &inbox, message("m1", "fay", "hi")).await;
        let err = store.assign_conversation(ws.id, stored.conversation.id, Assignment { assignee_id: Some(agent.id), team_id: None }, actor(&agent)).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        store.add_inbox_member(ws.id, inbox.id, agent.id).await.unwrap();
        let (assigned, events) = store.assign_conversation(ws.id, stored.conversation.id, Assignment { assignee_id: Some(agent.id), team_id: None }, actor(&agent)).await.unwrap();
        assert_eq!(assigned.assignee_id, Some(agent.id));
        assert_eq!(events.len(), 2);
        let mine = ConversationFilter { assignee: Some(AssigneeFilter::User(agent.id)), ..Default::default() };
        assert_eq!(store.list_conversations(ws.id, &mine, &Page { after: None, limit: 5 }).await.unwrap().len(), 1);
    }

    async fn a_leased_delivery_is_handed_to_one_dispatcher_at_a_time(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        let stored = ingest(&store, &ws, &inbox, message("m1", "gus", "hi")).await;
        let (reply, _) = store
            .post_reply(NewReply {
                workspace_id: ws.id, conversation_id: stored.conversation.id, author: actor(&agent),
                text: "hello Gus".into(), html: None, private: false, attachments: vec![], meta: None, client: None,
                assign_to_author: false,
            })
            .await
            .unwrap();
        let now = now_millis();
        let (a, b) = tokio::join!(
            store.claim_deliveries("dispatcher-a", now, 60_000, 10),
            store.claim_deliveries("dispatcher-b", now, 60_000, 10),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.len() + b.len(), 1, "exactly one dispatcher gets the row");
        let claimed = a.into_iter().chain(b).next().unwrap();
        assert_eq!(claimed.delivery.message_id, reply.id);
        assert_eq!(claimed.delivery.attempt, 1);
        assert!(claimed.delivery.recipient.contains(&Identity::new("test", "gus")));
        assert_eq!(claimed.delivery.sender_name.as_deref(), Some("Ada Agent"));

        assert!(store.claim_deliveries("dispatcher-c", now + 1_000, 60_000, 10).await.unwrap().is_empty());
        let retaken = store.claim_deliveries("dispatcher-c", now + 61_000, 60_000, 10).await.unwrap();
        assert_eq!(retaken.len(), 1, "a lease that ran out is taken over");
        assert_eq!(retaken[0].delivery.delivery_id, claimed.delivery.delivery_id, "same delivery id on retry");
        assert_eq!(retaken[0].delivery.attempt, 2);

        let events = store.delivery_sent(claimed.outbox_id, Some("prov-1".into()), now).await.unwrap();
        assert_eq!(events.len(), 1);
        assert!(store.delivery_sent(claimed.outbox_id, None, now).await.unwrap().is_empty(), "settling twice is a no-op");
        assert!(store.claim_deliveries("dispatcher-d", now + 200_000, 60_000, 10).await.unwrap().is_empty());
    }

    async fn presence_changes_are_events_and_silence_turns_agents_offline(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, _, agent) = setup(&store).await;
        let t0 = now_millis();
        let changed = store.set_presence(ws.id, agent.id, PresenceStatus::Online, t0).await.unwrap();
        assert_eq!(changed.unwrap().kind, "presence.updated");
        assert!(store.set_presence(ws.id, agent.id, PresenceStatus::Online, t0 + 10).await.unwrap().is_none());
        store.touch_presence(agent.id, t0 + 20_000).await.unwrap();
        assert!(store.expire_presence(t0 + 10_000, t0 + 30_000).await.unwrap().is_empty(), "seen recently");
        let expired = store.expire_presence(t0 + 90_000, t0 + 100_000).await.unwrap();
        assert_eq!(expired.len(), 1);
        let listed = store.list_presence(ws.id).await.unwrap();
        assert_eq!(listed[0].status, PresenceStatus::Offline);
    }

    async fn a_reply_joins_the_conversation_it_answers_even_a_resolved_one(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        let first = ingest(&store, &ws, &inbox, InboundMessage {
            thread_key: Some("email:order 42".into()),
            ..message("<o1@customer.test>", "bob", "Where is my order?")
        }).await;
        store.update_conversation(ws.id, first.conversation.id, resolve(), actor(&agent)).await.unwrap();
        // A new subject, but it answers the first mail: same conversation, open again.
        let reply = ingest(&store, &ws, &inbox, InboundMessage {
            thread_key: Some("email:something else".into()),
            references: vec!["<nope@x>".into(), "<o1@customer.test>".into()],
            ..message("<r2@customer.test>", "bob", "Still waiting")
        }).await;
        assert_eq!(reply.conversation.id, first.conversation.id);
        assert_eq!(reply.conversation.status, ConversationStatus::Open);
        // From another address (a colleague in CC), proved by the channel: same conversation.
        let colleague = ingest(&store, &ws, &inbox, InboundMessage {
            conversation_hint: Some(first.conversation.id),
            ..message("<c3@customer.test>", "carol", "Me too")
        }).await;
        assert_eq!(colleague.conversation.id, first.conversation.id);
        // A new subject with no references: a new conversation.
        let fresh = ingest(&store, &ws, &inbox, InboundMessage {
            thread_key: Some("email:invoice".into()),
            ..message("<n4@customer.test>", "bob", "About my invoice")
        }).await;
        assert_ne!(fresh.conversation.id, first.conversation.id);
    }

    async fn different_messages_under_one_external_id_are_each_stored_once(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        let bus: Arc<dyn switchboard::bus::EventBus> = Arc::new(switchboard::bus::InProcessBus::new(64));
        let ingest = switchboard::desk::Desk::new(store.clone(), bus);
        let reused = |n: usize| InboundMessage {
            content_key: Some(format!("sha256:key{n}")),
            thread_key: Some(format!("email:subject {n}")),
            ..message("0000@old.test", "walt", &format!("mail {n}"))
        };
        // Five different mails under one id, delivered all at once (five SMTP sessions).
        let firsts = futures::future::join_all((1..=5).map(|n| {
            let (ingest, m) = (ingest.clone(), reused(n));
            async move { ingest.ingest(ws.id, inbox.id, m).await.unwrap() }
        }))
        .await;
        assert!(firsts.iter().all(|o| o.created));
        let mut ids: Vec<Id> = firsts.iter().map(|o| o.message.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 5, "five mails, five messages");
        // Each again, twice at once: the message stored for it, nothing new.
        for (n, first) in (1..=5).zip(&firsts) {
            let again = futures::future::join_all((0..2).map(|_| {
                let (ingest, m) = (ingest.clone(), reused(n));
                async move { ingest.ingest(ws.id, inbox.id, m).await.unwrap() }
            }))
            .await;
            for o in again {
                assert!(!o.created);
                assert_eq!(o.message.id, first.message.id);
            }
        }
        // A message of a channel without content keys under a stored id is the stored one.
        let keyless = ingest.ingest(ws.id, inbox.id, message("0000@old.test", "walt", "?")).await.unwrap();
        assert!(!keyless.created);
        // A reply naming the shared id joins the conversation whose subject it keeps.
        let reply = ingest.ingest(ws.id, inbox.id, InboundMessage {
            thread_key: Some("email:subject 3".into()),
            references: vec!["0000@old.test".into()],
            ..message("reply@other.test", "carol", "about mail 3")
        }).await.unwrap();
        let third = firsts.iter().find(|o| o.message.text == "mail 3").unwrap();
        assert_eq!(reply.conversation.id, third.conversation.id);
    }

    async fn hints_and_references_never_cross_inboxes(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, _) = setup(&store).await;
        let other = store.create_inbox(NewInbox { workspace_id: ws.id, name: "Other".into(), kind: ChannelKind::Api, settings: serde_json::json!({}), sealed_secret: None }).await.unwrap();
        let theirs = ingest(&store, &ws, &other, message("<a@x>", "bob", "hi")).await;
        let ours = ingest(&store, &ws, &inbox, InboundMessage {
            conversation_hint: Some(theirs.conversation.id),
            references: vec!["<a@x>".into()],
            ..message("<b@x>", "bob", "hello")
        }).await;
        assert_ne!(ours.conversation.id, theirs.conversation.id);
        assert_eq!(ours.conversation.inbox_id, inbox.id);
    }

    async fn an_auto_reply_keeps_its_thread_but_wakes_nobody(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        let first = ingest(&store, &ws, &inbox, message("<o1@x>", "bob", "hi")).await;
        store.update_conversation(ws.id, first.conversation.id, resolve(), actor(&agent)).await.unwrap();
        let away = ingest(&store, &ws, &inbox, InboundMessage {
            automatic: true,
            references: vec!["<o1@x>".into()],
            meta: Some(serde_json::json!({"email": {"automatic": true}})),
            ..message("<ooo@x>", "bob", "I am out of office")
        }).await;
        assert_eq!(away.conversation.id, first.conversation.id);
        assert_eq!(away.conversation.status, ConversationStatus::Resolved, "not reopened");
        assert_eq!(away.message.meta.as_ref().unwrap()["email"]["automatic"], true);
    }

    async fn mailbox_checkpoints_and_bounces(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        assert_eq!(store.email().checkpoint(inbox.id, "INBOX").await.unwrap(), None);
        store.email().save_checkpoint(inbox.id, "INBOX", 7, 100, now_millis()).await.unwrap();
        store.email().save_checkpoint(inbox.id, "INBOX", 7, 250, now_millis()).await.unwrap();
        assert_eq!(store.email().checkpoint(inbox.id, "INBOX").await.unwrap(), Some((7, 250)));
        assert_eq!(store.email().checkpoint(inbox.id, "Archive").await.unwrap(), None);

        let stored = ingest(&store, &ws, &inbox, message("<o1@x>", "bob", "hi")).await;
        let (reply, _) = store.post_reply(NewReply {
            workspace_id: ws.id, conversation_id: stored.conversation.id, author: actor(&agent),
            text: "hello".into(), html: None, private: false, attachments: vec![],
            meta: Some(serde_json::json!({"email": {"cc": ["boss@x.test"], "bcc": []}})), client: None,
                assign_to_author: false,
        }).await.unwrap();
        let claimed = store.claim_deliveries("d", now_millis(), 60_000, 10).await.unwrap();
        assert_eq!(claimed[0].delivery.meta.as_ref().unwrap()["email"]["cc"][0], "boss@x.test");
        store.delivery_sent(claimed[0].outbox_id, Some("sb-1.c1-abc@acme.test".into()), now_millis()).await.unwrap();
        let thread = store.email().thread(ws.id, stored.conversation.id).await.unwrap();
        assert_eq!(thread.message_ids, vec!["<o1@x>", "sb-1.c1-abc@acme.test"]);
        assert_eq!(thread.last_incoming.as_deref(), Some("<o1@x>"));

        let events = store.email().mark_bounced(ws.id, inbox.id, &["sb-1.c1-abc@acme.test".into()], "550 user unknown", now_millis()).await.unwrap();
        assert_eq!(events.len(), 1);
        let messages = store.list_messages(ws.id, stored.conversation.id, &Page { after: None, limit: 50 }).await.unwrap();
        let failed = messages.iter().find(|m| m.id == reply.id).unwrap();
        assert_eq!(failed.status, DeliveryStatus::Failed);
        assert!(failed.error.as_deref().unwrap().contains("550 user unknown"));
        // A second report about the same mail changes nothing.
        assert!(store.email().mark_bounced(ws.id, inbox.id, &["sb-1.c1-abc@acme.test".into()], "again", now_millis()).await.unwrap().is_empty());
    }

    async fn tokens_resolve_to_their_user_until_they_expire(engine) {
        let (store, _db) = open_store(engine).await;
        let (ws, inbox, agent) = setup(&store).await;
        store.add_inbox_member(ws.id, inbox.id, agent.id).await.unwrap();
        let now = now_millis();
        store.create_token(NewToken { user_id: agent.id, kind: TokenKind::Session, name: "s".into(), hash: vec![1; 32], expires_at: Some(now + 1000) }).await.unwrap();
        let principal = store.principal_by_token(&[1; 32], now).await.unwrap().unwrap();
        assert_eq!(principal.user.id, agent.id);
        assert_eq!(principal.member_inboxes, vec![inbox.id]);
        assert!(store.principal_by_token(&[1; 32], now + 2000).await.unwrap().is_none(), "expired");
        assert!(store.principal_by_token(&[2; 32], now).await.unwrap().is_none(), "unknown");
        let dup = store.create_user(NewUser { workspace_id: ws.id, email: EmailAddress::parse(&agent.email).unwrap(), name: "x".into(), role: Role::Agent, password_hash: "x".into() }).await.unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");
    }
}

/// SQLite folds a burst of concurrent writes into few commits, so it pays few fsyncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_messages_shares_commits_on_sqlite() {
    let (sqlite, _db) = open_sqlite_store().await;
    let store: Arc<dyn Store> = sqlite.clone();
    let (ws, inbox, _) = setup(&store).await;
    let before = sqlite
        .writer_stats()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed);
    let writes = (0..200).map(|i| {
        let (store, ws, inbox) = (store.clone(), ws.clone(), inbox.clone());
        tokio::spawn(async move {
            ingest(
                &store,
                &ws,
                &inbox,
                message(&format!("b{i}"), &format!("p{i}"), "hi"),
            )
            .await
        })
    });
    for w in futures::future::join_all(writes).await {
        assert!(w.unwrap().created);
    }
    let commits = sqlite
        .writer_stats()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed)
        - before;
    assert!(
        commits < 100,
        "200 concurrent messages took {commits} commits"
    );
    let all = store
        .list_conversations(
            ws.id,
            &ConversationFilter::default(),
            &Page {
                after: None,
                limit: 200,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 200, "every message of the burst is stored");
}

/// A second process on the same SQLite file (the command line beside a running hub) waits for
/// the other's write instead of failing: a write transaction takes the write lock when it begins,
/// so it never reads a snapshot that another commit makes stale before it can write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_sqlite_file_waits_for_the_others_write() {
    use sqlx::Connection;
    let (sqlite, db) = open_sqlite_store().await;
    let store: Arc<dyn Store> = sqlite;
    let (ws, inbox, _) = setup(&store).await;
    ingest(&store, &ws, &inbox, message("first", "ana", "hi")).await;
    // The other process: it holds the write lock for a moment, then commits.
    let mut other = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("INSERT INTO workspaces (name, created_at) VALUES ('other', 0)")
        .execute(&mut other)
        .await
        .unwrap();
    let writer = {
        let (store, ws, inbox) = (store.clone(), ws.clone(), inbox.clone());
        tokio::spawn(async move {
            let request = IngestRequest {
                workspace_id: ws.id,
                inbox_id: inbox.id,
                message: message("second", "ana", "still there?"),
                received_at: now_millis(),
            };
            store.ingest(request).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let outcome = writer
        .await
        .unwrap()
        .expect("the write waits for the lock, then succeeds");
    assert!(outcome.created);
}
